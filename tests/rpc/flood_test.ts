// tests/rpc/flood_test.ts — guests that send faster than they read, through the real `ww run`
// (bwrap and native jails): ww's peak memory stays under the bound documented in rpc/README.md,
// ww stays up, and the guest is slowed (its writes block), never ww.

import assert from "node:assert/strict";
import { runWw, runWwMeasured as measured } from "../support/ww.ts";
import { buildGuest } from "./build.ts";

const MiB = 1 << 20;
/** The documented bounds (rpc/README.md): buffered for one guest, and one message. */
const BUFFERED = 64 * MiB;
const MESSAGE = 8 * MiB;

/**
 * Garbage not yet collected: each 8 MB message is copied out of the read buffer and dropped once
 * answered, and V8 collects those copies late. 48 MiB proved short once on a loaded machine (a
 * 206 MiB peak against a 192 MiB bound, native, 48 messages of 8 MB), and 96 MiB once in a CI
 * run (259 MiB against 235). A ww that kept what it was sent would hold all 48 messages, 384 MB,
 * above this bound still.
 */
const GC_LAG = 128 * MiB;

const JAILS = [[], ["--jail=native"]];
const mb = (n: number) => `${(n / MiB).toFixed(0)} MiB`;

/**
 * The bound: what ww holds for one guest (64 MiB), the message being read and its copy
 * (2 x 8 MiB), and a margin for the garbage collector's lag, over ww's own peak serving a quiet
 * guest on the same machine.
 */
async function bound(jail: string[]): Promise<number> {
  const guest = await buildGuest();
  const base = await measured(["run", ...jail, guest, "bench", "2000"]);
  assert.equal(base.code, 0, base.stderr);
  return base.peak + BUFFERED + 2 * MESSAGE + GC_LAG;
}

for (const jail of JAILS) {
  const name = jail.length ? "native" : "bwrap";

  Deno.test(`${name}: a flood of 8 MB unknown messages never read keeps ww's memory bounded`, async () => {
    const guest = await buildGuest();
    const limit = await bound(jail);
    const r = await measured(["run", ...jail, guest, "flood-unknown", "48", "8000000"]);
    console.log(`${name} unknown flood: peak ${mb(r.peak)} (bound ${mb(limit)})`);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.peak < limit, `ww peaked at ${mb(r.peak)}, over ${mb(limit)}`);
    assert.deepEqual(JSON.parse(r.stdout), { sent: 48, blocked: false });
    assert.equal(r.stderr, "", "each message is echoed as Unimplemented, not logged");
  });

  Deno.test(`${name}: pipelined identity calls never read: ww stops reading, memory bounded`, async () => {
    const guest = await buildGuest();
    const limit = await bound(jail);
    const r = await measured(["run", ...jail, guest, "flood-identity", "600000"]);
    console.log(
      `${name} identity flood: peak ${mb(r.peak)} (bound ${mb(limit)}) ${r.stdout.trim()}`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.peak < limit, `ww peaked at ${mb(r.peak)}, over ${mb(limit)}`);
    const flood = JSON.parse(r.stdout);
    // The guest is slowed: its writes block once ww holds its bound of answers.
    assert.equal(flood.blocked, true, r.stdout);
    assert.ok(flood.sent < 600000, r.stdout);
    // Slowed, not cut off: nothing was wrong with the calls, so ww logs nothing.
    assert.equal(r.stderr, "");
  });
}

/**
 * A guest that keeps ww's end of fd 3 full: three threads write Release messages of an unknown
 * id (40 bytes each; no reply) without pause, for `seconds`, then exit 7.
 */
const KEEP_FULL = (seconds: number) =>
  [
    "import os, socket, threading, time",
    "release = bytes.fromhex('0000000004000000000000000100010006000000000000000000000001000000' '3f420f0001000000')",
    "batch = release * 400",
    "host = socket.socket(fileno=3)  # kept: collected, it would close fd 3",
    "host.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)",
    `end = time.time() + ${seconds}`,
    "def write():",
    "    while time.time() < end:",
    "        os.write(3, batch)",
    "threads = [threading.Thread(target=write) for _ in range(3)]",
    "for t in threads: t.start()",
    "for t in threads: t.join()",
    "os._exit(7)",
  ].join("\n");

// Every read of such a stream completed at once, so ww's event loop never got back to its timers,
// signals or the program's exit: --timeout 2s ended the run only when the guest stopped.
for (const jail of ["none", "bwrap", "native"]) {
  Deno.test(`${jail}: a guest that keeps fd 3 full without pause is still ended by --timeout`, async () => {
    const started = performance.now();
    const r = await runWw([
      "run",
      `--jail=${jail}`,
      "--timeout",
      "2s",
      "/usr/bin/python3",
      "-c",
      KEEP_FULL(60),
    ]);
    const took = (performance.now() - started) / 1000;
    assert.equal(r.code, 124, r.stderr);
    assert.match(r.stderr, /timed out after 2s/);
    // Well before the guest's own 60 s: the timeout fired on time (with the jail's teardown).
    assert.ok(took < 30, `the run took ${took.toFixed(1)} s`);
  });
}
