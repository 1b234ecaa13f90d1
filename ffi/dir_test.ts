import assert from "node:assert/strict";
import { makeDirs, makeTempDir, removeEmptyDir } from "./dir.ts";
import { SyscallError } from "./libc.ts";

Deno.test("makeTempDir: a new directory of mode 0700, named prefix and six characters, in parent", () => {
  const parent = Deno.makeTempDirSync({ prefix: "wwtest-dir-" });
  try {
    const names = new Set<string>();
    for (const given of [parent, `${parent}/`]) {
      const dir = makeTempDir(given, "ww-");
      assert.match(dir, new RegExp(`^${parent}/ww-[A-Za-z0-9]{6}$`));
      const info = Deno.statSync(dir);
      assert.ok(info.isDirectory);
      assert.equal(info.mode! & 0o7777, 0o700);
      names.add(dir);
    }
    assert.equal(names.size, 2);
  } finally {
    Deno.removeSync(parent, { recursive: true });
  }
});

Deno.test("makeTempDir: a parent it cannot make a directory in is a SyscallError naming it", () => {
  for (const [parent, code] of [["/proc", "ENOENT"], ["/nonexistent-wwtest", "ENOENT"]]) {
    assert.throws(
      () => makeTempDir(parent, "ww-"),
      (e) =>
        e instanceof SyscallError && e.syscall === "mkdtemp" && e.code === code &&
        e.message.includes(parent),
    );
  }
});

Deno.test("removeEmptyDir: true for an empty directory, false (and nothing removed) for a full one", () => {
  const parent = Deno.makeTempDirSync({ prefix: "wwtest-dir-" });
  try {
    const empty = makeTempDir(parent, "e-");
    assert.equal(removeEmptyDir(empty), true);
    assert.throws(() => Deno.statSync(empty), Deno.errors.NotFound);
    const full = makeTempDir(parent, "f-");
    Deno.writeTextFileSync(`${full}/left`, "x");
    assert.equal(removeEmptyDir(full), false);
    assert.equal(Deno.readTextFileSync(`${full}/left`), "x");
    // A program may have left a file where its work directory was.
    const file = `${parent}/file`;
    Deno.writeTextFileSync(file, "x");
    assert.equal(removeEmptyDir(file), false);
    assert.throws(
      () => removeEmptyDir(empty),
      (e) => e instanceof SyscallError && e.syscall === "rmdir" && e.code === "ENOENT",
    );
  } finally {
    Deno.removeSync(parent, { recursive: true });
  }
});

Deno.test("makeDirs: makes each missing directory of the path, with the mode, and keeps those there", () => {
  const parent = Deno.makeTempDirSync({ prefix: "wwtest-dirs-" });
  try {
    Deno.mkdirSync(`${parent}/a`, { mode: 0o755 });
    makeDirs(`${parent}/a/b/c`, 0o700);
    for (const [dir, mode] of [["a", 0o755], ["a/b", 0o700], ["a/b/c", 0o700]] as const) {
      const info = Deno.statSync(`${parent}/${dir}`);
      assert.ok(info.isDirectory, dir);
      assert.equal(info.mode! & 0o777, mode & ~Deno.umask(), dir);
    }
    makeDirs(`${parent}/a/b/c`, 0o700); // all there: nothing to do, no error
    makeDirs(`${parent}//a/b/`, 0o700);
  } finally {
    Deno.removeSync(parent, { recursive: true });
  }
});

Deno.test("makeDirs: a file on the way is a SyscallError naming the directory it could not make", () => {
  const parent = Deno.makeTempDirSync({ prefix: "wwtest-dirs-" });
  try {
    Deno.writeTextFileSync(`${parent}/f`, "");
    assert.throws(
      () => makeDirs(`${parent}/f/sub`, 0o700),
      (e) =>
        e instanceof SyscallError && e.syscall === "mkdir" && e.code === "ENOTDIR" &&
        e.context === `${parent}/f/sub`,
    );
    assert.throws(
      () => makeDirs("/proc/wwtest-nope", 0o700),
      (e) => e instanceof SyscallError && e.context === "/proc/wwtest-nope",
    );
  } finally {
    Deno.removeSync(parent, { recursive: true });
  }
});
