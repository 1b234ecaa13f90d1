// run/start.ts — starts a program as ww's child: checks the grants against the real descriptor
// table, finds (or fetches) the program, makes the host socket, hands over to the chosen
// backend's launcher (run/launch_*.ts), enforces the timeout, and reaps. Everything it creates
// is removed when the program ends or when starting fails.

import { closeFd, fdState, holdDuplicate, unixSocketPair } from "../ffi/fd.ts";
import type { FdGrant, LaidOutGrant } from "../fd/layout.ts";
import { pageSize, SyscallError } from "../ffi/libc.ts";
import { FdStream } from "../ffi/stream.ts";
import { OpGroup } from "../ffi/ops.ts";
import { keepCallerFds } from "./caller_fds.ts";
import { callerEnvironment } from "./caller_env.ts";
import type { BackendChoice } from "../jail/auto.ts";
import {
  backendProblem,
  DEFAULT_POLICY,
  durationProblem,
  type JailPolicy,
  limitNameProblem,
  type Limits,
  limitValueProblem,
  TIMEOUT_GRACE_MS,
} from "../jail/policy.ts";
import { DEFAULT_IPFS_API, ipfsApiUrl } from "../ipfs/multiaddr.ts";
import { isIpfsPath } from "../core/ipfs_path.ts";
import { startConfigShapeProblem } from "../core/start_config_shape.ts";
import { jailChoice } from "./auto.ts";
import {
  execStringsProblem,
  grantsProblem,
  hostFdVariableProblem,
  jailIdProblem,
  MAX_FD,
  type RunConfig,
  unbackedFdVariableProblem,
} from "../core/config.ts";
import { ownGrantsProblem, socketActivationProblem, type Wording } from "../fd/grants.ts";
import type { Listener, OpenedGrants } from "./own_grants.ts";
import {
  ClosedFdError,
  EXIT,
  GrantError,
  LimitError,
  NamespacesUnavailableError,
  TimedOutError,
  UsageError,
  WwError,
} from "../core/errors.ts";
import {
  type Cleanups,
  ipfsJailPath,
  isScript,
  type Launcher,
  newCleanups,
  type Program,
} from "./launch.ts";
import { programGone, runProgramPath } from "./resolve.ts";
import type { OpenedProgram } from "./guest_program.ts";
import { checkNotUnderProc, checkProgramFile, type Interpreter } from "./script.ts";
import { workTmpdir } from "./tmpdir.ts";
import { outOfDescriptors } from "./out_of_descriptors.ts";
import type { JailLease } from "./ids.ts";
import { type SignalName, SIGNALS, STOP_SIGNALS } from "./signals.ts";
import type { ViewPath } from "./view.ts";
import { lazyImport } from "../core/lazy.ts";
import { launchDirect } from "./launch_direct.ts";

/**
 * How the program ended, as a shell reports it.
 *
 * @example
 * ```ts ignore
 * const { code, signal, timedOut } = await child.status;
 * if (timedOut) console.error("stopped after --timeout, exit", code); // 124
 * ```
 */
export interface ExitStatus {
  /** The exit code; 128+N when killed by signal N; 124 when --timeout stopped it. */
  readonly code: number;
  /** The signal that killed it, under every backend (the bwrap jail's pid 1, ww's stage, reports it). */
  readonly signal?: SignalName;
  /** Set when the timeout expired and ww stopped the program. */
  readonly timedOut?: boolean;
  /**
   * The run's work directory on the host, when it is left behind: it holds what the jail's user
   * may not remove, which the program moved in (from a --bind, say), or what ww could not remove.
   */
  readonly workdirLeft?: string;
}

/**
 * Exit code reported when --timeout stopped the program (as timeout(1) does).
 *
 * @example
 * ```ts ignore
 * const status = await child.status;
 * if (status.code === TIMEOUT_EXIT_CODE && status.timedOut) console.error("too slow");
 * ```
 */
export const TIMEOUT_EXIT_CODE: 124 = EXIT.timedOut;

/**
 * A running program.
 *
 * @example
 * ```ts ignore
 * const child: Child = await startProgram(config);
 * child.kill("SIGTERM");
 * const { code } = await child.status; // 143: killed by SIGTERM
 * ```
 */
