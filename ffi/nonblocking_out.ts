// ffi/nonblocking_out.ts — ww's own stderr, and its stdout while it passes a terminal's output on
// (run/tty.ts), written without ever blocking. A write to a pipe nobody reads blocks, and while
// Deno's main thread is blocked no timer (--timeout), signal handler or RPC message is handled.
// fd 1's and fd 2's open file descriptions are shared with the caller and with every child, so
// ww never sets O_NONBLOCK on them: it writes through a description of its own instead.

import { EAGAIN, EINTR } from "./errno.ts";
import { closeFd, fdState } from "./fd.ts";
import { cString, lastErrno, libc, libcFiles, pollOnWorker } from "./libc.ts";
import {
  O_CLOEXEC,
  O_NOCTTY,
  O_NONBLOCK,
  O_WRONLY,
  POLLERR,
  POLLHUP,
  POLLNVAL,
  POLLOUT,
} from "./flags.ts";
import { fileOwner, modeKind } from "./stat.ts";

const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const PIPE_BUF = 4096;
/** How long one wait for room lasts, so that no wait outlives ww's need for it. */
const POLL_MS = 100;

/** A descriptor written without blocking. */
export interface NonblockingOut {
  /**
   * Writes what fits now of `bytes`: the count written (0 when there is no room); -1 when the
   * reader is gone or the descriptor failed (nothing more will be written).
   */
  write(bytes: Uint8Array): number;
  /**
   * Resolves once there may be room (true when poll(2) said so), or after a short while; false
   * at once, and every write -1 from then on, when poll(2) says the descriptor takes no more
   * (an error or a hang-up: a full pipe whose reader left).
   */
  writable(): Promise<boolean>;
  /** Closes the description of its own it opened, if any; nothing is written after. */
  close(): void;
}

/**
 * ww's `fd`, its stdout or stderr, as a NonblockingOut:
 * - a pipe, FIFO or terminal: reopened through /proc/self/fd/N with O_NONBLOCK, a new open file
 *   description of the same pipe or terminal, so the caller's and the children's stay blocking;
 * - a socket (which cannot be reopened): send(2) with MSG_DONTWAIT, per call;
 * - a regular file: `fd` itself (a reopened file would have an offset of its own and overwrite;
 *   a write to a file does not wait for a reader);
 * - closed: stderr discards everything; stdout takes nothing (its reader is gone).
 *
 * @example
 * const err = openNonblockingOut(2);
 * err.write(new TextEncoder().encode("ww: hello\n")); // 10, or fewer when stderr is full
 */
export function openNonblockingOut(fd: 1 | 2): NonblockingOut {
  if (fdState(fd) === "closed") {
    return {
      write: (b) => fd === 2 ? b.length : -1,
      writable: () => Promise.resolve(fd === 2),
      close: () => {},
    };
  }
  // statx through libc, not Deno.statSync, whose first use costs a run ~0.6 ms. What it cannot
  // tell (a FUSE file root may not stat) is written as a descriptor not reopenable, below.
  const info = fileOwner(`/proc/self/fd/${fd}`);
  const kind = info === undefined ? "other" : modeKind(info.mode);
  if (kind === "file") {
    return fdOut(fd, false, (fd, b) => libc().write(fd, b, BigInt(b.length)));
  }
  if (kind === "socket") {
    return fdOut(
      fd,
      false,
      (fd, b) => libcFiles().send(fd, b, BigInt(b.length), MSG_DONTWAIT | MSG_NOSIGNAL),
    );
  }
  // Not ww's controlling terminal, which a session leader with none (a service) would get.
  const own = info === undefined
    ? -1
    : libc().open(cString(`/proc/self/fd/${fd}`), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
  if (own >= 0) return fdOut(own, true, (fd, b) => libc().write(fd, b, BigInt(b.length)));
  // Not reopenable (e.g. a terminal ww may no longer open): write to `fd` only after poll(2) said
  // there is room, and no more than PIPE_BUF, which then fits unless a child fills it in between.
  let room = false;
  const out = fdOut(fd, false, (fd, b) => {
    if (!room) return 0;
    room = false;
    return libc().write(fd, b, BigInt(Math.min(b.length, PIPE_BUF)));
  });
  return {
    write: out.write,
    writable: async () => (room = await out.writable()),
    close: out.close,
  };
}

/** `fd` written by `write`; `owned`, a description of its own, which close() and a failure close. */
function fdOut(
  fd: number,
  owned: boolean,
  write: (fd: number, b: Uint8Array) => number,
): NonblockingOut {
  let broken = false;
  const close = () => {
    if (broken) return;
    broken = true;
    if (owned) closeFd(fd);
  };
  // Properties, not methods: the bundle has these compiled with their file, and V8 compiles a
  // method on its first call (scripts/eager_compile.ts; issue 13).
  return {
    write: (bytes) => {
      if (broken) return -1;
      for (;;) {
        const n = write(fd, bytes);
        if (n >= 0) return n;
        const errno = lastErrno();
        if (errno === EINTR) continue;
        if (errno === EAGAIN) return 0;
        close();
        return -1;
      }
    },
    writable: async () => {
      if (broken) return false;
      const [revents] = await pollOnWorker([[fd, POLLOUT]], POLL_MS);
      // A full pipe whose reader left is POLLERR alone, at once, and never POLLOUT: a writer
      // that waited for room again spun at full CPU (one that may write only after POLLOUT, the
      // descriptor not reopenable below, never got the EPIPE that would have ended it).
      if ((revents & (POLLERR | POLLHUP | POLLNVAL)) !== 0) {
        close();
        return false;
      }
      return (revents & POLLOUT) !== 0;
    },
    close,
  };
}
