// run/launch.ts — what every backend's launcher shares: the program to run, the launched
// program's handle, clean-ups, and spawning with exec errors mapped to ww's exit codes.

import type { HeldProcess } from "../ffi/process.ts";
import type { JailLease } from "./ids.ts";
import { E2BIG, EAGAIN, ENOENT, ENOEXEC } from "../ffi/errno.ts";
import { spawnWithoutProcessesError } from "./limits.ts";
import { programGone, TOO_LARGE } from "./resolve.ts";
import { closeFd } from "../ffi/fd.ts";
import type { OpGroup } from "../ffi/ops.ts";
import { SyscallError } from "../ffi/libc.ts";
import { readAt, reopenReadOnly } from "../ffi/memfd.ts";
import { spawn, type SpawnSpec } from "../ffi/spawn.ts";
import { autobindUnix } from "../ffi/socket_basics.ts";
import { isSocketDescriptor, pathKind } from "../ffi/stat.ts";
import { type Interpreter, unloadableWhy } from "./script.ts";
import type { BackendChoice } from "../jail/auto.ts";
import type { HeldProgram } from "../jail/held.ts";
import { formatIpfsPath, ipfsProgramProblem, parseIpfsPath } from "../core/ipfs_path.ts";
import type { RunConfig } from "../core/config.ts";
import {
  NOT_EXECUTABLE_ERRNOS,
  NotExecutableError,
  NotFoundError,
  SetupError,
  UsageError,
} from "../core/errors.ts";
import { holdNoSymlinks } from "../ffi/open.ts";
import { makeHeldTempDir, removeTree, sweepUnheld } from "../ffi/dir.ts";
import type { ProgramToPlan } from "./facts.ts";
import type { ExitStatus } from "./start.ts";
import type { ProgramTerminal } from "./tty.ts";
import { workdirRefused, workTmpdir } from "./tmpdir.ts";
import { outOfDescriptors } from "./out_of_descriptors.ts";

/** The part of a launch that differs between jailed and unjailed runs. */
export interface Launched {
  readonly pid: number;
  /**
   * The process ww spawned (the program under none, else the stage, the jail's supervisor), held
   * until it is reaped: every process of the run is it or a descendant.
   */
  readonly root: HeldProcess;
  /** Signals the program (not the jail's helpers). */
  signal(sig: number): void;
  /**
   * For a program that leads a session of its own (every jail's; an unjailed one's with a
   * terminal of its own): stops (SIGSTOP) or continues (SIGCONT) its process group, in order with
   * `signal`. The kernel discards a SIGTSTP there (the group is orphaned), and a terminal's Ctrl-Z
   * stops a whole pipeline, not its first process. Resolves once the signal has gone out (a
   * jail's program may have to be found first).
   */
  signalJob?(stop: boolean): Promise<void>;
  /** Stops the program and everything it started, at once. */
  killAll(): void;
  /**
   * True once the program has ended, though its status may not be read yet (ww's event loop was
   * busy): a timeout that fires now is too late to have stopped it.
   */
  exited(): boolean;
  /** The program's exit status, once it and its jail are gone. */
  readonly ended: Promise<ExitStatus>;
  /**
   * Protections this machine could not enforce (native jail with --allow-weaker-jail), or that
   * need a jail (--jail=none: `read-only <source>` for each --ro-bind).
   */
  readonly notEnforced?: readonly string[];
  /** The jail's host id lease, when ww leased one (root): programs it starts may share it. */
  readonly lease?: JailLease;
}

/** ww's descriptors that become the program's fd 0-3 (fd/plan.ts planChildFds). */
export interface ChildFds {
  /** The program's fd 0-2: a descriptor of ww's for each, or undefined for ww's own. */
  readonly stdio: readonly (number | undefined)[];
  /** ww's child end of the host socket: the program's fd 3. */
  readonly host: number;
}

