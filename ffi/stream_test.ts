import assert from "node:assert/strict";
import { closeFd, unixSocketPair } from "./fd.ts";
import { libc } from "./libc.ts";
import { FdStream, FINISH_MAX_BYTES } from "./stream.ts";

const SOL_SOCKET = 1;
const SO_SNDBUFFORCE = 32; // asm-generic/socket.h: SO_SNDBUF past wmem_max, for root
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;

/** Writes `total` bytes into `fd` without waiting; returns how many the kernel took. */
function fill(fd: number, total: number): number {
  const chunk = new Uint8Array(65536);
  let written = 0;
  while (written < total) {
    const n = libc().write(fd, chunk, BigInt(Math.min(chunk.length, total - written)));
    if (n <= 0) break;
    written += n;
  }
  return written;
}

Deno.test("finish keeps what the ended writer left, and reads then end", async () => {
  const [mine, theirs] = unixSocketPair();
  const stream = new FdStream(mine);
  const last = new TextEncoder().encode("last words");
  assert.equal(libc().write(theirs, last, BigInt(last.length)), last.length);
  closeFd(theirs);
  stream.finish();
  const buf = new Uint8Array(64);
  const n = await stream.read(buf);
  assert.equal(new TextDecoder().decode(buf.subarray(0, n!)), "last words");
  assert.equal(await stream.read(buf), null);
});

// A process the program left behind (--jail=none) kept writing into its copy of fd 3 after the
// program ended: finish() read for as long as it wrote, ww frozen, gigabytes into memory. It keeps
// FINISH_MAX_BYTES at most and shuts the connection down, which the writer then sees (EPIPE).
Deno.test({
  name: "finish keeps FINISH_MAX_BYTES at most, and the writer still there is cut off (as root)",
  // SO_SNDBUFFORCE, root's, lets the kernel buffer past the bound.
  ignore: Deno.uid() !== 0,
  fn: finishIsBounded,
});

async function finishIsBounded(): Promise<void> {
  const [mine, theirs] = unixSocketPair();
  const stream = new FdStream(mine);
  try {
    const size = new Int32Array([64 << 20]);
    assert.equal(libc().setsockopt(theirs, SOL_SOCKET, SO_SNDBUFFORCE, size, 4), 0);
    assert.equal(libc().fcntl(theirs, F_SETFL, O_NONBLOCK), 0);
    const buffered = fill(theirs, 2 * FINISH_MAX_BYTES);
    assert.equal(buffered, 2 * FINISH_MAX_BYTES, "the kernel took less than the test needs");
    stream.finish();
    let kept = 0;
    const buf = new Uint8Array(1 << 20);
    for (let n; (n = await stream.read(buf)) !== null;) kept += n;
    assert.equal(kept, FINISH_MAX_BYTES);
    // Shut down: the writer's next write fails (Deno ignores SIGPIPE).
    assert.equal(libc().write(theirs, buf, 1n), -1);
  } finally {
    closeFd(theirs);
  }
}
