// tests/rpc/host_exec_test.ts — Executor.start of the real `ww run`, driven by a C++ guest
// (tests/rpc/guest.c++), under bwrap and the native jail: the program is found in the guest's own
// view or refused (issue 17, item 4), and a program from IPFS needs the guest's ipfs grant, with
// no request to the node and no cache read without it (item 3).

import assert from "node:assert/strict";
import { startIpfsd } from "../ipfs/ipfsd.ts";
import { startProxy } from "../ipfs/proxy.ts";
import { runWw } from "../support/ww.ts";
import { buildGuest } from "./build.ts";

const ipfsd = await startIpfsd();

const JAILS: [string, string[]][] = [["bwrap", ["--jail=bwrap"]], ["native", ["--jail=native"]]];

/** The JSON lines the guest printed: the start's outcome, then {alive: true}. */
function reports(stdout: string): Record<string, unknown>[] {
  return stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

/** A fresh directory that the jail's user (nobody, when ww is root) can reach. */
async function sharedDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ww-exec-test-" });
  await Deno.chmod(dir, 0o755);
  return dir;
}

/** Writes an executable script that exits with `code`. */
async function script(path: string, code: number): Promise<void> {
  await Deno.writeTextFile(path, `#!/bin/sh\nexit ${code}\n`);
  await Deno.chmod(path, 0o755);
}

/** Runs the guest's `start` of `program` under `ww run flags...`; returns its two reports. */
async function start(flags: string[], program: string, options: { before?: string } = {}) {
  const guest = await buildGuest();
  const r = await runWw(["run", ...flags, "--with-exec", guest, "start", program], options);
  assert.equal(r.code, 0, r.stderr);
  const [outcome, alive] = reports(r.stdout);
  assert.deepEqual(alive, { alive: true }, r.stdout);
  return { outcome, stderr: r.stderr };
}

function refusedNaming(outcome: Record<string, unknown>, path: string): string {
  assert.equal(typeof outcome.error, "string", JSON.stringify(outcome));
  const error = outcome.error as string;
  assert.ok(error.includes(`${path}: `), error);
  return error;
}

