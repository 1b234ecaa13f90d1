// ffi/process.ts — waiting for and signalling child processes by pid.

import { check, keepAlive, libc, ptr } from "./libc.ts";
import type { OpGroup } from "./ops.ts";

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
 * Waits for `pid` to end and reaps it, on a worker thread so the event loop keeps running.
 * errno is not visible from the worker, so a failed wait is retried a few times (EINTR) and then
 * reported as a plain error: it means the child was reaped by someone else (ECHILD). The wait
 * counts in `ops` (whether it keeps Deno alive) when given.
 */
export async function waitPid(pid: number, ops?: OpGroup): Promise<WaitStatus> {
  const status = new Int32Array(1);
  for (let attempt = 0; attempt < 5; attempt++) {
    const waiting = libc().waitpid(pid, ptr(status), 0);
    const r = await (ops ? ops.track(waiting) : waiting);
    if (r === pid) return decodeWaitStatus(status[0]);
  }
  throw new Error(`waitpid(${pid}) failed: the child was reaped elsewhere`);
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
      const pfd = new Int32Array([fd, 1 /* POLLIN: the process has exited */]);
      try {
        const polled = libc().poll(ptr(pfd), 1n, timeoutMs);
        await (ops ? ops.track(polled) : polled);
        keepAlive(pfd);
      } finally {
        libc().close(fd);
      }
    },
  };
}
