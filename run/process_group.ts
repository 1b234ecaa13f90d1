// run/process_group.ts — whether ww's process group is orphaned (POSIX): none of its processes has
// a parent in another group of the same session, so no shell's job control can continue it. The
// kernel discards a SIGTSTP whose default would stop a process there, and ww, which catches
// SIGTSTP to pass it on, does the same.

/** What /proc/<pid>/stat says of a process's place among groups and sessions. */
export interface ProcessPlace {
  readonly pid: number;
  readonly ppid: number;
  readonly pgrp: number;
  readonly session: number;
}

/**
 * Whether group `pgrp` of session `session` is orphaned among `processes` (every process /proc
 * shows): no member's parent is in another group of the same session. False when it cannot be
 * told: the group or session is 0 (led from outside this pid namespace, whose shell may hold
 * it), or a member's parent is hidden (hidepid=): a stop, as the kernel's default mostly is,
 * rather than a job that runs on while its shell says "Stopped".
 *
 * @example
 * const shell = { pid: 10, ppid: 1, pgrp: 10, session: 10 };
 * const init = { pid: 1, ppid: 0, pgrp: 1, session: 1 };
 * const job = { pid: 20, ppid: 10, pgrp: 20, session: 10 };
 * isOrphanedGroup(20, 10, [init, shell, job]); // false: the shell can continue its job
 * isOrphanedGroup(20, 10, [init, { ...job, ppid: 1 }]); // true: its shell is gone
 */
export function isOrphanedGroup(
  pgrp: number,
  session: number,
  processes: readonly ProcessPlace[],
): boolean {
  if (pgrp === 0 || session === 0) return false;
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const members = processes.filter((p) => p.pgrp === pgrp);
  return members.every((p) => {
    // A parent outside this pid namespace (docker exec, a container's pid 1) is in another
    // session: no session led from inside holds it.
    if (p.ppid === 0) return true;
    const parent = byPid.get(p.ppid);
    return parent !== undefined && (parent.pgrp === pgrp || parent.session !== session);
  });
}

/**
 * A /proc/<pid>/stat line's place, and the process's state ("T": stopped by a signal), or
 * undefined when it is not one. The name, in parentheses, may hold anything: the fields after its
 * last ")" are the state, ppid, pgrp and session.
 *
 * @example
 * parseStatPlace("42 (a) b) S 1 42 40 0"); // { pid: 42, ppid: 1, pgrp: 42, session: 40, state: "S" }
 */
export function parseStatPlace(
  stat: string,
): ProcessPlace & { readonly state: string } | undefined {
  const end = stat.lastIndexOf(")");
  if (end === -1) return undefined;
  const [state, ...fields] = stat.slice(end + 2).split(" ");
  const [ppid, pgrp, session] = fields.map(Number);
  const pid = Number.parseInt(stat, 10);
  if (![pid, ppid, pgrp, session].every(Number.isInteger)) return undefined;
  return { pid, ppid, pgrp, session, state };
}

/** Whether this process's group is orphaned (isOrphanedGroup), from /proc; false without /proc. */
export function ownGroupOrphaned(): boolean {
  const places: ProcessPlace[] = [];
  try {
    for (const entry of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      try {
        const place = parseStatPlace(Deno.readTextFileSync(`/proc/${entry.name}/stat`));
        if (place) places.push(place);
      } catch { /* it ended meanwhile */ }
    }
  } catch {
    return false; // no /proc: stop, as the kernel's default would mostly do
  }
  // As this /proc's pid namespace numbers it, which need not be Deno.pid's.
  let own: ProcessPlace | undefined;
  try {
    own = parseStatPlace(Deno.readTextFileSync("/proc/thread-self/stat"));
  } catch {
    return false;
  }
  return own !== undefined && isOrphanedGroup(own.pgrp, own.session, places);
}
