// rpc/host_test.ts — the host capabilities over a real socket pair, with services given as plain
// values.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { unixSocketPair } from "../ffi/fd.ts";
import { FdStream } from "../ffi/stream.ts";
import { connect } from "./guest.ts";
import { PROTOCOL_VERSION, serveHost } from "./host.ts";
import type { ExecProcess } from "./types.ts";
import * as capnp from "capnp-es";
import * as rpc from "capnp-es/capnp/rpc";
import * as ww from "./ww_capnp.ts";

Deno.test("PROTOCOL_VERSION is the schema's protocolVersion", async () => {
  const schema = fileURLToPath(new URL("./ww.capnp", import.meta.url));
  const out = await new Deno.Command("capnp", { args: ["eval", schema, "protocolVersion"] })
    .output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  assert.equal(Number(new TextDecoder().decode(out.stdout).trim()), PROTOCOL_VERSION);
});

Deno.test("a started program whose status rejects is an exception for Process.wait, not the end of ww", async () => {
  const [hostFd, guestFd] = unixSocketPair();
  const exec = (): Promise<ExecProcess> =>
    Promise.resolve({
      pid: 12345,
      // A jail that failed after bwrap reported its pid, and nobody waiting for the program yet.
      status: Promise.reject(new Error("bubblewrap could not set up the jail")),
      kill: () => false,
    });
  const served = serveHost(new FdStream(hostFd), { console: false, ipfs: false, exec: true }, {
    programName: "guest",
    version: "0",
    exec,
  });
  const host = await connect(new FdStream(guestFd));
  const process = host.executor().start("/bin/true");
  // Let the rejected status go unobserved by the guest for a while.
  await new Promise((r) => setTimeout(r, 50));
  await assert.rejects(process.wait(), /bubblewrap could not set up the jail/);
  assert.equal((await host.identity()).name, "ww");
  host.close();
  await served;
});

// A start whose capability was pipelined on a call still running (Process.wait of another start)
// waited for that answer after the guest left, for ever: serveHost, and ww with it, never ended.
Deno.test("a start waiting on an answer that never comes ends with the connection, and serveHost too", async () => {
  const [hostFd, guestFd] = unixSocketPair();
  const killed: number[] = [];
  let starts = 0;
  const exec = (): Promise<ExecProcess> => {
    const id = ++starts;
    let end!: (s: { code: number }) => void;
    const status = new Promise<{ code: number }>((r) => (end = r));
    return Promise.resolve({
      pid: 1000 + id,
      status,
      served: Promise.resolve(),
      kill: () => (killed.push(id), end({ code: 143 }), true),
    });
  };
  const served = serveHost(new FdStream(hostFd), { console: true, ipfs: false, exec: true }, {
    programName: "guest",
    version: "0",
    exec,
    stderr: () => {},
  });
  const messages: capnp.Message[] = [];
  const boot = new capnp.Message();
  boot.initRoot(rpc.Message)._initBootstrap().questionId = 0;
  messages.push(boot);
  const call = (
    q: number,
    iface: bigint,
    method: number,
    on: number,
    field: number | undefined,
    build?: (p: rpc.Payload) => void,
  ) => {
    const m = new capnp.Message();
    const c = m.initRoot(rpc.Message)._initCall();
    c.questionId = q;
    c.interfaceId = iface;
    c.methodId = method;
    const target = c._initTarget()._initPromisedAnswer();
    target.questionId = on;
    const path = target._initTransform(field === undefined ? 0 : 1);
    if (field !== undefined) path.get(0).getPointerField = field;
    build?.(c._initParams());
    messages.push(m);
  };
  const start = (p: rpc.Payload, program: string) => {
    const s = capnp.utils.initStructAt(0, ww.Executor_Start$Params, p);
    s.program = program;
    return s;
  };
  call(1, ww.Host$Client.interfaceId, 3, 0, undefined);
  call(2, ww.Executor$Client.interfaceId, 0, 1, 0, (p) => void start(p, "/bin/sleep"));
  call(3, ww.Process$Client.interfaceId, 0, 2, 0);
  // Its console grant is the results of question 3, which only the sleep's end would give.
  call(4, ww.Executor$Client.interfaceId, 0, 1, 0, (p) => {
    const s = start(p, "/bin/true");
    capnp.utils.setInterfacePointer(0, capnp.utils.getPointer(3, s));
    const answer = p._initCapTable(1).get(0)._initReceiverAnswer();
    answer.questionId = 3;
    answer._initTransform(1).get(0).getPointerField = 0;
  });
  const guest = new FdStream(guestFd);
  for (const m of messages) await guest.write(new Uint8Array(m.toArrayBuffer()));
  while (starts === 0) await new Promise((r) => setTimeout(r, 10));
  guest.close();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ended = await Promise.race([
    served.then(() => true),
    new Promise<false>((r) => (timer = setTimeout(() => r(false), 10_000))),
  ]);
  clearTimeout(timer);
  assert.ok(ended, "serveHost never ended");
  assert.deepEqual({ starts, killed }, { starts: 1, killed: [1] });
});

// Every TypeError was taken for capnp-es's, and reached the guest as "a malformed message": a
// caller's console sink or IpfsService (fetch fails with a TypeError) lost its own words. A
// console sink's failure is said in ww's words since: its own are the host's, not the jail's.
Deno.test("a console sink's own TypeError reaches the guest as the sink's failure, not as a malformed message", async () => {
  const [hostFd, guestFd] = unixSocketPair();
  const served = serveHost(new FdStream(hostFd), { console: true, ipfs: false, exec: false }, {
    programName: "guest",
    version: "0",
    stderr: () => {
      throw new TypeError("The stream is closed");
    },
  });
  const host = await connect(new FdStream(guestFd));
  await assert.rejects(host.console().log("hello"), (e: Error) => {
    assert.match(e.message, /the host's console did not take the line/);
    assert.doesNotMatch(e.message, /malformed|The stream is closed/);
    return true;
  });
  host.close();
  await served;
});

// A start's texts were built before anything was counted: 8 pointers to one 7 MB text came to
// 56 MB of strings, held while the start was refused with E2BIG only by the jail's plan.
Deno.test("a start whose arguments no program could take is refused before any is built", async () => {
  const [hostFd, guestFd] = unixSocketPair();
  let starts = 0;
  const served = serveHost(new FdStream(hostFd), { console: false, ipfs: false, exec: true }, {
    programName: "guest",
    version: "0",
    exec: () => (starts++, Promise.reject(new Error("not reached"))),
  });
  const host = await connect(new FdStream(guestFd));
  const executor = host.executor();
  await assert.rejects(
    executor.start("/bin/true", { args: Array(7).fill("x".repeat(1 << 20)) }).wait(),
    /^Error: args: 7340039 bytes in all \(each with its NUL\): no program can take more than 6291456 \(E2BIG\)$/,
  );
  await assert.rejects(
    executor.start("/bin/true", { fds: ["f".repeat(257)] }).wait(),
    /^Error: fds: at most 1024 names of at most 256 bytes/,
  );
  assert.equal(starts, 0);
  // A name of 256 bytes is one (its NUL is not counted against it): refused as no grant, later.
  await assert.rejects(
    executor.start("/bin/true", { fds: ["f".repeat(256)] }).wait(),
    /^Error: (?!fds: at most)/,
  );
  host.close();
  await served;
});
