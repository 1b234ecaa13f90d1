// run/pin_binds.ts — the descriptors a jail's binds are made from and checked against: each
// bind's source, and each directory on the way to a bind in a bind, opened once with no symbolic
// link followed (bwrap and native; --jail=none binds nothing, and loads none of this).

import { closeFd } from "../ffi/fd.ts";
import { SyscallError } from "../ffi/libc.ts";
import { holdNoSymlinks, holdNoSymlinksIn } from "../ffi/open.ts";
import { outOfDescriptors } from "./out_of_descriptors.ts";
import { pinnedChain, type Waypoint } from "../jail/bind_mounts.ts";
import { BindError, osWhy } from "../core/errors.ts";
import type { Cleanups } from "./launch.ts";

/** pinBindSources of no binds. */
const NO_PINNED = { named: {}, close: () => {}, at: () => undefined } as const;

/**
 * Opens each bind's source (`source`, its host path with every symlink resolved, as the plan has
 * it) once, refusing a symbolic link anywhere on the path (ffi/open.ts holdNoSymlinks): the
 * descriptors the jail is given its binds by. A source checked by path and bound by path again
 * was bound as whatever a symbolic link swapped in for a part of it by then led to (a jail that
 * could write a bind's parent directory showed another jail the host's /etc). So are `waypoints`,
 * the directories between a bind and the bind it is in (BwrapMounts.waypoints), which the stage
 * finds on the way to it. Each host path is opened once, from its parent's descriptor when that is
 * opened too (jail/bind_mounts.ts pinnedChain); pins of one path share its descriptor. `close`
 * closes them once the stage holds its own copies; `cleanups` closes them otherwise; `at` names a
 * bind's for the checks of what the jail gets (run/ids.ts). A BindError naming the bind when one
 * cannot be opened (it changed since ww resolved it).
 */
export function pinBindSources(
  binds: readonly { readonly source: string; readonly dest: string }[],
  cleanups: Cleanups,
  waypoints: readonly Waypoint[] = [],
): {
  /**
   * The descriptors by the names the plans give them (`bind<i>`, `waypoint<i>`), for
   * fd/named.ts namedSources.
   */
  readonly named: Readonly<Record<string, number>>;
  readonly close: () => void;
  /** /proc/self/fd/N for the descriptor of host path `source` (real), while it is open. */
  readonly at: (source: string) => string | undefined;
} {
  // Most runs bind nothing: nothing to open, hold or close (issue 16: a run's garbage).
  if (binds.length === 0) return NO_PINNED;
  const held = new Map<string, number>();
  const close = cleanups.add(() => held.forEach(closeFd));
  const sources = [...binds.map((b) => b.source), ...waypoints.map((w) => w.source)];
  for (const { source, within, name } of pinnedChain(sources)) {
    try {
      const fd = within === undefined
        ? holdNoSymlinks(source)
        : holdNoSymlinksIn(held.get(within)!, name);
      held.set(source, fd);
    } catch (e) {
      if (!(e instanceof SyscallError)) throw e;
      // Out of descriptors is ww's limit, not a path that changed: said as everywhere else.
      const shortage = outOfDescriptors(e);
      if (shortage) throw shortage;
      // The bind of that path, or the first a directory of that path leads to.
      const bind = binds.find((b) => b.source === source) ??
        waypoints.find((w) => w.source === source)!.leadsTo;
      const on = bind.source === source ? "" : ` (${source} on its way)`;
      throw new BindError(
        bind.source,
        `the bind of ${bind.source}${
          bind.dest === bind.source ? "" : ` at ${bind.dest}`
        }${on}: it changed as ww opened it (${
          osWhy(e)
        }: a part of its path was replaced since ww resolved it); nothing was run`,
      );
    }
  }
  const at = (source: string) => {
    const fd = binds.some((b) => b.source === source) ? held.get(source) : undefined;
    return fd === undefined ? undefined : `/proc/self/fd/${fd}`;
  };
  const named = Object.fromEntries([
    ...binds.map((b, i) => [`bind${i}`, held.get(b.source)!]),
    ...waypoints.map((w, i) => [`waypoint${i}`, held.get(w.source)!]),
  ]);
  return { named, close, at };
}
