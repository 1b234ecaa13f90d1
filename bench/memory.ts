// bench/memory.ts — what a service that runs many programs keeps (issue 16): the same loop of
// /bin/true runs through Deno.Command and through ww's Command (unjailed, native, bwrap), each in
// a process of its own (bench/memory_loop.ts), with its RSS, peak RSS and threads at the end.
// MEMORY_RUNS sets the runs per loop (default 6000; the bwrap loop does a third of them). Two more
// rows run Deno.Command and the native jail with V8's young generation held small
// (--max-semi-space-size): what is left of the gap when the runs' garbage cannot grow it.

interface LoopResult {
  variant: string;
  runs: number;
  ms: number;
  warmKiB: number;
  rssKiB: number;
  afterGcKiB: number;
  heapMiB: number;
  youngMiB: number;
  peakKiB: number;
  threads: number;
}

/** V8's semi-space (MiB) of the rows that hold the young generation small. */
const SMALL_SEMI_SPACE_MIB = 1;

async function loop(variant: string, runs: number, semiSpaceMiB?: number): Promise<LoopResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...(semiSpaceMiB ? [`--v8-flags=--max-semi-space-size=${semiSpaceMiB}`] : []),
      new URL("./memory_loop.ts", import.meta.url).pathname,
      variant,
      String(runs),
    ],
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (out.code !== 0) throw new Error(`${variant}: ${new TextDecoder().decode(out.stderr)}`);
  const result: LoopResult = JSON.parse(text.split("\n").pop()!);
  return semiSpaceMiB ? { ...result, variant: `${variant}/ss${semiSpaceMiB}` } : result;
}

/** Prints each loop's memory and threads against Deno.Command's. */
export async function benchMemory(runs: number): Promise<void> {
  const base = await loop("deno", runs);
  console.log(
    `memory after N sequential runs of /bin/true (RSS after 100 runs and at the end, V8 heap in use and its young generation's size, peak RSS, threads; ratio of RSS)`,
  );
  const show = (r: LoopResult, against = base) =>
    console.log(
      `  ${r.variant.padEnd(10)} ${String(r.runs).padStart(6)} runs ${
        String(Math.round(r.ms / r.runs * 10) / 10).padStart(6)
      } ms/run  RSS ${(r.warmKiB / 1024).toFixed(0).padStart(4)} after 100, ${
        (r.rssKiB / 1024).toFixed(0).padStart(4)
      } MiB (${(r.afterGcKiB / 1024).toFixed(0).padStart(4)} after a GC)  heap ${
        String(r.heapMiB).padStart(3)
      } MiB (young ${String(r.youngMiB).padStart(3)})  peak ${
        (r.peakKiB / 1024).toFixed(0).padStart(4)
      } MiB  threads ${String(r.threads).padStart(3)}  ${(r.rssKiB / against.rssKiB).toFixed(2)}x`,
    );
  show(base);
  const loops = [["bare", runs], ["none", runs], ["native", runs], ["bwrap", Math.round(runs / 3)]];
  for (const [variant, n] of loops) {
    show(await loop(variant as string, n as number));
  }
  // The ratio of these two is against each other: both with the small young generation.
  const smallBase = await loop("deno", runs, SMALL_SEMI_SPACE_MIB);
  show(smallBase, smallBase);
  show(await loop("native", runs, SMALL_SEMI_SPACE_MIB), smallBase);
}

if (import.meta.main) await benchMemory(Number(Deno.env.get("MEMORY_RUNS") ?? 6000));
