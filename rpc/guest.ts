// rpc/guest.ts — the guest side, for programs written in TypeScript or JavaScript (Deno or Node):
// connects to ww's host capability on fd 3 (or WW_HOST_FD: see hostSocketFd) and returns a typed
// client. A small Cap'n Proto RPC client of its own (bootstrap, calls, pipelining, Finish,
// Release) over capnp-es serialization; it hosts no capabilities, since ww only accepts its own
// back.
//
// Capabilities are usable at once (calls on them are pipelined until they resolve). Each client
// object holds its capability until close(); ww frees everything when the connection ends. The
// client objects keep their capability in a private field: the RPC machinery (Cap, Connection)
// is no part of the API.

/**
 * The guest side of ww's host capability: {@linkcode connect} to it from a program started by
 * `ww run`, and call the services its `--with-*` flags granted.
 *
 * @example Log a line through ww, when the run granted `--with-console`
 * ```ts ignore
 * import { connect } from "@wetware/ww/guest";
 *
 * const host = await connect();
 * const { grants } = await host.identity();
 * if (grants.includes("console")) await host.console().log("hello from the jail");
 * host.close();
 * ```
 *
 * @module
 */

import { Socket } from "node:net";
import process from "node:process";
import * as capnp from "npm:capnp-es@0.0.16";
import * as rpc from "npm:capnp-es@0.0.16/capnp/rpc";
import type { ByteStream } from "../ffi/stream.ts";
import { readFrames } from "./frame.ts";
import { capabilityIndex } from "./validate.ts";
import { MAX_CALLS_OUTSTANDING, MAX_CONSOLE_LINE, MAX_MESSAGE_BYTES } from "./limits.ts";
import { clipText } from "../core/escape.ts";
import type { IpfsEntry, IpfsEntryType, IpfsStat } from "./types.ts";
import * as ww from "./ww_capnp.ts";

export type { ByteStream, IpfsEntry, IpfsEntryType, IpfsStat };

/**
 * What {@linkcode WwHost.identity} reports.
 *
 * @example
 * ```ts ignore
 * const id: Identity = await (await connect()).identity();
 * id.name; // "ww"
 * ```
 */
export interface Identity {
  /** The host's name: "ww". */
  readonly name: string;
  /** ww's version, e.g. "0.1.0". */
  readonly version: string;
  /** The version of the RPC protocol (rpc/ww.capnp). */
  readonly protocolVersion: number;
  /** The grants in force, e.g. ["console", "exec"]. */
  readonly grants: string[];
}

/**
 * The level of a console line.
 *
 * @example
 * ```ts ignore
 * const level: LogLevel = "warn";
 * await host.console().log("disk almost full", level);
 * ```
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * Connects to the host capability on its descriptor (see hostSocketFd), or on `stream`.
 *
 * @example
 * ```ts ignore
 * const host = await connect();
 * const { grants } = await host.identity();
 * if (grants.includes("console")) await host.console().log("hello", "info");
 * host.close();
 * ```
 */
export function connect(stream?: ByteStream): Promise<WwHost> {
  // A rejection, never a throw: outside ww (fd 3 another descriptor, WW_HOST_FD malformed) the
  // caller's .catch() must see it.
  try {
    // Closing the connection closed the descriptor: node:net's words for it then were
    // "Unsupported fd type: UNKNOWN", and "is this program running under ww run?".
    if (!stream && hostConnection?.ended) {
      throw new Error(
        `fd ${hostSocketFd()}: ${hostConnection.ended}; a run has one connection to ww, and its descriptor went with it`,
      );
    }
    // node:net's words for a second wrap of the descriptor were "open EEXIST".
    if (!stream && hostConnection) {
      throw new Error(
        `fd ${hostSocketFd()}: this program is connected to ww already; a run has one connection to ww (share the WwHost connect() gave)`,
      );
    }
    let conn: Connection;
    if (stream) conn = new Connection(stream);
    else {
      const host = hostStream();
      conn = new Connection(host.stream, true, host.hold);
    }
    if (!stream) hostConnection ??= {};
    return Promise.resolve(new WwHost(conn, conn.bootstrap()));
  } catch (e) {
    return Promise.reject(e);
  }
}

/** A capability reference: an import, or a capability in a call's results not yet returned. */
class Cap {
  importId?: number;
  closed = false;
  constructor(readonly conn: Connection, readonly question?: Question, readonly path = 0) {}