export interface Child {
  /**
   * The pid ww spawned: the program itself with no jail (backend "none"); in a jail, the jail's
   * stage on the host, which supervises the program and ends once it and its jail are gone. Signal
   * the program with `kill`, not through this pid: under bwrap the stage passes no signal on, and
   * no stage passes on SIGKILL or SIGSTOP.
   */
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
  /**
   * Resolves once the job-control signals kill() sent so far (SIGTSTP, SIGCONT) have gone out: a
   * jail's program may have to be found first. ww stops itself after a Ctrl-Z only then.
   */
  delivered(): Promise<void>;
  /**
   * The jail the program runs in and why; `notEnforced` lists what --allow-weaker-jail gave up,
   * or, with no jail (backend "none"), `read-only <source>` for each read-only bind, which only a
   * jail can enforce; `fellBack` is set when --jail=auto had chosen bwrap, which failed before the
   * jail existed, and the program runs in the native jail instead (see NamespacesUnavailableError).
   */
  readonly jail: BackendChoice & {
    readonly notEnforced: readonly string[];
    readonly fellBack?: boolean;
  };
  /**
   * The program as its jail shows it, and the host file that is (see run/view.ts); undefined for
   * a program from IPFS.
   */
  readonly program?: ViewPath;
  /** Where each `own` listening grant landed, in the config's order. */
  readonly listeners: readonly Listener[];
  /** The path of the pseudo-terminal the program has as fd 0-2, if not ww's (RunConfig.tty). */
  readonly terminal?: string;
}

/**
 * How a start may be cut short.
 *
 * @example
 * ```ts ignore
 * const abort = new AbortController();
 * setTimeout(() => abort.abort(), 5000); // give up on a slow IPFS fetch
 * const child = await startProgram(config, { signal: abort.signal });
 * ```
 */
export interface StartOptions {
  /**
   * Aborting it stops what a start can wait on for long: the fetch of an IPFS program, and a
   * grant's waits (an `open` FIFO's other end, a `connect`, a name lookup). Aborted at any moment
   * before the program is spawned (already aborted too), nothing starts and startProgram rejects
   * with the abort's reason, whatever it stopped (an IPFS fetch too); an InterruptedError, ww's own
   * reason, is reworded for the grant it stopped.
   * Aborted later, it changes nothing: stop the program with Child.kill.
   */
  readonly signal?: AbortSignal;
  /**
   * The program, already found where a jail shows it (resolveGuestProgram in run/view.ts) and
   * opened there (openGuestProgram in run/guest_program.ts): started from its descriptor, instead
   * of looking `config.program` up in ww's own PATH and cwd. startProgram owns the descriptor from
   * the call on, and closes it when the program has ended or could not start.
   */
  readonly program?: OpenedProgram;
  /**
   * Told where the listeners landed, once the jail is decided and before the program can write
   * anything (after onJail): a run refused before it starts announces no port it never serves.
   */
  readonly onListening?: (listeners: readonly Listener[]) => void;
  /**
   * Told which jail the program runs in (Child.jail) once it is decided, before the program can
   * write anything: what the caller says of the jail then comes before the program's output.
   */
  readonly onJail?: (jail: Child["jail"]) => void;
  /**
   * Called right before the program's process (a jail's first) is spawned: from then on it may
   * run before start() returns it (a Ctrl-Z that came meanwhile must stop it too).
   */
  readonly onSpawn?: () => void;
  /**
   * Where ww's lines about fetching an IPFS program go (a warning, a notice that the node is
   * slow), when a program already has the terminal (one a guest starts while its run goes on): no
   * progress line is drawn then. Default: written to stderr, with a progress line on a terminal.
   */
  readonly notices?: (line: string) => void;
  /**
   * The program's fd 0-2: a descriptor of the caller's for each (a pipe's end, /dev/null), or
   * undefined for ww's own; default: all three ww's own. The run holds duplicates from the call
   * on, so the caller may close its own at once; the programs the run's guest starts (host exec)
   * get them too, never ww's own in their place.
   */
  readonly stdio?: readonly (number | undefined)[];
  /**
   * Where the run's waits and timers go, so they keep Deno alive or not together
   * (ChildProcess.unref); by default they always do.
   */
  readonly ops?: OpGroup;
  /**
   * The terminal (Child.terminal) of the run that starts this program (--with-exec): without a
   * terminal of its own (`config.tty`), the program gets it as fd 0-2 instead of ww's own, so
   * that no program of a run with a terminal holds the caller's.
   */
  readonly terminal?: string;
  /**
   * The program that starts this one (--with-exec, Executor.start): when ww leased a host id for
   * its jail (as root), this program's jail runs as that id too, holding it until both have
   * ended, so that --nproc (RLIMIT_NPROC, per uid) is one budget for the programs of a run, not
   * one more for each start.
   */
  readonly startedBy?: Pick<Child, "jail">;
  /**
   * How much of `jail.timeoutMs` the run already spent before this call (the bundling of a
   * `--deno` guest): the deadline comes that much sooner, and still names the whole limit.
   */
  readonly spentMs?: number;
}

/** The host id lease of each started program's jail, for the programs it starts (startedBy). */
const jailLeases = new WeakMap<Pick<Child, "jail">, JailLease>();

/** A run's held grants (see heldGrants), and how many hold them open. */
interface HeldGrants {
  /** The config's grants as the run holds them: `source` ww's duplicate, `callerFd` the caller's. */
  readonly grants: LaidOutGrant[];
  /** StartOptions.stdio as the run holds it: ww's duplicate of each the caller gave. */
  readonly stdio: (number | undefined)[];
  holders: number;
}

