// scripts/eager_compile.ts — which of the bundle's functions V8 should compile when it compiles
// a file, and the rewrite that makes it do so. Pure.
//
// V8 compiles a function lazily, on its first call, unless the function is wrapped in
// parentheses (a "possibly invoked function expression"), and Deno makes a module's code cache
// when it compiles the module: so the cache holds none of the functions a run calls, and every
// `ww run` parsed and compiled ~150 of them again (~4 ms of the ~15 ms ww adds to an empty
// `deno run`; issue 13). The bundle build runs ww once per backend with coverage
// (scripts/bundle.ts), and each top-level function that the first run to load its file called
// becomes `var f = (function f(…) {…});`, compiled with its file and kept in the cache.
//
// A function declaration is hoisted and the `var` is not: a function that top-level code of its
// file may reach before its declaration is left as it is (see eagerFunctions).

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
 * For each script, by URL, the names of the functions that the first of `runs` (each run's
 * coverage records, the run that matters most first) to load it called. A function compiled
 * with its file is compiled for every run that loads the file, and a run that does not call it
 * pays for it: the file is made for the first run that needs it.
 *
 * @example
 * const run = (url: string, names: string[]) => [{ url, functions:
 *   names.map((functionName) => ({ functionName, ranges: [{ count: 1 }] })) }];
 * calledByFirstLoader([run("file:///d/main.js", ["main", "direct"]),
 *   [...run("file:///d/main.js", ["main", "jail"]), ...run("file:///d/jail.js", ["lease"])]]);
 * // Map { "file:///d/main.js" => Set { "main", "direct" }, "file:///d/jail.js" => Set { "lease" } }
 */
export function calledByFirstLoader(
  runs: readonly (readonly ScriptCoverage[])[],
): Map<string, Set<string>> {
  const called = new Map<string, Set<string>>();
  for (const run of runs) {
    const claimed = new Set(called.keys()); // loaded by an earlier run
    for (const script of run) {
      if (claimed.has(script.url)) continue;
      const names = called.get(script.url) ?? new Set<string>();
      for (const f of script.functions) {
        if (f.functionName !== "" && (f.ranges[0]?.count ?? 0) > 0) names.add(f.functionName);
      }
      called.set(script.url, names);
    }
  }
  return called;
}

/**
 * `source` (an ES module) with each top-level function declaration named in `hot` rewritten as a
 * parenthesized function expression assigned to a `var` of its name, which V8 compiles eagerly;
 * and the names rewritten. A declaration is hoisted and the `var` is not, so a function stays as
 * it is when the module's top-level code may refer to it before its declaration: directly, or
 * through the body of a function or the methods of a class that code refers to (and so on).
 *
 * @example
 * eagerFunctions("run();\nfunction run() {}\nfunction go() {}\n", new Set(["run", "go"])).text;
 * // "run();\nfunction run() {}\nvar go = (function go() {});\n"
 */
export function eagerFunctions(
  source: string,
  hot: ReadonlySet<string>,
): { text: string; rewritten: string[] } {
  const program = acorn.parse(source, { ecmaVersion: "latest", sourceType: "module" });
  // Every identifier the body of each top-level function or class (its methods) refers to,
  // nested functions' included: what calling it, or constructing it, may reach.
  const bodies = new Map<string, Set<string>>();
  for (const node of program.body) {
    if (node.type === "FunctionDeclaration" || node.type === "ClassDeclaration") {
      bodies.set(node.id!.name, names(node.body, true));
    }
  }
  // What the module's code has referred to so far, with what that reaches through bodies.
  const reached = new Set<string>();
  const reach = (found: Set<string>) => {
    const todo = [...found];
    while (todo.length > 0) {
      const name = todo.pop()!;
      if (reached.has(name)) continue;
      reached.add(name);
      for (const next of bodies.get(name) ?? []) todo.push(next);
    }
  };
  const edits: { start: number; end: number; name: string }[] = [];
  for (const node of program.body) {
    if (node.type === "FunctionDeclaration") {
      if (hot.has(node.id.name) && !reached.has(node.id.name)) {
        edits.push({ start: node.start, end: node.end, name: node.id.name });
      }
    } else if (node.type === "ClassDeclaration") {
      // Defining a class runs its heritage and static initializers, not its methods.
      reach(names({ ...node, id: null } as acorn.Node, false));
    } else {
      reach(names(node, false));
    }
  }
  let text = source;
  for (const { start, end, name } of edits.toReversed()) {
    text = `${text.slice(0, start)}var ${name} = (${text.slice(start, end)});${text.slice(end)}`;
  }
  return { text, rewritten: edits.map((e) => e.name) };
}

/**
 * The identifiers `node` refers to: all of them with `nested`, else only those it evaluates
 * when it runs (not those in the bodies of the functions it defines).
 */
function names(node: acorn.Node, nested: boolean): Set<string> {
  const found = new Set<string>();
  const visit = (n: unknown): void => {
    if (n === null || typeof n !== "object") return;
    if (Array.isArray(n)) {
      for (const item of n) visit(item);
      return;
    }
    const t = (n as { type?: unknown }).type;
    if (typeof t !== "string") return;
    if (!nested && FUNCTIONS.has(t)) return;
    if (t === "Identifier") found.add((n as acorn.Identifier).name);
    for (const [key, value] of Object.entries(n)) {
      if (key !== "type" && key !== "start" && key !== "end" && key !== "loc") visit(value);
    }
  };
  visit(node);
  return found;
}

/** The nodes whose bodies run only when called. */
const FUNCTIONS = new Set(["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"]);
