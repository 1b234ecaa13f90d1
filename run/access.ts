// run/access.ts — whether a user may read, write or execute (search, on a directory) a file: the
// one rule every check made before a run asks, ww's own of its program and a #! line's
// interpreters (run/resolve.ts, run/script.ts) and its jail's user's of the program, the
// interpreters, each bind and --chdir (run/ids.ts). The kernel's rule on a file's mode
// (modeAllows, pure) holds for any user: the owner's bits when the uid owns the file, else the
// group's when its gid is the user's gid or one of its supplementary groups, else others'; root
// reads and writes anything, enters any directory and executes a file with any x bit. For ww's
// own user the kernel answers as well (faccessat(2), ffi/stat.ts accessible), ACLs counted.

import { accessible, X_OK } from "../ffi/stat.ts";
import type { HostUser } from "../jail/ids.ts";
import { parseGroups, parseProcStatus } from "../jail/proc_status.ts";
import { ownStatus } from "./host.ts";

/** What the permission checks read of a file: Deno.FileInfo's, or ffi/stat.ts fileOwner's. */
export interface FileModeOwner {
  readonly mode: number | null;
  readonly uid: number | null;
  readonly gid: number | null;
  readonly isDirectory: boolean;
}

/** Who a permission check is for: a uid, a gid and any supplementary groups. */
export interface Accessor {
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups, which count as the gid does (none when absent). */
  readonly groups?: readonly number[];
}

/**
 * Which of `info`'s permission classes applies to `who`, as the kernel picks it: the owner's, else
 * the group's when `who` is in the file's group (its gid or a supplementary group), else others'.
 */
export function permissionClass(info: FileModeOwner, who: Accessor): "owner" | "group" | "other" {
  if (info.uid === who.uid) return "owner";
  const inGroup = info.gid === who.gid || (info.gid !== null && who.groups?.includes(info.gid));
  return inGroup ? "group" : "other";
}

/** Where each permission class's bits are in a mode. */
const CLASS_SHIFT = { owner: 6, group: 3, other: 0 } as const;

/**
 * Whether `info`'s mode grants `who` every permission in `need` (ffi/stat.ts R_OK, W_OK, X_OK,
 * or'ed: the bits of one class), by the kernel's rule (the module's header). ACLs are not
 * considered: mayAccess asks the kernel for ww's own user.
 *
 * @example
 * const file = { mode: 0o100750, uid: 0, gid: 27, isDirectory: false };
 * modeAllows(file, { uid: 1000, gid: 1000, groups: [27] }, X_OK); // true
 * modeAllows(file, { uid: 1000, gid: 1000 }, X_OK); // false
 */
export function modeAllows(info: FileModeOwner, who: Accessor, need: number): boolean {
  const mode = info.mode ?? 0;
  if (who.uid === 0) {
    // CAP_DAC_OVERRIDE: all but executing a file that no class may execute (inode_permission).
    return (need & X_OK) === 0 || info.isDirectory || (mode & 0o111) !== 0;
  }
  return ((mode >> CLASS_SHIFT[permissionClass(info, who)]) & need) === need;
}

/**
 * ww's own host ids, as the kernel checks its files and a jail that keeps them has them
 * (jail/ids.ts jailHostUser): the effective uid and gid, and the supplementary groups.
 */
export function ownHostIds(): { uid: number; gid: number; groups: readonly number[] } {
  const status = ownStatus();
  const id = parseProcStatus(status);
  return { uid: id.euid, gid: id.egid, groups: parseGroups(status) };
}

/**
 * Whether `who` may `need` (R_OK, W_OK, X_OK, or'ed) the file at `path`, whose owner and mode are
 * `info`: `who` is a jail's host user, or "ww", ww itself. A user ww chose (a lease, --uid/--gid)
 * has the mode's answer (modeAllows); ww's own (the jail's when ww is not root) has the kernel's
 * too, which counts ACLs: either one's yes is enough, so that a file system mounted read-only or
 * noexec is left for the program to meet, as before. ww's own ids and groups are read only when
 * the kernel says no.
 *
 * @example
 * mayAccess("/usr/bin/env", { mode: 0o100755, uid: 0, gid: 0, isDirectory: false }, X_OK, "ww"); // true
 */
export function mayAccess(
  path: string,
  info: FileModeOwner,
  need: number,
  who: HostUser | "ww",
): boolean {
  if (who !== "ww" && who.chosen) return modeAllows(info, who, need);
  return accessible(path, need) || modeAllows(info, who === "ww" ? ownHostIds() : who, need);
}
