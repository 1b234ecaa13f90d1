import assert from "node:assert/strict";
import { closeFd } from "./fd.ts";
import { SyscallError } from "./libc.ts";
import { holdNoSymlinks, nameInHeldDirectory, openNoSymlinks } from "./open.ts";
import { connectSocket, listenSocket, unixSockaddr } from "./socket.ts";

Deno.test("openNoSymlinks opens a plain path, and refuses a symlink anywhere on it", () => {
  const dir = Deno.makeTempDirSync({ prefix: "ww-open-test-" });
  try {
    Deno.mkdirSync(`${dir}/sub`);
    Deno.writeTextFileSync(`${dir}/sub/file`, "hello");
    Deno.symlinkSync(`${dir}/sub/file`, `${dir}/last`);
    Deno.symlinkSync(`${dir}/sub`, `${dir}/middle`);
    const fd = openNoSymlinks(`${dir}/sub/file`);
    try {
      assert.equal(Deno.readTextFileSync(`/proc/self/fd/${fd}`), "hello");
      // The /proc magic link is a symlink too.
      assert.throws(() => openNoSymlinks(`/proc/self/fd/${fd}`), isErrno("ELOOP"));
    } finally {
      closeFd(fd);
    }
    for (const path of [`${dir}/last`, `${dir}/middle/file`]) {
      assert.throws(() => openNoSymlinks(path), isErrno("ELOOP"), path);
    }
    assert.throws(() => openNoSymlinks(`${dir}/missing`), isErrno("ENOENT"));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("openNoSymlinks does not wait for a writer on a FIFO", () => {
  const dir = Deno.makeTempDirSync({ prefix: "ww-open-test-" });
  try {
    new Deno.Command("mkfifo", { args: [`${dir}/fifo`] }).outputSync();
    closeFd(openNoSymlinks(`${dir}/fifo`));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

function isErrno(code: string): (e: unknown) => boolean {
  return (e) => e instanceof SyscallError && e.syscall === "openat2" && e.code === code;
}

Deno.test("holdNoSymlinks names a unix socket to connect to through /proc/self/fd, and refuses a linked path", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "ww-open-test-" });
  const server = Deno.listen({ transport: "unix", path: `${dir}/s.sock` });
  try {
    Deno.symlinkSync(`${dir}/s.sock`, `${dir}/link.sock`);
    const held = holdNoSymlinks(`${dir}/s.sock`);
    try {
      const accepted = server.accept();
      closeFd(await connectSocket(unixSockaddr(`/proc/self/fd/${held}`), 1000));
      (await accepted).close();
    } finally {
      closeFd(held);
    }
    assert.throws(
      () => holdNoSymlinks(`${dir}/link.sock`),
      (e) => e instanceof SyscallError && e.code === "ELOOP",
    );
  } finally {
    server.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("nameInHeldDirectory: a socket bound and removed by the held name stays in the directory that was held, whatever link replaced its path", () => {
  const dir = Deno.makeTempDirSync({ prefix: "ww-open-test-" });
  try {
    Deno.mkdirSync(`${dir}/app`);
    Deno.mkdirSync(`${dir}/elsewhere`);
    const held = nameInHeldDirectory(`${dir}/app`, "app.sock");
    try {
      assert.throws(() => nameInHeldDirectory(`${dir}/app-link`, "x"), isErrno("ENOENT"));
      // The directory is moved away, and a link to another put in its place.
      Deno.renameSync(`${dir}/app`, `${dir}/moved`);
      Deno.symlinkSync(`${dir}/elsewhere`, `${dir}/app`);
      const listener = listenSocket(unixSockaddr(held.path), false);
      closeFd(listener);
      assert.ok(Deno.lstatSync(`${dir}/moved/app.sock`).isSocket);
      assert.deepEqual([...Deno.readDirSync(`${dir}/elsewhere`)], []);
      Deno.removeSync(held.path);
      assert.deepEqual([...Deno.readDirSync(`${dir}/moved`)], []);
    } finally {
      held.close();
    }
    // A link on the directory's own path is refused, as holdNoSymlinks refuses it.
    assert.throws(() => nameInHeldDirectory(`${dir}/app`, "app.sock"), isErrno("ELOOP"));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