/** One holder of `held` lets go: the last closes the duplicates. */
function releaseHeld(held: HeldGrants): void {
  if (--held.holders > 0) return;
  for (const g of held.grants) closeFd(g.source);
  for (const fd of held.stdio) if (fd !== undefined) closeFd(fd);
}

/** The held grants of each started program, for the programs its guest starts (execService). */
const runGrants = new WeakMap<Pick<Child, "jail">, HeldGrants>();

/**
 * The grants `child`'s run holds (close-on-exec duplicates, taken when the run was asked for), held
 * open until `release` even past the run's end, for a start that passes them on; undefined once
 * they are closed (the run has ended, and nothing holds them). A number the caller gave may name
 * another file by then: its own was closed, or never was the run's.
 */
export function heldGrants(
  child: Pick<Child, "jail">,
):
  | {
    readonly grants: readonly FdGrant[];
    readonly stdio: readonly (number | undefined)[];
    readonly release: () => void;
  }
  | undefined {
  const held = runGrants.get(child);
  if (!held || held.holders === 0) return undefined;
  held.holders++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    releaseHeld(held);
  };
  // What startProgram takes: the duplicate as the source. Its run finds the caller's number
  // through startedBy.
  return {
    grants: held.grants.map(({ name, source }) => ({ name, source })),
    stdio: held.stdio,
    release,
  };
}

/**
 * Whether `child`'s run was given fd 0-2 of its caller's (StartOptions.stdio): the programs its
 * guest starts share them, and none may start with ww's own once the run has let them go.
 */
export function hadOwnStdio(child: Pick<Child, "jail">): boolean {
  const held = runGrants.get(child);
  return held !== undefined && hadOwnStdioIn(held);
}

function hadOwnStdioIn(held: HeldGrants): boolean {
  return held.stdio.some((fd) => fd !== undefined);
}

/**
 * A RunConfig in which everything but the program may be left out: no arguments, no grants, an
 * empty environment, the IPFS node at DEFAULT_IPFS_API, and DEFAULT_POLICY's jail; a jail that
 * names some of its fields takes DEFAULT_POLICY's for the others (its limits, when given, are
 * taken whole: `{}` is no limits).
 *
 * @example
 * ```ts ignore
 * const config: StartConfig = { program: "/bin/true", jail: { backend: "native" } };
 * await startProgram(config);
 * ```
 */
export type StartConfig =
  & Pick<RunConfig, "program">
  & Partial<Omit<RunConfig, "program" | "jail">>
  & { readonly jail?: Partial<JailPolicy> };

/** `config` with StartConfig's defaults filled in; a UsageError when it is none (its shape). */
export function withRunDefaults(config: StartConfig): RunConfig {
  // From plain JavaScript anything may come: a field of another type, or one misspelt.
  const shape = startConfigShapeProblem(config);
  if (shape) throw new UsageError(shape);
  // As Command's ipfsApi is: a run of a local program took any string, unchecked until used. An
  // empty one names no node (a RunConfig must have the field; a run of a local program needs none).
  if (config.ipfsApi !== undefined && config.ipfsApi !== "") {
    const api = ipfsApiUrl(config.ipfsApi);
    // In the words a fetch from it used (ipfs/node.ts).
    if ("error" in api) throw new UsageError(`ipfsApi ${api.error}`);
  }
  return {
    ...config,
    args: config.args ?? [],
    fds: config.fds ?? [],
    env: config.env ?? {},
    ipfsApi: config.ipfsApi ?? DEFAULT_IPFS_API,
    // A field set to undefined is left out: it took the default's place ("jail.backend: undefined
    // is not one of ...", "Cannot read properties of undefined").
    jail: { ...DEFAULT_POLICY, ...definedFields(config.jail) },
  };
}

/** The fields of `record` whose value is not undefined. */
function definedFields<T extends object>(record: T | undefined): Partial<T> {
  if (!record) return {};
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<
    T
  >;
}

/**
 * Starts `config.program` with exactly the descriptors, environment, work directory and jail the
 * config describes (the defaults of StartConfig for what it leaves out).
 *
 * @example
 * const child = await startProgram({ program: "/bin/true" });
 * (await child.status).code; // 0
 */
export async function startProgram(
  input: StartConfig,
  options: StartOptions = {},
): Promise<Child> {
  let config: RunConfig;
  try {
    const problem = startOptionsProblem(options);
    if (problem) throw new UsageError(problem);
    config = withRunDefaults(input);
  } catch (e) {
    closeGivenProgram(options);
    throw e;
  }
  return await startRun(config, options);
}

/**
 * Closes the program descriptor of `options` (StartOptions.program), when it is one, for a start
 * refused before startRun took it: startProgram owns it from the call on, and each refused call
 * of a library caller left one open.
 */
