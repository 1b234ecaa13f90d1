// core/escape.ts — makes text that ww did not write (a guest's console lines, Abort reasons and
// program names, an IPFS path) safe to put on ww's stderr, which is often the caller's terminal.
// Pure. Without it a guest could move the cursor, retitle the window, clear the screen
// (ESC or the 8-bit CSI U+009B), end the line and forge one that reads as ww's own, or reorder
// what a reader sees with bidirectional overrides (U+202E).

/**
 * What is escaped: backslash (so that the escaping can be read back unambiguously), every
 * control character (C0, DEL, C1: Unicode category Cc), every format character (Cf: the bidi
 * controls U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069, zero-width characters, U+FEFF),
 * the line and paragraph separators U+2028 and U+2029, and lone surrogates (which have no UTF-8
 * form). Built on first use: building its Unicode property classes costs ~0.5 ms, which every
 * run paid when this module was loaded, and most runs escape nothing.
 */
function unsafeChars(): RegExp {
  return unsafe ??= /[\\\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;
}
let unsafe: RegExp | undefined;

const SHORT: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * `text` as one line of visible characters: the characters above become `\\`, `\n`, `\r`, `\t`,
 * `\xNN` (other ASCII controls) or `\u{NNNN}`; everything else is kept. Invalid UTF-8 never
 * reaches it as such: ww decodes guest text with replacement, so it arrives as U+FFFD.
 *
 * @example
 * escapeText("bye\x1b]0;PWNED\x07\nww: fake"); // "bye\\x1b]0;PWNED\\x07\\nww: fake"
 * escapeText("abc\u202edef"); // "abc\\u{202e}def"
 */
export function escapeText(text: string): string {
  return text.replace(unsafeChars(), escapeChar);
}

/**
 * `text` on one line of visible characters: escapeText's characters except the backslash,
 * escaped as it escapes them; backslashes are kept. For a message ww wrote around text it quotes
 * (a path, a flag's value, a name), which must stay one line and move no cursor; ww's own escapes
 * in it (escapeText's, JSON's) stay as they are.
 *
 * @example
 * oneLine("--env A\nB=c: bad name"); // "--env A\\nB=c: bad name"
 * oneLine('"a\\nb" is fine'); // unchanged
 */
export function oneLine(text: string): string {
  // Most messages are printable ASCII: no Unicode class is built for them.
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  return text.replace(lineBreakers ??= /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu, escapeChar);
}
let lineBreakers: RegExp | undefined;

function escapeChar(c: string): string {
  const short = SHORT[c];
  if (short !== undefined) return short;
  const code = c.codePointAt(0)!;
  const hex = code.toString(16).padStart(2, "0");
  return code < 0x80 ? `\\x${hex}` : `\\u{${hex}}`;
}

/**
 * Text another party wrote (an IPFS node's error, an IPNS value, a DAG's entry names, a guest's
 * console line, name or Abort reason), for one of ww's messages or log lines: cut to `max`
 * characters (ww's choice, not the writer's), then escaped.
 *
 * @example
 * foreignText("oops\nww: fake"); // "oops\\nww: fake"
 */
export function foreignText(text: string, max = 200): string {
  return escapeText(clipText(text, max));
}

/**
 * `text` cut to at most `max` characters, ending with how many it lost: for text a guest supplies
 * that ww keeps or repeats (an error quoting a guest's path, an Abort reason, a program's name),
 * so that its size is ww's choice, not the guest's. Text already that short (cut or not) is
 * returned as it is, so cutting twice is cutting once.
 *
 * @example
 * clipText("a".repeat(100), 30); // "aaaaaaa… (93 more characters)"
 * clipText("abc", 30); // "abc"
 */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  // The count in the ending is at most text.length, so this ending is at least as long as the
  // real one: what is kept plus the real ending fits in max.
  const keep = Math.max(0, max - `… (${text.length} more characters)`.length);
  return `${text.slice(0, keep)}… (${text.length - keep} more characters)`;
}

/**
 * A flag's value as a message quotes it after the flag: as given, or `""` when it is empty, so
 * that `ww run --uid= prog` is told `--uid "": …`, not `--uid : …`.
 *
 * @example
 * flagValue(""); // '""'
 * flagValue("db=3"); // "db=3"
 */
export function flagValue(value: string): string {
  return value === "" ? '""' : value;
}

/**
 * `text` cut to at most `max` characters (UTF-16 units) by leaving out its middle, which is said
 * with a count: for ww's own messages, whose start names what failed and whose end says why, when
 * what they quote in between is huge (a 2 MB file's text).
 *
 * @example
 * clipMiddle(`--ipfs ${"x".repeat(100)}: not a multiaddr`, 60);
 * // "--ipfs xxxxxxxxxxxxx… (84 characters) …xxx: not a multiaddr"
 */
export function clipMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = `… (${text.length} characters) …`;
  const keep = Math.max(0, max - note.length);
  const head = Math.ceil(keep / 2);
  const tail = keep - head;
  const cut = text.length - head - tail;
  return `${text.slice(0, head)}… (${cut} characters) …${text.slice(text.length - tail)}`;
}
