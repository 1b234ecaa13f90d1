// tests/support/children.ts — the programs the integration tests run under ww: the C reporter
// (tests/run/report_fds.c) and the TypeScript demo (examples/fd-demo/main.ts) for Deno and Node.

import { join } from "node:path";
import { BUILD_DIR, buildC } from "./build.ts";
import { REPO } from "./ww.ts";

/** The built tests/run/report_fds.c. */
export function reportFds(): Promise<string> {
  return buildC(new URL("../run/report_fds.c", import.meta.url));
}

/** examples/fd-demo/main.ts, absolute (the child's cwd is a temp dir). */
export const FD_DEMO = `${REPO}examples/fd-demo/main.ts`;

/** The deno binary running the tests, absolute (the child's environment has no PATH). */
export const DENO = Deno.execPath();

/**
 * The fd demo as one plain JavaScript module for Node (whose version here may predate type
 * stripping), bundled by `deno bundle` into tests/.build/.
 */
export async function fdDemoForNode(): Promise<string> {
  const out = join(BUILD_DIR, `fd-demo-${crypto.randomUUID()}.mjs`);
  const result = await new Deno.Command(DENO, {
    args: ["bundle", "--quiet", "--platform=node", "--output", out, FD_DEMO],
    stderr: "piped",
  }).output();
  if (!result.success) {
    throw new Error(`deno bundle ${FD_DEMO} failed:\n${new TextDecoder().decode(result.stderr)}`);
  }
  return out;
}

/** The absolute path of `name` in PATH; fails loudly when it is not installed. */
export function which(name: string): string {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    const path = join(dir || ".", name);
    try {
      if (Deno.statSync(path).isFile) return Deno.realPathSync(path);
    } catch { /* not in this directory */ }
  }
  throw new Error(`${name} is not installed (not found in PATH); the tests need it`);
}