  call<P extends capnp.Struct>(
    interfaceId: bigint,
    methodId: number,
    Params: capnp.StructCtor<P>,
    build?: (p: P, addCap: (c: Cap) => number) => void,
  ): Question {
    if (this.closed) throw new Error("this capability was closed");
    return this.conn.call(this, interfaceId, methodId, Params, build);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.importId !== undefined) this.conn.dropImport(this.importId);
  }
}

class Question {
  readonly promise: Promise<rpc.Payload>;
  resolve!: (p: rpc.Payload) => void;
  reject!: (e: Error) => void;
  returned = false;
  error?: Error;
  /** Caps handed out for this question's results, bound to imports when it returns. */
  readonly caps: Cap[] = [];
  constructor(readonly id: number) {
    this.promise = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    this.promise.catch(() => {}); // a rejection is reported to whoever awaits the results
  }

  /** The capability at pointer field `index` of the results, usable before they arrive. */
  cap(conn: Connection, index: number): Cap {
    const cap = new Cap(conn, this, index);
    this.caps.push(cap);
    return cap;
  }
}

/** A message for ww, queued: a call (with its question), the Bootstrap, or a Release. */
interface Outgoing {
  readonly question?: Question;
  /** Its bytes when it was made: a call's, good while no call has returned since `encodedAt`. */
  readonly bytes: Uint8Array;
  /** A call's: its bytes as things stand now (see Connection.#queued), or why it cannot go. */
  readonly encode?: () => Uint8Array | Error;
  readonly encodedAt?: number;
}

/** This program's connection on its host descriptor, once made, and how it ended, once it has. */
let hostConnection: { ended?: string } | undefined;

class Connection {
  readonly questions: Map<number, Question> = new Map();
  readonly imports: Map<number, { refs: number; holders: number }> = new Map();
  nextQuestion = 0;
  failure?: Error;
  #out: Promise<unknown> = Promise.resolve();
  /**
   * Calls, and the Releases after them, waiting for one of the calls outstanding to return: ww
   * ends the connection past MAX_CALLS_OUTSTANDING (2000 concurrent logs did). In order from
   * #head. A queued call is encoded again when it goes out if a call has returned since
   * (#returns): pipelined on an answer that has come back, it names the capability itself, since
   * ww refuses a message that names a finished answer, and a Finish goes out at each return.
   */
  #queued: Outgoing[] = [];
  #head = 0;
  #outstanding = 0;
  #returns = 0;

  /**
   * `hold(true)` keeps the guest's process alive while a call waits for its answer, `hold(false)`
   * lets it end (the host socket's own read would keep it alive for good: a guest that never
   * called close() never exited). Only the host socket's stream has it.
   */
  constructor(
    readonly stream: ByteStream,
    readonly ownsHostFd = false,
    readonly hold: (on: boolean) => void = () => {},
  ) {
    hold(false);
    void this.#readLoop();
  }

  bootstrap(): Cap {
    const q = this.#newQuestion();
    const m = new capnp.Message();
    m.initRoot(rpc.Message)._initBootstrap().questionId = q.id;
    this.#enqueue({ question: q, bytes: new Uint8Array(m.toArrayBuffer()) });
    return q.cap(this, -1);
  }

