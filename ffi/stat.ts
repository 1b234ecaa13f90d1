// ffi/stat.ts — what kind of file a path names, or nothing, without an exception: statx(2) into
// one buffer. The launchers ask this of ~40 paths a run (the system directories and /etc files a
// jail shows, the native jail's rule paths), and Deno.statSync's FileInfo (~1 KB) and its error
// for an absent path (~4 KB) were a fifth of a native run's garbage (issue 16). Also the size of a
// file ww holds a descriptor of (fileSize), which throws.

import { check, cString, lastErrno, libc, libcFiles, SyscallError } from "./libc.ts";
import { ENAMETOOLONG } from "./errno.ts";
import { O_CLOEXEC, O_NOFOLLOW, O_PATH } from "./flags.ts";
import { AT_FDCWD } from "./open.ts";

const AT_SYMLINK_NOFOLLOW = 0x100;
/** fcntl.h: statx of a descriptor itself, with "" as the path. */
const AT_EMPTY_PATH = 0x1000;
/** Only the file's type is asked for (STATX_TYPE). */
const STATX_TYPE = 0x1;
/** Only the file's size is asked for (STATX_SIZE). */
const STATX_SIZE = 0x200;
/** A file's identity (run/file_cache.ts): its type, times, inode and size (STATX_BASIC_STATS). */
const STATX_BASIC_STATS = 0x7ff;
/** struct statx is 256 bytes on every arch; stx_mode (u16) is at offset 28. */
const buffer = new Uint8Array(256);
const view = new DataView(buffer.buffer);
/** A file's owner and mode (STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID). */
const STATX_OWNER = 0x1 | 0x2 | 0x8 | 0x10;
/** STATX_NLINK and STATX_UID, and where stx_nlink is. */
const STATX_NLINK = 0x4;
const STATX_UID = 0x8;
const STX_NLINK = 16;
const STX_UID = 20;
const STX_GID = 24;
const STX_MODE = 28;
// Where struct statx has the identity's fields (the same on every arch); a timestamp is an i64
// tv_sec and a u32 tv_nsec.
const STX_INO = 32;
const STX_SIZE = 40;
const STX_CTIME = 96;
const STX_MTIME = 112;
const STX_DEV_MAJOR = 136;
const STX_DEV_MINOR = 140;
/**
 * The NUL-terminated path of the call under way, encoded into one buffer (PATH_MAX bytes): the
 * calls are synchronous, and a fresh C string for each of ~40 paths a run was garbage.
 */
const pathBuffer = new Uint8Array(4096);
const encoder = new TextEncoder();

/** `path` as a C string in pathBuffer, or false when it is too long for any path (ENAMETOOLONG). */
function encodePath(path: string): boolean {
  // An ASCII path is copied as it is: encodeInto's result is an object a call.
  let ascii = path.length < pathBuffer.length;
  for (let i = 0; ascii && i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x80) pathBuffer[i] = c;
    else ascii = false;
  }
  if (ascii) {
    pathBuffer[path.length] = 0;
    return true;
  }
  const { read, written } = encoder.encodeInto(path, pathBuffer);
  if (read < path.length || written >= pathBuffer.length) return false;
  pathBuffer[written] = 0;
  return true;
}

/** statx(2) of `path` into `buffer`: whether it succeeded. */
function statx(path: string, follow: boolean, mask: number): boolean {
  const flags = follow ? 0 : AT_SYMLINK_NOFOLLOW;
  return encodePath(path) && libc().statx(AT_FDCWD, pathBuffer, flags, mask, buffer) === 0;
}
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const S_IFSOCK = 0o140000;

/**
 * The type of file a st_mode (FileOwner.mode) names.
 *
 * @example
 * modeKind(0o100755); // "file"
 */
export function modeKind(mode: number): "file" | "dir" | "socket" | "other" {
  const type = mode & S_IFMT;
  return type === S_IFREG
    ? "file"
    : type === S_IFDIR
    ? "dir"
    : type === S_IFSOCK
    ? "socket"
    : "other";
}

/** Whether ww's descriptor `fd` is a socket (statx of its /proc link: no socket call needed). */
export function isSocketDescriptor(fd: number): boolean {
  const owner = fileOwner(`/proc/self/fd/${fd}`);
  return owner !== undefined && modeKind(owner.mode) === "socket";
}

