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
import { type CapServer, serveVat } from "./vat.ts";
import { bootstrap, call, finish, fuzzHost, HOST, provide, release } from "./fuzz.ts";
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

/**
 * The exception reason of each Return for the questions `from` up, read from `frames` until there
 * are `count` of them (the host must not close the connection first).
 */
async function returnReasons(
  frames: AsyncIterator<ArrayBuffer>,
  count: number,
  from: number,
): Promise<Map<number, string>> {
  const reasons = new Map<number, string>();
  while (reasons.size < count) {
    const r = await frames.next();
    assert.ok(!r.done, "the host closed the connection");
    const m = new capnp.Message(r.value, false).getRoot(rpc.Message);
    if (m._isReturn && m.return.answerId >= from) {
      reasons.set(m.return.answerId, m.return.exception.reason);
    }
  }
  return reasons;
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

// capnp-es's own words ("CAPNP-TS024 Attempted to convert pointer ...", "Invalid typed array
// length: -1") reached the guest as the call's reason.
Deno.test("params that do not match the schema are an exception in ww's words, and the connection goes on", async () => {
  const c = connect();
  const CONSOLE = ww.Console$Client.interfaceId;
  const asList = call(2, { answer: 1, path: [0] }, CONSOLE, 0);
  capnp.utils.initList(0, capnp.TextList, 1, asList.getRoot(rpc.Message).call.params);
  await c.send(bootstrap(0), call(1, { answer: 0 }, HOST, 1), asList);
  assert.equal(
    (await returnOf(c, 2)).exception.reason,
    "a malformed message (a field that does not match the schema)",
  );
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
    "an empty segment",
    () => new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0]),
    /malformed/,
  ],
  // capnp-es's words for it ("CAPNP-TS024 Attempted to convert pointer ...") named its internals.
  [
    "a message whose root is an empty list",
    () => new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]),
    /a malformed message \(a field that does not match the schema\)/,
  ],
];

for (const [what, bytes, reason] of violations) {
  Deno.test(`${what} closes the connection with one log line`, async () => {
    const c = connect();
    await c.guest.write(bytes()).catch(() => {});
    await closedWith(c);
    await c.served;
    assert.equal(c.log.length, 1, c.log.join("\n"));
    assert.match(c.log[0], reason);
    assert.match(c.log[0], /^ww: t: .*; closed the RPC connection$/);
  });
}

