// bench/ipfs.ts — running a program from IPFS: a cold `ww run /ipfs/<cid>` of a 32 MiB static
// binary (fetch, verify, seal, exec) against a plain `cat` of the same file from the same node; a
// warm run (from ww's cache) against the same file run from a local path; and ww's peak memory
// during a cold fetch of 8 and 32 MiB, which must not grow with the file. Needs the js-ipfs test
// node ($WW_IPFSD_DIR, see tests/ipfs/ipfsd.ts), gcc with a static libc, curl, hyperfine and GNU
// time.

import { fileURLToPath } from "node:url";
import { startIpfsd } from "../tests/ipfs/ipfsd.ts";
import { row } from "./hyperfine.ts";
import { startReplay } from "./replay.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const MiB = 2 ** 20;

/** Median wall times (ms) of `commands` (hyperfine). */
async function timed(
  commands: Record<string, string>,
  runs: number,
  env: Record<string, string>,
): Promise<Record<string, number>> {
  const out = await Deno.makeTempFile({ suffix: ".json" });
  try {
    const args = ["-N", "--style", "none", "--warmup", "3", "--runs", String(runs)];
    args.push("--export-json", out);
    for (const [name, command] of Object.entries(commands)) args.push("-n", name, command);
    const r = await new Deno.Command("hyperfine", { args, env, stdout: "null", stderr: "piped" })
      .output();
    if (!r.success) throw new Error(`hyperfine: ${new TextDecoder().decode(r.stderr).trim()}`);
    const json = JSON.parse(await Deno.readTextFile(out));
    return Object.fromEntries(
      json.results.map((x: { median: number }, i: number) => [
        Object.keys(commands)[i],
        x.median * 1000,
      ]),
    );
  } finally {
    await Deno.remove(out);
  }
}

/**
 * Median wall times (ms) of `commands`, run in turn for `runs` rounds after `warmup` rounds, with
 * `prepare` before every run, and into `cpu` the median CPU time (user + sys, ms, from GNU time)
 * each used. Taking turns, rather than all runs of one command and then the next as hyperfine
 * does, keeps a node that speeds up or slows down over time (the js-ipfs node does both) from
 * favouring one command. CPU time is the steadier figure on a shared machine: it does not count
 * the time a command waits for a core.
 */
async function interleaved(
  commands: Record<string, string[]>,
  runs: number,
  warmup: number,
  env: Record<string, string>,
  prepare: () => Promise<void>,
  cpu: Record<string, number> = {},
): Promise<Record<string, number>> {
  const times: Record<string, number[]> = {};
  const cpus: Record<string, number[]> = {};
  for (let round = 0; round < warmup + runs; round++) {
    for (const [name, command] of Object.entries(commands)) {
      await prepare();
      const start = performance.now();
      const r = await new Deno.Command("/usr/bin/time", {
        args: ["-f", "%U %S", ...command],
        env,
        stdout: "null",
        stderr: "piped",
      }).output();
      const ms = performance.now() - start;
      const lines = new TextDecoder().decode(r.stderr).trim().split("\n");
      if (!r.success) throw new Error(`${name} failed: ${lines.join(" ")}`);
      if (round < warmup) continue;
      (times[name] ??= []).push(ms);
      const [user, sys] = lines.at(-1)!.split(" ").map(Number);
      (cpus[name] ??= []).push((user + sys) * 1000);
    }
  }
  const median = (t: number[]) => t.sort((a, b) => a - b)[t.length >> 1];
  for (const [name, t] of Object.entries(cpus)) cpu[name] = median(t);
  return Object.fromEntries(Object.entries(times).map(([name, t]) => [name, median(t)]));
}

/** The stages bench/ipfs_phases.ts times, each doing a little more than the one before. */
const PHASES = [
  ["wire", "the file's bytes through ww's HTTP client"],
  ["hash", "  + SHA-256 of every leaf"],
  ["memfd", "wire + writes to a memfd"],
  ["resolve", "IPLD code loaded + root block verified"],
  ["nocache", "download.ts, no cache: DAG, verify, memfd"],
  ["download", "  + the copy into ww's cache"],
] as const;