/** ww's descriptors that become the program's fd 0, 1 and 2. */
export function stdioSources(fds: ChildFds): number[] {
  return [0, 1, 2].map((fd) => fds.stdio[fd] ?? fd);
}

/**
 * Without --net, a unix socket that reaches a jailed program (its fd 3, the host socket; a grant;
 * or its stdin, stdout or stderr: under systemd, a journal stream) still lives in the host's
 * network namespace, where abstract names do: one with no address yet is given one the kernel
 * picks (autobindUnix), so that the program cannot bind it to a name of its choosing there, as a
 * service's (X11's, D-Bus's) before the service starts.
 */
export function nameUnixSockets(request: LaunchRequest): void {
  if (request.config.jail.net) return;
  const { fds, config } = request;
  for (const fd of [...stdioSources(fds), fds.host, ...config.fds.map((g) => g.source)]) {
    if (isSocketDescriptor(fd)) autobindUnix(fd);
  }
}

/** What a launcher is asked to start, and how the run around it takes part. */
export interface LaunchRequest {
  readonly config: RunConfig;
  readonly program: Program;
  readonly fds: ChildFds;
  readonly cleanups: Cleanups;
  readonly choice: BackendChoice;
  /** The run's waits, which keep Deno alive or not together (ChildProcess.unref). */
  readonly ops?: OpGroup;
  /**
   * The program's terminal (its fd 0-2 are already in `fds.stdio`): whether it becomes the
   * controlling terminal of the program's session, and its path.
   */
  readonly terminal?: ProgramTerminal;
  /**
   * Called once the jail is decided and checked, before the program can run (before the spawn;
   * under bwrap once the jail exists, before its set-up ends), with what the jail does not
   * enforce: the caller's words about the jail then come before anything the program writes.
   */
  readonly beforeStart?: (notEnforced: readonly string[]) => void;
  /** The lease of the jail that starts this one (--with-exec): the jail runs as its id. */
  readonly sharedLease?: JailLease;
  /**
   * Called right before the spawn, once every check of the launcher has passed: what must wait
   * until the run can no longer be refused (a `:w` grant's truncation) happens here.
   */
  readonly beforeSpawn?: () => void;
}

/** Starts the program of `request.config` in one backend; see run/launch_*.ts. */
export type Launcher = (request: LaunchRequest) => Promise<Launched>;

/** The program to execute: a local file, or a program from IPFS (see ipfs/fetch.ts). */
export interface Program {
  /** What execve(2) takes when no jail is in between; where a jail shows the program. */
  readonly path: string;
  /**
   * The host file, when `path` is where a program's jail shows it rather than a host path (a
   * program a guest named, found in its view: see run/view.ts). The same file for the native
   * jail and none, whose views put host paths in their own place.
   */
  readonly source?: string;
  readonly argv0: string;
  /**
   * A program held by a descriptor of ww's: from IPFS (see ipfs/fetch.ts), with where a jail
   * shows it; or one a jailed program started (run/guest_program.ts openGuestProgram): not sealed,
   * executed as is, and `source` is the host file it was opened at.
   */
  readonly held?: HeldProgram & { readonly jailPath: string };
  /**
   * The interpreters a local script's #! lines name, outermost first (run/script.ts
   * checkProgramFile): the jail's own user must execute them too.
   */
  readonly interpreters?: readonly Interpreter[];
}

/** What the plan (plan/run.ts, through run/facts.ts) takes of `program`. */
export function launchedProgram(program: Program): ProgramToPlan {
  const { held } = program;
  return {
    path: held?.jailPath ?? program.path,
    argv0: program.argv0,
    ...(program.source !== undefined ? { source: program.source } : {}),
    ...(held ? { held: { sealed: held.sealed, script: held.script } } : {}),
  };
}

/** Clean-up actions, run once, newest first; each runs even when an earlier one fails. */
export interface Cleanups {
  /** Registers `action`; the returned function runs it now instead (once), e.g. an early close. */
  add(action: () => void): () => void;
  /** Runs every action not run yet, newest first. */
  run(): void;
}