// A guest that exits, or that ww ends (--timeout), in the middle of writing a message is gone, not
// at fault: its message was lost, and ww did not close the connection.
for (
  const [what, bytes, line] of [
    [
      "a message",
      [0, 0, 0, 0, 100, 0, 0, 0, 1, 2, 3],
      "the connection ended inside a message (11 of its 808 bytes came); the message was dropped",
    ],
    [
      "a segment table",
      [1, 0, 0],
      "the connection ended inside a message's segment table (3 bytes came); the message was dropped",
    ],
  ] as const
) {
  Deno.test(`a stream that ends inside ${what} drops it with one line, no violation`, async () => {
    const c = connect();
    await c.guest.write(new Uint8Array(bytes));
    c.guest.close();
    await c.served;
    assert.deepEqual(c.log, [`ww: t: ${line}`]);
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

/** A call of identity on the bootstrap whose params' cap table is a list of `n` pointers. */
function capTableOfPointers(q: number, n: number): capnp.Message {
  const m = call(q, { answer: 0 }, HOST, 0);
  capnp.utils.initList(1, capnp.TextList, n, m.getRoot(rpc.Message).call.params);
  return m;
}

Deno.test("protocol violations close the connection with one log line", async () => {
  const cases: [capnp.Message[], RegExp][] = [
    [[bootstrap(0), bootstrap(0)], /reused question 0 before both its Finish and its Return/],
    [[finish(5)], /finished question 5, which is not outstanding/],
    [
      [bootstrap(0), capTableOfPointers(1, 3)],
      /a call's capability table is a list of pointers where the schema has a list of structs/,
    ],
  ];
  for (const [messages, reason] of cases) {
    const c = connect();
    await c.send(...messages).catch(() => {});
    await closedWith(c);
    assert.equal(c.log.length, 1);
    assert.match(c.log[0], reason);
  }
});

Deno.test("an unknown message is echoed with its type only, not a copy of its body", async () => {
  const c = connect();
  const m = provide(1, 60000);
  const sent = m.toArrayBuffer().byteLength;
  await c.send(m);
  const frames = readFrames(c.guest, { maxBytes: 1 << 24, maxSegments: 512 });
  const echo = (await frames.next()).value as ArrayBuffer;
  const reply = new capnp.Message(echo, false).getRoot(rpc.Message);
  assert.ok(reply._isUnimplemented);
  assert.equal(reply.unimplemented.which(), rpc.Message_Which.PROVIDE);
  assert.ok(sent > 400_000 && echo.byteLength < 256, `${sent} bytes echoed as ${echo.byteLength}`);
  c.guest.close();
  await c.served;
  assert.deepEqual(c.log, []);
});

/** `n` pipelined Host.identity calls (questions from `first`), each finished at once, as bytes. */
function identityFlood(first: number, n: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let q = first; q < first + n; q++) {
    for (const m of [call(q, { answer: 0 }, HOST, 0), finish(q)]) {
      parts.push(new Uint8Array(m.toArrayBuffer()));
    }
  }
  const out = new Uint8Array(parts.reduce((l, p) => l + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

Deno.test("a guest that does not read is slowed: ww stops reading, then answers every call", async () => {
  const limits = { maxBufferedBytes: 256 << 10, maxMessageBytes: 64 << 10 };
  const c = connect(limits);
  await c.send(bootstrap(0));
  await returnOf(c, 0);
  const calls = 25_000;
  const flood = identityFlood(1, calls);
  // The flood is 1.6 MB; ww takes its 256 KiB budget plus what the socket buffers hold.
  let written = 0;
  const writes: Promise<number>[] = [];
  let blocked = false;
  for (let at = 0; at < flood.length && !blocked; at += 16 << 10) {
    const chunk = flood.subarray(at, at + (16 << 10));
    const write = c.guest.write(chunk);
    writes.push(write);
    let timer: ReturnType<typeof setTimeout> | undefined;
    blocked = !await Promise.race([
      write.then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), 300))),
    ]);
    clearTimeout(timer);
    if (!blocked) written += chunk.length;
  }
  assert.ok(blocked, "ww read the whole flood without the guest reading anything");
  assert.ok(written < 1 << 20, `ww took ${written} bytes before the guest read`);
  // Once the guest reads, ww reads on, and every call is answered, in order.
  const rest = (async () => {
    await Promise.all(writes);
    const at = writes.length * (16 << 10);
    if (at < flood.length) await c.guest.write(flood.subarray(at));
  })();
  let answered = 0;
  for (let m = await c.next(); m !== null; m = await c.next()) {
    assert.ok(m._isReturn && m.return._isResults, "a Return with results");
    assert.equal(m.return.answerId, ++answered);
    if (answered === calls) break;
  }
  await rest;
  c.guest.close();
  await c.served;
  assert.deepEqual(c.log, []);
});

Deno.test("results reserved by services share the budget: calls wait their turn", async () => {
  const [hostFd, guestFd] = unixSocketPair();
  const guest = new FdStream(guestFd);
  let holding = 0;
  const most: number[] = [];
  const server: CapServer = {
    interfaceId: HOST,
    name: "Reserving",
    async dispatch(methodId, call) {
      // 300 KiB is charged 600 KiB (its copy in the message too): one at a time fits 1 MiB.
      await call.reserve(methodId === 1 ? 2 << 20 : 300 << 10);
      holding++;
      most[methodId] = Math.max(most[methodId] ?? 0, holding);
      await new Promise((r) => setTimeout(r, 5));
      call.results(ww.Host_Identity$Results).name = "x".repeat(300 << 10);
      holding--;
    },
  };
  const log: string[] = [];
  const served = serveVat(new FdStream(hostFd), server, {
    log: (l) => log.push(l),
    limits: { maxBufferedBytes: 1 << 20, maxMessageBytes: 64 << 10 },
  });
  const calls = [bootstrap(0)];
  for (let q = 1; q <= 6; q++) calls.push(call(q, { answer: 0 }, HOST, 0));
  calls.push(call(7, { answer: 0 }, HOST, 1));
  for (let q = 8; q <= 10; q++) calls.push(call(q, { answer: 0 }, HOST, 0));
  await guest.write(new Uint8Array(calls.flatMap((m) => [...new Uint8Array(m.toArrayBuffer())])));
  const frames = readFrames(guest, { maxBytes: 1 << 24, maxSegments: 512 });
  const seen = new Map<number, rpc.Return>();
  while (seen.size < 11) {
    const frame = (await frames.next()).value as ArrayBuffer;
    const m = new capnp.Message(frame, false).getRoot(rpc.Message);
    if (m._isReturn) seen.set(m.return.answerId, m.return);
  }
  guest.close();
  await served;
  assert.deepEqual(most, [1, 1], "one reservation at a time; the one over the budget alone");
  for (let q = 1; q <= 10; q++) assert.ok(seen.get(q)!._isResults);
  assert.deepEqual(log, []);
});

Deno.test("results larger than the budget are built one at a time, none waiting forever", async () => {
  const [hostFd, guestFd] = unixSocketPair();
  const guest = new FdStream(guestFd);
  let holding = 0;
  let most = 0;
  const server: CapServer = {
    interfaceId: HOST,
    name: "Reserving",
    async dispatch(_methodId, call) {
      // As Ipfs.cat does, learn the size first: by then every call has arrived and waits.
      await new Promise((r) => setTimeout(r, 20));
      await call.reserve(1 << 20); // charged 2 MiB, twice the budget
      most = Math.max(most, ++holding);
      await new Promise((r) => setTimeout(r, 5));
      call.results(ww.Host_Identity$Results).name = "x".repeat(100 << 10);
      holding--;
    },
  };
  const log: string[] = [];
  const served = serveVat(new FdStream(hostFd), server, {
    log: (l) => log.push(l),
    limits: { maxBufferedBytes: 1 << 20, maxMessageBytes: 64 << 10 },
  });
  const calls = [bootstrap(0)];
  for (let q = 1; q <= 4; q++) calls.push(call(q, { answer: 0 }, HOST, 0));
  await guest.write(new Uint8Array(calls.flatMap((m) => [...new Uint8Array(m.toArrayBuffer())])));
  const frames = readFrames(guest, { maxBytes: 1 << 24, maxSegments: 512 });
  const answered: number[] = [];
  while (answered.length < 4) {
    const frame = (await frames.next()).value as ArrayBuffer;
    const m = new capnp.Message(frame, false).getRoot(rpc.Message);
    if (m._isReturn && m.return.answerId > 0) {
      assert.ok(m.return._isResults);
      answered.push(m.return.answerId);
    }
  }
  guest.close();
  await served;
  assert.equal(most, 1);
  assert.deepEqual(answered, [1, 2, 3, 4], "answered in order of arrival");
  assert.deepEqual(log, []);
});

Deno.test("replies queued behind a slow reader leave in the order they were made", async () => {
  const [hostFd, guestFd] = unixSocketPair();
  const guest = new FdStream(guestFd);
  const sizes = [0, 2 << 20, 10, 100 << 10, 10]; // by question: large, small, large, small
  const server: CapServer = {
    interfaceId: HOST,
    name: "Sized",
    async dispatch(_methodId, call) {
      const q = call.params(ww.Host_Identity$Results).protocolVersion;
      await new Promise((r) => setTimeout(r, 10 * q));
      call.results(ww.Host_Identity$Results).name = "x".repeat(sizes[q]);
    },
  };
  const served = serveVat(new FdStream(hostFd), server, { log: () => {} });
  const calls = [bootstrap(0)];
  for (let q = 1; q <= 4; q++) {
    const m = call(q, { answer: 0 }, HOST, 0);
    // The question number rides in the params, so the server knows which size to answer.
    const params = m.getRoot(rpc.Message).call.params;
    capnp.utils.initStructAt(0, ww.Host_Identity$Results, params).protocolVersion = q;
    calls.push(m);
  }
  await guest.write(new Uint8Array(calls.flatMap((m) => [...new Uint8Array(m.toArrayBuffer())])));
  await new Promise((r) => setTimeout(r, 200)); // the replies pile up behind the first
  const frames = readFrames(guest, { maxBytes: 1 << 24, maxSegments: 512 });
  const order: number[] = [];
  while (order.length < 4) {
    const frame = (await frames.next()).value as ArrayBuffer;
    const m = new capnp.Message(frame, false).getRoot(rpc.Message);
    if (m._isReturn && m.return.answerId > 0) order.push(m.return.answerId);
  }
  guest.close();
  await served;
  assert.deepEqual(order, [1, 2, 3, 4]);
});

Deno.test("a small message that claims a million empty list elements is refused at once", async () => {
  const c = connect();
  const bytes = new Uint8Array(call(1, { answer: 0, path: [0] }, HOST, 0).toArrayBuffer());
  // The transform list's tag (one element of one data word): now a million elements of none.
  const view = new DataView(bytes.buffer);
  let tag = -1;
  for (let at = 8; at < bytes.length; at += 8) {
    if (view.getUint32(at, true) === 1 << 2 && view.getUint32(at + 4, true) === 1) tag = at;
  }
  assert.ok(tag > 0, "the tag of a one-element list of one-word structs");
  view.setUint32(tag, 1_000_000 << 2, true);
  view.setUint32(tag + 4, 0, true);
  await c.send(bootstrap(0));
  await c.guest.write(bytes);
  await closedWith(c);
  assert.equal(c.log.length, 1, c.log.join("\n"));
  assert.match(c.log[0], /a malformed message \(the traversal limit\)/);
});

Deno.test("a call with more than 64 capabilities in its parameters closes the connection", async () => {
  const c = connect();
  const caps = Array.from({ length: 65 }, () => ({ hosted: 0 }));
  await c.send(bootstrap(0), call(1, { answer: 0 }, HOST, 0, caps)).catch(() => {});
  assert.match((await closedWith(c)) ?? "", /a call passes 65 capabilities \(at most 64\)/);
  assert.equal(c.log.length, 1);
});

Deno.test("100000 generated inputs never crash ww, never hang it, and never log twice", async () => {
  // What this isolate's heap and buffers hold, not the process's RSS: test modules share the
  // process, and a fresh-clone run saw RSS grow 274 MiB here from other modules and allocator
  // retention (alone, 100,000 inputs leave ~28 MiB more heap and the RSS lower). ww's RSS under
  // fuzzing is measured in its own process by `deno task bench` (section hostile).
  const held = () => Deno.memoryUsage().heapUsed + Deno.memoryUsage().external;
  const before = held();
  await fuzzHost(1, 100_000);
  const grown = held() - before;
  assert.ok(grown < 256 << 20, `the heap and buffers grew by ${grown} bytes`);
});

/** A server whose method 1 never returns, and whose method 0 fails with `reason`, if given. */
function stalling(reason?: string): CapServer {
  return {
    interfaceId: HOST,
    name: "Stalling",
    dispatch(methodId) {
      if (methodId === 1) return new Promise<void>(() => {});
      if (reason !== undefined) throw new Error(reason);
    },
  };
}

/** `call(...)`, its parameters made `bytes` long (a Console.log line). */
function bigCall(q: number, target: { answer: number }, bytes: number): capnp.Message {
  const m = call(q, target, HOST, 0);
  const params = m.getRoot(rpc.Message).call.params;
  capnp.utils.initStructAt(0, ww.Console_Log$Params, params).line = "x".repeat(bytes);
  return m;
}

function serveStalling(server: CapServer, limits = {}) {
  const [hostFd, guestFd] = unixSocketPair();
  const guest = new FdStream(guestFd);
  const host = new FdStream(hostFd);
  const log: string[] = [];
  const ended = Promise.withResolvers<void>();
  const served = serveVat(host, server, { log: (l) => log.push(l), limits, ended: ended.promise });
  const frames = readFrames(guest, { maxBytes: 1 << 24, maxSegments: 512 });
  const returns = async function* () {
    for (let r = await frames.next(); !r.done; r = await frames.next()) {
      const m = new capnp.Message(r.value, false).getRoot(rpc.Message);
      if (m._isReturn) yield m.return;
    }
  };
  return { guest, host, log, ended, served, returns };
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms))),
  ]);
};

