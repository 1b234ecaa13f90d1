// rpc/vat_test.ts — the host side against a hostile guest: raw bytes on a real socketpair, named
// attacks and a seeded fuzzer. Whatever arrives, serveHost resolves, logs at most one line, and
// the process keeps its memory.

import assert from "node:assert/strict";
import * as capnp from "capnp-es";
import * as rpc from "capnp-es/capnp/rpc";
import { unixSocketPair } from "../ffi/fd.ts";
import { FdStream } from "../ffi/stream.ts";
import { readFrames } from "./frame.ts";
import { serveHost } from "./host.ts";
import * as ww from "./ww_capnp.ts";

const GRANTS = { console: true, ipfs: false, exec: false };

/** A host served on one end of a socketpair; the test is the guest on the other end. */
function connect(limits?: Parameters<typeof serveHost>[3]) {
  const [hostFd, guestFd] = unixSocketPair();
  const log: string[] = [];
  const guest = new FdStream(guestFd);
  const served = serveHost(
    new FdStream(hostFd),
    GRANTS,
    { programName: "t", version: "0", stderr: (l) => log.push(l) },
    limits,
  );
  const frames = readFrames(guest, { maxBytes: 1 << 24, maxSegments: 512 });
  return {
    log,
    served,
    guest,
    send: (...ms: capnp.Message[]) =>
      guest.write(new Uint8Array(ms.flatMap((m) => [...new Uint8Array(m.toArrayBuffer())]))),
    /** The next message from the host, or null once it closed the connection. */
    next: async (): Promise<rpc.Message | null> => {
      const r = await frames.next();
      return r.done ? null : new capnp.Message(r.value, false).getRoot(rpc.Message);
    },
  };
}

function bootstrap(q: number): capnp.Message {
  const m = new capnp.Message();
  m.initRoot(rpc.Message)._initBootstrap().questionId = q;
  return m;
}

type Target = { cap: number } | { answer: number; path?: number[] };

function call(q: number, target: Target, interfaceId: bigint, methodId: number): capnp.Message {
  const m = new capnp.Message();
  const c = m.initRoot(rpc.Message)._initCall();
  c.questionId = q;
  c.interfaceId = interfaceId;
  c.methodId = methodId;
  const t = c._initTarget();
  if ("cap" in target) t.importedCap = target.cap;
  else {
    const pa = t._initPromisedAnswer();
    pa.questionId = target.answer;
    const path = target.path ?? [];
    const ops = pa._initTransform(path.length);
    path.forEach((f, i) => (ops.get(i).getPointerField = f));
  }
  c._initParams();
  return m;
}

function finish(q: number): capnp.Message {
  const m = new capnp.Message();
  m.initRoot(rpc.Message)._initFinish().questionId = q;
  return m;
}

function release(id: number, count: number): capnp.Message {
  const m = new capnp.Message();
  const r = m.initRoot(rpc.Message)._initRelease();
  r.id = id;
  r.referenceCount = count;
  return m;
}

const HOST = ww.Host$Client.interfaceId;

/** Reads until the host has closed; returns the reason of its Abort, if it sent one. */
async function closedWith(c: ReturnType<typeof connect>): Promise<string | undefined> {
  let reason: string | undefined;
  for (let m = await c.next(); m !== null; m = await c.next()) {
    if (m._isAbort) reason = m.abort.reason;
  }
  await c.served;
  c.guest.close();
  return reason;
}

async function returnOf(c: ReturnType<typeof connect>, q: number): Promise<rpc.Return> {
  for (let m = await c.next(); m !== null; m = await c.next()) {
    if (m._isReturn && m.return.answerId === q) return m.return;
  }
  throw new Error(`no Return for question ${q}`);
}

Deno.test("identity answers over a raw connection, and the connection ends cleanly", async () => {
  const c = connect();
  await c.send(bootstrap(0), call(1, { answer: 0 }, HOST, 0));
  const ret = await returnOf(c, 1);
  assert.ok(ret._isResults);
  const r = capnp.utils.getStruct(0, ww.Host_Identity$Results, ret.results);
  assert.equal(r.name, "ww");
  c.guest.close();
  await c.served;
  assert.deepEqual(c.log, []);
});

Deno.test("unknown interface and method ids are exceptions, and the connection goes on", async () => {
  const c = connect();
  await c.send(bootstrap(0), call(1, { answer: 0 }, 0x1234n, 0), call(2, { answer: 0 }, HOST, 99));
  assert.match((await returnOf(c, 1)).exception.reason, /does not implement interface @0x1234/);
  assert.match((await returnOf(c, 2)).exception.reason, /Host has no method @99/);
  await c.send(call(3, { answer: 0 }, HOST, 0));
  assert.ok((await returnOf(c, 3))._isResults);
  c.guest.close();
  await c.served;
  assert.deepEqual(c.log, []);
});

Deno.test("a call on a released capability is an exception", async () => {
  const c = connect();
  await c.send(bootstrap(0));
  const boot = await returnOf(c, 0);
  const id = boot.results.capTable.get(0).senderHosted;
  await c.send(
    finish(0),
    release(id, 1),
    call(1, { cap: id }, HOST, 0),
    call(2, { cap: 77 }, HOST, 0),
  );
  assert.match((await returnOf(c, 1)).exception.reason, /no capability has id/);
  assert.match((await returnOf(c, 2)).exception.reason, /no capability has id 77/);
  c.guest.close();
  await c.served;
});

