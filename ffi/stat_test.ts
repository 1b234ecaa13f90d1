import assert from "node:assert/strict";
import { closeFd } from "./fd.ts";
import {
  fileIdentity,
  fileOwner,
  holdFile,
  isStillAt,
  modeKind,
  pathKind,
  statOwner,
} from "./stat.ts";
import { ENAMETOOLONG, ENOENT, ENOTDIR } from "./errno.ts";

Deno.test("pathKind tells a directory, a file and a symlink (followed or not) as stat and lstat do, and nothing for an absent path", () => {
  const dir = Deno.makeTempDirSync({ prefix: "ww-stat-test-" });
  try {
    Deno.mkdirSync(`${dir}/sub`);
    Deno.writeTextFileSync(`${dir}/file`, "x");
    Deno.symlinkSync(`${dir}/sub`, `${dir}/to-dir`);
    Deno.symlinkSync(`${dir}/file`, `${dir}/to-file`);
    Deno.symlinkSync(`${dir}/missing`, `${dir}/dangling`);
    assert.equal(pathKind(`${dir}/sub`), "dir");
    assert.equal(pathKind(`${dir}/file`), "file");
    assert.equal(pathKind("/dev/null"), "file");
    assert.equal(pathKind(`${dir}/to-dir`), "dir");
    assert.equal(pathKind(`${dir}/to-file`), "file");
    assert.equal(pathKind(`${dir}/to-dir`, false), "symlink");
    assert.equal(pathKind(`${dir}/dangling`, false), "symlink");
    assert.equal(pathKind(`${dir}/dangling`), undefined);
    assert.equal(pathKind(`${dir}/missing`), undefined);
    assert.equal(pathKind(`${dir}/file/below`), undefined);
    // The answers match Deno's own stat and lstat for the paths a jail looks at.
    for (const path of ["/usr", "/bin", "/lib64", "/lib32", "/etc/ld.so.cache", "/etc/ssl"]) {
      for (const follow of [true, false]) {
        let expected: string | undefined;
        try {
          const info = follow ? Deno.statSync(path) : Deno.lstatSync(path);
          expected = info.isSymlink ? "symlink" : info.isDirectory ? "dir" : "file";
        } catch { /* absent */ }
        assert.equal(pathKind(path, follow), expected, `${path} follow=${follow}`);
      }
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("fileIdentity has the inode, size and times Deno's stat has, and nothing for an absent path", () => {
  const dir = Deno.makeTempDirSync({ prefix: "ww-stat-test-" });
  try {
    Deno.writeTextFileSync(`${dir}/file`, "four");
    Deno.utimeSync(`${dir}/file`, 1_000, 1_234.5);
    Deno.symlinkSync(`${dir}/file`, `${dir}/link`);
    const info = Deno.statSync(`${dir}/file`);
    for (const path of [`${dir}/file`, `${dir}/link`]) {
      const id = fileIdentity(path)!;
      assert.equal(id.ino, info.ino);
      assert.equal(id.size, 4);
      assert.equal(id.mtimeSec, 1_234);
      assert.equal(id.mtimeNsec, 500_000_000);
      // (Deno's ctime has whole seconds.)
      assert.equal(id.ctimeSec, Math.floor(info.ctime!.getTime() / 1000));
    }
    assert.equal(fileIdentity(`${dir}/missing`), undefined);
    assert.equal(fileIdentity(`${dir}/${"x".repeat(5000)}`), undefined);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("fileOwner has the mode, uid, gid and kind Deno's stat and lstat have, and nothing for an absent path", () => {
  const dir = Deno.makeTempDirSync({ prefix: "ww-stat-test-" });
  try {
    Deno.writeTextFileSync(`${dir}/file`, "x");
    // (chown clears the setuid bit: it comes first.)
    Deno.chownSync(`${dir}/file`, 1234, 5678);
    Deno.chmodSync(`${dir}/file`, 0o4751);
    Deno.symlinkSync(`${dir}/file`, `${dir}/link`);
    Deno.symlinkSync(dir, `${dir}/dir-link`);
    for (const path of [`${dir}/file`, `${dir}/link`, `${dir}/dir-link`, dir, "/run", "/"]) {
      for (const follow of [true, false]) {
        const info = follow ? Deno.statSync(path) : Deno.lstatSync(path);
        assert.deepEqual(fileOwner(path, follow), {
          isDirectory: info.isDirectory,
          mode: info.mode,
          uid: info.uid,
          gid: info.gid,
        }, `${path} follow=${follow}`);
      }
    }
    assert.equal(fileOwner(`${dir}/file`)!.mode & 0o7777, 0o4751);
    assert.equal(fileOwner(`${dir}/missing`), undefined);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a path that is not ASCII is encoded as UTF-8", () => {
  const dir = Deno.makeTempDirSync({ prefix: "ww-stat-test-é-" });
  try {
    Deno.mkdirSync(`${dir}/ünï`);
    assert.equal(pathKind(`${dir}/ünï`), "dir");
    assert.equal(pathKind(`${dir}/uni`), undefined);
    // After a longer one, a shorter ASCII path ends at its own NUL.
    assert.equal(pathKind("/"), "dir");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("statOwner gives a file's owner and mode, or the errno that tells missing from other failures", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/f`, "x");
    Deno.chmodSync(`${dir}/f`, 0o640);
    const f = statOwner(`${dir}/f`);
    assert.ok(!("errno" in f));
    assert.equal(f.mode & 0o777, 0o640);
    assert.equal(modeKind(f.mode), "file");
    assert.equal(f.uid, Deno.uid());
    const d = statOwner(dir);
    assert.ok(!("errno" in d) && modeKind(d.mode) === "dir");
    assert.deepEqual(statOwner(`${dir}/missing`), { errno: ENOENT });
    assert.deepEqual(statOwner(`${dir}/f/below`), { errno: ENOTDIR });
    assert.deepEqual(statOwner(`/${"a".repeat(5000)}`), { errno: ENAMETOOLONG });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("isStillAt tells the file holdFile holds from a file made in its place, however numbered", () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-stat-" });
  const path = `${dir}/f`;
  try {
    Deno.writeTextFileSync(path, "first");
    const held = holdFile(path);
    try {
      assert.ok(isStillAt(path, held));
      // Moved away, and a symlink to it in its place: the path's own entry is looked at.
      Deno.renameSync(path, `${dir}/moved`);
      assert.ok(isStillAt(`${dir}/moved`, held));
      Deno.symlinkSync(`${dir}/moved`, path);
      assert.ok(!isStillAt(path, held));
      // Removed and made again: while held, the old inode's number cannot be the new file's.
      Deno.removeSync(path);
      Deno.removeSync(`${dir}/moved`);
      assert.ok(!isStillAt(path, held), "a missing path is not the held file");
      Deno.writeTextFileSync(path, "first");
      assert.ok(!isStillAt(path, held));
    } finally {
      closeFd(held);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("modeKind names regular files, directories and sockets, and nothing else", () => {
  assert.equal(modeKind(0o100755), "file");
  assert.equal(modeKind(0o040755), "dir");
  assert.equal(modeKind(0o140777), "socket");
  assert.equal(modeKind(0o020666), "other"); // a character device
  assert.equal(modeKind(0o010644), "other"); // a FIFO
  assert.equal(modeKind(0o120777), "other"); // a symlink (not followed)
});
