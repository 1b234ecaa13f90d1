// tests/jail/deny.ts — runs `ww` under tests/jail/deny.c, on a kernel that looks as if it lacked
// Landlock or user namespaces (a seccomp filter the whole run inherits).

import { buildC } from "../support/build.ts";
import { wwCommand } from "../support/ww.ts";
import { withoutBwrap } from "../support/hide_bwrap.ts";

/**
 * What deny.c hides from the run: Landlock, user namespaces, or both ("landlock,userns"); or what
 * it refuses: mount(2).
 */
export type Denied = "landlock" | "userns" | "landlock,userns" | "mount";

export interface DeniedRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `ww <args>` under deny.c (or plainly, when `denied` is undefined), with the test's
 * environment plus `env`; with `hideBwrap`, where no bwrap can be found (tests/support/hide_bwrap.ts).
 *
 * @example
 * const r = await runUnder("landlock", ["run", "--jail=native", "/bin/true"]);
 * r.code; // 125
 */
export async function runUnder(
  denied: Denied | undefined,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
  hideBwrap = false,
): Promise<DeniedRun> {
  const ww = [...wwCommand(), ...args];
  const denying = denied ? [await buildC(new URL("./deny.c", import.meta.url)), denied, ...ww] : ww;
  const [cmd, ...rest] = hideBwrap ? withoutBwrap(denying) : denying;
  const r = await new Deno.Command(cmd, {
    args: rest,
    env: { ...Deno.env.toObject(), ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: r.code, stdout: decode(r.stdout), stderr: decode(r.stderr) };
}