  call<P extends capnp.Struct>(
    target: Cap,
    interfaceId: bigint,
    methodId: number,
    Params: capnp.StructCtor<P>,
    build?: (p: P, addCap: (c: Cap) => number) => void,
  ): Question {
    const q = this.#newQuestion();
    if (this.failure) return this.#refuse(q, this.failure);
    const encode = () => this.#encodeCall(q, target, interfaceId, methodId, Params, build);
    let bytes: Uint8Array | Error;
    try {
      bytes = encode();
    } catch (e) {
      // A question left unsettled held the process for good: a guest whose log(42) threw here
      // never exited once its script had ended.
      bytes = e instanceof Error ? e : new TypeError(String(e));
    }
    if (bytes instanceof Error) return this.#refuse(q, bytes);
    // The host ends the connection on a message larger than it reads: the guest saw "write
    // EPIPE" on this call and every later one, or a vague Abort.
    if (bytes.length > MAX_MESSAGE_BYTES) {
      return this.#refuse(
        q,
        new RangeError(
          `this call is a ${bytes.length}-byte message, and ww takes at most ${MAX_MESSAGE_BYTES} bytes in one (the connection stays open)`,
        ),
      );
    }
    this.#enqueue({ question: q, encode, bytes, encodedAt: this.#returns });
    return q;
  }

  /**
   * Call `q`'s message, as things stand now (its target and capabilities may have come back
   * since it was made), or why it cannot be sent.
   */
  #encodeCall<P extends capnp.Struct>(
    q: Question,
    target: Cap,
    interfaceId: bigint,
    methodId: number,
    Params: capnp.StructCtor<P>,
    build?: (p: P, addCap: (c: Cap) => number) => void,
  ): Uint8Array | Error {
    if (target.importId === undefined) {
      // A call on an ended connection was sent nowhere and never settled, when its target had
      // been imported.
      if (target.question?.error) return target.question.error;
      // Its call returned, with no capability where this one was: pipelined on that finished
      // answer, the call would make ww end the connection.
      if (target.question?.returned) {
        return new Error("no capability came back there: the results held none");
      }
    }
    const m = new capnp.Message();
    const call = m.initRoot(rpc.Message)._initCall();
    call.questionId = q.id;
    call.interfaceId = interfaceId;
    call.methodId = methodId;
    this.#target(call._initTarget(), target);
    const payload = call._initParams();
    const params = capnp.utils.initStructAt(0, Params, payload);
    const caps: Cap[] = [];
    build?.(params, (c) => caps.push(c) - 1);
    if (caps.length > 0) {
      const table = payload._initCapTable(caps.length);
      caps.forEach((c, i) => {
        const d = table.get(i);
        if (c.importId !== undefined) d.receiverHosted = c.importId;
        else if (c.question && !c.question.returned) {
          this.#promisedAnswer(d._initReceiverAnswer(), c);
        } else d.none = true; // its call failed: the host sees no capability, as if none was passed
      });
    }
    return new Uint8Array(m.toArrayBuffer());
  }

  /** Sends `out` after what is queued, a call once fewer than the most are outstanding. */
  #enqueue(out: Outgoing): void {
    this.#queued.push(out);
    this.#flush();
  }

  #flush(): void {
    while (this.#head < this.#queued.length) {
      const next = this.#queued[this.#head];
      if (next.question && this.#outstanding >= MAX_CALLS_OUTSTANDING) break;
      this.#head++;
      const bytes = next.encode && next.encodedAt !== this.#returns ? next.encode() : next.bytes;
      if (bytes instanceof Error) {
        this.#refuse(next.question!, bytes);
        continue;
      }
      if (next.question) this.#outstanding++;
      this.#write(bytes);
    }
    if (this.#head === this.#queued.length || this.#head > 4096) {
      this.#queued = this.#queued.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Settles `q`, not sent, with `e`; its capabilities are broken with it. */
  #refuse(q: Question, e: Error): Question {
    this.#forgetQuestion(q);
    q.returned = true;
    q.error = e;
    q.reject(e);
    return q;
  }

  #target(t: rpc.MessageTarget, cap: Cap): void {
    if (cap.importId !== undefined) t.importedCap = cap.importId;
    else this.#promisedAnswer(t._initPromisedAnswer(), cap);
  }

  #promisedAnswer(pa: rpc.PromisedAnswer, cap: Cap): void {
    pa.questionId = cap.question!.id;
    const ops = pa._initTransform(cap.path < 0 ? 0 : 1);
    if (cap.path >= 0) ops.get(0).getPointerField = cap.path;
  }

  dropImport(id: number): void {
    const entry = this.imports.get(id);
    if (!entry || --entry.holders > 0) return;
    this.imports.delete(id);
    const m = new capnp.Message();
    const r = m.initRoot(rpc.Message)._initRelease();
    r.id = id;
    r.referenceCount = entry.refs;
    // After the calls queued before it, which may name the capability.
    this.#enqueue({ bytes: new Uint8Array(m.toArrayBuffer()) });
  }

  #newQuestion(): Question {
    const q = new Question(this.nextQuestion++);
    this.questions.set(q.id, q);
    if (this.questions.size === 1) this.hold(true);
    return q;
  }

  /** Forgets question `q`: once none waits, the process may end. */
  #forgetQuestion(q: Question): void {
    if (this.questions.delete(q.id) && this.questions.size === 0) this.hold(false);
  }

  #write(bytes: Uint8Array): void {
    if (this.failure) return;
    this.#out = this.#out.then(() => this.stream.write(bytes)).catch((e) => {
      // ww's end is gone: every call said "write EPIPE" when a Command without `host` ran it.
      const code = (e as { code?: unknown }).code;
      if (code === "EPIPE" || code === "ECONNRESET") this.#fail(closedByWw(e));
      // A pipe's read end, say, that the caller gave as fd 3: node:net takes any stream.
      else if (code === "EBADF" || code === "ENOTSOCK") this.#fail(notServedByWw(e));
      else this.#fail(e);
    });
  }

  async #readLoop(): Promise<void> {
    try {
      for await (const frame of readFrames(this.stream, { maxBytes: 1 << 28, maxSegments: 512 })) {
        const root = new capnp.Message(frame, false).getRoot(rpc.Message);
        if (root._isReturn) this.#return(root.return);
        else if (root._isAbort) throw new Error(`ww closed the connection: ${root.abort.reason}`);
      }
      this.#fail(closedByWw());
    } catch (e) {
      this.#fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  #return(ret: rpc.Return): void {
    const q = this.questions.get(ret.answerId);
    if (!q) return;
    this.#forgetQuestion(q);
    q.returned = true;
    if (ret._isResults) {
      const payload = ret.results;
      const table = payload.capTable;
      const ids = table.toArray().map((d) => (d._isSenderHosted ? d.senderHosted : undefined));
      for (const id of ids) {
        if (id === undefined) continue;
        const entry = this.imports.get(id) ?? { refs: 0, holders: 0 };
        entry.refs++;
        this.imports.set(id, entry);
      }
      for (const cap of q.caps) {
        const id = ids[capIndex(payload, cap.path)];
        if (id === undefined || cap.closed) continue;
        cap.importId = id;
        this.imports.get(id)!.holders++;
      }
      q.resolve(payload);
    } else {
      q.error = new Error(ret._isException ? ret.exception.reason : "the call was not answered");
      q.reject(q.error);
    }
    // ww counts a call until it reads its Finish: sent at once, and the queue moves on.
    const m = new capnp.Message();
    const f = m.initRoot(rpc.Message)._initFinish();
    f.questionId = q.id;
    f.releaseResultCaps = false;
    this.#write(new Uint8Array(m.toArrayBuffer()));
    this.#outstanding--;
    this.#returns++;
    this.#flush();
  }

  #fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    if (this.ownsHostFd) hostConnection = { ended: e.message };
    for (const q of this.questions.values()) q.reject(e);
    this.questions.clear();
    this.hold(false);
    this.#queued = [];
    this.#head = 0;
    this.stream.close();
  }

  close(): void {
    this.#fail(new Error("the connection to ww was closed"));
  }
}

