/**
 * Landlock (linux/landlock.h, Documentation/userspace-api/landlock.rst): the access rights each
 * ABI version can restrict, the ruleset a jail handles on a given ABI, and the rights each kind of
 * path gets. Pure: the ABI is input (ffi/landlock.ts asks the kernel), the result is numbers.
 *
 * A Landlock ruleset "handles" a set of rights: those are denied everywhere except beneath the
 * paths of its rules. Rights a kernel's ABI does not know cannot be handled, so an older kernel
 * enforces less; {@linkcode landlockProtections} says what, so callers report it instead of
 * silently running weaker.
 *
 * @module
 */

/** Filesystem rights (LANDLOCK_ACCESS_FS_*), with the ABI that introduced each. */
export const FS = {
  EXECUTE: 1 << 0,
  WRITE_FILE: 1 << 1,
  READ_FILE: 1 << 2,
  READ_DIR: 1 << 3,
  REMOVE_DIR: 1 << 4,
  REMOVE_FILE: 1 << 5,
  MAKE_CHAR: 1 << 6,
  MAKE_DIR: 1 << 7,
  MAKE_REG: 1 << 8,
  MAKE_SOCK: 1 << 9,
  MAKE_FIFO: 1 << 10,
  MAKE_BLOCK: 1 << 11,
  MAKE_SYM: 1 << 12,
  /** ABI 2: link or rename a file into another directory. */
  REFER: 1 << 13,
  /** ABI 3: truncate(2), ftruncate(2) and O_TRUNC. */
  TRUNCATE: 1 << 14,
  /** ABI 5: ioctl(2) on character and block devices. */
  IOCTL_DEV: 1 << 15,
} as const;

/** Network rights (LANDLOCK_ACCESS_NET_*), ABI 4. */
export const NET = { BIND_TCP: 1 << 0, CONNECT_TCP: 1 << 1 } as const;

/** Scopes (LANDLOCK_SCOPE_*), ABI 6: IPC that may not leave the Landlock domain. */
export const SCOPE = { ABSTRACT_UNIX_SOCKET: 1 << 0, SIGNAL: 1 << 1 } as const;

/** The newest ABI whose rights this module knows; a newer kernel is used at this level. */
export const KNOWN_ABI = 7;

/** Rights that make sense on a file (the kernel rejects directory rights on a file rule). */
const FILE_RIGHTS = FS.EXECUTE | FS.WRITE_FILE | FS.READ_FILE | FS.TRUNCATE | FS.IOCTL_DEV;

/** What a ruleset restricts: struct landlock_ruleset_attr. */
export interface LandlockRuleset {
  readonly handledFs: number;
  readonly handledNet: number;
  readonly scoped: number;
}

/**
 * The ruleset a jail creates on `abi`: every filesystem right the ABI knows; TCP bind/connect and
 * abstract unix sockets unless the jail shares the network (abstract sockets belong to the network
 * namespace, so bubblewrap's --net shares them too); signals always.
 *
 * @example
 * landlockRuleset(4, false); // { handledFs: 0x7fff, handledNet: 3, scoped: 0 }
 */
export function landlockRuleset(abi: number, net: boolean): LandlockRuleset {
  if (abi < 1) return { handledFs: 0, handledNet: 0, scoped: 0 };
  let handledFs = (1 << 13) - 1; // ABI 1: EXECUTE .. MAKE_SYM
  if (abi >= 2) handledFs |= FS.REFER;
  if (abi >= 3) handledFs |= FS.TRUNCATE;
  if (abi >= 5) handledFs |= FS.IOCTL_DEV;
  return {
    handledFs,
    // Handling TCP with no port rule denies every bind and connect; with --net nothing is handled.
    handledNet: abi >= 4 && !net ? NET.BIND_TCP | NET.CONNECT_TCP : 0,
    scoped: abi >= 6 ? SCOPE.SIGNAL | (net ? 0 : SCOPE.ABSTRACT_UNIX_SOCKET) : 0,
  };
}

/**
 * The size of struct landlock_ruleset_attr to pass on `abi`: the kernel rejects fields it does
 * not know unless they are zero, and an older kernel's struct is shorter (u64 per field).
 */
export function rulesetAttrSize(abi: number): number {
  return abi >= 6 ? 24 : abi >= 4 ? 16 : 8;
}

/** How the jail uses a path. */
export type PathUse =
  /** Read and execute (system directories, --ro-bind, the program). */
  | "read"
  /** Everything (the work directory, --bind). */
  | "write"
  /** Read and write an existing device node, no ioctl (/dev/null and friends). */
  | "device"
  /** A terminal: read, write and ioctl (/dev/tty). */
  | "terminal";

/** One landlock_add_rule(LANDLOCK_RULE_PATH_BENEATH) call. */
export interface LandlockPathRule {
  readonly path: string;
  readonly access: number;
  /**
   * For a rule on a descriptor the stage holds (`path` /proc/self/fd/N): the host path it was
   * opened as, for --explain and for what the rule lets the program reach.
   */
  readonly shows?: string;
}

/**
 * The rights for `path` used as `use`, within what `ruleset` handles. A file gets only file
 * rights; a directory's rights apply to everything beneath it.
 */
export function pathRule(
  ruleset: LandlockRuleset,
  path: string,
  kind: "dir" | "file",
  use: PathUse,
): LandlockPathRule {
  // A switch, not a table indexed by `use`: no object a rule, ~20 rules a run (issue 16).
  let wanted: number;
  switch (use) {
    case "read":
      wanted = FS.EXECUTE | FS.READ_FILE | FS.READ_DIR;
      break;
    case "write":
      wanted = ruleset.handledFs;
      break;
    case "device":
      wanted = FS.READ_FILE | FS.WRITE_FILE | FS.TRUNCATE;
      break;
    case "terminal":
      wanted = FS.READ_FILE | FS.WRITE_FILE | FS.TRUNCATE | FS.IOCTL_DEV;
      break;
  }
  const access = wanted & ruleset.handledFs & (kind === "dir" ? ~0 : FILE_RIGHTS);
  return { path, access };
}

/** A protection the native jail wants from Landlock, and the ABI that provides it. */
export interface LandlockProtection {
  /** Short name, used in messages and --explain. */
  readonly name: string;
  readonly minAbi: number;
  /** What it stops, as one phrase. */
  readonly what: string;
}

/** Everything the native jail wants from Landlock, oldest first. */
export const LANDLOCK_PROTECTIONS: readonly LandlockProtection[] = [
  {
    name: "landlock-filesystem",
    minAbi: 1,
    what: "files open, execute, create and delete only beneath the listed paths",
  },
  {
    name: "landlock-truncate",
    minAbi: 3,
    what: "truncate only files beneath the writable paths",
  },
  {
    name: "landlock-tcp",
    minAbi: 4,
    what: "no TCP bind or connect (without --net)",
  },
  {
    name: "landlock-scope",
    minAbi: 6,
    what: "no signals to processes outside the jail, nor (without --net) abstract unix sockets",
  },
];

/**
 * The protections a jail wants on this policy (landlock-tcp only without --net), split by whether
 * `abi` provides them.
 *
 * @example
 * landlockProtections(4, false).missing.map((p) => p.name); // ["landlock-scope"]
 */
export function landlockProtections(
  abi: number,
  net: boolean,
): { enforced: LandlockProtection[]; missing: LandlockProtection[] } {
  const wanted = LANDLOCK_PROTECTIONS.filter((p) => !(net && p.name === "landlock-tcp"));
  return {
    enforced: wanted.filter((p) => abi >= p.minAbi),
    missing: wanted.filter((p) => abi < p.minAbi),
  };
}
