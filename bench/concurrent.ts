// bench/concurrent.ts — how long a jail takes to start when 20 start at once, against one jail
// started alone, in interleaved rounds on each backend. "Start" is the time from spawning ww to
// the first byte the program writes: ww's start-up, the jail's set-up and the program's exec.
// Each jail then lingers a little, so the 20 overlap for their whole start-up.

import { fileURLToPath } from "node:url";
import { row } from "./hyperfine.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const CONCURRENT = 20;

/** Milliseconds from spawning one `ww run` to the first byte of the program's stdout. */
async function startTime(ww: readonly string[], jail: string): Promise<number> {
  const t0 = performance.now();
  const child = new Deno.Command(ww[0], {
    args: [...ww.slice(1), "run", `--jail=${jail}`, "/bin/sh", "-c", "echo go; sleep 0.3"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  const first = await reader.read();
  const ms = performance.now() - t0;
  reader.releaseLock();
  const [status, , err] = await Promise.all([
    child.status,
    child.stdout.cancel(),
    new Response(child.stderr).text(),
  ]);
  if (first.done || !status.success) {
    throw new Error(`ww run --jail=${jail} failed (${status.code}): ${err.trim()}`);
  }
  return ms;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Prints, per backend, the median and worst start of 20 concurrent jails against one alone. */
export async function benchConcurrent(rounds: number): Promise<void> {
  const ww = Deno.env.get("WW_BIN")?.split(" ") ??
    [Deno.execPath(), "run", "-A", `${root}main.ts`];
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  console.log(
    `concurrent start (${rounds} interleaved rounds: ${CONCURRENT} jails at once, and one alone)`,
  );
  for (const jail of ["bwrap", "native"]) {
    const alone: number[] = [];
    const together: number[] = [];
    for (let r = 0; r < rounds; r++) {
      alone.push(await startTime(ww, jail));
      together.push(
        ...await Promise.all(Array.from({ length: CONCURRENT }, () => startTime(ww, jail))),
      );
    }
    const one = median(alone);
    const med = median(together);
    const worst = Math.max(...together);
    console.log(row(`--jail=${jail}: one alone (median)`, ms(one)));
    console.log(row(`--jail=${jail}: ${CONCURRENT} at once, median`, ms(med)));
    console.log(row(`--jail=${jail}: ${CONCURRENT} at once, worst`, ms(worst)));
    console.log(row(`--jail=${jail}: median at once / alone`, `${(med / one).toFixed(2)}x`));
    console.log(row(`--jail=${jail}: worst at once / alone`, `${(worst / one).toFixed(2)}x`));
  }
}
