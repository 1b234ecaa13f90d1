// rpc/fuzz.ts — a seeded fuzzer for the host side of fd 3, run in-process: each input is a
// mutated guest session (or noise) fed to serveHost through an in-memory stream, so that 100,000
// inputs take seconds. Used by rpc/vat_test.ts (a fixed seed range) and `deno task bench` (a
// longer run that records the peak RSS). Also the raw-message builders the tests use.

import * as capnp from "npm:capnp-es@0.0.16";
import * as rpc from "npm:capnp-es@0.0.16/capnp/rpc";
import type { ByteStream } from "../ffi/stream.ts";
import { serveHost } from "./host.ts";
import * as ww from "./ww_capnp.ts";

export const HOST = ww.Host$Client.interfaceId;

/** A Bootstrap message for question `q`. */
export function bootstrap(q: number): capnp.Message {
  const m = new capnp.Message();
  m.initRoot(rpc.Message)._initBootstrap().questionId = q;
  return m;
}

/** A call's target: a capability ww exported, or the answer to a question (and a path in it). */
export type Target = { cap: number } | { answer: number; path?: number[] };

/** A capability in a call's parameters, as the guest describes it. */
export type ParamCap = { hosted: number } | { answer: number; path?: number[] } | { own: number };

/** A Call message; `caps` fill the params' cap table, pointed at by the content's pointers. */
export function call(
  q: number,
  target: Target,
  interfaceId: bigint,
  methodId: number,
  caps: ParamCap[] = [],
): capnp.Message {
  const m = new capnp.Message();
  const c = m.initRoot(rpc.Message)._initCall();
  c.questionId = q;
  c.interfaceId = interfaceId;
  c.methodId = methodId;
  const t = c._initTarget();
  if ("cap" in target) t.importedCap = target.cap;
  else promised(t._initPromisedAnswer(), target.answer, target.path);
  const params = c._initParams();
  if (caps.length > 0) {
    // Executor.start's params: six pointers, the capabilities from field 3 on.
    const content = capnp.utils.initStructAt(0, ww.Executor_Start$Params, params);
    caps.forEach((_, i) =>
      capnp.utils.setInterfacePointer(i, capnp.utils.getPointer(3 + (i % 3), content))
    );
    const table = params._initCapTable(caps.length);
    caps.forEach((cap, i) => {
      const d = table.get(i);
      if ("hosted" in cap) d.receiverHosted = cap.hosted;
      else if ("own" in cap) d.senderHosted = cap.own;
      else promised(d._initReceiverAnswer(), cap.answer, cap.path);
    });
  }
  return m;
}

function promised(pa: rpc.PromisedAnswer, q: number, path: number[] = []): void {
  pa.questionId = q;
  const ops = pa._initTransform(path.length);
  path.forEach((f, i) => (ops.get(i).getPointerField = f));
}

/** A Finish message for question `q`. */
export function finish(q: number): capnp.Message {
  const m = new capnp.Message();
  m.initRoot(rpc.Message)._initFinish().questionId = q;
  return m;
}

/** A Release message. */
export function release(id: number, count: number): capnp.Message {
  const m = new capnp.Message();
  const r = m.initRoot(rpc.Message)._initRelease();
  r.id = id;
  r.referenceCount = count;
  return m;
}

/** A message of a type ww does not implement (Provide), `ops` transform steps long. */
export function provide(q: number, ops: number): capnp.Message {
  const m = new capnp.Message();
  const p = m.initRoot(rpc.Message)._initProvide();
  p.questionId = q;
  p._initTarget()._initPromisedAnswer()._initTransform(ops);
  return m;
}

/** A Resolve of the guest's promise `id` to its own capability `to`. */
export function resolve(id: number, to: number): capnp.Message {
  const m = new capnp.Message();
  const r = m.initRoot(rpc.Message)._initResolve();
  r.promiseId = id;
  r._initCap().senderHosted = to;
  return m;
}

/** A small deterministic PRNG (mulberry32), so a failing input can be reproduced by its seed. */
export function prng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CONSOLE = ww.Console$Client.interfaceId;
const EXECUTOR = ww.Executor$Client.interfaceId;

