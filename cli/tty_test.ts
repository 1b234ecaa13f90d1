// When `ww run` gives the program a terminal of its own, as a specification.
import assert from "node:assert/strict";
import { wantsTty } from "./tty.ts";
import { parseRunArgs } from "./flags.ts";

const facts = [
  { stdin: false, stdout: false },
  { stdin: true, stdout: false },
  { stdin: false, stdout: true },
  { stdin: true, stdout: true },
];

Deno.test("with neither flag, only a stdin and a stdout that are both terminals give a pty", () => {
  assert.deepEqual(facts.map((f) => wantsTty(undefined, f)), [false, false, false, true]);
});

Deno.test("with neither flag, a background job gets no pty: taking the terminal would stop it", () => {
  assert.equal(wantsTty(undefined, { stdin: true, stdout: true, foreground: false }), false);
  assert.equal(wantsTty(undefined, { stdin: true, stdout: true, foreground: true }), true);
  assert.equal(wantsTty("tty", { stdin: true, stdout: true, foreground: false }), true);
});

Deno.test("--tty always gives a pty, --no-tty never, whatever stdin and stdout are", () => {
  assert.deepEqual(facts.map((f) => wantsTty("tty", f)), [true, true, true, true]);
  assert.deepEqual(facts.map((f) => wantsTty("no-tty", f)), [false, false, false, false]);
});

Deno.test("the flags set RunConfig.tty from the terminal facts; the last of --tty/--no-tty wins", () => {
  const tty = (argv: string[], terminal?: { stdin: boolean; stdout: boolean }) =>
    parseRunArgs([...argv, "p"], {}, "/", { terminal }).config.tty;
  assert.equal(tty([]), false);
  assert.equal(tty([], { stdin: true, stdout: true }), true);
  assert.equal(tty(["--no-tty"], { stdin: true, stdout: true }), false);
  assert.equal(tty(["--tty"]), true);
  assert.equal(tty(["--tty", "--no-tty"]), false);
  assert.equal(tty(["--no-tty", "--tty"], { stdin: true, stdout: true }), true);
  assert.throws(() => tty(["--tty=yes"]), /--tty takes no value/);
});
