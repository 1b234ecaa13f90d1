// jail/bind_mounts.ts — the mounts a jail makes of its binds (jail/binds.ts: the requests, and the
// rule of which paths they make writable): bwrap's mounts in the order it must make them, parents
// first, covers included, their mount points checked, the directories between them and the pins
// the stage checks them against; the native jail's Landlock rules, or why Landlock cannot express
// the binds. Pure. Loaded only with what uses it, lazily: the launchers, --explain, auto's probe.

import {
  type BindMount,
  bindProblem,
  type BindRequest,
  bindText,
  cleanDest,
  isWithin,
  rebase,
  topAt,
  writableByRule,
} from "./binds.ts";

/**
 * The bind mounts for `requests`, parents first, or the first problem in one line. The result
 * does not depend on the order of the flags.
 *
 * @example
 * planBinds([
 *   { flag: "--bind", source: "/p", real: "/p", dest: "/data" },
 *   { flag: "--ro-bind", source: "/p/s", real: "/p/s", dest: "/s" },
 * ]);
 * // { mounts: [{ source: "/p", dest: "/data", writable: true },
 * //   { source: "/p/s", dest: "/s", writable: false },
 * //   { source: "/p/s", dest: "/data/s", writable: false }] }
 */
export function planBinds(
  requests: readonly BindRequest[],
): { mounts: BindMount[] } | { error: string; bind: string; library: string } {
  const clean: BindRequest[] = [];
  for (const r of requests) {
    const dest = cleanDest(r.dest);
    if (typeof dest !== "string") return bindProblem(r, dest.error);
    clean.push({ ...r, dest });
  }
  // Sorted first, so that which pair a message names does not depend on flag order either.
  clean.sort((a, b) => compareText(a.dest, b.dest) || compareText(a.real, b.real));
  const byDest = new Map<string, BindRequest>();
  for (const r of clean) {
    const earlier = byDest.get(r.dest);
    if (earlier && earlier.real !== r.real) {
      const why = `two different paths bound at ${r.dest} (keep one, or bind one elsewhere)`;
      return {
        error: `${bindText(earlier)} and ${bindText(r)}: ${why}`,
        bind: r.source,
        library: `${bindText(earlier, "library")} and ${bindText(r, "library")}: ${why}`,
      };
    }
    byDest.set(r.dest, r);
  }
  const mounts: BindMount[] = [...byDest.values()].map((r) => ({
    source: r.real,
    dest: r.dest,
    writable: writableByRule(r.real, clean) === true,
  }));
  const shown = (dest: string) => hostPathAt(dest, mounts);
  const candidates: BindMount[] = [];
  for (const outer of mounts) {
    for (const inner of mounts) {
      if (inner.source === outer.source || !isWithin(inner.source, outer.source)) continue;
      const dest = rebase(inner.source, outer.source, outer.dest);
      // Some other bind at that place hides what `outer` shows there; nothing to cover.
      if (byDest.has(dest) || shown(dest) !== inner.source) continue;
      if (candidates.some((c) => c.dest === dest)) continue;
      candidates.push({ source: inner.source, dest, writable: inner.writable });
    }
  }
  // A cover is needed only where the mount that would show the path gives it the wrong
  // writability; parents first, so each check sees the covers above it.
  const covers: BindMount[] = [];
  for (const c of sortParentsFirst(candidates)) {
    if (topAt(c.dest, [...mounts, ...covers])?.writable !== c.writable) covers.push(c);
  }
  return { mounts: sortParentsFirst([...mounts, ...covers]) };
}

/**
 * The host path that jail path `path` shows through `mounts` (the deepest mount containing it, as
 * a parents-first order leaves on top), or undefined when no mount contains it.
 */
export function hostPathAt(path: string, mounts: readonly BindMount[]): string | undefined {
  const top = topAt(path, mounts);
  return top && rebase(path, top.dest, top.source);
}

/**
 * `items` sorted so that every destination comes after each of its ancestors: by the number of
 * path components, and otherwise in the order given.
 */
