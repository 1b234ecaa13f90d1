// fd/layout.ts — which descriptor number each `--with-fd` grant gets in the child, and the
// `WW_FD_<NAME>` variables that tell the child. Pure.
//
// fd 0-2 are ww's own stdio and fd 3 is the host RPC socket; grants follow from fd 4: first the
// caller's (`--with-fd`), ordered by source fd and then by upper-cased name, then the ones ww
// opened itself (`--listen`, `--connect`, `--open`) by upper-cased name, so the order of flags
// never changes the numbers. The one exception is systemd socket activation
// (`--socket-activation`, sd_listen_fds(3)): its listening sockets must start at fd 3, so they
// come first, by upper-cased name, the host socket right after them (WW_HOST_FD names it), and
// every other grant after that in the usual order.

/**
 * A request to give the child the caller's descriptor `source` under `name`.
 *
 * @example
 * ```ts ignore
 * const grant: FdGrant = { name: "db", source: 7 }; // as --with-fd db=7
 * ```
 */
export interface FdGrant {
  /** `[A-Za-z_][A-Za-z0-9_]*`, unique ignoring case: the child reads `WW_FD_<NAME>`. */
  readonly name: string;
  /** The descriptor number in the calling process. */
  readonly source: number;
}

/**
 * A grant as ww lays it out: one of the caller's (FdGrant), or one ww opened itself (fd/grants.ts
 * ownFdGrant), marked so. A caller's grant has no marks: `activated: true` from a caller was a
 * socket-activation grant without socketActivation's checks.
 *
 * @example
 * ```ts ignore
 * const listener: LaidOutGrant = { name: "web", source: 9, own: true, activated: true };
 * ```
 */
export interface LaidOutGrant extends FdGrant {
  /** Set when ww opened `source` itself: laid out after the caller's grants. */
  readonly own?: boolean;
  /**
   * A `--listen` socket handed over by socket activation: laid out from fd 3, before the host
   * socket, and counted in LISTEN_FDS.
   */
  readonly activated?: boolean;
  /**
   * The caller's own number for the descriptor, when `source` is ww's duplicate of it (a run
   * holds each grant so: run/start.ts startRun): what orders the grants, and what ww says.
   */
  readonly callerFd?: number;
}

/** Where a grant ends up in the child. */
export interface FdSlot extends LaidOutGrant {
  readonly target: number;
  /** `WW_FD_<NAME>`, the name upper-cased. */
  readonly envVar: string;
}

/** The child's host RPC socket. */
export const HOST_SOCKET_FD = 3;
/** Grant names: a C identifier, so that `WW_FD_<NAME>` is a valid variable name. */
export const GRANT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `WW_FD_` + the name upper-cased. */
export function fdEnvVar(name: string): string {
  return `WW_FD_${name.toUpperCase()}`;
}

/**
 * Assigns child descriptor numbers to grants.
 *
 * @example
 * layoutFds([{ name: "db", source: 3 }, { name: "cache", source: 4 }]);
 * // => db on fd 4 (WW_FD_DB), cache on fd 5 (WW_FD_CACHE)
 * layoutFds([{ name: "web", source: 9, own: true, activated: true }, { name: "db", source: 3 }]);
 * // => web on fd 3, the host socket on fd 4, db on fd 5
 */
export function layoutFds(grants: readonly LaidOutGrant[]): FdSlot[] {
  const rank = (g: LaidOutGrant) => g.activated ? 0 : g.own ? 2 : 1;
  const sorted = [...grants]
    .map((g) => ({ ...g, envVar: fdEnvVar(g.name) }))
    .sort((a, b) =>
      rank(a) - rank(b) ||
      (rank(a) === 1 ? (a.callerFd ?? a.source) - (b.callerFd ?? b.source) : 0) ||
      (a.envVar < b.envVar ? -1 : a.envVar > b.envVar ? 1 : 0)
    );
  const activated = sorted.filter((g) => g.activated).length;
  // The host socket takes the number right after the activated sockets.
  return sorted.map((g, i) => ({ ...g, target: HOST_SOCKET_FD + i + (i < activated ? 0 : 1) }));
}

/**
 * Whether the layout is socket activation's: the stage must then set LISTEN_PID as it executes
 * the program.
 */
export function socketActivated(slots: readonly FdSlot[]): boolean {
  return slots.some((s) => s.activated);
}

/** The child's host socket descriptor: 3, or the one after the socket-activated listeners. */
export function hostSocketFd(slots: readonly FdSlot[]): number {
  return HOST_SOCKET_FD + slots.filter((s) => s.activated).length;
}

/**
 * The caller-side descriptors in the order of the child's numbers from fd 3, `hostEnd` (ww's
 * socket end for the child) in the host socket's place: what planFdSteps takes with
 * HOST_SOCKET_FD as its first target.
 *
 * @example
 * childFdSources(layoutFds([{ name: "web", source: 9, own: true, activated: true }]), 7);
 * // [9, 7]: fd 9 becomes the child's fd 3, fd 7 its fd 4
 */
export function childFdSources(slots: readonly FdSlot[], hostEnd: number): number[] {
  const sources = [...slots].sort((a, b) => a.target - b.target).map((s) => s.source);
  sources.splice(hostSocketFd(slots) - HOST_SOCKET_FD, 0, hostEnd);
  return sources;
}

/**
 * The variables that tell the child its descriptors: `WW_FD_<NAME>` for each grant and, under
 * socket activation, LISTEN_FDS, LISTEN_FDNAMES (the names, joined by ':', in descriptor order)
 * and WW_HOST_FD. WW_HOST_FD is set exactly when the host socket is not fd 3. LISTEN_PID is not
 * here: only the process that executes the program knows its pid (the stage sets it).
 */
export function fdEnv(slots: readonly FdSlot[]): Record<string, string> {
  const env = Object.fromEntries(slots.map((s) => [s.envVar, String(s.target)]));
  const activated = slots.filter((s) => s.activated).sort((a, b) => a.target - b.target);
  if (activated.length === 0) return env;
  return {
    ...env,
    LISTEN_FDS: String(activated.length),
    LISTEN_FDNAMES: activated.map((s) => s.name).join(":"),
    WW_HOST_FD: String(hostSocketFd(slots)),
  };
}
