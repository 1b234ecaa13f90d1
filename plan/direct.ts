// plan/direct.ts — the plan of a run with no jail (plan/run.ts): the binds it can honour, the
// grants' slots, the environment, and the exec: the program itself, or the stage executing it
// (socket activation). Pure, and light: an unjailed run loads no jail's planning code.
//
// Binds without a jail: the program sees the host as it is, so a bind of a path at its own place
// is honoured (the path is there) and one at another place cannot be (nothing moves it): refused,
// as is a missing source, in the words the jails use. A --ro-bind is not read-only (nothing
// enforces it): the plan lists those, and ww says so in its NOT-jailed warning, rather than
// refusing a command line that works as soon as a jail is chosen again.

import { bindProblem, bindRequests, bindText } from "../jail/binds.ts";
import { HOST_SOCKET_FD, layoutFds, socketActivated } from "../fd/layout.ts";
import type { RunConfig } from "../core/config.ts";
import { stageExecArgs } from "../stage/exec_args.ts";
import { childEnv } from "../core/env.ts";
import { BindError } from "../core/errors.ts";
import { DEFAULT_LIMITS, LIMIT_FLAGS, type Limits } from "../jail/policy.ts";
import type { PlanBase } from "./run.ts";

/** A run with no jail: the program is ww's child (through the stage under socket activation). */
export interface DirectRunPlan extends PlanBase {
  readonly backend: "none";
  /** Socket activation: the stage executes the program to set LISTEN_PID. */
  readonly listenPid: boolean;
  /**
   * What ww spawns: the program itself (`path`), or, under socket activation, the stage (`path`
   * undefined: the launcher gives the stage's), whose exec mode executes the program.
   */
  readonly exec: { readonly path?: string; readonly argv: readonly string[] };
  /** The sources of the --ro-bind flags: shown as they are, but not read-only. */
  readonly notReadOnly: readonly string[];
  /**
   * The flags of the identity and the limits the run sets other than the defaults (--uid,
   * --memory ...), which no jail enforces: the program runs as ww, with ww's own limits.
   * (--timeout holds: ww keeps it.)
   */
  readonly unenforcedFlags: readonly string[];
  /** What the run asks and no jail does, for the caller's warning: notReadOnly, then the flags. */
  readonly notEnforced: readonly string[];
}

/** DirectRunPlan.unenforcedFlags of `jail`. */
function unenforcedFlags(jail: RunConfig["jail"]): string[] {
  return [
    ...(jail.uid !== undefined ? ["--uid"] : []),
    ...(jail.gid !== undefined ? ["--gid"] : []),
    ...(Object.keys(LIMIT_FLAGS) as (keyof Limits)[])
      // A limit set other than the default's; one set to unlimited needs no enforcing.
      .filter((k) => jail.limits[k] !== DEFAULT_LIMITS[k] && jail.limits[k] !== undefined)
      .map((k) => LIMIT_FLAGS[k]),
  ];
}

/** What the plan of a run with no jail needs to know about the host. */
export interface DirectFacts {
  /** Whether a host path exists (symlinks followed). */
  readonly exists: (hostPath: string) => boolean;
  /** Why a host path `exists` denied is absent (run/host.ts whyAbsent). */
  readonly whyAbsent: (hostPath: string) => string;
}

/**
 * The plan of a run with no jail (see planRun) of `program` (`path`, what execve takes), or a
 * BindError for a bind it cannot honour: a missing source, or a destination other than the source.
 */
export function planDirectRun(
  config: Pick<RunConfig, "fds" | "env" | "args" | "jail">,
  program: { readonly path: string; readonly argv0: string },
  facts: DirectFacts,
): DirectRunPlan {
  checkDirectBinds(config.jail, facts);
  const slots = layoutFds(config.fds);
  const listenPid = socketActivated(slots);
  const { path, argv0 } = program;
  const notReadOnly = config.jail.readOnlyBinds.map((b) => b.source);
  const flags = unenforcedFlags(config.jail);
  return {
    backend: "none",
    slots,
    env: childEnv(config.env, slots),
    highestFd: HOST_SOCKET_FD + slots.length,
    listenPid,
    exec: listenPid
      ? {
        argv: [
          "ww-stage",
          ...stageExecArgs({
            target: path,
            pwd: config.env.PWD,
            argv0,
            args: config.args,
            listenPid,
          }),
        ],
      }
      : { path, argv: [argv0, ...config.args] },
    notReadOnly,
    unenforcedFlags: flags,
    notEnforced: [...notReadOnly.map((source) => `read-only ${source}`), ...flags],
  };
}

/** Throws a BindError for the first bind a run with no jail cannot honour. */
function checkDirectBinds(jail: RunConfig["jail"], facts: DirectFacts): void {
  for (const b of bindRequests(jail, (s) => s)) {
    if (clean(b.dest) !== clean(b.source)) {
      const why =
        `shows the host as it is and cannot show a path at another place (bind it at ${b.source}, or run in a jail:`;
      throw new BindError(
        b.source,
        `${bindText(b, "library")}: jail.backend "none" ${why} jail.backend "bwrap")`,
        { commandLine: `${bindText(b)}: --jail=none ${why} --jail=bwrap)` },
      );
    }
    if (!facts.exists(b.source)) {
      const problem = bindProblem(b, facts.whyAbsent(b.source));
      throw new BindError(b.source, problem.library, { commandLine: problem.error });
    }
  }
}

/** A path with repeated and trailing slashes and `.` components dropped. */
function clean(dest: string): string {
  return `/${dest.split("/").filter((p) => p !== "" && p !== ".").join("/")}`;
}
