// scripts/eager_compile.ts — which of the bundle's functions V8 should compile when it compiles
// a file, and the rewrite that makes it do so. Pure.
//
// V8 compiles a function lazily, on its first call, unless the function is wrapped in
// parentheses (a "possibly invoked function expression"), and Deno makes a module's code cache
// when it compiles the module: so the cache holds none of the functions a run calls, and every
// `ww run` parsed and compiled ~150 of them again (~4 ms of the ~15 ms ww adds to an empty
// `deno run`; issue 13). The bundle build runs ww once per backend with coverage
// (scripts/bundle.ts), and each top-level function that one of these runs called becomes
// `var f = (function f(…) {…});` at the start of its file (where hoisting would have put it: see
// eagerFunctions), compiled with its file and kept in the cache.

import * as acorn from "npm:acorn@8.14.0";

/** A V8 coverage record of one script, as `deno run --coverage` writes it. */
export interface ScriptCoverage {
  readonly url: string;
  readonly functions: readonly {
    readonly functionName: string;
    readonly ranges: readonly { readonly count: number }[];
  }[];
}

/**
 * For each script, by URL, the names of the functions that any of `runs` (each run's coverage
 * records) called. A function compiled with its file costs a run that does not call it only the
 * reading of its compiled code from Deno's cache, which measured nothing against an unjailed
 * run's other work once the jails' functions joined main-chunks.js (issue 13); a function left
 * lazy costs the run that calls it its parsing and compiling.
 *
 * @example
 * const run = (url: string, names: string[]) => [{ url, functions:
 *   names.map((functionName) => ({ functionName, ranges: [{ count: 1 }] })) }];
 * calledByAnyRun([run("file:///d/main.js", ["main", "direct"]),
 *   [...run("file:///d/main.js", ["main", "jail"]), ...run("file:///d/jail.js", ["lease"])]]);
 * // Map { "file:///d/main.js" => Set { "main", "direct", "jail" }, "file:///d/jail.js" => Set { "lease" } }
 */
export function calledByAnyRun(
  runs: readonly (readonly ScriptCoverage[])[],
): Map<string, Set<string>> {
  const called = new Map<string, Set<string>>();
  for (const script of runs.flat()) {
    const names = called.get(script.url) ?? new Set<string>();
    for (const f of script.functions) {
      if (f.functionName !== "" && (f.ranges[0]?.count ?? 0) > 0) names.add(f.functionName);
    }
    called.set(script.url, names);
  }
  return called;
}

/**
 * `source` (an ES module) with each top-level function declaration named in `hot` rewritten as a
 * parenthesized function expression assigned to a `var` of its name, which V8 compiles eagerly,
 * and moved to the start of the module; and the names rewritten. A declaration is hoisted: its
 * function exists before any of the module's code runs, and so does the moved `var`'s, since
 * creating a function runs none of its code. Only another module that this one imports could run
 * before it and find the `var` empty, by calling back into it while being evaluated: no bundle
 * file can, as deno bundle's chunks import one another without cycles (a chunk imports only
 * chunks that more entry points share) and merged chunks import none of those that import them.
 *
 * @example
 * eagerFunctions("run();\nfunction run() {}\nfunction cold() {}\n", new Set(["run"])).text;
 * // "var run = (function run() {});\nrun();\n\nfunction cold() {}\n"
 */
export function eagerFunctions(
  source: string,
  hot: ReadonlySet<string>,
): { text: string; rewritten: string[] } {
  const program = acorn.parse(source, { ecmaVersion: "latest", sourceType: "module" });
  const moved = program.body.filter((node): node is acorn.FunctionDeclaration =>
    node.type === "FunctionDeclaration" && hot.has(node.id.name)
  );
  let text = source;
  for (const node of moved.toReversed()) text = text.slice(0, node.start) + text.slice(node.end);
  const top = moved.map((node) =>
    `var ${node.id.name} = (${source.slice(node.start, node.end)});\n`
  );
  return { text: top.join("") + text, rewritten: moved.map((node) => node.id.name) };
}
