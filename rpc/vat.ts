// rpc/vat.ts — the host side of a two-party Cap'n Proto RPC connection, written for an untrusted
// peer. It serves capabilities and never calls the peer, which keeps the state small: exports
// (capabilities the guest holds) and answers (calls the guest made and has not finished).
//
// Why not a library's RPC engine: capnp-ts 0.9.3 double-releases parameter capabilities against
// C++, capnp-es 0.0.16 cannot bootstrap against C++, and both keep unbounded tables and let some
// hostile inputs end as unhandled promise rejections, which would kill ww. capnp-es is used here for
// (de)serialization only. See rpc/README.md for the protocol subset and the limits.
//
// Every protocol violation and every hard limit ends the connection the same way: one line through
// `log`, an Abort to the guest (best effort), and the stream closed. Nothing here throws to the
// caller. Memory is bounded by one budget per connection (`maxBufferedBytes`): the call messages
// held while their calls run, the results services reserve, and the output not yet written all
// count, and ww stops reading the guest while the budget is nearly spent, so a guest that sends
// faster than it reads blocks on its own writes.

import * as capnp from "npm:capnp-es@0.0.16";
import * as rpc from "npm:capnp-es@0.0.16/capnp/rpc";
import type { ByteStream } from "../ffi/stream.ts";
import { SyscallError } from "../ffi/libc.ts";
import { processCpuMs } from "../ffi/cpu_time.ts";
import { clipText, foreignText } from "../core/escape.ts";
import { CutOffError, FrameError, readFrameBatches } from "./frame.ts";
import {
  capabilityIndex,
  declaredLength,
  listFieldProblem,
  messageProblem,
  plainRelease,
  textProblem,
} from "./validate.ts";
import { CPU_MULTIPLE, type VatLimits } from "./types.ts";
import { MAX_CALLS_OUTSTANDING, MAX_MESSAGE_BYTES } from "./limits.ts";

/** A capability served to the guest. */
export interface CapServer {
  readonly interfaceId: bigint;
  /** For error messages, e.g. "Console". */
  readonly name: string;
  /** Runs method `methodId`; a thrown Error becomes the call's exception. */
  dispatch(methodId: number, call: CallContext): Promise<void> | void;
}

/** What a method implementation gets: its parameters, and a place for its results. */
export interface CallContext {
  params<T extends capnp.Struct>(type: capnp.StructCtor<T>): T;
  results<T extends capnp.Struct>(type: capnp.StructCtor<T>): T;
  /**
   * The capability in pointer field `index` of `params` (from `params()`), if it is one this host
   * serves on this connection (null when the field is null). Rejects when the guest passed a
   * capability of its own. The capabilities were looked up when the call arrived, so a Release or
   * Finish the guest sent after the call does not take them away.
   */
  paramCap(params: capnp.Struct, index: number): Promise<CapServer | null>;
  /**
   * Waits until the guest's memory budget can hold results of `bytes` bytes, which this call is
   * about to fetch, and holds them until the call's Return has been written. Twice `bytes` is
   * charged: the service's copy and the message built from it exist together. A result that
   * does not fit waits until no other result is reserved or queued, and is then built alone.
   * Rejects when the connection ends.
   */
  reserve(bytes: number): Promise<void>;
  /** Puts `server` into pointer field `index` of `results`. */
  setResultCap(results: capnp.Struct, index: number, server: CapServer): void;
  /**
   * Aborted when the guest finished the call before its results (it no longer wants them, and no
   * call is pipelined on them): a method that waits for long (Process.wait) stops waiting, and
   * the guest gets a canceled Return, as the reference implementation sends. Also aborted when the
   * connection ends.
   */
  readonly signal: AbortSignal;
}

export const DEFAULT_LIMITS: VatLimits = {
  maxMessageBytes: MAX_MESSAGE_BYTES,
  maxSegments: 512,
  maxAnswers: MAX_CALLS_OUTSTANDING,
  maxExports: 1024,
  maxBufferedBytes: 64 << 20,
  maxCpuMs: Infinity,
};

// What the budget charges beyond the bytes themselves, so that many tiny items cannot hide their
// bookkeeping: each call while it runs, each capability its parameters name, each queued message.
const CALL_OVERHEAD = 1024;
const CAP_OVERHEAD = 64;
const MESSAGE_OVERHEAD = 64;
/**
 * Most capabilities in one call's parameters (ww's methods take at most three), and most steps in
 * a path into a call's results (ww's results hold capabilities one field deep): both are looked
 * at when a call arrives, so a guest cannot make that step long.
 */
