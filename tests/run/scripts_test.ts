// One behaviour for scripts under every jail (issue 11, "Bad input"): a file without #! that is
// not a binary fails with ENOEXEC and exit 126 (bwrap used to run it with sh, through env(1)), and
// a #! script whose interpreter is missing gives one line naming the interpreter, exit 127.

import assert from "node:assert/strict";
import { join } from "node:path";
import { runWw } from "../support/ww.ts";

const dir = Deno.makeTempDirSync({ prefix: "wwtest-scripts-" });
Deno.chmodSync(dir, 0o755); // the jail runs as nobody when the tests run as root
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

function script(name: string, text: string): string {
  const path = join(dir, name);
  Deno.writeTextFileSync(path, text);
  Deno.chmodSync(path, 0o755);
  return path;
}

const plain = script("plain", "echo ran\n");
const missing = script("missing", "#!/nonexistent/interp -x\necho ran\n");
const good = script("good", '#!/bin/sh\necho ran "$0"\n');

for (const jail of ["bwrap", "native"]) {
  const run = (program: string) =>
    runWw(["run", `--jail=${jail}`, "--ro-bind", dir, program], { env: { TMPDIR: "/tmp" } });

  Deno.test(`[jail=${jail}] a file without #! that is not a binary: ENOEXEC, exit 126, one line`, async () => {
    const r = await run(plain);
    assert.equal(r.code, 126, r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      `ww: ${plain}: cannot execute in the ${jail} jail: execve: ENOEXEC (not a binary, and no #! line)\n`,
    );
  });

  Deno.test(`[jail=${jail}] a #! script whose interpreter is missing: one line naming it, exit 127`, async () => {
    const r = await run(missing);
    assert.equal(r.code, 127, r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      `ww: ${missing}: its interpreter /nonexistent/interp is not in the jail (ENOENT)\n`,
    );
  });

  Deno.test(`[jail=${jail}] a #! script whose interpreter is there runs, with its path as $0`, async () => {
    const r = await run(good);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `ran ${good}\n`);
  });
}
