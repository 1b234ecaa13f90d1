// run/start.ts — starts a program as ww's child: checks the grants against the real descriptor
// table, makes the private work directory and the host socket, plans the descriptors, spawns the
// program directly or inside bubblewrap, enforces the timeout, and reaps. Everything it creates is
// removed when the program ends or when starting fails.

import { HOST_SOCKET_FD, layoutFds } from "../fd/layout.ts";
import { planFdSteps } from "../fd/plan.ts";
import {
  EACCES,
  EISDIR,
  ELOOP,
  ENAMETOOLONG,
  ENOENT,
  ENOEXEC,
  ENOTDIR,
  ETXTBSY,
} from "../ffi/errno.ts";
import { closeFd, fdState, pipe, unixSocketPair, writeAll } from "../ffi/fd.ts";
import { reopenReadOnly } from "../ffi/memfd.ts";
import { SyscallError } from "../ffi/libc.ts";
import { killPid, waitPid, watchProcess } from "../ffi/process.ts";
import { spawn, type SpawnSpec } from "../ffi/spawn.ts";
import { FdStream } from "../ffi/stream.ts";
import { bwrapArgs, JAIL_GID, JAIL_UID, launcherArgv, programPathProblem } from "../jail/bwrap.ts";
import { type BwrapStatus, readBwrapStatus } from "../jail/bwrap_status.ts";
import type { BackendChoice } from "../jail/auto.ts";
import { encodeNativePlan, nativePlan, type NativePlanResult } from "../jail/native.ts";
import { TIMEOUT_GRACE_MS } from "../jail/policy.ts";
import { seccompProgram } from "../jail/seccomp.ts";
import { formatIpfsPath, isIpfsPath, parseIpfsPath } from "../ipfs/path.ts";
import { jailChoice } from "./auto.ts";
import { grantProblem, type RunConfig } from "./config.ts";
import { explainRun } from "./explain.ts";
import { childEnv } from "./env.ts";
import { NotExecutableError, NotFoundError, SetupError, UsageError } from "./errors.ts";
import { findBwrap, findLauncherTools, hostFiles, seccompArch } from "./host.ts";
import { nativeFacts, readStageReports, stageCommand, stageFailure } from "./native.ts";
import { programPidInJail } from "./procfs.ts";
import { absolutePath } from "./path.ts";
import { resolveProgram } from "./resolve.ts";
import { type SignalName, signalName, SIGNALS } from "./signals.ts";

/** How the program ended, as a shell reports it. */
export interface ExitStatus {
  /** The exit code; 128+N when killed by signal N; 124 when --timeout stopped it. */
  readonly code: number;
  /** The signal that killed it, when ww saw the program die of one (unjailed runs). */
  readonly signal?: SignalName;
  /** Set when the timeout expired and ww stopped the program. */
  readonly timedOut?: boolean;
}

/** Exit code reported when --timeout stopped the program (as timeout(1) does). */
export const TIMEOUT_EXIT_CODE = 124;

/** A running program. */
export interface Child {
  /** The pid ww spawned: the program itself, or bubblewrap when jailed. */
  readonly pid: number;
  /**
   * Resolves once the program has ended, been reaped, and its work directory removed. Rejects
   * with a SetupError when the jail could not be set up or could not start the program.
   */
  readonly status: Promise<ExitStatus>;
  /** ww's end of the program's fd 3; closed when the program ends. */
  readonly hostSocket: FdStream;
  /** Sends a signal to the program; false when it has already ended. */
  kill(signal?: SignalName): boolean;
  /** The jail the program runs in and why; `notEnforced` lists what --allow-weaker-jail gave up. */
  readonly jail: BackendChoice & { readonly notEnforced: readonly string[] };
}

/** The part of a launch that differs between jailed and unjailed runs. */
interface Launched {
  readonly pid: number;
  /** Signals the program (not the jail's helpers). */
  signal(sig: number): void;
  /** Stops the program and everything it started, at once. */
  killAll(): void;
  /** The program's exit status, once it and its jail are gone. */
  readonly ended: Promise<ExitStatus>;
  /** Protections this machine could not enforce (native jail with --allow-weaker-jail). */
  readonly notEnforced?: readonly string[];
}

