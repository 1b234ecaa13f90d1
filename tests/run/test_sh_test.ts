// scripts/test.sh, the test command: whatever happens it ends with "N passed, M failed", a test
// that hangs included, and `deno task check` (format, lint, types, doc lint, publish dry run)
// counts in it as one test.
import assert from "node:assert/strict";
import { processesWithArg } from "../support/procs.ts";
import { REPO, withinDeadline } from "../support/ww.ts";

/** `bash scripts/test.sh` of one test file: its exit code, last line and stderr. */
async function testSh(
  file = "core/path_test.ts",
  env: Record<string, string> = {},
): Promise<{ code: number; last: string; stderr: string }> {
  const proc = new Deno.Command("bash", {
    args: [`${REPO}scripts/test.sh`, file],
    cwd: REPO,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = await withinDeadline(proc.output(), `test.sh ${file}`, () => proc.kill("SIGKILL"));
  const lines = new TextDecoder().decode(out.stdout).trimEnd().split("\n");
  return { code: out.code, last: lines.at(-1) ?? "", stderr: new TextDecoder().decode(out.stderr) };
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
    // A test that fails, in that file: it is named again at the end, with its error, after the
    // check's output.
    Deno.writeTextFileSync(
      probe,
      'Deno.test("fails",  () => { throw new Error("as it should"); });\n',
    );
    const failing = await testSh(probe);
    assert.equal(failing.last, "0 passed, 2 failed");
    const tail = failing.stderr.slice(failing.stderr.lastIndexOf("deno task check failed"));
    assert.match(tail, /^error: Error: as it should$/m);
    assert.match(tail, /^test\.sh: these tests failed:\n {2}\S+ => fails$/m);
  } finally {
    Deno.removeSync(probe);
  }
});

Deno.test("the test command stops a suite that hangs at its deadline, and counts what ran and what hung", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-hang-" });
  const file = `${dir}/hangs_test.ts`;
  Deno.writeTextFileSync(
    file,
    [
      'Deno.test("passes", () => {});',
      'Deno.test("passes by its step", async (t) => { await t.step("a step", () => {}); });',
      'Deno.test("fails", () => { throw new Error("as it should"); });',
      'Deno.test("hangs", () => new Promise(() => setInterval(() => {}, 1000)));',
    ].join("\n"),
  );
  try {
    // Past the minute after which deno names a test that still runs, whatever the set-up and
    // type check took on a loaded machine.
    const run = await testSh(file, { WW_TEST_DEADLINE_S: "100" });
    // "passes", "passes by its step" (a step is not a test of its own) and the check; "fails"
    // and the one stopped.
    assert.equal(run.last, "3 passed, 2 failed");
    assert.notEqual(run.code, 0);
    assert.match(
      run.stderr,
      /^test\.sh: deno test did not end within \d+ s and was stopped; still running:\n {2}hangs$/m,
    );
    // The failed test is named again at the end, after the check.
    assert.match(run.stderr, /^test\.sh: these tests failed:\n {2}\S+ => fails$/m);
    // Nothing of the stopped run is left: deno test was given the file as an argument.
    assert.deepEqual(processesWithArg(file), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
