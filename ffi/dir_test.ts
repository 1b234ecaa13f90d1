import assert from "node:assert/strict";
import { makeTempDir, removeEmptyDir } from "./dir.ts";
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
