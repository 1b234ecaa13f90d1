// run/limits.ts — gathers the facts jail/limits.ts checks a run's limits against (ww's own hard
// limits, fs.nr_open, CAP_SYS_RESOURCE) and counts a uid's processes when a jail failed to
// start or ww could not spawn (EAGAIN). getrlimit(2) and two small file reads; nothing is spawned.

import {
  type LaunchShape,
  type LimitFacts,
  limitsFailure,
  nprocShortfall,
  nprocSpent,
  spawnWithoutProcesses,
} from "../jail/limits.ts";
import type { Limits } from "../jail/policy.ts";
import { LimitError, SetupError } from "../core/errors.ts";
import { hasCapability, readText } from "./host.ts";
import { hardLimitsNow, softLimitsNow } from "../ffi/rlimit.ts";

const CAP_SYS_RESOURCE = 24n;
const CAP_SYS_ADMIN = 21n;

/** Throws a LimitError naming the limit when `limits` cannot work for `launch` here. */
export function checkLimits(limits: Limits, launch: LaunchShape): void {
  const facts = limitFacts();
  const failure = limitsFailure(limits, launch, facts, "library");
  if (!failure) return;
  throw new LimitError(failure.limit, failure.value, failure.line, {
    commandLine: limitsFailure(limits, launch, facts, "commandLine")?.line,
  });
}

/** ww's hard limits, fs.nr_open, and whether ww may raise them. */
export function limitFacts(): LimitFacts {
  return {
    hard: hardLimitsNow(),
    nrOpen: Number(readText("/proc/sys/fs/nr_open")?.trim() ?? 1048576),
    canRaise: hasCapability(CAP_SYS_RESOURCE),
  };
}

/**
 * The LimitError for a bwrap jail of host uid `uid` whose processes and threads, counted now, leave
 * `processes` (--nproc) too few for bwrap, the jail's pid 1 and the program (jail/limits.ts
 * nprocShortfall); undefined when they do not, or no limit is set. What a run says once bwrap
 * failed to fork (launch_bwrap.ts), and --explain before.
 */
export function nprocRefusal(processes: number | undefined, uid: number): LimitError | undefined {
  if (processes === undefined) return undefined;
  const running = processesOf(uid);
  const hard = nprocHard();
  const why = nprocShortfall(processes, uid, running, "library", hard);
  if (why === undefined) return undefined;
  return new LimitError("processes", processes, why, {
    commandLine: nprocShortfall(processes, uid, running, "commandLine", hard),
  });
}

/**
 * The LimitError for a native jail of host uid `uid` whose program could not start for want of
 * processes (the stage's fork or execve failed with EAGAIN): that uid already runs `processes`
 * (--nproc) processes or threads (jail/limits.ts nprocSpent).
 */
export function nprocSpentError(processes: number, uid: number): LimitError {
  // The kernel counted at least `processes`; some may have ended since.
  const running = Math.max(processesOf(uid), processes);
  const hard = nprocHard();
  return new LimitError(
    "processes",
    processes,
    nprocSpent(processes, uid, running, "library", hard),
    { commandLine: nprocSpent(processes, uid, running, "commandLine", hard) },
  );
}

/**
 * The SetupError for ww's own posix_spawn of `program` (its argv[0]) that failed with EAGAIN: for
 * want of processes under ww's RLIMIT_NPROC, or the machine's (jail/limits.ts
 * spawnWithoutProcesses). Counts ww's uid's processes, only after the failure.
 */
export function spawnWithoutProcessesError(program: string): SetupError {
  const uid = Deno.uid() ?? 0;
  const exempt = uid === 0 || hasCapability(CAP_SYS_RESOURCE) || hasCapability(CAP_SYS_ADMIN);
  return new SetupError(
    spawnWithoutProcesses(program, uid, processesOf(uid), softLimitsNow().nproc, exempt),
  );
}

/** ww's hard RLIMIT_NPROC, when ww may not raise it: no --nproc above it can be given. */
function nprocHard(): number | undefined {
  const facts = limitFacts();
  return facts.canRaise ? undefined : facts.hard.nproc;
}

/**
 * How many processes and threads run with real uid `uid` now: what RLIMIT_NPROC counts. Only read
 * after a jail failed to start, and by a bwrap run's --explain (it walks /proc).
 */
function processesOf(uid: number): number {
  let n = 0;
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const status = readText(`/proc/${e.name}/status`);
    if (status === undefined) continue; // gone meanwhile
    if (Number(/^Uid:\s*(\d+)/m.exec(status)?.[1]) !== uid) continue;
    n += Number(/^Threads:\s*(\d+)/m.exec(status)?.[1] ?? 1);
  }
  return n;
}
