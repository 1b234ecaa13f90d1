// scripts/eager_compile.ts: which functions a run called, and the rewrite that has V8 compile
// them with their file, which must leave the module's meaning as it was.
import assert from "node:assert/strict";
import { calledByAnyRun, eagerFunctions } from "./eager_compile.ts";

const load = (code: string) =>
  import(`data:text/javascript;base64,${btoa(code)}`) as Promise<Record<string, unknown>>;

Deno.test("calledByAnyRun: a script's functions are those any run called", () => {
  // Each function's source starts at 100 + 10 × its place in its record, here.
  const script = (url: string, counts: Record<string, number>) => ({
    url,
    functions: Object.entries(counts).map(([functionName, count], i) => ({
      functionName,
      ranges: [{ startOffset: 100 + 10 * i, count }],
    })),
  });
  const called = calledByAnyRun([
    [
      script("file:///d/main.js", { "": 1, run: 1, direct: 1, help: 0 }),
      script("file:///d/main.js", { help: 2 }), // a second record of the same script
    ],
    [
      script("file:///d/main.js", { run: 1, jail: 1 }),
      script("file:///d/jail.js", { lease: 1, never: 0 }),
    ],
    [script("file:///d/jail.js", { other: 1 })],
  ]);
  assert.deepEqual(called.get("file:///d/main.js"), {
    names: new Set(["run", "direct", "help", "jail"]),
    // "" (the script itself) at 100, run 110, direct 120; help at 100 in the second record.
    starts: new Set([100, 110, 120]),
  });
  assert.deepEqual(called.get("file:///d/jail.js"), {
    names: new Set(["lease", "other"]),
    starts: new Set([100]),
  });
});

Deno.test("eagerFunctions: a hot top-level function becomes a parenthesized expression of its name", () => {
  const source = [
    "import { x } from './a.js';",
    "function cold() { return 1; }",
    "async function hot(a, b = 2) { return a + b + x; }",
    "function* gen() { yield 1; }",
    "export { cold, hot as h, gen };",
    "",
  ].join("\n");
  const { text, rewritten, wrapped } = eagerFunctions(source, {
    names: new Set(["hot", "gen", "absent"]),
    starts: new Set(),
  });
  assert.deepEqual(rewritten, ["hot", "gen"]);
  assert.equal(wrapped, 0);
  assert.equal(
    text,
    [
      "var hot = (async function hot(a, b = 2) { return a + b + x; });",
      "var gen = (function* gen() { yield 1; });",
      "import { x } from './a.js';",
      "function cold() { return 1; }",
      ";",
      ";",
      "export { cold, hot as h, gen };",
      "",
    ].join("\n"),
  );
});

Deno.test("eagerFunctions: the rewritten module means what it meant", async () => {
  const source = [
    "export const log = [];",
    "const viaTable = { f: () => deep() };", // a function reached through a value
    "class C { static s = inStatic(); m() { return inMethod(); } }", // inStatic runs now
    "log.push(first());", // before its declaration: hoisting made it callable here
    "function first() { return viaTable.f(); }",
    "function deep() { return [deeper(), C.s]; }",
    "function deeper() { return 'deeper'; }",
    "function inStatic() { return 'static'; }",
    "function inMethod() { return 'method'; }",
    "log.push(new C().m());",
    "function second(n) { return n * 2; }",
    "async function third() { return second(21); }",
    "log.push(second(2));",
    "export const answer = await third();",
    "",
  ].join("\n");
  const hot = ["first", "deep", "deeper", "inStatic", "inMethod", "second", "third"];
  const { text, rewritten } = eagerFunctions(source, { names: new Set(hot), starts: new Set() });
  assert.deepEqual(rewritten, hot);
  const [before, after] = await Promise.all([load(source), load(text)]);
  assert.deepEqual(before.log, [["deeper", "static"], "method", 4]);
  assert.deepEqual(after.log, before.log);
  assert.equal(after.answer, 42);
});