const MAX_PARAM_CAPS = 64;
const MAX_PATH = 16;
/**
 * Microtask turns given before the message after one that may have started work: as many as
 * reading each message through its own turn of an async generator gave.
 */
const TURNS = 3;
/** Queued messages shorter than this are written together, in one write. */
const BATCH_BYTES = 64 * 1024;
/**
 * Most characters of a failed call's reason that an answer keeps (and sends) until the guest
 * finishes it, and of an Abort reason in ww's log line: a service's error may quote the guest's
 * input, up to a whole message's size, and ww keeps up to maxAnswers of them.
 */
const MAX_REASON = 4096;

interface Answer {
  done: boolean;
  /** Set when the call failed: the reason pipelined calls fail with. */
  error?: string;
  /** Capabilities in the results by transform path ("" for the whole content, "2" for field 2). */
  readonly caps: Map<string, CapServer>;
  /** Export ids counted for this answer's Return, released again if the guest asks at Finish. */
  exported: number[];
  /**
   * Calls pipelined on this answer, and capabilities of calls' parameters that it will give, run
   * in arrival order once it is done. A call's parameter waits leave when the call ends.
   */
  readonly waiters: Set<() => void>;
  finished: boolean;
  releaseOnFinish: boolean;
  /** Stops the call (CallContext.signal): aborted when the guest finishes it unanswered. */
  readonly cancel: AbortController;
  /**
   * A call still waiting for the answer it is pipelined on: ends the wait and answers it canceled
   * at once (the guest finished it first). Unset once the call is dispatched.
   */
  abandon?: () => void;
}

/** A capability of a call's parameters: its server, why it is refused, or the promise of one. */
type ParamCap = CapServer | string | Promise<CapServer | string>;

/** A call as it runs: what arrived, and what it holds of the budget. */
interface RunningCall {
  readonly questionId: number;
  readonly answer: Answer;
  readonly target: CapServer | string;
  readonly interfaceId: bigint;
  readonly methodId: number;
  readonly params: rpc.Payload;
  readonly caps: readonly ParamCap[];
  /** Bytes charged to the budget while the call runs. */
  readonly held: number;
}

/** A call's parameter capabilities, and how to stop waiting for those not yet answered. */
interface ParamCaps {
  readonly caps: ParamCap[];
  readonly cancel: () => void;
}

/**
 * `message` in stream framing, as its segment table and views of its own segments: what
 * toArrayBuffer would return, without copying a large result once more. (capnp-es keeps the
 * segments in `_capnp.segments`.)
 */
function framed(message: capnp.Message): Uint8Array[] {
  const segments = message._capnp.segments;
  if (segments.length === 0) return [new Uint8Array(message.toArrayBuffer())];
  const count = segments.length;
  const table = new DataView(new ArrayBuffer(4 * (count + 1) + (count % 2 === 0 ? 4 : 0)));
  table.setUint32(0, count - 1, true);
  const views = segments.map((s, i) => {
    const words = Math.ceil(s.byteLength / 8);
    table.setUint32(4 + 4 * i, words, true);
    return new Uint8Array(s.buffer, 0, words * 8);
  });
  return [new Uint8Array(table.buffer), ...views];
}

/** Output waiting to be written: one message, a batch of small ones, or part of a large one. */
interface Queued {
  readonly bytes: Uint8Array;
  length: number;
  messages: number;
}

const EMPTY: Queued = { bytes: new Uint8Array(0), length: 0, messages: 0 };

class Violation extends Error {}

/** What ww says of a message, or a call's params, that does not match the schema. */
const MALFORMED = "a malformed message (a field that does not match the schema)";

/**
 * Whether `e` is capnp-es's (or the engine's, under it) own failure to read a field as the schema
 * has it: its codes (CAPNP-TS…), and the RangeError of a typed array or DataView it sizes from the
 * message ("Invalid typed array length: -1"). Any other error is the service's (a caller's
 * IpfsService whose fetch failed with a TypeError) or ww's, and keeps its words.
 */
function schemaMismatch(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (/^CAPNP-TS\d+/.test(e.message)) return true;
  return e instanceof RangeError &&
    /typed array|DataView|is outside the bounds of the buffer|Array buffer allocation/i.test(
      e.message,
    );
}

/**
 * Serves `bootstrap` to the peer at the other end of `stream` until the peer closes it or breaks
 * the protocol or a limit. Resolves when the connection is over; never rejects.
 *
 * @example
 * await serveVat(child.hostSocket, hostServer, { log: (l) => console.error(`ww: ${l}`) });
 */
