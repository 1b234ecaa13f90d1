// run/launch_native.ts — `--jail=native`: the program is exec'd by a stage of ww itself that
// confines itself first (Landlock, seccomp, no_new_privs, identity, limits; run/native_stage.ts).

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
import {
  type Cleanups,
  hostWorkdir,
  type Launched,
  nativeCannotRunIpfs,
  type Program,
  spawnMapped,
} from "./launch.ts";
import { nativeFacts, readStageReports, stageCommand, stageFailure } from "./native.ts";
import { signalName, SIGNALS } from "./signals.ts";

/** The native jail's plan for a run, or a SetupError saying why there can be none. */
export function planNative(
  config: RunConfig,
  path: string,
  workdir: string,
  choice: BackendChoice,
): NativePlanResult {
  const slots = layoutFds(config.fds);
  const programSource = Deno.realPathSync(path);
  // The stage gets its plan on the first descriptor after the grants and its status pipe next.
  const planFd = HOST_SOCKET_FD + 1 + slots.length;
  const result = nativePlan({
    policy: config.jail,
    programPath: path,
    programSource,
    argv: [config.program, ...config.args],
    env: childEnv(config.env, slots),
    workdir,
    facts: nativeFacts(config.jail, programSource),
    statusFd: planFd + 1,
    closeOnExecFrom: planFd,
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
  if (program.fetched) throw nativeCannotRunIpfs(config.program);
  const path = program.path;
  const workdir = hostWorkdir(cleanups);
  const slots = layoutFds(config.fds);
  const native = planNative(config, path, workdir, choice);
  const { plan } = native;
  // A privileged ww hands the program a new identity, which must own its work directory.
  if (plan.identity) Deno.chownSync(workdir, plan.identity.uid, plan.identity.gid);
  const [planRead, planWrite] = pipe();
  const closePlanRead = cleanups.add(() => closeFd(planRead));
  const planStream = new FdStream(planWrite);
  const closePlanWrite = cleanups.add(() => planStream.close());
  const [statusRead, statusWrite] = pipe();
  const statusStream = new FdStream(statusRead);
  cleanups.add(() => statusStream.close());
  const closeStatusWrite = cleanups.add(() => closeFd(statusWrite));

  const stage = stageCommand(plan.closeOnExecFrom);
  const pid = spawnMapped({
    path: stage.path,
    argv: stage.argv,
    // The stage's own environment (Deno finds its cache through it); the program's is in the plan.
    env: Object.entries(Deno.env.toObject()).map(([k, v]) => `${k}=${v}`),
    cwd: workdir,
    fdSteps: planFdSteps(
      [childEnd, ...slots.map((s) => s.source), planRead, statusWrite],
      HOST_SOCKET_FD,
    ),
    newSession: true,
  });
  closePlanRead();
  closeStatusWrite();
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