/**
 * Starts `config.program` with exactly the descriptors, environment, work directory and jail the
 * config describes.
 *
 * @example
 * const child = await startProgram({ program: "/bin/true", args: [], fds: [], env: {}, ipfsApi: "",
 *   jail: DEFAULT_POLICY });
 * (await child.status).code; // 0
 */
export async function startProgram(config: RunConfig): Promise<Child> {
  config.fds.forEach((g, i) => {
    const problem = grantProblem(g, config.fds.slice(0, i));
    if (problem) throw new UsageError(problem);
    checkInherited(g.name, g.source);
  });
  const cleanups = new Cleanups();
  try {
    const program = await locateProgram(config, cleanups);
    const choice = jailChoice(config.jail);
    const workdir = choice.backend === "bwrap" ? jailWorkdir() : hostWorkdir(cleanups);
    const [hostEnd, childEnd] = unixSocketPair();
    const hostSocket = new FdStream(hostEnd);
    // When the program ends its last writes on fd 3 are kept for whoever reads them.
    cleanups.add(() => hostSocket.finish());
    const closeChildEnd = cleanups.add(() => closeFd(childEnd));

    if (program.fetched && choice.backend === "native") throw nativeCannotRunIpfs(config.program);
    const launched = choice.backend === "bwrap"
      ? await launchBwrap(config, program, workdir, childEnd, cleanups, choice)
      : choice.backend === "native"
      ? await launchNative(config, program.path, workdir, childEnd, cleanups, choice)
      : launchDirect(config, program, workdir, childEnd);
    closeChildEnd();

    let ended = false;
    let timedOut = false;
    const timers: ReturnType<typeof setTimeout>[] = [];
    if (config.jail.timeoutMs !== undefined) {
      timers.push(setTimeout(() => {
        timedOut = true;
        launched.signal(SIGNALS.SIGTERM);
        timers.push(setTimeout(() => launched.killAll(), TIMEOUT_GRACE_MS));
      }, config.jail.timeoutMs));
    }
    const status = launched.ended.finally(() => {
      ended = true;
      timers.forEach(clearTimeout);
      cleanups.run();
    }).then((s): ExitStatus => timedOut ? { ...s, code: TIMEOUT_EXIT_CODE, timedOut } : s);
    return {
      pid: launched.pid,
      status,
      hostSocket,
      kill: (signal = "SIGTERM") => {
        if (ended) return false;
        if (signal === "SIGKILL") launched.killAll();
        else launched.signal(SIGNALS[signal]);
        return true;
      },
      jail: { ...choice, notEnforced: launched.notEnforced ?? [] },
    };
  } catch (e) {
    cleanups.run();
    throw e;
  }
}

/**
 * What startProgram would do with `config`, as text (`ww run --explain`); runs nothing. The work
 * directory's name is shown as a pattern, since it is only made when the program starts.
 */
export function explainProgram(config: RunConfig): string[] {
  config.fds.forEach((g, i) => {
    const problem = grantProblem(g, config.fds.slice(0, i));
    if (problem) throw new UsageError(problem);
  });
  const ipfs = isIpfsPath(config.program);
  const path = ipfs
    ? ipfsJailPath(config.program)
    : resolveProgram(config.program, Deno.env.get("PATH") ?? "", Deno.cwd());
  const slots = layoutFds(config.fds);
  const env = childEnv(config.env, slots);
  const choice = jailChoice(config.jail);
  if (ipfs && choice.backend === "native") throw nativeCannotRunIpfs(config.program);
  if (choice.backend === "native") {
    const native = planNative(config, path, "/tmp/ww-XXXXXX", choice);
    return explainRun({ config, path, slots, env, choice, native });
  }
  if (choice.backend !== "bwrap") return explainRun({ config, path, slots, env, choice });
  const host = hostFiles(config.jail.net);
  const controlFd = HOST_SOCKET_FD + 1 + slots.length;
  const bwrap = bwrapArgs({
    policy: config.jail,
    host,
    programPath: path,
    programSource: ipfs ? "" : Deno.realPathSync(path),
    programFd: ipfs ? { fd: controlFd + 2, copy: true } : undefined,
    args: config.args,
    workdir: "/tmp/ww-XXXXXX",
    userPwd: config.env.PWD,
    fds: { seccomp: controlFd, status: controlFd + 1 },
  });
  const argv = launcherArgv(
    { ...findLauncherTools(), limits: config.jail.limits, dropTo: jailHostIdentity(config) },
    [findBwrap(), ...bwrap],
  );
  return explainRun({ config, path, slots, env, choice, bwrap: { host, argv } });
}