/** A path's kind: a directory, a symlink (only when not followed), or any other file. */
export type PathKind = "dir" | "symlink" | "file";

/**
 * The kind of file at `path`, following a final symlink (as stat(2)) unless `follow` is false (as
 * lstat(2)); undefined when it cannot be told (absent, not searchable, a bad path).
 *
 * @example
 * pathKind("/usr"); // "dir"
 * pathKind("/bin", false); // "symlink" on a merged-/usr system
 * pathKind("/nonexistent"); // undefined
 */
export function pathKind(path: string, follow = true): PathKind | undefined {
  if (!statx(path, follow, STATX_TYPE)) return undefined;
  const type = view.getUint16(STX_MODE, true) & S_IFMT;
  return type === S_IFDIR ? "dir" : type === S_IFLNK ? "symlink" : "file";
}

/**
 * Whether `a` and `b`, two looks at files (FileIdentity, or Deno's FileInfo, each compared with
 * its own kind), are one file: the same device and inode.
 *
 * @example
 * sameFile(fileIdentity("/proc/self/exe")!, fileIdentity(Deno.execPath())!); // true
 */
export function sameFile(
  a: { readonly dev: number; readonly ino: number | null },
  b: { readonly dev: number; readonly ino: number | null },
): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** What tells one version of a file from another without reading it (statx(2)'s fields). */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeSec: number;
  readonly mtimeNsec: number;
  readonly ctimeSec: number;
  readonly ctimeNsec: number;
}

/**
 * The identity of the file at `path` (following symlinks), or undefined when it cannot be
 * told: what run/file_cache.ts keeps a file's parsed value by.
 */
export function fileIdentity(path: string): FileIdentity | undefined {
  if (!statx(path, true, STATX_BASIC_STATS)) return undefined;
  return {
    dev: device(),
    ino: u64(STX_INO),
    size: u64(STX_SIZE),
    mtimeSec: u64(STX_MTIME),
    mtimeNsec: view.getUint32(STX_MTIME + 8, true),
    ctimeSec: u64(STX_CTIME),
    ctimeNsec: view.getUint32(STX_CTIME + 8, true),
  };
}

/** The u64 at `offset` as a number (exact below 2^53: inodes, sizes and times are), no BigInt. */
/** The device of the file `buffer` describes, its major and minor numbers as one. */
function device(): number {
  return view.getUint32(STX_DEV_MAJOR, true) * 2 ** 32 + view.getUint32(STX_DEV_MINOR, true);
}

function u64(offset: number): number {
  return view.getUint32(offset + 4, true) * 2 ** 32 + view.getUint32(offset, true);
}

