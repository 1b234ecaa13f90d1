// scripts/merge_chunks.ts — the text work of merging main.js's static chunks into one file (see
// scripts/bundle.ts, which runs it). deno bundle's code splitting makes a chunk for every set of
// entry points that share code, and main.js imported 22 of them: Deno opens, parses and links each
// one before ww runs, and a bundle of main.ts in one file started ~6 ms sooner. The merged file
// holds every chunk main.js loads anyway, re-exported under names that say which chunk they came
// from, so the lazy modules, which import some of the same chunks, still share its one copy of
// each module. Pure: text in, text out; scripts/bundle.ts reads and writes the files.

/** One static import of a chunk, as deno bundle writes them: a line of its own, or a block. */
const CHUNK_IMPORT =
  /^import\s*(?:\{([^}]*)\}\s*from\s*)?"((?:\.\.?\/)+)(chunk-[A-Za-z0-9_-]+\.js)";$/gm;

/** A chunk's one export statement, its last: `export {\n  a,\n  b as c\n};`. */
const EXPORTS = /^export\s*\{([^}]*)\};?\s*$/m;

/** What an import or export list names: `a` or `a as b`, as [name, local]. */
function specifiers(list: string): [string, string][] {
  return list.split(",").map((s) => s.trim()).filter((s) => s !== "").map((s) => {
    const [name, local] = s.split(/\s+as\s+/);
    return [name, local ?? name];
  });
}

/**
 * The chunks that a bundle file imports statically, by file name, in the order of its imports.
 *
 * @example
 * chunkImports('import {\n  a\n} from "../chunk-AB.js";\nimport "./chunk-CD.js";\n');
 * // ["chunk-AB.js", "chunk-CD.js"]
 */
export function chunkImports(text: string): string[] {
  return [...text.matchAll(CHUNK_IMPORT)].map((m) => m[3]);
}

/**
 * The names a chunk exports (the right-hand name of `a as b`).
 *
 * @example
 * chunkExports("var a = 1;\nexport {\n  a,\n  c as d\n};\n");
 * // ["a", "d"]
 */
export function chunkExports(text: string): string[] {
  const m = EXPORTS.exec(text);
  return m ? specifiers(m[1]).map(([, exported]) => exported) : [];
}

/**
 * The chunks that `entry`'s static imports reach, in the order the module loader evaluates them
 * (depth first, each after the chunks it imports).
 *
 * @example
 * evaluationOrder(["a.js", "b.js"], (c) => c === "a.js" ? ["b.js"] : []);
 * // ["b.js", "a.js"]
 */
export function evaluationOrder(
  entry: readonly string[],
  importsOf: (chunk: string) => readonly string[],
): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (chunk: string) => {
    if (seen.has(chunk)) return;
    seen.add(chunk);
    for (const dep of importsOf(chunk)) visit(dep);
    order.push(chunk);
  };
  for (const chunk of entry) visit(chunk);
  return order;
}

/**
 * The chunks that the files of `group` reach and no file of `others` reaches, in evaluation
 * order: what only those modules load, which can then be one file for them without anyone else
 * loading more. `importsOf` gives a file's chunk imports (entries and chunks alike).
 *
 * @example
 * const graph: Record<string, string[]> = {
 *   "jail.js": ["c-A.js", "c-B.js"], "tty.js": ["c-B.js"], "c-A.js": [], "c-B.js": [],
 * };
 * chunksOnlyFor(["jail.js"], ["tty.js"], (f) => graph[f]);
 * // ["c-A.js"]
 */
export function chunksOnlyFor(
  group: readonly string[],
  others: readonly string[],
  importsOf: (file: string) => readonly string[],
): string[] {
  const elsewhere = new Set(evaluationOrder(others.flatMap(importsOf), importsOf));
  return evaluationOrder(group.flatMap(importsOf), importsOf).filter((c) => !elsewhere.has(c));
}

/**
 * chunksOnlyFor(group, others), split by whether `first` (one of `group`) loads them: the first
 * file's part and the rest's, each in evaluation order.
 *
 * @example
 * const graph: Record<string, string[]> = {
 *   "bwrap.js": ["c-A.js"], "native.js": ["c-A.js", "c-B.js"], "main.js": [],
 * };
 * splitChunksOnlyFor("bwrap.js", ["bwrap.js", "native.js"], ["main.js"], (f) => graph[f] ?? []);
 * // { first: ["c-A.js"], rest: ["c-B.js"] }
 */