function closeGivenProgram(options: unknown): void {
  const program = typeof options === "object" && options !== null
    ? (options as { program?: unknown }).program
    : undefined;
  if (START_OPTIONS.program[0](program)) closeFd((program as OpenedProgram).fd);
}

/** StartOptions' fields, and what each must be. */
const START_OPTIONS: Record<string, [(v: unknown) => boolean, string]> = {
  signal: [(v) => v instanceof AbortSignal, "an AbortSignal"],
  program: [
    (v) => {
      const p = v as Partial<OpenedProgram> | null;
      return typeof p === "object" && p !== null && Number.isInteger(p.fd) &&
        (p.fd as number) >= 0 && (p.fd as number) <= MAX_FD && typeof p.path === "string" &&
        typeof p.source === "string";
    },
    "an OpenedProgram ({ fd, path, source }: resolveGuestProgram and openGuestProgram make one)",
  ],
  onListening: [(v) => typeof v === "function", "a function"],
  onJail: [(v) => typeof v === "function", "a function"],
  notices: [(v) => typeof v === "function", "a function"],
  stdio: [
    (v) =>
      Array.isArray(v) && v.length === 3 &&
      Array.from(v).every((fd) =>
        fd === undefined || (Number.isInteger(fd) && fd >= 0 && fd <= MAX_FD)
      ),
    `a list of 3 descriptors (0 to ${MAX_FD}) or undefined, for fd 0, 1 and 2`,
  ],
  ops: [(v) => v instanceof OpGroup, "an OpGroup"],
  terminal: [(v) => typeof v === "string", "a path"],
  startedBy: [(v) => typeof v === "object" && v !== null, "a Child"],
};

/**
 * Why `options`, startProgram's second argument from any caller, is no StartOptions, naming the
 * field; or undefined. A descriptor of 2**32 + 2 reached the program as fd 2, and an `ops` of
 * another shape failed once the run was under way, leaving its descriptors behind.
 */
function startOptionsProblem(options: unknown): string | undefined {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    return `startProgram's options must be an object (got ${
      options === null ? "null" : typeof options
    })`;
  }
  for (const [key, value] of Object.entries(options)) {
    // Own keys only: "constructor" or "toString" found Object.prototype's.
    const field = Object.hasOwn(START_OPTIONS, key) ? START_OPTIONS[key] : undefined;
    if (!field) {
      return `options.${key}: no such option (known: ${Object.keys(START_OPTIONS).join(", ")})`;
    }
    if (value !== undefined && !field[0](value)) return `options.${key}: must be ${field[1]}`;
  }
  return undefined;
}

/**
 * startProgram for a config whose shape ww built and checked itself (lib/command.ts): the shape
 * check cost a run ~5 KiB of garbage (tests/run/memory_test.ts), for nothing there.
 */
