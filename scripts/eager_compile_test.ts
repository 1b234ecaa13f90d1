// scripts/eager_compile.ts: which functions a run called, and the rewrite that has V8 compile
// them with their file, which must leave the module's meaning as it was.
import assert from "node:assert/strict";
import { calledByFirstLoader, eagerFunctions } from "./eager_compile.ts";

Deno.test("calledByFirstLoader: a script's functions are those the first run to load it called", () => {
  const script = (url: string, counts: Record<string, number>) => ({
    url,
    functions: Object.entries(counts).map(([functionName, count]) => ({
      functionName,
      ranges: [{ count }],
    })),
  });
  const called = calledByFirstLoader([
    [
      script("file:///d/main.js", { "": 1, run: 1, direct: 1, help: 0 }),
      script("file:///d/main.js", { help: 2 }), // a second record of the same script
    ],
    [
      script("file:///d/main.js", { run: 1, jail: 1 }), // main.js is the first run's
      script("file:///d/jail.js", { lease: 1, never: 0 }),
    ],
    [script("file:///d/jail.js", { other: 1 })], // jail.js is the second run's
  ]);
  assert.deepEqual(called.get("file:///d/main.js"), new Set(["run", "direct", "help"]));
  assert.deepEqual(called.get("file:///d/jail.js"), new Set(["lease"]));
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
  const { text, rewritten } = eagerFunctions(source, new Set(["hot", "gen", "absent"]));
  assert.deepEqual(rewritten, ["hot", "gen"]);
  assert.equal(
    text,
    [
      "import { x } from './a.js';",
      "function cold() { return 1; }",
      "var hot = (async function hot(a, b = 2) { return a + b + x; });",
      "var gen = (function* gen() { yield 1; });",
      "export { cold, hot as h, gen };",
      "",
    ].join("\n"),
  );
});

Deno.test("eagerFunctions: a function top-level code may reach before its declaration keeps it", () => {
  const source = [
    "const table = { f: direct };", // referred to directly
    "const value = helper();", // called: helper's body reaches deep, and deep's reaches deeper
    "function helper() { return deep(); }",
    "function deep() { return [deeper, () => inArrow()]; }",
    "function deeper() {}",
    "function inArrow() {}", // the arrow is in deep's body, which top-level code reaches
    "function direct() {}",
    "function later() { return unreached(); }", // only after: a call made after it is assigned
    "function unreached() {}",
    "const after = later();",
    "class C { m() { return inMethod(); } static s = inStatic(); }",
    "function inMethod() {}", // a method's body runs when it is called: not at load
    "function inStatic() {}", // a static field's initializer runs when the class is defined
    "new D().m();", // D's methods run now
    "class D { m() { return inUsedMethod(); } }",
    "function inUsedMethod() {}",
    "",
  ].join("\n");
  const all = new Set([
    "direct",
    "helper",
    "deep",
    "deeper",
    "inArrow",
    "later",
    "unreached",
    "inMethod",
    "inStatic",
    "inUsedMethod",
  ]);
  const { rewritten } = eagerFunctions(source, all);
  assert.deepEqual(rewritten, ["later", "unreached", "inMethod"]);
});

Deno.test("eagerFunctions: the rewritten module means what it meant", async () => {
  const source = [
    "export const log = [];",
    "log.push(first());",
    "function first() { return 'first'; }",
    "function second(n) { return n * 2; }",
    "async function third() { return second(21); }",
    "log.push(second(2));",
    "export const answer = await third();",
    "",
  ].join("\n");
  const { text, rewritten } = eagerFunctions(source, new Set(["first", "second", "third"]));
  assert.deepEqual(rewritten, ["second", "third"]);
  const load = (code: string) =>
    import(`data:text/javascript;base64,${btoa(code)}`) as Promise<Record<string, unknown>>;
  const [before, after] = await Promise.all([load(source), load(text)]);
  assert.deepEqual(after.log, before.log);
  assert.equal(after.answer, 42);
});
