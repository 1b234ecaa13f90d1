// bench/memory_loop.ts — one loop of bench/memory.ts in a process of its own: `runs` runs of
// /bin/true, one after another, through Deno.Command or ww's Command, then this process's RSS,
// RSS after 100 runs and at the end, peak RSS, V8 heap, its young generation and threads as JSON
// on the last line.
//
//   deno run -A bench/memory_loop.ts <deno|bare|none|native|bwrap> <runs>
//
// `bare` is ww's posix_spawn and waitpid on a worker thread (ffi/) with nothing else of ww.

import { getHeapSpaceStatistics } from "node:v8";
import { Command, type JailBackend } from "../mod.ts";
import { spawn } from "../ffi/spawn.ts";
import { holdChild, waitPid } from "../ffi/process.ts";

/** ww's bare spawn and wait, without Command or startProgram: what the FFI layer alone keeps. */
async function bare(): Promise<{ code: number }> {
  const pid = spawn({
    path: "/bin/true",
    argv: ["true"],
    env: [],
    cwd: "/",
    fdSteps: [{ op: "closefrom", from: 3 }],
    newSession: false,
  });
  const w = await waitPid(holdChild(pid));
  return { code: w.exited ? w.code : 128 + w.signal };
}

const [variant, runsText] = Deno.args;
const runs = Number(runsText);
const status = () => Deno.readTextFileSync("/proc/self/status");
const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status())![1]);
const started = performance.now();
let warmKiB = 0;
for (let i = 0; i < runs; i++) {
  // After 100 runs, what is loaded once (modules, the stage, libc) is in: the rest is growth.
  if (i === 100) warmKiB = field("VmRSS");
  const out = variant === "deno"
    ? await new Deno.Command("/bin/true", { stdout: "null", stderr: "null" }).output()
    : variant === "bare"
    ? await bare()
    : await new Command("/bin/true", {
      stdout: "null",
      stderr: "null",
      jail: { backend: variant as JailBackend },
    }).output();
  if (out.code !== 0) throw new Error(`run ${i}: exit ${out.code}`);
}
const rssKiB = field("VmRSS");
// Run with --v8-flags=--expose-gc (bench/memory.ts does): what a full collection gives back is
// garbage not yet collected, not memory ww keeps.
(globalThis as { gc?: () => void }).gc?.();
console.log(JSON.stringify({
  variant,
  runs,
  ms: Math.round(performance.now() - started),
  warmKiB,
  rssKiB,
  afterGcKiB: field("VmRSS"),
  heapMiB: Math.round(Deno.memoryUsage().heapUsed / 2 ** 20),
  // V8's young generation as committed: it grows with what survives its collections (issue 16).
  youngMiB: Math.round(
    getHeapSpaceStatistics().find((s) => s.space_name === "new_space")!.space_size / 2 ** 20,
  ),
  peakKiB: field("VmHWM"),
  threads: field("Threads"),
}));
