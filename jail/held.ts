// jail/held.ts — a program held by a descriptor (one from IPFS, or one a jailed program started),
// and the security decision of how it gets into a jail: executed from the descriptor, bound
// read-only, or copied. Pure: the facts (sealed, script, the identity dropped) are input.

/**
 * A program ww holds by a descriptor instead of by path: from IPFS (a sealed memfd fetched just
 * now, or the cached file) or one a jailed program started (run/guest_program.ts openGuestProgram).
 * Every backend runs exactly the bytes behind the descriptor, whatever happens to a path since.
 *
 * @example
 * ```ts ignore
 * const held: HeldProgram = { fd: 9, sealed: true, script: false }; // a cold run from IPFS
 * ```
 */
export interface HeldProgram {
  /** The descriptor, numbered as the process that holds it has it (ww, or the stage). */
  readonly fd: number;
  /**
   * A sealed memfd (F_SEAL_WRITE and the rest): nobody can change its bytes. Otherwise a file
   * on disk (the cache's, or the guest's), which its owner could chmod and rewrite.
   */
  readonly sealed: boolean;
  /** A `#!` script: its interpreter opens it again by a path, /dev/fd/<fd> or where it shows. */
  readonly script: boolean;
}

/**
 * How a held program gets into the jail:
 * - `exec`: the stage executes it from the descriptor (execveat AT_EMPTY_PATH); nothing is shown
 *   at the program's path;
 * - `copy`: bwrap copies its bytes into a read-only file of the jail at the program's path;
 * - `bind`: bwrap binds it read-only at the program's path.
 */
export type HeldHow = "exec" | "copy" | "bind";

/** Everything a backend does differently for a held program. */
export interface HeldEntry {
  readonly how: HeldHow;
  /**
   * With `exec`: the descriptor stays open in the program (a script's interpreter opens
   * /dev/fd/<fd>: execveat(2) fails with ENOENT for a close-on-exec one); otherwise it is closed
   * on exec.
   */
  readonly keepOpen: boolean;
  /**
   * The native jail's Landlock rule lets the program read the file behind the descriptor (named
   * /proc/self/fd/<fd> by the stage, so exactly that file): a memfd needs none, and may have none
   * (it lives on the kernel's internal mount, which Landlock refuses as a rule, EBADFD).
   */
  readonly readRule: boolean;
}

/**
 * How `held` gets into a jail of `backend`. `dropped`: the jail runs as a host user other than
 * the file's owner (bwrap when ww is root: the jail's leased id).
 *
 * bwrap: the stage runs it from the descriptor if it cannot change under the jail: a sealed memfd,
 * or a file the jail's user does not own. A file the jail's user owns is bound read-only instead:
 * run from its descriptor, it would be /proc/self/exe on a writable mount, and its owner could
 * chmod and rewrite it. A #! script is shown at its path, which its interpreter opens. bwrap
 * resolves a bound descriptor back to its path, which an unprivileged bwrap (ww is root) may not
 * reach, and cannot bind a memfd at all: those are copied.
 *
 * native: always executed from the descriptor, a script's kept open for its interpreter; the
 * Landlock ruleset lets the program read, never write, the file behind it, so its owner's rights
 * on the file do not matter in the jail.
 *
 * @example
 * placeHeld("bwrap", { sealed: true, script: false }, false);
 * // { how: "exec", keepOpen: false, readRule: false }
 * placeHeld("bwrap", { sealed: false, script: false }, false);
 * // { how: "bind", keepOpen: false, readRule: false }
 */
export function placeHeld(
  backend: "bwrap" | "native",
  held: Pick<HeldProgram, "sealed" | "script">,
  dropped: boolean,
): HeldEntry {
  const { sealed, script } = held;
  if (backend === "native") return { how: "exec", keepOpen: script, readRule: !sealed };
  const unchangeable = sealed || dropped;
  if (unchangeable && !script) return { how: "exec", keepOpen: false, readRule: false };
  return { how: unchangeable ? "copy" : "bind", keepOpen: false, readRule: false };
}
