// scripts/eager_compile.ts: which functions a run called, and the rewrite that has V8 compile
// them with their file, which must leave the module's meaning as it was.
import assert from "node:assert/strict";
import { calledByAnyRun, eagerFunctions } from "./eager_compile.ts";

Deno.test("calledByAnyRun: a script's functions are those any run called", () => {
  const script = (url: string, counts: Record<string, number>) => ({
    url,
    functions: Object.entries(counts).map(([functionName, count]) => ({
      functionName,
      ranges: [{ count }],
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
  assert.deepEqual(called.get("file:///d/main.js"), new Set(["run", "direct", "help", "jail"]));
  assert.deepEqual(called.get("file:///d/jail.js"), new Set(["lease", "other"]));
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
      "var hot = (async function hot(a, b = 2) { return a + b + x; });",
      "var gen = (function* gen() { yield 1; });",
      "import { x } from './a.js';",
      "function cold() { return 1; }",
      "",
      "",
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
  const { text, rewritten } = eagerFunctions(source, new Set(hot));
  assert.deepEqual(rewritten, hot);
  const load = (code: string) =>
    import(`data:text/javascript;base64,${btoa(code)}`) as Promise<Record<string, unknown>>;
  const [before, after] = await Promise.all([load(source), load(text)]);
  assert.deepEqual(before.log, [["deeper", "static"], "method", 4]);
  assert.deepEqual(after.log, before.log);
  assert.equal(after.answer, 42);
});
