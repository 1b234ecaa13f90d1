// run/launch_bwrap.ts — `--jail=bwrap`: the program runs under bubblewrap, started through
// prlimit (and setpriv when ww is root), with the seccomp program and a status pipe on fds.

import { HOST_SOCKET_FD, layoutFds } from "../fd/layout.ts";
import { planFdSteps } from "../fd/plan.ts";
import { closeFd, pipe, writeAll } from "../ffi/fd.ts";
import { killPid, waitPid, watchProcess } from "../ffi/process.ts";
import { FdStream } from "../ffi/stream.ts";
import type { BackendChoice } from "../jail/auto.ts";
import { bwrapArgs, launcherArgv, type ProgramFd, programPathProblem } from "../jail/bwrap.ts";
import { execFdExecutable } from "../jail/exec_fd.ts";
import { type BwrapStatus, readBwrapStatus } from "../jail/bwrap_status.ts";
import { jailHostIds } from "../jail/ids.ts";
import { seccompProgram } from "../jail/seccomp.ts";
import type { RunConfig } from "./config.ts";
import { childEnv } from "./env.ts";
import { checkJailAccess, leaseJailId } from "./ids.ts";
import { SetupError } from "./errors.ts";
import { findBwrap, findLauncherTools, hostFiles, seccompArch } from "./host.ts";
import {
  type Cleanups,
  isScript,
  type Launched,
  type Program,
  reopenFetched,
  spawnMapped,
} from "./launch.ts";
import { absolutePath } from "./path.ts";
import { programPidInJail } from "./procfs.ts";
import { signalName, SIGNALS } from "./signals.ts";

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
 * How a program from IPFS, at descriptor `fd` in bwrap, gets into the jail. With the
 * exec step (at `fd` + 1, when this machine has one) it runs from the descriptor itself, if it
 * cannot change under the jail: a sealed memfd, or a cached file that the jail's user does not own
 * (`dropped`: ww is root, the jail runs as nobody). A cached file the jail's user owns is bound
 * read-only instead: run from its descriptor, it would be /proc/self/exe on a writable mount, and
 * its owner could chmod and rewrite it. A #! script is shown at its path, which its interpreter
 * opens. bwrap resolves a bound descriptor back to its path, which an unprivileged bwrap (ww is
 * root) may not reach, and cannot bind a memfd at all: those are copied.
 */
export function programFd(
  program: { readonly argv0: string; readonly sealed: boolean; readonly script: boolean },
  fd: number,
  withStep: boolean,
  dropped: boolean,
): ProgramFd {
  const { sealed } = program;
  const execStep = withStep ? { fd: fd + 1, argv0: program.argv0 } : undefined;
  if (execStep && (sealed || dropped) && !program.script) return { fd, how: "exec", execStep };
  return { fd, how: sealed || dropped ? "copy" : "bind", execStep };
}

/**
 * Runs the program under bubblewrap. bwrap gets, after the granted descriptors, the seccomp
 * program and a status pipe on which it reports its sandbox pid 1 and, at the end, the program's
 * exit status. It is started through prlimit(1) (and setpriv(1) when ww is root): see
 * launcherArgv.
 */