Deno.test("a call pipelined on its own answer fails at once instead of waiting for itself", async () => {
  const c = connect();
  await c.send(
    bootstrap(0),
    call(1, { answer: 1 }, HOST, 0),
    call(2, { answer: 0 }, HOST, 0, [{ answer: 2 }]),
  );
  const own = await within(returnOf(c, 1), 5_000, "no Return: call 1 waits for itself");
  assert.match(own.exception.reason, /no question 1 is outstanding/);
  assert.ok(
    (await returnOf(c, 2))._isResults,
    "a capability of its own answer is refused only if used",
  );
  c.guest.close();
  await c.served;
  assert.deepEqual(c.log, []);
});

Deno.test("a guest gone while its calls hold the whole budget ends the connection, in one line", async () => {
  const s = serveStalling(stalling(), { maxBufferedBytes: 256 << 10, maxMessageBytes: 64 << 10 });
  // Call 1 never returns; the calls pipelined on it hold their bytes until it does.
  const calls = [bootstrap(0), call(1, { answer: 0 }, HOST, 1)];
  for (let q = 2; q < 12; q++) calls.push(bigCall(q, { answer: 1 }, 60 << 10));
  const bytes = new Uint8Array(calls.flatMap((m) => [...new Uint8Array(m.toArrayBuffer())]));
  void s.guest.write(bytes).catch(() => {});
  await new Promise((r) => setTimeout(r, 300));
  // The guest exits: its end closes, and ww learns it is gone.
  s.guest.close();
  s.ended.resolve();
  await within(s.served, 5_000, "serveVat still waits for room after the guest has gone");
  assert.equal(s.log.length, 1, s.log.join("\n"));
  assert.match(s.log[0], /the program ended while its calls held the whole budget/);
});

