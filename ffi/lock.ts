// ffi/lock.ts — lock files and directory locks. Both live as long as the open file description,
// so the kernel drops one when its holder closes it (every copy of the descriptor: a child that
// inherited one holds it too) or dies, however it dies.
//
// A lock file holds an open file description lock (fcntl(2) F_OFD_SETLK on the whole file), which
// F_OFD_GETLK can test without taking: a test that took the lock for an instant (flock(2) has no
// other way) made a holder that tried at that moment find it taken. A directory, which cannot be
// opened for writing (a write lock needs it), is locked with flock(2).
import { EACCES, EAGAIN, EINTR, ELOOP, ENOENT, ENOTDIR } from "./errno.ts";
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

/** fcntl(2) open file description lock commands (linux/fcntl.h), and struct flock's l_type. */
const F_OFD_GETLK = 36;
const F_OFD_SETLK = 37;
const F_WRLCK = 1;
const F_UNLCK = 2;
/** sizeof(struct flock) on x86_64 and aarch64: short type, short whence, off_t start, off_t len, pid. */
const FLOCK_SIZE = 32;

/**
 * Opens (creating it, mode 0600) the file at `path` and takes an exclusive open file description
 * lock on it without waiting: the descriptor holding the lock (close-on-exec, so no child inherits
 * it unasked), or undefined when another open file holds it (in this process or any other). A
 * symlink is refused (ELOOP).
 */
export function tryLockFile(path: string): number | undefined {
  const name = cString(path);
  const fd = check(
    "open",
    libc().open(name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600),
    path,
  );
  return lockedOrClosed(fd, path, (fd, path) => fileLock(fd, F_OFD_SETLK, path));
}

/**
 * Whether tryLockFile's lock on `path` is held by someone now; a missing file is not locked.
 * Takes nothing (F_OFD_GETLK), so a holder trying at the same moment gets the lock, and creates
 * nothing.
 */
export function isLockHeld(path: string): boolean {
  const name = cString(path);
  const fd = libc().open(name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd === -1) {
    if (lastErrno() === ENOENT) return false;
    throw new SyscallError("open", lastErrno(), path);
  }
  try {
    return !fileLock(fd, F_OFD_GETLK, path);
  } finally {
    closeFd(fd);
  }
}

/**
 * fcntl(2) `cmd` with a write lock on the whole file: F_OFD_SETLK, whether it took it; F_OFD_GETLK
 * (a read-only descriptor will do), whether it could have.
 */
function fileLock(fd: number, cmd: number, path: string): boolean {
  // l_whence SEEK_SET, l_start 0, l_len 0 (to the end, however far it grows), l_pid 0 (OFD).
  const lock = new Uint8Array(FLOCK_SIZE);
  const view = new DataView(lock.buffer);
  view.setInt16(0, F_WRLCK, true);
  for (;;) {
    if (libcJail().fcntl_lock(fd, cmd, lock) === 0) {
      return cmd === F_OFD_SETLK || view.getInt16(0, true) === F_UNLCK;
    }
    const errno = lastErrno();
    if (errno === EAGAIN || errno === EACCES) return false; // another holder (fcntl(2): either)
    if (errno !== EINTR) throw new SyscallError("fcntl", errno, path);
  }
}

/** `fd` once `lock` (flock, by default) has locked it; else, or when that fails, `fd` is closed. */
function lockedOrClosed(
  fd: number,
  path: string,
  lock: (fd: number, path: string) => boolean = lockNow,
): number | undefined {
  try {
    if (lock(fd, path)) return fd;
  } catch (e) {
    closeFd(fd);
    throw e;
  }
  closeFd(fd);
  return undefined;
}

function lockNow(fd: number, path: string): boolean {
  for (;;) {
    if (libc().flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
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
 * tryLockDirectory, but a symbolic link at `path` is not followed: undefined for one, or for
 * anything but a directory, or for nothing there at all (ELOOP, ENOTDIR, ENOENT); other failures
 * to open it throw.
 */
export function tryLockOwnDirectory(path: string): number | undefined {
  const flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  const fd = libc().open(cString(path), flags, 0);
  if (fd === -1) {
    const errno = lastErrno();
    if (errno === ELOOP || errno === ENOTDIR || errno === ENOENT) return undefined;
    throw new SyscallError("open", errno, path);
  }
  return lockedOrClosed(fd, path);
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