/**
 * New, empty Cleanups; every run makes one. Closures, not a class: V8 compiles a class's methods
 * on their first call, while the bundle has these compiled with their file
 * (scripts/eager_compile.ts; issue 13).
 *
 * @example
 * const cleanups = newCleanups();
 * const closeEarly = cleanups.add(() => closeFd(fd));
 * closeEarly(); // closes fd now; cleanups.run() will not close it again
 */
export function newCleanups(): Cleanups {
  let actions: (() => void)[] = [];
  return {
    add: (action) => {
      actions.push(action);
      return () => {
        const i = actions.indexOf(action);
        if (i >= 0) actions.splice(i, 1)[0]();
      };
    },
    run: () => {
      for (const action of actions.reverse()) {
        try {
          action();
        } catch { /* best effort: the remaining clean-ups still run */ }
      }
      actions = [];
    },
  };
}

/**
 * For a held program, a fresh read-only open of its descriptor for a jail to take (the stage
 * executes it, a #! script keeps it, or bwrap copies it from offset 0): a memfd itself is
 * read-write, if sealed. `close` closes it early, once the child holds its own copy;
 * `cleanups` closes it otherwise. No descriptor for a program run by path.
 */
export function reopenHeld(
  program: Program,
  cleanups: Cleanups,
): { readonly fd: number | undefined; readonly close: () => void } {
  const fd = program.held ? reopenReadOnly(program.held.fd) : undefined;
  return { fd, close: cleanups.add(() => fd !== undefined && closeFd(fd)) };
}

/**
 * The program's file at `source` (its real path), opened once refusing any link on its path, for
 * the native stage's rule on it (NativeInput.programFd): programGone's error for `program` when it
 * moved since ww found it. `close` closes it early; `cleanups` otherwise.
 */
export function holdProgramFile(
  source: string,
  program: string,
  cleanups: Cleanups,
): { readonly fd: number; readonly close: () => void } {
  let fd: number;
  try {
    fd = holdNoSymlinks(source);
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    throw outOfDescriptors(e) ?? programGone(program, e.code);
  }
  return { fd, close: cleanups.add(() => closeFd(fd)) };
}

/**
 * A name for a run's private work directory: <TMPDIR>/ww-<16 hex digits>, TMPDIR checked by
 * workTmpdir's one rule. The native jail's stage makes it (and removes it when the run ends, even
 * when ww is killed); bwrap makes it inside the jail. (Math.random: the first use of `crypto`
 * costs start-up time; the name is not a secret, and making it fails when it exists.)
 */
export function workdirPath(): string {
  const hex = () => Math.random().toString(16).slice(2, 10).padEnd(8, "0");
  return `${workTmpdir().replace(/\/$/, "")}/ww-${hex()}${hex()}`;
}

/**
 * The name a --jail=none run's work directory begins with, in TMPDIR: not a native stage's
 * `ww-<hex>` (workdirPath), which holds no lock (its stage removes it, even when ww is killed).
 */
export const HOST_WORKDIR_PREFIX = "ww-none-";

/**
 * A fresh private directory on the host (mode 0700) in TMPDIR, `path`, held (ffi/dir.ts
 * makeHeldTempDir) and removed with `cleanups` until `handOver()`: from then on the caller removes
 * it (run/launch_direct.ts removeWorkdir), and the clean-up does not try again (a second rmdir of
 * a directory gone already fails, and its error object cost every run ~0.3 ms); `release()` lets
 * its lock go then. `sweepOthers()` removes those of runs whose ww was killed (SIGKILL), which
 * nothing else removes, unless a process still works in one (its program outlived ww); it never
 * rejects.
 */
