// tests/run/command_stream_probe.ts — a program (not a test) run by command_test.ts in a process of
// its own, with the garbage collector exposed: it reads 100 MiB through a Command's piped stdout
// and prints, as JSON, how much memory the process holds (V8's heap, and the buffers outside it)
// after a full collection every 8 MiB, against the same before the read. A stream that kept what
// the program wrote would hold ~100 MiB; one that hands out each chunk and forgets it, ~0. The
// figure is exact where RSS in a shared test process is not (the collector's lag, neighbours).
//
//   deno run -A --v8-flags=--expose-gc tests/run/command_stream_probe.ts <bwrap|native|none>

import { Command, type JailBackend } from "../../mod.ts";

const backend = Deno.args[0] as JailBackend;
const gc = (globalThis as unknown as { gc?: () => void }).gc;
if (!gc || !["bwrap", "native", "none"].includes(backend)) {
  throw new Error("usage: deno run -A --v8-flags=--expose-gc command_stream_probe.ts <backend>");
}

/** What the process holds once everything unreachable is collected. */
function held(): number {
  gc!();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

const child = await new Command("/bin/sh", {
  args: ["-c", "head -c 104857600 /dev/zero"],
  stdout: "piped",
  jail: { backend },
}).spawn();
const before = held();
let peak = before;
let bytes = 0;
let next = 8 * 2 ** 20;
for await (const chunk of child.stdout) {
  bytes += chunk.length;
  if (bytes >= next) {
    peak = Math.max(peak, held());
    next += 8 * 2 ** 20;
  }
}
const status = await child.status;
console.log(JSON.stringify({ bytes, code: status.code, growth: peak - before }));