for (const [jail, flags] of JAILS) {
  Deno.test(`${jail}: Executor.start finds programs in the guest's view, and refuses the rest`, async () => {
    const shown = await sharedDir();
    const hidden = await sharedDir();
    try {
      await script(`${shown}/prog`, 5);
      await script(`${hidden}/prog`, 6);
      await Deno.symlink(`${hidden}/prog`, `${shown}/out`);
      await Deno.symlink(`../${hidden.split("/").at(-1)}/prog`, `${shown}/rel-out`);
      const bind = ["--ro-bind", shown];
      // In the view: a bound program, a system one, and one through `..` that stays inside.
      assert.deepEqual((await start([...flags, ...bind], `${shown}/prog`)).outcome, { code: 5 });
      assert.deepEqual((await start(flags, "/usr/bin/true")).outcome, { code: 0 });
      assert.deepEqual((await start(flags, "/usr/lib/../bin/false")).outcome, { code: 1 });
      // A host directory the guest's jail never showed.
      refusedNaming((await start([...flags, ...bind], `${hidden}/prog`)).outcome, `${hidden}/prog`);
      const dotdot = `/usr/..${hidden}/prog`;
      refusedNaming((await start([...flags, ...bind], dotdot)).outcome, dotdot);
      // Symlinks out of a bind, absolute and relative.
      refusedNaming((await start([...flags, ...bind], `${shown}/out`)).outcome, `${shown}/out`);
      const rel = `${shown}/rel-out`;
      refusedNaming((await start([...flags, ...bind], rel)).outcome, rel);
      // Relative to ww's cwd (here /tmp, where ../usr/bin/true is /usr/bin/true for ww).
      const relative = (await start(flags, "../usr/bin/true", { before: "cd /tmp" })).outcome;
      assert.match(refusedNaming(relative, "../usr/bin/true"), /not an absolute path/);
      // The jail's own /proc.
      refusedNaming((await start(flags, "/proc/self/exe")).outcome, "/proc/self/exe");
    } finally {
      await Deno.remove(shown, { recursive: true });
      await Deno.remove(hidden, { recursive: true });
    }
  });

  Deno.test({
    name:
      `${jail}: Executor.start refuses a program the jail's user cannot reach, which root's ww could open`,
    // As root the jail runs as a leased id of its own; otherwise it is ww's, which reaches it.
    ignore: Deno.uid() !== 0,
    async fn() {
      const shown = await sharedDir();
      try {
        await Deno.mkdir(`${shown}/private`);
        await script(`${shown}/private/prog`, 7);
        const bind = [...flags, "--ro-bind", shown];
        // ww opens the file as root: the jail's user could not even walk to it, so nor may the
        // program it asks ww to start (it ran, exit 7, under native; bwrap failed in its words).
        await Deno.chmod(`${shown}/private`, 0o700);
        const error = refusedNaming(
          (await start(bind, `${shown}/private/prog`)).outcome,
          `${shown}/private/prog`,
        );
        assert.match(error, /cannot enter .*\/private \(mode 0700\)/);
        // Once it may walk there, it runs.
        await Deno.chmod(`${shown}/private`, 0o711);
        assert.deepEqual((await start(bind, `${shown}/private/prog`)).outcome, { code: 7 });
      } finally {
        await Deno.remove(shown, { recursive: true });
      }
    },
  });

  Deno.test(`${jail}: a program from IPFS needs the guest's ipfs grant; without it no node is asked`, async () => {
    const cache = await Deno.makeTempDir({ prefix: "ww-exec-cache-" });
    const proxy = startProxy(ipfsd.url);
    try {
      const env = { XDG_CACHE_HOME: cache };
      const cid = await ipfsd.addFile(new TextEncoder().encode("#!/bin/sh\nexit 9\n"));
      const dir = await ipfsd.addTree({ "secret-name": new TextEncoder().encode("x") });
      const guest = await buildGuest();
      const base = ["run", ...flags, "--ipfs", proxy.api, "--with-exec"];
      // The caller runs it once: now it is in the cache too.
      const direct = await runWw(["run", ...flags, "--ipfs", proxy.api, `/ipfs/${cid}`], { env });
      assert.equal(direct.code, 9, direct.stderr);
      const before = proxy.requests.length;
      for (const program of [`/ipfs/${cid}`, cid, `/ipfs/${dir}`]) {
        const r = await runWw([...base, guest, "start", program], { env });
        assert.equal(r.code, 0, r.stderr);
        const [outcome, alive] = reports(r.stdout);
        assert.deepEqual(alive, { alive: true });
        assert.match(String(outcome.error), /needs the ipfs grant: run ww with --with-ipfs/);
        assert.doesNotMatch(String(outcome.error), /secret-name/);
      }
      assert.deepEqual(proxy.requests.slice(before), []);
      // With the grant it runs, and a directory's error lists it, as `ww run` does.
      const granted = await runWw([...base, "--with-ipfs", guest, "start", `/ipfs/${cid}`], {
        env,
      });
      assert.deepEqual(reports(granted.stdout)[0], { code: 9 }, granted.stderr);
      const listed = await runWw([...base, "--with-ipfs", guest, "start", `/ipfs/${dir}`], { env });
      assert.match(String(reports(listed.stdout)[0].error), /secret-name/);
    } finally {
      await proxy.close();
      await Deno.remove(cache, { recursive: true });
    }
  });
}

Deno.test("bwrap: a bind's destination is where the guest names its programs", async () => {
  const shown = await sharedDir();
  try {
    await script(`${shown}/prog`, 4);
    const flags = ["--jail=bwrap", "--ro-bind", `${shown}:/data`];
    assert.deepEqual((await start(flags, "/data/prog")).outcome, { code: 4 });
    assert.deepEqual((await start(flags, "/data/./../data/prog")).outcome, { code: 4 });
    refusedNaming((await start(flags, `${shown}/prog`)).outcome, `${shown}/prog`);
  } finally {
    await Deno.remove(shown, { recursive: true });
  }
});
