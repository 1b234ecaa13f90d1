// run/launch_bwrap.ts — `--jail=bwrap`: the program runs under bubblewrap, started by the stage
// (stage/stage.c: limits, and the jail's host identity when ww is root), which stays behind as
// supervisor; bwrap gets the seccomp program and a status pipe on fds. What happens is the run's
// plan (plan/bwrap.ts); this module opens, spawns, reads bwrap's status and reaps by it.

import { cannotEnterCwd } from "./directory.ts";
import { childFdSources } from "../fd/layout.ts";
import { namedSources } from "../fd/named.ts";
import { planChildFds } from "../fd/plan.ts";
import {
  closeFd,
  fdState,
  openDevNull,
  pipe,
  readAvailable,
  unixSocketPair,
  writeAll,
} from "../ffi/fd.ts";
import { openReadOnly } from "../ffi/memfd.ts";
import { type HeldProcess, holdChild, processGone, waitPid } from "../ffi/process.ts";
import { FdStream } from "../ffi/stream.ts";
import { type BackendChoice, bwrapFailedChoice } from "../jail/auto.ts";
import { type BwrapStatus, bwrapStderr, readBwrapStatus } from "../jail/bwrap_status.ts";
import { SECCOMP_BASE64 } from "../jail/seccomp_table.ts";
import type { RunConfig } from "../core/config.ts";
import {
  BindError,
  type CwdError,
  JailError,
  type LimitError,
  NamespacesUnavailableError,
  type NotExecutableError,
  type NotFoundError,
  type SetupError,
} from "../core/errors.ts";
import { planBwrapRun } from "../plan/bwrap.ts";
import { encodeStagePlan, parseStageReports } from "../stage/plan.ts";
import { retryBwrap } from "./auto.ts";
import { bwrapFacts } from "./facts.ts";
import type { JailLease } from "./ids.ts";
import { jailedRun } from "./jail_facts.ts";
import { checkJailStart } from "./jail_checks.ts";
import { programGone } from "./resolve.ts";
import { seccompArch } from "./host.ts";
import {
  type Cleanups,
  type Launched,
  type LaunchRequest,
  nameUnixSockets,
  reopenHeld,
  spawnMapped,
  stdioSources,
} from "./launch.ts";
import { pinBindSources } from "./pin_binds.ts";
import { holdInTree, programInJail } from "./procfs.ts";
import { nprocRefusal } from "./limits.ts";
import { signalName, SIGNALS } from "./signals.ts";
import {
  END_ALL_SIGNAL,
  inJailFailure,
  outOfProcesses,
  planDescriptor,
  readStageReports,
  stageExecutable,
  stageFailure,
} from "./stage.ts";

/**
 * The read end of a pipe holding `bytes` (written whole, the write end closed) for bwrap to read;
 * `close` closes it early, once bwrap holds its own copy, and `cleanups` closes it otherwise.
 */
function dataPipe(bytes: Uint8Array, cleanups: Cleanups): { fd: number; close: () => void } {
  const [read, write] = pipe();
  const close = cleanups.add(() => closeFd(read));
  try {
    writeAll(write, bytes);
  } finally {
    closeFd(write);
  }
  return { fd: read, close };
}

/**
 * Runs the program under bubblewrap. bwrap gets, after the granted descriptors, the seccomp
 * program and a status pipe on which it reports its sandbox pid 1 and, at the end, the program's
 * exit status. It is started by the stage, which stays behind as supervisor (see bwrapStagePlan),
 * and runs the stage again inside the jail to execute the program (see bwrapArgs).
 */
