// run/launch_native.ts — `--jail=native`: the program is started by the stage (stage/stage.c),
// whose child confines itself (Landlock, seccomp, no_new_privs, identity, limits) and executes
// the program, while the stage stays behind as its supervisor: a subreaper that ends every
// descendant and removes the work directory when the program ends or ww dies. A program from
// IPFS (any held program) is handed to the stage as a descriptor, which it executes (execveat).

import { childFdSources, HOST_SOCKET_FD, layoutFds, socketActivated } from "../fd/layout.ts";
import { allocateFds, namedSources } from "../fd/named.ts";
import { planChildFds } from "../fd/plan.ts";
import { closeFd, pipe } from "../ffi/fd.ts";
import { killPid, waitPid } from "../ffi/process.ts";
import type { OpGroup } from "../ffi/ops.ts";
import { FdStream } from "../ffi/stream.ts";
import type { BackendChoice } from "../jail/auto.ts";
import type { HeldProgram } from "../jail/held.ts";
import { nativePlan, type NativePlanResult } from "../jail/native.ts";
import { nativeStagePlan } from "../jail/native_stage.ts";
import { encodeStagePlan } from "../stage/plan.ts";
import type { RunConfig } from "../core/config.ts";
import { childEnv } from "../core/env.ts";
import { BindError, CwdError, SetupError } from "../core/errors.ts";
import { checkJailAccess, leaseJailId } from "./ids.ts";
import {
  type ChildFds,
  type Cleanups,
  type Launched,
  type Program,
  reopenHeld,
  spawnMapped,
  workdirPath,
} from "./launch.ts";
import { nativeFacts } from "./native.ts";
import {
  END_ALL_SIGNAL,
  planDescriptor,
  readStageReports,
  stageExecutable,
  stageFailure,
} from "./stage.ts";
import { signalName, SIGNALS } from "./signals.ts";
import { programPidInJail } from "./procfs.ts";
import { checkLimits } from "./limits.ts";
import type { ProgramTerminal } from "./tty.ts";

/** The program as the native jail takes it. */
export interface NativeProgram {
  /** The path execve takes; for a held program, the name messages show. */
  readonly path: string;
  readonly argv0: string;
  /** A held program, executed from its descriptor: a sealed memfd or a file on disk. */
  readonly held?: Pick<HeldProgram, "sealed" | "script">;
}

/**
 * The stage's descriptors after the program's (0-3, the grants), by name: the held program when
 * there is one, then the plan and the status pipe. The program's comes first so that a #! script,
 * which keeps it, has it right after its grants.
 */
function stageFds(grants: number, held: boolean) {
  return allocateFds(HOST_SOCKET_FD + 1 + grants, [
    ...(held ? ["held"] as const : []),
    "plan",
    "status",
  ]);
}

/** The native jail's plan for a run, or a SetupError saying why there can be none. */
export function planNative(
  config: RunConfig,
  program: NativeProgram,
  workdir: string,
  choice: BackendChoice,
  leasedId: number | undefined,
): NativePlanResult {
  const slots = layoutFds(config.fds);
  const programSource = program.held ? undefined : Deno.realPathSync(program.path);
  const fds = stageFds(slots.length, program.held !== undefined);
  const result = nativePlan({
    policy: config.jail,
    programPath: program.path,
    programSource,
    ...(program.held
      ? { held: { fd: fds.held, sealed: program.held.sealed, script: program.held.script } }
      : {}),
    argv: [program.argv0, ...config.args],
    env: childEnv(config.env, slots),
    workdir,
    facts: nativeFacts(config.jail, programSource),
    statusFd: fds.status,
    closeOnExecFrom: HOST_SOCKET_FD + 1 + slots.length,
    leasedId,
  });
  if ("error" in result) {
    // Under --jail=auto the user did not ask for the native jail: say why it was chosen.
    const auto = (line: string) =>
      config.jail.backend === "auto" ? `${line} (${choice.reason})` : line;
    const options = { commandLine: auto(result.error) };
    const library = auto(result.library ?? result.error);
    if (result.cwd !== undefined) throw new CwdError(result.cwd, library, options);
    if (result.bind !== undefined) throw new BindError(result.bind, library, options);
    throw new SetupError(library, options);
  }
  return result;
}

