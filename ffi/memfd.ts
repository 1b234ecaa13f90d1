// ffi/memfd.ts — sealed in-memory files (memfd_create(2), fcntl F_ADD_SEALS) that hold a program
// fetched from IPFS, and the plain-file reads, writes and in-kernel copies around them (the ww
// cache). A sealed memfd cannot be changed by anyone, ww included, so what was verified is what
// runs.

import { EINTR, EINVAL } from "./errno.ts";
import {
  check,
  cString,
  lastErrno,
  libc,
  libcFiles,
  libcJail,
  SyscallError,
  workerMemory,
} from "./libc.ts";
import {
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOCTTY,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_RDONLY,
  O_WRONLY,
} from "./flags.ts";
import { closeFd } from "./fd.ts";
import { isRegularFileDescriptor } from "./stat.ts";

// <linux/memfd.h>, <fcntl.h>
const MFD_CLOEXEC = 0x1;
const MFD_ALLOW_SEALING = 0x2;
const MFD_EXEC = 0x10;
const F_ADD_SEALS = 1033;
const F_GET_SEALS = 1034;
/** F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE: nothing can change the content. */
export const ALL_SEALS = 0x1 | 0x2 | 0x4 | 0x8;
/** Largest count Linux moves in one sendfile(2) call. */
const SENDFILE_MAX = 0x7ffff000;

/**
 * A new empty memfd, close-on-exec, that can be sealed and executed. `name` shows in
 * /proc/PID/fd as "/memfd:NAME".
 *
 * @example
 * const fd = createMemfd("app");
 * writeAll(fd, bytes);
 * sealMemfd(fd);
 */
export function createMemfd(name: string): number {
  const c = libcJail();
  const label = cString(name.slice(0, 240));
  const fd = c.memfd_create(label, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd !== -1) return fd;
  // Kernels before 6.3 know no MFD_EXEC (and make every memfd executable).
  if (lastErrno() !== EINVAL) throw new SyscallError("memfd_create", lastErrno(), name);
  return check(
    "memfd_create",
    c.memfd_create(label, MFD_CLOEXEC | MFD_ALLOW_SEALING),
    name,
  );
}

/** Seals `fd` against every change: writes, growing, shrinking, and further sealing. */
export function sealMemfd(fd: number): void {
  check("fcntl", libc().fcntl(fd, F_ADD_SEALS, ALL_SEALS), `F_ADD_SEALS on fd ${fd}`);
}

/** The seals set on `fd` (F_GET_SEALS). */
export function memfdSeals(fd: number): number {
  return check("fcntl", libc().fcntl(fd, F_GET_SEALS, 0), `F_GET_SEALS on fd ${fd}`);
}

/** Opens an existing file read-only, close-on-exec. */
export function openReadOnly(path: string): number {
  const name = cString(path);
  return check("open", libc().open(name, O_RDONLY | O_CLOEXEC, 0), path);
}

/**
 * The regular file at `path` opened read-only and close-on-exec, or undefined when there is none
 * there: absent, a symbolic link (not followed), or any other kind of file, which is never waited
 * for (a FIFO's open blocked until a writer came, and no signal but SIGKILL ended ww).
 */
export function openRegularReadOnly(path: string): number | undefined {
  const fd = libc().open(cString(path), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW, 0);
  if (fd < 0) return undefined;
  if (isRegularFileDescriptor(fd)) return fd;
  closeFd(fd);
  return undefined;
}

/**
 * Up to `max` bytes from the start of the regular file at `path` (fewer when it is shorter), or
 * undefined when ww cannot open it for reading or it is no regular file. Through libc, which a run
 * binds anyway, rather than Deno.openSync: the first Deno file of a run costs it 0.3-1 ms of
 * set-up. The open never waits (O_NONBLOCK) and what it opened is checked, not the path before
 * it: a jailed program that swapped a FIFO in for a script's interpreter, between ww's check of
 * the path and this read, held ww's thread in open(2) for good (its timeout, signals and RPC).
 */
export function readFileHead(path: string, max: number): Uint8Array | undefined {
  const c = libc();
  const name = cString(path);
  const fd = c.open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0);
  if (fd === -1) return undefined;
  try {
    if (!isRegularFileDescriptor(fd)) return undefined;
    const buf = new Uint8Array(max);
    let n = 0;
    while (n < max) {
      const r = c.read(fd, buf.subarray(n), BigInt(max - n));
      if (r === -1 && lastErrno() === EINTR) continue;
      if (check("read", r, path) === 0) break;
      n += r;
    }
    return buf.subarray(0, n);
  } finally {
    c.close(fd);
  }
}

/**
 * True when this process may execute the file at `path` (access(2) X_OK), which also says no
 * when its file system is mounted noexec.
 */
export function mayExecute(path: string): boolean {
  const X_OK = 1;
  return libcFiles().access(cString(path), X_OK) === 0;
}

/** Creates a new file (failing when it exists) for writing, close-on-exec, with `mode`. */
export function createExclusive(path: string, mode: number): number {
  const name = cString(path);
  return check(
    "open",
    libc().open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode),
    path,
  );
}

/**
 * Waits until the file behind `fd` (its bytes and its inode) is on the disk (fsync(2)): a file
 * renamed into place unsynced may show, after a crash, its new size with zeros for bytes.
 */
export function syncFile(fd: number): void {
  check("fsync", libcFiles().fsync(fd), `fd ${fd}`);
}

/** Waits until the entries of the directory `path` (a rename into it) are on the disk. */
export function syncDirectory(path: string): void {
  const fd = check(
    "open",
    libc().open(cString(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0),
    path,
  );
  try {
    syncFile(fd);
  } finally {
    closeFd(fd);
  }
}

/**
 * A new read-only open of the file behind `fd`, at offset 0 and close-on-exec: for a reader that
 * must not share (or move) `fd`'s file offset.
 */
export function reopenReadOnly(fd: number): number {
  return openReadOnly(`/proc/self/fd/${fd}`);
}

/** Reads exactly `buf.length` bytes at `offset` of `fd`; fails at end of file. */
export function readAt(fd: number, buf: Uint8Array, offset: number): void {
  let done = 0;
  while (done < buf.length) {
    const part = buf.subarray(done);
    const n = check(
      "pread",
      libcFiles().pread(fd, part, BigInt(part.length), BigInt(offset + done)),
      `fd ${fd}`,
    );
    if (n === 0) throw new SyscallError("pread", EINVAL, `fd ${fd} ends before ${offset + done}`);
    done += n;
  }
}

/**
 * Copies `length` bytes of `from`, starting at `offset`, to the current position of `to`, inside
 * the kernel (sendfile(2), which unlike copy_file_range(2) crosses file systems: a memfd to the
 * disk) and on a worker thread: the bytes never pass through ww's memory, and the event loop goes
 * on meanwhile.
 */
export async function copyRange(
  from: number,
  to: number,
  offset: number,
  length: number,
): Promise<void> {
  const c = libcFiles();
  const memory = workerMemory(8);
  const pos = new BigInt64Array(memory.buffer);
  pos[0] = BigInt(offset);
  try {
    let left = length;
    while (left > 0) {
      const count = BigInt(Math.min(left, SENDFILE_MAX));
      let n = Number(await c.sendfile_background(to, from, memory.at, count));
      if (n === -1) {
        n = check("sendfile", c.sendfile(to, from, pos, count), `fd ${from} -> fd ${to}`);
      }
      if (n === 0) {
        throw new SyscallError("sendfile", EINVAL, `fd ${from} ends before ${offset + length}`);
      }
      left -= n;
    }
  } finally {
    memory.free();
  }
}