export async function startRun(config: RunConfig, options: StartOptions = {}): Promise<Child> {
  const cleanups = newCleanups();
  const guest = options.program;
  if (guest) cleanups.add(() => closeFd(guest.fd));
  try {
    checkRunConfig(config);
    checkGrantsOpen(config.fds);
    checkStdioOpen(options.stdio);
    // The caller's grants as the run holds them from here, before anything waits: a library
    // caller may close its own once it has asked for the run (Deno.Command's spawn is
    // synchronous), and by the time the program started, or its guest started another with them,
    // their numbers named another run's pipe or another tenant's file.
    // A program a guest starts is given its starter's duplicates: the caller's numbers are its
    // starter's (the order of the grants, what ww says of them, whose state is kept).
    const starter = options.startedBy && runGrants.get(options.startedBy);
    const callerFdOf = (fd: number) => starter?.grants.find((g) => g.source === fd)?.callerFd ?? fd;
    // Given back by cleanups from the first on: out of descriptors halfway, those taken go too.
    const held: HeldGrants = { grants: [], stdio: [], holders: 1 };
    cleanups.add(() => releaseHeld(held));
    for (const g of config.fds) {
      held.grants.push({ ...g, source: holdDuplicate(g.source), callerFd: callerFdOf(g.source) });
    }
    const grants = held.grants;
    // The caller's fd 0-2 for the program, held alike: they may be closed once asked for too,
    // and the programs its guest starts share them (a Command's pipes or /dev/null, never the
    // caller's own fd 0-2, which it did not give).
    for (const fd of options.stdio ?? []) {
      held.stdio.push(fd === undefined ? fd : holdDuplicate(fd));
    }
    // The caller's descriptors, shared with the program: their state comes back when the run
    // ends. ww's fd 0-2 that the program gets (none under a terminal, which is fd 0-2), and the
    // caller's grants. (A library caller's stdio are its own, or the pipes a Command makes and
    // closes at once.)
    const asked = options.stdio ? held.stdio : [undefined, undefined, undefined];
    const withTerminal = config.tty || options.terminal !== undefined;
    const ownStdio = withTerminal ? [] : [0, 1, 2].filter((fd) => asked[fd] === undefined);
    keepCallerFds(
      ownStdio,
      config.fds.map((g) => ({ fd: g.source, as: callerFdOf(g.source) })),
      cleanups,
    );
    // Before a program from IPFS is fetched: every backend makes its work directory there.
    workTmpdir();
    const located: Program = guest
      ? {
        // Every backend executes the descriptor, as for a program from IPFS: the file ww found
        // and checked, whatever the guest did to its path since.
        path: `/proc/${Deno.pid}/fd/${guest.fd}`,
        source: guest.source,
        argv0: config.program,
        held: { fd: guest.fd, sealed: false, script: isScript(guest.fd), jailPath: guest.path },
      }
      : await locateProgram(config, cleanups, options.signal, options.notices);
    const ops = options.ops ?? new OpGroup();
    // --timeout runs from here on, over every wait of the start too (a grant's, the jail's).
    const deadline = runDeadline(config.jail.timeoutMs, ops, options.signal, options.spentMs);
    cleanups.add(deadline.cancel);
    const signal = deadline.signal;
    let choice = await jailChoice(config.jail);
    let interpreters: Interpreter[] = [];
    if (located.held) {
      // A file ww holds (a guest's, or a program from IPFS) is checked as it will be executed,
      // from that descriptor: a #! line's interpreter is named alike for every program.
      const file = `/proc/self/fd/${located.held.fd}`;
      interpreters = checkProgramFile(config.program, file, choice.backend, config.jail);
    } else {
      checkNotUnderProc(config.program, located.path);
      const file = located.source ?? located.path;
      interpreters = checkProgramFile(config.program, file, choice.backend, config.jail);
    }
    // A #! script's interpreters, which the jail's own user must be able to execute too.
    const program = interpreters.length > 0 ? { ...located, interpreters } : located;
    // The sockets' code is loaded only for a run that has own grants.
    const opened: OpenedGrants = config.own?.length
      ? await (await lazyImport<typeof import("./own_grants.ts")>("run/own_grants.ts"))
        .openOwnGrants(config.own, cleanups, config.socketActivation ?? false, signal)
      : { fds: [], listeners: [], start: () => {}, keep: () => {}, closeInWw: () => {} };
    // The terminal code is loaded only for a run with a terminal: the others must not pay for it.
    const tty = config.tty || options.terminal !== undefined
      ? await lazyImport<typeof import("./tty.ts")>("run/tty.ts")
      : undefined;
    const ownTerminal = config.tty ? tty!.openTerminal(cleanups) : undefined;
    const shared = !ownTerminal && options.terminal !== undefined
      ? tty!.sharedTerminal(options.terminal, cleanups)
      : undefined;
    const terminal = ownTerminal ?? shared;
    // The launchers lay out and pass every grant alike: the caller's and ww's own, which carry
    // their marks (LaidOutGrant) into the planners' layoutFds. A caller's grants have none:
    // RunConfig.fds, a caller's type, does not take them.
    const launchConfig = { ...config, fds: [...grants, ...opened.fds] };
    const [hostEnd, childEnd] = unixSocketPair();
    const hostSocket = new FdStream(hostEnd, ops);
    // When the program ends its last writes on fd 3 are kept for whoever reads them.
    cleanups.add(() => hostSocket.finish());
    const closeChildEnd = cleanups.add(() => closeFd(childEnd));

    // A terminal of the program's own (or its run's) is its fd 0-2, whatever else was asked.
    const stdio = terminal ? [terminal.slave, terminal.slave, terminal.slave] : asked;
    const childFds = { stdio, host: childEnd };
    const launch = async (chosen: typeof choice) =>
      (await launcher(chosen.backend))({
        config: launchConfig,
        program,
        fds: childFds,
        cleanups,
        choice: chosen,
        ops,
        terminal,
        beforeStart: (notEnforced) => {
          // Told nothing of a jail an abort stops before the spawn (under bwrap, just after).
          if (signal?.aborted) return;
          options.onJail?.({ ...chosen, notEnforced, ...(fellBack ? { fellBack } : {}) });
          options.onListening?.(opened.listeners);
        },
        sharedLease: options.startedBy && jailLeases.get(options.startedBy),
        // The last moment an abort starts nothing (and truncates no --open ...:w).
        beforeSpawn: () => {
          signal?.throwIfAborted();
          opened.start();
          options.onSpawn?.();
        },
      });
    let launched;
    let fellBack = false;
    try {
      launched = await launch(choice);
    } catch (e) {
      // --jail=auto remembered that bwrap works, but here it could not even create the jail
      // (nothing of the program ran), and a fresh try agrees: this run, and the next ones, go
      // to the native jail (e.fallback's backend).
      if (!(e instanceof NamespacesUnavailableError)) throw e;
      choice = e.fallback;
      fellBack = true;
      launched = await launch(choice);
    }
    closeChildEnd();
    ownTerminal?.start(launched.root);
    shared?.close();
    opened.closeInWw();

    let ended = false;
    let timedOut = false;
    // A stopped program holds a signal that asks it to end pending until it runs again: such a
    // signal wakes it too, as timeout(1) and shells do; its whole group where it has one of its
    // own (Launched.signalJob), which a Ctrl-Z stopped.
    let jobSignalled = Promise.resolve();
    const wake = () => {
      if (launched.signalJob) jobSignalled = launched.signalJob(false);
      else launched.signal(SIGNALS.SIGCONT);
    };
    deadline.onExpiry(() => {
      // Fired late (a busy caller's event loop) for a program that ended in time.
      if (launched.exited()) return;
      timedOut = true;
      ownTerminal?.endSoon();
      launched.signal(SIGNALS.SIGTERM);
      wake();
      ops.setTimeout(() => launched.killAll(), TIMEOUT_GRACE_MS);
    });
    // The files the --opens created stay once the program ran (a jail that failed even after the
    // spawn, as bwrap may, ends in a rejection: they are removed then).
    // When ww loses track of the program (a wait failed), it stops the program before it cleans up
    // after it: nothing runs on that ww no longer waits for.
    const status = launched.ended.then((s) => (opened.keep(), s), (e) => {
      launched.killAll();
      throw e;
    }).finally(async () => {
      ended = true;
      // The group's timers (ffi/ops.ts), not the timer globals, whose first use costs ~4 ms.
      ops.clearTimers();
      try {
        // The program's last output reaches the caller before its status does.
        await ownTerminal?.finish();
      } finally {
        cleanups.run();
      }
    }).then(
      (s): ExitStatus => timedOut ? { ...s, code: TIMEOUT_EXIT_CODE, timedOut } : s,
      (e) => {
        throw outOfDescriptors(e) ?? e;
      },
    );
    const child: Child = {
      pid: launched.pid,
      status,
      hostSocket,
      kill: (signal = "SIGTERM") => {
        // A name from outside TypeScript (a guest, a library caller) must not reach kill(2) as
        // undefined: every backend refuses it alike.
        if (!Object.hasOwn(SIGNALS, signal)) throw unknownSignal(signal);
        // Asked to end, ww passes on the program's last output only for a while (run/tty.ts).
        if (STOP_SIGNALS.includes(signal) || signal === "SIGKILL") ownTerminal?.endSoon();
        if (ended) return false;
        if (signal === "SIGKILL") launched.killAll();
        // Job control, as a shell does it: the program's whole process group, where it has one
        // of its own (Launched.signalJob).
        else if (launched.signalJob && (signal === "SIGTSTP" || signal === "SIGCONT")) {
          jobSignalled = launched.signalJob(signal === "SIGTSTP");
        } else {
          launched.signal(SIGNALS[signal]);
          if (STOP_SIGNALS.includes(signal)) wake();
        }
        return true;
      },
      delivered: () => jobSignalled,
      jail: {
        ...choice,
        notEnforced: launched.notEnforced ?? [],
        ...(fellBack ? { fellBack } : {}),
      },
      program: guest
        ? { path: guest.path, source: guest.source }
        : program.held
        ? undefined
        : { path: program.path, source: realPathOr(program.source ?? program.path) },
      listeners: opened.listeners,
      ...(terminal ? { terminal: terminal.name } : {}),
    };
    if (launched.lease) jailLeases.set(child, launched.lease);
    if (grants.length > 0 || hadOwnStdioIn(held)) runGrants.set(child, held);
    return child;
  } catch (e) {
    cleanups.run();
    // Stopped by the caller's own reason (no WwError: ww's own, an InterruptedError or a
    // TimedOutError, are worded for what they stopped): rejected with it, whatever was waiting. A
    // fetch from IPFS had wrapped it in a SetupError, where every other wait gave it as it was.
    const reason = options.signal?.aborted ? options.signal.reason : undefined;
    if (options.signal?.aborted && !(reason instanceof WwError)) throw reason;
    throw outOfDescriptors(e) ?? (guest ? undefined : programChanged(config, e)) ?? e;
  }
}

