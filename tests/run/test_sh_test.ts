// scripts/test.sh, the test command: whatever happens it ends with "N passed, M failed", and
// `deno task check` (format, lint, types, doc lint, publish dry run) counts in it as one test.
import assert from "node:assert/strict";
import { REPO } from "../support/ww.ts";

/** `bash scripts/test.sh` of one small test file: its exit code and last line. */
async function testSh(): Promise<{ code: number; last: string }> {
  const out = await new Deno.Command("bash", {
    args: [`${REPO}scripts/test.sh`, "core/path_test.ts"],
    cwd: REPO,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).trimEnd().split("\n");
  return { code: out.code, last: lines.at(-1) ?? "" };
}

/** How many tests core/path_test.ts holds, as deno test counts them. */
async function testsInFile(): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "core/path_test.ts"],
    cwd: REPO,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const m = /^ok \| (\d+) passed/m.exec(new TextDecoder().decode(out.stdout));
  assert.ok(m, "deno test printed no summary");
  return Number(m[1]);
}

Deno.test("the test command counts deno task check as one test, passed or failed", async () => {
  const n = await testsInFile();
  const clean = await testSh();
  assert.equal(clean.last, `${n + 1} passed, 0 failed`);
  assert.equal(clean.code, 0);
  // A file deno fmt would change: the check fails, and so does the run, with the same last line.
  const probe = `${REPO}tests/support/wwtest-unformatted-${crypto.randomUUID()}.ts`;
  Deno.writeTextFileSync(probe, "export const  x = [ 1,2 ];\n");
  try {
    const dirty = await testSh();
    assert.equal(dirty.last, `${n} passed, 1 failed`);
    assert.notEqual(dirty.code, 0);
  } finally {
    Deno.removeSync(probe);
  }
});
