// rpc/host.ts — the capabilities of rpc/ww.capnp (Host, Console, Ipfs, Executor, Process) over
// the services ww wires in, each served only when its grant is in force. Loaded with a dynamic
// import only once a guest speaks on fd 3 (see rpc/serve.ts).

import { clipText, foreignText } from "../core/escape.ts";
import { SetupError } from "../core/errors.ts";
import { execRefusal } from "./grants.ts";
import { SIGNALS } from "../run/signals.ts";
import type { ExecProcess, HostGrants, HostServices, IpfsEntryType, VatLimits } from "./types.ts";
import { GRANT_NAMES } from "./types.ts";
import { type CallContext, type CapServer, serveVat } from "./vat.ts";
import {
  declaredLength,
  listFieldProblem,
  textListBytes,
  textListProblem,
  textProblem,
} from "./validate.ts";
import { ListElementSize, type Struct } from "npm:capnp-es@0.0.16";
import * as ww from "./ww_capnp.ts";
import type { ByteStream } from "../ffi/stream.ts";
import { sendLine } from "./sink.ts";
import { MAX_CONSOLE_LINE } from "./limits.ts";

/** `protocolVersion` of rpc/ww.capnp (checked against the schema in host_test.ts). */
export const PROTOCOL_VERSION = 1;

/**
 * Serves the host capability with `grants` over `stream` until the guest closes it or breaks the
 * protocol (reported as one line on `services.stderr`); `ended` settles once the guest is gone
 * (see serveVat). Programs the guest started that still run when the connection ends, or that
 * start after it, get SIGTERM (SIGKILL 2 s later): nothing could wait for them any more. Resolves
 * once they have ended.
 *
 * @example
 * await serveHost(child.hostSocket, { console: true, ipfs: false, exec: false }, {
 *   programName: "app",
 *   version: "0.1.0",
 * });
 */
export async function serveHost(
  stream: ByteStream,
  grants: HostGrants,
  services: HostServices,
  limits?: Partial<VatLimits>,
  ended?: Promise<unknown>,
): Promise<void> {
  const stderr = services.stderr ?? ((line: string) => console.error(line));
  const started = new Set<ExecProcess>();
  // The name may come from a guest (Executor.start); escaped once, here, for every line it begins,
  // and cut so that a guest's 8 MB name cannot crowd ww's own lines out of its stderr queue.
  const prefix = foreignText(services.programName, MAX_NAME);
  const host = new HostServer(grants, services, prefix, stderr, started);
  // Being ended itself (stopStarted of the program that holds this connection, at any depth):
  // nothing starts, and what started ends now, not once this program is gone.
  const endStarted = () => {
    host.ending = true;
    host.stopStarts.abort(new SetupError(`${prefix} is being ended: its start was stopped`));
    for (const p of started) void stopStarted(p);
  };
  if (services.ending?.aborted) endStarted();
  services.ending?.addEventListener("abort", endStarted, { once: true });
  try {
    await serveVat(stream, host, {
      // ww's own line about the connection: a caller's sink that fails (or rejects) loses it,
      // and the run goes on; nothing awaits it.
      log: (line) => sendLine(stderr, `ww: ${prefix}: ${line}`),
      limits,
      ended,
    });
  } finally {
    services.ending?.removeEventListener("abort", endStarted);
  }
  host.connectionEnded = true;
  // A start in flight when the connection ended stops: one still fetching at once (a slow node
  // kept ww past the program's end and its --timeout), one that started as soon as it has.
  host.stopStarts.abort(new SetupError(`${prefix}: the connection ended: its start was stopped`));
  await Promise.allSettled([...host.starting]);
  await Promise.all([...started].map(stopStarted));
}

/** Most characters of a program's name in ww's lines about it. */
const MAX_NAME = 256;

/**
 * Most bytes of all the arguments (each with its NUL) that execve(2) takes: three quarters of the
 * largest stack limit the kernel counts (_STK_LIM, 8 MiB), whatever a program's own. (One
 * argument's own limit, 32 pages, depends on the page size: execve says it, E2BIG.)
 */
const MAX_ARGS_BYTES = 6 * 1024 * 1024;

/** Most descriptors an Executor.start may name, and bytes in a name: more than any run's grants. */
const MAX_START_FDS = 1024;
const MAX_GRANT_NAME = 256;

