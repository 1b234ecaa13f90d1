// tests/rpc/host_hostile_test.ts — the host capabilities of the real `ww run` against a hostile
// guest (issue 17): a C++ guest (tests/rpc/guest.c++) and raw bytes on fd 3, under bwrap and the
// native jail. A failed jail is an exception, not the end of ww; nothing a guest sends reaches
// ww's stderr unescaped.

import assert from "node:assert/strict";
import * as capnp from "capnp-es";
import * as rpc from "capnp-es/capnp/rpc";
import { runWw } from "../support/ww.ts";
import { buildGuest } from "./build.ts";

/** The jails the guest runs in: bwrap (this machine's default) and native. */
const JAILS: [string, string[]][] = [["bwrap", ["--jail=bwrap"]], ["native", ["--jail=native"]]];

/** The JSON lines a guest printed. */
function reports(stdout: string): Record<string, unknown>[] {
  return stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

/** `bytes` as a printf(1) format that writes exactly them. */
function printfBytes(bytes: Uint8Array): string {
  return [...bytes].map((b) => `\\${b.toString(8).padStart(3, "0")}`).join("");
}

/** A terminal would act on it, or it forges a line: ESC, C1 (8-bit CSI), BEL, bidi override. */
// deno-lint-ignore no-control-regex
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/;

/** A fresh directory that the jail's user (nobody, when ww is root) can reach. */
async function sharedDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ww-host-test-" });
  await Deno.chmod(dir, 0o755);
  return dir;
}

Deno.test("bwrap: a program whose jail fails is an exception for the guest; ww stays up", async () => {
  const guest = await buildGuest();
  const r = await runWw(["run", "--jail=bwrap", "--with-exec", guest, "start", "/proc/self/exe"]);
  assert.equal(r.code, 0, r.stderr);
  const [started, alive] = reports(r.stdout);
  assert.equal(typeof started.error, "string", r.stdout);
  assert.deepEqual(alive, { alive: true }, r.stdout);
  assert.doesNotMatch(r.stderr, /Uncaught/);
});

for (const [jail, flags] of JAILS) {
  Deno.test(`${jail}: an Abort reason reaches ww's stderr escaped, on one line`, async () => {
    const message = new capnp.Message();
    message.initRoot(rpc.Message)._initAbort().reason =
      "bye\x1b]0;PWNED\x07\x1b[2J\u009b31m\u202eevil\nww: fake line from ww";
    const bytes = new Uint8Array(message.toArrayBuffer());
    const script = `printf '${printfBytes(bytes)}' >&3; sleep 0.3; exit 3`;
    const r = await runWw(["run", ...flags, "--with-console", "/bin/sh", "-c", script]);
    assert.equal(r.code, 3, r.stderr);
    assert.doesNotMatch(r.stderr, RAW);
    assert.ok(!r.stderr.split("\n").some((l) => l.startsWith("ww: fake")), r.stderr);
    assert.ok(
      r.stderr.includes(
        "the guest aborted: bye\\x1b]0;PWNED\\x07\\x1b[2J\\u{9b}31m\\u{202e}evil\\nww: fake line",
      ),
      r.stderr,
    );
  });

  Deno.test(`${jail}: console lines escape C1 and bidi controls`, async () => {
    const guest = await buildGuest();
    const line = "a\u009b31mb\u202ec\u2028d\x1b[2Je";
    const r = await runWw(["run", ...flags, "--with-console", guest, "log", line]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, RAW);
    assert.ok(r.stderr.includes(`: debug: a\\u{9b}31mb\\u{202e}c\\u{2028}d\\x1b[2Je\n`), r.stderr);
  });

  // Escaped whole, an 8 MiB line of control characters cost ww ~450 MiB and 2.5 s, only for the
  // 1 MiB stderr queue to drop it: it is cut first.
  Deno.test(`${jail}: a console line is cut at 65536 characters before it is escaped`, async () => {
    const guest = await buildGuest();
    const r = await runWw(["run", ...flags, "--with-console", guest, "log", "\x01".repeat(70000)]);
    assert.equal(r.code, 0, r.stderr);
    const line = r.stderr.split("\n").find((l) => l.includes(": debug: "))!;
    const kept = 65536 - "… (70000 more characters)".length;
    assert.ok(line.endsWith(`: debug: ${"\\x01".repeat(kept)}… (${70000 - kept} more characters)`));
  });

  Deno.test(`${jail}: a program name from Executor.start is escaped as a prefix and in errors`, async () => {
    const guest = await buildGuest();
    const dir = await sharedDir();
    try {
      const name = "p\x1b[2J\u009b\u202e";
      const program = `${dir}/${name}`;
      await Deno.copyFile(guest, `${dir}/guest`);
      await Deno.writeTextFile(
        program,
        `#!/bin/sh\nif [ "$1" = garbage ]; then printf 'GET / HTTP/1.1\\r\\n\\r\\n' >&3; sleep 0.3; ` +
          `else exec ${dir}/guest log "hello"; fi\n`,
      );
      await Deno.chmod(program, 0o755);
      await Deno.chmod(`${dir}/guest`, 0o755);
      const escaped = `${dir}/p\\x1b[2J\\u{9b}\\u{202e}`;
      const base = ["run", ...flags, "--ro-bind", dir, "--with-console", "--with-exec", guest];
      const logged = await runWw([...base, "start-console", program]);
      assert.equal(logged.code, 0, logged.stderr);
      assert.deepEqual(reports(logged.stdout), [{ code: 0 }, { alive: true }], logged.stdout);
      assert.doesNotMatch(logged.stderr, RAW);
      assert.ok(logged.stderr.includes(`${escaped}: debug: hello\n`), logged.stderr);

      const broken = await runWw([...base, "start-console", program, "garbage"]);
      assert.equal(broken.code, 0, broken.stderr);
      assert.doesNotMatch(broken.stderr, RAW);
      const closed = broken.stderr.split("\n").filter((l) =>
        l.endsWith("closed the RPC connection")
      );
      assert.equal(closed.length, 1, broken.stderr);
      assert.ok(closed[0].startsWith(`ww: ${escaped}: `), broken.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