/** The program to execute: a local file, or a program from IPFS (see ipfs/fetch.ts). */
interface Program {
  /** What execve(2) takes when no jail is in between. */
  readonly path: string;
  readonly argv0: string;
  /** For a program from IPFS: its descriptor (see FetchedProgram), and where a jail shows it. */
  readonly fetched?: { readonly fd: number; readonly sealed: boolean; readonly jailPath: string };
}

/**
 * Finds a local program, or fetches an IPFS one. The IPFS code is imported only here, on demand:
 * it costs start-up time that a local program must not pay.
 */
async function locateProgram(config: RunConfig, cleanups: Cleanups): Promise<Program> {
  if (!isIpfsPath(config.program)) {
    const path = resolveProgram(config.program, Deno.env.get("PATH") ?? "", Deno.cwd());
    return { path, argv0: config.program };
  }
  const { fetchProgram } = await import("../ipfs/fetch.ts");
  const fetched = await fetchProgram(config.program, {
    api: config.ipfsApi,
    timeoutMs: config.ipfsTimeoutMs,
  });
  // Held open until the program ends: a #! interpreter opens its script by this path late.
  cleanups.add(() => closeFd(fetched.fd));
  return {
    // The child execs ww's own descriptor, which it can reach as ww's child; the descriptor is
    // close-on-exec, so the program does not inherit it.
    path: `/proc/${Deno.pid}/fd/${fetched.fd}`,
    argv0: fetched.name,
    fetched: { fd: fetched.fd, sealed: fetched.sealed, jailPath: ipfsJailPath(config.program) },
  };
}

/** Where a jail shows an IPFS program: at its own (normalized) path, e.g. /ipfs/<cid>/bin/app. */
function ipfsJailPath(program: string): string {
  const parsed = parseIpfsPath(program);
  if ("error" in parsed) throw new UsageError(parsed.error);
  return formatIpfsPath(parsed);
}

function nativeCannotRunIpfs(program: string): SetupError {
  return new SetupError(
    `${program}: the native jail cannot run a program from IPFS yet (use --jail=bwrap or --jail=none)`,
  );
}

/** Runs the program with no jail at all. */
function launchDirect(
  config: RunConfig,
  program: Program,
  workdir: string,
  childEnd: number,
): Launched {
  const slots = layoutFds(config.fds);
  const pid = spawnMapped({
    path: program.path,
    argv: [program.argv0, ...config.args],
    env: childEnv(config.env, slots),
    cwd: workdir,
    fdSteps: planFdSteps([childEnd, ...slots.map((s) => s.source)], HOST_SOCKET_FD),
    newSession: false,
  });
  return {
    pid,
    signal: (sig) => killPid(pid, sig),
    killAll: () => killPid(pid, SIGNALS.SIGKILL),
    ended: waitPid(pid).then((w) =>
      w.exited ? { code: w.code } : { code: 128 + w.signal, signal: signalName(w.signal) }
    ),
  };
}

/**
 * Runs the program under bubblewrap. bwrap gets, after the granted descriptors, the seccomp
 * program and a status pipe on which it reports its sandbox pid 1 and, at the end, the program's
 * exit status. It is started through prlimit(1) (and setpriv(1) when ww is root): see
 * launcherArgv.
 */
