// bench/native.ts — the cost of the native jail: `ww run --jail=native /bin/true` beside
// --jail=none and --jail=bwrap (the difference is the stage, stage/stage.c: a static program that
// confines its child and stays as the jail's supervisor), and the supervisor's resident memory
// while a program runs. Prints medians and ratios.

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
  console.log(row("native - none", ms(native - none), "the stage: spawn, confine, supervise"));
  console.log(row("native / none", `${(native / none).toFixed(2)}x`));
  console.log(row("native / bwrap", `${(native / bwrap).toFixed(2)}x`));
  const rss = await supervisorRssKib(ww);
  console.log(row("native supervisor resident (VmRSS)", `${rss} KiB`, "target: at most 1024 KiB"));
}

/**
 * VmRSS of the native jail's supervisor (ww's child, the stage) while its program (`sleep`) runs.
 */
export async function supervisorRssKib(ww: string): Promise<number> {
  const [cmd, ...args] = ww.split(" ");
  const child = new Deno.Command(cmd, {
    args: [...args, "run", "--jail=native", "/bin/sleep", "5"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    for (let i = 0; i < 200; i++) {
      const supervisor = childrenOf(child.pid)[0];
      // The supervisor has forked once the program (its only child) exists.
      if (supervisor !== undefined && childrenOf(supervisor).length > 0) {
        const status = Deno.readTextFileSync(`/proc/${supervisor}/status`);
        return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error("the native jail's supervisor did not show up within 5 s");
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
      if (text) out.push(...text.split(" ").map(Number));
    }
  } catch { /* gone */ }
  return out;
}

if (import.meta.main) await benchNative(Number(Deno.env.get("BENCH_RUNS") ?? 30));