/**
 * Ends `p`: first what it started (ExecProcess.end: at once, at every depth, and its Executor
 * starts nothing more), then `p` itself: SIGTERM, then SIGKILL if it still runs 2 s later.
 * Resolves once it has ended and its own connection has been served to its end. Asked again for
 * the same program, it gives the same promise.
 */
function stopStarted(p: ExecProcess): Promise<void> {
  let stopping = stops.get(p);
  if (stopping === undefined) {
    stopping = stopNow(p);
    stops.set(p, stopping);
  }
  return stopping;
}

/** The stop of each started program, once begun (stopStarted). */
const stops = new WeakMap<ExecProcess, Promise<void>>();

async function stopNow(p: ExecProcess): Promise<void> {
  p.end?.();
  const ended = p.status.then(() => true, () => true);
  const signal = (name: "SIGTERM" | "SIGKILL") => {
    try {
      p.kill(name);
    } catch { /* it ended meanwhile: nothing to stop */ }
  };
  signal("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = await Promise.race([
    ended.then(() => false),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(true), STOP_GRACE_MS))),
  ]);
  clearTimeout(timer);
  if (late) signal("SIGKILL");
  await ended;
  await p.served;
}

/** How long a started program has, after SIGTERM, before SIGKILL (as --timeout gives). */
const STOP_GRACE_MS = 2_000;

/** A CapServer whose methods are a table indexed by method id. */
abstract class TableServer implements CapServer {
  abstract readonly interfaceId: bigint;
  abstract readonly name: string;
  protected abstract readonly methods: readonly ((call: CallContext) => Promise<void> | void)[];

  dispatch(methodId: number, call: CallContext): Promise<void> | void {
    const method = this.methods[methodId];
    if (method === undefined) throw new Error(`${this.name} has no method @${methodId}`);
    return method.call(this, call);
  }
}

function notGranted(what: keyof HostGrants): Error {
  // The guest cannot tell how its host was started: both ways to grant it are named.
  return new Error(
    `${what} is not granted: run ww with --with-${what} (or --with-all), or give Command host.${what}`,
  );
}

class HostServer extends TableServer {
  readonly interfaceId = ww.Host$Client.interfaceId;
  readonly name = "Host";
  readonly console?: ConsoleServer;
  readonly ipfs?: IpfsServer;
  readonly executor?: ExecutorServer;
  /** Executor.start calls still starting their program, each settling once it is started. */
  readonly starting = new Set<Promise<unknown>>();
  /** Set once the connection is over: no start begins after it (one already begun is stopped). */
  connectionEnded = false;
  /** Set once the program that holds the connection is being ended: no start begins either. */
  ending = false;
  /** Aborted with connectionEnded or ending: a start under way stops (an IPFS fetch, say). */
  readonly stopStarts = new AbortController();

  constructor(
    readonly grants: HostGrants,
    readonly services: HostServices,
    prefix: string,
    stderr: (line: string) => void,
    started: Set<ExecProcess>,
  ) {
    super();
    if (grants.console) this.console = new ConsoleServer(prefix, stderr);
    if (grants.ipfs) this.ipfs = new IpfsServer(services);
    if (grants.exec) this.executor = new ExecutorServer(this, started);
  }

  protected readonly methods = [
    (call: CallContext) => {
      const r = call.results(ww.Host_Identity$Results);
      r.name = "ww";
      r.version = this.services.version;
      r.protocolVersion = PROTOCOL_VERSION;
      const names = GRANT_NAMES.filter((g) => this.grants[g]);
      const list = r._initGrants(names.length);
      names.forEach((n, i) => list.set(i, n));
    },
    (call: CallContext) => {
      if (!this.console) throw notGranted("console");
      const r = call.results(ww.Host_Console$Results);
      call.setResultCap(r, 0, this.console);
    },
    (call: CallContext) => {
      if (!this.ipfs) throw notGranted("ipfs");
      const r = call.results(ww.Host_Ipfs$Results);
      call.setResultCap(r, 0, this.ipfs);
    },
    (call: CallContext) => {
      if (!this.executor) throw notGranted("exec");
      const r = call.results(ww.Host_Executor$Results);
      call.setResultCap(r, 0, this.executor);
    },
  ];
}

const LEVELS = ["debug", "info", "warn", "error"];

class ConsoleServer extends TableServer {
  readonly interfaceId = ww.Console$Client.interfaceId;
  readonly name = "Console";