export function splitChunksOnlyFor(
  first: string,
  group: readonly string[],
  others: readonly string[],
  importsOf: (file: string) => readonly string[],
): { first: string[]; rest: string[] } {
  const only = chunksOnlyFor(group, others, importsOf);
  const loaded = new Set(evaluationOrder(importsOf(first), importsOf));
  return { first: only.filter((c) => loaded.has(c)), rest: only.filter((c) => !loaded.has(c)) };
}

/**
 * The small chunks that `launchers` load beside main.js's own (`mainOrder`) which are not theirs
 * alone (`jailOnly`, merged apart): a chunk the launchers share with an unjailed lazy module (a
 * terminal's, a lock's, a limit's) stayed a file of its own, and a jailed run paid each file's
 * load (~0.2 ms, issue 13) for a few hundred bytes. One of at most `limit` bytes (`sizeOf`) that
 * imports only main.js's chunks and others of these joins main.js's: an unjailed run then loads
 * those bytes too (~0.03 ms a KB), and nothing more, since all they import is loaded already. In
 * evaluation order, after main.js's.
 *
 * @example
 * const graph: Record<string, string[]> = {
 *   "bwrap.js": ["c-M.js", "c-L.js", "c-J.js", "c-S.js"], "c-L.js": ["c-M.js"],
 *   "c-S.js": ["c-X.js"],
 * };
 * const size: Record<string, number> = { "c-L.js": 900, "c-J.js": 40000, "c-S.js": 300 };
 * smallSharedChunks(["bwrap.js"], ["c-M.js"], ["c-J.js"], (f) => graph[f] ?? [],
 *   (c) => size[c] ?? 99999, 2048);
 * // ["c-L.js"]
 */
export function smallSharedChunks(
  launchers: readonly string[],
  mainOrder: readonly string[],
  jailOnly: readonly string[],
  importsOf: (file: string) => readonly string[],
  sizeOf: (chunk: string) => number,
  limit: number,
): string[] {
  const main = new Set(mainOrder);
  const mine = new Set(jailOnly);
  const small = evaluationOrder(launchers.flatMap(importsOf), importsOf)
    .filter((c) => !main.has(c) && !mine.has(c) && sizeOf(c) <= limit);
  // Evaluation order puts a chunk after what it imports, so one pass sees each import decided.
  const taken = new Set<string>();
  for (const c of small) {
    if (importsOf(c).every((dep) => main.has(dep) || taken.has(dep))) taken.add(c);
  }
  return small.filter((c) => taken.has(c));
}

/**
 * The name under which the merged file exports `name` of `chunk`: two chunks may export the
 * same name (npm code does), one merged file cannot.
 *
 * @example
 * mergedName("decode", "chunk-AB12.js");
 * // "decode$AB12"
 */
export function mergedName(name: string, chunk: string): string {
  return `${name}$${chunk.replace(/^chunk-|\.js$/g, "")}`;
}

/**
 * The module that the merged file is bundled from: every chunk of `order` imported in that order
 * (so they are evaluated as they were), each export re-exported under its mergedName.
 *
 * @example
 * mergeEntry(["chunk-A.js", "chunk-B.js"], (c) => c === "chunk-A.js" ? ["x"] : []);
 * // 'export { x as x$A } from "./chunk-A.js";\nimport "./chunk-B.js";\n'
 */
export function mergeEntry(
  order: readonly string[],
  exportsOf: (chunk: string) => readonly string[],
): string {
  return order.map((chunk) => {
    const names = exportsOf(chunk);
    if (names.length === 0) return `import "./${chunk}";\n`;
    const list = names.map((n) => `${n} as ${mergedName(n, chunk)}`).join(", ");
    return `export { ${list} } from "./${chunk}";\n`;
  }).join("");
}

/**
 * `text` (a bundle file) with every import of a chunk of `merged` taken from `mergedFile` (a
 * file name beside the chunks) instead, under the names mergeEntry gave them.
 *
 * @example
 * rewriteImports('import {\n  a\n} from "../chunk-A.js";\n', new Set(["chunk-A.js"]), "m.js");
 * // 'import { a$A as a } from "../m.js";\n'
 */
export function rewriteImports(
  text: string,
  merged: ReadonlySet<string>,
  mergedFile: string,
): string {
  return text.replace(CHUNK_IMPORT, (line, list: string | undefined, up: string, chunk: string) => {
    if (!merged.has(chunk)) return line;
    if (list === undefined) return `import "${up}${mergedFile}";`;
    const names = specifiers(list).map(([name, local]) => `${mergedName(name, chunk)} as ${local}`);
    return `import { ${names.join(", ")} } from "${up}${mergedFile}";`;
  });
}
