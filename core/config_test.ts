// The caller's TMPDIR, as every backend takes it.
import assert from "node:assert/strict";
import { workdirParent } from "./config.ts";

Deno.test("an unset or empty TMPDIR means /tmp; an absolute one is used as it is", () => {
  assert.deepEqual(workdirParent(undefined), { dir: "/tmp" });
  assert.deepEqual(workdirParent(""), { dir: "/tmp" });
  assert.deepEqual(workdirParent("/var/tmp"), { dir: "/var/tmp" });
  assert.deepEqual(workdirParent("/var/tmp//"), { dir: "/var/tmp" });
  assert.deepEqual(workdirParent("/"), { dir: "/" });
});

Deno.test("a relative or ':'-separated TMPDIR is refused in one line naming TMPDIR and the fix", () => {
  const fix = "(set TMPDIR to one absolute directory, e.g. /tmp, or unset it)";
  assert.deepEqual(workdirParent("tmp"), { error: `TMPDIR=tmp: not an absolute path ${fix}` });
  assert.deepEqual(workdirParent("./x"), { error: `TMPDIR=./x: not an absolute path ${fix}` });
  assert.deepEqual(workdirParent("/tmp:/var/tmp"), {
    error: `TMPDIR=/tmp:/var/tmp: holds one directory, not a list separated by ':' ${fix}`,
  });
});
