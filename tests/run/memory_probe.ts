// tests/run/memory_probe.ts — a program (not a test) run by memory_test.ts in a process of its
// own, with --v8-flags=--expose-gc: runs /bin/true through the library's Command in a jail
// (native unless named) and prints, as JSON on its last line, what V8's sampling heap profiler saw the runs
// allocate (garbage included: a service's young generation grows with it, issue 16) and the
// heap in use after a full collection at two points (what the runs keep).
//
//   deno run -A --v8-flags=--expose-gc tests/run/memory_probe.ts <warm> <sampled> <more> [backend]

import { Session } from "node:inspector/promises";
import { Command, type JailBackend } from "../../mod.ts";

const [warm, sampled, more] = Deno.args.slice(0, 3).map(Number);
const backend = (Deno.args[3] ?? "native") as JailBackend;
if (![warm, sampled, more].every(Number.isSafeInteger)) {
  throw new Error("usage: memory_probe.ts <warm runs> <sampled runs> <more runs>");
}
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("memory_probe.ts: run it with --v8-flags=--expose-gc");

async function run(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const out = await new Command("/bin/true", {
      stdout: "null",
      stderr: "null",
      jail: { backend },
    }).output();
    if (out.code !== 0) throw new Error(`exit ${out.code}`);
  }
}

/** The bytes of every sample under `node`. */
interface ProfileNode {
  selfSize: number;
  children: ProfileNode[];
}
const total = (n: ProfileNode): number => n.children.reduce((s, c) => s + total(c), n.selfSize);

await run(warm);
const session = new Session();
session.connect();
await session.post("HeapProfiler.enable");
// Every KiB allocated on average, collected or not, counts.
await session.post("HeapProfiler.startSampling", {
  samplingInterval: 1024,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
await run(sampled);
const { profile } = await session.post("HeapProfiler.stopSampling") as {
  profile: { head: ProfileNode };
};
await session.post("HeapProfiler.disable");
session.disconnect();
gc();
const keptBefore = Deno.memoryUsage().heapUsed;
await run(more);
gc();
const keptAfter = Deno.memoryUsage().heapUsed;
console.log(
  JSON.stringify({ allocatedPerRun: total(profile.head) / sampled, keptBefore, keptAfter }),
);
