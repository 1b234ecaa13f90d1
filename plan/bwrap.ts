// plan/bwrap.ts — the plan of a run under bubblewrap (plan/run.ts): the stage's descriptors by
// name, the host identity, how a held program enters the jail, the mounts, bwrap's argv and the
// stage's plan that starts it. Pure.

import { HOST_SOCKET_FD, layoutFds, socketActivated } from "../fd/layout.ts";
import { allocateFds } from "../fd/named.ts";
import { bindProblem, type BindRequest, bindRequests, isWithin } from "../jail/binds.ts";
import {
  boundedTmpfs,
  bwrapArgs,
  bwrapChdirProblem,
  type BwrapHeld,
  bwrapHostPath,
  type BwrapMounts,
  bwrapStagePlan,
  planBwrapMounts,
  tmpfsFiles,
} from "../jail/bwrap.ts";
import type { HostFiles } from "../jail/system_files.ts";
import { placeHeld } from "../jail/held.ts";
import { jailHostIds } from "../jail/ids.ts";
import type { StagePlan } from "../stage/plan.ts";
import { childEnv } from "../core/env.ts";
import { BindError, CwdError, UsageError } from "../core/errors.ts";
import type { BwrapFacts, PlanBase, RunFacts } from "./run.ts";

/**
 * `dir` as the system's own links (host.system's symlinks, /bin -> usr/bin) lead it: where the
 * jail shows it, as on the host.
 *
 * @example
 * throughSystemLinks("/bin/x", host); // "/usr/bin/x" (host.system has /bin -> usr/bin)
 */
export function throughSystemLinks(dir: string, host: HostFiles): string {
  for (const e of host.system) {
    if (e.kind !== "symlink" || !isWithin(dir, e.path)) continue;
    const target = e.target.startsWith("/") ? e.target : `/${e.target}`;
    return `${target}${dir.slice(e.path.length)}`;
  }
  return dir;
}

/** A run under bubblewrap, started by the stage (stage/plan.ts), which stays as supervisor. */
export interface BwrapRunPlan extends PlanBase {
  readonly backend: "bwrap";
  /** The stage's extra descriptors after the grants, by name (see bwrapFds). */
  readonly fds: ReturnType<typeof bwrapFds>;
  /** The host uid/gid bwrap runs as when ww is root (jail/ids.ts jailHostIds). */
  readonly dropTo?: { readonly uid: number; readonly gid: number };
  readonly host: HostFiles;
  /** The user's binds, each source resolved once (its real path), as the mounts were planned. */
  readonly bindRequests: readonly BindRequest[];
  readonly mounts: BwrapMounts;
  /** How a held program enters the jail (jail/held.ts placeHeld). */
  readonly held?: BwrapHeld;
  /** bwrap's path and arguments. */
  readonly argv: readonly string[];
  /** What the stage does: the limits, the identity, then bwrap. */
  readonly stage: StagePlan;
}

/**
 * The descriptors of the stage that starts bwrap, after the program's (0-3, the grants), by name:
 * bwrap's seccomp program, its status pipe, the stage's bytes that bwrap shows in the jail, the
 * held program when there is one, the program's stderr, which bwrap passes to the stage in the
 * jail (its own fd 2 is a pipe to ww: see stageExecArgs' `report`), and the source of each of the
 * `binds` mounts (BwrapMounts.binds), `bind<i>` (see BwrapFds.binds), and of each of its
 * `waypoints` directories, `waypoint<i>` (see BwrapFds.waypoints), and with `tmpfs` (--tmp-size)
 * the stage's end of the socket to the bounder (BwrapFds.tmpfs); then the stage's own plan and
 * status pipe, the jail's id lease when ww leased one (StagePlan.leaseFd), and the bounder's end
 * of that socket (StagePlan.tmpfs), which bwrap does not get.
 *
 * @example
 * bwrapFds(0, false, false, 1, 0, false);
 * // { seccomp: 4, status: 5, stage: 6, programStderr: 7, bind0: 8, plan: 9, stageStatus: 10 }
 */
export function bwrapFds(
  grants: number,
  held: boolean,
  leased: boolean,
  binds: number,
  waypoints: number,
  tmpfs: boolean,
) {
  return allocateFds(HOST_SOCKET_FD + 1 + grants, [
    "seccomp",
    "status",
    "stage",
    { name: "held", present: held },
    "programStderr",
    ...Array.from({ length: binds }, (_, i) => `bind${i}` as const),
    ...Array.from({ length: waypoints }, (_, i) => `waypoint${i}` as const),
    { name: "tmpfs", present: tmpfs },
    "plan",
    "stageStatus",
    { name: "lease", present: leased },
    { name: "tmpfsBounder", present: tmpfs },
  ]);
}

