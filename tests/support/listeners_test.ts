// tests/support/listeners_test.ts — the ports the tests' helpers hand out: refused where nothing
// listens, and, for a program that must bind a given port, one no port-0 bind can take meanwhile.

import assert from "node:assert/strict";
import { refusedPort, unchosenPort } from "./listeners.ts";

Deno.test("refusedPort refuses a connection, and stays held: no listener can take it", async () => {
  const port = refusedPort();
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port }),
    Deno.errors.ConnectionRefused,
  );
  assert.throws(() => Deno.listen({ hostname: "127.0.0.1", port }), Deno.errors.AddrInUse);
});

Deno.test("unchosenPort is below the ephemeral range, and free for TCP and UDP alike", () => {
  const [start] = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").trim().split(
    /\s+/,
  ).map(Number);
  for (let i = 0; i < 20; i++) {
    const port = unchosenPort();
    assert.ok(port >= 1024 && port < start, `${port} is not below ${start}`);
    Deno.listen({ hostname: "0.0.0.0", port }).close();
  }
  // A port bound to port 0 comes from the ephemeral range: never one unchosenPort gives.
  const chosen = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    assert.ok((chosen.addr as Deno.NetAddr).port >= start);
  } finally {
    chosen.close();
  }
});
