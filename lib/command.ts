// lib/command.ts — ww as a Deno service uses it: `new Command(program, options)`, shaped like
// Deno.Command, whose spawn() starts the program jailed (run/start.ts startProgram) with its stdio
// piped, inherited or on /dev/null, and whose child has Deno.ChildProcess's lifetime: a status
// that never rejects, kill(), abort through an AbortSignal, and async disposal. The pipes are made
// here and handed to the launchers as the program's fd 0-2 (fd/plan.ts planChildFds); fd 3
// serves what `host` asks for (rpc/serve.ts), or is closed at once.

import denoJson from "../deno.json" with { type: "json" };
import { closeFd, concatBytes, openDevNull, pipe } from "../ffi/fd.ts";
import { FdStream, readableOf, writableOf } from "../ffi/stream.ts";
import { OpGroup } from "../ffi/ops.ts";
import { type Child, startProgram, startRun, unknownSignal } from "../run/start.ts";
import { type SignalName, SIGNALS } from "../run/signals.ts";
import { execService, ipfsServiceFor, serveGuest, vatLimitsFor } from "../rpc/serve.ts";
import type { HostServices } from "../rpc/types.ts";
import { EXIT, WwError } from "../core/errors.ts";
import type { RunConfig } from "../core/config.ts";
import { checkCommand, type CheckedCommand, type CommandOptions } from "./options.ts";
import { callerCwd } from "../run/caller_env.ts";
import type { Listener } from "../run/own_grants.ts";
import { outOfDescriptors } from "../run/out_of_descriptors.ts";

/**
 * How a program ended, as Deno.CommandStatus has it, with ww's own fields.
 *
 * @example
 * ```ts ignore
 * const status: CommandStatus = await (await new Command("/bin/false").spawn()).status;
 * status.code; // 1; status.success false, status.signal null, status.timedOut false
 * ```
 */
export interface CommandStatus {
  /** True when the program exited 0. */
  readonly success: boolean;
  /**
   * Its exit code; 128+N when signal N ended it; 124 when `jail.timeoutMs` stopped it; the
   * error's exit code (125, 126, 127) when the jail failed after spawn.
   */
  readonly code: number;
  /** The signal that ended the program, or null. */
  readonly signal: SignalName | null;
  /** True when `jail.timeoutMs` expired and ww stopped the program. */
  readonly timedOut: boolean;
  /** Set when the jail failed after spawn() had resolved: why the program did not run on. */
  readonly error?: WwError;
  /**
   * The run's work directory on the host, when it is left behind (ExitStatus.workdirLeft): it
   * holds what the jail's user may not remove, which the program moved in from a bind, say. Look
   * in it, and remove it yourself.
   */
  readonly workdirLeft?: string;
}

/**
 * What output() gives: the status and everything the program wrote on a piped stdout/stderr.
 *
 * @example
 * ```ts ignore
 * const out: CommandOutput = await new Command("/bin/echo", { args: ["hi"] }).output();
 * new TextDecoder().decode(out.stdout); // "hi\n"
 * ```
 */
export interface CommandOutput extends CommandStatus {
  /** Throws a TypeError unless stdout was "piped". */
  readonly stdout: Uint8Array;
  /** Throws a TypeError unless stderr was "piped". */
  readonly stderr: Uint8Array;
}

/**
 * A program to run jailed, as Deno.Command: each spawn() or output() starts it anew. The options
 * are checked here, so a wrong one throws a UsageError naming it before anything starts, as
 * startProgram refuses a wrong config.
 *
 * @example
 * const { code, stdout } = await new Command("/bin/echo", { args: ["hello"] }).output();
 * new TextDecoder().decode(stdout); // "hello\n"
 */
export class Command {
  readonly #checked: CheckedCommand;

  /** Checks `program` (a path, a name in PATH, or /ipfs/...) and `options`; starts nothing. */
  constructor(program: string | URL, options?: CommandOptions) {
    this.#checked = checkCommand(program, options, callerCwd);
  }

