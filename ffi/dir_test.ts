import assert from "node:assert/strict";
import { makeHeldTempDir, makeTempDir, removeEmptyDir, removeTree, sweepUnheld } from "./dir.ts";
import { closeFd } from "./fd.ts";
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

Deno.test("removeTree: an empty directory, a full one, and a file left in a directory's place; a symbolic link inside is not followed", () => {
  const parent = Deno.makeTempDirSync({ prefix: "wwtest-dir-" });
  try {
    const outside = makeTempDir(parent, "o-");
    Deno.writeTextFileSync(`${outside}/kept`, "x");
    const empty = makeTempDir(parent, "e-");
    const full = makeTempDir(parent, "f-");
    Deno.mkdirSync(`${full}/sub`);
    Deno.writeTextFileSync(`${full}/sub/left`, "x");
    Deno.symlinkSync(outside, `${full}/link`);
    const file = `${parent}/file`;
    Deno.writeTextFileSync(file, "x");
    for (const path of [empty, full, file]) {
      removeTree(path);
      assert.throws(() => Deno.lstatSync(path), Deno.errors.NotFound, path);
    }
    assert.equal(Deno.readTextFileSync(`${outside}/kept`), "x");
    assert.throws(
      () => removeTree(empty),
      (e) => e instanceof SyscallError && e.syscall === "rmdir" && e.code === "ENOENT",
    );
  } finally {
    Deno.removeSync(parent, { recursive: true });
  }
});

Deno.test("sweepUnheld: removes its kind's directories whose lock is free, with what is in them; never a held one, a symbolic link or what it points to, another kind, or one owned by another uid", async () => {
  const parent = Deno.makeTempDirSync({ prefix: "wwtest-dir-" });
  try {
    const held = makeHeldTempDir(parent, "k-");
    const freed = makeHeldTempDir(parent, "k-");
    Deno.mkdirSync(`${freed.path}/sub`);
    Deno.writeTextFileSync(`${freed.path}/sub/f`, "x");
    closeFd(freed.fd); // as when ww dies
    const target = Deno.makeTempDirSync({ dir: parent, prefix: "target-" });
    Deno.writeTextFileSync(`${target}/keep`, "x");
    Deno.symlinkSync(target, `${parent}/k-link`);
    Deno.mkdirSync(`${parent}/other-kind`);
    const expected = [
      "k-link",
      "other-kind",
      held.path.slice(parent.length + 1),
      target.slice(parent.length + 1),
    ];
    if (Deno.uid() === 0) {
      Deno.mkdirSync(`${parent}/k-foreign`);
      Deno.chownSync(`${parent}/k-foreign`, 65534, 65534);
      expected.push("k-foreign");
    }
    let asked: string[] = [];
    await sweepUnheld(parent, "k-", (path) => (asked.push(path), false));
    assert.deepEqual(asked, [freed.path]);
    assert.deepEqual([...Deno.readDirSync(parent)].map((e) => e.name).sort(), expected.sort());
    assert.equal(Deno.readTextFileSync(`${target}/keep`), "x");
    // A busy one (a program works in it) stays; once its holder is gone, the lock is free.
    closeFd(held.fd);
    asked = [];
    await sweepUnheld(parent, "k-", (path) => (asked.push(path), true));
    assert.deepEqual(asked, [held.path]);
    assert.ok(Deno.statSync(held.path).isDirectory);
    await sweepUnheld(parent, "k-");
    assert.throws(() => Deno.statSync(held.path), Deno.errors.NotFound);
  } finally {
    Deno.removeSync(parent, { recursive: true });
  }
});

Deno.test("makeHeldTempDir: a sweeper in another process, sweeping all the while, never takes a directory made held", async () => {
  const parent = Deno.makeTempDirSync({ prefix: "wwtest-dir-" });
  const dirModule = new URL("./dir.ts", import.meta.url).href;
  const sweeper = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { sweepUnheld } from "${dirModule}";
       const end = Date.now() + 1200;
       while (Date.now() < end) await sweepUnheld(${JSON.stringify(parent)}, "r-");`,
    ],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const made: { path: string; fd: number }[] = [];
  try {
    const end = Date.now() + 1500;
    while (Date.now() < end) {
      made.push(makeHeldTempDir(parent, "r-"));
      if (made.length % 50 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    assert.equal((await sweeper.status).code, 0);
    const gone = made.filter(({ path }) => {
      try {
        return !Deno.lstatSync(path).isDirectory;
      } catch {
        return true;
      }
    });
    assert.deepEqual(gone, [], `${gone.length} of ${made.length} swept while held`);
  } finally {
    for (const { fd } of made) closeFd(fd);
    Deno.removeSync(parent, { recursive: true });
  }
});
