// run/explain_program.ts — `ww run --explain`: what startProgram would do with a config, computed
// by the same plan (plan/run.ts) from the same facts (run/facts.ts), without running anything; for an /ipns/ name, also what it resolves to now
// and why ww believes it (the node is asked for the name's record, nothing else). Loaded only for
// --explain.

import { checkOwnGrantPaths } from "./own_grants.ts";
import { hostSocketFd, layoutFds } from "../fd/layout.ts";
import { describeOwnGrant, ownFdGrant } from "../fd/grants.ts";
import { cachedProgram } from "../ipfs/fetch.ts";
import { resolveIpnsName } from "../ipfs/ipns.ts";
import { DEFAULT_IPFS_TIMEOUT_MS } from "../ipfs/multiaddr.ts";
import { IpfsNode } from "../ipfs/node.ts";
import { parseCid } from "../ipfs/block.ts";
import { formatIpfsPath, isIpfsPath, parseIpfsPath } from "../core/ipfs_path.ts";
import type { RunConfig } from "../core/config.ts";
import { UsageError } from "../core/errors.ts";
import { planRun } from "../plan/run.ts";
import { jailChoice } from "./auto.ts";
import { explainRun } from "./explain.ts";
import { bwrapFacts, directFacts, runFacts } from "./facts.ts";
import { jailIdRange, peekJailId } from "./ids.ts";
import { checkJailStart } from "./jail_checks.ts";
import { ipfsJailPath, isScript } from "./launch.ts";
import { callerEnvironment } from "./caller_env.ts";
import { closeFd } from "../ffi/fd.ts";
import { checkChdirExists, checkDirectChdir } from "./launch_direct.ts";
import { nativeFacts } from "./native.ts";
import { runProgramPath } from "./resolve.ts";
import { checkNotUnderProc, checkProgramFile, type Interpreter } from "./script.ts";
import { checkGrantsOpen, checkRunConfig, type StartConfig, withRunDefaults } from "./start.ts";
import { workTmpdir } from "./tmpdir.ts";
import { softLimitsNow } from "../ffi/rlimit.ts";
import { nprocRefusal } from "./limits.ts";

/**
 * For an /ipns/ program, what its name resolves to now and why that is believed, as lines for
 * --explain (after the program's); nothing for other programs. Resolving asks the node for the
 * name's record (or DNS for a domain) and fetches nothing else; a name ww would refuse is the same
 * one-line error (exit 125) as for a run.
 */
export async function explainName(config: RunConfig): Promise<string[]> {
  const parsed = parseIpfsPath(config.program);
  if (!isIpfsPath(config.program) || "error" in parsed || parsed.namespace !== "ipns") return [];
  // Where the address came from, as a run says it (--ipfs, WW_IPFS, $IPFS_PATH/api, default).
  const node = new IpfsNode(
    config.ipfsApi,
    config.ipfsTimeoutMs ?? DEFAULT_IPFS_TIMEOUT_MS,
    config.program,
    undefined,
    config.ipfsApiOrigin,
  );
  try {
    const { path, why } = await resolveIpnsName(node, parsed.root, config.program, {
      trustNode: config.trustNodeIpns,
    });
    const target = parseIpfsPath(path);
    const full = "error" in target
      ? path
      : formatIpfsPath({ ...target, segments: [...target.segments, ...parsed.segments] });
    return [`resolves to: ${full}`, ...why.map((line) => `  ${line}`)];
  } finally {
    node.close();
  }
}

/**
 * What a run of a RunConfig would do, as explainProgram finds it; nothing of it is run.
 *
 * @example
 * ```ts ignore
 * const { jail, fds, env } = await explainProgram({ program: "/usr/bin/env", env: { A: "1" } });
 * jail.backend; // "bwrap" where bubblewrap works (auto)
 * fds; // [{ fd: 3, name: "host" }]
 * env; // { A: "1" }
 * ```
 */