/** The plan of a run under bubblewrap (see planRun). */
export function planBwrapRun(facts: RunFacts): BwrapRunPlan {
  const { config, program } = facts;
  const slots = layoutFds(config.fds);
  const env = childEnv(config.env, slots);
  const b = facts.bwrap;
  if (!b) throw new Error("planRun: bwrap's facts are missing (internal)");
  const dropTo = jailHostIds(config.jail, facts.wwUid === 0, facts.leased);
  const how = program.held && placeHeld("bwrap", program.held, dropTo !== undefined).how;
  const base = {
    policy: config.jail,
    host: b.host,
    programPath: program.path,
    argv0: program.argv0,
    // A guest's held program has a source: where a bind shows it (checked against the binds);
    // one from IPFS has none.
    programSource: program.source ?? "",
    args: config.args,
    workdir: facts.workdir,
    userPwd: config.env.PWD,
    listenPid: socketActivated(slots),
    ...(facts.controllingTerminal ? { tty: true } : {}),
  };
  // Where the program goes depends on how it is held, not on its descriptor's number.
  const { requests, mounts } = bwrapMounts(
    { ...base, ...(how ? { held: { fd: -1, how } } : {}) },
    b,
  );
  // The tmpfs mounts whose files the supervisor's bounder bounds, from inside the jail's namespaces.
  const tmpfs = boundedTmpfs(config.jail, mounts);
  const fds = bwrapFds(
    slots.length,
    program.held !== undefined,
    facts.leased !== undefined,
    mounts.binds.length,
    mounts.waypoints.length,
    tmpfs.length > 0,
  );
  // Allocated exactly when there is a held program.
  const held: BwrapHeld | undefined = how && { fd: fds.held!, how };
  const binds = mounts.binds.map((_, i) => fds[`bind${i}`]);
  const waypoints = mounts.waypoints.map((_, i) => fds[`waypoint${i}`]);
  const input = { ...base, ...(held ? { held } : {}), fds: { ...fds, binds, waypoints }, mounts };
  const argv = [b.path, ...bwrapArgs(input)];
  return {
    backend: "bwrap",
    slots,
    env,
    // The stage's own plan and status are closed on exec: bwrap's last descriptor is below them.
    highestFd: fds.plan - 1,
    fds,
    ...(dropTo ? { dropTo } : {}),
    host: b.host,
    bindRequests: requests,
    mounts,
    ...(held ? { held } : {}),
    argv,
    stage: {
      ...bwrapStagePlan({
        limits: config.jail.limits,
        dropTo,
        bwrapArgv: argv,
        env,
        parentPid: facts.wwPid,
        closeOnExecFrom: fds.plan,
      }),
      ...(fds.lease !== undefined ? { leaseFd: fds.lease } : {}),
      ...(fds.tmpfsBounder !== undefined
        ? {
          tmpfs: {
            fd: fds.tmpfsBounder,
            files: tmpfsFiles(config.jail.limits.tmpBytes!),
            paths: tmpfs,
          },
        }
        : {}),
    },
  };
}

/**
 * The user's binds (`requests`, each source resolved to its real path once) placed among ww's
 * mounts (planBwrapMounts); a BindError naming the bind when they cannot be, a CwdError for a
 * --chdir the jail does not show. Every source must exist.
 */
function bwrapMounts(
  input: Parameters<typeof planBwrapMounts>[1] & Pick<Parameters<typeof bwrapArgs>[0], "policy">,
  b: BwrapFacts,
): { requests: BindRequest[]; mounts: BwrapMounts } {
  const requests = bindRequests(input.policy, (source, bind) => {
    const real = b.bindSource(source);
    if (typeof real !== "string") {
      const problem = bindProblem(bind, real?.why ?? b.whyAbsent(source));
      throw new BindError(source, problem.library, { commandLine: problem.error });
    }
    return real;
  });
  const mounts = planBwrapMounts(requests, { ...input, realOf: b.realOf, linksOn: b.linksOn });
  if ("error" in mounts) {
    throw mounts.bind === undefined
      ? new UsageError(mounts.error)
      : new BindError(mounts.bind, mounts.library ?? mounts.error, { commandLine: mounts.error });
  }
  const { chdir } = input.policy;
  if (chdir === undefined) return { requests, mounts };
  // The system's own links (/bin -> usr/bin) lead where the jail shows them too: --chdir /bin was
  // "not shown".
  const dir = throughSystemLinks(chdir, input.host);
  const problem = bwrapChdirProblem(dir, input.host, mounts);
  if (problem) {
    // Not shown, and no directory on this machine either: what it is, not a bind, is the fix.
    // (The jail's own /tmp and work directory keep their own words for a path missing here; a
    // file there is no directory to bind either: binding it, as they advise, met "not a
    // directory" next.)
    const here = problem.reason === "notShown" || b.realOf(chdir) !== undefined;
    const hostProblem = here ? b.dirProblem(chdir) : undefined;
    if (hostProblem) throw CwdError.because(chdir, hostProblem);
    throw new CwdError(chdir, problem.library, { commandLine: problem.commandLine });
  }
  // bwrap would say it cannot chdir, and ww that the jail failed: one line, naming both paths.
  const hostPath = bwrapHostPath(dir, input.host, mounts);
  const hostProblem = hostPath === undefined ? undefined : b.dirProblem(hostPath);
  if (hostProblem) {
    throw CwdError.because(
      chdir,
      hostPath === chdir ? hostProblem : `${hostProblem} (the jail shows ${hostPath} there)`,
    );
  }
  return { requests, mounts };
}
