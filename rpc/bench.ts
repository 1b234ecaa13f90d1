// rpc/bench.ts — round trips per second of a trivial call (Host.identity) from the C++ guest to
// ww over fd 3, beside the same C++ client against a C++ server on a socketpair, as a ratio.
// For `deno task bench`; runs the real `ww run` and builds the guest like the tests do.

import { buildGuest } from "../tests/rpc/build.ts";
import { wwCommand } from "../tests/support/ww.ts";

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

if (import.meta.main) {
  const r = await benchRpc(Number(Deno.args[0] ?? 20000));
  console.log(
    `rpc round trips: ww ${r.wwPerSecond.toFixed(0)}/s, C++ ${r.cppPerSecond.toFixed(0)}/s, ` +
      `ratio ${r.ratio.toFixed(3)} (${r.calls} calls each)`,
  );
}
