// tests/support/modules.ts — which modules a fresh `deno run` evaluates for an import, read from
// V8's coverage: for tests that keep code lazy (what an /ipfs/ path or a local program loads).

import assert from "node:assert/strict";

/** The files of every module a fresh `deno run` evaluates when it imports `specifier`. */
export async function loadedModules(specifier: string): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "wwtest-modules-" });
  try {
    const script = `${dir}/probe.ts`;
    await Deno.writeTextFile(script, `await import(${JSON.stringify(specifier)});\n`);
    const config = new URL("../../deno.json", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", config, `--coverage=${dir}/cov`, script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const files: string[] = [];
    for await (const entry of Deno.readDir(`${dir}/cov`)) {
      const { url } = JSON.parse(await Deno.readTextFile(`${dir}/cov/${entry.name}`));
      if (url.startsWith("file:") && url !== `file://${script}`) files.push(new URL(url).pathname);
    }
    return files;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