/**
 * The connection's end when ww's side went without an Abort: at the run's end, or at once when
 * the run serves nothing on the host descriptor (a Command without `host` closes its end at start).
 */
function closedByWw(cause?: Error): Error {
  return new Error(
    `ww closed the connection${
      cause ? ` (${cause.message})` : ""
    }; a Command run without its host option serves nothing on fd 3`,
    { cause },
  );
}

/**
 * The host descriptor is not ww's socket: node:net refused it, or a write to it failed as no
 * socket's would (EBADF: the read end of a pipe the caller gave as fd 3).
 */
function notServedByWw(cause: unknown): Error {
  return new Error(
    `fd ${hostSocketFd()} is not a socket ww serves (${
      cause instanceof Error ? cause.message : cause
    }): is this program running under ww run?`,
    { cause },
  );
}

/** A struct read at whatever size it has (a zero-size schema never resizes it). */
class AnyStruct extends capnp.Struct {
  static override readonly _capnp = {
    displayName: "AnyStruct",
    id: "0",
    size: new capnp.ObjectSize(0, 0),
  };
}

/** The cap-table index of the capability at pointer `path` of the results (-1: the content). */
function capIndex(payload: rpc.Payload, path: number): number {
  let pointer = capnp.utils.getPointer(0, payload);
  if (path >= 0) {
    const s = capnp.utils.getStruct(0, AnyStruct, payload);
    if (path >= capnp.utils.getSize(s).pointerLength) return -1;
    pointer = capnp.utils.getPointer(path, s);
  }
  if (capnp.utils.isNull(pointer)) return -1;
  const index = capabilityIndex(pointer);
  if (typeof index !== "number") throw new Error(`ww's answer: ${index.error}`);
  return index;
}

