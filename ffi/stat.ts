// ffi/stat.ts — what kind of file a path names, or nothing, without an exception: statx(2) into
// one buffer. The launchers ask this of ~40 paths a run (the system directories and /etc files a
// jail shows, the native jail's rule paths), and Deno.statSync's FileInfo (~1 KB) and its error
// for an absent path (~4 KB) were a fifth of a native run's garbage (issue 16).

import { cString, libcJail } from "./libc.ts";

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
/** Only the file's type is asked for (STATX_TYPE). */
const STATX_TYPE = 0x1;
/** struct statx is 256 bytes on every arch; stx_mode (u16) is at offset 28. */
const buffer = new Uint8Array(256);
const view = new DataView(buffer.buffer);
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

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
  const flags = follow ? 0 : AT_SYMLINK_NOFOLLOW;
  if (libcJail().statx(AT_FDCWD, cString(path), flags, STATX_TYPE, buffer) !== 0) {
    return undefined;
  }
  const type = view.getUint16(28, true) & S_IFMT;
  return type === S_IFDIR ? "dir" : type === S_IFLNK ? "symlink" : "file";
}
