// The descriptors of a child of `ww run`: exactly fd 0-3 and the grants, each the caller's object,
// numbered the same whatever the flag order, for any overlap of source and target numbers.

import assert from "node:assert/strict";
import { join } from "node:path";
import { reportFds } from "../support/children.ts";
import {
  AF_UNIX,
  type ChildReport,
  fdNumbers,
  fdOf,
  identity,
  parseReport,
  pathIdentity,
  SOCK_STREAM,
} from "../support/report.ts";
import { type CallerFd, JAIL_MODES, jailFlags, quote, runWw } from "../support/ww.ts";

const child = await reportFds();
const dir = Deno.makeTempDirSync({ prefix: "wwtest-fds-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const fileA = join(dir, "a.txt");
const fileB = join(dir, "b.txt");
const fileC = join(dir, "c.txt");
Deno.writeTextFileSync(fileA, "alpha 1\nalpha 2\n");
Deno.writeTextFileSync(fileB, "bravo 1\nbravo 2\n");
Deno.writeTextFileSync(fileC, "charlie 1\ncharlie 2\n");

/** Stray descriptors the caller holds and never grants. */
const STRAYS: Record<number, CallerFd> = {
  7: { read: fileA },
  1500: { read: fileB },
  2048: { pipe: "stray pipe\n" },
};

async function report(
  jail: (typeof JAIL_MODES)[number],
  runArgs: string[],
  fds: Record<number, CallerFd>,
  actions: string[] = [],
): Promise<ChildReport> {
  const r = await runWw(["run", ...jailFlags(jail), ...runArgs, child, ...actions], { fds });
  assert.equal(r.code, 0, `ww failed: ${r.stderr}`);
  return parseReport(r.stdout);
}

function grants(...specs: string[]): string[] {
  return specs.flatMap((s) => ["--with-fd", s]);
}

for (const jail of JAIL_MODES) {
  const t = (name: string, fn: () => Promise<void>) => Deno.test(`[jail=${jail}] ${name}`, fn);

  t(
    "without grants the child holds exactly fd 0-3 while the caller holds fds 7, 1500 and 2048",
    async () => {
      const callerView = join(dir, `caller-${crypto.randomUUID()}.json`);
      const run = await runWw(["run", ...jailFlags(jail), child], {
        fds: STRAYS,
        then: `${quote(child)} > ${quote(callerView)}; exit $ww`,
      });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(fdNumbers(parseReport(run.stdout)), [0, 1, 2, 3]);
      const caller = fdNumbers(parseReport(Deno.readTextFileSync(callerView)));
      for (const stray of [7, 1500, 2048]) {
        assert.ok(caller.includes(stray), `caller lacks ${stray}`);
      }
    },
  );

  t("with grants the child holds exactly fd 0-3 and one fd per grant, nothing stray", async () => {
    const r = await report(jail, grants("c=9", "b=1500"), { ...STRAYS, 9: { read: fileC } });
    assert.deepEqual(fdNumbers(r), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(r.env, { WW_FD_C: "4", WW_FD_B: "5" });
  });

  t(
    "a granted pipe and a granted file are the caller's objects, read through the child's fds",
    async () => {
      const callerView = join(dir, `caller-${crypto.randomUUID()}.json`);
      const r = await runWw(
        ["run", ...jailFlags(jail), ...grants("pipe=7", "file=1500"), child, "read=4", "read=5"],
        {
          fds: { 7: { pipe: "through the pipe\nsecond\n" }, 1500: { read: fileB } },
          // The caller's own view of its fds, for st_dev/st_ino of the anonymous pipe.
          then: `${quote(child)} > ${quote(callerView)}; exit $ww`,
        },
      );
      assert.equal(r.code, 0, r.stderr);
      const got = parseReport(r.stdout);
      const caller = parseReport(Deno.readTextFileSync(callerView));
      assert.equal(fdOf(got, 4).kind, "pipe");
      assert.equal(identity(fdOf(got, 4)), identity(fdOf(caller, 7)));
      assert.equal(got.lines["4"], "through the pipe");
      assert.equal(fdOf(got, 5).kind, "file");
      assert.equal(identity(fdOf(got, 5)), pathIdentity(fileB));
      assert.equal(got.lines["5"], "bravo 1");
      assert.deepEqual({ ...got.env }, { WW_FD_PIPE: "4", WW_FD_FILE: "5" });
    },
  );

  t("flag order does not change fd numbers", async () => {
    const fds = { 3: { read: fileA }, 4: { read: fileB } };
    const forward = await report(jail, grants("db=3", "cache=4"), fds);
    const reversed = await report(jail, grants("cache=4", "db=3"), fds);
    for (const r of [forward, reversed]) {
      assert.deepEqual(r.env, { WW_FD_DB: "4", WW_FD_CACHE: "5" });
      assert.equal(identity(fdOf(r, 4)), pathIdentity(fileA));
      assert.equal(identity(fdOf(r, 5)), pathIdentity(fileB));
      assert.deepEqual(fdNumbers(r), [0, 1, 2, 3, 4, 5]);
    }
  });

  t("sources that are also targets (a=5 b=4) land on the right fds", async () => {
    const r = await report(jail, grants("a=5", "b=4"), { 4: { read: fileA }, 5: { read: fileB } });
    assert.deepEqual(r.env, { WW_FD_B: "4", WW_FD_A: "5" });
    assert.equal(identity(fdOf(r, 4)), pathIdentity(fileA));
    assert.equal(identity(fdOf(r, 5)), pathIdentity(fileB));
    assert.deepEqual(fdNumbers(r), [0, 1, 2, 3, 4, 5]);
  });

  t("granting the caller's fd 3 and 4 (x=4 y=3) moves them past the host socket", async () => {
    const r = await report(jail, grants("x=4", "y=3"), { 3: { read: fileA }, 4: { read: fileB } });
    assert.deepEqual(r.env, { WW_FD_Y: "4", WW_FD_X: "5" });
    assert.equal(identity(fdOf(r, 4)), pathIdentity(fileA));
    assert.equal(identity(fdOf(r, 5)), pathIdentity(fileB));
    assert.equal(fdOf(r, 3).kind, "socket");
    assert.deepEqual(fdNumbers(r), [0, 1, 2, 3, 4, 5]);
  });

  t("a grant whose source equals its target (s=4) stays put and is inherited", async () => {
    const r = await report(jail, grants("s=4"), { 4: { read: fileC } }, ["read=4"]);
    assert.deepEqual(r.env, { WW_FD_S: "4" });
    assert.equal(identity(fdOf(r, 4)), pathIdentity(fileC));
    assert.equal(r.lines["4"], "charlie 1");
    assert.deepEqual(fdNumbers(r), [0, 1, 2, 3, 4]);
  });

  t("a longer rotation (p=6 q=4 r=5 with the caller's 4, 5, 6) lands every object", async () => {
    const r = await report(jail, grants("p=6", "q=4", "r=5"), {
      4: { read: fileA },
      5: { read: fileB },
      6: { read: fileC },
    });
    assert.deepEqual(r.env, { WW_FD_Q: "4", WW_FD_R: "5", WW_FD_P: "6" });
    assert.equal(identity(fdOf(r, 4)), pathIdentity(fileA));
    assert.equal(identity(fdOf(r, 5)), pathIdentity(fileB));
    assert.equal(identity(fdOf(r, 6)), pathIdentity(fileC));
  });

  t("the same source under two names gives two fds on one object, ordered by name", async () => {
    const r = await report(jail, grants("zeta=7", "alpha=7"), { 7: { read: fileA } }, [
      "read=4",
      "read=5",
    ]);
    assert.deepEqual(r.env, { WW_FD_ALPHA: "4", WW_FD_ZETA: "5" });
    assert.equal(identity(fdOf(r, 4)), pathIdentity(fileA));
    assert.equal(identity(fdOf(r, 5)), pathIdentity(fileA));
    // One open file description: the second read continues where the first stopped.
    assert.deepEqual(r.lines, { 4: "alpha 1", 5: "alpha 2" });
  });

  t(
    "fd 3 is a connected AF_UNIX stream socket and no fd the child holds is close-on-exec",
    async () => {
      const r = await report(jail, grants("a=7"), { 7: { read: fileA } });
      const host = fdOf(r, 3);
      assert.equal(host.kind, "socket");
      assert.equal(host.domain, AF_UNIX);
      assert.equal(host.type, SOCK_STREAM);
      assert.deepEqual(
        r.fds.filter((f) => f.cloexec).map((f) => f.fd),
        [],
      );
    },
  );

  t("fd 0-2 are ww's own stdin, stdout and stderr", async () => {
    const r = await runWw(["run", ...jailFlags(jail), child, "read=0"], {
      stdin: "from the caller's stdin\n",
    });
    assert.equal(r.code, 0, r.stderr);
    const got = parseReport(r.stdout);
    assert.equal(got.lines["0"], "from the caller's stdin");
    assert.equal(fdOf(got, 1).kind, "pipe");
    assert.equal(fdOf(got, 2).kind, "pipe");
  });
}