async function launchBwrap(
  config: RunConfig,
  program: Program,
  workdir: string,
  childEnd: number,
  cleanups: Cleanups,
  choice: BackendChoice,
): Promise<Launched> {
  const bwrap = findBwrap();
  const tools = findLauncherTools();
  const path = program.fetched?.jailPath ?? program.path;
  const pathProblem = programPathProblem(path);
  if (pathProblem) throw new SetupError(pathProblem);
  for (const b of [...config.jail.readOnlyBinds, ...config.jail.writableBinds]) {
    try {
      Deno.statSync(b.source);
    } catch {
      throw new SetupError(`bind ${b.source}: no such file or directory on this machine`);
    }
  }
  const dropTo = jailHostIdentity(config);
  if (dropTo) {
    if (!program.fetched) {
      checkReachableBy(program.path, program.path, dropTo);
      checkExecutableBy(program.path, dropTo);
    }
    for (const b of config.jail.readOnlyBinds) checkReachableBy("--ro-bind", b.source, dropTo);
    for (const b of config.jail.writableBinds) checkReachableBy("--bind", b.source, dropTo);
  }
  const slots = layoutFds(config.fds);
  const [seccompRead, seccompWrite] = pipe();
  const closeSeccompRead = cleanups.add(() => closeFd(seccompRead));
  try {
    writeAll(seccompWrite, seccompProgram(seccompArch()));
  } finally {
    closeFd(seccompWrite);
  }
  const [statusRead, statusWrite] = pipe();
  const statusStream = new FdStream(statusRead);
  cleanups.add(() => statusStream.close());
  const closeStatusWrite = cleanups.add(() => closeFd(statusWrite));

  // bwrap gets a program from IPFS as a fresh read-only open (a copy reads it from offset 0),
  // and closes that descriptor before the program starts.
  const programRead = program.fetched ? reopenReadOnly(program.fetched.fd) : undefined;
  const closeProgramRead = cleanups.add(() => programRead !== undefined && closeFd(programRead));

  const sources = [childEnd, ...slots.map((s) => s.source), seccompRead, statusWrite];
  if (programRead !== undefined) sources.push(programRead);
  const controlFd = HOST_SOCKET_FD + 1 + slots.length;
  const args = bwrapArgs({
    policy: config.jail,
    host: hostFiles(config.jail.net),
    programPath: path,
    programSource: program.fetched ? "" : Deno.realPathSync(path),
    // A cached program is bound by descriptor, but bwrap resolves that back to its path, which
    // an unprivileged bwrap (ww is root) may not reach: then it copies the program instead.
    programFd: programRead !== undefined
      ? { fd: controlFd + 2, copy: program.fetched!.sealed || dropTo !== undefined }
      : undefined,
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
  closeSeccompRead();
  closeStatusWrite();
  closeProgramRead();

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

/** A fresh private directory on the host (mode 0700), removed with `cleanups`. */
function hostWorkdir(cleanups: Cleanups): string {
  const dir = Deno.makeTempDirSync({ prefix: "ww-" });
  cleanups.add(() => Deno.removeSync(dir, { recursive: true }));
  return dir;
}

/** A fresh name for a work directory that bwrap makes inside the jail (see BwrapInput.workdir). */
function jailWorkdir(): string {
  const random = crypto.getRandomValues(new Uint8Array(8));
  const name = `ww-${Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  return absolutePath("/", `${Deno.env.get("TMPDIR") || "/tmp"}/${name}`);
}

/** How long ww waits for a jail's pid 1 to finish killing the jail's leftover processes. */
const JAIL_TEARDOWN_MS = 5000;

/**
 * The host uid/gid bwrap runs as: when ww is root, the jail's own uid/gid (nobody by default),
 * so that the jail is not host root to the kernel (see launcherArgv); otherwise ww's own.
 */
function jailHostIdentity(config: RunConfig): { uid: number; gid: number } | undefined {
  if (Deno.uid() !== 0) return undefined;
  return { uid: config.jail.uid ?? JAIL_UID, gid: config.jail.gid ?? JAIL_GID };
}

/**
 * bwrap, running as `who`, must be able to walk to a bind's source; say so now, in ww's words,
 * rather than let bwrap fail with EACCES.
 */
function checkReachableBy(what: string, source: string, who: { uid: number; gid: number }): void {
  const parts = source.split("/").filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    const dir = `/${parts.slice(0, i).join("/")}`;
    const info = Deno.statSync(dir);
    const mode = info.mode ?? 0;
    const bit = info.uid === who.uid ? 0o100 : info.gid === who.gid ? 0o010 : 0o001;
    if (!(mode & bit)) {
      throw new SetupError(
        `${
          what === source ? what : `${what} ${source}`
        }: the jail runs as uid ${who.uid}, which cannot enter ${dir} (mode ${
          (mode & 0o777).toString(8).padStart(4, "0")
        }); make it reachable (chmod o+x), or choose the jail's user with --uid/--gid`,
      );
    }
  }
}