export async function launchBwrap(request: LaunchRequest): Promise<Launched> {
  const { config, program, fds: childFds, cleanups, choice, ops } = request;
  const { beforeStart, beforeSpawn } = request;
  const { lease, facts } = jailedRun(request);
  const plan = planBwrapRun({ ...facts, bwrap: bwrapFacts(config) });
  // A local program's real path, which bwrap binds into the jail.
  const programFile = facts.program.held ? undefined : facts.program.source;
  const { dropTo, fds } = plan;
  // Each bind's source, opened once: bwrap binds these, the stage in the jail checks them (and
  // the directories on the way to a bind in a bind), and so do ww's checks below.
  const pinned = pinBindSources(plan.mounts.binds, cleanups, plan.mounts.waypoints);
  checkJailStart({
    config,
    backend: "bwrap",
    stdio: stdioSources(childFds),
    bwrapArgv: plan.argv,
    identity: plan.stage.identity,
    leased: lease?.id,
    // The file bwrap binds, as the jail's host user reaches it: its real path. A program a guest
    // started is held by ww's descriptor, which ww opened with its own rights: the jail's user
    // must reach its host file all the same, or a guest started what it could not run itself.
    program: programFile ?? program.source,
    interpreters: program.interpreters,
    highestFd: plan.highestFd,
    binds: plan.bindRequests,
    pinned: pinned.at,
  });
  const stagePath = stageExecutable();
  // jail/seccomp.ts's program, compiled at build time (jail/seccomp_table.ts).
  const seccomp = dataPipe(Uint8Array.fromBase64(SECCOMP_BASE64[seccompArch()].bwrap), cleanups);
  const [statusRead, statusWrite] = pipe();
  // Read while the program runs: its waits are the run's.
  const statusStream = new FdStream(statusRead, ops);
  cleanups.add(() => statusStream.close());
  const closeStatusWrite = cleanups.add(() => closeFd(statusWrite));
  // bwrap copies the stage into the jail from this descriptor.
  const stageBytes = openReadOnly(stagePath);
  const closeStageBytes = cleanups.add(() => closeFd(stageBytes));
  // bwrap takes this descriptor before the program starts, or the stage marks it close-on-exec
  // and executes it.
  const { fd: programRead, close: closeProgramRead } = reopenHeld(program, cleanups);
  const [stageRead, stageWrite] = pipe();
  const stageStream = new FdStream(stageRead);
  cleanups.add(() => stageStream.close());
  const closeStageWrite = cleanups.add(() => closeFd(stageWrite));
  // bwrap's own stderr: what it says when it cannot set the jail up, read once it has ended (it
  // says little, well within a pipe's buffer). The program's stderr goes through bwrap to the
  // stage in the jail, which writes a NUL byte here once bwrap's set-up is done, then puts the
  // program's stderr on fd 2.
  const [bwrapSaysRead, bwrapSaysWrite] = pipe();
  cleanups.add(() => closeFd(bwrapSaysRead));
  const closeBwrapSaysWrite = cleanups.add(() => closeFd(bwrapSaysWrite));
  const bwrapSaid = () => bwrapStderr(readAvailable(bwrapSaysRead, BWRAP_REASON_MAX));
  // ww's own fd 2 when the program gets it; /dev/null when ww has none (closed fd 2).
  let programStderr = childFds.stdio[2] ?? STDERR;
  if (programStderr === STDERR && fdState(STDERR) === "closed") {
    const devNull = openDevNull();
    cleanups.add(() => closeFd(devNull));
    programStderr = devNull;
  }
  const planRead = planDescriptor(encodeStagePlan(plan.stage));
  const closePlanRead = cleanups.add(() => closeFd(planRead));
  // With --tmp-size: the stage in the jail asks the supervisor's bounder over this socket to bound
  // the files of the jail's in-memory file systems (StagePlan.tmpfs).
  const tmpfs = fds.tmpfs === undefined ? undefined : unixSocketPair();
  const closeTmpfs = cleanups.add(() => tmpfs?.forEach((fd) => closeFd(fd)));
  nameUnixSockets(request);
  beforeSpawn?.();
  const pid = spawnMapped({
    path: stagePath,
    argv: ["ww-stage", "launch", String(fds.plan), String(fds.stageStatus)],
    // Not read by the stage; it shows whose stage this is in /proc/<pid>/environ.
    env: plan.env,
    cwd: "/", // the work directory exists only inside the jail
    fdSteps: planChildFds(
      [childFds.stdio[0], childFds.stdio[1], bwrapSaysWrite],
      [
        ...childFdSources(plan.slots, childFds.host),
        ...namedSources(fds, {
          seccomp: seccomp.fd,
          status: statusWrite,
          stage: stageBytes,
          held: programRead,
          programStderr,
          plan: planRead,
          stageStatus: stageWrite,
          lease: lease?.fd,
          tmpfs: tmpfs?.[0],
          tmpfsBounder: tmpfs?.[1],
          ...pinned.named,
        }),
      ],
    ),
    // Keeps terminal-generated signals away from bwrap's monitor, which would die of them and
    // SIGKILL the jail; ww forwards them to the program instead.
    newSession: true,
  });
  seccomp.close();
  closeStatusWrite();
  closeStageBytes();
  closeProgramRead();
  closePlanRead();
  closeStageWrite();
  closeBwrapSaysWrite();
  closeTmpfs();
  pinned.close();

  const stage = holdChild(pid);
  const reaped = waitPid(stage, ops);
  // Both at once: bwrap reports its pid 1 while the stage's report is still on its way. When the
  // stage failed, bwrap never ran and its status pipe ends without a pid.
  const stageReports = readStageReports(stageStream).catch(() => []);
  const statusReader = bwrapStatusReader(statusStream);
  const initPid = await statusReader.childPid;
  if (initPid === undefined) {
    const reports = await stageReports;
    const failure = stageFailure(reports, config.program, "bwrap");
    await reaped;
    // The stage's fork of bwrap's process, or its execve of bwrap, fails (EAGAIN) when the jail's
    // id already runs its --nproc (stage/stage.c limit_nproc_for_fork, mark_nproc_exceeded).
    const nproc = outOfProcesses(reports, dropTo === undefined)
      ? nprocRefusal(config.jail.limits.processes, dropTo?.uid ?? Deno.uid() ?? 0)
      : undefined;
    // No pid 1 was reported: bwrap never cloned the jail, so nothing of the program ran.
    throw nproc ?? failure ??
      await jailFailed(choice, config, dropTo, lease, true, bwrapSaid().reason, programFile);
  }
  // The jail exists (no fallback can follow), and bwrap is still setting it up.
  beforeStart?.([]);
  // The jail's pid 1 as bwrap reported it: bwrap's child, bwrap being the stage's (or the stage's
  // own, once bwrap is gone). Undefined when it has ended already. bwrap reports the exit status
  // while it may still be taking the jail's other processes down with it; ww ends only once it is
  // gone.
  let init: HeldProcess | undefined;
  try {
    init = holdInTree(stage, initPid, 2);
  } catch (e) {
    // Not to be held (no descriptor left for its pidfd, EMFILE, in a process where other starts
    // took them while bwrap set up): the jail ends here with all in it, as when ww dies. Left, it
    // ran on unheld in a library caller's process, which lives on.
    stage.signal(END_ALL_SIGNAL);
    await reaped.catch(() => {});
    throw e;
  }
  cleanups.add(() => init?.close());
  let programInside: Promise<HeldProcess | undefined> | undefined;
  cleanups.add(() => void programInside?.then((p) => p?.close()));
  // A signal from ww that ends the jail before bwrap reports an exit code (SIGKILL took pid 1,
  // or the program died before the jail's pid 1 saw it start) is the program's end, not a jail
  // failure.
  let sentSignal: number | undefined;
  // Every signal waits on the one promise of the program, and so arrives in the order sent.
  const signalProgram = async (sig: number, group = false) => {
    // SIGCONT, which follows a signal that asks the program to end (run/start.ts), ends nothing:
    // the signal it follows is the one that did. Nor do the stops of job control (Ctrl-Z).
    if (!ENDS_NOTHING.includes(sig)) sentSignal = sig;
    programInside ??= init ? programInJail(init, reaped) : Promise.resolve(undefined);
    const program = await programInside;
    if (group) program?.signalGroup(sig);
    else program?.signal(sig);
  };
  return {
    pid,
    lease,
    // A guest reaches this through Process.kill: a failed signal must not become an unhandled
    // rejection, which would end ww.
    signal: (sig) => void signalProgram(sig).catch(() => {}),
    signalJob: (stop) =>
      signalProgram(stop ? SIGNALS.SIGSTOP : SIGNALS.SIGCONT, true).catch(() => {}),
    // The kernel kills every process of a pid namespace when its pid 1 dies. Without it (gone,
    // or not found), the stage ends every descendant it has.
    killAll: () => {
      sentSignal = SIGNALS.SIGKILL;
      if (!init?.signal(SIGNALS.SIGKILL)) stage.signal(END_ALL_SIGNAL);
    },
    root: stage,
    // The jail's pid 1, the stage in it, ends with the program; when ww never held it (gone
    // already, or not found in /proc), the stage's own end says it.
    exited: () => (init?.ended ?? false) || stage.ended,
    ended: Promise.all([reaped, statusReader.final]).then(async ([, s]) => {
      if (init) await processGone(init, JAIL_TEARDOWN_MS, ops);
      // Written before the program was executed, and at its end; every writer is gone by now.
      const said = bwrapSaid();
      // The program never ran: its execve, or a step the stage took after bwrap's set-up, failed.
      // A rejection, not the stage's exit code: what --open made for the program goes.
      const unstarted = said.unstarted === undefined
        ? undefined
        : inJailFailure(parseStageReports(said.unstarted), config.program, programFile);
      if (unstarted) throw unstarted;
      // The stage (the jail's pid 1) saw the program end: by a signal, whoever sent it, or not.
      if (said.started && said.ended) {
        return "signal" in said.ended
          ? { code: 128 + said.ended.signal, signal: signalName(said.ended.signal) }
          : { code: said.ended.code };
      }
      // No word from the stage: ww's SIGKILL took the jail's pid 1 (killAll), and bwrap reports
      // 128+N for a pid 1 killed by signal N.
      if (sentSignal !== undefined && s.exitCode === 128 + sentSignal) {
        return { code: s.exitCode, signal: signalName(sentSignal) };
      }
      // An exit status of a jail that never got to the program is bwrap's (or the stage's) own:
      // 1 when bwrap could not mount or chdir, not the program's.
      if (s.exitCode !== undefined && said.started) return { code: s.exitCode };
      if (sentSignal !== undefined) {
        return { code: 128 + sentSignal, signal: signalName(sentSignal) };
      }
      throw await jailFailed(choice, config, dropTo, lease, false, said.reason, programFile);
    }),
  };
}

