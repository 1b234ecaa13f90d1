// tests/rpc/build.ts — builds the C++ guest (tests/rpc/guest.c++) against rpc/ww.capnp with the
// machine's capnp, g++ and `pkg-config --cflags --libs capnp-rpc`, cached in tests/.build/ under a
// hash of both sources so parallel test modules and later runs share one build.

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BUILD_DIR } from "../support/build.ts";

const SCHEMA = fileURLToPath(new URL("../../rpc/ww.capnp", import.meta.url));
const GUEST = fileURLToPath(new URL("./guest.c++", import.meta.url));

/**
 * The path of the built C++ guest. Fails loudly when capnp, g++ or libcapnp-dev is missing
 * (apt-get install capnproto libcapnp-dev g++ pkg-config).
 *
 * @example
 * const guest = await buildGuest();
 */
export async function buildGuest(): Promise<string> {
  const sources = [await Deno.readFile(SCHEMA), await Deno.readFile(GUEST)];
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new Uint8Array(sources.flatMap((s) => [...s]))),
  );
  const hash = [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const out = join(BUILD_DIR, `rpc-guest-${hash}`);
  try {
    await Deno.stat(out);
    return out;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  // Build in a private directory and rename: another test module may be building the same guest.
  const work = join(BUILD_DIR, `rpc-guest-${hash}.${Deno.pid}.${crypto.randomUUID()}.tmp`);
  await Deno.mkdir(work, { recursive: true });
  try {
    await run("capnp", ["compile", `-oc++:${work}`, `--src-prefix=${join(SCHEMA, "..")}`, SCHEMA]);
    const flags = (await run("pkg-config", ["--cflags", "--libs", "capnp-rpc"])).trim().split(
      /\s+/,
    );
    const binary = join(work, "guest");
    await run("g++", [
      "-std=c++17",
      "-O2",
      `-I${work}`,
      GUEST,
      join(work, "ww.capnp.c++"),
      ...flags,
      "-o",
      binary,
    ]);
    await Deno.rename(binary, out);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
  return out;
}

async function run(cmd: string, args: string[]): Promise<string> {
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command(cmd, { args }).output();
  } catch (e) {
    throw new Error(
      `cannot run ${cmd} (install it: apt-get install capnproto libcapnp-dev g++ pkg-config): ${e}`,
    );
  }
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  if (!result.success) throw new Error(`${cmd} ${args.join(" ")} failed:\n${text(result.stderr)}`);
  return text(result.stdout);
}
