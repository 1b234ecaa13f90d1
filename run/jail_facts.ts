// run/jail_facts.ts — what a jailed launch (run/launch_bwrap.ts, run/launch_native.ts) starts
// from: the jail's host id, leased, and the run's facts for its plan.

import { runFacts } from "./facts.ts";
import { type JailLease, leaseJailId } from "./ids.ts";
import { launchedProgram, type LaunchRequest, workdirPath } from "./launch.ts";
import type { RunFacts } from "../plan/run.ts";

/**
 * The lease and the facts of a jailed run of `request`. When ww is root the jail runs as a host
 * uid of its own, leased until the jail has ended, or the id of the jail that starts this one
 * (--with-exec), shared until both have ended. The work directory is the jail's to make (bwrap
 * in its own tmpfs; the native stage in TMPDIR, once it knows ww is alive, and removed when
 * everything has ended), so its path cannot collide with another run's.
 */
export function jailedRun(request: LaunchRequest): {
  readonly lease: JailLease | undefined;
  readonly facts: RunFacts;
} {
  const { config, program, cleanups, choice, terminal, sharedLease } = request;
  const lease = sharedLease?.share(cleanups) ?? leaseJailId(config.jail, cleanups);
  const facts = runFacts({
    config,
    choice,
    program: launchedProgram(program),
    leased: lease?.id,
    workdir: workdirPath(),
    controllingTerminal: terminal?.controlling === true,
  });
  return { lease, facts };
}
