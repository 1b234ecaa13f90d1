// run/file_cache.ts — what ww derives from a host file (the ids in /etc/passwd, the ranges in
// /etc/subuid), kept across runs while the file is unchanged: a service that runs thousands of
// programs as root read and parsed the same four files on every run (issue 16). Pure: the file's
// identity, its text and the clock are asked of the caller (run/ids.ts passes ffi/stat.ts's
// statx, a read and Date.now), so the rule is tested with plain values (run/file_cache_test.ts).
//
// The rule is the one git uses for its index: a file is the same while its identity (device,
// inode, size, change and modification times, from one statx a run) is; an edit in place changes
// the times, and a replacement (rename over it, as vipw and useradd do) the inode. A file changed
// so recently that a second change could fall in the same timestamp tick is not kept.

import type { FileIdentity } from "../ffi/stat.ts";

/** Whether `a` and `b` are the same version of a file. */
function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size &&
    a.mtimeSec === b.mtimeSec && a.mtimeNsec === b.mtimeNsec &&
    a.ctimeSec === b.ctimeSec && a.ctimeNsec === b.ctimeNsec;
}

/**
 * How long after its last change a file's value may be kept (ms). Kernel file timestamps are
 * coarse (a clock tick; 2 s on FAT), so a file written again within the tick of a change seen
 * keeps its times: its value is derived again on every use until this has passed.
 */
export const SETTLED_MS = 2000;

/** Whether a file of `identity`, stat'ed at `nowMs` (ms since the epoch), has settled. */
export function settled(identity: FileIdentity, nowMs: number): boolean {
  return identity.ctimeSec * 1000 + identity.ctimeNsec / 1e6 + SETTLED_MS <= nowMs &&
    identity.mtimeSec * 1000 + identity.mtimeNsec / 1e6 + SETTLED_MS <= nowMs;
}

/** The host I/O a FileCache asks for. */
export interface FileCacheIo {
  /** The identity of `path` (following symlinks), or undefined when it is absent or unreadable. */
  identify(path: string): FileIdentity | undefined;
  /** The text of `path`, or undefined when it cannot be read. */
  read(path: string): string | undefined;
  /** The time, ms since the epoch. */
  now(): number;
}

/**
 * A value derived from a file's text (undefined text: an absent or unreadable file), derived
 * again whenever the file's identity changes. Values are shared between calls: callers must not
 * change them.
 */
export interface FileCache<T> {
  /** The value of `path` as it is now. */
  get(path: string): T;
}

/**
 * A FileCache that asks `io` and derives values with `derive`. A closure, not a class: V8
 * compiles a class's methods on their first call, while the bundle has this compiled with its
 * file (scripts/eager_compile.ts); every jailed run as root asks one (issue 13).
 *
 * @example
 * const ids = fileCache(io, (text) => idsInPasswd(text ?? ""));
 * ids.get("/etc/passwd"); // read and parsed; later calls statx it and, unchanged, parse nothing
 */
export function fileCache<T>(
  io: FileCacheIo,
  derive: (text: string | undefined) => T,
): FileCache<T> {
  const entries = new Map<string, { identity: FileIdentity; value: T }>();
  return {
    get: (path) => {
      // The clock before the statx: a change after it falls at or after this time.
      const now = io.now();
      const identity = io.identify(path);
      const kept = entries.get(path);
      if (identity !== undefined && kept !== undefined && sameFile(kept.identity, identity)) {
        return kept.value;
      }
      // Read after the statx: a change between the two shows as a new identity next time.
      const value = derive(identity === undefined ? undefined : io.read(path));
      if (identity !== undefined && settled(identity, now)) {
        entries.set(path, { identity, value });
      } else entries.delete(path);
      return value;
    },
  };
}