export function hostWorkdir(cleanups: Cleanups): {
  readonly path: string;
  handOver(): void;
  release(): void;
  sweepOthers(): Promise<void>;
} {
  const parent = workTmpdir();
  let dir: string;
  let fd: number;
  try {
    ({ path: dir, fd } = makeHeldTempDir(parent, HOST_WORKDIR_PREFIX));
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    throw outOfDescriptors(e) ?? workdirRefused(e.code);
  }
  let handedOver = false;
  const release = cleanups.add(() => {
    try {
      if (handedOver) return;
      // With what the program left there; short of descriptors, an empty one all the same.
      removeTree(dir);
    } finally {
      closeFd(fd); // once it is gone: a sweeper never sees it unheld before
    }
  });
  return {
    path: dir,
    handOver: () => handedOver = true,
    release,
    // A TMPDIR ww may not list: nothing is swept, and the run goes on.
    sweepOthers: () => sweepUnheld(parent, HOST_WORKDIR_PREFIX, isSomeonesCwd).catch(() => {}),
  };
}

/**
 * Whether a process this user may look at has its cwd at `dir` or below (/proc/<pid>/cwd): a
 * --jail=none program that outlived ww (it is not killed with ww) works on in its directory.
 */
function isSomeonesCwd(dir: string): boolean {
  for (const e of Deno.readDirSync("/proc")) {
    const c = e.name.charCodeAt(0);
    if (c < 0x30 || c > 0x39) continue; // only the pid directories
    try {
      const cwd = Deno.readLinkSync(`/proc/${e.name}/cwd`);
      if (cwd === dir || cwd.startsWith(`${dir}/`)) return true;
    } catch {
      // Gone, or another user's.
    }
  }
  return false;
}

/** `status`, with `workdir` as its workdirLeft when that is still there. */
export function withWorkdirLeft(status: ExitStatus, workdir: string): ExitStatus {
  return pathKind(workdir, false) === undefined ? status : { ...status, workdirLeft: workdir };
}

/**
 * Where a jail shows an IPFS program: at its own (normalized) path, e.g. /ipfs/<cid>/bin/app. A
 * path with a trailing '/' is refused (126), as fetchProgram refuses it.
 */
export function ipfsJailPath(program: string): string {
  const parsed = parseIpfsPath(program);
  if ("error" in parsed) throw new UsageError(parsed.error);
  const slash = ipfsProgramProblem(program, parsed);
  if (slash) throw new NotExecutableError(slash);
  return formatIpfsPath(parsed);
}

/**
 * posix_spawn, with exec failures as NotFound (127) / NotExecutable (126) errors, and EAGAIN (no
 * process for ww's user, or for the machine) as a SetupError naming the limit and the fix.
 */
export function spawnMapped(spec: SpawnSpec): number {
  try {
    return spawn(spec);
  } catch (e) {
    if (!(e instanceof SyscallError) || e.syscall !== "posix_spawn") throw e;
    if (e.errno === ENOENT) {
      throw new NotFoundError(
        `${spec.argv[0]}: ${e.code} (the file or its interpreter is missing)`,
      );
    }
    if (NOT_EXECUTABLE_ERRNOS.has(e.errno)) {
      throw new NotExecutableError(
        `${spec.argv[0]}: cannot execute: ${e.code}${
          e.errno === ENOEXEC ? ` (${unloadableWhy(spec.path)})` : ""
        }`,
      );
    }
    // The stage carries the program's environment too: say what is too large, not whose exec.
    if (e.errno === E2BIG) throw new UsageError(TOO_LARGE);
    // No process to be had (RLIMIT_NPROC, or the machine's bound): which, and what to do.
    if (e.errno === EAGAIN) throw spawnWithoutProcessesError(spec.argv[0]);
    throw new SetupError(`${spec.argv[0]}: could not start: ${e.message}`);
  }
}

/** Whether the program behind `fd` is a #! script (HeldProgram.script). */
export function isScript(fd: number): boolean {
  const head = new Uint8Array(2);
  readAt(fd, head, 0);
  return head[0] === 0x23 && head[1] === 0x21; // "#!"
}