Deno.test("a call pipelined on a failed call fails with its reason", async () => {
  const c = connect();
  await c.send(
    bootstrap(0),
    call(1, { answer: 0 }, HOST, 2),
    call(2, { answer: 1, path: [0] }, 0n, 0),
  );
  assert.match(
    (await returnOf(c, 2)).exception.reason,
    /ipfs is not granted: run ww with --with-ipfs/,
  );
  c.guest.close();
  await c.served;
});

const violations: [string, () => Uint8Array, RegExp][] = [
  ["text", () => new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n".repeat(10)), /segments/],
  [
    "a well-framed message of garbage words",
    () => new Uint8Array([0, 0, 0, 0, 4, 0, 0, 0, ...Array.from({ length: 32 }, (_, i) => i * 37)]),
    /malformed/,
  ],
  [
    "an absurd segment count",
    () => new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]),
    /4294967296 segments \(the limit is 512\)/,
  ],
  [
    "an absurd segment size",
    () => new Uint8Array([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
    /larger than 8388608 bytes/,
  ],
  [
    "a truncated frame",
    () => new Uint8Array([0, 0, 0, 0, 100, 0, 0, 0, 1, 2, 3]),
    /the stream ended inside a message/,
  ],
  [
    "an empty segment",
    () => new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0]),
    /malformed/,
  ],
];

for (const [what, bytes, reason] of violations) {
  Deno.test(`${what} closes the connection with one log line`, async () => {
    const c = connect();
    await c.guest.write(bytes()).catch(() => {});
    if (what === "a truncated frame") c.guest.close();
    else await closedWith(c);
    await c.served;
    assert.equal(c.log.length, 1, c.log.join("\n"));
    assert.match(c.log[0], reason);
    assert.match(c.log[0], /^ww: t: .*; closed the RPC connection$/);
  });
}

Deno.test("a call flood past the outstanding-call limit closes the connection", async () => {
  const c = connect();
  const flood = [bootstrap(0)];
  for (let q = 1; q <= 1100; q++) flood.push(call(q, { answer: 0 }, HOST, 0));
  await c.send(...flood).catch(() => {});
  assert.match((await closedWith(c)) ?? "", /more than 1024 calls outstanding/);
  assert.equal(c.log.length, 1);
});

Deno.test("finished calls do not count against the limit", async () => {
  const c = connect({ maxAnswers: 4 });
  await c.send(bootstrap(0));
  await returnOf(c, 0);
  for (let q = 1; q <= 20; q++) {
    await c.send(call(q, { answer: 0 }, HOST, 0));
    await returnOf(c, q);
    await c.send(finish(q));
  }
  c.guest.close();
  await c.served;
  assert.deepEqual(c.log, []);
});

Deno.test("protocol violations close the connection with one log line", async () => {
  const cases: [capnp.Message[], RegExp][] = [
    [[bootstrap(0), bootstrap(0)], /reused question 0/],
    [[finish(5)], /finished question 5, which is not outstanding/],
  ];
  for (const [messages, reason] of cases) {
    const c = connect();
    await c.send(...messages).catch(() => {});
    await closedWith(c);
    assert.equal(c.log.length, 1);
    assert.match(c.log[0], reason);
  }
});

/** A small deterministic PRNG (mulberry32), so a failing input can be reproduced by its seed. */
function prng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One generated input: a valid session, mutated, or plain noise. */
function fuzzInput(seed: number): Uint8Array {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const session = [
    bootstrap(0),
    call(1, { answer: 0 }, HOST, int(5)),
    call(2, { answer: 1, path: [int(3)] }, ww.Console$Client.interfaceId, 0),
    call(3, { cap: int(3) }, HOST, 0),
    finish(int(4)),
    release(int(3), int(3)),
  ];
  const bytes = session.flatMap((m) => [...new Uint8Array(m.toArrayBuffer())]);
  switch (int(4)) {
    case 0: // random noise
      return new Uint8Array(Array.from({ length: int(256) }, () => int(256)));
    case 1: // truncated
      return new Uint8Array(bytes.slice(0, int(bytes.length)));
    default: { // flipped bytes, anywhere: headers, pointers, ids
      const out = new Uint8Array(bytes);
      for (let i = int(8) + 1; i > 0; i--) out[int(out.length)] = int(256);
      return out;
    }
  }
}

Deno.test("5000 generated inputs never crash ww, never hang it, and never log twice", async () => {
  const before = Deno.memoryUsage().rss;
  for (let seed = 1; seed <= 5000; seed++) {
    if (Deno.env.get("FUZZ_TRACE")) console.error("seed", seed);
    const c = connect();
    await c.guest.write(fuzzInput(seed)).catch(() => {});
    // Closing ends the input; serveHost must then resolve, whatever state the input left.
    c.guest.close();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = await Promise.race([
      c.served.then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), 5000))),
    ]);
    clearTimeout(timer);
    assert.ok(done, `seed ${seed}: serveHost did not end`);
    // Console.log calls the fuzzer stumbles on are the guest's lines; ww's own start with "ww:".
    const own = c.log.filter((l) => l.startsWith("ww: "));
    assert.ok(own.length <= 1, `seed ${seed}: ${own.join(" | ")}`);
  }
  const grown = Deno.memoryUsage().rss - before;
  assert.ok(grown < 256 << 20, `rss grew by ${grown} bytes`);
});