/** A run's --timeout (runDeadline). */
interface Deadline {
  /** The start's waits end when it is aborted: by the caller's signal, or by the timeout. */
  readonly signal: AbortSignal | undefined;
  /**
   * What the timeout does once the program runs (`stop` it); called at once when the time ran
   * out meanwhile (the jail's start, after the spawn, is not cut short). Until then it aborts
   * `signal` with a TimedOutError.
   */
  onExpiry(stop: () => void): void;
  /** Stops the timer (the start failed, or the run ended). */
  readonly cancel: () => void;
}

/**
 * The one timer of `timeoutMs` (jail.timeoutMs), started once the program is found: a program
 * from IPFS is fetched within ipfsTimeoutMs of silence instead, and its fetch does not eat the
 * program's time. Before the spawn, its end aborts the start's waits (a grant's: a FIFO's other
 * end, a connect, a name lookup), `outer`'s abort too, and nothing starts (a TimedOutError, 124);
 * from the spawn on it stops the program, within `timeoutMs` of the start, not of the spawn,
 * less `spentMs` the run spent before the start (a --deno guest's bundling).
 */
function runDeadline(
  timeoutMs: number | undefined,
  ops: OpGroup,
  outer: AbortSignal | undefined,
  spentMs = 0,
): Deadline {
  if (timeoutMs === undefined) return { signal: outer, onExpiry: () => {}, cancel: () => {} };
  const expiry = new AbortController();
  const why = "expired before the program started (ww was still opening its grants or " +
    "starting its jail); nothing was run";
  let expired = () =>
    expiry.abort(
      new TimedOutError(timeoutMs, `jail.timeoutMs ${timeoutMs} ${why}`, {
        commandLine: `--timeout ${timeoutMs / 1000}s ${why}`,
      }),
    );
  const cancel = ops.setTimeout(() => expired(), Math.max(0, timeoutMs - spentMs));
  return {
    signal: outer ? AbortSignal.any([outer, expiry.signal]) : expiry.signal,
    onExpiry: (stop) => {
      if (expiry.signal.aborted) stop();
      else expired = stop;
    },
    cancel,
  };
}

