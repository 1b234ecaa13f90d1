// rpc/guest.ts's choice of the host socket's descriptor, what connect() says outside ww, and its
// checks of a caller's arguments (the connection itself is tested with a real ww in
// tests/rpc/ts_guest_test.ts and tests/run/socket_activation_test.ts).
import assert from "node:assert/strict";
import { connect, hostSocketFd } from "./guest.ts";

Deno.test("the host socket is WW_HOST_FD when ww sets it (socket activation), else fd 3", () => {
  assert.equal(hostSocketFd({ WW_HOST_FD: "6", LISTEN_FDS: "3" }), 6);
  assert.equal(hostSocketFd({ WW_FD_DB: "4" }), 3);
  for (const bad of ["", "six", "-6", "6 ", "1e3"]) {
    assert.throws(
      () => hostSocketFd({ WW_HOST_FD: bad }),
      /^Error: WW_HOST_FD=.*: not a descriptor number/,
    );
  }
});

Deno.test("outside ww, connect() rejects (never throws) and says fd 3 is not ww's socket", async () => {
  const script = `
    import { connect } from ${JSON.stringify(new URL("./guest.ts", import.meta.url).href)};
    let threw = false;
    let said = "";
    try {
      await connect().catch((e) => { said = String(e.message); });
    } catch { threw = true; }
    console.log(JSON.stringify({ threw, said }));
  `;
  for (const env of [{}, { WW_HOST_FD: "six" }] as Record<string, string>[]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      env,
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const { threw, said } = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(threw, false, JSON.stringify(env));
    assert.match(
      said,
      "WW_HOST_FD" in env
        ? /^WW_HOST_FD=six: not a descriptor number/
        : /^fd 3 is not a socket ww serves \(.*\): is this program running under ww run\?$/,
    );
  }
});

// A guest whose fd 3 was a pipe's read end was told "write EBADF", nothing of ww.
Deno.test("outside ww, calls on an fd 3 that is a pipe say it is not ww's socket", async () => {
  const script = `
    import { connect } from ${JSON.stringify(new URL("./guest.ts", import.meta.url).href)};
    const said = await connect().then((host) => host.identity()).then(() => "", (e) => e.message);
    console.log(JSON.stringify({ said }));
    Deno.exit(0);
  `;
  // fd 3 is the read end of a pipe whose writer, the test's, stays open through the calls.
  const child = new Deno.Command("sh", {
    args: ["-c", 'exec "$0" eval "$1" 3<&0', Deno.execPath(), script],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out = await child.output();
  const { said } = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.match(
    said,
    /^fd 3 is not a socket ww serves \(.*EBADF.*\): is this program running under ww run\?$/,
  );
});

Deno.test("a console line of an unknown level is a TypeError, not sent as debug", async () => {
  const sent: Uint8Array[] = [];
  const host = await connect({
    read: () => new Promise(() => {}),
    write: (p) => (sent.push(p.slice()), Promise.resolve(p.length)),
    close: () => {},
  });
  await assert.rejects(
    host.console().log("x", "fatal" as never),
    /^TypeError: log: fatal is not a level \(debug, info, warn, error\)$/,
  );
  host.close();
});

// A call on a capability whose call returned with none there was pipelined on that finished
// answer, which makes ww end the connection: it is refused in the guest instead.
Deno.test("a call on a capability that its call's results did not hold is refused, not sent", async () => {
  const capnp = await import("npm:capnp-es@0.0.16");
  const rpc = await import("npm:capnp-es@0.0.16/capnp/rpc");
  const answer = new capnp.Message();
  const ret = answer.initRoot(rpc.Message)._initReturn();
  ret.answerId = 0; // the bootstrap's: results with no capability in them
  ret._initResults();
  let replies = [new Uint8Array(answer.toArrayBuffer())];
  const sent: Uint8Array[] = [];
  const host = await connect({
    read: (p) => {
      const next = replies.shift();
      if (!next) return new Promise(() => {});
      p.set(next);
      replies = [];
      return Promise.resolve(next.length);
    },
    write: (p) => (sent.push(p.slice()), Promise.resolve(p.length)),
    close: () => {},
  });
  await new Promise((r) => setTimeout(r, 50));
  const before = sent.length;
  await assert.rejects(
    host.identity(),
    /^Error: no capability came back there: the results held none$/,
  );
  assert.equal(sent.length, before, "nothing was sent for it");
  host.close();
});
