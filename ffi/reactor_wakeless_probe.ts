// ffi/reactor_wakeless_probe.ts — run by ffi/reactor_test.ts under a low `ulimit -n`: takes every
// descriptor left, so that the reactor cannot make its wake pipe, then waits on two pipes, the
// second registered while the first wait's call is in flight. Prints what it saw as JSON.

import { closeFd, openDevNull, pipe } from "./fd.ts";
import { POLLIN } from "./flags.ts";
import { libc, SyscallError } from "./libc.ts";
import { reactorDescriptors, whenReady } from "./reactor.ts";

const [read1, write1] = pipe();
const [read2, write2] = pipe();
const held: number[] = [];
for (;;) {
  try {
    held.push(openDevNull());
  } catch (e) {
    if (e instanceof SyscallError && e.code === "EMFILE") break;
    throw e;
  }
}
const first = whenReady(read1, POLLIN).ready;
await new Promise((r) => setTimeout(r, 100));
const second = whenReady(read2, POLLIN).ready;
const wrote = performance.now();
libc().write(write2, new Uint8Array([1]), 1n);
const secondRevents = await second;
const secondMs = performance.now() - wrote;
libc().write(write1, new Uint8Array([1]), 1n);
const firstRevents = await first;
const wakePipe = reactorDescriptors().length;
for (const fd of held) closeFd(fd);
console.log(
  JSON.stringify({
    held: held.length,
    first: firstRevents & POLLIN,
    second: secondRevents & POLLIN,
    secondMs,
    wakePipe,
  }),
);