  /** `prefix`: the program's name, already escaped. */
  constructor(
    readonly prefix: string,
    readonly stderr: (line: string) => void | Promise<void>,
  ) {
    super();
  }

  protected readonly methods = [
    async (call: CallContext) => {
      const p = call.params(ww.Console_Log$Params);
      checkText(p, 0, "line");
      const level = LEVELS[p.level] ?? `level ${p.level}`;
      // One log call is one line that ww's reader can trust: see run/escape.ts. Cut before it is
      // escaped, which may make each character ten: an 8 MiB line of control characters cost
      // ~450 MiB and 2.5 s to escape, only for the 1 MiB queue to drop it. A sink that fails, at
      // once or later (an async one), fails the guest's call, in ww's words: the sink's own error
      // is the host's (a path, a service's state), and the jail was shown it.
      try {
        await this.stderr(`${this.prefix}: ${level}: ${foreignText(p.line, MAX_CONSOLE_LINE)}`);
      } catch (e) {
        // Its cause stays in ww (the vat sends a message only).
        throw new Error("the host's console did not take the line", { cause: e });
      }
    },
  ];
}

const ENTRY_TYPES: Record<IpfsEntryType, ww.Ipfs_EntryType> = {
  file: ww.Ipfs_EntryType.FILE,
  directory: ww.Ipfs_EntryType.DIRECTORY,
  other: ww.Ipfs_EntryType.OTHER,
};

class IpfsServer extends TableServer {
  readonly interfaceId = ww.Ipfs$Client.interfaceId;
  readonly name = "Ipfs";

  constructor(readonly services: HostServices) {
    super();
  }

  get #ipfs() {
    if (!this.services.ipfs) throw new Error("this ww has no IPFS service wired in");
    return this.services.ipfs;
  }

  protected readonly methods = [
    async (call: CallContext) => {
      const path = textParam(call.params(ww.Ipfs_Cat$Params), 0, "path").path;
      const data = await this.#ipfs.cat(path, (bytes) => call.reserve(bytes));
      const r = call.results(ww.Ipfs_Cat$Results);
      r._initData(data.length).copyBuffer(data);
    },
    async (call: CallContext) => {
      const path = textParam(call.params(ww.Ipfs_Ls$Params), 0, "path").path;
      const entries = await this.#ipfs.ls(path, (bytes) => call.reserve(bytes));
      const list = call.results(ww.Ipfs_Ls$Results)._initEntries(entries.length);
      entries.forEach((e, i) => {
        const out = list.get(i);
        out.name = e.name;
        out.cid = e.cid;
        out.size = BigInt(e.size);
        out.type = ENTRY_TYPES[e.type];
      });
    },
    async (call: CallContext) => {
      const path = textParam(call.params(ww.Ipfs_Stat$Params), 0, "path").path;
      const s = await this.#ipfs.stat(path);
      const r = call.results(ww.Ipfs_Stat$Results);
      r.cid = s.cid;
      r.size = BigInt(s.size);
      r.type = ENTRY_TYPES[s.type];
    },
    async (call: CallContext) => {
      const params = call.params(ww.Ipfs_Add$Params);
      const wrong = listFieldProblem(params, 0, ListElementSize.BYTE);
      if (wrong) throw new Error(`data: ${wrong}`);
      const data = params.data.toUint8Array();
      const cid = await this.#ipfs.add(data.slice());
      call.results(ww.Ipfs_Add$Results).cid = cid;
    },
  ];
}

class ExecutorServer extends TableServer {
  readonly interfaceId = ww.Executor$Client.interfaceId;
  readonly name = "Executor";

  constructor(readonly host: HostServer, readonly started: Set<ExecProcess>) {
    super();
  }

  protected readonly methods = [
    (call: CallContext) => {
      // Counted from the call's first moment: a start still looking up its grants when the
      // connection ended was missed by serveHost, and its program outlived ww.
      const start = this.#start(call);
      this.host.starting.add(start);
      return start.finally(() => this.host.starting.delete(start));
    },
  ];

