// What ww prints about a run stays one line for each thing it says, whatever it quotes: a
// program's name or a bind's path with a newline or an escape sequence in it, an --env value. The
// NOT-jailed warning and --explain printed them raw: a line split in two, the caller's terminal
// cleared or recoloured (an untrusted --env-file could do that through --explain).

import assert from "node:assert/strict";
import { join } from "node:path";
import { runWw } from "../support/ww.ts";

const dir = Deno.makeTempDirSync({ prefix: "wwtest-quoting-" });
Deno.chmodSync(dir, 0o755);
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const odd = join(dir, "new\nline\x1b[2J");
Deno.copyFileSync("/bin/echo", odd);
Deno.chmodSync(odd, 0o755);
/** What a terminal would act on, or what splits a line. */
// deno-lint-ignore no-control-regex
const RAW = /[\x00-\x09\x0b-\x1f\x7f]/;

Deno.test("the NOT-jailed warning quotes a program's name and a bind's path escaped, on one line", async () => {
  const r = await runWw(["run", "--jail=none", "--ro-bind", odd, odd, "hi"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "hi\n");
  assert.doesNotMatch(r.stderr, RAW);
  assert.equal(
    r.stderr,
    `ww: warning: ${dir}/new\\nline\\x1b[2J runs NOT jailed (--jail=none): not enforced: read-only ${dir}/new\\nline\\x1b[2J (it needs a jail)\n`,
  );
});

for (const jail of ["bwrap", "native", "none"]) {
  Deno.test(`--jail=${jail} --explain quotes a program's name and an --env value escaped, one line each`, async () => {
    const r = await runWw(["run", `--jail=${jail}`, "--explain", "--env", "A=\x1b[2J\ny", odd]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, RAW);
    const lines = r.stdout.split("\n");
    assert.ok(lines.includes(`program: ${dir}/new\\nline\\x1b[2J`), r.stdout);
    assert.ok(lines.some((l) => l.endsWith("A=\\x1b[2J\\ny")), r.stdout);
  });
}