/** A TypeError naming `method`'s argument `name` unless `v` is a string. */
function checkString(method: string, name: string, v: unknown): void {
  if (typeof v !== "string") {
    throw new TypeError(`${method}: ${name} must be a string, not ${kindOf(v)}`);
  }
}

/** What `v` is, in a message: "number", "null", "an array", "an object". */
function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : typeof v;
}

/** WwExecutor.start's arguments, checked before anything is sent (a TypeError naming one). */
function checkStartOptions(program: unknown, options: unknown): void {
  checkString("start", "program", program);
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`start: options must be an object, not ${kindOf(options)}`);
  }
  const o = options as Record<string, unknown>;
  const known = ["args", "fds", "console", "ipfs", "executor"];
  // A misspelt `arg` started the program without its arguments, unsaid.
  for (const key in o) {
    if (!known.includes(key)) {
      throw new TypeError(`start: options.${key}: no such option (known: ${known.join(", ")})`);
    }
  }
  for (const list of ["args", "fds"]) {
    const v = o[list];
    if (v === undefined) continue;
    if (!Array.isArray(v)) {
      throw new TypeError(`start: options.${list} must be an array of strings, not ${kindOf(v)}`);
    }
    // Array.from, not some(): some() skips a hole.
    const bad = Array.from(v).findIndex((item) => typeof item !== "string");
    if (bad >= 0) {
      throw new TypeError(
        `start: options.${list}[${bad}] must be a string, not ${kindOf(v[bad])}`,
      );
    }
  }
  const grants = { console: WwConsole, ipfs: WwIpfs, executor: WwExecutor };
  for (const [name, type] of Object.entries(grants)) {
    if (o[name] !== undefined && !(o[name] instanceof type)) {
      throw new TypeError(
        `start: options.${name} must be the ${type.name} this connection gave (host.${name}()), not ${
          kindOf(o[name])
        }`,
      );
    }
  }
}

async function results<R extends capnp.Struct>(q: Question, Results: capnp.StructCtor<R>) {
  return capnp.utils.getStruct(0, Results, await q.promise);
}

/** The capability each client object holds, for passing it on in WwExecutor.start. */
const capOf = new WeakMap<object, Cap>();

/**
 * The bootstrap capability: identity always; the others when their flag granted them.
 *
 * @example
 * ```ts ignore
 * const host: WwHost = await connect();
 * console.log((await host.identity()).grants);
 * host.close();
 * ```
 */
export class WwHost {
  #conn: Connection;
  #cap: Cap;

  /** @ignore made by {@linkcode connect} */
  constructor(conn: Connection, cap: Cap) {
    this.#conn = conn;
    this.#cap = cap;
  }

  /**
   * Who the host is and what this program was granted.
   *
   * @example
   * ```ts ignore
   * const { version, grants } = await host.identity(); // grants: e.g. ["console", "exec"]
   * ```
   */
  async identity(): Promise<Identity> {
    const q = this.#cap.call(ww.Host$Client.interfaceId, 0, ww.Host_Identity$Params);
    const r = await results(q, ww.Host_Identity$Results);
    return {
      name: r.name,
      version: r.version,
      protocolVersion: r.protocolVersion,
      grants: r.grants.toArray(),
    };
  }

