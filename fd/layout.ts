// fd/layout.ts — which descriptor number each `--with-fd` grant gets in the child, and the
// `WW_FD_<NAME>` variables that tell the child. Pure.
//
// fd 0-2 are ww's own stdio and fd 3 is the host RPC socket; grants follow from fd 4: first the
// caller's (`--with-fd`), ordered by source fd and then by upper-cased name, then the ones ww
// opened itself (`--listen`, `--connect`, `--open`) by upper-cased name, so the order of flags
// never changes the numbers.

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
  /** Set when ww opened `source` itself (fd/grants.ts): laid out after the caller's grants. */
  readonly own?: boolean;
}

/** Where a grant ends up in the child. */
export interface FdSlot extends FdGrant {
  readonly target: number;
  /** `WW_FD_<NAME>`, the name upper-cased. */
  readonly envVar: string;
}

/** The child's host RPC socket. */
export const HOST_SOCKET_FD = 3;
/** The first descriptor number given to a `--with-fd` grant. */
export const FIRST_GRANT_FD = 4;
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
 */
export function layoutFds(grants: readonly FdGrant[]): FdSlot[] {
  return [...grants]
    .map((g) => ({ ...g, envVar: fdEnvVar(g.name) }))
    .sort((a, b) =>
      Number(a.own ?? false) - Number(b.own ?? false) ||
      (a.own ? 0 : a.source - b.source) ||
      (a.envVar < b.envVar ? -1 : a.envVar > b.envVar ? 1 : 0)
    )
    .map((g, i) => ({ ...g, target: FIRST_GRANT_FD + i }));
}

/** The `WW_FD_*` variables for a layout. */
export function fdEnv(slots: readonly FdSlot[]): Record<string, string> {
  return Object.fromEntries(slots.map((s) => [s.envVar, String(s.target)]));
}
