// ffi/lock.ts — lock files held with flock(2): a lock lives as long as the open file description,
// so the kernel drops it when its holder closes it or dies, however it dies.

import { EAGAIN, EINTR, ENOENT } from "./errno.ts";
import { check, cString, lastErrno, libc, libcJail, SyscallError } from "./libc.ts";
import { closeFd } from "./fd.ts";
import {
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_RDONLY,
  O_RDWR,
} from "./flags.ts";

const LOCK_EX = 2;
const LOCK_NB = 4;

/**
 * Opens (creating it, mode 0600) the file at `path` and takes an exclusive flock on it without
 * waiting: the descriptor holding the lock (close-on-exec, so no child inherits it), or undefined
 * when another open file holds it (in this process or any other). A symlink is refused (ELOOP).
 */
export function tryLockFile(path: string): number | undefined {
  const name = cString(path);
  const fd = check(
    "open",
    libc().open(name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600),
    path,
  );
  return lockedOrClosed(fd, path);
}

/**
 * Whether a lock on `path` is held by someone now; a missing file is not locked. Takes the lock
 * for an instant when it is free, and creates nothing.
 */
export function isLockHeld(path: string): boolean {
  const name = cString(path);
  const fd = libc().open(name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd === -1) {
    if (lastErrno() === ENOENT) return false;
    throw new SyscallError("open", lastErrno(), path);
  }
  try {
    return !lockNow(fd, path);
  } finally {
    closeFd(fd);
  }
}

/** `fd` once lockNow has locked it; else, or when flock fails, `fd` is closed. */
function lockedOrClosed(fd: number, path: string): number | undefined {
  try {
    if (lockNow(fd, path)) return fd;
  } catch (e) {
    closeFd(fd);
    throw e;
  }
  closeFd(fd);
  return undefined;
}

function lockNow(fd: number, path: string): boolean {
  for (;;) {
    if (libcJail().flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
    const errno = lastErrno();
    if (errno === EAGAIN) return false; // EWOULDBLOCK
    if (errno !== EINTR) throw new SyscallError("flock", errno, path);
  }
}

/**
 * Takes an exclusive flock on the directory `path` (opened read-only, close-on-exec), polling
 * every few milliseconds for at most `timeoutMs` so that ww's event loop goes on meanwhile: the
 * descriptor holding it (close it to release), or undefined when it stayed held. Runs that agree
 * to lock a directory first take turns at changing its entries.
 */
export async function lockDirectory(path: string, timeoutMs: number): Promise<number | undefined> {
  const fd = openDirectory(path);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (lockNow(fd, path)) return fd;
      if (Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } catch (e) {
    closeFd(fd);
    throw e;
  }
  closeFd(fd);
  return undefined;
}

/**
 * Takes lockDirectory's lock on the directory `path` without waiting: the descriptor holding it,
 * or undefined when another open file holds it.
 */
export function tryLockDirectory(path: string): number | undefined {
  return lockedOrClosed(openDirectory(path), path);
}

/**
 * Opens the directory `path` to lock it: ENOTDIR for anything else, never a FIFO's open, which
 * would wait on ww's main thread for a writer that may never come (no signal could end that).
 */
function openDirectory(path: string): number {
  const name = cString(path);
  const flags = O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC;
  return check("open", libc().open(name, flags, 0), path);
}
