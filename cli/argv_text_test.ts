// cli/argv_text_test.ts — the bytes of ww's arguments, checked as /proc/self/cmdline holds them.

import assert from "node:assert/strict";
import { environHolds, firstNonUtf8Argument } from "./argv_text.ts";

const bytes = (...args: (string | number[])[]) =>
  new Uint8Array(
    args.flatMap((a) => [...(typeof a === "string" ? new TextEncoder().encode(a) : a), 0]),
  );

Deno.test("firstNonUtf8Argument finds the first argument whose bytes are not UTF-8, among the last argc", () => {
  const cmdline = bytes("deno", "run", "-A", "main.ts", "run", [0x2f, 0xe9], "ok", [0xff, 0xfe]);
  assert.equal(firstNonUtf8Argument(cmdline, 4), 1);
  assert.equal(firstNonUtf8Argument(cmdline, 2), 1);
  assert.equal(firstNonUtf8Argument(cmdline, 1), 0);
  // Deno's own arguments (before the script's) are not looked at.
  assert.equal(firstNonUtf8Argument(bytes([0xe9], "run", "x"), 2), undefined);
});

Deno.test("firstNonUtf8Argument takes every UTF-8 text, a literal U+FFFD and an empty argument included", () => {
  assert.equal(
    firstNonUtf8Argument(bytes("ww", "run", "caf\u00e9", "\ufffd", "", "\u{1f600}"), 5),
    undefined,
  );
  // Truncated sequences and overlong encodings are not UTF-8.
  assert.equal(firstNonUtf8Argument(bytes("ww", [0xe2, 0x82]), 1), 0);
  assert.equal(firstNonUtf8Argument(bytes("ww", [0xc0, 0xaf]), 1), 0);
  // A command line shorter than the arguments Deno reported: nothing to tell.
  assert.equal(firstNonUtf8Argument(bytes("ww"), 3), undefined);
});

Deno.test("environHolds finds a variable by its name's bytes, whatever its value holds", () => {
  const environ = bytes("HOME=/h", ["L".charCodeAt(0), "=".charCodeAt(0), 0xe9], "EMPTY=");
  assert.equal(environHolds(environ, "L"), true);
  assert.equal(environHolds(environ, "EMPTY"), true);
  assert.equal(environHolds(environ, "HOM"), false);
  assert.equal(environHolds(environ, "NOPE"), false);
  assert.equal(environHolds(new Uint8Array(), "HOME"), false);
});