Deno.test("waits for an answer that never comes leave with the calls that made them", async () => {
  // In a process of its own, which can collect its garbage before it measures.
  const probe = new URL("../tests/rpc/vat_waits_probe.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", probe, "8000"],
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  const { grownMiB, log } = JSON.parse(new TextDecoder().decode(out.stdout));
  // Had they stayed: ~25 KB a call, ~200 MiB.
  assert.ok(grownMiB < 20, `the heap grew ${grownMiB} MiB`);
  assert.deepEqual(log, []);
});

Deno.test("a failed call's reason is kept and sent cut to at most 4096 characters", async () => {
  const s = serveStalling(stalling(`${"p".repeat(1 << 20)}: not an IPFS path`));
  const parts = [bootstrap(0), call(1, { answer: 0 }, HOST, 0), call(2, { answer: 1 }, HOST, 0)];
  await s.guest.write(new Uint8Array(parts.flatMap((m) => [...new Uint8Array(m.toArrayBuffer())])));
  const seen = new Map<number, string>();
  for await (const r of s.returns()) {
    seen.set(r.answerId, r._isException ? r.exception.reason : "results");
    if (seen.size === 3) break;
  }
  s.guest.close();
  s.ended.resolve();
  await s.served;
  const length = (1 << 20) + 18;
  const kept = 4096 - `… (${length} more characters)`.length;
  const cut = `${"p".repeat(kept)}… (${length - kept} more characters)`;
  assert.equal(seen.get(1), cut);
  assert.equal(seen.get(2), cut, "a call pipelined on it fails with the same, cut reason");
});

