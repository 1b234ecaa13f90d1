// rpc/vat.ts — the host side of a two-party Cap'n Proto RPC connection, written for an untrusted
// peer. It serves capabilities and never calls the peer, which keeps the state small: exports
// (capabilities the guest holds) and answers (calls the guest made and has not finished).
//
// Why not a library's RPC engine: capnp-ts 0.9.3 double-releases parameter capabilities against
// C++, capnp-es 0.0.16 cannot bootstrap against C++, and both keep unbounded tables and let some
// hostile inputs end as unhandled promise rejections, which would kill ww. capnp-es is used here for
// (de)serialization only. See rpc/README.md for the protocol subset and the limits.
//
// Every protocol violation and every limit ends the connection the same way: one line through
// `log`, an Abort to the guest (best effort), and the stream closed. Nothing here throws to the
// caller.

import * as capnp from "capnp-es";
import * as rpc from "capnp-es/capnp/rpc";
import type { ByteStream } from "../ffi/stream.ts";
import { escapeText } from "../run/escape.ts";
import { FrameError, readFrames } from "./frame.ts";
import { messageProblem } from "./validate.ts";
import type { VatLimits } from "./types.ts";

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
   * capability of its own.
   */
  paramCap(params: capnp.Struct, index: number): Promise<CapServer | null>;
  /** Puts `server` into pointer field `index` of `results`. */
  setResultCap(results: capnp.Struct, index: number, server: CapServer): void;
}

export const DEFAULT_LIMITS: VatLimits = {
  maxMessageBytes: 8 << 20,
  maxSegments: 512,
  maxAnswers: 1024,
  maxExports: 1024,
  maxHeldBytes: 64 << 20,
};

interface Answer {
  done: boolean;
  /** Set when the call failed: the reason pipelined calls fail with. */
  error?: string;
  /** Capabilities in the results by transform path ("" for the whole content, "2" for field 2). */
  readonly caps: Map<string, CapServer>;
  /** Export ids counted for this answer's Return, released again if the guest asks at Finish. */
  exported: number[];
  /** Calls pipelined on this answer, run in arrival order once it is done. */
  waiters: (() => void)[];
  finished: boolean;
  releaseOnFinish: boolean;
}

class Violation extends Error {}

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
  options: { log(line: string): void; limits?: Partial<VatLimits> },
): Promise<void> {
  const vat = new Vat(stream, bootstrap, { ...DEFAULT_LIMITS, ...options.limits });
  try {
    const frames = readFrames(stream, {
      maxBytes: vat.limits.maxMessageBytes,
      maxSegments: vat.limits.maxSegments,
    });
    for await (const frame of frames) {
      vat.receive(frame);
      if (vat.closed) break;
    }
  } catch (e) {
    if (e instanceof Violation || e instanceof FrameError) vat.fail(e.message);
    else vat.fail(`a malformed message (${e instanceof Error ? e.message : e})`);
  }
  if (vat.failure !== undefined) options.log(`${vat.failure}; closed the RPC connection`);
  await vat.shutdown();
}

class Vat {
  readonly answers = new Map<number, Answer>();
  readonly exports = new Map<number, { server: CapServer; refs: number }>();
  readonly exportIds = new Map<CapServer, number>();
  nextExportId = 0;
  heldBytes = 0;
  closed = false;
  failure: string | undefined;
  #out: Promise<void> = Promise.resolve();
  #peerGone = false;

  constructor(
    readonly stream: ByteStream,
    readonly bootstrap: CapServer,
    readonly limits: VatLimits,
  ) {}

