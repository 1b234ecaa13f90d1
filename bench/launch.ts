// bench/launch.ts — the cost of launching a program through ww, as issue 13's goals put it: `ww run
// /bin/true` under --jail=none, bwrap and native, beside /bin/true itself, an empty `deno run`,
// bubblewrap alone with ww's profile (bench/bwrap_profile.ts), the least Deno launcher of each
// (bench/least_launch.ts: what any launcher written in Deno pays), and firejail when it is
// installed. ww is measured
// both as it ships, the bundle (`deno run -q -A dist/main.js`, rebuilt first when stale), and from
// the sources (`deno run -q -A main.ts`), and as $WW_BIN too when that names a compiled binary, all
// in the same interleaved rounds (bench/interleaved.ts). Prints medians and the goals' ratios, each
// also taken within every round (its median and middle half: how much the machine moved it).

import { fileURLToPath } from "node:url";
import { BUNDLE_DIR, BUNDLE_MAIN, ensureBundle } from "../scripts/bundle.ts";
import { bwrapPeerCommand } from "./bwrap_profile.ts";
import { interleavedRounds, medians, perRound } from "./interleaved.ts";
import { row } from "./hyperfine.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

function has(command: string): boolean {
  try {
    return new Deno.Command(command, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** The goals of issue 13: each ratio and its bound. */
const GOALS = {
  none: 1.25, // ww --jail=none / empty deno run
  bwrap: 1.25, // ww --jail=bwrap / (empty deno run + plain bwrap)
  native: 1.25, // ww --jail=native / ww --jail=none
};

export async function benchLaunch(runs: number): Promise<void> {
  const deno = Deno.execPath();
  await ensureBundle(`${root}${BUNDLE_DIR}`);
  const variants: Record<string, string[]> = {
    bundle: [deno, "run", "-q", "-A", `${root}${BUNDLE_DIR}/${BUNDLE_MAIN}`],
    source: [deno, "run", "-q", "-A", `${root}main.ts`],
  };
  const bin = Deno.env.get("WW_BIN");
  if (bin) variants[`WW_BIN`] = [bin];
  const least = [deno, "run", "-q", "-A", `${root}bench/least_launch.ts`];
  const plainBwrap = bwrapPeerCommand();
  const commands: Record<string, string[]> = {
    "/bin/true": ["/bin/true"],
    "deno run (empty script)": [deno, "run", "-q", "-A", `${root}bench/empty.ts`],
    "bwrap /bin/true": plainBwrap,
    "least Deno launcher: /bin/true": [...least, "/bin/true"],
    "least Deno launcher: bwrap /bin/true": [...least, ...plainBwrap],
  };
  for (const [v, ww] of Object.entries(variants)) {
    for (const jail of ["none", "bwrap", "native"]) {
      commands[`${v}: ww run --jail=${jail} /bin/true`] = [
        ...ww,
        "run",
        `--jail=${jail}`,
        "/bin/true",
      ];
    }
  }
  if (has("firejail")) {
    commands["firejail /bin/true"] = "firejail --quiet --noprofile --net=none --private /bin/true"
      .split(" ");
  }
  const rounds = await interleavedRounds(commands, runs);
  const t = medians(rounds);
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  // A goal's ratio of the medians, and the same ratio taken within each round: its median and
  // middle half, which show how much this machine moved it.
  const x = (v: number, goal: number, f: (r: Record<string, number>) => number) => {
    const r = perRound(rounds, f);
    const spread = `per round ${r.median.toFixed(2)}x, middle half ${r.q1.toFixed(2)}-${
      r.q3.toFixed(2)
    }x`;
    return `${v.toFixed(2)}x`.padStart(10) + `  (goal <= ${goal}; ${spread})`;
  };
  console.log(
    `launch (median of ${runs} interleaved rounds; bundle = deno run -q -A dist/main.js)`,
  );
  for (const [name, v] of Object.entries(t)) console.log(row(name, ms(v)));
  const floor = t["deno run (empty script)"];
  const bwrapOnly = t["bwrap /bin/true"] - t["/bin/true"];
  const leastNone = t["least Deno launcher: /bin/true"];
  const leastBwrap = t["least Deno launcher: bwrap /bin/true"];
  console.log("  least Deno launcher (the floor of the ratios below):");
  console.log(row("  /bin/true / empty deno run", `${(leastNone / floor).toFixed(2)}x`));
  console.log(
    row(
      "  bwrap /bin/true / (empty deno run + bwrap)",
      `${(leastBwrap / (floor + bwrapOnly)).toFixed(2)}x`,
    ),
  );
  for (const v of Object.keys(variants)) {
    const [noneName, jailedName, nativeName] = ["none", "bwrap", "native"].map((j) =>
      `${v}: ww run --jail=${j} /bin/true`
    );
    const [none, jailed, native] = [t[noneName], t[jailedName], t[nativeName]];
    console.log(`  ${v}:`);
    console.log(
      row(
        "  --jail=none / empty deno run",
        x(none / floor, GOALS.none, (r) => r[noneName] / r["deno run (empty script)"]),
      ),
    );
    console.log(row("  --jail=none - empty deno run", ms(none - floor), "ww's own launch work"));
    console.log(row("  --jail=none - least launcher", ms(none - leastNone)));
    console.log(
      row(
        "  --jail=bwrap / (empty deno run + bwrap)",
        x(
          jailed / (floor + bwrapOnly),
          GOALS.bwrap,
          (r) =>
            r[jailedName] /
            (r["deno run (empty script)"] + r["bwrap /bin/true"] - r["/bin/true"]),
        ),
      ),
    );
    console.log(row("  --jail=bwrap - least launcher", ms(jailed - leastBwrap)));
    console.log(
      row(
        "  --jail=native / --jail=none",
        x(native / none, GOALS.native, (r) => r[nativeName] / r[noneName]),
      ),
    );
    if (t["firejail /bin/true"]) {
      console.log(
        row("  --jail=bwrap / firejail", `${(jailed / t["firejail /bin/true"]).toFixed(2)}x`),
      );
    }
  }
}
