// tests/support/build.ts — compiles the C children of the integration tests with the machine's gcc,
// caching each binary in tests/.build/ (gitignored) under a hash of its source, so parallel test
// modules and later runs share one build.

import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** tests/.build/, where built children live. */
export const BUILD_DIR = fileURLToPath(new URL("../.build", import.meta.url));

const CFLAGS = ["-O1", "-Wall", "-Wextra", "-Werror", "-std=gnu11"];

/**
 * The path of the binary built from `source` (a .c file), building it if needed. Fails loudly
 * when gcc is missing or the source does not compile.
 *
 * @example
 * const child = await buildC(new URL("../run/report_fds.c", import.meta.url));
 */
export async function buildC(source: URL): Promise<string> {
  const path = fileURLToPath(source);
  const text = await Deno.readFile(path);
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new Uint8Array([...text, ...encode(CFLAGS.join(" "))])),
  );
  const hash = [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const out = join(BUILD_DIR, `${basename(path, ".c")}-${hash}`);
  try {
    await Deno.stat(out);
    return out;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await Deno.mkdir(dirname(out), { recursive: true });
  // Build under a private name and rename: another test module may be building the same file.
  const tmp = `${out}.${Deno.pid}.${crypto.randomUUID()}.tmp`;
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command("gcc", { args: [...CFLAGS, "-o", tmp, path] }).output();
  } catch (e) {
    throw new Error(`cannot run gcc (install it: apt-get install gcc): ${e}`);
  }
  if (!result.success) {
    throw new Error(`gcc ${path} failed:\n${new TextDecoder().decode(result.stderr)}`);
  }
  await Deno.rename(tmp, out);
  return out;
}

function encode(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
