// ffi/process.ts — processes held by their pidfds: waiting for and reaping ww's children (the
// waits through ffi/reactor.ts), and signalling a process without ever reaching another that took
// its pid since.

import { ECHILD, EINTR, EINVAL, ESRCH } from "./errno.ts";
import { O_CLOEXEC, O_PATH, POLLIN, POLLNVAL } from "./flags.ts";
import { check, cString, lastErrno, libc, libcJail } from "./libc.ts";
import { afterReap } from "./malloc.ts";
import { cancelTimer, type OpGroup, startTimer } from "./ops.ts";
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

/** pidfd_send_signal(2)'s number, the same on x86_64 and aarch64 (added after the tables merged). */
const SYS_PIDFD_SEND_SIGNAL = 424n;

/** pidfd_send_signal's flag (Linux 6.9): to the process group the pidfd's process leads. */
const PIDFD_SIGNAL_PROCESS_GROUP = 1 << 2;

/**
 * A process held by its pidfd (pidfd_open(2)), taken while its pid was known to name it. Signals
 * sent through it reach that process, or nobody once it has ended: never a process that took its
 * pid since, as kill(2) of a remembered pid may (pids come round: pid_max is 32768 on many hosts,
 * and a jail's processes take host pids too). Its owner closes it; a closed one signals nobody.
 */
export class HeldProcess {
  // Its methods only pass its state on: see ffi/stream.ts FdStream (every run holds a process).
  readonly #s: HeldState;

  private constructor(readonly pid: number, fd: number) {
    this.#s = { pid, fd };
  }

  /** `pid`, held; undefined when no process has that pid (ESRCH). */
  static open(pid: number): HeldProcess | undefined {
    const fd = openPidfd(pid);
    return fd === undefined ? undefined : new HeldProcess(pid, fd);
  }

  /** The pidfd, readable once the process has ended; -1 once closed. */
  get fd(): number {
    return this.#s.fd;
  }