Deno.test("an Abort's reason is logged cut to 4096 characters, so ww's own line stays whole", async () => {
  const c = connect();
  const m = new capnp.Message();
  m.initRoot(rpc.Message)._initAbort().reason = "\x1b".repeat(1 << 20);
  await c.send(m);
  await closedWith(c);
  assert.equal(c.log.length, 1);
  const [line] = c.log;
  assert.ok(line.length < 4096 * 4 + 200, `${line.length} characters`);
  assert.match(
    line,
    /^ww: t: the guest aborted: (\\x1b)+… \(\d+ more characters\); closed the RPC connection$/,
  );
});

// capnp-es reads a list field by its schema's element size, whatever the pointer says: args sent
// as a long List(Void) made ww allocate an array of its length (1.1 GB for one message), and a
// short one, the words after it read as text pointers, a copy of one big text for each.
Deno.test("Executor.start's args or fds sent as a list of another element size are an exception, and nothing starts", async () => {
  const [hostFd, guestFd] = unixSocketPair();
  const log: string[] = [];
  const started: string[][] = [];
  const served = serveHost(new FdStream(hostFd), { console: false, ipfs: false, exec: true }, {
    programName: "t",
    version: "0",
    stderr: (l) => log.push(l),
    exec: (request) => {
      started.push([...request.args]);
      return Promise.reject(new Error("not started"));
    },
  });
  const guest = new FdStream(guestFd);
  const frames = readFrames(guest, { maxBytes: 1 << 24, maxSegments: 512 });
  const send = (m: capnp.Message) => guest.write(new Uint8Array(m.toArrayBuffer()));
  const start = (
    q: number,
    field: 1 | 2,
    list: capnp.ListCtor<unknown> | "void",
    length: number,
  ) => {
    const m = call(q, { answer: 1, path: [0] }, ww.Executor$Client.interfaceId, 0);
    const params = m.getRoot(rpc.Message).call.params;
    const content = capnp.utils.initStructAt(0, ww.Executor_Start$Params, params);
    content.program = "/bin/true";
    if (list !== "void") capnp.utils.initList(field, list, length, content);
    else {
      // capnp-es's VoidList is a list of pointers: a List(Void) of `length` takes no words.
      capnp.utils.initList(field, capnp.Uint8List, 0, content);
      const p = capnp.utils.getPointer(field, content);
      p.segment.setUint32(p.byteOffset + 4, length << 3);
    }
    return m;
  };
  await send(bootstrap(0));
  await send(call(1, { answer: 0 }, HOST, 3));
  const cases: [number, 1 | 2, capnp.ListCtor<unknown> | "void", RegExp][] = [
    [2, 1, "void", /^args: a list of void where the schema has a list of pointers$/],
    [3, 2, capnp.Uint8List, /^fds: a list of bytes where the schema has a list of pointers$/],
    [4, 1, capnp.Uint64List, /^args: a list of 64-bit values where/],
  ];
  for (const [q, field, list] of cases) await send(start(q, field, list, 1000));
  const reasons = await returnReasons(frames, cases.length, 2);
  for (const [q, , , reason] of cases) assert.match(reasons.get(q)!, reason);
  assert.deepEqual(started, []);
  guest.close();
  await served;
  assert.deepEqual(log, []);
});

