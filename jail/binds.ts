// jail/binds.ts — the user's --bind and --ro-bind flags as requests, their checks and words, and
// the rule below; jail/bind_mounts.ts makes them the mounts a jail makes, in the order it must
// make them. Pure: the real path of each source (every symlink resolved) is input.
//
// The rule, for every backend: a host path is writable in the jail exactly when the most specific
// bind whose (real) source contains it is a --bind; of two binds of the same source, --ro-bind
// wins. It holds at every place the path shows in the jail: `--bind P:/data --ro-bind P/secrets`
// also mounts P/secrets read-only at /data/secrets (a "cover" mount), or the secret would be
// writable there. Mounts are ordered parents first (by destination path components), so a mount
// never hides a more specific one: a --bind of P/out after a --ro-bind of P stays visible and
// writable. Two binds of different sources at one destination are refused: neither may win
// silently.

/** One --bind or --ro-bind flag, its source resolved by the caller. */
export interface BindRequest {
  readonly flag: "--bind" | "--ro-bind";
  /** The source as the user gave it (absolute, lexically normalised), for messages. */
  readonly source: string;
  /** The source with every symlink resolved (realpath): what the kernel will mount. */
  readonly real: string;
  /** Where the jail shows it, as the user gave it. */
  readonly dest: string;
}

/** One bind mount the jail makes. */
export interface BindMount {
  /** The real host path. */
  readonly source: string;
  /** A clean absolute path in the jail. */
  readonly dest: string;
  readonly writable: boolean;
}

/**
 * The bind as the user wrote it, for messages: the flag (`--bind src` or `--bind src:dest`), or,
 * for a library caller, the option (`jail.writableBinds src` or `jail.readOnlyBinds src -> dest`).
 */
export function bindText(
  r: Omit<BindRequest, "real">,
  words: "commandLine" | "library" = "commandLine",
): string {
  if (words === "library") {
    const option = r.flag === "--bind" ? "jail.writableBinds" : "jail.readOnlyBinds";
    return `${option} ${r.source === r.dest ? r.source : `${r.source} -> ${r.dest}`}`;
  }
  return `${r.flag} ${r.source === r.dest ? r.source : `${r.source}:${r.dest}`}`;
}

/**
 * A refusal of bind `r` for `why`: in the command line's words (`error`), and the library's.
 *
 * @example
 * bindProblem({ flag: "--ro-bind", source: "/a", real: "/a", dest: "/a" }, "gone").error;
 * // "--ro-bind /a: gone"
 */
export function bindProblem(
  r: Omit<BindRequest, "real">,
  why: string,
): { error: string; bind: string; library: string } {
  const request = { ...r, real: r.source };
  return {
    error: `${bindText(request)}: ${why}`,
    bind: r.source,
    library: `${bindText(request, "library")}: ${why}`,
  };
}

/**
 * Why a bind of a path in `part` (/proc or /dev, whose parts a jail gets are ww's to grant) is
 * refused, under every jail.
 *
 * @example
 * ownPartProblem("/proc"); // "the jail grants its own part of /proc; bind something else"
 */
export function ownPartProblem(part: "/proc" | "/dev"): string {
  return `the jail grants its own part of ${part}; bind something else`;
}

/** True when `path` is `dir` or lies under it. Both absolute and clean. */
export function isWithin(path: string, dir: string): boolean {
  return path === dir || dir === "/" || path.startsWith(`${dir}/`);
}

/** `path` (within `from`) moved to the same place under `to`. */
export function rebase(path: string, from: string, to: string): string {
  const rest = from === "/" ? path : path.slice(from.length);
  if (rest === "" || rest === "/") return to;
  return to === "/" ? rest : `${to}${rest}`;
}

/**
 * A destination as a clean absolute path: repeated slashes, a trailing slash and `.` components
 * removed. `..` is refused rather than resolved: inside the jail it would walk through whatever
 * the jail shows there (a symlink in a bind, say), not what the text suggests.
 */
export function cleanDest(dest: string): string | { error: string } {
  if (!dest.startsWith("/")) return { error: `the destination must be an absolute path` };
  const parts = dest.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) {
    return { error: `the destination must not contain .. (name the directory itself)` };
  }
  return `/${parts.join("/")}`;
}

/**
 * The requests of a policy's bind lists, with `real` giving each source's resolved path (it is
 * told which bind asks, for its messages).
 *
 * @example
 * bindRequests({ readOnlyBinds: [{ source: "/a", dest: "/a" }], writableBinds: [] }, (s) => s);
 * // [{ flag: "--ro-bind", source: "/a", real: "/a", dest: "/a" }]
 */
export function bindRequests(
  binds: {
    readonly readOnlyBinds: readonly { source: string; dest: string }[];
    readonly writableBinds: readonly { source: string; dest: string }[];
  },
  real: (source: string, bind: Omit<BindRequest, "real">) => string,
): BindRequest[] {
  if (binds.readOnlyBinds.length === 0 && binds.writableBinds.length === 0) return [];
  const request = (flag: BindRequest["flag"]) => (b: { source: string; dest: string }) => {
    const bind = { flag, source: b.source, dest: b.dest };
    return { ...bind, real: real(b.source, bind) };
  };
  return [
    ...binds.readOnlyBinds.map(request("--ro-bind")),
    ...binds.writableBinds.map(request("--bind")),
  ];
}

/**
 * Whether host path `path` is writable in the jail under the rule above, or undefined when no
 * bind shows it.
 */
export function writableByRule(
  path: string,
  requests: readonly BindRequest[],
): boolean | undefined {
  let best: BindRequest | undefined;
  for (const r of requests) {
    if (!isWithin(path, r.real)) continue;
    if (
      !best || r.real.length > best.real.length ||
      (r.real === best.real && r.flag === "--ro-bind")
    ) best = r;
  }
  return best && best.flag === "--bind";
}

/**
 * The deepest of `mounts` (or bind requests) containing jail path `path`: the one a parents-first
 * order leaves on top.
 *
 * @example
 * topAt("/data/x", [{ dest: "/data" }, { dest: "/data/x" }]); // { dest: "/data/x" }
 */
export function topAt<T extends { readonly dest: string }>(
  path: string,
  mounts: readonly T[],
): T | undefined {
  let best: T | undefined;
  for (const m of mounts) {
    if (isWithin(path, m.dest) && (!best || m.dest.length > best.dest.length)) best = m;
  }
  return best;
}
