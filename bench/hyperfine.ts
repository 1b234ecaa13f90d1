// bench/hyperfine.ts — runs commands under hyperfine in one batch and returns their median wall
// times, so every figure a benchmark prints comes from the same run on the same (noisy) machine.

export interface Timed {
  readonly name: string;
  readonly command: string;
  /** Median wall time in milliseconds. */
  readonly medianMs: number;
}

/** Medians of `commands` (name -> shell-free command line), `runs` runs each after a warm-up. */
export async function medians(
  commands: Readonly<Record<string, string>>,
  runs = 60,
): Promise<Timed[]> {
  const out = await Deno.makeTempFile({ suffix: ".json" });
  try {
    const args = ["-N", "--style", "none", "--warmup", "5", "--runs", String(runs)];
    args.push("--export-json", out);
    for (const [name, command] of Object.entries(commands)) args.push("-n", name, command);
    const r = await new Deno.Command("hyperfine", { args, stdout: "null", stderr: "piped" })
      .output();
    if (!r.success) {
      throw new Error(`hyperfine failed: ${new TextDecoder().decode(r.stderr).trim()}`);
    }
    const json = JSON.parse(await Deno.readTextFile(out));
    return json.results.map((x: { command: string; median: number }, i: number) => ({
      name: Object.keys(commands)[i],
      command: x.command,
      medianMs: x.median * 1000,
    }));
  } finally {
    await Deno.remove(out);
  }
}

/** A fixed-width table row. */
export function row(label: string, value: string, note = ""): string {
  return `  ${label.padEnd(44)} ${value.padStart(10)}  ${note}`;
}
