// scripts/bundle_test.ts — the pure helpers of scripts/bundle.ts: the specifiers a bundled file
// imports, which its minifying leaves external, and the arguments of that deno bundle.

import assert from "node:assert/strict";
import { importedSpecifiers, rebundleArgs } from "./bundle.ts";

Deno.test("importedSpecifiers: static, bare and literal dynamic imports, in deno bundle's layout and minified", () => {
  const laidOut = [
    'import {\n  a$X as a\n} from "./main-chunks.js";',
    'import "../chunk-AB.js";',
    'export { b } from "./chunk-CD.js";',
    'const m = await import("../src-EF.js");',
  ].join("\n");
  assert.deepEqual(importedSpecifiers(laidOut), [
    "./main-chunks.js",
    "../chunk-AB.js",
    "./chunk-CD.js",
    "../src-EF.js",
  ]);
  const minified = 'import{a$X as a}from"./main-chunks.js";import"../chunk-AB.js";' +
    "let m=await import('../src-EF.js');";
  assert.deepEqual(importedSpecifiers(minified), [
    "./main-chunks.js",
    "../chunk-AB.js",
    "../src-EF.js",
  ]);
});

Deno.test("importedSpecifiers: each specifier once, and none from a computed import()", () => {
  const text =
    'import "./a.js";\nimport { x } from "./a.js";\nimport(lazyUrl(m, import.meta.url));';
  assert.deepEqual(importedSpecifiers(text), ["./a.js"]);
});

Deno.test("rebundleArgs: the file minified into out, every import of it external", () => {
  assert.deepEqual(rebundleArgs("/d/run/x.js", "/d/run/x.js.min", ["../a.js", "../b.js"], true), [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    "--minify",
    "--external",
    "../a.js",
    "--external",
    "../b.js",
    "-o",
    "/d/run/x.js.min",
    "/d/run/x.js",
  ]);
});

Deno.test("rebundleArgs: unminified by default, as a merge of chunks is bundled", () => {
  assert.deepEqual(rebundleArgs("/d/m-entry.js", "/d/m.js", ["./main.js"]), [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    "--external",
    "./main.js",
    "-o",
    "/d/m.js",
    "/d/m-entry.js",
  ]);
});