// capnp-es reads a text as every byte but the last, whatever that byte is: "/bin/trueX" sent
// without its NUL started /bin/true, and a log line lost its last character. The C++ reference
// refuses such a text; so does ww, as an exception for the call.
Deno.test("a text sent without its NUL terminator is an exception, and nothing starts or is logged", async () => {
  const [hostFd, guestFd] = unixSocketPair();
  const log: string[] = [];
  const started: string[] = [];
  const served = serveHost(new FdStream(hostFd), { console: true, ipfs: false, exec: true }, {
    programName: "t",
    version: "0",
    stderr: (l) => log.push(l),
    exec: (request) => {
      started.push(request.program, ...request.args);
      return Promise.reject(new Error("not started"));
    },
  });
  const guest = new FdStream(guestFd);
  const frames = readFrames(guest, { maxBytes: 1 << 24, maxSegments: 512 });
  const send = (m: capnp.Message) => guest.write(new Uint8Array(m.toArrayBuffer()));
  /** Overwrites the NUL of the text at pointer `p` with "X". */
  const unterminate = (p: capnp.Pointer) => {
    const c = capnp.utils.getContent(p);
    c.segment.setUint8(c.byteOffset + capnp.utils.getTargetListLength(p) - 1, 0x58);
  };
  const start = (q: number, wrong: "program" | "args") => {
    const m = call(q, { answer: 1, path: [0] }, ww.Executor$Client.interfaceId, 0);
    const params = m.getRoot(rpc.Message).call.params;
    const content = capnp.utils.initStructAt(0, ww.Executor_Start$Params, params);
    content.program = "/bin/true";
    const args = content._initArgs(2);
    args.set(0, "ok");
    args.set(1, "cut");
    if (wrong === "program") unterminate(capnp.utils.getPointer(0, content));
    else {
      const list = capnp.utils.getContent(capnp.utils.getPointer(1, content));
      list.byteOffset += 8; // the second element
      unterminate(list);
    }
    return m;
  };
  const logLine = (q: number) => {
    const m = call(q, { answer: 2, path: [0] }, ww.Console$Client.interfaceId, 0);
    const params = m.getRoot(rpc.Message).call.params;
    const content = capnp.utils.initStructAt(0, ww.Console_Log$Params, params);
    content.line = "hello";
    unterminate(capnp.utils.getPointer(0, content));
    return m;
  };
  await send(bootstrap(0));
  await send(call(1, { answer: 0 }, HOST, 3));
  await send(call(2, { answer: 0 }, HOST, 1));
  const cases: [number, capnp.Message, RegExp][] = [
    [3, start(3, "program"), /^program: a text without its NUL terminator$/],
    [4, start(4, "args"), /^args: element 1: a text without its NUL terminator$/],
    [5, logLine(5), /^line: a text without its NUL terminator$/],
  ];
  for (const [, m] of cases) await send(m);
  const reasons = await returnReasons(frames, cases.length, 3);
  for (const [q, , reason] of cases) assert.match(reasons.get(q)!, reason);
  assert.deepEqual(started, []);
  guest.close();
  await served;
  assert.deepEqual(log, []);
});