  /**
   * Granted by --with-console.
   *
   * @example
   * ```ts ignore
   * await host.console().log("started");
   * ```
   */
  console(): WwConsole {
    const q = this.#cap.call(ww.Host$Client.interfaceId, 1, ww.Host_Console$Params);
    return new WwConsole(q.cap(this.#conn, 0));
  }

  /**
   * Granted by --with-ipfs.
   *
   * @example
   * ```ts ignore
   * const bytes = await host.ipfs().cat("/ipfs/bafy.../readme.txt");
   * ```
   */
  ipfs(): WwIpfs {
    const q = this.#cap.call(ww.Host$Client.interfaceId, 2, ww.Host_Ipfs$Params);
    return new WwIpfs(q.cap(this.#conn, 0));
  }

  /**
   * Granted by --with-exec.
   *
   * @example
   * ```ts ignore
   * const { code } = await host.executor().start("/bin/true").wait();
   * ```
   */
  executor(): WwExecutor {
    const q = this.#cap.call(ww.Host$Client.interfaceId, 3, ww.Host_Executor$Params);
    return new WwExecutor(q.cap(this.#conn, 0));
  }

  /**
   * Ends the connection (and so lets the program exit).
   *
   * @example
   * ```ts ignore
   * host.close();
   * ```
   */
  close(): void {
    this.#conn.close();
  }
}

const LEVELS: Record<LogLevel, ww.Console_Level> = {
  debug: ww.Console_Level.DEBUG,
  info: ww.Console_Level.INFO,
  warn: ww.Console_Level.WARN,
  error: ww.Console_Level.ERROR,
};

/**
 * ww's stderr, granted by `--with-console` ({@linkcode WwHost.console}).
 *
 * @example
 * ```ts ignore
 * const out: WwConsole = host.console();
 * await out.log("low on disk", "warn"); // ww prints "<program>: warn: low on disk"
 * out.close();
 * ```
 */
export class WwConsole {
  #cap: Cap;

  /** @ignore made by {@linkcode WwHost.console} */
  constructor(cap: Cap) {
    this.#cap = cap;
    capOf.set(this, cap);
  }

  /**
   * Writes `line` to ww's stderr as "<program>: <level>: <line>".
   *
   * @example
   * ```ts ignore
   * await host.console().log("ready", "info");
   * ```
   */
  async log(line: string, level: LogLevel = "info"): Promise<void> {
    checkString("log", "line", line);
    // From plain JavaScript, "fatal" was sent as level 0: debug.
    if (!Object.hasOwn(LEVELS, level)) {
      throw new TypeError(
        `log: ${String(level)} is not a level (${Object.keys(LEVELS).join(", ")})`,
      );
    }
    const q = this.#cap.call(ww.Console$Client.interfaceId, 0, ww.Console_Log$Params, (p) => {
      p.level = LEVELS[level];
      // Cut as ww cuts it (clipText: cutting twice is cutting once), so that a line of any
      // length is printed, and not refused as a message too large.
      p.line = clipText(line, MAX_CONSOLE_LINE);
    });
    await q.promise;
  }

  /**
   * Gives the capability back to ww.
   *
   * @example
   * ```ts ignore
   * host.console().close();
   * ```
   */
  close(): void {
    this.#cap.close();
  }
}

const ENTRY_TYPES: IpfsEntryType[] = ["file", "directory", "other"];

/**
 * IPFS through ww's node, granted by `--with-ipfs` ({@linkcode WwHost.ipfs}); ww checks every
 * block against its CID.
 *
 * @example
 * ```ts ignore
 * const ipfs: WwIpfs = host.ipfs();
 * const cid = await ipfs.add(new TextEncoder().encode("hi"));
 * new TextDecoder().decode(await ipfs.cat(`/ipfs/${cid}`)); // "hi"
 * ```
 */
export class WwIpfs {
  #cap: Cap;

  /** @ignore made by {@linkcode WwHost.ipfs} */
  constructor(cap: Cap) {
    this.#cap = cap;
    capOf.set(this, cap);
  }

  /**
   * The bytes of the file at `path` (/ipfs/<cid>[/sub], /ipns/<name>[/sub], or a CID).
   *
   * @example
   * ```ts ignore
   * const data = await host.ipfs().cat("/ipfs/bafy.../hello.txt");
   * ```
   */
  async cat(path: string): Promise<Uint8Array> {
    checkString("cat", "path", path);
    const q = this.#call(0, ww.Ipfs_Cat$Params, (p) => (p.path = path));
    return (await results(q, ww.Ipfs_Cat$Results)).data.toUint8Array().slice();
  }

  /**
   * The entries of the directory at `path`.
   *
   * @example
   * ```ts ignore
   * for (const e of await host.ipfs().ls("/ipfs/bafy...")) console.log(e.name, e.type, e.size);
   * ```
   */
  async ls(path: string): Promise<IpfsEntry[]> {
    checkString("ls", "path", path);
    const q = this.#call(1, ww.Ipfs_Ls$Params, (p) => (p.path = path));
    return (await results(q, ww.Ipfs_Ls$Results)).entries.toArray().map((e) => ({
      name: e.name,
      cid: e.cid,
      size: Number(e.size),
      type: ENTRY_TYPES[e.type] ?? "other",
    }));
  }

  /**
   * The CID, size and type of what is at `path`.
   *
   * @example
   * ```ts ignore
   * const { cid, size, type } = await host.ipfs().stat("/ipfs/bafy.../hello.txt");
   * ```
   */
  async stat(path: string): Promise<IpfsStat> {
    checkString("stat", "path", path);
    const r = await results(
      this.#call(2, ww.Ipfs_Stat$Params, (p) => (p.path = path)),
      ww.Ipfs_Stat$Results,
    );
    return { cid: r.cid, size: Number(r.size), type: ENTRY_TYPES[r.type] ?? "other" };
  }

  /**
   * Adds `data` as a file and returns its CID.
   *
   * @example
   * ```ts ignore
   * const cid = await host.ipfs().add(new TextEncoder().encode("hello"));
   * ```
   */
  async add(data: Uint8Array): Promise<string> {
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(`add: data must be a Uint8Array, not ${kindOf(data)}`);
    }
    const q = this.#call(3, ww.Ipfs_Add$Params, (p) => p._initData(data.length).copyBuffer(data));
    return (await results(q, ww.Ipfs_Add$Results)).cid;
  }

  #call<P extends capnp.Struct>(m: number, P: capnp.StructCtor<P>, build: (p: P) => void) {
    return this.#cap.call(ww.Ipfs$Client.interfaceId, m, P, build);
  }

  /**
   * Gives the capability back to ww.
   *
   * @example
   * ```ts ignore
   * host.ipfs().close();
   * ```
   */
  close(): void {
    this.#cap.close();
  }
}

/**
 * What a started program gets: its arguments, fds by name, and the grants passed on.
 *
 * @example
 * ```ts ignore
 * const options: StartOptions = { args: ["-c", "echo hi"], fds: ["db"], console: host.console() };
 * host.executor().start("/bin/sh", options);
 * ```
 */
export interface StartOptions {
  /** The program's arguments (argv[1...]). */
  readonly args?: readonly string[];
  /** Names of this program's own --with-fd grants to pass on. */
  readonly fds?: readonly string[];
  /** Passes the console capability on. */
  readonly console?: WwConsole;
  /** Passes the IPFS capability on. */
  readonly ipfs?: WwIpfs;
  /** Passes the executor on (the program may start programs in turn). */
  readonly executor?: WwExecutor;
}

/**
 * Starts programs under ww, in this program's jail, granted by `--with-exec`
 * ({@linkcode WwHost.executor}).
 *
 * @example
 * ```ts ignore
 * const exec: WwExecutor = host.executor();
 * const child = exec.start("/bin/echo", { args: ["hi"] });
 * (await child.wait()).code; // 0
 * ```
 */
export class WwExecutor {
  #cap: Cap;

  /** @ignore made by {@linkcode WwHost.executor} */
  constructor(cap: Cap) {
    this.#cap = cap;
    capOf.set(this, cap);
  }

  /**
   * Starts `program` under ww with the grants passed in `options` (none by default). A TypeError,
   * before anything is sent, for an argument of the wrong type or an option it does not know.
   *
   * @example
   * ```ts ignore
   * const p = host.executor().start("/bin/sh", { args: ["-c", "exit 3"] });
   * (await p.wait()).code; // 3
   * ```
   */
  start(program: string, options: StartOptions = {}): WwProcess {
    checkStartOptions(program, options);
    const q = this.#cap.call(
      ww.Executor$Client.interfaceId,
      0,
      ww.Executor_Start$Params,
      (p, addCap) => {
        p.program = program;
        const args = p._initArgs(options.args?.length ?? 0);
        options.args?.forEach((a, i) => args.set(i, a));
        const fds = p._initFds(options.fds?.length ?? 0);
        options.fds?.forEach((f, i) => fds.set(i, f));
        const grants = [options.console, options.ipfs, options.executor];
        grants.forEach((g, i) => {
          const cap = g && capOf.get(g);
          if (cap) capnp.utils.setInterfacePointer(addCap(cap), capnp.utils.getPointer(3 + i, p));
        });
      },
    );
    return new WwProcess(q.cap(this.#cap.conn, 0));
  }

  /**
   * Gives the capability back to ww.
   *
   * @example
   * ```ts ignore
   * host.executor().close();
   * ```
   */
  close(): void {
    this.#cap.close();
  }
}

/**
 * A program started by {@linkcode WwExecutor.start}.
 *
 * @example
 * ```ts ignore
 * const p: WwProcess = host.executor().start("/bin/sleep", { args: ["10"] });
 * await p.kill("SIGTERM");
 * (await p.wait()).signal; // "SIGTERM"
 * ```
 */
export class WwProcess {
  #cap: Cap;

  /** @ignore made by {@linkcode WwExecutor.start} */
  constructor(cap: Cap) {
    this.#cap = cap;
  }

  /**
   * The exit status: code (128+N on signal N), and the signal's name or "".
   *
   * @example
   * ```ts ignore
   * const { code, signal } = await p.wait();
   * ```
   */
  async wait(): Promise<{ code: number; signal: string }> {
    const q = this.#cap.call(ww.Process$Client.interfaceId, 0, ww.Process_Wait$Params);
    const r = await results(q, ww.Process_Wait$Results);
    return { code: r.code, signal: r.signal };
  }

  /**
   * Sends `signal` (a name like "SIGTERM"); false once the program has ended.
   *
   * @example
   * ```ts ignore
   * await p.kill("SIGINT"); // true while it runs
   * ```
   */
  async kill(signal = "SIGTERM"): Promise<boolean> {
    const q = this.#cap.call(ww.Process$Client.interfaceId, 1, ww.Process_Kill$Params, (p) => {
      p.signal = signal;
    });
    return (await results(q, ww.Process_Kill$Results)).delivered;
  }

  /**
   * The program's pid, as ww (outside the jail) sees it.
   *
   * @example
   * ```ts ignore
   * const pid = await p.pid();
   * ```
   */
  async pid(): Promise<number> {
    const q = this.#cap.call(ww.Process$Client.interfaceId, 2, ww.Process_Pid$Params);
    return (await results(q, ww.Process_Pid$Results)).pid;
  }

  /**
   * Gives the capability back to ww (the program goes on running).
   *
   * @example
   * ```ts ignore
   * p.close();
   * ```
   */
  close(): void {
    this.#cap.close();
  }
}

/**
 * The descriptor of ww's host socket: WW_HOST_FD when ww set it (`--socket-activation` puts the
 * listening sockets on fd 3, 4, … and the host socket after them), else 3. `env` defaults to this
 * process's environment; when the guest may not read it (Deno without --allow-env), 3.
 *
 * @example
 * hostSocketFd({ WW_HOST_FD: "5" }); // 5
 * hostSocketFd({}); // 3
 */
export function hostSocketFd(env?: Readonly<Record<string, string | undefined>>): number {
  let value: string | undefined;
  try {
    value = (env ?? process.env).WW_HOST_FD;
  } catch {
    // No permission to read the environment: ww's default.
  }
  if (value === undefined) return 3;
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new Error(
      `WW_HOST_FD=${value}: not a descriptor number (ww sets it; unset it or fix it)`,
    );
  }
  return Number(value);
}