export interface ExplainedRun {
  /** The backend the run would take (auto's choice, or the one asked for), and why. */
  readonly jail: { readonly backend: "bwrap" | "native" | "none"; readonly reason: string };
  /** The program as the run finds it: its path, or its IPFS path. */
  readonly program: string;
  /**
   * The program's descriptors beyond 0-2: each grant's fd and its variable (WW_FD_<NAME>), and
   * the host socket (`name` "host", fd 3 unless socket activation puts listeners first).
   */
  readonly fds: readonly { readonly fd: number; readonly name: string }[];
  /** The program's whole environment. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * What ww starts, as argv: bubblewrap's command line under bwrap; the program's under native
   * and none (what its stage, or posix_spawn, executes).
   */
  readonly command: readonly string[];
  /** All of it in words, as `ww run --explain` prints it. */
  readonly lines: readonly string[];
}

/**
 * What startProgram would do with `config`, as data and in words (`ww run --explain`); runs
 * nothing. The work directory's name is shown as a pattern, since it is only made when the
 * program starts.
 *
 * @example
 * ```ts ignore
 * // Only the program is needed, as for startProgram: the rest has its defaults.
 * const run = await explainProgram({ program: "/bin/true", jail: { ...DEFAULT_POLICY, backend: "bwrap" } });
 * run.command[0]; // "/usr/bin/bwrap"
 * run.fds; // [{ fd: 3, name: "host" }]
 * ```
 */