  /** True once the process has ended, or the handle is closed. */
  get ended(): boolean {
    return hasEnded(this.#s);
  }

  /** Sends `sig`; false when the process has ended or the handle is closed. */
  signal(sig: number): boolean {
    return signalProcess(this.#s, sig);
  }

  /**
   * Sends `sig` to the process group this process leads, through the pidfd (the group ww holds,
   * not whatever group has its number by then); false when none of it is left. Before Linux 6.9
   * (no PIDFD_SIGNAL_PROCESS_GROUP) by its number, while the pidfd shows the leader still there.
   */
  signalGroup(sig: number): boolean {
    return signalProcessGroup(this.#s, sig);
  }

  /** Closes the pidfd, ending its waits (ffi/reactor.ts closeWatched). */
  close(): void {
    closeHeld(this.#s);
  }
}

/** A HeldProcess's state: its pid, and its pidfd (-1 once closed). */
interface HeldState {
  readonly pid: number;
  fd: number;
}

/** A pidfd of `pid`, or undefined when no process has that pid (ESRCH). */
function openPidfd(pid: number): number | undefined {
  const fd = libc().pidfd_open(pid, 0);
  if (fd === -1) {
    if (lastErrno() === ESRCH) return undefined;
    check("pidfd_open", fd, `pid ${pid}`);
  }
  return fd;
}

function hasEnded(s: HeldState): boolean {
  return s.fd === -1 || readyNow(s.fd, POLLIN);
}

function signalProcess(s: HeldState, sig: number): boolean {
  if (s.fd === -1) return false;
  const r = libcJail().syscall_pidfd_send_signal(SYS_PIDFD_SEND_SIGNAL, s.fd, sig, null, 0);
  if (r === 0) return true;
  if (lastErrno() === ESRCH) return false;
  check("pidfd_send_signal", r, `pid ${s.pid}`);
  return false;
}

function signalProcessGroup(s: HeldState, sig: number): boolean {
  if (s.fd === -1) return false;
  const r = libcJail().syscall_pidfd_send_signal(
    SYS_PIDFD_SEND_SIGNAL,
    s.fd,
    sig,
    null,
    PIDFD_SIGNAL_PROCESS_GROUP,
  );
  if (r === 0) return true;
  const errno = lastErrno();
  if (errno === ESRCH) return false;
  if (errno !== EINVAL) check("pidfd_send_signal", r, `process group ${s.pid}`);
  if (hasEnded(s)) return false;
  return libc().kill(-s.pid, sig) === 0;
}

function closeHeld(s: HeldState): void {
  if (s.fd === -1) return;
  closeWatched(s.fd);
  s.fd = -1;
}

/**
 * The child `spawn` starts (its pid), held (holdChild) by a pidfd whose descriptor was kept for it
 * from before the spawn: short of descriptors (EMFILE), the spawn is never made and the failure
 * is thrown, where a pidfd opened only afterwards failed once the program had run a while (it
 * printed, and was killed, and ww said it had started nothing).
 */
export function spawnHeld(spawn: () => number): { pid: number; child: HeldProcess } {
  const c = libc();
  rootPath ??= cString("/");
  const kept = check(
    "open",
    c.open(rootPath, O_PATH | O_CLOEXEC, 0),
    "a descriptor kept for the child's pidfd",
  );
  let pid: number;
  try {
    pid = spawn();
  } finally {
    c.close(kept);
  }
  return { pid, child: holdChild(pid) };
}

/** "/", for spawnHeld's kept descriptor. */
let rootPath: Uint8Array<ArrayBuffer> | undefined;

/**
 * `pid`, a child of ww's that nobody else reaps, held from now until waitPid reaps it. When it
 * cannot be held (no descriptor is left for its pidfd: EMFILE), it is killed and reaped, so that
 * no program runs on that ww cannot wait for, and the failure is thrown.
 */
export function holdChild(pid: number): HeldProcess {
  let held: HeldProcess | undefined;
  try {
    held = HeldProcess.open(pid);
  } catch (e) {
    const c = libc();
    c.kill(pid, SIGKILL);
    const status = new Int32Array(1);
    while (c.waitpid(pid, status, 0) === -1 && lastErrno() === EINTR);
    afterReap();
    throw e;
  }
  // An unreaped child has its pid until it is reaped: only a reap elsewhere can lose it.
  if (held === undefined) throw reapedElsewhere(pid);
  return held;
}

/** SIGKILL's number (Linux). */
const SIGKILL = 9;

/**
 * Waits for `child` (holdChild) to end, reaps it and closes its handle. The pidfd is watched by
 * the reactor, so a running program holds no worker thread; the reaping waitpid(WNOHANG) runs on
 * the main thread. The wait counts in `ops` (whether it keeps Deno alive) when given.
 */
export async function waitPid(child: HeldProcess, ops?: OpGroup): Promise<WaitStatus> {
  const c = libc();
  const { pid } = child;
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
      if (await whenReady(child.fd, POLLIN, ops).ready & POLLNVAL) {
        throw new Error(`waitpid(${pid}): its pidfd was closed during the wait`);
      }
    }
  } finally {
    // Closed in the same turn as the reap: no signal can go to the pid once it is free.
    child.close();
  }
}

function reapedElsewhere(pid: number): Error {
  return new Error(`waitpid(${pid}) failed: the child was reaped elsewhere`);
}

/**
 * Resolves once `process` has ended, or after `timeoutMs` (the wait then gives up, and the caller
 * goes on without it). Does not close it.
 */
export async function processGone(
  process: HeldProcess,
  timeoutMs: number,
  ops?: OpGroup,
): Promise<void> {
  // Usually gone already: the stage reaps the jail before it ends.
  if (process.ended) return;
  const waiting = whenReady(process.fd, POLLIN, ops); // readable: the process has exited
  // Unreferenced: while the wait is referenced it keeps Deno alive itself, and an unref'd
  // group's wait must not be held up by its timeout.
  const timer = startTimer(waiting.cancel, timeoutMs, false);
  try {
    await waiting.ready;
  } finally {
    cancelTimer(timer);
  }
}
