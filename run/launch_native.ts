// run/launch_native.ts — `--jail=native`: the program is started by the stage (stage/stage.c),
// whose child confines itself (Landlock, seccomp, no_new_privs, identity, limits) and executes
// the program, while the stage stays behind as its supervisor: a subreaper that ends every
// descendant and removes the work directory when the program ends or ww dies. A held program is
// handed to the stage as a descriptor, which it executes (execveat). What happens is the run's
// plan (plan/native.ts); this module opens, spawns and waits by it.

import { checkChdirExists } from "./launch_direct.ts";
import { childFdSources } from "../fd/layout.ts";
import { namedSources } from "../fd/named.ts";
import { planChildFds } from "../fd/plan.ts";
import { closeFd, pipe } from "../ffi/fd.ts";
import { type HeldProcess, holdChild, waitPid } from "../ffi/process.ts";
import { FdStream } from "../ffi/stream.ts";
import { encodeStagePlan } from "../stage/plan.ts";
import { planNativeRun } from "../plan/native.ts";
import { nativeFacts } from "./native.ts";
import { jailedRun } from "./jail_facts.ts";
import { checkJailStart } from "./jail_checks.ts";
import {
  holdProgramFile,
  type Launched,
  type LaunchRequest,
  nameUnixSockets,
  reopenHeld,
  spawnMapped,
  stdioSources,
  withWorkdirLeft,
} from "./launch.ts";
import { pinBindSources } from "./pin_binds.ts";
import {
  END_ALL_SIGNAL,
  outOfProcesses,
  planDescriptor,
  readStageReports,
  stageExecutable,
  stageFailure,
} from "./stage.ts";
import { signalName, SIGNALS } from "./signals.ts";
import { programInJail } from "./procfs.ts";
import { nprocSpentError } from "./limits.ts";

/**
 * Runs the program in the native jail by its plan: spawns the stage with the program's
 * descriptors in place plus the held program, the stage's plan and a status pipe, each at the
 * number the plan gave its name, and waits until the stage reports that it executes the
 * program, or why not. ww's child is the stage's supervisor: ww signals the program
 * through it, and reaps it when the program and every descendant are gone.
 */
