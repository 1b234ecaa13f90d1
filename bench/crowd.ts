// bench/crowd.ts — what 100 concurrent native jails of `sleep` cost in memory beyond ww itself
// (issue 13: at most 150 MiB): the supervisors (the stage, stage/stage.c) and the programs they
// run. The jails are started through the library (mod.ts) by a few ww processes, 25 jails each:
// 100 `ww run` processes would cost ~4 GB on a shared machine, and each jail is the same stage
// and program either way. ww's own processes are not counted. Prints the sums of RSS and of PSS
// (/proc/<pid>/smaps_rollup: shared pages split between their users, fairer to 100 copies of one
// static stage) over every process of every jail.

import { DEFAULT_IPFS_API, DEFAULT_POLICY, startProgram } from "../mod.ts";
import type { Child } from "../mod.ts";
import { row } from "./hyperfine.ts";

/** Jails per ww process. */
const PER_WW = 25;

/** Resident and proportional memory of a set of processes, in KiB. */
export interface Footprint {
  readonly processes: number;
  readonly rssKib: number;
  readonly pssKib: number;
}

/** The Rss and Pss lines of /proc/<pid>/smaps_rollup, in KiB; undefined once it is gone. */
export function smapsRollup(pid: number): { rss: number; pss: number } | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
  } catch {
    return undefined;
  }
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(text)?.[1]);
  return { rss: field("Rss"), pss: field("Pss") };
}

/** Every descendant of `pid` (not `pid` itself), from /proc/<pid>/task/<tid>/children. */
export function descendants(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const task of Deno.readDirSync(`/proc/${out[i]}/task`)) {
        const text = Deno.readTextFileSync(`/proc/${out[i]}/task/${task.name}/children`).trim();
        if (text) out.push(...text.split(" ").map(Number));
      }
    } catch { /* ended meanwhile */ }
  }
  return out.slice(1);
}

/**
 * The worker: starts `count` native jails of `sleep`, says "ready" on stdout once every program
 * runs, and ends them all when its stdin closes.
 */
async function holdJails(count: number): Promise<void> {
  const children: Child[] = [];
  try {
    for (let i = 0; i < count; i++) {
      // startProgram returns once the stage reported that it executes the program.
      children.push(
        await startProgram({
          program: "/bin/sleep",
          args: ["300"],
          fds: [],
          env: {},
          ipfsApi: DEFAULT_IPFS_API,
          jail: { ...DEFAULT_POLICY, backend: "native" },
        }),
      );
    }
    console.log("ready");
    for await (const _ of Deno.stdin.readable) { /* until the bench closes it */ }
  } finally {
    for (const child of children) child.kill("SIGKILL");
    await Promise.allSettled(children.map((c) => c.status));
  }
}

/** Starts `count` native jails at once (PER_WW per ww process), measures them, and ends them. */
export async function crowdFootprint(count: number): Promise<Footprint> {
  const workers: Deno.ChildProcess[] = [];
  try {
    for (let left = count; left > 0; left -= PER_WW) {
      workers.push(
        new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", new URL(import.meta.url).pathname, String(Math.min(left, PER_WW))],
          env: { WW_CROWD_WORKER: "1" },
          stdin: "piped",
          stdout: "piped",
          stderr: "inherit",
        }).spawn(),
      );
    }
    for (const w of workers) {
      const line = (await w.stdout.pipeThrough(new TextDecoderStream()).getReader().read()).value;
      if (!line?.startsWith("ready")) throw new Error("a ww process could not start its jails");
    }
    let rssKib = 0;
    let pssKib = 0;
    let processes = 0;
    for (const w of workers) {
      for (const pid of descendants(w.pid)) {
        const m = smapsRollup(pid);
        if (m === undefined) continue;
        rssKib += m.rss;
        pssKib += m.pss;
        processes++;
      }
    }
    if (processes < 2 * count) {
      throw new Error(`expected ${2 * count} processes (supervisor, program), saw ${processes}`);
    }
    return { processes, rssKib, pssKib };
  } finally {
    for (const w of workers) {
      await w.stdin.close().catch(() => {});
      await w.status;
    }
  }
}

/** Prints the footprint of `count` concurrent native jails against the goal of 150 MiB. */
export async function benchCrowd(count: number): Promise<void> {
  const f = await crowdFootprint(count);
  const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
  console.log(
    `${count} concurrent native jails of sleep (${f.processes} processes: supervisors and programs; ww's own processes excluded)`,
  );
  console.log(row("sum of RSS", mib(f.rssKib), "goal: at most 150 MiB"));
  console.log(row("sum of PSS", mib(f.pssKib), "shared pages split between their users"));
  console.log(
    row(
      "per jail: RSS",
      `${(f.rssKib / count).toFixed(0)} KiB`,
      `PSS ${(f.pssKib / count).toFixed(0)} KiB`,
    ),
  );
}

if (import.meta.main) {
  if (Deno.env.get("WW_CROWD_WORKER")) await holdJails(Number(Deno.args[0]));
  else await benchCrowd(Number(Deno.env.get("BENCH_JAILS") ?? 100));
}
