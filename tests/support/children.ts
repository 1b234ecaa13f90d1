// tests/support/children.ts — the programs the integration tests run under ww: the C reporter
// (tests/run/report_fds.c) and the TypeScript demo (examples/fd-demo/main.ts) for Deno and Node.

import { existsSync } from "node:fs";
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
 * stripping), bundled by `deno bundle` into tests/.build/ and cached by a hash of its sources.
 */
export async function fdDemoForNode(): Promise<string> {
  const sources = [FD_DEMO, `${REPO}examples/guest/fdmap.ts`];
  const text = sources.map((p) => Deno.readTextFileSync(p)).join("\0");
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  const hash = [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const out = join(BUILD_DIR, `fd-demo-${hash}.mjs`);
  if (existsSync(out)) return out;
  Deno.mkdirSync(BUILD_DIR, { recursive: true });
  const tmp = `${out}.${crypto.randomUUID()}.tmp.mjs`;
  const result = await new Deno.Command(DENO, {
    args: ["bundle", "--quiet", "--platform=node", "--output", tmp, FD_DEMO],
    stderr: "piped",
  }).output();
  if (!result.success) {
    throw new Error(`deno bundle ${FD_DEMO} failed:\n${new TextDecoder().decode(result.stderr)}`);
  }
  Deno.renameSync(tmp, out);
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