/**
 * Runs the program in the native jail: spawns the stage with the program's descriptors in place
 * plus its plan and a status pipe, and waits until the stage reports that it executes the
 * program, or why not. ww's child is the stage's supervisor: ww signals the program
 * through it, and reaps it when the program and every descendant are gone.
 */
export async function launchNative(
  config: RunConfig,
  program: Program,
  childFds: ChildFds,
  cleanups: Cleanups,
  choice: BackendChoice,
  ops?: OpGroup,
  terminal?: ProgramTerminal,
): Promise<Launched> {
  const { held } = program;
  const slots = layoutFds(config.fds);
  const script = held?.script ?? false;
  // A held #! script keeps its descriptor, the first after the grants.
  checkLimits(config.jail.limits, {
    backend: "native",
    highestFd: HOST_SOCKET_FD + slots.length + (script ? 1 : 0),
  });
  // The stage makes it, once it knows ww is alive, and removes it when everything has ended.
  const workdir = workdirPath();
  // When ww is root the program runs as a host uid of its own, leased until the run's clean-ups.
  const leased = leaseJailId(config.jail, cleanups);
  const native = planNative(
    config,
    held ? { path: held.jailPath, argv0: program.argv0, held } : program,
    workdir,
    choice,
    leased,
  );
  const { plan } = native;
  if (plan.identity) {
    checkJailAccess(plan.identity, leased !== undefined, held ? undefined : program.path, {
      readOnly: config.jail.readOnlyBinds.map((b) => b.source),
      writable: config.jail.writableBinds.map((b) => b.source),
    });
  }
  const stagePath = stageExecutable();
  // Socket activation: the stage sets LISTEN_PID as it executes the program.
  const listenPid = socketActivated(slots);
  const planRead = planDescriptor(encodeStagePlan({
    ...nativeStagePlan(plan, workdir),
    ...(listenPid ? { listenPid } : {}),
    ...(terminal?.controlling ? { controllingTerminal: true } : {}),
  }));
  const closePlanRead = cleanups.add(() => closeFd(planRead));
  const [statusRead, statusWrite] = pipe();
  const statusStream = new FdStream(statusRead);
  cleanups.add(() => statusStream.close());
  const closeStatusWrite = cleanups.add(() => closeFd(statusWrite));

  const { fd: programRead, close: closeProgramRead } = reopenHeld(program, cleanups);

  const fds = stageFds(slots.length, held !== undefined);
  const pid = spawnMapped({
    path: stagePath,
    argv: ["ww-stage", "launch", String(fds.plan), String(fds.status)],
    // Not read by the stage (its plan holds the program's); it shows whose stage this is in
    // /proc/<pid>/environ.
    env: plan.env,
    cwd: "/",
    fdSteps: planChildFds(
      childFds.stdio,
      [
        ...childFdSources(slots, childFds.host),
        ...namedSources(fds, { held: programRead, plan: planRead, status: statusWrite }),
      ],
    ),
    newSession: true,
  });
  closePlanRead();
  closeStatusWrite();
  closeProgramRead();
  const reaped = waitPid(pid, ops);
  const reports = await readStageReports(statusStream);
  // A stage that reported nothing died: how it ended is all there is to tell.
  const silent = !reports.some((r) => "exec" in r || "step" in r);
  const failure = stageFailure(
    reports,
    config.program,
    "native",
    silent ? await reaped : undefined,
  );
  if (failure) {
    await reaped;
    throw failure;
  }
  return {
    pid,
    // The supervisor passes signals on to the program, all but SIGSTOP, which it cannot block
    // and which would stop the supervisor itself: that one goes to the program directly.
    signal: (sig) => {
      if (sig !== SIGNALS.SIGSTOP) return void killPid(pid, sig);
      void programPidInJail(pid, reaped).then((p) => p !== undefined && killPid(p, sig))
        .catch(() => {});
    },
    // The supervisor SIGKILLs every descendant, then ends as the program did.
    killAll: () => void killPid(pid, END_ALL_SIGNAL),
    ended: reaped.then((w) =>
      w.exited ? { code: w.code } : { code: 128 + w.signal, signal: signalName(w.signal) }
    ),
    notEnforced: native.missing.map((p) => p.name),
  };
}