Deno.test("eagerFunctions: a called function expression or arrow is wrapped where it stands, a method is not", async () => {
  const source = [
    "export const log = [];",
    "const table = { f: (x) => x + 1, g: function (x) { return x * 2; }, m(x) { return x - 1; } };",
    "class C { constructor() { this.k = 3; } get v() { return this.k; } run(f) { return f(this.k); } }",
    "const curry = (a) => (b) => a + b;",
    "log.push(table.f(1), table.g(2), table.m(3), new C().v, new C().run((k) => k * 10));",
    "log.push(curry(1)(2), [1, 2].map(async (n) => n).length, (function () { return this; })());",
    "",
  ].join("\n");
  // Where each function starts, as V8's coverage gives it: its first character.
  const at = (snippet: string) => source.indexOf(snippet);
  const starts = [
    "(x) => x + 1",
    "function (x)",
    "(x) { return x - 1", // the method's function, as acorn sees it: from its parameters
    "() { this.k = 3",
    "(k) => k * 10",
    "(a) =>",
    "(b) =>",
    "async (n)",
    "function () { return this",
  ].map(at);
  const { text, wrapped } = eagerFunctions(source, { names: new Set(), starts: new Set(starts) });
  assert.equal(wrapped, 7); // not the method m, nor C's constructor
  assert.match(text, /f: \(\(x\) => x \+ 1\)/);
  assert.match(text, /const curry = \(\(a\) => \(\(b\) => a \+ b\)\);/);
  assert.match(text, /\bm\(x\) \{/);
  // V8 takes no parentheses as the hint for an async arrow: it becomes an async function.
  assert.match(text, /map\(\(async function \(n\) \{ return n; \}\)\)/);
  const [before, after] = await Promise.all([load(source), load(text)]);
  assert.deepEqual(before.log, [2, 4, 2, 3, 30, 3, 2, undefined]);
  assert.deepEqual(after.log, before.log);
});

Deno.test("eagerFunctions: an async arrow that uses its surroundings' this or arguments stays an arrow; the others become async functions that do the same", async () => {
  const source = [
    "export const log = [];",
    "class K { constructor() { this.v = 7; } go() { const f = async () => this.v; return f(); } }",
    "function outer() { const g = async () => arguments.length; return g(); }",
    "const h = async (a, b = 2) => ({ sum: a + b });",
    "const nested = async (x) => { const inner = async () => x * 2; return await inner(); };",
    "const one = async x => [x];",
    "log.push(await new K().go(), await outer(1, 2, 3), (await h(1)).sum, await nested(5));",
    "log.push(h.name, h.length, (await one(4))[0], one.name);",
    "",
  ].join("\n");
  const at = (snippet: string) => source.indexOf(snippet);
  const starts = [
    "async () => this.v",
    "async () => arguments",
    "async (a, b = 2)",
    "async (x) =>",
    "async () => x * 2",
    "async x =>",
  ].map(at);
  const { text, wrapped } = eagerFunctions(source, { names: new Set(), starts: new Set(starts) });
  assert.equal(wrapped, 6);
  assert.match(text, /const f = \(async \(\) => this\.v\);/);
  assert.match(text, /const g = \(async \(\) => arguments\.length\);/);
  assert.match(text, /const h = \(async function \(a, b = 2\) \{ return \{ sum: a \+ b \}; \}\);/);
  assert.match(
    text,
    /const nested = \(async function \(x\) \{ const inner = \(async function \(\) \{ return x \* 2; \}\); return await inner\(\); \}\);/,
  );
  assert.match(text, /const one = \(async function \(x\) \{ return \[x\]; \}\);/);
  const [before, after] = await Promise.all([load(source), load(text)]);
  assert.deepEqual(before.log, [7, 3, 3, 10, "h", 1, 4, "one"]);
  assert.deepEqual(after.log, before.log);
});

Deno.test("eagerFunctions: a function the module assigns to keeps its declaration, and a moved one leaves a statement's end", async () => {
  const source = [
    "export const log = [];",
    "let a = 1, g = (n) => n * 2, r",
    "r = a",
    "function moved() { return 'moved' }",
    "(g)(3)",
    "function getX() { getX = () => 42; return 41 }",
    "function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) }",
    "let calls = 0",
    "const memo = (f) => { const seen = new Map(); return (n) => (calls++, seen.has(n) ? seen.get(n) : (seen.set(n, f(n)), seen.get(n))) }",
    "fib = memo(fib)",
    "log.push(r, moved(), getX(), getX(), fib(20), calls)",
    "",
  ].join("\n");
  const names = new Set(["moved", "getX", "fib"]);
  const { text, rewritten } = eagerFunctions(source, { names, starts: new Set() });
  assert.deepEqual(rewritten, ["moved"]);
  const [before, after] = await Promise.all([load(source), load(text)]);
  assert.deepEqual(before.log, [1, "moved", 41, 42, 6765, 39]);
  assert.deepEqual(after.log, before.log);
});

Deno.test("eagerFunctions: an async arrow that calls eval stays an arrow", async () => {
  const source = [
    "export const r = await (function () { const f = async () => eval('arguments.length'); return f(); })(1, 2, 3);",
    "",
  ].join("\n");
  const { text } = eagerFunctions(source, {
    names: new Set(),
    starts: new Set([source.indexOf("async () =>")]),
  });
  assert.match(text, /const f = \(async \(\) => eval/);
  const [before, after] = await Promise.all([load(source), load(text)]);
  assert.equal(before.r, 3);
  assert.equal(after.r, 3);
});

Deno.test("eagerFunctions: V8 takes a wrapped arrow from Deno's code cache, and compiles an unwrapped one on its call", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ww-eager-" });
  try {
    const source = [
      "function main() { const a = (y) => y + 1; const b = (y) => y + 2; return a(1) + b(1); }",
      "const c = async (y) => y + 3;",
      "console.log(main(), await c(1));",
      "",
    ].join("\n");
    const { text, wrapped } = eagerFunctions(source, {
      names: new Set(["main"]),
      starts: new Set([source.indexOf("(y) => y + 1"), source.indexOf("async (y)")]),
    });
    assert.equal(wrapped, 2);
    await Deno.writeTextFile(`${dir}/m.js`, text);
    const log = `${dir}/v8.log`;
    const run = () =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-config",
          `--v8-flags=--log-function-events,--logfile=${log},--no-logfile-per-isolate`,
          `${dir}/m.js`,
        ],
        // A cache of this test's own: the first run makes the module's code cache, the second
        // compiles the module from it.
        env: { DENO_DIR: `${dir}/deno` },
        stdout: "piped",
        stderr: "inherit",
      }).output();
    for (let i = 0; i < 2; i++) {
      const out = await run();
      assert.equal(new TextDecoder().decode(out.stdout), "5 4\n");
    }
    // V8's log names each script by a number (script-details,ID,URL,…), and each function that
    // it compiled on its first call (function,parse-function,ID,start,end,ms,µs,NAME).
    const lines = (await Deno.readTextFile(log)).split("\n").map((l) => l.split(","));
    const id = lines.find((l) => l[0] === "script-details" && l[2] === `file://${dir}/m.js`)?.[1];
    assert.ok(id !== undefined, "V8's log names m.js");
    const lazy = lines.filter((l) =>
      l[0] === "function" && l[1] === "parse-function" && l[2] === id
    )
      .map((l) => l.at(-1));
    assert.ok(lazy.includes("b"), `the unwrapped arrow was compiled on its call (lazily: ${lazy})`);
    assert.ok(!lazy.includes("a"), `the wrapped arrow came with its file (lazily: ${lazy})`);
    assert.ok(!lazy.includes("c"), `the async arrow came with its file (lazily: ${lazy})`);
    assert.ok(!lazy.includes("main"), `main came with its file (lazily: ${lazy})`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