/**
 * Median times (ms) of each stage of a cold fetch of `cid` from `api` (each in a fresh process,
 * its start-up left out; `start-up` is the time to load the stage script's imports), in turns
 * with curl's cat of the same bytes from `url`.
 */
async function phases(
  api: string,
  url: string,
  cid: string,
  runs: number,
): Promise<Record<string, number>> {
  const script = `${root}bench/ipfs_phases.ts`;
  const times: Record<string, number[]> = {};
  const add = (name: string, ms: number) => (times[name] ??= []).push(ms);
  for (let round = 0; round < runs + 1; round++) {
    for (const [mode] of PHASES) {
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, mode, api, cid],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(r.success ? r.stdout : r.stderr).trim();
      if (!r.success) throw new Error(`ipfs_phases.ts ${mode}: ${text}`);
      const { import: imported, work, cpu } = JSON.parse(text);
      if (round === 0) continue;
      add(mode, work);
      add(`${mode} cpu`, cpu);
      add("start-up", imported);
    }
    const start = performance.now();
    const r = await new Deno.Command("curl", {
      args: ["-sf", "-X", "POST", "-o", "/dev/null", `${url}/api/v0/cat?arg=${cid}`],
    }).output();
    if (!r.success) throw new Error("curl cat failed");
    if (round > 0) add("curl", performance.now() - start);
  }
  return Object.fromEntries(
    Object.entries(times).map(([name, t]) => [name, t.sort((a, b) => a - b)[t.length >> 1]]),
  );
}

