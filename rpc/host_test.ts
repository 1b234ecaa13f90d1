// rpc/host_test.ts — the host capabilities over a real socket pair, with services given as plain
// values.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { unixSocketPair } from "../ffi/fd.ts";
import { FdStream } from "../ffi/stream.ts";
import { connect } from "./guest.ts";
import { PROTOCOL_VERSION, serveHost } from "./host.ts";
import type { ExecProcess } from "./types.ts";

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