/** The jail execs the program as `who`; say so now rather than let bwrap fail with EACCES. */
function checkExecutableBy(path: string, who: { uid: number; gid: number }): void {
  const info = Deno.statSync(path);
  const mode = info.mode ?? 0;
  const bit = info.uid === who.uid ? 0o100 : info.gid === who.gid ? 0o010 : 0o001;
  if (!(mode & bit)) {
    throw new NotExecutableError(
      `${path}: the jail runs programs as uid ${who.uid}, which may not execute this file (chmod o+rx it, or use --jail=none)`,
    );
  }
}

function jailFailed(choice: BackendChoice): SetupError {
  return new SetupError(
    `bubblewrap could not set up the jail or start the program (its reason is on the line above; ${choice.reason}); try --jail=native, which needs no namespaces (ww doctor tells what this machine offers)`,
  );
}

/** The native jail's plan for a run, or a SetupError saying why there can be none. */
function planNative(
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
async function launchNative(
  config: RunConfig,
  path: string,
  workdir: string,
  childEnd: number,
  cleanups: Cleanups,
  choice: BackendChoice,
): Promise<Launched> {
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

/** Clean-up actions, run once, newest first; each runs even when an earlier one fails. */
class Cleanups {
  #actions: (() => void)[] = [];
  /** Registers `action`; the returned function runs it now instead (once), e.g. an early close. */
  add(action: () => void): () => void {
    this.#actions.push(action);
    return () => {
      const i = this.#actions.indexOf(action);
      if (i >= 0) this.#actions.splice(i, 1)[0]();
    };
  }
  run(): void {
    for (const action of this.#actions.reverse()) {
      try {
        action();
      } catch { /* best effort: the remaining clean-ups still run */ }
    }
    this.#actions = [];
  }
}

function checkInherited(name: string, fd: number): void {
  const state = fdState(fd);
  if (state === "closed") {
    throw new SetupError(
      `--with-fd ${name}=${fd}: fd ${fd} is not open in the calling process (open it first, e.g. \`${fd}<file ww run ...\`)`,
    );
  }
  if (state === "close-on-exec") {
    throw new SetupError(
      `--with-fd ${name}=${fd}: fd ${fd} was opened by ww itself, not inherited from the caller (grant a descriptor the caller opened)`,
    );
  }
}

function spawnMapped(spec: SpawnSpec): number {
  try {
    return spawn(spec);
  } catch (e) {
    if (!(e instanceof SyscallError) || e.syscall !== "posix_spawn") throw e;
    if (e.errno === ENOENT) {
      throw new NotFoundError(
        `${spec.argv[0]}: ${e.code} (the file or its interpreter is missing)`,
      );
    }
    if ([EACCES, ENOEXEC, EISDIR, ETXTBSY, ELOOP, ENOTDIR, ENAMETOOLONG].includes(e.errno)) {
      throw new NotExecutableError(`${spec.argv[0]}: cannot execute: ${e.code}`);
    }
    throw new SetupError(`${spec.argv[0]}: could not start: ${e.message}`);
  }
}