/**
 * The resolver's own error (no such file, 127; is a directory, 126) for a local program that is
 * gone or changed since ww found it, when `e`, a failure that is not ww's word for it, came of
 * that: the checks and launchers read its path again (its real path, its owner and mode), and a
 * program replaced in between made ww say "internal error: No such file or directory".
 */
function programChanged(config: RunConfig, e: unknown): WwError | undefined {
  if (e instanceof WwError || isIpfsPath(config.program)) return undefined;
  let path: string;
  try {
    path = runProgramPath(config);
  } catch (now) {
    return now instanceof WwError ? now : undefined;
  }
  // Back by now: Deno's error, or ww's own call's, names the path it failed on.
  if (e instanceof Deno.errors.NotFound && e.message.includes(`'${path}'`)) {
    return programGone(config.program);
  }
  if (e instanceof SyscallError && e.context === path) return programGone(config.program, e.code);
  return undefined;
}

/**
 * Throws a UsageError for what `config` asks that no run can do (startProgram, explainProgram):
 * worded for a library caller, with the flags' words as `commandLine` where they differ.
 */
export function checkRunConfig(config: RunConfig): void {
  const inputProblem = execStringsProblem(config, pageSize) ?? backendProblem(config.jail.backend);
  if (inputProblem) throw new UsageError(inputProblem);
  const own = config.own ?? [];
  const problems = [
    (w: Wording) => grantsProblem(config.fds, w),
    (w: Wording) => ownGrantsProblem(own, config.fds, w),
    (w: Wording) => socketActivationProblem(own, config.socketActivation, w),
    (w: Wording) =>
      unbackedFdVariableProblem(config.env, [...config.fds, ...own].map((g) => g.name), w),
    (w: Wording) => hostFdVariableProblem(config.env, config.socketActivation ?? false, w),
  ];
  for (const problem of problems) {
    const commandLine = problem("commandLine");
    if (commandLine) throw new UsageError(problem("library") ?? commandLine, { commandLine });
  }
  // The CLI parsed these already; a library caller may pass any number.
  for (
    const [name, id] of [["jail.uid", config.jail.uid], ["jail.gid", config.jail.gid]] as const
  ) {
    const wrong = id === undefined ? undefined : jailIdProblem(id);
    if (wrong) throw new UsageError(`${name} ${id}: ${wrong}`);
  }
  // Command checks its options; startProgram took 2^64 bytes (the program died of SIGSEGV), -1
  // CPU seconds (unlimited) and NaN (a RangeError of BigInt's).
  for (const [name, value] of Object.entries(config.jail.limits ?? {})) {
    const unknown = limitNameProblem(name);
    if (unknown) throw new UsageError(unknown);
    const key = name as keyof Limits;
    const problem = limitValueProblem(key, value);
    if (!problem) continue;
    if (key === "tmpBytes") throw new UsageError(problem);
    throw new LimitError(key, value, problem);
  }
  const durations = {
    "jail.timeoutMs": config.jail.timeoutMs,
    ipfsTimeoutMs: config.ipfsTimeoutMs,
  };
  for (const [name, ms] of Object.entries(durations)) {
    const wrong = ms === undefined ? undefined : durationProblem(name, ms);
    if (wrong) throw new UsageError(wrong);
  }
}

/**
 * Finds a local program, or fetches an IPFS one. The IPFS code is imported only here, on demand:
 * it costs start-up time that a local program must not pay.
 */