export async function launchNative(request: LaunchRequest): Promise<Launched> {
  const { config, program, fds: childFds, cleanups, ops } = request;
  const { beforeStart, beforeSpawn } = request;
  checkChdirExists(config.jail.chdir);
  const { lease, facts } = jailedRun(request);
  const plan = planNativeRun({
    ...facts,
    native: nativeFacts(config.jail, facts.program.held ? undefined : facts.program.source),
  });
  const { native, fds } = plan;
  // Each bind's source, opened once: the stage makes its Landlock rule on this descriptor, and
  // ww's checks below look at it. So is the program's file, when it needs a rule of its own.
  const pinned = pinBindSources(plan.binds, cleanups);
  const programFile = plan.programFile === undefined
    ? undefined
    : holdProgramFile(plan.programFile, config.program, cleanups);
  checkJailStart({
    config,
    backend: "native",
    stdio: stdioSources(childFds),
    identity: plan.stage.identity,
    leased: lease?.id,
    // A program a guest started (held, with its host file) as well: ww opened it with its own
    // rights, and a root ww started for a jail's user what that user could not reach itself.
    program: program.held ? program.source : program.path,
    interpreters: program.interpreters,
    highestFd: plan.highestFd,
    binds: plan.bindRequests,
    pinned: pinned.at,
  });
  const stagePath = stageExecutable();
  const planRead = planDescriptor(encodeStagePlan(plan.stage));
  const closePlanRead = cleanups.add(() => closeFd(planRead));
  const [statusRead, statusWrite] = pipe();
  const statusStream = new FdStream(statusRead);
  cleanups.add(() => statusStream.close());
  const closeStatusWrite = cleanups.add(() => closeFd(statusWrite));

  const { fd: programRead, close: closeProgramRead } = reopenHeld(program, cleanups);

  const notEnforced = native.missing.map((p) => p.name);
  beforeStart?.(notEnforced);
  nameUnixSockets(request);
  beforeSpawn?.();
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
        ...childFdSources(plan.slots, childFds.host),
        ...namedSources(fds, {
          held: programRead,
          plan: planRead,
          status: statusWrite,
          lease: lease?.fd,
          programFile: programFile?.fd,
          ...pinned.named,
        }),
      ],
    ),
    newSession: true,
  });
  closePlanRead();
  closeStatusWrite();
  closeProgramRead();
  pinned.close();
  programFile?.close();
  const supervisor = holdChild(pid);
  const reaped = waitPid(supervisor, ops);
  const reports = await readStageReports(statusStream);
  // A stage that reported nothing died: how it ended is all there is to tell.
  const silent = !reports.some((r) => "exec" in r || "step" in r);
  const failure = stageFailure(
    reports,
    config.program,
    "native",
    silent ? await reaped : undefined,
    facts.program.held ? undefined : facts.program.source,
  );
  if (failure) {
    await reaped;
    // The jail's id is shared by the programs its guests start (--with-exec): one budget for all.
    const processes = config.jail.limits.processes;
    const identity = plan.stage.identity;
    if (processes !== undefined && outOfProcesses(reports, identity === undefined)) {
      throw nprocSpentError(processes, identity?.uid ?? Deno.uid() ?? 0);
    }
    throw failure;
  }
  // The program itself, held once (and released with the run) for what goes to it directly.
  let programInside: Promise<HeldProcess | undefined> | undefined;
  cleanups.add(() => void programInside?.then((p) => p?.close()));
  const direct = async (signal: (p: HeldProcess) => void) => {
    programInside ??= programInJail(supervisor, reaped);
    const p = await programInside;
    if (p) signal(p);
  };
  // What goes to the program directly waits on that one promise, and so does every signal sent
  // after one of those: they arrive in the order sent (a SIGCONT must not overtake a stop).
  let ordered: Promise<void> | undefined;
  return {
    pid,
    // The supervisor passes signals on to the program, all but SIGSTOP, which it cannot block
    // and which would stop the supervisor itself: that one goes to the program directly.
    signal: (sig) => {
      if (sig !== SIGNALS.SIGSTOP && ordered === undefined) return void supervisor.signal(sig);
      const after = ordered ?? Promise.resolve();
      ordered = after.then(() =>
        sig === SIGNALS.SIGSTOP ? direct((p) => p.signal(sig)) : void supervisor.signal(sig)
      ).catch(() => {});
    },
    // A stop goes to the program's group directly; a continue through the supervisor, which
    // passes it on to the group after any signal it was sent before (stage.c supervise): sent
    // straight to the group, the SIGCONT that wakes a stopped program for an ending signal
    // sometimes overtook that signal, and the program ran on (to its own exit).
    signalJob: (stop) => {
      ordered = (ordered ?? Promise.resolve()).then(() =>
        stop
          ? direct((p) => p.signalGroup(SIGNALS.SIGSTOP))
          : void supervisor.signal(SIGNALS.SIGCONT)
      ).catch(() => {});
      return ordered;
    },
    // The supervisor SIGKILLs every descendant, then ends as the program did.
    killAll: () => void supervisor.signal(END_ALL_SIGNAL),
    // The supervisor ends once the program has (and whatever it left is killed).
    root: supervisor,
    exited: () => supervisor.ended,
    // The supervisor removed the work directory before it ended, as the jail's user: what that
    // user may not remove keeps it.
    ended: reaped.then((w) =>
      withWorkdirLeft(
        w.exited ? { code: w.code } : { code: 128 + w.signal, signal: signalName(w.signal) },
        facts.workdir,
      )
    ),
    notEnforced,
    lease,
  };
}