  /** Handles one message. Throws Violation (or a decoding error) on a broken protocol. */
  receive(frame: ArrayBuffer): void {
    // Reading amplified 8 times over is allowed: a message may point to one object repeatedly.
    const problem = messageProblem(frame, this.limits.maxMessageBytes);
    if (problem) throw new Violation(`a malformed message (${problem})`);
    const message = new capnp.Message(frame, false);
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
      case rpc.Message_Which.ABORT:
        throw new Violation(`the guest aborted: ${escapeText(root.abort.reason)}`);
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
        const reply = new capnp.Message();
        reply.initRoot(rpc.Message).unimplemented = root;
        this.#send(reply);
      }
    }
  }

  #newAnswer(questionId: number): Answer {
    if (this.answers.has(questionId)) {
      throw new Violation(`the guest reused question ${questionId} before finishing it`);
    }
    if (this.answers.size >= this.limits.maxAnswers) {
      throw new Violation(`the guest has more than ${this.limits.maxAnswers} calls outstanding`);
    }
    const answer: Answer = {
      done: false,
      caps: new Map(),
      exported: [],
      waiters: [],
      finished: false,
      releaseOnFinish: false,
    };
    this.answers.set(questionId, answer);
    return answer;
  }

  #bootstrap(questionId: number): void {
    const answer = this.#newAnswer(questionId);
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
    this.heldBytes += bytes;
    if (this.heldBytes > this.limits.maxHeldBytes) {
      throw new Violation(`the guest's calls hold more than ${this.limits.maxHeldBytes} bytes`);
    }
    const interfaceId = call.interfaceId;
    const methodId = call.methodId;
    const params = call.params;
    const run = (target: CapServer | string) => {
      void this.#dispatch(questionId, answer, target, interfaceId, methodId, params).finally(() => {
        this.heldBytes -= bytes;
      });
    };
    const target = call.target;
    if (target.which() === rpc.MessageTarget_Which.IMPORTED_CAP) {
      const id = target.importedCap;
      run(this.exports.get(id)?.server ?? `no capability has id ${id} (released, or never given)`);
      return;
    }
    this.#whenAnswered(target.promisedAnswer, run);
  }

  /** Calls `then` with the capability a PromisedAnswer names, once that answer is done. */
  #whenAnswered(p: rpc.PromisedAnswer, then: (target: CapServer | string) => void): void {
    const questionId = p.questionId;
    const path = p.transform.toArray().filter((op) => !op._isNoop).map((op) => op.getPointerField)
      .join(".");
    const answer = this.answers.get(questionId);
    if (answer === undefined) return then(`no question ${questionId} is outstanding`);
    const resolve = () =>
      then(
        answer.error ?? answer.caps.get(path) ??
          `the results of question ${questionId} have no capability at [${path}]`,
      );
    if (answer.done) resolve();
    else answer.waiters.push(resolve);
  }

  async #dispatch(
    questionId: number,
    answer: Answer,
    target: CapServer | string,
    interfaceId: bigint,
    methodId: number,
    params: rpc.Payload,
  ): Promise<void> {
    const out = new capnp.Message();
    const ret = out.initRoot(rpc.Message)._initReturn();
    ret.answerId = questionId;
    const payload = ret._initResults();
    const caps: CapServer[] = [];
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
        paramCap: (struct, index) => this.#paramCap(params, struct, index),
        setResultCap: (struct, index, server) => {
          if (struct !== results) throw new Error("setResultCap: not this call's results");
          capnp.utils.setInterfacePointer(caps.length, capnp.utils.getPointer(index, struct));
          caps.push(server);
          answer.caps.set(String(index), server);
        },
      });
      if (this.closed) return;
      this.#writeCapTable(payload, caps, answer);
      this.#send(out);
    } catch (e) {
      if (this.closed) return;
      if (e instanceof Violation) return this.fail(e.message);
      answer.error = e instanceof Error ? e.message : String(e);
      answer.caps.clear();
      const failed = new capnp.Message();
      const r = failed.initRoot(rpc.Message)._initReturn();
      r.answerId = questionId;
      r._initException().reason = answer.error;
      this.#send(failed);
    }
    this.#complete(questionId, answer);
  }

  #complete(questionId: number, answer: Answer): void {
    answer.done = true;
    for (const waiter of answer.waiters.splice(0)) waiter();
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

  async #paramCap(
    params: rpc.Payload,
    struct: capnp.Struct,
    index: number,
  ): Promise<CapServer | null> {
    const { pointerLength } = capnp.utils.getSize(struct);
    if (index >= pointerLength) return null;
    const pointer = capnp.utils.getPointer(index, struct);
    if (capnp.utils.isNull(pointer)) return null;
    const capIndex = capnp.utils.getCapabilityId(capnp.utils.followFars(pointer));
    const table = params.capTable;
    if (capIndex >= table.length) throw new Error(`capability ${capIndex} is not in the cap table`);
    const d = table.get(capIndex);
    if (d._isReceiverHosted) {
      const entry = this.exports.get(d.receiverHosted);
      if (entry === undefined) throw new Error(`no capability has id ${d.receiverHosted}`);
      return entry.server;
    }
    if (d._isReceiverAnswer) {
      return await new Promise((resolve, reject) =>
        this.#whenAnswered(d.receiverAnswer, (t) => {
          if (typeof t === "string") reject(new Error(t));
          else resolve(t);
        })
      );
    }
    throw new Error("only capabilities that ww gave this program can be passed here");
  }

  #send(message: capnp.Message): void {
    if (this.closed) return;
    const bytes = new Uint8Array(message.toArrayBuffer());
    this.#out = this.#out.then(async () => {
      if (this.#peerGone) return;
      try {
        await this.stream.write(bytes);
      } catch {
        // The guest closed its end; reading will see the end of stream.
        this.#peerGone = true;
      }
    });
  }

  /** Records the first violation and tells the guest why (best effort) before closing. */
  fail(reason: string): void {
    if (this.closed) return;
    this.failure = reason;
    const out = new capnp.Message();
    const e = out.initRoot(rpc.Message)._initAbort();
    e.reason = `ww: ${reason}`;
    this.#send(out);
    this.closed = true;
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    // Give queued messages (the Abort) a moment to leave, but never wait on a guest that stopped
    // reading.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#out,
      new Promise((r) => (timer = setTimeout(r, 200))),
    ]);
    clearTimeout(timer);
    this.answers.clear();
    this.exports.clear();
    this.exportIds.clear();
    this.stream.close();
  }
}
