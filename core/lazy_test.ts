// core/lazy_test.ts — LAZY_MODULES is the one list of lazily imported modules: every lazyImport
// names a listed module, the same one its type comes from; nothing is imported by a computed URL
// any other way; `deno task compile` includes each. Read from the source, so it runs without
// denort (tests/compile/ needs one to build the binary itself).

import assert from "node:assert/strict";
import { posix } from "node:path";
import { bundledPath, LAZY_MODULES, lazyUrl } from "./lazy.ts";
import { compileArgs } from "../scripts/compile.ts";
import { PROGRAM_FOLDERS } from "./folders.ts";

const ROOT = new URL("../", import.meta.url);
const PROGRAM: readonly string[] = PROGRAM_FOLDERS;

/** The program's source files (what main.ts and mod.ts can reach), from the repository root. */
function sources(): string[] {
  const files = ["main.ts", "mod.ts"];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(new URL(dir, ROOT))) {
      if (e.isDirectory) walk(`${dir}${e.name}/`);
      else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) files.push(dir + e.name);
    }
  };
  for (const folder of PROGRAM) walk(`${folder}/`);
  return files;
}

const CALL = /lazyImport<\s*typeof import\("([^"]+)"\)\s*>\(\s*"([^"]+)",?\s*\)/g;

/** Each lazyImport call of the program: the file, the module its type names, the module named. */
function calls(): { file: string; typed: string; named: string }[] {
  const found = [];
  for (const file of sources()) {
    if (file === "core/lazy.ts") continue;
    const source = Deno.readTextFileSync(new URL(file, ROOT));
    const matched = [...source.matchAll(CALL)];
    // A call written any other way would escape the checks below.
    const uses = source.match(/\blazyImport\s*[<(]/g)?.length ?? 0;
    assert.equal(
      matched.length,
      uses,
      `${file}: a lazyImport not written lazyImport<typeof import("…")>("…")`,
    );
    for (const [, typed, named] of matched) {
      found.push({ file, typed: posix.join(posix.dirname(file), typed), named });
    }
  }
  return found;
}

Deno.test("every lazyImport names the module its type comes from, and it is listed", () => {
  const all = calls();
  assert.ok(all.length >= LAZY_MODULES.length);
  for (const { file, typed, named } of all) {
    assert.equal(named, typed, `${file}: lazyImport("${named}") typed as ${typed}`);
    assert.ok((LAZY_MODULES as readonly string[]).includes(named), `${file}: ${named} not listed`);
  }
});

Deno.test("every listed module exists and is imported lazily somewhere", () => {
  const used = new Set(calls().map((c) => c.named));
  for (const module of LAZY_MODULES) {
    assert.ok(Deno.statSync(new URL(module, ROOT)).isFile, module);
    assert.ok(used.has(module), `${module} is listed but no lazyImport names it`);
  }
});

Deno.test("no module is imported by a computed specifier except through lazyImport", () => {
  for (const file of sources()) {
    if (file === "core/lazy.ts") continue;
    const source = Deno.readTextFileSync(new URL(file, ROOT)).replace(/^\s*(\/\/|\*).*$/gm, "");
    // import("literal") is walked by Deno and deno compile alike; `typeof import(…)` is a type.
    for (const m of source.matchAll(/(?<!typeof\s*)\bimport\(\s*([^\s)])/g)) {
      assert.match(m[1], /["']/, `${file}: import() of a computed specifier; use lazyImport`);
    }
  }
});

Deno.test("deno task compile includes every listed module, as the bundle has it", () => {
  const args = compileArgs();
  const included = args.flatMap((a, i) => args[i - 1] === "--include" ? [a] : []);
  assert.deepEqual(included, LAZY_MODULES.map((m) => `dist/${bundledPath(m)}`));
});

Deno.test("lazyImport finds a module beside the sources, or in the bundle it was bundled into", () => {
  const here = new URL("core/lazy.ts", ROOT).href;
  for (const module of LAZY_MODULES) {
    assert.equal(lazyUrl(module, here), new URL(module, ROOT).href);
    assert.equal(
      lazyUrl(module, "file:///opt/ww/dist/chunk-X1.js"),
      `file:///opt/ww/dist/${module.replace(/\.ts$/, ".js")}`,
    );
  }
  // A bundle's main.js, when deno bundle leaves core/lazy.ts in it rather than in a chunk.
  assert.equal(lazyUrl("rpc/host.ts", "file:///b/main.js"), "file:///b/rpc/host.js");
});