Deno.test("a path into an answer sent as a list of pointers fails the call, and the connection goes on", async () => {
  const c = connect();
  const m = call(1, { answer: 0, path: [0] }, HOST, 0);
  const target = m.getRoot(rpc.Message).call.target.promisedAnswer;
  capnp.utils.initList(0, capnp.TextList, 2, target);
  await c.send(bootstrap(0), m, call(2, { answer: 0 }, HOST, 0));
  assert.match(
    (await returnOf(c, 1)).exception.reason,
    /the path into the results of question 0 is a list of pointers where the schema has a list of structs/,
  );
  assert.equal((await returnOf(c, 2)).which(), rpc.Return_Which.RESULTS);
  c.guest.close();
  await c.served;
  assert.deepEqual(c.log, []);
});

// capnp-es reads any pointer's second word as a capability's index: a struct or list pointer sent
// in Executor.start's console field passed on the console the guest held (index 0 of its table).
// The C++ reference refuses a pointer that is not a capability, as ww now does.
Deno.test("a struct or list pointer where the schema has a capability is an exception, and nothing starts", async () => {
  const [hostFd, guestFd] = unixSocketPair();
  const started: boolean[] = [];
  const served = serveHost(new FdStream(hostFd), { console: true, ipfs: false, exec: true }, {
    programName: "t",
    version: "0",
    stderr: () => {},
    exec: (request) => {
      started.push(request.grants.console);
      return Promise.reject(new Error("not started"));
    },
  });
  const guest = new FdStream(guestFd);
  const frames = readFrames(guest, { maxBytes: 1 << 24, maxSegments: 512 });
  const send = (m: capnp.Message) => guest.write(new Uint8Array(m.toArrayBuffer()));
  /**
   * Executor.start of /bin/true passing the console (answer 2), its pointer's words made `words`,
   * or ("far") a far pointer that lands on a capability pointer to it (in the ipfs field).
   */
  const start = (q: number, words?: [number, number] | "far") => {
    const m = call(q, { answer: 1, path: [0] }, ww.Executor$Client.interfaceId, 0, [
      { answer: 2, path: [0] },
    ]);
    const params = m.getRoot(rpc.Message).call.params;
    const content = capnp.utils.getStruct(0, ww.Executor_Start$Params, params);
    content.program = "/bin/true";
    const p = capnp.utils.getPointer(3, content);
    if (words === "far") {
      const pad = capnp.utils.getPointer(4, content);
      pad.segment.setUint32(pad.byteOffset, 3);
      pad.segment.setUint32(pad.byteOffset + 4, 0);
      words = [((pad.byteOffset / 8) << 3) | 2, pad.segment.id];
    }
    if (words) {
      p.segment.setUint32(p.byteOffset, words[0]);
      p.segment.setUint32(p.byteOffset + 4, words[1]);
    }
    return m;
  };
  await send(bootstrap(0));
  await send(call(1, { answer: 0 }, HOST, 3));
  await send(call(2, { answer: 0 }, HOST, 1));
  const cases: [number, capnp.Message, RegExp][] = [
    [3, start(3), /^not started$/], // the console itself: it starts, with the grant
    [4, start(4, [0xfffffffc, 0]), /^console: not a capability where the schema has an interface$/],
    [5, start(5, [0xfffffffd, 0]), /^console: not a capability where the schema has an interface$/],
    // A far pointer is never a capability, even one that lands on the right one.
    [6, start(6, "far"), /^console: not a capability where the schema has an interface$/],
  ];
  for (const [, m] of cases) await send(m);
  const reasons = await returnReasons(frames, cases.length, 3);
  for (const [q, , reason] of cases) assert.match(reasons.get(q)!, reason, `question ${q}`);
  assert.deepEqual(started, [true]);
  guest.close();
  await served;
});

// capnp-es read the reason as every byte but the last: "REASONX" sent so was logged as REASON.
Deno.test("an Abort whose reason is no text is logged as such, not cut", async () => {
  for (const [words, why] of [[0x58, "a text without its NUL terminator"], [0, ""]] as const) {
    const c = connect();
    const m = new capnp.Message();
    m.initRoot(rpc.Message)._initAbort().reason = "REASON";
    if (words !== 0) {
      const exception = m.getRoot(rpc.Message).abort;
      const p = capnp.utils.getPointer(0, exception);
      const content = capnp.utils.getContent(p);
      content.segment.setUint8(content.byteOffset + capnp.utils.getTargetListLength(p) - 1, words);
    }
    await c.send(m);
    await closedWith(c);
    assert.deepEqual(c.log, [
      why === ""
        ? "ww: t: the guest aborted: REASON; closed the RPC connection"
        : `ww: t: the guest aborted with a reason that is ${why}; closed the RPC connection`,
    ]);
  }
});