  async #start(call: CallContext): Promise<void> {
    const p = call.params(ww.Executor_Start$Params);
    const exec = this.host.services.exec;
    if (!exec) throw new Error("this ww has no way to start programs wired in");
    // A grant is passed on by passing the capability itself, so a program can only hand on
    // what it holds, and only this host's own objects count.
    const grant = async (index: number, what: keyof HostGrants, own?: CapServer) => {
      const cap = await call.paramCap(p, index).catch((e: Error) => {
        throw new Error(`${what}: ${e.message}`);
      });
      if (cap === null) return false;
      if (cap !== own) throw new Error(`${what}: pass the capability this host gave you`);
      return true;
    };
    const grants = {
      console: await grant(3, "console", this.host.console),
      ipfs: await grant(4, "ipfs", this.host.ipfs),
      exec: await grant(5, "exec", this.host.executor),
    };
    checkText(p, 0, "program");
    const refusal = execRefusal({ program: p.program, grants }, this.host.grants);
    if (refusal) throw new Error(refusal);
    for (const [index, field] of [[1, "args"], [2, "fds"]] as const) {
      const wrong = listFieldProblem(p, index, ListElementSize.POINTER) ??
        textListProblem(p, index);
      if (wrong) throw new Error(`${field}: ${wrong}`);
    }
    // Counted before any is built: no program could take more (execve(2)), and a message's texts,
    // one pointed at from many places, built 8 times what the budget counted for them.
    const args = textListBytes(p, 1);
    if (args.total > MAX_ARGS_BYTES) {
      throw new Error(
        `args: ${args.total} bytes in all (each with its NUL): no program can take more than ${MAX_ARGS_BYTES} (E2BIG)`,
      );
    }
    // A text's bytes count its NUL.
    const fds = textListBytes(p, 2);
    if (fds.longest > MAX_GRANT_NAME + 1 || declaredLength(p, 2) > MAX_START_FDS) {
      throw new Error(
        `fds: at most ${MAX_START_FDS} names of at most ${MAX_GRANT_NAME} bytes (the names of this program's grants)`,
      );
    }
    if (this.host.connectionEnded) throw new Error("the connection ended: nothing starts now");
    if (this.host.ending) throw new Error("this program is being ended: nothing starts now");
    const process = await exec({
      program: p.program,
      args: p.args.toArray(),
      fds: p.fds.toArray(),
      grants,
      signal: this.host.stopStarts.signal,
    });
    this.started.add(process);
    // Started while this program began to be ended: it ends too.
    if (this.host.ending) void stopStarted(process);
    // Observed here whatever the guest does: a status that rejects (a jail that failed after
    // bwrap reported its pid) must reach the guest through Process.wait, not end ww as an
    // unhandled rejection.
    // Kept until its own connection is served too: the programs it started are stopped then.
    const forget = () => this.started.delete(process);
    Promise.all([process.status, process.served]).then(forget, forget);
    call.setResultCap(call.results(ww.Executor_Start$Results), 0, new ProcessServer(process));
  }
}

class ProcessServer extends TableServer {
  readonly interfaceId = ww.Process$Client.interfaceId;
  readonly name = "Process";

  constructor(readonly process: ExecProcess) {
    super();
  }

  protected readonly methods = [
    async (call: CallContext) => {
      // Until the program ends, or the guest stops waiting (it finished the call: a poll with a
      // timeout), which frees the call at once.
      const status = await untilAborted(this.process.status, call.signal);
      const r = call.results(ww.Process_Wait$Results);
      r.code = status.code;
      r.signal = status.signal ?? "";
    },
    (call: CallContext) => {
      const name = textParam(call.params(ww.Process_Kill$Params), 0, "signal").signal;
      if (!Object.hasOwn(SIGNALS, name)) {
        throw new Error(
          `kill: unknown signal ${JSON.stringify(clipText(name, 32))} (use a name like SIGTERM)`,
        );
      }
      const delivered = this.process.kill(name as keyof typeof SIGNALS);
      call.results(ww.Process_Kill$Results).delivered = delivered;
    },
    (call: CallContext) => {
      call.results(ww.Process_Pid$Results).pid = this.process.pid;
    },
  ];
}

/** `promise`, or a rejection with `signal`'s reason once it is aborted, whichever comes first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  let stop!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    stop = () => reject(signal.reason);
    signal.addEventListener("abort", stop, { once: true });
  });
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener("abort", stop));
}

/** Refuses text field `index` (`field`) of a guest's `params` when it is not a text (textProblem). */
function checkText(params: Struct, index: number, field: string): void {
  const wrong = textProblem(params, index);
  if (wrong) throw new Error(`${field}: ${wrong}`);
}

/** `params`, once its text field `index` (`field`) passed checkText. */
function textParam<T extends Struct>(params: T, index: number, field: string): T {
  checkText(params, index, field);
  return params;
}
