// tests/run/crowd_test.ts — one process runs 40 programs at once: every one starts, is served and
// is reaped while the others run. Deno's blocking thread pool has 32 threads; a wait held per
// running program (as ww once did) stalled the 32nd program's start and every served socket
// until a program ended (ffi/reactor.ts). The crowd runs in a process of its own
// (tests/run/crowd_program.ts), whose descriptors are its own to count.

import assert from "node:assert/strict";
import { buildGuest } from "../rpc/build.ts";

/** Runs crowd_program.ts with `args`; it exits 0 once every assertion held. */
async function crowdProgram(...args: string[]): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./crowd_program.ts", import.meta.url).pathname, ...args],
    stdin: "null",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  assert.equal(out.code, 0, `${text(out.stdout)}${text(out.stderr)}`);
}

for (const backend of ["native", "bwrap"] as const) {
  Deno.test(`[jail=${backend}] 40 programs start at once, and all are reaped when killed`, async () => {
    await crowdProgram(backend);
  });
}

Deno.test("40 served programs each get a console line through while all run", async () => {
  await crowdProgram("served", await buildGuest());
});
