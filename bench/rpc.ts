// bench/rpc.ts — round trips per second of a trivial call (Host.identity) from the C++ guest to
// ww over fd 3, beside the same C++ client against a C++ server on a socketpair, as a ratio; and
// ww's peak memory under hostile guests (floods that never read, a long fuzzer run).
// For `deno task bench`; runs the real `ww run` and builds the guest like the tests do.

import { fileURLToPath } from "node:url";
import { buildGuest } from "../tests/rpc/build.ts";
import { runWwMeasured, wwCommand } from "../tests/support/ww.ts";

/** One benchmark result: calls per second of each side, and ww's share of C++'s speed. */
export interface RpcBenchResult {
  readonly calls: number;
  readonly wwPerSecond: number;
  readonly cppPerSecond: number;
  /** wwPerSecond / cppPerSecond. */
  readonly ratio: number;
}

/**
 * Measures `calls` sequential round trips on each side.
 *
 * @example
 * const r = await benchRpc(20000);
 * console.log(`ww ${r.wwPerSecond.toFixed(0)}/s, C++ ${r.cppPerSecond.toFixed(0)}/s`);
 */
export async function benchRpc(calls = 20000): Promise<RpcBenchResult> {
  const guest = await buildGuest();
  const [ww, ...wwArgs] = wwCommand();
  const viaWw = await timed(ww, [...wwArgs, "run", guest, "bench", String(calls)]);
  const viaCpp = await timed(guest, ["bench-pair", String(calls)]);
  const wwPerSecond = calls / viaWw;
  const cppPerSecond = calls / viaCpp;
  return { calls, wwPerSecond, cppPerSecond, ratio: wwPerSecond / cppPerSecond };
}

async function timed(cmd: string, args: string[]): Promise<number> {
  const out = await new Deno.Command(cmd, { args, stderr: "inherit" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed: ${text}`);
  return (JSON.parse(text.trim().split("\n").at(-1)!) as { seconds: number }).seconds;
}

/** ww's peak RSS (VmHWM, bytes) serving a guest, by guest. */
export interface FloodResult {
  readonly what: string;
  readonly peak: number;
  /** The guest's own report (how much it sent, whether its writes blocked). */
  readonly guest: string;
}

/**
 * ww's peak memory serving a quiet guest and each flood of issue 17 at full size: 200 messages of
 * 8 MB of a type ww does not implement, and 1,500,000 pipelined identity calls, neither read.
 *
 * @example
 * for (const r of await benchFloods()) console.log(r.what, r.peak);
 */
export async function benchFloods(): Promise<FloodResult[]> {
  const guest = await buildGuest();
  const runs: [string, string[]][] = [
    ["quiet guest (2000 identity calls)", ["bench", "2000"]],
    ["200 x 8 MB unknown messages, never read", ["flood-unknown", "200", "8000000"]],
    ["1,500,000 pipelined identity calls, never read", ["flood-identity", "1500000"]],
  ];
  const results: FloodResult[] = [];
  for (const [what, args] of runs) {
    const r = await runWwMeasured(["run", guest, ...args]);
    if (r.code !== 0) throw new Error(`${what}: ww exited ${r.code}: ${r.stderr}`);
    results.push({ what, peak: r.peak, guest: r.stdout.trim().split("\n").at(-1) ?? "" });
  }
  return results;
}

/** A fuzzer run in its own process (rpc/fuzz.ts): its inputs, time and peak RSS (bytes). */
export async function benchFuzz(
  inputs: number,
): Promise<{ inputs: number; seconds: number; peak: number }> {
  // Seeds past the suite's 1..100000, so the bench tries new inputs.
  const fuzz = fileURLToPath(new URL("../rpc/fuzz.ts", import.meta.url));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fuzz, "100001", String(inputs)],
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`the fuzzer failed: ${text}`);
  return JSON.parse(text.trim().split("\n").at(-1)!);
}

if (import.meta.main) {
  const r = await benchRpc(Number(Deno.args[0] ?? 20000));
  console.log(
    `rpc round trips: ww ${r.wwPerSecond.toFixed(0)}/s, C++ ${r.cppPerSecond.toFixed(0)}/s, ` +
      `ratio ${r.ratio.toFixed(3)} (${r.calls} calls each)`,
  );
}
