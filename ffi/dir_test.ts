// ffi/dir_test.ts — the work directory's mkdtemp and rmdir, against the real file system.

import assert from "node:assert/strict";
import { makeTempDir, removeEmptyDir } from "./dir.ts";
import { SyscallError } from "./libc.ts";

Deno.test("makeTempDir: a new 0700 directory under the parent, a different one each time", () => {
  const parent = Deno.makeTempDirSync();
  try {
    const a = makeTempDir(parent, "ww-");
    const b = makeTempDir(parent, "ww-");
    assert.match(a, new RegExp(`^${parent}/ww-[A-Za-z0-9]{6}$`));
    assert.notEqual(a, b);
    const info = Deno.statSync(a);
    assert.ok(info.isDirectory);
    assert.equal(info.mode! & 0o777, 0o700);
  } finally {
    Deno.removeSync(parent, { recursive: true });
  }
});

Deno.test("makeTempDir: a parent that is missing or not writable is a SyscallError naming it", () => {
  assert.throws(
    () => makeTempDir("/nonexistent-parent", "ww-"),
    (e) => e instanceof SyscallError && e.code === "ENOENT" && /nonexistent-parent/.test(e.message),
  );
  assert.throws(
    () => makeTempDir("/proc/self", "ww-"),
    (e) => e instanceof SyscallError && e.syscall === "mkdtemp",
  );
});

Deno.test("removeEmptyDir: removes an empty directory, keeps one that holds a file", () => {
  const parent = Deno.makeTempDirSync();
  try {
    const empty = makeTempDir(parent, "ww-");
    assert.equal(removeEmptyDir(empty), true);
    assert.throws(() => Deno.statSync(empty), Deno.errors.NotFound);
    const full = makeTempDir(parent, "ww-");
    Deno.writeTextFileSync(`${full}/left`, "x");
    assert.equal(removeEmptyDir(full), false);
    assert.ok(Deno.statSync(`${full}/left`).isFile);
    assert.throws(
      () => removeEmptyDir(`${parent}/gone`),
      (e) => e instanceof SyscallError && e.code === "ENOENT",
    );
  } finally {
    Deno.removeSync(parent, { recursive: true });
  }
});