export function sortParentsFirst<T extends { readonly dest: string }>(items: readonly T[]): T[] {
  return items
    .map((item, i) => ({ item, i, depth: item.dest.split("/").filter(Boolean).length }))
    .sort((a, b) => a.depth - b.depth || a.i - b.i)
    .map((x) => x.item);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Why a mount of `mounts` (planned, parents first) cannot be made where the plan says, or
 * undefined. A mount inside another bind lands on the host path below that bind's source, which
 * `realOf` (the host's realpath, undefined when absent) must show as an existing path without
 * symlinks: the kernel would follow a symlink there to wherever it points, past the plan, and
 * bwrap would make a missing mount point on the host (left behind) or fail on a read-only one.
 */
export function mountPointProblem(
  mounts: readonly BindMount[],
  realOf: (hostPath: string) => string | undefined,
): { why: string; bind: string } | undefined {
  for (const [i, m] of mounts.entries()) {
    const outer = topAt(m.dest, mounts.slice(0, i).filter((o) => o.dest !== m.dest));
    if (!outer) continue;
    const host = rebase(m.dest, outer.dest, outer.source);
    const real = realOf(host);
    const where = `${m.dest} (in the bind of ${outer.source} at ${outer.dest})`;
    if (real === undefined) {
      return {
        why:
          `the mount point ${where} would be made on the host as ${host}: create it first, or bind elsewhere`,
        bind: m.source,
      };
    }
    if (real !== host) {
      return {
        why:
          `the mount point ${where} goes through a symlink on the host (${host} is ${real}): bind at a path without symlinks`,
        bind: m.source,
      };
    }
  }
  return undefined;
}

/** A directory between a mount and the bind it is inside: where the jail shows it, and the host. */
export interface Waypoint {
  readonly source: string;
  readonly dest: string;
  /** The first mount it leads to, for messages. */
  readonly leadsTo: BindMount;
}

/**
 * The directories between each mount of `mounts` (planned, parents first) and the bind it is
 * inside, parents first. A mount nested in a bind is made at a path resolved through them, so a
 * jail that can write the outer bind's source can rename them while another jail is set up: the
 * mount lands in a decoy, and the directory it was meant for stays as the outer bind shows it
 * (writable, for a --ro-bind in a --bind). Each is checked, with the mounts, as what ww opened
 * (see BwrapFds.waypoints).
 *
 * @example
 * bindWaypoints([
 *   { source: "/p", dest: "/data", writable: true },
 *   { source: "/p/a/b/s", dest: "/data/a/b/s", writable: false },
 * ]);
 * // [{ source: "/p/a", dest: "/data/a", leadsTo: { source: "/p/a/b/s", ... } },
 * //  { source: "/p/a/b", dest: "/data/a/b", leadsTo: { source: "/p/a/b/s", ... } }]
 */
export function bindWaypoints(mounts: readonly BindMount[]): Waypoint[] {
  const found = new Map<string, Waypoint>();
  for (const [i, m] of mounts.entries()) {
    const outer = topAt(m.dest, mounts.slice(0, i).filter((o) => o.dest !== m.dest));
    if (!outer) continue;
    for (let dir = parentOf(m.dest); dir !== outer.dest; dir = parentOf(dir)) {
      if (found.has(dir)) continue;
      found.set(dir, { source: rebase(dir, outer.dest, outer.source), dest: dir, leadsTo: m });
    }
  }
  return sortParentsFirst([...found.values()]);
}

/** A clean absolute path's parent directory ("/" for "/" and its children). */
function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/**
 * The order to open host paths `sources` in (every symlink resolved), each once, parents first,
 * and for each whose parent directory is among them, that parent (`within`): opened from its
 * descriptor by `name`, not by its path again. The stage checks the jail's mounts against a chain:
 * the directory it finds at each place, then the one below it (stage/stage.c check_pinned). Held
 * by paths opened one after the other, two links of it could be two halves of a rename (a jail
 * that swapped P/a with a decoy had P/a's descriptor be the decoy and P/a/secrets' the real one,
 * which the read-only mount, landed in the decoy, then matched); and so could two descriptors of
 * one path (`--ro-bind P/a/s:/x` beside the cover ww mounts at /m/a/s for it in `--bind P:/m`).
 *
 * @example
 * pinnedChain(["/p/a/s", "/p", "/other", "/p/a", "/p"]);
 * // [{ source: "/p", name: "p" }, { source: "/other", name: "other" },
 * //  { source: "/p/a", within: "/p", name: "a" }, { source: "/p/a/s", within: "/p/a", name: "s" }]
 */
export function pinnedChain(
  sources: readonly string[],
): { source: string; within?: string; name: string }[] {
  const unique = sortParentsFirst([...new Set(sources)].map((dest) => ({ dest })));
  const set = new Set(sources);
  return unique.map(({ dest: source }) => {
    const name = source.slice(source.lastIndexOf("/") + 1);
    const parent = parentOf(source);
    return name !== "" && set.has(parent) ? { source, within: parent, name } : { source, name };
  });
}

/**
 * Why the native jail (Landlock) cannot express `requests`, or undefined. Landlock rights only add
 * up along a path, so a read-only path inside a writable one would be writable: refused. A path
 * bound both ways is read-only (the write rule is dropped; see nativeBindRules).
 */
export function nativeBindsProblem(
  requests: readonly BindRequest[],
): { error: string; bind: string; library: string } | undefined {
  for (const ro of requests) {
    if (ro.flag !== "--ro-bind" || writableByRule(ro.real, requests) !== false) continue;
    for (const rw of requests) {
      if (rw.flag !== "--bind" || rw.real === ro.real || !isWithin(ro.real, rw.real)) continue;
      // A --bind that lost to a --ro-bind of the same path grants nothing.
      if (writableByRule(rw.real, requests) !== true) continue;
      const words = (w: "commandLine" | "library", bwrap: string) =>
        `${bindText(ro, w)} inside ${
          bindText(rw, w)
        }: the native jail (Landlock) cannot make a path read-only inside a writable one; use ${bwrap}, or bind the writable parts one by one`;
      return {
        error: words("commandLine", "--jail=bwrap"),
        bind: ro.source,
        library: words("library", 'jail.backend "bwrap"'),
      };
    }
  }
  return undefined;
}

/**
 * The Landlock rules for binds: each real source once (`source` names one flag's path for it),
 * read-only when the rule above says so.
 */
export function nativeBindRules(
  requests: readonly BindRequest[],
): { readonly path: string; readonly source: string; readonly writable: boolean }[] {
  if (requests.length === 0) return [];
  const out: { path: string; source: string; writable: boolean }[] = [];
  for (const r of sortParentsFirst(requests.map((r) => ({ ...r, dest: r.real })))) {
    if (out.some((o) => o.path === r.real)) continue;
    out.push({
      path: r.real,
      source: r.source,
      writable: writableByRule(r.real, requests) === true,
    });
  }
  return out;
}