export async function explainProgram(input: StartConfig): Promise<ExplainedRun> {
  const config = withRunDefaults(input);
  checkRunConfig(config);
  // What a run refuses before it starts anything, --explain refuses alike (same line, same code).
  checkGrantsOpen(config.fds);
  const own = config.own ?? [];
  const ipfs = isIpfsPath(config.program);
  const path = ipfs ? ipfsJailPath(config.program) : runProgramPath(config);
  // A run refuses an /ipfs/ root that is no CID before it asks the node anything.
  const parsedPath = ipfs ? parseIpfsPath(config.program) : undefined;
  if (parsedPath && !("error" in parsedPath) && parsedPath.namespace === "ipfs") {
    const root = parseCid(parsedPath.root);
    if ("error" in root) throw new UsageError(`${config.program}: ${root.error}`);
  }
  // As a run resolves them before it opens them: a link ww does not follow is refused alike.
  checkOwnGrantPaths(own);
  // ww's own grants are laid out by name alone: their descriptors do not exist yet (nothing is
  // opened to explain a run), so -1 stands in.
  const grants = [
    ...config.fds,
    ...own.map((g) => ownFdGrant(g, -1, config.socketActivation ?? false)),
  ];
  const slots = layoutFds(grants).map((s) => {
    const g = s.own ? own.find((o) => o.name === s.name) : undefined;
    return g ? { ...s, what: describeOwnGrant(g) } : s;
  });
  const choice = await jailChoice(config.jail);
  let interpreters: readonly Interpreter[] = [];
  let script = false;
  if (!ipfs) {
    checkNotUnderProc(config.program, path);
    interpreters = checkProgramFile(config.program, path, choice.backend, config.jail);
  } else {
    // A program the cache holds is checked as a run checks it, from its descriptor: a #! line
    // whose interpreter the jail lacks is refused alike (it exited 0 here, 127 in the run). One
    // not cached is not fetched: its checks wait for the run.
    const cached = await cachedProgram(config.program, { callerEnv: callerEnvironment() });
    if (cached) {
      try {
        const file = `/proc/self/fd/${cached.fd}`;
        interpreters = checkProgramFile(config.program, file, choice.backend, config.jail);
        script = isScript(cached.fd);
      } finally {
        closeFd(cached.fd);
      }
    }
  }
  // The host id a run would lease now (ww is root), shown without taking it.
  const leased = choice.backend !== "none" ? peekJailId(config.jail) : undefined;
  const hostIds = leased === undefined
    ? undefined
    : { leased, range: jailIdRange().range, fromEnv: jailIdRange().fromEnv };
  // The same plan a run computes, from the same facts (run/facts.ts). A program from IPFS is shown
  // as a cold run has it: a sealed memfd (a #! script when the cache holds one), argv[0] the
  // path's last segment.
  const facts = runFacts({
    config: { ...config, fds: grants },
    choice,
    program: ipfs
      ? {
        path,
        argv0: path.slice(path.lastIndexOf("/") + 1),
        held: { sealed: true, script },
      }
      : { path, argv0: config.program },
    leased,
    workdir: `${workTmpdir().replace(/\/$/, "")}/ww-XXXXXX`,
    // A terminal of its own (--tty) becomes the program's controlling terminal, as in a run.
    controllingTerminal: config.tty === true,
  });
  // As the native launcher does, before its plan: a --chdir that is nowhere is said so.
  if (choice.backend === "native") checkChdirExists(config.jail.chdir);
  const plan = planRun({
    ...facts,
    ...(choice.backend === "bwrap" ? { bwrap: bwrapFacts(config) } : {}),
    ...(choice.backend === "none" ? { direct: directFacts() } : {}),
    ...(choice.backend === "native"
      ? { native: nativeFacts(config.jail, ipfs ? undefined : facts.program.source) }
      : {}),
  });
  const { env } = plan;
  if (plan.backend !== "none") {
    checkJailStart({
      config,
      backend: plan.backend,
      // --explain runs nothing: the program's stdio would be ww's own.
      stdio: [0, 1, 2],
      ...(plan.backend === "bwrap" ? { bwrapArgv: plan.argv } : {}),
      identity: plan.stage.identity,
      leased,
      program: ipfs ? undefined : path,
      interpreters,
      highestFd: plan.highestFd,
      binds: plan.bindRequests,
    });
  }
  // A run under bwrap learns of a --nproc its uid's processes leave too little of only when bwrap
  // fails to fork (launch_bwrap.ts jailFailed), which --explain never meets: the same rule, here.
  if (plan.backend === "bwrap") {
    const nproc = nprocRefusal(config.jail.limits.processes, plan.dropTo?.uid ?? Deno.uid() ?? 0);
    if (nproc) throw nproc;
  }
  const explained = (command: readonly string[], lines: readonly string[]): ExplainedRun => ({
    jail: { backend: choice.backend, reason: choice.reason },
    program: path,
    fds: [
      { fd: hostSocketFd(slots), name: "host" },
      ...slots.map((s) => ({ fd: s.target, name: s.envVar })),
    ].sort((a, b) => a.fd - b.fd),
    env: Object.fromEntries(
      env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
    ),
    command,
    lines,
  });
  // What every backend's explanation takes: the run, and ww's own limits, which the program keeps
  // for each limit the run leaves unset.
  const common = { config, path, slots, env, choice, ownLimits: softLimitsNow() };
  if (plan.backend === "native") {
    const limitUid = plan.native.plan.identity?.uid ?? Deno.uid() ?? 0;
    return explained(
      plan.native.plan.argv,
      explainRun({ ...common, native: plan.native, limitUid, hostIds }),
    );
  }
  if (plan.backend === "none") {
    checkDirectChdir(config.jail.chdir);
    const direct = { exec: plan.exec, unenforcedFlags: plan.unenforcedFlags };
    return explained(plan.exec.argv, explainRun({ ...common, direct, limitUid: Deno.uid() ?? 0 }));
  }
  const { host, argv, mounts, dropTo, held } = plan;
  return explained(
    argv,
    explainRun({
      ...common,
      bwrap: { host, argv, mounts, dropTo, ...(held ? { held } : {}) },
      limitUid: dropTo?.uid ?? Deno.uid() ?? 0,
      hostIds,
    }),
  );
}