/** Peak resident memory (KiB, GNU time's %M) of `command`, median of `runs`. */
async function peakKiB(
  command: string[],
  runs: number,
  env: Record<string, string>,
  before: () => Promise<void>,
): Promise<number> {
  const peaks: number[] = [];
  for (let i = 0; i < runs; i++) {
    await before();
    const r = await new Deno.Command("/usr/bin/time", {
      args: ["-f", "%M", ...command],
      env,
      stdout: "null",
      stderr: "piped",
    }).output();
    const lines = new TextDecoder().decode(r.stderr).trim().split("\n");
    if (!r.success) throw new Error(`${command.join(" ")} failed: ${lines.join(" ")}`);
    peaks.push(Number(lines.at(-1)));
  }
  return peaks.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

/** A static executable padded with random bytes to `size` (the loader ignores the tail). */
async function staticProgram(dir: string, size: number): Promise<Uint8Array> {
  const exe = `${dir}/print_argv`;
  const r = await new Deno.Command("gcc", {
    args: ["-static", "-O2", "-o", exe, `${root}tests/ipfs/print_argv.c`],
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(`gcc -static: ${new TextDecoder().decode(r.stderr)}`);
  const program = await Deno.readFile(exe);
  const out = new Uint8Array(size);
  for (let i = program.length; i < size; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(size, i + 65536)));
  }
  out.set(program);
  return out;
}

export async function benchIpfs(runs: number): Promise<void> {
  const ipfsd = await startIpfsd();
  const replay = await startReplay(ipfsd.url);
  const dir = await Deno.makeTempDir({ prefix: "wwbench-ipfs-" });
  await Deno.chmod(dir, 0o755); // the jail runs as nobody when ww is root: it must reach the file
  try {
    const big = await staticProgram(dir, 32 * MiB);
    const small = await staticProgram(dir, 8 * MiB);
    const local = `${dir}/app32`;
    await Deno.writeFile(local, big, { mode: 0o755 });
    const cid = await ipfsd.addFile(big);
    const cid8 = await ipfsd.addFile(small);
    const info = new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).outputSync();
    const env = {
      ...Deno.env.toObject(),
      XDG_CACHE_HOME: `${dir}/xdg`,
      // ww under `deno run` must keep using the usual Deno cache despite the XDG_CACHE_HOME above.
      DENO_DIR: JSON.parse(new TextDecoder().decode(info.stdout)).denoDir,
    };
    const ww = Deno.env.get("WW_BIN") ?? `${Deno.execPath()} run -A ${root}main.ts`;
    const run = `${ww} run --ipfs ${ipfsd.api}`;
    const argv = (...rest: string[]) => [...run.split(" "), ...rest];
    const rm = () => Deno.remove(`${dir}/xdg/ww`, { recursive: true }).catch(() => {});

    const curl = (c: string) => [
      "curl",
      "-sf",
      "-X",
      "POST",
      "-o",
      "/dev/null",
      `${ipfsd.url}/api/v0/cat?arg=${c}`,
    ];
    const cpu: Record<string, number> = {};
    const cold = await interleaved(
      {
        "curl cat (8 MiB)": curl(cid8),
        "curl cat (32 MiB)": curl(cid),
        "ww run --jail=none /ipfs/<cid>, cold (8 MiB)": argv("--jail=none", `/ipfs/${cid8}`),
        "ww run --jail=none /ipfs/<cid>, cold": argv("--jail=none", `/ipfs/${cid}`),
        "ww run /ipfs/<cid>, cold (bwrap jail)": argv(`/ipfs/${cid}`),
        "ww run --jail=none <local file>": argv("--jail=none", local),
      },
      runs,
      3,
      env,
      rm,
      cpu,
    );
    await new Deno.Command("sh", { args: ["-c", `${run} /ipfs/${cid}`], env }).output();
    const warm = await timed(
      {
        "ww run --jail=none <local file>": `${run} --jail=none ${local}`,
        "ww run --jail=none /ipfs/<cid>, cached": `${run} --jail=none /ipfs/${cid}`,
        "ww run <local file> (bwrap jail)": `${run} ${local}`,
        "ww run /ipfs/<cid>, cached (bwrap jail)": `${run} /ipfs/${cid}`,
      },
      runs,
      env,
    );
    const cmd = (c: string) => argv("--jail=none", c);
    const peaks = {
      local: await peakKiB(cmd(local), 5, env, async () => {}),
      cold8: await peakKiB(cmd(`/ipfs/${cid8}`), 5, env, rm),
      cold32: await peakKiB(cmd(`/ipfs/${cid}`), 5, env, rm),
    };

    const ms = (v: number) => `${v.toFixed(1)} ms`;
    const label = Deno.env.get("WW_BIN") ?? "deno run";
    console.log(`ipfs, cold (median of ${runs} interleaved rounds, cache cleared; ww = ${label})`);
    for (const [name, v] of Object.entries(cold)) {
      console.log(row(name, ms(v), `CPU ${ms(cpu[name])}`));
    }
    const catMs = cold["curl cat (32 MiB)"];
    const coldNone = cold["ww run --jail=none /ipfs/<cid>, cold"];
    const coldBwrap = cold["ww run /ipfs/<cid>, cold (bwrap jail)"];
    const localNone = cold["ww run --jail=none <local file>"];
    console.log(
      row("cold throughput / cat throughput", `${(catMs / coldNone).toFixed(2)}`, "goal >= 0.8"),
    );
    console.log(row("  the same, bwrap jail", `${(catMs / coldBwrap).toFixed(2)}`));
    console.log(
      row(
        "  fetch alone (cold - local run) / cat",
        `${(catMs / (coldNone - localNone)).toFixed(2)}`,
        "ww's start-up and the exec left out",
      ),
    );
    // The time the 24 MiB more of the larger file adds, on each side: what is left is the rate at
    // which bytes go through, with every fixed cost (start-up, requests, the exec) out of both.
    const catMore = catMs - cold["curl cat (8 MiB)"];
    const wwMore = coldNone - cold["ww run --jail=none /ipfs/<cid>, cold (8 MiB)"];
    console.log(
      row(
        "  streaming rate (32 MiB - 8 MiB) / cat's",
        `${(catMore / wwMore).toFixed(2)}`,
        `cat ${ms(catMore)}, ww ${ms(wwMore)} for 24 MiB`,
      ),
    );
    const cpuMore = (cpu["ww run --jail=none /ipfs/<cid>, cold"] -
      cpu["ww run --jail=none /ipfs/<cid>, cold (8 MiB)"]) /
      (cpu["curl cat (32 MiB)"] - cpu["curl cat (8 MiB)"]);
    console.log(
      row(
        "  CPU for 24 MiB more, ww / curl",
        `${cpuMore.toFixed(1)}`,
        "the node's CPU not counted; GNU time's 10 ms ticks",
      ),
    );
    console.log(`ipfs, warm (median of ${runs} runs, hyperfine)`);
    for (const [name, v] of Object.entries(warm)) console.log(row(name, ms(v)));
    console.log(
      row(
        "cached - local, unjailed",
        ms(
          warm["ww run --jail=none /ipfs/<cid>, cached"] - warm["ww run --jail=none <local file>"],
        ),
        "goal: a few ms",
      ),
    );
    console.log(
      row(
        "cached - local, bwrap jail",
        ms(
          warm["ww run /ipfs/<cid>, cached (bwrap jail)"] -
            warm["ww run <local file> (bwrap jail)"],
        ),
      ),
    );
    const mb = (k: number) => `${(k / 1024).toFixed(1)} MiB`;
    console.log(row("peak RSS, ww run of a local file", mb(peaks.local)));
    console.log(row("peak RSS, cold fetch of 8 MiB", mb(peaks.cold8)));
    console.log(row("peak RSS, cold fetch of 32 MiB", mb(peaks.cold32)));
    console.log(
      row("  growth per 24 MiB more file", mb(peaks.cold32 - peaks.cold8), "goal: a small buffer"),
    );
    // Where the time goes: each stage of the cold fetch of the 32 MiB file on its own, against the
    // real node and against the replay server, which answers from memory what the node answered.
    console.log(`ipfs, cold fetch of 32 MiB by phase (median of ${runs} rounds, ms of work)`);
    const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
    console.log(row("load average (1, 5, 15 min)", load));
    const node = await phases(ipfsd.api, ipfsd.url, cid, runs);
    const free = await phases(replay.api, replay.url, cid, runs);
    // Wall time, then CPU time (all the stage's threads, from /proc): the CPU column holds still
    // when the machine's load swings the wall column.
    const columns = (r: Record<string, number>, name: string) =>
      `${ms(r[name]).padStart(10)} ${r[`${name} cpu`] === undefined ? "" : ms(r[`${name} cpu`])}`;
    console.log(row("", "node", "(wall, CPU)     replay server (wall, CPU)"));
    const both = (name: string, label: string) =>
      console.log(row(label, columns(node, name), columns(free, name)));
    both("curl", "curl cat");
    both("start-up", "stage imports (from the runtime's start)");
    for (const [mode, label] of PHASES) both(mode, label);
    const diff = (a: string, b: string, c = "") => (r: Record<string, number>) => {
      const v = (k: string) =>
        r[k] - r[`${b}${k.slice(a.length)}`] - (c ? r[`${c}${k.slice(a.length)}`] : 0);
      return `${ms(v(a)).padStart(10)} ${ms(v(`${a} cpu`))}`;
    };
    const derived = [
      ["  hashing (hash - wire)", diff("hash", "wire")],
      ["  memfd writes (memfd - wire)", diff("memfd", "wire")],
      ["  DAG walk, order (nocache-memfd-resolve)", diff("nocache", "memfd", "resolve")],
      ["  cache copy (download - nocache)", diff("download", "nocache")],
    ] as const;
    for (const [label, f] of derived) console.log(row(label, f(node), f(free)));
    console.log(
      row(
        "  start-up + exec (ww run <local file>)",
        ms(cold["ww run --jail=none <local file>"]),
        `CPU ${ms(cpu["ww run --jail=none <local file>"])}`,
      ),
    );
  } finally {
    await replay.stop();
    await ipfsd.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await benchIpfs(Number(Deno.env.get("BENCH_RUNS") ?? 20));
