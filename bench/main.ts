// bench/main.ts — `deno task bench`: every benchmark of ww, each measured against its peers in the
// same run and printed with ratios. BENCH_RUNS sets the number of runs per command (default 60).

import { benchLaunch } from "./launch.ts";

const runs = Number(Deno.env.get("BENCH_RUNS") ?? 60);
await benchLaunch(runs);
