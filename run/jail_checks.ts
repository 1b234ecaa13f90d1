// run/jail_checks.ts — what a jailed run refuses before it starts anything, in one order for the
// launchers (run/launch_bwrap.ts, run/launch_native.ts) and --explain (run/explain_program.ts),
// so that --explain refuses with the run's own line: the jail's host user must reach the program
// and every bind (run/ids.ts), then the limits must let the jail start (run/limits.ts).

import type { RunConfig } from "../core/config.ts";
import { checkJailAccess, type HostUser } from "./ids.ts";
import { checkLimits } from "./limits.ts";

/**
 * Throws the first reason the jail could not start: `jailUser` (when ww sets one) cannot reach
 * `program` (a local program's path; undefined for one held by a descriptor) or a bind, or
 * `config`'s limits do not fit a `backend` run holding descriptors up to `highestFd`.
 */
export function checkJailStart(o: {
  readonly config: RunConfig;
  readonly backend: "bwrap" | "native";
  readonly jailUser: HostUser | undefined;
  readonly leased: boolean;
  readonly program: string | undefined;
  readonly highestFd: number;
}): void {
  const { jail } = o.config;
  if (o.jailUser) {
    checkJailAccess(o.jailUser, o.leased, o.program, {
      readOnly: jail.readOnlyBinds.map((b) => b.source),
      writable: jail.writableBinds.map((b) => b.source),
    });
  }
  checkLimits(jail.limits, { backend: o.backend, highestFd: o.highestFd });
}