// A guest that polls (waits a moment, then gives up and finishes the call, as capnp's
// exclusiveJoin with a timer does) left each wait outstanding until its program ended: past
// maxAnswers of them, ww closed the connection. A call finished before its results, with nothing
// pipelined on it, is canceled (CallContext.signal) and its Return says so.
/**
 * A vat whose every call waits until it is canceled, as Process.wait for a program that runs on
 * (only the signal ends the wait), served to a guest's end of a socket pair; counts the calls
 * canceled.
 */
function waitingVat(limits?: { maxAnswers: number }) {
  const [hostFd, guestFd] = unixSocketPair();
  const guest = new FdStream(guestFd);
  const state = { canceled: 0, log: [] as string[] };
  const server: CapServer = {
    interfaceId: HOST,
    name: "Waiting",
    async dispatch(_methodId, call) {
      await new Promise((_, reject) =>
        call.signal.addEventListener("abort", () => {
          state.canceled++;
          reject(call.signal.reason);
        })
      );
    },
  };
  const served = serveVat(new FdStream(hostFd), server, {
    log: (l) => state.log.push(l),
    ...(limits ? { limits } : {}),
  });
  return {
    state,
    guest,
    served,
    frames: readFrames(guest, { maxBytes: 1 << 24, maxSegments: 512 }),
    send: (...ms: capnp.Message[]) =>
      guest.write(new Uint8Array(ms.flatMap((m) => [...new Uint8Array(m.toArrayBuffer())]))),
  };
}

Deno.test("a call the guest finishes before its results is canceled, and frees its place at once", async () => {
  const { state, guest, served, frames, send } = waitingVat({ maxAnswers: 16 });
  await send(bootstrap(0));
  // Ten times the bound, one question at a time: each call, then its Finish.
  const returns: rpc.Return[] = [];
  for (let q = 1; q <= 160; q++) {
    await send(call(q, { answer: 0 }, HOST, 0), finish(q));
    for (;;) {
      const m = new capnp.Message((await frames.next()).value as ArrayBuffer, false)
        .getRoot(rpc.Message);
      assert.ok(!m._isAbort, m._isAbort ? m.abort.reason : "");
      if (m._isReturn && m.return.answerId === q) {
        returns.push(m.return);
        break;
      }
    }
  }
  guest.close();
  await served;
  assert.equal(state.canceled, 160);
  assert.ok(returns.every((r) => r._isCanceled));
  assert.deepEqual(state.log, []);
});

// A call pipelined on an answer not yet there (start(...).getProcess().wait()) that the guest
// finished first was dispatched later with a signal never aborted: it held its question, and a
// place among maxAnswers, until its program ended. And the answer it waited on kept that waiter,
// so finishing it too canceled nothing.
Deno.test("a pipelined call the guest finishes before its target answers is canceled at once, and so is its target", async () => {
  const { state, guest, served, frames, send } = waitingVat();
  const nextReturn = async (): Promise<rpc.Return> => {
    for (;;) {
      // A Return that never comes fails the test instead of hanging it.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const frame = await Promise.race([
        frames.next(),
        new Promise<never>((_, reject) =>
          timer = setTimeout(() => reject(new Error("no Return within 10 s")), 10_000)
        ),
      ]).finally(() => clearTimeout(timer));
      const m = new capnp.Message(frame.value as ArrayBuffer, false).getRoot(rpc.Message);
      if (m._isReturn && m.return.answerId > 0) return m.return;
    }
  };
  await send(bootstrap(0), call(1, { answer: 0 }, HOST, 0), call(2, { answer: 1 }, HOST, 0));
  // Question 1 never answers of itself; question 2 waits for it.
  await send(finish(2));
  const second = await nextReturn();
  assert.equal(second.answerId, 2);
  assert.ok(second._isCanceled);
  await send(finish(1));
  const first = await nextReturn();
  assert.equal(first.answerId, 1);
  assert.ok(first._isCanceled);
  assert.equal(state.canceled, 1, "question 1's wait, the only one that ran");
  guest.close();
  await served;
});