/**
 * The host socket as a ByteStream, through node:net (both Deno and Node wrap a socket fd), and
 * whether it keeps the process alive (`hold`: node's ref and unref).
 */
function hostStream(): { stream: ByteStream; hold: (on: boolean) => void } {
  const fd = hostSocketFd();
  let socket: Socket;
  try {
    socket = new Socket({ fd, readable: true, writable: true });
  } catch (e) {
    // node:net's own words ("Unsupported fd type: UNKNOWN") said nothing of ww.
    throw notServedByWw(e);
  }
  const chunks: Uint8Array[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  socket.on("data", (d: Uint8Array) => {
    chunks.push(d);
    notify();
  });
  socket.on("end", () => {
    ended = true;
    notify();
  });
  socket.on("error", () => {
    ended = true;
    notify();
  });
  const stream: ByteStream = {
    async read(p) {
      while (chunks.length === 0 && !ended) await new Promise<void>((r) => (wake = r));
      const chunk = chunks.shift();
      if (!chunk) return null;
      const n = Math.min(p.length, chunk.length);
      p.set(chunk.subarray(0, n));
      if (n < chunk.length) chunks.unshift(chunk.subarray(n));
      return n;
    },
    write: (p) =>
      new Promise((resolve, reject) => socket.write(p, (e) => (e ? reject(e) : resolve(p.length)))),
    close: () => socket.destroy(),
  };
  // Not once the socket is destroyed: node:net's ref() and unref() then wait for a "connect" that
  // never comes, a listener each, and every call after the end added two (and a
  // MaxListenersExceededWarning on the guest's stderr).
  const hold = (on: boolean) => {
    if (!socket.destroyed) on ? socket.ref() : socket.unref();
  };
  return { stream, hold };
}
