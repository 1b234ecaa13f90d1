// bench/interleaved.ts — median wall times of several commands measured in interleaved rounds:
// each round runs every command once, in a fresh random order, so a slow spell of this shared
// machine (other jobs on its two cores) weighs on every command alike instead of on whichever
// hyperfine happened to be measuring then. The ratios of issue 13's goals are taken from these.

/** Median wall time (ms) of each command (name -> argv), over `rounds` rounds after 3 warm-ups. */
export async function interleavedMedians(
  commands: Readonly<Record<string, readonly string[]>>,
  rounds: number,
): Promise<Record<string, number>> {
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
  return Object.fromEntries(names.map((n) => [n, median(times[n])]));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
