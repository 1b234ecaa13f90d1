// tests/jail/deny.ts — runs `ww` under tests/jail/deny.c, on a kernel that looks as if it lacked
// Landlock or user namespaces (a seccomp filter the whole run inherits).

import { buildC } from "../support/build.ts";
import { outputOf, wwCommand, type WwResult } from "../support/ww.ts";
import { withoutBwrap } from "../support/hide_bwrap.ts";

/**
 * What deny.c hides from the run: Landlock, user namespaces, or both ("landlock,userns"); or what
 * it refuses: mount(2), or a network namespace (netns).
 */
export type Denied = "landlock" | "userns" | "landlock,userns" | "mount" | "netns";

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
): Promise<WwResult> {
  const ww = [...wwCommand(), ...args];
  const denying = denied ? [await buildC(new URL("./deny.c", import.meta.url)), denied, ...ww] : ww;
  return await outputOf(hideBwrap ? withoutBwrap(denying) : denying, {
    ...Deno.env.toObject(),
    ...env,
  });
}