export async function serveVat(
  stream: ByteStream,
  bootstrap: CapServer,
  options: {
    log(line: string): void;
    limits?: Partial<VatLimits>;
    /**
     * Settles once the guest is gone (its end of the stream closed for good): from then on, a
     * full budget ends the connection rather than waiting for room that nothing may ever free.
     */
    ended?: Promise<unknown>;
  },
): Promise<void> {
  const vat = new Vat(stream, bootstrap, { ...DEFAULT_LIMITS, ...options.limits });
  let cutOff: string | undefined;
  try {
    const frames = readFrameBatches(stream, {
      maxBytes: vat.limits.maxMessageBytes,
      maxSegments: vat.limits.maxSegments,
    });
    const meter = cpuMeter(vat.limits.maxCpuMs);
    reading: for await (const batch of frames) {
      meter.start();
      let settled = true;
      for (const frame of batch) {
        // What the last message started runs its course first, as it did when each message took
        // a turn of its own: a call answered at once (Host.identity) is answered, not canceled,
        // by a Finish right behind it.
        if (!settled) { for (let i = 0; i < TURNS; i++) await undefined; }
        settled = vat.receive(frame);
        if (vat.closed) break reading;
        // Backpressure: the next message may be a full-size call, so go on only while it fits
        // (the batch's messages are read already, but only kept once handled).
        if (!vat.hasRoomToRead()) {
          meter.stop();
          await roomOrEnd(vat, options.ended);
          meter.start();
        }
        if (vat.closed) break reading;
      }
      meter.stop();
      if (meter.over()) {
        vat.fail(
          `its messages took over ${vat.limits.maxCpuMs / 1000} s of ww's CPU time, ` +
            `ww's bound for it (${CPU_MULTIPLE} times its --cpu)`,
        );
        break;
      }
    }
  } catch (e) {
    if (e instanceof CutOffError) {
      // The guest's end closed mid-message (it exited, or was ended): its message is lost, which
      // is worth a line, but the connection was not ww's to close.
      cutOff = `${e.message}; the message was dropped`;
    } else if (e instanceof Violation || e instanceof FrameError) vat.fail(e.message);
    else if ((e as { code?: unknown }).code === "ECONNRESET") {
      // A guest that exits with replies unread resets the socket: it is gone, not at fault.
    } else if (e instanceof SyscallError) {
      // The socket itself failed (EIO, say): not the guest's message.
      vat.fail(`the connection failed (${e.message})`);
    } else {
      // capnp-es's own words for it (a root that is no struct, a text of no bytes) name its
      // internals, not the message.
      vat.fail(MALFORMED);
    }
  }
  if (vat.failure !== undefined) options.log(`${vat.failure}; closed the RPC connection`);
  else if (cutOff !== undefined) options.log(cutOff);
  await vat.shutdown();
}

/**
 * The CPU time ww spends between start and stop, summed, against `limitMs`: ww's whole process
 * (getrusage), since the stretches it measures are the connection's own synchronous work, and
 * nothing at all (not even the clock read) when there is no limit.
 */
function cpuMeter(limitMs: number): { start(): void; stop(): void; over(): boolean } {
  if (limitMs === Infinity) return { start() {}, stop() {}, over: () => false };
  let spent = 0;
  let since: number | undefined;
  return {
    start: () => void (since = processCpuMs()),
    stop() {
      if (since !== undefined) spent += processCpuMs() - since;
      since = undefined;
    },
    over: () => spent > limitMs,
  };
}

/**
 * Waits until the budget has room for the next message, or ends the connection when the guest
 * is gone first: what it holds then may never be freed (a call waiting on a Process that runs on),
 * and nobody is left to read replies.
 */
async function roomOrEnd(vat: Vat, ended: Promise<unknown> | undefined): Promise<void> {
  const room = vat.roomToRead();
  const gone = ended !== undefined &&
    await Promise.race([room.then(() => false), ended.then(() => true, () => true)]);
  if (gone && !vat.closed && !vat.hasRoomToRead()) {
    vat.fail("the program ended while its calls held the whole budget; the rest went unread");
  }
  await room;
}

class Vat {
  readonly answers = new Map<number, Answer>();
  readonly exports = new Map<number, { server: CapServer; refs: number }>();
  readonly exportIds = new Map<CapServer, number>();
  nextExportId = 0;
  /** Bytes of call messages (and their bookkeeping) held while their calls run. */
  heldBytes = 0;
  /** Bytes services reserved for results not yet sent. */
  reservedBytes = 0;
  /** Bytes of messages queued and not yet written (with their bookkeeping). */
  queuedBytes = 0;
  closed = false;
  failure: string | undefined;
  /** Output not yet written, from index #head on; #tail is the batch still taking messages. */
  #queue: Queued[] = [];
  #head = 0;
  #tail: Queued | undefined;
  #writing = false;
  #peerGone = false;
  /** Waiters on the budget, re-checked whenever something is freed. */
  #waiters: { ready(): boolean; claim?: () => void; wake(): void }[] = [];
  #drained: (() => void)[] = [];

