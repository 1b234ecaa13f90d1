// What ww says when the native jail's stage did not start the program.
import assert from "node:assert/strict";
import { stageFailure } from "./native.ts";
import { NotFoundError, SetupError } from "./errors.ts";

Deno.test("a stage that exec'd the program is no failure", () => {
  assert.equal(stageFailure([{ exec: true }], "/bin/true"), undefined);
});

Deno.test("a stage that died without a report says how it ended, not that a reason is above", () => {
  const killed = stageFailure([], "p", { exited: false, signal: 9 });
  assert.ok(killed instanceof SetupError);
  assert.equal(
    killed.message,
    "--jail=native: the jail stage (ww __native-stage) ended before starting the program (it was killed by SIGKILL); anything it printed is above",
  );
  assert.match(stageFailure([], "p", { exited: true, code: 133 })!.message, /\(it exited 133\);/);
  assert.doesNotMatch(stageFailure([], "p")!.message, /line above/);
});

Deno.test("a stage's exec failure keeps its own exit code", () => {
  const f = stageFailure([{ step: "execve", error: "execve: ENOENT", errno: 2 }], "p");
  assert.ok(f instanceof NotFoundError);
});
