// run/launch_native.ts — `--jail=native`: the program is exec'd by a stage of ww itself that
// confines itself first (Landlock, seccomp, no_new_privs, identity, limits; run/native_stage.ts).
// A program from IPFS is handed to the stage as a descriptor, which it executes (execveat).

import { HOST_SOCKET_FD, layoutFds } from "../fd/layout.ts";
import { planFdSteps } from "../fd/plan.ts";
import { closeFd, pipe } from "../ffi/fd.ts";
import { killPid, waitPid } from "../ffi/process.ts";
import { FdStream } from "../ffi/stream.ts";
import type { BackendChoice } from "../jail/auto.ts";
import { encodeNativePlan, nativePlan, type NativePlanResult } from "../jail/native.ts";
import type { RunConfig } from "./config.ts";
import { childEnv } from "./env.ts";
import { SetupError } from "./errors.ts";
import { checkJailAccess, leaseJailId } from "./ids.ts";
import {
  type Cleanups,
  hostWorkdir,
  isScript,
  type Launched,
  type Program,
  reopenFetched,
  spawnMapped,
} from "./launch.ts";
import { nativeFacts, readStageReports, stageCommand, stageFailure } from "./native.ts";
import { signalName, SIGNALS } from "./signals.ts";

/** The program as the native jail takes it. */
export interface NativeProgram {
  /** The path execve takes; for a program from a descriptor, the name messages show. */
  readonly path: string;
  readonly argv0: string;
  /** A program from IPFS, executed from its descriptor: a sealed memfd or the cached file. */
  readonly fromFd?: { readonly memfd: boolean; readonly script: boolean };
}

/**
 * The stage's descriptors after the program's (0-3, the grants): the program from IPFS when there
 * is one, then the plan and the status pipe. The program's comes first so that a #! script, which
 * keeps it, has it right after its grants.
 */
function stageFds(
  grants: number,
  fromFd: boolean,
): { first: number; plan: number; status: number } {
  const first = HOST_SOCKET_FD + 1 + grants;
  const plan = fromFd ? first + 1 : first;
  return { first, plan, status: plan + 1 };
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
  const programSource = program.fromFd ? undefined : Deno.realPathSync(program.path);
  const fds = stageFds(slots.length, program.fromFd !== undefined);
  const result = nativePlan({
    policy: config.jail,
    programPath: program.path,
    programSource,
    ...(program.fromFd ? { programFd: { fd: fds.first, ...program.fromFd } } : {}),
    argv: [program.argv0, ...config.args],
    env: childEnv(config.env, slots),
    workdir,
    facts: nativeFacts(config.jail, programSource),
    statusFd: fds.status,
    closeOnExecFrom: fds.first,
    leasedId,
  });
  if ("error" in result) {
    // Under --jail=auto the user did not ask for the native jail: say why it was chosen.
    throw new SetupError(
      config.jail.backend === "auto" ? `${result.error} (${choice.reason})` : result.error,
    );
  }
  return result;
}

/**
 * Runs the program in the native jail: spawns ww's own stage (run/native_stage.ts) with the
 * program's descriptors in place plus a plan pipe and a status pipe, writes the plan, and waits
 * until the stage has exec'd the program (the status pipe closes on exec) or reported why not.
 * The stage's pid becomes the program's, so ww signals and reaps it directly.
 */
export async function launchNative(
  config: RunConfig,
  program: Program,
  childEnd: number,
  cleanups: Cleanups,
  choice: BackendChoice,
): Promise<Launched> {
  const { fetched } = program;
  const workdir = hostWorkdir(cleanups);
  const slots = layoutFds(config.fds);
  // When ww is root the program runs as a host uid of its own, leased until the run's clean-ups.
  const leased = leaseJailId(config.jail, cleanups);
  const native = planNative(
    config,
    fetched
      ? {
        path: fetched.jailPath,
        argv0: program.argv0,
        fromFd: { memfd: fetched.sealed, script: isScript(fetched.fd) },
      }
      : program,
    workdir,
    choice,
    leased,
  );
  const { plan } = native;
  if (plan.identity) {
    checkJailAccess(plan.identity, leased !== undefined, fetched ? undefined : program.path, {
      readOnly: config.jail.readOnlyBinds.map((b) => b.source),
      writable: config.jail.writableBinds.map((b) => b.source),
    });
    // A privileged ww hands the program a new identity, which must own its work directory.
    Deno.chownSync(workdir, plan.identity.uid, plan.identity.gid);
  }
  const [planRead, planWrite] = pipe();
  const closePlanRead = cleanups.add(() => closeFd(planRead));
  const planStream = new FdStream(planWrite);
  const closePlanWrite = cleanups.add(() => planStream.close());
  const [statusRead, statusWrite] = pipe();
  const statusStream = new FdStream(statusRead);
  cleanups.add(() => statusStream.close());
  const closeStatusWrite = cleanups.add(() => closeFd(statusWrite));

  const { fd: programRead, close: closeProgramRead } = reopenFetched(program, cleanups);

  const stage = stageCommand(stageFds(slots.length, fetched !== undefined).plan);
  const pid = spawnMapped({
    path: stage.path,
    argv: stage.argv,
    // The stage's own environment (Deno finds its cache through it); the program's is in the plan.
    env: Object.entries(Deno.env.toObject()).map(([k, v]) => `${k}=${v}`),
    cwd: workdir,
    fdSteps: planFdSteps(
      [
        childEnd,
        ...slots.map((s) => s.source),
        ...(programRead !== undefined ? [programRead] : []),
        planRead,
        statusWrite,
      ],
      HOST_SOCKET_FD,
    ),
    newSession: true,
  });
  closePlanRead();
  closeStatusWrite();
  closeProgramRead();
  const reaped = waitPid(pid);
  try {
    await planStream.write(new TextEncoder().encode(encodeNativePlan(plan)));
  } catch { /* the stage died before reading; its status says so */ }
  closePlanWrite();
  const failure = stageFailure(await readStageReports(statusStream), config.program);
  if (failure) {
    await reaped;
    throw failure;
  }
  return {
    pid,
    signal: (sig) => killPid(pid, sig),
    // The program leads its own session and process group; this reaches what stayed in it.
    killAll: () => {
      killPid(-pid, SIGNALS.SIGKILL);
      killPid(pid, SIGNALS.SIGKILL);
    },
    ended: reaped.then((w) =>
      w.exited ? { code: w.code } : { code: 128 + w.signal, signal: signalName(w.signal) }
    ),
    notEnforced: native.missing.map((p) => p.name),
  };
}