export async function launchBwrap(
  config: RunConfig,
  program: Program,
  childEnd: number,
  cleanups: Cleanups,
  choice: BackendChoice,
): Promise<Launched> {
  const workdir = jailWorkdir();
  const bwrap = findBwrap();
  const tools = findLauncherTools();
  const path = program.fetched?.jailPath ?? program.path;
  // A program from IPFS starts through the exec step, where this machine has one.
  const execStep = program.fetched ? execFdExecutable(Deno.build.arch) : undefined;
  const pathProblem = execStep ? undefined : programPathProblem(path);
  if (pathProblem) throw new SetupError(pathProblem);
  for (const b of [...config.jail.readOnlyBinds, ...config.jail.writableBinds]) {
    try {
      Deno.statSync(b.source);
    } catch {
      throw new SetupError(`bind ${b.source}: no such file or directory on this machine`);
    }
  }
  // When ww is root the jail runs as a host uid of its own, leased until the run's clean-ups.
  const leased = leaseJailId(config.jail, cleanups);
  const dropTo = jailHostIdentity(config, leased);
  if (dropTo) {
    checkJailAccess(dropTo, leased !== undefined, program.fetched ? undefined : program.path, {
      readOnly: config.jail.readOnlyBinds.map((b) => b.source),
      writable: config.jail.writableBinds.map((b) => b.source),
    });
  }
  const slots = layoutFds(config.fds);
  const seccomp = dataPipe(seccompProgram(seccompArch()), cleanups);
  const [statusRead, statusWrite] = pipe();
  const statusStream = new FdStream(statusRead);
  cleanups.add(() => statusStream.close());
  const closeStatusWrite = cleanups.add(() => closeFd(statusWrite));

  // bwrap takes this descriptor before the program starts, or the exec step marks it
  // close-on-exec and executes it.
  const { fd: programRead, close: closeProgramRead } = reopenFetched(program, cleanups);
  const exec = execStep ? dataPipe(execStep, cleanups) : undefined;

  const sources = [childEnd, ...slots.map((s) => s.source), seccomp.fd, statusWrite];
  if (programRead !== undefined) sources.push(programRead);
  if (exec) sources.push(exec.fd);
  const controlFd = HOST_SOCKET_FD + 1 + slots.length;
  const args = bwrapArgs({
    policy: config.jail,
    host: hostFiles(config.jail.net),
    programPath: path,
    programSource: program.fetched ? "" : Deno.realPathSync(path),
    programFd: program.fetched && programFd(
      {
        argv0: program.argv0,
        sealed: program.fetched.sealed,
        script: isScript(program.fetched.fd),
      },
      controlFd + 2,
      exec !== undefined,
      dropTo !== undefined,
    ),
    args: config.args,
    workdir,
    userPwd: config.env.PWD,
    fds: { seccomp: controlFd, status: controlFd + 1 },
  });
  const argv = launcherArgv({ ...tools, limits: config.jail.limits, dropTo }, [bwrap, ...args]);
  const pid = spawnMapped({
    path: argv[0],
    argv,
    env: childEnv(config.env, slots),
    cwd: "/", // the work directory exists only inside the jail
    fdSteps: planFdSteps(sources, HOST_SOCKET_FD),
    // Keeps terminal-generated signals away from bwrap's monitor, which would die of them and
    // SIGKILL the jail; ww forwards them to the program instead.
    newSession: true,
  });
  seccomp.close();
  closeStatusWrite();
  closeProgramRead();
  exec?.close();

  const reaped = waitPid(pid);
  const statusReader = bwrapStatusReader(statusStream);
  const initPid = await statusReader.childPid;
  if (initPid === undefined) {
    await reaped;
    throw jailFailed(choice);
  }
  // bwrap reports the exit status while the jail's pid 1 may still be taking the jail's other
  // processes down with it; ww ends only once it is gone.
  const init = watchProcess(initPid);

  let programPid: number | undefined;
  // A signal from ww that ends the jail before bwrap reports an exit code (SIGKILL took pid 1,
  // or the program died before bwrap's reaper saw it start) is the program's end, not a jail
  // failure.
  let sentSignal: number | undefined;
  const signalProgram = async (sig: number) => {
    sentSignal = sig;
    programPid ??= await programPidInJail(initPid, reaped);
    if (programPid !== undefined) killPid(programPid, sig);
  };
  return {
    pid,
    signal: (sig) => void signalProgram(sig),
    // The kernel kills every process of a pid namespace when its pid 1 dies.
    killAll: () => {
      sentSignal = SIGNALS.SIGKILL;
      killPid(initPid, SIGNALS.SIGKILL);
    },
    ended: Promise.all([reaped, statusReader.final]).then(async ([, s]) => {
      await init.gone(JAIL_TEARDOWN_MS);
      if (s.exitCode !== undefined) return { code: s.exitCode };
      if (sentSignal !== undefined) {
        return { code: 128 + sentSignal, signal: signalName(sentSignal) };
      }
      throw jailFailed(choice);
    }),
  };
}

/**
 * A name for the work directory that bwrap makes inside the jail (see BwrapInput.workdir). It
 * lives in the jail's own tmpfs, so it cannot collide with another run's; the random part only
 * keeps names distinct in logs. (Math.random: the first use of `crypto` costs start-up time.)
 */
export function jailWorkdir(): string {
  const name = `ww-${Math.random().toString(16).slice(2, 10).padEnd(8, "0")}${
    Math.random().toString(16).slice(2, 10).padEnd(8, "0")
  }`;
  return absolutePath("/", `${Deno.env.get("TMPDIR") || "/tmp"}/${name}`);
}

/** How long ww waits for a jail's pid 1 to finish killing the jail's leftover processes. */
const JAIL_TEARDOWN_MS = 5000;

/**
 * The host uid/gid bwrap runs as: when ww is root, never 0 (a user namespace made by root is host
 * root to the kernel: see launcherArgv): each explicit, non-zero --uid/--gid, and `leased` for
 * the rest; otherwise undefined (ww's own).
 */
export function jailHostIdentity(
  config: RunConfig,
  leased: number | undefined,
): { uid: number; gid: number } | undefined {
  return jailHostIds(config.jail, Deno.uid() === 0, leased);
}

function jailFailed(choice: BackendChoice): SetupError {
  return new SetupError(
    `bubblewrap could not set up the jail or start the program (its reason is on the line above; ${choice.reason}); try --jail=native, which needs no namespaces (ww doctor tells what this machine offers)`,
  );
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
