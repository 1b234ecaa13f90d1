// bench/interleaved.ts — wall times of several commands measured in interleaved rounds: each
// round runs every command once, in a fresh random order, so a slow spell of this shared machine
// (other jobs on its two cores) weighs on every command alike instead of on whichever hyperfine
// happened to be measuring then. The ratios of issue 13's goals are taken from their medians,
// and within each round too, to show how much they vary.

/**
 * Wall times (ms) of each command (name -> argv), one a round, over `rounds` rounds after 3
 * warm-ups: `times[name][i]` is round i's, so that values of one round can be compared.
 */
export async function interleavedRounds(
  commands: Readonly<Record<string, readonly string[]>>,
  rounds: number,
): Promise<Record<string, number[]>> {
  const names = Object.keys(commands);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const warmup = 3;
  for (let round = 0; round < warmup + rounds; round++) {
    const order = [...names].sort(() => Math.random() - 0.5);
    for (const name of order) {
      const [command, ...args] = commands[name];
      const start = performance.now();
      const out = await new Deno.Command(command, {
        args,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
      const ms = performance.now() - start;
      if (!out.success) {
        throw new Error(`${name} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
      }
      if (round >= warmup) times[name].push(ms);
    }
  }
  return times;
}

/** The median of each command's times. */
export function medians(times: Readonly<Record<string, number[]>>): Record<string, number> {
  return Object.fromEntries(Object.entries(times).map(([n, xs]) => [n, quantile(xs, 0.5)]));
}

/**
 * `f` of each round's times (name -> that round's time), summed up by its median and its middle
 * half (the first and third quartiles): a ratio taken within each round, where a slow spell of the
 * machine weighs on both of its terms, and how much it varies from round to round.
 *
 * @example
 * perRound({ a: [2, 4, 6], b: [1, 2, 3] }, (t) => t.a / t.b); // { median: 2, q1: 2, q3: 2 }
 */
export function perRound(
  times: Readonly<Record<string, number[]>>,
  f: (round: Record<string, number>) => number,
): { median: number; q1: number; q3: number } {
  const names = Object.keys(times);
  const rounds = Math.min(...names.map((n) => times[n].length));
  const values = Array.from(
    { length: rounds },
    (_, i) => f(Object.fromEntries(names.map((n) => [n, times[n][i]]))),
  );
  return { median: quantile(values, 0.5), q1: quantile(values, 0.25), q3: quantile(values, 0.75) };
}

/** The q-quantile of `xs`, linear between the two nearest values (the median at 0.5). */
function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const low = Math.floor(at);
  return low + 1 < s.length ? s[low] + (s[low + 1] - s[low]) * (at - low) : s[low];
}
