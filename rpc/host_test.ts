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
import { bootstrap, call, HOST } from "./fuzz.ts";
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

// A start still looking up its grants when the guest's connection ended was missed: serveHost
// neither stopped nor waited for its program, which outlived ww (seen under --jail=none, for the
// last of five starts a guest sent as it exited). Here the starts and the end of the stream arrive
// together, as they did then.
Deno.test("every start a guest sent before it left is stopped and waited for, however far it got", async () => {
  for (const count of [1, 5, 20]) {
    const [hostFd, guestFd] = unixSocketPair();
    const started: { killed: string[] }[] = [];
    let asked = 0;
    const exec = async (): Promise<ExecProcess> => {
      asked++;
      await new Promise((r) => setTimeout(r, 5));
      let end!: () => void;
      const status = new Promise<{ code: number }>((r) => end = () => r({ code: 143 }));
      const process = { killed: [] as string[] };
      started.push(process);
      return {
        pid: 10_000 + started.length,
        status,
        served: Promise.resolve(),
        kill: (signal = "SIGTERM") => (process.killed.push(signal), end(), true),
      };
    };
    const served = serveHost(new FdStream(hostFd), { console: false, ipfs: false, exec: true }, {
      programName: "guest",
      version: "0",
      exec,
    });
    const messages = [bootstrap(0), call(1, { answer: 0 }, HOST, 3)];
    for (let i = 0; i < count; i++) {
      const m = call(2 + i, { answer: 1, path: [0] }, ww.Executor$Client.interfaceId, 0);
      const params = m.getRoot(rpc.Message).call.params;
      capnp.utils.initStructAt(0, ww.Executor_Start$Params, params).program = "/bin/true";
      messages.push(m);
    }
    const bytes = messages.flatMap((m) => [...new Uint8Array(m.toArrayBuffer())]);
    const guest = new FdStream(guestFd);
    await guest.write(new Uint8Array(bytes));
    guest.close();
    await served;
    // Each start either never started (the connection had ended) or was stopped, and ww waited.
    console.log(
      "asked",
      asked,
      "started",
      started.length,
      started.map((p) => p.killed.join("+")).join(","),
    );
    assert.equal(started.length, asked, `${count} starts`);
    for (const p of started) assert.deepEqual(p.killed, ["SIGTERM"], `${count} starts`);
  }
});
