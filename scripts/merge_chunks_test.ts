import assert from "node:assert/strict";
import {
  chunkExports,
  chunkImports,
  chunksOnlyFor,
  evaluationOrder,
  mergedName,
  mergeEntry,
  rewriteImports,
  smallSharedChunks,
  splitChunksOnlyFor,
} from "./merge_chunks.ts";

const MAIN = `import {
  a,
  b
} from "./chunk-AAA.js";
import "./chunk-BBB.js";
import {
  decode as decode2
} from "./chunk-CCC.js";

// main.ts
console.log(a, b, decode2, import("./src-XYZ.js"));
`;

Deno.test("chunkImports lists the static chunk imports in order, not import() of other files", () => {
  assert.deepEqual(chunkImports(MAIN), ["chunk-AAA.js", "chunk-BBB.js", "chunk-CCC.js"]);
  assert.deepEqual(chunkImports('import {\n  x\n} from "../../chunk-Q1.js";\n'), ["chunk-Q1.js"]);
  assert.deepEqual(chunkImports("const s = 'import \"./chunk-A.js\";';\n"), []);
});

Deno.test("chunkExports names what a chunk exports, the right-hand side of `as`", () => {
  assert.deepEqual(chunkExports("var x;\nexport {\n  x,\n  decode4 as decode\n};\n"), [
    "x",
    "decode",
  ]);
  assert.deepEqual(chunkExports("console.log(1);\n"), []);
});

Deno.test("evaluationOrder is depth first, each chunk after its imports, each once", () => {
  const graph: Record<string, string[]> = {
    "a.js": ["c.js", "b.js"],
    "b.js": ["c.js"],
    "c.js": [],
    "d.js": ["b.js"],
  };
  assert.deepEqual(evaluationOrder(["a.js", "d.js"], (c) => graph[c]), [
    "c.js",
    "b.js",
    "a.js",
    "d.js",
  ]);
});

Deno.test("two chunks' exports of one name stay apart in the merged file", () => {
  const entry = mergeEntry(
    ["chunk-AAA.js", "chunk-BBB.js", "chunk-CCC.js"],
    (c) => ({ "chunk-AAA.js": ["decode"], "chunk-BBB.js": [], "chunk-CCC.js": ["decode"] })[c]!,
  );
  assert.equal(
    entry,
    'export { decode as decode$AAA } from "./chunk-AAA.js";\n' +
      'import "./chunk-BBB.js";\n' +
      'export { decode as decode$CCC } from "./chunk-CCC.js";\n',
  );
  assert.equal(mergedName("default", "chunk-X9.js"), "default$X9");
});

Deno.test("rewriteImports points merged chunks at the merged file, keeping local names and paths", () => {
  const merged = new Set(["chunk-AAA.js", "chunk-BBB.js", "chunk-CCC.js"]);
  assert.equal(
    rewriteImports(MAIN, merged, "main-chunks.js"),
    `import { a$AAA as a, b$AAA as b } from "./main-chunks.js";
import "./main-chunks.js";
import { decode$CCC as decode2 } from "./main-chunks.js";

// main.ts
console.log(a, b, decode2, import("./src-XYZ.js"));
`,
  );
  // A lazy module one folder down, importing a merged chunk and one that is not.
  assert.equal(
    rewriteImports(
      'import {\n  x\n} from "../chunk-AAA.js";\nimport "../chunk-ZZZ.js";\n',
      merged,
      "main-chunks.js",
    ),
    'import { x$AAA as x } from "../main-chunks.js";\nimport "../chunk-ZZZ.js";\n',
  );
});

Deno.test("chunksOnlyFor keeps the chunks only the group reaches, through any depth, in order", () => {
  const graph: Record<string, string[]> = {
    "bwrap.js": ["c-A.js", "c-S.js"],
    "native.js": ["c-B.js"],
    "tty.js": ["c-T.js"],
    "c-A.js": ["c-B.js"],
    "c-B.js": ["c-T.js"],
    "c-S.js": [],
    "c-T.js": [],
  };
  const importsOf = (f: string) => graph[f];
  assert.deepEqual(chunksOnlyFor(["bwrap.js", "native.js"], ["tty.js"], importsOf), [
    "c-B.js",
    "c-A.js",
    "c-S.js",
  ]);
  // A chunk another module reaches only through a chunk of its own is not the group's either.
  assert.deepEqual(chunksOnlyFor(["bwrap.js"], ["native.js"], importsOf), ["c-A.js", "c-S.js"]);
  assert.deepEqual(chunksOnlyFor(["tty.js"], ["bwrap.js"], importsOf), []);
  assert.deepEqual(chunksOnlyFor([], ["tty.js"], importsOf), []);
});

Deno.test("splitChunksOnlyFor parts the group's own chunks by whether its first file loads them", () => {
  const graph: Record<string, string[]> = {
    "bwrap.js": ["c-A.js", "c-M.js"],
    "native.js": ["c-N.js", "c-A.js"],
    "doctor.js": ["c-N.js", "c-D.js"],
    "c-N.js": ["c-A.js", "c-L.js"],
    "main.js": ["c-M.js"],
  };
  const importsOf = (f: string) => graph[f] ?? [];
  const group = ["bwrap.js", "native.js", "doctor.js"];
  assert.deepEqual(splitChunksOnlyFor("bwrap.js", group, ["main.js"], importsOf), {
    first: ["c-A.js"],
    rest: ["c-L.js", "c-N.js", "c-D.js"],
  });
  // A chunk the first file reaches through another is its part too.
  assert.deepEqual(splitChunksOnlyFor("native.js", group, ["main.js"], importsOf), {
    first: ["c-A.js", "c-L.js", "c-N.js"],
    rest: ["c-D.js"],
  });
  assert.deepEqual(splitChunksOnlyFor("bwrap.js", ["bwrap.js"], ["bwrap.js"], importsOf), {
    first: [],
    rest: [],
  });
});

Deno.test("smallSharedChunks takes the launchers' small shared chunks whose imports main.js loads", () => {
  const graph: Record<string, string[]> = {
    "bwrap.js": ["c-L.js", "c-J.js", "c-T.js", "c-D.js"],
    "native.js": ["c-N.js", "c-L.js"],
    "c-L.js": ["c-M.js"], // shared with a terminal's module, small, imports main's: taken
    "c-T.js": ["c-L.js"], // imports another taken one: taken, after it
    "c-D.js": ["c-J.js"], // imports the launchers' own chunk: left
    "c-N.js": ["c-X.js"], // imports a large chunk main.js does not load: left
    "c-B.js": [],
  };
  const importsOf = (f: string) => graph[f] ?? [];
  const size = (c: string) =>
    c === "c-J.js" ? 40_000 : ["c-B.js", "c-X.js"].includes(c) ? 5000 : 500;
  const take = (launchers: string[], limit = 2048) =>
    smallSharedChunks(launchers, ["c-M.js"], ["c-J.js"], importsOf, size, limit);
  assert.deepEqual(take(["bwrap.js", "native.js"]), ["c-L.js", "c-T.js"]);
  assert.deepEqual(take(["native.js"]), ["c-L.js"]);
  // Too large: left as a file of its own, and what imports it with it.
  assert.deepEqual(take(["bwrap.js"], 400), []);
  graph["bwrap.js"].push("c-B.js");
  assert.deepEqual(take(["bwrap.js"]), ["c-L.js", "c-T.js"]);
  // main.js's own chunks are already its.
  assert.deepEqual(take(["c-M.js"]), []);
});
