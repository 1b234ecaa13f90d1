// bench/main.ts — `deno task bench`: every benchmark of ww, each measured against its peers in the
// same run and printed with ratios. BENCH_RUNS sets the number of runs per command (default 60);
// BENCH_ONLY=launch,native,crowd,concurrent,ipfs,rpc,hostile,memory picks sections.

import { benchConcurrent } from "./concurrent.ts";
import { benchCrowd } from "./crowd.ts";
import { benchIpfs } from "./ipfs.ts";
import { benchLaunch } from "./launch.ts";
import { benchMemory } from "./memory.ts";
import { benchNative } from "./native.ts";
import { benchFloods, benchFuzz, benchRpc } from "./rpc.ts";

const runs = Number(Deno.env.get("BENCH_RUNS") ?? 60);
const only = Deno.env.get("BENCH_ONLY")?.split(",");
const want = (name: string) => !only || only.includes(name);

if (want("launch")) await benchLaunch(runs);
if (want("native")) await benchNative(runs);
if (want("crowd")) await benchCrowd(100);
if (want("concurrent")) await benchConcurrent(Math.max(3, Math.round(runs / 12)));
if (want("ipfs")) await benchIpfs(Math.max(10, Math.round(runs / 3)));
if (want("rpc")) {
  const r = await benchRpc(20000);
  console.log(`rpc (${r.calls} sequential round trips of a trivial call, C++ guest on fd 3)`);
  console.log(`  C++ guest -> ww                      ${r.wwPerSecond.toFixed(0).padStart(10)} /s`);
  console.log(
    `  C++ guest -> C++ server (socketpair) ${r.cppPerSecond.toFixed(0).padStart(10)} /s`,
  );
  console.log(`  ww / C++                             ${r.ratio.toFixed(2).padStart(10)}x`);
}
if (want("hostile")) {
  const mib = (n: number) => `${(n / (1 << 20)).toFixed(0).padStart(6)} MiB`;
  console.log("ww's peak RSS (VmHWM) under hostile guests (bound: see rpc/README.md)");
  for (const r of await benchFloods()) {
    console.log(`  ${r.what.padEnd(48)} ${mib(r.peak)}  ${r.guest}`);
  }
  const f = await benchFuzz(500_000);
  console.log(
    `  fuzzer, ${f.inputs} inputs in-process (${(f.inputs / f.seconds).toFixed(0)}/s)`.padEnd(50) +
      ` ${mib(f.peak)}`,
  );
}
if (want("memory")) await benchMemory(Number(Deno.env.get("MEMORY_RUNS") ?? 6000));
