// ffi/fd.ts — questions about and operations on raw descriptors: is it open, is it close-on-exec,
// socketpair, pipe, /dev/null, duplicate, truncate, close.

import { EAGAIN, EBADF } from "./errno.ts";
import { check, cString, lastErrno, libc, libcFiles, SyscallError } from "./libc.ts";
import {
  F_GETFD,
  F_GETFL,
  F_SETFL,
  FD_CLOEXEC,
  O_CLOEXEC,
  O_NONBLOCK,
  O_PATH,
  O_RDWR,
} from "./flags.ts";
import { closeDeferred } from "./reactor.ts";

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;

/** What ww can tell about a descriptor number in its own process. */
export type FdState = "closed" | "inherited" | "close-on-exec";

/** "closed" (EBADF), "close-on-exec" (an fd ww or Deno opened itself), or "inherited". */
export function fdState(fd: number): FdState {
  const flags = libc().fcntl(fd, F_GETFD, 0);
  if (flags === -1) {
    const errno = lastErrno();
    if (errno === EBADF) return "closed";
    throw new SyscallError("fcntl", errno, `F_GETFD on fd ${fd}`);
  }
  return flags & FD_CLOEXEC ? "close-on-exec" : "inherited";
}

/**
 * Whether ww's descriptor `fd` is an O_PATH one (a file named, not opened: no read, write or
 * socket call works on it); false for a closed one.
 */
export function isPathOnly(fd: number): boolean {
  const flags = libc().fcntl(fd, F_GETFL, 0);
  return flags !== -1 && (flags & O_PATH) !== 0;
}

/** A connected AF_UNIX stream pair, both ends close-on-exec. */
export function unixSocketPair(): [number, number] {
  const fds = new Int32Array(2);
  check("socketpair", libc().socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
  return [fds[0], fds[1]];
}

/**
 * close(2); a descriptor that is already closed is not an error. One the reactor's poll in flight
 * watches is closed once that call returns (ffi/reactor.ts), so that its number is not reused
 * under the call.
 */
export function closeFd(fd: number): void {
  if (closeDeferred(fd)) return;
  if (libc().close(fd) === -1 && lastErrno() !== EBADF) {
    throw new SyscallError("close", lastErrno(), `fd ${fd}`);
  }
}

/** fcntl(2) F_DUPFD_CLOEXEC. */
const F_DUPFD_CLOEXEC = 1030;

/**
 * A close-on-exec duplicate of `fd`, numbered 3 or above: never one of fd 0-2, where a library
 * caller that closed its own (Deno.stdin.close()) would have had it, and where ww looks for the
 * stdin, stdout and stderr a program inherits.
 */
export function holdDuplicate(fd: number): number {
  return check("fcntl", libc().fcntl(fd, F_DUPFD_CLOEXEC, 3), `F_DUPFD_CLOEXEC of fd ${fd}`);
}

/** ftruncate(2) to nothing: what O_TRUNC does at open, done later. */
export function truncateFd(fd: number): void {
  check("ftruncate", libcFiles().ftruncate(fd, 0n), `fd ${fd}`);
}

/** A pipe, both ends close-on-exec: [read end, write end]. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  check("pipe2", libc().pipe2(fds, O_CLOEXEC));
  return [fds[0], fds[1]];
}

/** /dev/null opened read-write, close-on-exec: a program's stdio that reads nothing and keeps nothing. */
export function openDevNull(): number {
  const path = cString("/dev/null");
  return check("open", libc().open(path, O_RDWR | O_CLOEXEC, 0), "/dev/null");
}

/** Writes all of `bytes` to a blocking descriptor. */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) {
    const chunk = bytes.subarray(off);
    off += check("write", libc().write(fd, chunk, BigInt(chunk.length)), `fd ${fd}`);
  }
}

/**
 * What a pipe's read end `fd` (ww's own) holds now, up to `max` bytes, without waiting: `fd` is
 * made non-blocking, and the read stops at an empty pipe (EAGAIN) or its end.
 */
export function readAvailable(fd: number, max: number): Uint8Array {
  const flags = check("fcntl", libc().fcntl(fd, F_GETFL, 0), `F_GETFL on fd ${fd}`);
  check("fcntl", libc().fcntl(fd, F_SETFL, flags | O_NONBLOCK), `F_SETFL on fd ${fd}`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(4096);
  while (total < max) {
    const want = Math.min(buf.length, max - total);
    const n = libc().read(fd, buf, BigInt(want));
    if (n === -1 && lastErrno() === EAGAIN) break;
    check("read", n, `fd ${fd}`);
    if (n === 0) break;
    chunks.push(buf.slice(0, n));
    total += n;
  }
  return concatBytes(chunks);
}

/** The chunks, one after another, in one array. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
