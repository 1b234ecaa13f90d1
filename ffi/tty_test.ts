// ffi/tty.ts's isLineMode, which tells a terminal that reads lines from a raw one, and
// typedSignals, the signals a terminal's keys send.

import assert from "node:assert/strict";
import { closeFd } from "./fd.ts";
import { isLineMode, rawMode, terminalMode, typedSignals } from "./tty.ts";
import { openPty } from "./pty.ts";

Deno.test("isLineMode: a new pty reads lines (ICANON); made raw, it does not", () => {
  const pty = openPty();
  try {
    const mode = terminalMode(pty.slave);
    assert.equal(isLineMode(mode), true);
    assert.equal(isLineMode(rawMode(mode)), false);
  } finally {
    closeFd(pty.slave);
    closeFd(pty.master);
  }
});

Deno.test("typedSignals: the signals of the mode's interrupt and quit keys, while keys make signals (ISIG)", () => {
  // struct termios: c_lflag at 12, c_cc at 17 (VINTR 0, VQUIT 1).
  const mode = (lflag: number, intr: number, quit: number) => {
    const m = new Uint8Array(60);
    new DataView(m.buffer).setUint32(12, lflag, true);
    m[17] = intr;
    m[18] = quit;
    return m;
  };
  const cooked = mode(0x1, 0x03, 0x1c);
  assert.deepEqual(typedSignals(cooked, new TextEncoder().encode("ab\x03")), ["SIGINT"]);
  assert.deepEqual(typedSignals(cooked, new Uint8Array([0x1c])), ["SIGQUIT"]);
  assert.deepEqual(typedSignals(cooked, new Uint8Array([0x1c, 0x61, 0x03])), ["SIGINT", "SIGQUIT"]);
  assert.deepEqual(typedSignals(cooked, new TextEncoder().encode("abc\n\x1a")), []);
  // No ISIG (raw): the keys are bytes like any other.
  assert.deepEqual(typedSignals(mode(0, 0x03, 0x1c), new Uint8Array([0x03])), []);
  // A key set to 0 is disabled, NUL bytes typed do not count as it.
  assert.deepEqual(typedSignals(mode(0x1, 0, 0), new Uint8Array([0, 0x03])), []);
  assert.deepEqual(typedSignals(mode(0x1, 0x07, 0), new Uint8Array([0x07])), ["SIGINT"]);
});
