// --env-file: docker's env-file format.
import assert from "node:assert/strict";
import { parseEnvFile } from "./env_file.ts";

Deno.test("KEY=VALUE lines set variables; the value is verbatim to the end of the line", () => {
  assert.deepEqual(
    parseEnvFile('A=1\nB= spaced "quoted" $HOME \nC=\nD=x=y\n', "f", { HOME: "/h" }),
    {
      env: { A: "1", B: ' spaced "quoted" $HOME ', C: "", D: "x=y" },
      lineOf: { A: 1, B: 2, C: 3, D: 4 },
    },
  );
});

Deno.test("# comments, blank lines, CRLF line ends and a byte order mark are skipped", () => {
  assert.deepEqual(
    parseEnvFile(
      "\uFEFF# a comment\r\n\r\n   \n  # indented comment\nA=1\r\n  B=2\nC=3 # not a comment",
      "f",
      {},
    ),
    { env: { A: "1", B: "2", C: "3 # not a comment" }, lineOf: { A: 5, B: 6, C: 7 } },
  );
});

Deno.test("a bare KEY passes the caller's value, or nothing when the caller has none", () => {
  assert.deepEqual(parseEnvFile("HOME\nNOPE\nEMPTY\n", "f", { HOME: "/h", EMPTY: "" }), {
    env: { HOME: "/h", EMPTY: "" },
    lineOf: { HOME: 1, EMPTY: 3 },
  });
});

Deno.test("a bare KEY whose caller's value is not UTF-8 text is refused, naming the line", () => {
  const notText = (key: string) => key === "LATIN1";
  assert.deepEqual(parseEnvFile("HOME\nLATIN1\n", "f", { HOME: "/h" }, notText), {
    error:
      "f:2: LATIN1: its value in ww's environment is not UTF-8 text, which ww would pass on changed; give KEY=VALUE in UTF-8",
  });
  // A key the caller has not set at all still passes nothing.
  assert.deepEqual(parseEnvFile("NOPE\n", "f", {}, notText), { env: {}, lineOf: {} });
});

Deno.test("a later line for the same key wins, and is the line that set it", () => {
  assert.deepEqual(parseEnvFile("A=1\nA=2\n", "f", {}), { env: { A: "2" }, lineOf: { A: 2 } });
});

Deno.test("a bad line is one error naming file:line", () => {
  const bad: [string, string][] = [
    ["A=1\n=x\n", "app.env:2: the variable name is empty (expected KEY=VALUE, KEY or # comment)"],
    [
      "MY VAR=1",
      'app.env:1: the variable name "MY VAR" contains whitespace (expected KEY=VALUE, KEY or # comment)',
    ],
    [
      "\n\nA\0B=1",
      "app.env:3: the variable name contains a NUL byte (expected KEY=VALUE, KEY or # comment)",
    ],
    ["A=1\nB=x\0y", "app.env:2: the value of B contains a NUL byte"],
    [
      "A=1\nB\x1bC=2",
      'app.env:2: the variable name "B\\x1bC" contains an unprintable character, \\x1b (expected KEY=VALUE, KEY or # comment)',
    ],
    [
      "\x01",
      'app.env:1: the variable name "\\x01" contains an unprintable character, \\x01 (expected KEY=VALUE, KEY or # comment)',
    ],
  ];
  assert.deepEqual(parseEnvFile("A =1", "f", {}), {
    error: 'f:1: the variable name "A " contains whitespace (expected KEY=VALUE, KEY or # comment)',
  });
  for (const [text, error] of bad) assert.deepEqual(parseEnvFile(text, "app.env", {}), { error });
});

Deno.test("an empty file sets nothing", () => {
  assert.deepEqual(parseEnvFile("", "f", {}), { env: {}, lineOf: {} });
});