  /**
   * Starts the program. Unlike Deno's, it resolves once the jail has started the program (a jail
   * takes a few milliseconds to build); it rejects with a WwError when the program cannot start
   * (NotFoundError, NotExecutableError, SetupError; TimedOutError when `jail.timeoutMs` expired
   * first), and with the signal's reason when `signal` was aborted first.
   *
   * @example
   * const child = await new Command("/bin/cat", { stdin: "piped", stdout: "piped" }).spawn();
   * await child.stdin.close();
   * (await child.status).success; // true
   */
  spawn(): Promise<ChildProcess> {
    return spawnChild(this.#checked, {});
  }

  /**
   * Runs the program to its end and collects its piped output (stdout and stderr default to
   * "piped"). Rejects as spawn() does; a jail failing later resolves with its `error`.
   *
   * @example
   * const out = await new Command("/bin/sh", { args: ["-c", "echo hi >&2"] }).output();
   * new TextDecoder().decode(out.stderr); // "hi\n"
   */
  async output(): Promise<CommandOutput> {
    if (this.#checked.stdio.stdin === "piped") {
      throw new TypeError(
        `stdin: "piped" is not supported by output(): use spawn() and write to child.stdin`,
      );
    }
    const child = await spawnChild(this.#checked, { stdout: "piped", stderr: "piped" });
    return await child.output();
  }
}

/**
 * A program started by Command.spawn(), as Deno.ChildProcess.
 *
 * @example
 * const child = await new Command("/bin/sleep", { args: ["10"] }).spawn();
 * child.kill("SIGTERM");
 * (await child.status).signal; // "SIGTERM"
 */
export class ChildProcess implements AsyncDisposable {
  readonly #child: Child;
  readonly #stdin?: WritableStream<Uint8Array>;
  readonly #stdout?: OutputStream;
  readonly #stderr?: OutputStream;
  readonly #status: Promise<CommandStatus>;
  readonly #ops: OpGroup;
  readonly #holdAbort: (held: boolean) => void;
  #ended = false;

  /** @internal Made by Command.spawn(). */
  constructor(
    child: Child,
    streams: {
      stdin?: WritableStream<Uint8Array>;
      stdout?: ReadableStream<Uint8Array<ArrayBuffer>>;
      stderr?: ReadableStream<Uint8Array<ArrayBuffer>>;
    },
    status: Promise<CommandStatus>,
    ops: OpGroup,
    holdAbort: (held: boolean) => void,
  ) {
    this.#child = child;
    this.#ops = ops;
    this.#holdAbort = holdAbort;
    this.#stdin = streams.stdin;
    this.#stdout = streams.stdout && outputStream(streams.stdout);
    this.#stderr = streams.stderr && outputStream(streams.stderr);
    this.#status = status.finally(() => this.#ended = true);
  }

  /** The pid ww spawned: the program itself unjailed, else the jail's supervisor. */
  get pid(): number {
    return this.#child.pid;
  }

  /**
   * The jail the program runs in and why (Child.jail): the backend `jail.backend: "auto"` chose,
   * whether it fell back to the native jail, and what a weaker jail does not enforce.
   *
   * @example
   * const child = await new Command("/bin/true").spawn();
   * child.jail.backend; // "bwrap", or "native" where bubblewrap cannot run
   */
  get jail(): Child["jail"] {
    return this.#child.jail;
  }

  /**
   * Where each of ww's own listening grants (`grants.own` with `listen`) landed: a port 0's port,
   * an abstract or path socket's name (Child.listeners).
   *
   * @example
   * ```ts ignore
   * const child = await new Command("./server", {
   *   grants: { own: [{ name: "web", listen: "tcp:127.0.0.1:0" }] },
   * }).spawn();
   * child.listeners[0].address; // "127.0.0.1:43121"
   * ```
   */
  get listeners(): readonly Listener[] {
    return this.#child.listeners;
  }

  /** The program's stdin; a TypeError unless it was "piped". Close it to send end of file. */
  get stdin(): WritableStream<Uint8Array> {
    if (!this.#stdin) throw new TypeError('stdin is not piped (set stdin: "piped")');
    return this.#stdin;
  }

  /** The program's stdout; a TypeError unless it was "piped". */
  get stdout(): OutputStream {
    if (!this.#stdout) throw new TypeError('stdout is not piped (set stdout: "piped")');
    return this.#stdout;
  }

  /** The program's stderr; a TypeError unless it was "piped". */
  get stderr(): OutputStream {
    if (!this.#stderr) throw new TypeError('stderr is not piped (set stderr: "piped")');
    return this.#stderr;
  }

  /**
   * Resolves once the program has ended and everything of its run is removed. Never rejects: a
   * jail that fails after spawn resolves with `success: false`, the error's exit code and
   * `error`.
   */
  get status(): Promise<CommandStatus> {
    return this.#status;
  }

  /**
   * Waits for the end and collects the piped stdout and stderr.
   *
   * @example
   * const child = await new Command("/bin/echo", { args: ["hi"], stdout: "piped" }).spawn();
   * new TextDecoder().decode((await child.output()).stdout); // "hi\n"
   */
  async output(): Promise<CommandOutput> {
    if (this.#stdout?.locked) throw new TypeError("stdout is locked: it is read elsewhere");
    if (this.#stderr?.locked) throw new TypeError("stderr is locked: it is read elsewhere");
    const [status, stdout, stderr] = await Promise.all([
      this.#status,
      this.#stdout && collect(this.#stdout),
      this.#stderr && collect(this.#stderr),
    ]);
    return {
      ...status,
      get stdout(): Uint8Array {
        if (!stdout) throw new TypeError('stdout was not piped (set stdout: "piped")');
        return stdout;
      },
      get stderr(): Uint8Array {
        if (!stderr) throw new TypeError('stderr was not piped (set stderr: "piped")');
        return stderr;
      },
    };
  }

  /**
   * Sends `signal` to the program (in a jail, SIGKILL ends it and everything it started; with
   * backend "none", which has no supervisor, only the program itself). A TypeError for an unknown
   * name, and, as Deno's, once the program has ended.
   */
  kill(signal: SignalName = "SIGTERM"): void {
    if (!Object.hasOwn(SIGNALS, signal)) throw unknownSignal(signal);
    if (this.#ended || !this.#child.kill(signal)) {
      throw new TypeError("kill: the program has already ended");
    }
  }

  /**
   * Lets Deno exit while the program runs: its waits, reads and timers no longer keep Deno
   * alive (a jailed program then ends with ww, as the jail's supervisor sees ww die), and neither
   * does `signal` (an AbortSignal.timeout's timer): an abort reaches the program once it is
   * ref'd again.
   *
   * @example
   * (await new Command("/bin/sleep", { args: ["3"] }).spawn()).unref(); // Deno exits at once
   */
  unref(): void {
    this.#ops.unref();
    // Listening to `signal` keeps an AbortSignal.timeout's timer, and Deno with it, alive.
    this.#holdAbort(false);
  }

  /** Makes the program keep Deno alive again (the default). */
  ref(): void {
    this.#ops.ref();
    if (!this.#ended) this.#holdAbort(true);
  }

  /** Sends SIGTERM unless the program has ended, and waits for its status. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#ended) this.#child.kill("SIGTERM");
    await this.#status;
  }
}

/**
 * A piped stdout or stderr: a ReadableStream, with Deno.Command's ways to read it whole
 * (Deno.SubprocessReadableStream's), so code written for a Deno child reads a ww one unchanged.
 *
 * @example
 * ```ts ignore
 * const child = await new Command("/bin/echo", { args: ["hi"], stdout: "piped" }).spawn();
 * await child.stdout.text(); // "hi\n"
 * ```
 */
export interface OutputStream extends ReadableStream<Uint8Array<ArrayBuffer>> {
  /** The rest of the stream, as UTF-8 text. */
  text(): Promise<string>;
  /** The rest of the stream, as bytes. */
  bytes(): Promise<Uint8Array<ArrayBuffer>>;
  /** The rest of the stream, as an ArrayBuffer. */
  arrayBuffer(): Promise<ArrayBuffer>;
  /** The rest of the stream, as UTF-8 text, parsed as JSON. */
  json(): Promise<unknown>;
}

function outputStream(stream: ReadableStream<Uint8Array<ArrayBuffer>>): OutputStream {
  const bytes = () => collect(stream);
  const text = async () => new TextDecoder().decode(await bytes());
  return Object.assign(stream, {
    text,
    bytes,
    arrayBuffer: async () => (await bytes()).buffer,
    json: async () => JSON.parse(await text()),
  });
}

/**
 * Everything a stream yields, in one array. Its reader is kept, as Deno keeps a child's: the
 * stream stays locked, so a second read (text() again, output() after text()) is a TypeError, not
 * an empty answer that passes for a program that printed nothing.
 */
async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (let r; !(r = await reader.read()).done;) chunks.push(r.value);
  return concatBytes(chunks);
}

/** One of the program's fd 0-2 as made for it: ww's end (piped), and what the program gets. */
interface StdioEnd {
  readonly child?: number;
  readonly ours?: FdStream;
}

function makeStdio(how: string | undefined, input: boolean, ops: OpGroup): StdioEnd {
  if (how === undefined || how === "inherit") return {};
  if (how === "null") return { child: openDevNull() };
  const [read, write] = pipe();
  return input
    ? { child: read, ours: new FdStream(write, ops) }
    : { child: write, ours: new FdStream(read, ops) };
}

async function spawnChild(
  checked: CheckedCommand,
  defaults: { stdout?: "piped"; stderr?: "piped" },
): Promise<ChildProcess> {
  const { config, signal, killGraceMs } = checked;
  signal?.throwIfAborted();
  const ends: StdioEnd[] = [];
  const ops = new OpGroup();
  let child: Child;
  try {
    ends.push(makeStdio(checked.stdio.stdin, true, ops));
    ends.push(makeStdio(checked.stdio.stdout ?? defaults.stdout, false, ops));
    ends.push(makeStdio(checked.stdio.stderr ?? defaults.stderr, false, ops));
    child = await startRun(config, { signal, stdio: ends.map((e) => e.child), ops });
  } catch (e) {
    for (const end of ends) end.ours?.close();
    // An abort while the jail was built (an IPFS fetch, say) rejected with its reason: startRun's.
    // Out of descriptors making the pipes too: the limit to raise, as a WwError.
    throw outOfDescriptors(e) ?? e;
  } finally {
    for (const end of ends) if (end.child !== undefined) closeFd(end.child);
  }

  // fd 3: served as `host` asks, or closed at once, so a program that speaks there reads end of
  // file instead of waiting for an answer that never comes.
  const rpc = checked.host ? serveHost(config, child, checked.host) : undefined;
  if (!rpc) child.hostSocket.close();

  let stopping = false;
  // Once the program has ended nothing listens again (a ref() racing the end re-added it for good).
  let done = false;
  const onAbort = () => {
    if (stopping) return;
    stopping = true;
    child.kill("SIGTERM");
    ops.setTimeout(() => child.kill("SIGKILL"), killGraceMs);
  };
  // An unref'd child does not listen (see unref): an abort then reaches it only once ref'd again.
  const holdAbort = (held: boolean) => {
    if (!signal || (held && done)) return;
    if (!held) return signal.removeEventListener("abort", onAbort);
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) onAbort();
  };
  holdAbort(true);

  const status = child.status.then(
    (s): CommandStatus => ({
      success: s.code === 0 && !s.timedOut,
      code: s.code,
      signal: s.signal ?? null,
      timedOut: s.timedOut ?? false,
      ...(s.workdirLeft !== undefined ? { workdirLeft: s.workdirLeft } : {}),
    }),
    (e): CommandStatus => ({
      success: false,
      code: e instanceof WwError ? e.exitCode : EXIT.usage,
      signal: null,
      timedOut: false,
      error: e instanceof WwError
        ? e
        : new WwError(`the jail failed: ${e instanceof Error ? e.message : e}`, EXIT.usage, {
          cause: e,
        }),
    }),
  ).then(async (s) => {
    done = true;
    signal?.removeEventListener("abort", onAbort);
    ops.clearTimers();
    await rpc;
    return s;
  });
  return new ChildProcess(
    child,
    {
      stdin: ends[0].ours && writableOf(ends[0].ours),
      stdout: ends[1].ours && readableOf(ends[1].ours),
      stderr: ends[2].ours && readableOf(ends[2].ours),
    },
    status,
    ops,
    holdAbort,
  );
}

/** Serves fd 3 with what `host` grants, named and versioned by ww. */
function serveHost(
  config: RunConfig,
  child: Child,
  host: NonNullable<CheckedCommand["host"]>,
): Promise<void> {
  const ipfs = host.ipfs === true ? ipfsServiceFor(config) : host.ipfs || undefined;
  const services: Omit<HostServices, "exec" | "programName"> = {
    version: denoJson.version,
    ...(host.console ? { stderr: host.console } : {}),
    ...(ipfs ? { ipfs } : {}),
  };
  return serveGuest(child, { console: !!host.console, ipfs: !!ipfs, exec: !!host.exec }, {
    ...services,
    programName: config.program,
    ...(host.exec ? { exec: execService(config, child, startProgram, services) } : {}),
  }, vatLimitsFor(config));
}
