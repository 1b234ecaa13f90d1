import assert from "node:assert/strict";
import { clipMiddle, clipText, escapeText, foreignText, oneLine } from "./escape.ts";

/** Reads escapeText's output back (the test's own model of the format). */
function unescape(s: string): string {
  return s.replace(/\\(\\|n|r|t|x[0-9a-f]{2}|u\{[0-9a-f]+\})/g, (_, e: string) => {
    if (e === "\\") return "\\";
    if (e === "n") return "\n";
    if (e === "r") return "\r";
    if (e === "t") return "\t";
    if (e[0] === "x") return String.fromCharCode(parseInt(e.slice(1), 16));
    return String.fromCodePoint(parseInt(e.slice(2, -1), 16));
  });
}

/** A character a terminal acts on or that changes how the text around it reads. */
function dangerous(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x061c ||
    code === 0x200e || code === 0x200f || (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) || code === 0x2028 || code === 0x2029 ||
    (code >= 0xd800 && code <= 0xdfff);
}

Deno.test("no code point that a terminal acts on survives, and every one reads back", () => {
  for (let code = 0; code <= 0x10ffff; code++) {
    const c = String.fromCodePoint(code);
    const out = escapeText(`a${c}b`);
    for (const o of out) {
      const oc = o.codePointAt(0)!;
      assert.ok(!dangerous(oc), `U+${code.toString(16)} leaves U+${oc.toString(16)}`);
    }
    assert.equal(unescape(out), `a${c}b`, `U+${code.toString(16)}`);
    if (dangerous(code) || code === 0x5c) assert.notEqual(out, `a${c}b`);
  }
});

Deno.test("each class has its escape", () => {
  assert.equal(escapeText("a\nb\rc\td\\e"), "a\\nb\\rc\\td\\\\e");
  assert.equal(escapeText("\x00\x07\x1b[2J\x7f"), "\\x00\\x07\\x1b[2J\\x7f");
  assert.equal(escapeText("\u0080\u009b31m\u009f"), "\\u{80}\\u{9b}31m\\u{9f}");
  assert.equal(
    escapeText("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"),
    "\\u{61c}\\u{200e}\\u{200f}\\u{202a}\\u{202b}\\u{202c}\\u{202d}\\u{202e}" +
      "\\u{2066}\\u{2067}\\u{2068}\\u{2069}",
  );
  assert.equal(escapeText("a\u2028b\u2029c"), "a\\u{2028}b\\u{2029}c");
  assert.equal(escapeText("\ud800x\udfff"), "\\u{d800}x\\u{dfff}");
});

Deno.test("printable text, accents, CJK and emoji are kept as they are", () => {
  const text = "hello, wörld: 日本語 🦕 ~!@#$%^&*()_+{}|:\"<>?`-=[];',./";
  assert.equal(escapeText(text), text);
});

Deno.test("invalid UTF-8, decoded as ww decodes guest text, shows as U+FFFD", () => {
  const bytes = new Uint8Array([0x61, 0xff, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xc2, 0x9b, 0x62]);
  const text = new TextDecoder().decode(bytes);
  // The 8-bit CSI in its valid two-byte form (c2 9b) is escaped; the invalid bytes are U+FFFD.
  assert.equal(escapeText(text), "a\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\\u{9b}b");
});

Deno.test("a forged line after a newline stays on the same line", () => {
  const out = escapeText("bye\x1b]0;PWNED\x07\x1b[2J\nww: fake line from ww");
  assert.equal(out, "bye\\x1b]0;PWNED\\x07\\x1b[2J\\nww: fake line from ww");
  assert.ok(!out.includes("\n"));
});

Deno.test("clipText keeps short text whole, and cuts long text to the length asked, saying how much", () => {
  assert.equal(clipText("abc", 3), "abc");
  assert.equal(clipText("", 0), "");
  assert.equal(clipText("a".repeat(100), 30), "aaaaaaa… (93 more characters)");
  for (const n of [31, 99, 100, 1000, 8_000_000]) {
    const cut = clipText("x".repeat(n), 30);
    assert.ok(cut.length <= 30, `${n}: ${cut}`);
    const [kept, lost] = [cut.indexOf("…"), Number(/\((\d+) more/.exec(cut)![1])];
    assert.equal(kept + lost, n, cut);
    assert.equal(clipText(cut, 30), cut, "cutting twice is cutting once");
  }
});

Deno.test("oneLine escapes what breaks a line or moves the cursor, and keeps backslashes", () => {
  assert.equal(oneLine("plain text, no change"), "plain text, no change");
  assert.equal(oneLine("a\nb\rc\td"), "a\\nb\\rc\\td");
  assert.equal(oneLine("x\x1b[2J\u009by\u202ez\u2028"), "x\\x1b[2J\\u{9b}y\\u{202e}z\\u{2028}");
  // ww's own escapes (escapeText's, JSON's) stay as they are.
  assert.equal(oneLine('"a\\nb" caf\u00e9'), '"a\\nb" caf\u00e9');
  assert.equal(oneLine(escapeText("a\nb\\c")), escapeText("a\nb\\c"));
});

Deno.test("foreignText cuts another party's text to ww's length, then escapes it", () => {
  assert.equal(foreignText("oops\nww: fake"), "oops\\nww: fake");
  const long = foreignText("\x1b".repeat(1000), 50);
  assert.ok(long.length < 250, long);
  assert.match(long, /^(\\x1b)+… \(\d+ more characters\)$/);
});

Deno.test("clipMiddle keeps a message's start and end and counts what it left out", () => {
  const long = `--ipfs ${"x".repeat(100)}: not a multiaddr`;
  const cut = clipMiddle(long, 60);
  assert.equal(cut, "--ipfs xxxxxxxxxxxxx… (84 characters) …xxx: not a multiaddr");
  assert.ok(cut.length <= 60);
  assert.equal(clipMiddle("short", 60), "short");
  for (const max of [0, 10, 30, 200]) assert.ok(clipMiddle(long, max).length <= Math.max(max, 22));
});
