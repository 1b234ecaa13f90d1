// What ww says when the stage did not start the program (native) or bwrap.
import assert from "node:assert/strict";
import { stageFailure } from "./stage.ts";
import { NotExecutableError, NotFoundError, SetupError, UsageError } from "../core/errors.ts";
import { ENOENT, ENOEXEC } from "../ffi/errno.ts";

Deno.test("a stage that started the program is no failure", () => {
  assert.equal(stageFailure([{ exec: true }], "/bin/true", "native"), undefined);
});

Deno.test("a stage that died without a report says how it ended, not that a reason is above", () => {
  const killed = stageFailure([], "p", "native", { exited: false, signal: 9 });
  assert.ok(killed instanceof SetupError);
  // The command line's line (ww run prints it) is unchanged; the message is a library caller's.
  assert.equal(
    killed.commandLine,
    "--jail=native: the jail's stage ended before starting the program (it was killed by SIGKILL); anything it printed is above",
  );
  assert.equal(
    killed.message,
    "the native jail: the jail's stage ended before starting the program (it was killed by SIGKILL); anything it printed is on stderr",
  );
  const exited = stageFailure([], "p", "bwrap", { exited: true, code: 133 });
  assert.match(exited!.message, /\(it exited 133\);/);
  assert.doesNotMatch(stageFailure([], "p", "native")!.message, /line above/);
});

Deno.test("a stage's exec failure keeps its own exit code", () => {
  const missing = stageFailure([{ step: "execve", errno: ENOENT }], "p", "native");
  assert.ok(missing instanceof NotFoundError);
  const notBinary = stageFailure([{ step: "execve", errno: ENOEXEC }], "p", "native");
  assert.ok(notBinary instanceof NotExecutableError);
});

Deno.test("a local program gone before the stage's Landlock rule for it is no such file (127); another path's is the stage's", () => {
  const report = (detail: string) => [{ step: "landlock", errno: ENOENT, detail }];
  const gone = stageFailure(report("/srv/app"), "./app", "native", undefined, "/srv/app");
  assert.ok(gone instanceof NotFoundError);
  assert.equal(gone.message, "./app: no such file (it went away as ww started it)");
  // Replaced by a directory, say: Landlock refuses the file's rights for it.
  const changed = stageFailure(
    [{ step: "landlock", errno: 22, detail: "/srv/app" }],
    "./app",
    "native",
    undefined,
    "/srv/app",
  );
  assert.ok(changed instanceof NotExecutableError);
  assert.equal(changed.message, "./app: it changed as ww started it (EINVAL)");
  const bind = stageFailure(report("/srv/data"), "./app", "native", undefined, "/srv/app");
  assert.ok(!(bind instanceof NotFoundError));
  assert.match(bind!.message, /the stage's landlock step failed: ENOENT \(\/srv\/data\)/);
});

Deno.test("arguments too large for execve are the run's, under every jail, as under none", () => {
  for (const backend of ["native", "bwrap"] as const) {
    const e = stageFailure([{ step: "execve", errno: 7 }], "p", backend);
    assert.ok(e instanceof UsageError, backend);
    assert.match(e.message, /^the program's arguments and environment are too large/);
  }
});