async function locateProgram(
  config: RunConfig,
  cleanups: Cleanups,
  signal: AbortSignal | undefined,
  notices: ((line: string) => void) | undefined,
): Promise<Program> {
  if (!isIpfsPath(config.program)) {
    return { path: runProgramPath(config), argv0: config.program };
  }
  const { fetchProgram } = await lazyImport<typeof import("../ipfs/fetch.ts")>("ipfs/fetch.ts");
  const fetched = await fetchProgram(config.program, {
    api: config.ipfsApi,
    origin: config.ipfsApiOrigin,
    timeoutMs: config.ipfsTimeoutMs,
    trustNodeIpns: config.trustNodeIpns,
    callerEnv: callerEnvironment(),
    signal,
    notices,
  });
  // Held open until the program ends: a #! interpreter opens its script by this path late.
  cleanups.add(() => closeFd(fetched.fd));
  return {
    // The child execs ww's own descriptor, which it can reach as ww's child; the descriptor is
    // close-on-exec, so the program does not inherit it.
    path: `/proc/${Deno.pid}/fd/${fetched.fd}`,
    argv0: fetched.name,
    held: {
      fd: fetched.fd,
      sealed: fetched.sealed,
      script: isScript(fetched.fd),
      jailPath: ipfsJailPath(config.program),
    },
  };
}

/**
 * The real path of the program's file, as the launcher resolved it to show or run it (a view of
 * the jail takes it as is: see run/view.ts jailView); `path` itself when it is gone already.
 */
function realPathOr(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

/** The TypeError for a signal name kill() does not know (as Deno.ChildProcess.kill throws). */
export function unknownSignal(signal: unknown): TypeError {
  return new TypeError(
    `kill: unknown signal ${JSON.stringify(signal)} (a name such as "SIGTERM" or "SIGKILL")`,
  );
}

/** Throws a ClosedFdError for the first grant whose descriptor is not open in ww. */
export function checkGrantsOpen(fds: RunConfig["fds"]): void {
  for (const { name, source } of fds) {
    if (fdState(source) === "closed") {
      throw new ClosedFdError(name, source, { commandLine: closedFdLine(name, source) });
    }
  }
}

/** `ww run`'s line for a --with-fd grant whose descriptor the caller did not open. */
function closedFdLine(name: string, fd: number): string {
  return `--with-fd ${name}=${fd}: fd ${fd} is not open in the calling process (open it first, e.g. \`${fd}<file ww run ...\`)`;
}

/**
 * Refuses a descriptor of `stdio` (StartOptions.stdio) that is not open: the spawn failed with
 * posix_spawn's EBADF, in words about ww's stage.
 */
function checkStdioOpen(stdio: StartOptions["stdio"]): void {
  stdio?.forEach((fd, i) => {
    if (fd !== undefined && fdState(fd) === "closed") {
      throw new UsageError(
        `startProgram's options.stdio[${i}]: descriptor ${fd} is not open in this process (pass an open one, or undefined for ww's own fd ${i})`,
      );
    }
  });
}

/**
 * The command line's rule: a `--with-fd` grant is a descriptor the caller of ww opened, never one
 * of Deno's own (those are close-on-exec). A library caller may grant a descriptor it opened
 * itself, close-on-exec or not: that is its decision, so startProgram does not check this.
 */
export function checkInherited(fds: RunConfig["fds"]): void {
  for (const { name, source: fd } of fds) {
    const state = fdState(fd);
    if (state === "inherited") continue;
    // A close-on-exec one is Deno's own: the caller's fd of that number was closed at the exec of
    // ww, or never open. To the caller both are the same mistake.
    const commandLine = closedFdLine(name, fd);
    if (state === "closed") throw new ClosedFdError(name, fd, { commandLine });
    throw new GrantError(
      name,
      `grant ${name}: descriptor ${fd} was opened by ww itself, not inherited from the caller (grant a descriptor the caller opened)`,
      { commandLine },
    );
  }
}

/**
 * The launcher for a backend. A jail's is imported on demand: each one's planning code (seccomp,
 * Landlock, bubblewrap's command line) costs start-up time that the other backends must not pay.
 * The unjailed one is small and mostly made of what the jails' launchers share: imported on
 * demand it cost a --jail=none run ~3 ms (four files loaded after the start), and static it costs
 * the others nothing measurable (interleaved bench: bwrap and native ~2 ms faster).
 */
async function launcher(backend: "bwrap" | "native" | "none"): Promise<Launcher> {
  switch (backend) {
    case "bwrap":
      return (await lazyImport<typeof import("./launch_bwrap.ts")>("run/launch_bwrap.ts"))
        .launchBwrap;
    case "native":
      return (await lazyImport<typeof import("./launch_native.ts")>("run/launch_native.ts"))
        .launchNative;
    case "none":
      return launchDirect;
  }
}