/** Who owns a file and its mode: what ww checks a jail's user against (run/ids.ts). */
export interface FileOwner {
  readonly isDirectory: boolean;
  /** The permission bits and the file type, as st_mode. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/**
 * The owner and mode of the file at `path`, following a final symlink unless `follow` is false;
 * undefined when it cannot be told. Deno.statSync's FileInfo, for the ~5 paths a run as root
 * checks, is ~1 KB each with its four Dates (issue 16).
 */
export function fileOwner(path: string, follow = true): FileOwner | undefined {
  if (!statx(path, follow, STATX_OWNER)) return undefined;
  return owner();
}

/**
 * Whether ww's descriptor `fd` is open on a regular file: statx of the descriptor itself, which
 * needs no /proc (where /proc is not mounted a look through /proc/self/fd/N says nothing).
 */
export function isRegularFileDescriptor(fd: number): boolean {
  pathBuffer[0] = 0;
  if (libc().statx(fd, pathBuffer, AT_EMPTY_PATH, STATX_TYPE, buffer) !== 0) return false;
  return (view.getUint16(STX_MODE, true) & S_IFMT) === S_IFREG;
}

/**
 * The owner of the file behind ww's descriptor `fd` and how many names it has (a directory
 * removed meanwhile has none), by statx of the descriptor; undefined when it cannot be told.
 */
export function descriptorOwnerLinks(fd: number): { uid: number; links: number } | undefined {
  pathBuffer[0] = 0;
  if (libc().statx(fd, pathBuffer, AT_EMPTY_PATH, STATX_UID | STATX_NLINK, buffer) !== 0) {
    return undefined;
  }
  return { uid: view.getUint32(STX_UID, true), links: view.getUint32(STX_NLINK, true) };
}

/** The size of the file behind ww's descriptor `fd` (statx of the descriptor: its offset stays). */
export function fileSize(fd: number): number {
  pathBuffer[0] = 0;
  check("statx", libc().statx(fd, pathBuffer, AT_EMPTY_PATH, STATX_SIZE, buffer), `fd ${fd}`);
  return u64(STX_SIZE);
}

/** access(2)'s modes (unistd.h): read, write, and execute (search, on a directory). */
export const R_OK = 4;
export const W_OK = 2;
export const X_OK = 1;
/** fcntl.h: faccessat(2) checks the effective ids, as opening or executing a file does. */
const AT_EACCESS = 0x200;

/**
 * Whether this process may `mode` (R_OK, W_OK, X_OK, or'ed) the file at `path`: the kernel's
 * answer (faccessat(2) with AT_EACCESS: the effective uid and gid, the supplementary groups, and
 * ACLs, which a file's mode does not tell), which is no as well for a write on a read-only file
 * system or a file's execute on a noexec one.
 */
export function accessible(path: string, mode: number): boolean {
  return encodePath(path) &&
    libc().faccessat(AT_FDCWD, pathBuffer, mode, AT_EACCESS) === 0;
}

/**
 * fileOwner of `path` (followed), or the errno that statx(2) failed with (ENAMETOOLONG for a
 * path too long to pass): for a caller that tells "missing" from "not allowed".
 *
 * @example
 * statOwner("/nonexistent"); // { errno: 2 } (ENOENT)
 */
export function statOwner(path: string): FileOwner | { readonly errno: number } {
  if (!encodePath(path)) return { errno: ENAMETOOLONG };
  if (libc().statx(AT_FDCWD, pathBuffer, 0, STATX_OWNER, buffer) !== 0) {
    return { errno: lastErrno() };
  }
  return owner();
}

function owner(): FileOwner {
  const mode = view.getUint16(STX_MODE, true);
  return {
    isDirectory: (mode & S_IFMT) === S_IFDIR,
    mode,
    uid: view.getUint32(STX_UID, true),
    gid: view.getUint32(STX_GID, true),
  };
}

/** STATX_INO; stx_dev_* come with every statx. */
const STATX_INO = 0x100;

/**
 * A descriptor (O_PATH, close-on-exec) that holds the file at `path`, a final symlink itself:
 * while it is open the file's inode stays allocated, so no other file can have its number and
 * isStillAt can tell it from whatever replaces it at `path`.
 */
export function holdFile(path: string): number {
  const name = cString(path);
  return check("open", libc().open(name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0), path);
}

/** Whether `path` (not following a final symlink) is the file `held` (holdFile) holds. */
export function isStillAt(path: string, held: number): boolean {
  if (!statx(path, false, STATX_INO)) return false;
  const dev = device();
  const ino = u64(STX_INO);
  if (libc().statx(held, new Uint8Array(1), AT_EMPTY_PATH, STATX_INO, buffer) !== 0) {
    return false;
  }
  return dev === device() && ino === u64(STX_INO);
}

/**
 * Whether `path` is a symlink or a directory, and its owner (the link's own, not its target's);
 * undefined when it cannot be told (absent, a parent not searchable).
 */
export function linkInfo(
  path: string,
): { readonly symlink: boolean; readonly directory: boolean; readonly uid: number } | undefined {
  if (!statx(path, false, STATX_OWNER)) return undefined;
  const kind = view.getUint16(STX_MODE, true) & S_IFMT;
  return {
    symlink: kind === S_IFLNK,
    directory: kind === S_IFDIR,
    uid: view.getUint32(STX_UID, true),
  };
}

/** The target of the symlink at `path` (readlink(2)); a SyscallError when it is not one. */
export function readLink(path: string): string {
  const n = check(
    "readlink",
    libcFiles().readlink(cString(path), linkBuffer, BigInt(linkBuffer.length)),
    path,
  );
  if (n === linkBuffer.length) throw new SyscallError("readlink", ENAMETOOLONG, path);
  return linkText.decode(linkBuffer.subarray(0, n));
}

/** PATH_MAX: no link's target is longer. */
const linkBuffer = new Uint8Array(4096);
const linkText = new TextDecoder();
