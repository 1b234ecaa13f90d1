// bench/launch.ts — the cost of launching a program through ww: `ww run /bin/true`, unjailed and
// in the bwrap jail, beside /bin/true itself, an empty `deno run`, bubblewrap alone with a
// comparable profile, and firejail when it is installed. Prints medians and ratios.

import { fileURLToPath } from "node:url";
import { namespaceArgs } from "../jail/bwrap.ts";
import { hostFiles } from "../run/host.ts";
import { medians, row } from "./hyperfine.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

/** A bwrap command with the same namespaces, mounts and identity as ww's default profile. */
function bwrapCommand(): string {
  const { system } = hostFiles(false);
  const mounts = system.map((e) =>
    e.kind === "dir" ? `--ro-bind ${e.path} ${e.path}` : `--symlink ${e.target} ${e.path}`
  );
  return [
    "bwrap",
    ...mounts,
    "--proc /proc --dev /dev --tmpfs /tmp",
    ...namespaceArgs(false),
    "--uid 65534 --gid 65534 --hostname ww --cap-drop ALL",
    "--new-session --die-with-parent",
    "-- /usr/bin/env -u PWD -- /bin/true",
  ].join(" ");
}

function has(command: string): boolean {
  try {
    return new Deno.Command(command, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

export async function benchLaunch(runs: number): Promise<void> {
  const deno = Deno.execPath();
  const empty = `${root}bench/empty.ts`;
  const ww = Deno.env.get("WW_BIN") ?? `${deno} run -A ${root}main.ts`;
  const commands: Record<string, string> = {
    "/bin/true": "/bin/true",
    "deno run (empty script)": `${deno} run -A ${empty}`,
    "bwrap /bin/true": bwrapCommand(),
    "ww run --jail=none /bin/true": `${ww} run --jail=none /bin/true`,
    "ww run /bin/true (bwrap jail)": `${ww} run --jail=bwrap /bin/true`,
  };
  if (has("firejail")) {
    commands["firejail /bin/true"] = "firejail --quiet --noprofile --net=none --private /bin/true";
  }
  const t = Object.fromEntries((await medians(commands, runs)).map((x) => [x.name, x.medianMs]));
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  console.log(
    `launch (median of ${runs} runs each; ww = ${Deno.env.get("WW_BIN") ?? "deno run -A main.ts"})`,
  );
  for (const [name, v] of Object.entries(t)) console.log(row(name, ms(v)));
  const floor = t["deno run (empty script)"];
  const bwrapOnly = t["bwrap /bin/true"] - t["/bin/true"];
  const none = t["ww run --jail=none /bin/true"];
  const jailed = t["ww run /bin/true (bwrap jail)"];
  console.log(row("ww --jail=none / empty deno run", `${(none / floor).toFixed(2)}x`));
  console.log(row("ww --jail=none - empty deno run", ms(none - floor), "ww's own launch work"));
  console.log(
    row("ww jailed / (empty deno run + bwrap)", `${(jailed / (floor + bwrapOnly)).toFixed(2)}x`),
  );
  console.log(
    row(
      "ww jailed - (empty deno run + bwrap)",
      ms(jailed - floor - bwrapOnly),
      "launcher overhead",
    ),
  );
  if (t["firejail /bin/true"]) {
    console.log(row("ww jailed / firejail", `${(jailed / t["firejail /bin/true"]).toFixed(2)}x`));
  }
}
