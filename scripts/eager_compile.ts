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
// eagerFunctions), compiled with its file and kept in the cache. A called function expression or
// arrow function anywhere else (a callback, a closure a function returns) is wrapped in
// parentheses where it stands, which V8 takes as the same hint: a `ww run --jail=bwrap` still
// compiled ~190 of those on every run (~3 ms). Methods cannot be wrapped and stay lazy.

import * as acorn from "npm:acorn@8.14.0";

/** A V8 coverage record of one script, as `deno run --coverage` writes it. */
export interface ScriptCoverage {
  readonly url: string;
  readonly functions: readonly {
    readonly functionName: string;
    /** The first is the function's own: where its source starts in the script, and its calls. */
    readonly ranges: readonly { readonly startOffset: number; readonly count: number }[];
  }[];
}

/** The functions of one script that a run called: by name, and by where their source starts. */
export interface CalledFunctions {
  readonly names: Set<string>;
  readonly starts: Set<number>;
}

/**
 * For each script, by URL, the functions that any of `runs` (each run's coverage records) called.
 * A function compiled with its file costs a run that does not call it only the reading of its
 * compiled code from Deno's cache, which measured nothing against an unjailed run's other work
 * once the jails' functions joined main-chunks.js (issue 13); a function left lazy costs the run
 * that calls it its parsing and compiling.
 *
 * @example
 * const run = (url: string, names: string[]) => [{ url, functions: names.map((functionName, i) =>
 *   ({ functionName, ranges: [{ startOffset: 10 * i, count: 1 }] })) }];
 * calledByAnyRun([run("file:///d/main.js", ["main", "direct"]),
 *   [...run("file:///d/main.js", ["main", "jail"]), ...run("file:///d/jail.js", ["lease"])]]);
 * // Map {
 * //   "file:///d/main.js" => { names: Set { "main", "direct", "jail" }, starts: Set { 0, 10 } },
 * //   "file:///d/jail.js" => { names: Set { "lease" }, starts: Set { 0 } } }
 */
export function calledByAnyRun(
  runs: readonly (readonly ScriptCoverage[])[],
): Map<string, CalledFunctions> {
  const called = new Map<string, CalledFunctions>();
  for (const script of runs.flat()) {
    const of = called.get(script.url) ?? { names: new Set<string>(), starts: new Set<number>() };
    for (const f of script.functions) {
      const own = f.ranges[0];
      if (own === undefined || own.count === 0) continue;
      if (f.functionName !== "") of.names.add(f.functionName);
      of.starts.add(own.startOffset);
    }
    called.set(script.url, of);
  }
  return called;
}

/**
 * `source` (an ES module) rewritten so that V8 compiles the functions of `called` with the file:
 * each top-level function declaration named in it becomes a parenthesized function expression
 * assigned to a `var` of its name, moved to the start of the module (`rewritten` names them); and
 * each other function expression or arrow function that starts where a called one does is wrapped
 * in parentheses where it stands (`wrapped` counts them), which changes no expression's meaning;
 * V8 takes no such hint for an async arrow, so one that does not use its surroundings' `this`,
 * `arguments`, `super` or `new.target` becomes the async function expression it is equal to.
 * A declaration is hoisted: its function exists before any of the module's code runs, and so does
 * the moved `var`'s, since creating a function runs none of its code. Only another module that
 * this one imports could run before it and find the `var` empty, by calling back into it while
 * being evaluated: no bundle file can, as deno bundle's chunks import one another without cycles
 * (a chunk imports only chunks that more entry points share) and merged chunks import none of
 * those that import them.
 *
 * @example
 * const source = "run();\nfunction run() { [1].map((n) => n); }\nfunction cold() {}\n";
 * eagerFunctions(source, { names: new Set(["run"]), starts: new Set([32]) }).text;
 * // "var run = (function run() { [1].map(((n) => n)); });\nrun();\n;\nfunction cold() {}\n"
 */
export function eagerFunctions(
  source: string,
  called: CalledFunctions,
): { text: string; rewritten: string[]; wrapped: number } {
  const nested = calledExpressions(
    acorn.parse(source, { ecmaVersion: "latest", sourceType: "module" }),
    called.starts,
  );
  const wrappedText = wrapNested(source, nested);
  const program = acorn.parse(wrappedText, { ecmaVersion: "latest", sourceType: "module" });
  // A function the module assigns to keeps its declaration: inside a function expression, its
  // own name is a binding of its own, which an assignment would not reach (or would throw on).
  const assigned = assignedNames(program);
  const moved = program.body.filter((node): node is acorn.FunctionDeclaration =>
    node.type === "FunctionDeclaration" && called.names.has(node.id.name) &&
    !assigned.has(node.id.name)
  );
  // Each declaration leaves an empty statement: without semicolons in the source, the statements
  // around it would otherwise read as one.
  let text = wrappedText;
  for (const node of moved.toReversed()) {
    text = `${text.slice(0, node.start)};${text.slice(node.end)}`;
  }
  const top = moved.map((node) =>
    `var ${node.id.name} = (${wrappedText.slice(node.start, node.end)});\n`
  );
  return {
    text: top.join("") + text,
    rewritten: moved.map((node) => node.id.name),
    wrapped: nested.length,
  };
}