  constructor(
    readonly stream: ByteStream,
    readonly bootstrap: CapServer,
    readonly limits: VatLimits,
  ) {}

  /** All the bytes this connection holds for the guest. */
  get bufferedBytes(): number {
    return this.heldBytes + this.reservedBytes + this.queuedBytes;
  }

  /** Resolves once one more message of the largest size fits the budget (or the vat closed). */
  roomToRead(): Promise<void> {
    return this.#until(() => this.hasRoomToRead());
  }

  /** Whether one more message of the largest size fits the budget now. */
  hasRoomToRead(): boolean {
    return this.bufferedBytes <=
      Math.max(0, this.limits.maxBufferedBytes - this.limits.maxMessageBytes);
  }

  /**
   * Resolves once `ready()` holds (or the vat closed), running `claim` at that same moment, so
   * that waiters woken together take their share one after another, each seeing the last's.
   */
  #until(ready: () => boolean, claim?: () => void): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (ready()) {
      claim?.();
      return Promise.resolve();
    }
    return new Promise((wake) => this.#waiters.push({ ready, claim, wake }));
  }

  /** Wakes the waiters whose condition now holds; called whenever budget is freed. */
  #freed(): void {
    if (this.#waiters.length === 0) return;
    const waiting = this.#waiters;
    this.#waiters = [];
    for (const w of waiting) {
      if (w.ready()) {
        w.claim?.();
        w.wake();
      } else this.#waiters.push(w);
    }
  }

  /**
   * Handles one message, `frame` (a view valid only during this call: what a call keeps is
   * copied). Throws Violation (or a decoding error) on a broken protocol. True when the message
   * was handled then and there (a Release), false when it may have started work that goes on.
   */
  receive(frame: Uint8Array<ArrayBuffer>): boolean {
    // Reading amplified 8 times over is allowed: a message may point to one object repeatedly.
    // The limit is in words: 8 per word of the message is its size in bytes. (It was the largest
    // message's size, which let 100 bytes claim 8 million empty list elements: seconds of work
    // and 120 MB of garbage, found by the fuzzer.)
    const problem = messageProblem(frame, frame.byteLength);
    if (problem) throw new Violation(`a malformed message (${problem})`);
    const release = plainRelease(frame);
    if (release) {
      this.#release(release.id, release.referenceCount);
      return true;
    }
    this.#receive(frame);
    return false;
  }

  #receive(frame: Uint8Array<ArrayBuffer>): void {
    // One copy: a message of one segment (what every implementation sends for a small one) is
    // read from a copy of its segment alone; capnp-es copies a framed message twice over (the
    // whole frame, then each segment), which was most of a flood of small messages' cost.
    const message = frame[0] === 0 && frame[1] === 0 && frame[2] === 0 && frame[3] === 0
      ? new capnp.Message(frame.slice(8).buffer, false, true)
      : new capnp.Message(frame, false);
    const root = message.getRoot(rpc.Message);
    switch (root.which()) {
      case rpc.Message_Which.BOOTSTRAP:
        return this.#bootstrap(root.bootstrap.questionId);
      case rpc.Message_Which.CALL:
        return this.#call(root.call, frame.byteLength);
      case rpc.Message_Which.FINISH:
        return this.#finish(root.finish.questionId, root.finish.releaseResultCaps);
      case rpc.Message_Which.RELEASE:
        return this.#release(root.release.id, root.release.referenceCount);
      case rpc.Message_Which.RESOLVE:
        return this.#resolve(root.resolve);
      case rpc.Message_Which.ABORT: {
        // Read as capnp-es reads it, a reason without its NUL lost its last character.
        const bad = textProblem(root.abort, 0);
        throw new Violation(
          bad
            ? `the guest aborted with a reason that is ${bad}`
            : `the guest aborted: ${foreignText(root.abort.reason, MAX_REASON)}`,
        );
      }
      case rpc.Message_Which.RETURN:
        throw new Violation("the guest sent a Return, but ww asks it nothing");
      case rpc.Message_Which.DISEMBARGO:
        // Embargoes guard promises that resolve to the guest's own capabilities; ww never hands
        // a guest's capability back, so a correct guest never needs one.
        throw new Violation("the guest sent a Disembargo, which ww never makes necessary");
      case rpc.Message_Which.UNIMPLEMENTED:
        throw new Violation("the guest did not understand a message from ww");
      default: {
        // Level 2+ messages and types from the future: the spec's answer is to echo them back.
        // The echo carries the message's type and not its body, so a large message costs nothing
        // to refuse (the body only helps a peer undo a Resolve, which ww handles).
        const reply = new capnp.Message();
        const echo = reply.initRoot(rpc.Message)._initUnimplemented();
        capnp.utils.setUint16(0, root.which(), echo);
        this.#send(reply);
      }
    }
  }

  /**
   * A new answer for `questionId`, not yet outstanding: the caller adds it to `answers` once the
   * call's own references are looked up, so none of them can name the call itself (a call
   * pipelined on its own answer would wait for itself, holding its bytes for good).
   */
  #newAnswer(questionId: number): Answer {
    if (this.answers.has(questionId)) {
      // The spec frees a question id once both its Finish and its Return have been sent: one the
      // guest finished may still be answered (a call pipelined on it still waits for it).
      throw new Violation(
        `the guest reused question ${questionId} before both its Finish and its Return`,
      );
    }
    if (this.answers.size >= this.limits.maxAnswers) {
      throw new Violation(`the guest has more than ${this.limits.maxAnswers} calls outstanding`);
    }
    return {
      done: false,
      caps: new Map(),
      exported: [],
      waiters: new Set(),
      finished: false,
      releaseOnFinish: false,
      cancel: new AbortController(),
    };
  }

  #bootstrap(questionId: number): void {
    const answer = this.#newAnswer(questionId);
    this.answers.set(questionId, answer);
    const out = new capnp.Message();
    const ret = out.initRoot(rpc.Message)._initReturn();
    ret.answerId = questionId;
    const payload = ret._initResults();
    capnp.utils.setInterfacePointer(0, capnp.utils.getPointer(0, payload));
    answer.caps.set("", this.bootstrap);
    this.#writeCapTable(payload, [this.bootstrap], answer);
    this.#send(out);
    this.#complete(questionId, answer);
  }

  #call(call: rpc.Call, bytes: number): void {
    const questionId = call.questionId;
    const answer = this.#newAnswer(questionId);
    const params = call.params;
    // The capabilities in the parameters are looked up now, as the reference implementation does:
    // the guest may release them (or finish the question they come from) right after the call.
    const { caps, cancel } = this.#paramCaps(params);
    const held = bytes + CALL_OVERHEAD + caps.length * CAP_OVERHEAD;
    const interfaceId = call.interfaceId;
    const methodId = call.methodId;
    const run = (target: CapServer | string) => {
      answer.abandon = undefined;
      const call = { questionId, answer, target, interfaceId, methodId, params, caps, held };
      void this.#dispatch(call).finally(cancel);
    };
    const target = call.target;
    // Looked up before the answer is outstanding: a call on its own answer finds no question.
    let start: () => void;
    if (target.which() === rpc.MessageTarget_Which.IMPORTED_CAP) {
      const id = target.importedCap;
      const server = this.exports.get(id)?.server ??
        `no capability has id ${id} (released, or never given)`;
      start = () => run(server);
    } else {
      const waiting = this.#whenAnswered(target.promisedAnswer, run);
      start = waiting.start;
      // Dispatched canceled (CallContext.signal is aborted by then): its Return says so, and
      // what it holds is freed as for any call.
      answer.abandon = () => {
        waiting.cancel();
        run("the call was canceled");
      };
    }
    this.answers.set(questionId, answer);
    this.heldBytes += held;
    start();
  }

  /**
   * Each capability of a call's cap table, as a server, a reason it is refused, or its promise;
   * `cancel` stops the waits for answers not yet done, once the call has ended (a guest could
   * otherwise pile waits on an answer that never comes, with calls it finishes at once).
   */
  #paramCaps(params: rpc.Payload): ParamCaps {
    if (!params._hasCapTable()) return { caps: [], cancel: () => {} };
    const wrong = listFieldProblem(params, 1, capnp.ListElementSize.COMPOSITE);
    if (wrong) throw new Violation(`a call's capability table is ${wrong}`);
    const count = declaredLength(params, 1);
    if (count > MAX_PARAM_CAPS) {
      throw new Violation(`a call passes ${count} capabilities (at most ${MAX_PARAM_CAPS})`);
    }
    const cancels: (() => void)[] = [];
    const caps = params.capTable.map((d): ParamCap => {
      if (d._isReceiverHosted) {
        const id = d.receiverHosted;
        return this.exports.get(id)?.server ?? `no capability has id ${id}`;
      }
      if (d._isReceiverAnswer) {
        let got: CapServer | string | undefined;
        let wake: ((t: CapServer | string) => void) | undefined;
        const wait = this.#whenAnswered(d.receiverAnswer, (t) => wake ? wake(t) : (got = t));
        cancels.push(wait.cancel);
        wait.start();
        return got ?? new Promise((resolve) => (wake = resolve));
      }
      return "only capabilities that ww gave this program can be passed here";
    });
    return { caps, cancel: () => cancels.forEach((c) => c()) };
  }

  /**
   * Looks up the answer a PromisedAnswer names, now; `start` then calls `then` with its capability
   * once that answer is done (at once if it is), and `cancel` stops waiting for it.
   */
  #whenAnswered(
    p: rpc.PromisedAnswer,
    then: (target: CapServer | string) => void,
  ): { start: () => void; cancel: () => void } {
    const questionId = p.questionId;
    const now = (reason: string) => ({ start: () => then(reason), cancel: () => {} });
    const wrong = listFieldProblem(p, 0, capnp.ListElementSize.COMPOSITE);
    if (wrong) return now(`the path into the results of question ${questionId} is ${wrong}`);
    const steps = declaredLength(p, 0);
    if (steps > MAX_PATH) {
      return now(`a path of ${steps} steps into the results of question ${questionId}`);
    }
    const path = p.transform.toArray().filter((op) => !op._isNoop).map((op) => op.getPointerField)
      .join(".");
    const answer = this.answers.get(questionId);
    if (answer === undefined) return now(`no question ${questionId} is outstanding`);
    const resolve = () =>
      then(
        answer.error ?? answer.caps.get(path) ??
          `the results of question ${questionId} have no capability at [${path}]`,
      );
    return {
      start: () => answer.done ? resolve() : answer.waiters.add(resolve),
      cancel: () => {
        if (answer.waiters.delete(resolve)) this.#cancelIfUnwanted(answer);
      },
    };
  }

  async #dispatch(c: RunningCall): Promise<void> {
    const { questionId, answer, target, interfaceId, methodId, params } = c;
    const out = new capnp.Message();
    const ret = out.initRoot(rpc.Message)._initReturn();
    ret.answerId = questionId;
    const payload = ret._initResults();
    const caps: CapServer[] = [];
    let reserved = 0;
    const cancel = answer.cancel;
    try {
      if (typeof target === "string") throw new Error(target);
      if (target.interfaceId !== interfaceId) {
        throw new Error(
          `${target.name} does not implement interface @0x${interfaceId.toString(16)}`,
        );
      }
      let results: capnp.Struct | undefined;
      await target.dispatch(methodId, {
        params: (type) => capnp.utils.getStruct(0, type, params),
        results: (type) => (results = capnp.utils.initStructAt(0, type, payload)),
        paramCap: (struct, index) => this.#paramCap(c, struct, index),
        reserve: async (n) => {
          await this.#reserve(2 * n, c.held + reserved);
          reserved += 2 * n;
          // The results' room, taken at once: capnp-es grows a message by copying it whole for
          // each 4 KiB it lacks, so an ls of 6000 entries built piece by piece took 74 MB.
          if (!this.closed) out.allocateSegment(n);
        },
        setResultCap: (struct, index, server) => {
          if (struct !== results) throw new Error("setResultCap: not this call's results");
          capnp.utils.setInterfacePointer(caps.length, capnp.utils.getPointer(index, struct));
          caps.push(server);
          answer.caps.set(String(index), server);
        },
        signal: cancel.signal,
      });
      if (this.closed) return;
      if (cancel.signal.aborted) throw cancel.signal.reason;
      this.#writeCapTable(payload, caps, answer);
      this.#send(out);
    } catch (e) {
      if (this.closed) return;
      if (e instanceof Violation) return this.fail(e.message);
      // capnp-es's words for a field of the wrong shape ("CAPNP-TS024 Attempted to convert
      // pointer ...", "Invalid typed array length: -1") reached the guest as the call's reason.
      const reason = cancel.signal.aborted
        ? "the call was canceled"
        : schemaMismatch(e)
        ? MALFORMED
        : e instanceof Error
        ? e.message
        : String(e);
      answer.error = clipText(reason, MAX_REASON);
      answer.caps.clear();
      const failed = new capnp.Message();
      const r = failed.initRoot(rpc.Message)._initReturn();
      r.answerId = questionId;
      // Finished by the guest before its results: the Return says canceled, and holds nothing.
      if (cancel.signal.aborted) r.canceled = true;
      else r._initException().reason = answer.error;
      this.#send(failed);
    } finally {
      // The results are queued (and counted there) before what they were built from is freed.
      this.heldBytes -= c.held;
      this.reservedBytes -= reserved;
      this.#freed();
    }
    this.#complete(questionId, answer);
  }

  /**
   * Waits until `n` more bytes fit the budget, not counting `own` (which the caller holds
   * already), or until no other result is reserved or queued: one that does not fit is built
   * alone. (Calls waiting here hold their messages, so waiting for those too could wait forever.)
   */
  async #reserve(n: number, own: number): Promise<void> {
    const bound = this.limits.maxBufferedBytes;
    await this.#until(
      () =>
        this.bufferedBytes - own + n <= bound ||
        (this.reservedBytes === 0 && this.queuedBytes === 0),
      () => (this.reservedBytes += n),
    );
    if (this.closed) throw new Error("the connection is closed");
  }

  #complete(questionId: number, answer: Answer): void {
    answer.done = true;
    const waiters = [...answer.waiters];
    answer.waiters.clear();
    for (const waiter of waiters) waiter();
    if (answer.finished) this.#forget(questionId, answer);
  }

  #finish(questionId: number, releaseResultCaps: boolean): void {
    const answer = this.answers.get(questionId);
    if (answer === undefined || answer.finished) {
      throw new Violation(`the guest finished question ${questionId}, which is not outstanding`);
    }
    answer.finished = true;
    answer.releaseOnFinish = releaseResultCaps;
    if (answer.done) this.#forget(questionId, answer);
    else this.#cancelIfUnwanted(answer);
  }

  /**
   * Stops a call the guest finished, once nothing wants its results any more (no call is
   * pipelined on them): a Process.wait the guest gave up on held its question, and a place among
   * maxAnswers, until the program ended. One still waiting for the answer it is pipelined on
   * stops waiting, so that one may stop too.
   */
  #cancelIfUnwanted(answer: Answer): void {
    if (!answer.finished || answer.done || answer.waiters.size > 0) return;
    if (answer.cancel.signal.aborted) return;
    answer.cancel.abort(new Error("the guest finished the call before its results"));
    answer.abandon?.();
  }

  #forget(questionId: number, answer: Answer): void {
    this.answers.delete(questionId);
    if (answer.releaseOnFinish) { for (const id of answer.exported) this.#release(id, 1); }
  }

  #writeCapTable(payload: rpc.Payload, caps: CapServer[], answer: Answer): void {
    if (caps.length === 0) return;
    const table = payload._initCapTable(caps.length);
    caps.forEach((server, i) => {
      const id = this.#export(server);
      table.get(i).senderHosted = id;
      answer.exported.push(id);
    });
  }

  #export(server: CapServer): number {
    let id = this.exportIds.get(server);
    if (id === undefined) {
      if (this.exports.size >= this.limits.maxExports) {
        throw new Violation(`the guest holds more than ${this.limits.maxExports} capabilities`);
      }
      id = this.nextExportId++;
      this.exportIds.set(server, id);
      this.exports.set(id, { server, refs: 0 });
    }
    this.exports.get(id)!.refs++;
    return id;
  }

  #release(id: number, count: number): void {
    const entry = this.exports.get(id);
    // A Release for an id the guest does not hold is harmless: there is nothing to free.
    if (entry === undefined) return;
    entry.refs -= count;
    if (entry.refs <= 0) {
      this.exports.delete(id);
      this.exportIds.delete(entry.server);
    }
  }

  #resolve(resolve: rpc.Resolve): void {
    // ww never keeps a guest's promise past the call it came in (Return.releaseParamCaps), so a
    // late resolution is of no use; an import it creates is released at once so the guest can
    // free it.
    if (resolve._isCap) {
      const cap = resolve.cap;
      if (cap._isSenderHosted) this.#sendRelease(cap.senderHosted);
      else if (cap._isSenderPromise) this.#sendRelease(cap.senderPromise);
    }
  }

  #sendRelease(id: number): void {
    const out = new capnp.Message();
    const release = out.initRoot(rpc.Message)._initRelease();
    release.id = id;
    release.referenceCount = 1;
    this.#send(out);
  }

  async #paramCap(c: RunningCall, struct: capnp.Struct, index: number): Promise<CapServer | null> {
    const { pointerLength } = capnp.utils.getSize(struct);
    if (index >= pointerLength) return null;
    const pointer = capnp.utils.getPointer(index, struct);
    if (capnp.utils.isNull(pointer)) return null;
    const capIndex = capabilityIndex(pointer);
    if (typeof capIndex !== "number") throw new Error(capIndex.error);
    if (capIndex >= c.caps.length) {
      throw new Error(`capability ${capIndex} is not in the cap table`);
    }
    const cap = await c.caps[capIndex];
    if (typeof cap === "string") throw new Error(cap);
    return cap;
  }

  #send(message: capnp.Message): void {
    if (this.closed || this.#peerGone) return;
    const parts = framed(message);
    const size = parts.reduce((n, p) => n + p.length, 0);
    this.queuedBytes += size + MESSAGE_OVERHEAD;
    const tail = this.#tail;
    if (size >= BATCH_BYTES / 4) {
      // A large message is written from its own segments, not copied into one buffer first; what
      // comes after it goes after it, not into the batch before.
      parts.forEach((bytes, i) =>
        this.#queue.push({ bytes, length: bytes.length, messages: i === 0 ? 1 : 0 })
      );
      this.#tail = undefined;
    } else if (tail !== undefined && tail.length + size <= tail.bytes.length) {
      for (const p of parts) {
        tail.bytes.set(p, tail.length);
        tail.length += p.length;
      }
      tail.messages++;
    } else if (this.#writing) {
      // A backlog: small messages are gathered into one buffer, written in one go, rather than
      // each kept as its own object.
      // Sized by the backlog, so that two quick replies do not cost 64 KiB.
      const capacity = Math.min(BATCH_BYTES, Math.max(4096, this.queuedBytes));
      const batch = { bytes: new Uint8Array(capacity), length: 0, messages: 1 };
      for (const p of parts) {
        batch.bytes.set(p, batch.length);
        batch.length += p.length;
      }
      this.#queue.push(batch);
      this.#tail = batch;
    } else {
      const bytes = parts.length === 1 ? parts[0] : new Uint8Array(size);
      if (parts.length > 1) parts.reduce((at, p) => (bytes.set(p, at), at + p.length), 0);
      this.#queue.push({ bytes, length: size, messages: 1 });
    }
    if (!this.#writing) void this.#drain();
  }

  /** Writes the queue out, in order, until it is empty or the guest is gone. */
  async #drain(): Promise<void> {
    this.#writing = true;
    while (this.#head < this.#queue.length && !this.#peerGone) {
      const next = this.#queue[this.#head];
      if (next === this.#tail) this.#tail = undefined;
      try {
        await this.stream.write(next.bytes.subarray(0, next.length));
      } catch {
        // The guest closed its end; reading will see the end of stream.
        this.#peerGone = true;
        break;
      }
      this.queuedBytes -= next.length + next.messages * MESSAGE_OVERHEAD;
      this.#queue[this.#head++] = EMPTY;
      // Drop written entries from the array now and then, not one shift per message.
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      this.#freed();
    }
    if (this.#peerGone) {
      this.#queue = [];
      this.#head = 0;
      this.#tail = undefined;
      this.queuedBytes = 0;
      this.#freed();
    }
    this.#writing = false;
    for (const done of this.#drained.splice(0)) done();
  }

  /** Records the first violation and tells the guest why (best effort) before closing. */
  fail(reason: string): void {
    if (this.closed) return;
    this.failure = reason;
    const out = new capnp.Message();
    const e = out.initRoot(rpc.Message)._initAbort();
    e.reason = `ww: ${reason}`;
    this.#send(out);
    this.#close();
  }

  /** Marks the vat closed and releases everything waiting on its budget. */
  #close(): void {
    this.closed = true;
    for (const w of this.#waiters.splice(0)) w.wake();
  }

  async shutdown(): Promise<void> {
    this.#close();
    // What waits on an answer that will now never come (a start's capability pipelined on a call
    // still running) is told so: it waited for ever, and serveHost, waiting for the starts, with it.
    for (const answer of [...this.answers.values()]) {
      if (answer.done) continue;
      answer.cancel.abort(new Error("the connection ended"));
      answer.error ??= "the connection ended before this answer";
      answer.done = true;
      const waiters = [...answer.waiters];
      answer.waiters.clear();
      for (const waiter of waiters) waiter();
    }
    // Give queued messages (the Abort) a moment to leave, but never wait on a guest that stopped
    // reading.
    if (this.#writing) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((r) => this.#drained.push(r)),
        new Promise((r) => (timer = setTimeout(r, 200))),
      ]);
      clearTimeout(timer);
    }
    this.answers.clear();
    this.exports.clear();
    this.exportIds.clear();
    this.stream.close();
  }
}