/** ww's own stderr. */
const STDERR = 2;

/** The signals ww passes on that end no program: SIGCONT, and job control's stop. */
const ENDS_NOTHING: readonly number[] = [SIGNALS.SIGCONT, SIGNALS.SIGSTOP];

/** How long ww waits for a jail's pid 1 to finish killing the jail's leftover processes. */
const JAIL_TEARDOWN_MS = 5000;

/** The most of bwrap's own words that a jail's failure carries. */
const BWRAP_REASON_MAX = 4096;

/**
 * The error for a jail that bwrap (or the stage that starts it) did not get to run the program,
 * with `said`, bwrap's own reason (bwrapStderr), when it gave one. A --nproc that the jail's uid
 * has already used up is named here, since bwrap only says "Resource temporarily unavailable".
 * Under --jail=auto, a fresh try of bwrap tells whether namespaces cannot be created here at all
 * (the remembered answer was stale): then the run falls back to the native jail.
 */
async function jailFailed(
  choice: BackendChoice,
  config: RunConfig,
  dropTo: { uid: number; gid: number } | undefined,
  lease: JailLease | undefined,
  beforeJail: boolean,
  said: string,
  programFile?: string,
): Promise<SetupError | LimitError | CwdError | NotFoundError | NotExecutableError> {
  // A bind's source moved after ww opened it (renamed, or a link swapped in for a part of its
  // path), and bwrap, which binds it by its path again, bound another: the stage in the jail saw
  // it. (bwrap may also fail to find the path it resolved, once moved again: its own words then.)
  const changed = /^ww: the jail's bind at (.+) is not what ww opened: (.+)$/.exec(said);
  if (changed) {
    return new BindError(changed[1], `the bind at ${changed[1]}: ${changed[2]}; nothing was run`);
  }
  // The program's file went away after ww found it, before or as bwrap bound it into the jail
  // ("Can't find source path P: No such file or directory", "Can't get type of source P: ...",
  // "Can't bind mount /oldrootP on /newrootP: Unable to find \"/newrootP (deleted)\" ...").
  const namesProgram = (text: string) =>
    programFile !== undefined &&
    [": ", " (deleted)", '" '].some((end) => text.includes(`${programFile}${end}`));
  if (
    said.startsWith("bwrap: Can't ") && namesProgram(said) &&
    /No such file or directory|\(deleted\)/.test(said)
  ) {
    return programGone(config.program);
  }
  const nproc = nprocRefusal(config.jail.limits.processes, dropTo?.uid ?? Deno.uid() ?? 0);
  if (nproc) return nproc;
  // Not for ids the caller chose (--uid and --gid, as root): bwrap's refusal of those says nothing
  // of this machine, and the fallback would be remembered for every later run.
  const chosenIds = dropTo !== undefined && lease === undefined;
  if (beforeJail && config.jail.backend === "auto" && !chosenIds) {
    // As this run's own host ids: whether they can create the namespaces is the question.
    const t = await retryBwrap(undefined, dropTo);
    if (!t.ok) {
      const fallback = bwrapFailedChoice(t);
      return new NamespacesUnavailableError(fallback.reason, { ...fallback, backend: "native" });
    }
  }
  // --chdir into a directory the jail's user cannot enter: bwrap says so once the jail exists.
  const chdir = config.jail.chdir;
  const cannotEnter = chdir === undefined
    ? undefined
    : /^(?:bwrap: )?Can't chdir to (.+): (.+)$/.exec(said);
  if (cannotEnter && cannotEnter[1] === chdir) {
    // bwrap's strerror words, as ww words the native stage's errno ("Permission denied").
    const why = cannotEnter[2];
    return cannotEnterCwd(chdir, "bwrap", why.charAt(0).toLowerCase() + why.slice(1));
  }
  const why = said === "" ? "it ended without saying why (was it killed?)" : said;
  const line = (chosen: string) =>
    `bubblewrap could not set up the jail (${chosen}): ${why}; ww doctor tells what this machine offers`;
  // Under auto the reason says why bwrap was chosen; otherwise it names the option or the flag.
  return new JailError(line(choice.reason), "bwrap", said, {
    commandLine: line(choice.commandLine ?? choice.reason),
  });
}

/** Reads bwrap's status pipe: the sandbox pid as soon as it is known, and the final status. */
function bwrapStatusReader(stream: FdStream) {
  const { promise: childPid, resolve: resolvePid } = Promise.withResolvers<number | undefined>();
  const final = (async () => {
    const decoder = new TextDecoder();
    const buf = new Uint8Array(4096);
    let status: BwrapStatus = {};
    let rest = "";
    for (;;) {
      const n = await stream.read(buf);
      if (n === null) break;
      ({ status, rest } = readBwrapStatus(status, rest + decoder.decode(buf.subarray(0, n))));
      if (status.childPid !== undefined) resolvePid(status.childPid);
    }
    resolvePid(undefined);
    return status;
  })();
  return { childPid, final };
}
