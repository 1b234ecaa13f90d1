// Lock files (open file description locks) and directory locks (flock(2)): one holder at a time,
// in this process or another, released by close and by the holder's death.
import assert from "node:assert/strict";
import { closeFd } from "./fd.ts";
import { isLockHeld, lockDirectory, tryLockDirectory, tryLockFile } from "./lock.ts";

Deno.test("a lock has one holder; a second open, even in the same process, does not get it", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/7`;
    assert.equal(isLockHeld(path), false);
    assert.throws(() => Deno.statSync(path), Deno.errors.NotFound); // isLockHeld made nothing
    const fd = tryLockFile(path);
    assert.ok(fd !== undefined);
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
    assert.equal(tryLockFile(path), undefined);
    assert.equal(isLockHeld(path), true);
    closeFd(fd);
    // Released by the close, once no copy of the descriptor is left: a spawn that another test
    // module of this process (deno test --parallel) makes at that moment holds a copy of the
    // descriptor table until its child executes (close-on-exec), so the release may show late.
    for (let i = 0; i < 100 && isLockHeld(path); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(isLockHeld(path), false);
    const again = tryLockFile(path);
    assert.ok(again !== undefined);
    closeFd(again);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a lock held by another process is released when that process is killed", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/8`;
    Deno.writeTextFileSync(path, "");
    // Python takes the lock (F_OFD_SETLK, a write lock on the whole file) on a descriptor it
    // leaves open across exec, then becomes sleep, which holds it.
    const take = "import fcntl, os, struct, sys\n" +
      "fd = os.open(sys.argv[1], os.O_RDWR)\n" +
      'fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi4x", fcntl.F_WRLCK, 0, 0, 0, 0))\n' +
      "os.set_inheritable(fd, True)\n" +
      'os.execvp("sleep", ["sleep", "30"])\n';
    const holder = new Deno.Command("python3", {
      args: ["-c", take, path],
      stdout: "null",
      stderr: "null",
    }).spawn();
    // Up to 10 s: a loaded machine starts python slowly (2 s was once not enough for bash). Until
    // python has become sleep, the kill would end python, not the holder the test means.
    const ready = () => {
      try {
        return isLockHeld(path) && Deno.readTextFileSync(`/proc/${holder.pid}/comm`) === "sleep\n";
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 500 && !ready(); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(ready(), "python took the lock and became sleep within 10 s");
    assert.equal(tryLockFile(path), undefined);
    holder.kill("SIGKILL");
    await holder.status;
    assert.equal(isLockHeld(path), false);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a directory's lock refuses anything else at once: a FIFO's open would wait for a writer", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-lockdir-" });
  try {
    Deno.writeTextFileSync(`${dir}/file`, "");
    const made = new Deno.Command("mkfifo", { args: [`${dir}/fifo`] }).outputSync();
    assert.ok(made.success, "mkfifo");
    // The file first: without O_DIRECTORY it is locked, and the test fails before the FIFO hangs.
    for (const path of [`${dir}/file`, `${dir}/fifo`]) {
      assert.throws(() => tryLockDirectory(path), /ENOTDIR/, path);
      await assert.rejects(lockDirectory(path, 100), /ENOTDIR/, path);
    }
    const fd = tryLockDirectory(dir);
    assert.ok(fd !== undefined);
    closeFd(fd);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a symlink is not followed to a lock file elsewhere", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/target`, "");
    Deno.symlinkSync(`${dir}/target`, `${dir}/link`);
    assert.throws(() => tryLockFile(`${dir}/link`), /ELOOP/);
    assert.throws(() => isLockHeld(`${dir}/link`), /ELOOP/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
