// tests/support/build.ts — compiles the C children of the integration tests with the machine's gcc
// (and the Go guest with its go), caching each binary in tests/.build/ (gitignored) under a hash of its source, so parallel test
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
  return await cachedBuild(path, basename(path, ".c"), CFLAGS.join(" "), async (tmp) => {
    let result: Deno.CommandOutput;
    try {
      result = await new Deno.Command("gcc", { args: [...CFLAGS, "-o", tmp, path] }).output();
    } catch (e) {
      throw new Error(`cannot run gcc (install it: apt-get install gcc): ${e}`);
    }
    if (!result.success) {
      throw new Error(`gcc ${path} failed:\n${new TextDecoder().decode(result.stderr)}`);
    }
  });
}

/**
 * BUILD_DIR/<name>-<hash>, the hash of the source at `path` and of `how` (the compiler's flags or
 * version), built by `build` into the temporary path it is given when not there yet: under a
 * private name, then renamed, since another test module may be building the same file.
 */
async function cachedBuild(
  path: string,
  name: string,
  how: string,
  build: (tmp: string) => Promise<unknown>,
): Promise<string> {
  const text = await Deno.readFile(path);
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new Uint8Array([...text, ...encode(how)])),
  );
  const hash = [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const out = join(BUILD_DIR, `${name}-${hash}`);
  try {
    await Deno.stat(out);
    return out;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await Deno.mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.${Deno.pid}.${crypto.randomUUID()}.tmp`;
  await build(tmp);
  await Deno.rename(tmp, out);
  return out;
}

function encode(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** How a Go child is linked: `static` (CGO_ENABLED=0, no libc) or `cgo` (go's default: libc's). */
export type GoLink = "static" | "cgo";

/**
 * The path of the binary built from the Go file `source` with the machine's go, linked as `link`
 * says, cached as buildC's are. Fails loudly when go is missing: a Go guest test that cannot build
 * its guest fails rather than passing without running.
 *
 * @example
 * const guest = await buildGo(new URL("../run/go_guest/main.go", import.meta.url), "static");
 */
export async function buildGo(source: URL, link: GoLink): Promise<string> {
  const path = fileURLToPath(source);
  const version = await goOutput(["version"]);
  return await cachedBuild(
    path,
    `${basename(dirname(path))}-${link}`,
    version + link,
    (tmp) => goOutput(["build", "-o", tmp, path], { CGO_ENABLED: link === "cgo" ? "1" : "0" }),
  );
}

async function goOutput(args: string[], env: Record<string, string> = {}): Promise<string> {
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command("go", { args, env }).output();
  } catch (e) {
    throw new Error(
      `cannot run go, so the Go guest tests cannot run (install it: apt-get install golang-go; scripts/packages.sh lists it): ${e}`,
    );
  }
  if (!result.success) {
    throw new Error(`go ${args.join(" ")} failed:\n${new TextDecoder().decode(result.stderr)}`);
  }
  return new TextDecoder().decode(result.stdout);
}