/** One generated input: a valid session, mutated, truncated, or plain noise. */
export function fuzzInput(seed: number): Uint8Array {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const [method, field, cap, hosted, answer, path, own, finished, id, count, extra] = [
    5,
    3,
    3,
    3,
    6,
    2,
    3,
    6,
    3,
    3,
    4,
  ].map(int);
  const session = [
    encoded("b", () => bootstrap(0)),
    encoded(`c1.${method}`, () => call(1, { answer: 0 }, HOST, method)),
    encoded(`c2.${field}`, () => call(2, { answer: 1, path: [field] }, CONSOLE, 0)),
    encoded(`c3.${cap}`, () => call(3, { cap }, HOST, 0)),
    encoded("c4", () => call(4, { answer: 0 }, HOST, 3)),
    // Capabilities in the params: ww's own, pipelined on an answer, and the guest's own.
    encoded(
      `c5.${hosted}.${answer}.${path}.${own}`,
      () =>
        call(5, { answer: 4, path: [0] }, EXECUTOR, 0, [
          { hosted },
          { answer, path: [path] },
          { own },
        ]),
    ),
    encoded(`f${finished}`, () => finish(finished)),
    encoded(`r${id}.${count}`, () => release(id, count)),
  ];
  if (extra === 0) {
    const [q, ops, promise, to] = [9, 64, 3, 3].map(int);
    session.push(encoded(`p${q}.${ops}`, () => provide(q, ops)));
    session.push(encoded(`s${promise}.${to}`, () => resolve(promise, to)));
  }
  const bytes = concat(session);
  switch (int(4)) {
    case 0: // random noise
      return new Uint8Array(Array.from({ length: int(256) }, () => int(256)));
    case 1: // truncated
      return bytes.slice(0, int(bytes.length));
    default: { // flipped bytes, anywhere: headers, pointers, ids
      const out = bytes;
      for (let i = int(8) + 1; i > 0; i--) out[int(out.length)] = int(256);
      return out;
    }
  }
}

const ENCODED = new Map<string, Uint8Array>();

/**
 * The bytes of the message `build` makes, encoded once per `key` (which names the message and its
 * arguments): the sessions draw from a few hundred messages, and encoding them each time was most
 * of the fuzzer's run time.
 */
function encoded(key: string, build: () => capnp.Message): Uint8Array {
  let bytes = ENCODED.get(key);
  if (bytes === undefined) {
    bytes = new Uint8Array(build().toArrayBuffer());
    ENCODED.set(key, bytes);
  }
  return bytes;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * A ByteStream that yields `input` in pieces of 1 to 64 bytes (so messages arrive split
 * anywhere) and then its end; what ww writes is counted and dropped.
 */
export function memoryStream(input: Uint8Array, seed: number): ByteStream & { written: number } {
  const rand = prng(seed ^ 0x5bd1e995);
  let at = 0;
  const stream = {
    written: 0,
    read(p: Uint8Array): Promise<number | null> {
      if (at >= input.length) return Promise.resolve(null);
      const n = Math.min(p.length, input.length - at, 1 + Math.floor(rand() * 64));
      p.set(input.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
    write(p: Uint8Array): Promise<number> {
      stream.written += p.length;
      return Promise.resolve(p.length);
    },
    close() {
      at = input.length;
    },
  };
  return stream;
}

/**
 * Feeds the inputs of seeds `first`..`first + count - 1` to serveHost (console granted), one
 * connection each. Throws, naming the seed, when ww does not end within 5 s of the input's end or
 * writes more than one line of its own.
 */
export async function fuzzHost(first: number, count: number): Promise<void> {
  // One watchdog for the run rather than a timer per input: timers cost more than the inputs.
  let seed = first;
  let started = Date.now();
  let stuck = () => {};
  const watchdog = setInterval(() => {
    if (Date.now() - started > 5000) stuck();
  }, 1000);
  try {
    for (; seed < first + count; seed++) {
      const log: string[] = [];
      started = Date.now();
      const served = serveHost(
        memoryStream(fuzzInput(seed), seed),
        { console: true, ipfs: false, exec: false },
        { programName: "t", version: "0", stderr: (l) => log.push(l) },
      );
      const done = await Promise.race([
        served.then(() => true),
        new Promise<false>((r) => (stuck = () => r(false))),
      ]);
      if (!done) throw new Error(`seed ${seed}: serveHost did not end`);
      // Console.log calls the fuzzer stumbles on are the guest's lines; ww's own start "ww:".
      const own = log.filter((l) => l.startsWith("ww: "));
      if (own.length > 1) throw new Error(`seed ${seed}: ${own.join(" | ")}`);
    }
  } finally {
    clearInterval(watchdog);
  }
}

if (import.meta.main) {
  // deno run -A rpc/fuzz.ts <first seed> <count>: prints the run's figures as one JSON line.
  const [first, count] = Deno.args.map(Number);
  const t0 = performance.now();
  await fuzzHost(first, count);
  const seconds = (performance.now() - t0) / 1000;
  const status = await Deno.readTextFile("/proc/self/status");
  const peak = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  console.log(JSON.stringify({ inputs: count, seconds, peak }));
}