/**
 * The function expressions and arrow functions of `program` that start at one of `starts`, but
 * not methods, getters and setters (their function is not an expression that parentheses could
 * wrap).
 */
function calledExpressions(program: acorn.Program, starts: ReadonlySet<number>): acorn.Node[] {
  const found: acorn.Node[] = [];
  const visit = (node: acorn.Node, parent: acorn.Node | undefined) => {
    if (
      (node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression") &&
      methodOf(parent) === undefined && starts.has(node.start)
    ) {
      found.push(node);
    }
    for (const child of childNodes(node)) visit(child, node);
  };
  visit(program, undefined);
  return found;
}

/**
 * Whose method a function directly under `parent` is: a class's (a method, accessor or
 * constructor) or an object's (a method, getter or setter); undefined when it is an expression
 * that parentheses could wrap. V8 compiles a method on its first call, whatever surrounds it.
 */
export function methodOf(parent: acorn.Node | undefined): "class" | "object" | undefined {
  if (parent?.type === "MethodDefinition") return "class";
  const property = parent?.type === "Property" ? parent as acorn.Property : undefined;
  return property && (property.method || property.kind !== "init") ? "object" : undefined;
}

/** The nodes directly under `node`. */
export function childNodes(node: acorn.Node): acorn.Node[] {
  const children: acorn.Node[] = [];
  for (const value of Object.values(node)) {
    for (const child of Array.isArray(value) ? value : [value]) {
      if (isNode(child)) children.push(child);
    }
  }
  return children;
}

/**
 * `source` with each of `nodes` (which nest, or are apart) wrapped in parentheses, an async arrow
 * that uses nothing of its surroundings' own as an async function expression: the same function
 * but for its kind, which nothing can tell from a call (neither is a constructor).
 */
function wrapNested(source: string, nodes: readonly acorn.Node[]): string {
  const sorted = nodes.toSorted((a, b) => a.start - b.start || b.end - a.end);
  let next = 0;
  // The text of source from `from` to `to`, with the nodes that start in it rewritten.
  const render = (from: number, to: number): string => {
    let text = "";
    let at = from;
    while (next < sorted.length && sorted[next].start < to) {
      const node = sorted[next++];
      text += source.slice(at, node.start) + rewrite(node);
      at = node.end;
    }
    return text + source.slice(at, to);
  };
  const rewrite = (node: acorn.Node): string => {
    const arrow = node as acorn.ArrowFunctionExpression;
    if (node.type !== "ArrowFunctionExpression" || !arrow.async || usesOwnOfSurroundings(arrow)) {
      return `(${render(node.start, node.end)})`;
    }
    const params = arrow.params.length === 0
      ? ""
      : render(arrow.params[0].start, arrow.params.at(-1)!.end);
    const body = arrow.expression
      ? `{ return ${render(arrow.body.start, arrow.body.end)}; }`
      : render(arrow.body.start, arrow.body.end);
    return `(async function (${params}) ${body})`;
  };
  return render(0, source.length);
}

/**
 * Whether anything in `arrow` (functions in it included: a conservative answer) names `this`,
 * `arguments`, `super` or `new.target`, which an arrow takes from its surroundings and a function
 * expression has of its own, or calls `eval`, whose string may name them.
 */
function usesOwnOfSurroundings(arrow: acorn.ArrowFunctionExpression): boolean {
  const uses = (node: acorn.Node): boolean => {
    if (
      node.type === "ThisExpression" || node.type === "Super" || node.type === "MetaProperty" ||
      // A direct eval may name any of them in its string.
      (node.type === "Identifier" &&
        ["arguments", "eval"].includes((node as acorn.Identifier).name))
    ) {
      return true;
    }
    return childNodes(node).some(uses);
  };
  return uses(arrow);
}

/** Every name that `program` assigns to anywhere (`f = …`, `f++`, `[f] = …`, `for (f of …)`). */
function assignedNames(program: acorn.Program): Set<string> {
  const names = new Set<string>();
  const targets = (node: acorn.Node | null | undefined): void => {
    if (!node) return;
    if (node.type === "Identifier") names.add((node as acorn.Identifier).name);
    else if (node.type === "ObjectPattern") {
      for (const p of (node as acorn.ObjectPattern).properties) {
        targets(p.type === "RestElement" ? p.argument : p.value);
      }
    } else if (node.type === "ArrayPattern") {
      for (const e of (node as acorn.ArrayPattern).elements) targets(e);
    } else if (node.type === "RestElement") targets((node as acorn.RestElement).argument);
    else if (node.type === "AssignmentPattern") targets((node as acorn.AssignmentPattern).left);
  };
  const visit = (node: acorn.Node): void => {
    if (node.type === "AssignmentExpression") targets((node as acorn.AssignmentExpression).left);
    if (node.type === "UpdateExpression") targets((node as acorn.UpdateExpression).argument);
    if (node.type === "ForInStatement" || node.type === "ForOfStatement") {
      const left = (node as acorn.ForInStatement).left;
      if (left.type !== "VariableDeclaration") targets(left);
    }
    for (const child of childNodes(node)) visit(child);
  };
  visit(program);
  return names;
}

function isNode(value: unknown): value is acorn.Node {
  return typeof value === "object" && value !== null &&
    typeof (value as { type?: unknown }).type === "string";
}
