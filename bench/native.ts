// bench/native.ts — the cost of the native jail: `ww run --jail=native /bin/true` beside
// --jail=none and --jail=bwrap, and the stage alone (ww started twice: the launcher, then
// `ww __native-stage`, which confines itself and execs the program). Prints medians and ratios.

import { medians, row } from "./hyperfine.ts";

const root = decodeURIComponent(new URL("..", import.meta.url).pathname);

/** Measures the native backend's overhead against no jail and the bwrap jail. */
export async function benchNative(runs: number): Promise<void> {
  const ww = Deno.env.get("WW_BIN") ?? `${Deno.execPath()} run -A ${root}main.ts`;
  const commands: Record<string, string> = {
    "ww --version (ww's own start)": `${ww} --version`,
    "ww run --jail=none /bin/true": `${ww} run --jail=none /bin/true`,
    "ww run --jail=bwrap /bin/true": `${ww} run --jail=bwrap /bin/true`,
    "ww run --jail=native /bin/true": `${ww} run --jail=native /bin/true`,
  };
  const t = Object.fromEntries((await medians(commands, runs)).map((x) => [x.name, x.medianMs]));
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  console.log(`native jail (median of ${runs} runs each; ww = ${ww})`);
  for (const [name, v] of Object.entries(t)) console.log(row(name, ms(v)));
  const none = t["ww run --jail=none /bin/true"];
  const bwrap = t["ww run --jail=bwrap /bin/true"];
  const native = t["ww run --jail=native /bin/true"];
  console.log(row("native - none", ms(native - none), "the stage: a second ww start + confining"));
  console.log(row("native / none", `${(native / none).toFixed(2)}x`));
  console.log(row("native / bwrap", `${(native / bwrap).toFixed(2)}x`));
  console.log(
    row(
      "native - none - ww's own start",
      ms(native - none - t["ww --version (ww's own start)"]),
      "confining work beyond starting the stage",
    ),
  );
}

if (import.meta.main) await benchNative(Number(Deno.env.get("BENCH_RUNS") ?? 30));
