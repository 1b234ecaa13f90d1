// ffi/process.ts — waiting for and signalling child processes by pid (the waits through
// ffi/reactor.ts).

import { ECHILD, EINTR, ESRCH } from "./errno.ts";
import { POLLIN, POLLNVAL } from "./flags.ts";
import { check, lastErrno, libc } from "./libc.ts";
import { afterReap } from "./malloc.ts";
import { type OpGroup, refTimer } from "./ops.ts";
import { closeWatched, readyNow, whenReady } from "./reactor.ts";

const WNOHANG = 1;

/** How a child ended: `code` from exit(2), or the number of the signal that killed it. */
export type WaitStatus =
  | { readonly exited: true; readonly code: number }
  | { readonly exited: false; readonly signal: number };

/** Decodes a wait(2) status word (the W* macros of <sys/wait.h>). */
export function decodeWaitStatus(status: number): WaitStatus {
  const termsig = status & 0x7f;
  if (termsig === 0) return { exited: true, code: (status >> 8) & 0xff };
  return { exited: false, signal: termsig };
}

/**
 * Waits for `pid`, a child of ww's that nobody else reaps, to end, and reaps it. Its pidfd (which
 * cannot name a recycled pid, the child being unreaped) is watched by the reactor, so a running
 * program holds no worker thread; the reaping waitpid(WNOHANG) runs on the main thread. The wait
 * counts in `ops` (whether it keeps Deno alive) when given.
 */
export async function waitPid(pid: number, ops?: OpGroup): Promise<WaitStatus> {
  const c = libc();
  const fd = c.pidfd_open(pid, 0);
  if (fd === -1) {
    if (lastErrno() === ESRCH) throw reapedElsewhere(pid);
    check("pidfd_open", fd, `pid ${pid}`);
  }
  const status = new Int32Array(1);
  try {
    for (;;) {
      const r = c.waitpid(pid, status, WNOHANG);
      if (r === pid) {
        afterReap();
        return decodeWaitStatus(status[0]);
      }
      if (r === -1) {
        const errno = lastErrno();
        if (errno === ECHILD) throw reapedElsewhere(pid);
        if (errno !== EINTR) check("waitpid", r, `pid ${pid}`);
        continue;
      }
      // Readable once the child has ended. Invalid only if the pidfd was closed under the wait: a
      // bug to report, not a wait to repeat (which would spin, or watch whatever reused the number).
      if (await whenReady(fd, POLLIN, ops).ready & POLLNVAL) {
        throw new Error(`waitpid(${pid}): its pidfd ${fd} was closed during the wait`);
      }
    }
  } finally {
    closeWatched(fd);
  }
}

function reapedElsewhere(pid: number): Error {
  return new Error(`waitpid(${pid}) failed: the child was reaped elsewhere`);
}

/** kill(2). Returns false when the process no longer exists (ESRCH). */
export function killPid(pid: number, signal: number): boolean {
  const r = libc().kill(pid, signal);
  if (r === 0) return true;
  try {
    check("kill", r, `pid ${pid}`);
  } catch (e) {
    if ((e as { code?: string }).code === "ESRCH") return false;
    throw e;
  }
  return false;
}

/**
 * A handle on a process that is not ww's child (pidfd_open(2)), to learn when it is gone. Open it
 * while the pid is known to be alive, so that it cannot name a recycled pid.
 */
export function watchProcess(
  pid: number,
  ops?: OpGroup,
): { gone(timeoutMs: number): Promise<void> } {
  const fd = libc().pidfd_open(pid, 0);
  return {
    async gone(timeoutMs) {
      if (fd === -1) return; // already gone (ESRCH)
      // Usually gone already: the stage reaps the jail before it ends. No timer then, which would
      // cost the run the loading of Deno's timers (~15 ms of CPU).
      if (readyNow(fd, POLLIN)) return void closeWatched(fd);
      const waiting = whenReady(fd, POLLIN, ops); // readable: the process has exited
      // Unreferenced: while the wait is referenced it keeps Deno alive itself, and an unref'd
      // group's wait must not be held up by its timeout.
      const timer = setTimeout(waiting.cancel, timeoutMs);
      refTimer(timer, false);
      try {
        await waiting.ready;
      } finally {
        clearTimeout(timer);
        closeWatched(fd);
      }
    },
  };
}
