// The sockets ffi/socket.ts opens: a connection that is never made times out and leaves nothing.
import assert from "node:assert/strict";
import { connectSocket, resolveInet } from "./socket.ts";
import { closeFd } from "./fd.ts";
import { SyscallError } from "./libc.ts";

/** This process's descriptors, as fd -> what it is ("socket:[inode]", a path...). */
function openFds(): Map<string, string> {
  const fds = new Map<string, string>();
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      fds.set(e.name, Deno.readLinkSync(`/proc/self/fd/${e.name}`));
    } catch { /* closed meanwhile (the directory's own descriptor) */ }
  }
  return fds;
}

/**
 * The TCP sockets to `port` among the descriptors opened since `before`. Only those: Deno itself
 * opens a unix socket pair of its own a moment after the first nonblocking FFI call, which a plain
 * count took for a leak, and the other test files that `deno test --parallel` runs in this
 * process open sockets of their own meanwhile.
 */
function newTcpSockets(before: Map<string, string>, port: number): string[] {
  const tcp = new Set(
    ["/proc/self/net/tcp", "/proc/self/net/tcp6"].flatMap((f) =>
      Deno.readTextFileSync(f).split("\n").slice(1).map((l) => l.trim().split(/\s+/))
        // rem_address is ADDR:PORT, the port in hex.
        .filter((cols) => cols.length > 9 && parseInt(cols[2].split(":")[1], 16) === port)
        .map((cols) => cols[9])
    ),
  );
  return [...openFds()].filter(([fd, what]) => before.get(fd) !== what)
    .map(([, what]) => /^socket:\[(\d+)\]$/.exec(what)?.[1])
    .filter((inode): inode is string => inode !== undefined && tcp.has(inode));
}

Deno.test("a connection the listener never takes fails with ETIMEDOUT after the timeout, socket closed", async () => {
  // A listener with backlog 0 that never accepts: once its queue is full the kernel drops further
  // handshakes, so a connect waits.
  const server = new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(0); print(s.getsockname()[1], flush=True); sys.stdin.read()",
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const port = Number((await reader.read()).value!.trim());
  const connected: number[] = [];
  try {
    const [addr] = await resolveInet("127.0.0.1", port, false);
    let failure: unknown;
    let waited = 0;
    for (let i = 0; i < 8 && failure === undefined; i++) {
      const before = openFds();
      const start = performance.now();
      try {
        connected.push(await connectSocket(addr, 300));
      } catch (e) {
        failure = e;
        waited = performance.now() - start;
        assert.deepEqual(newTcpSockets(before, port), [], "the failed socket is closed");
      }
    }
    assert.ok(failure instanceof SyscallError, `no connect ever waited: ${failure}`);
    assert.equal(failure.code, "ETIMEDOUT");
    assert.ok(waited >= 290 && waited < 2000, `waited ${waited} ms`);
  } finally {
    connected.forEach(closeFd);
    server.stdin.close();
    await server.status;
    await reader.cancel();
  }
});
