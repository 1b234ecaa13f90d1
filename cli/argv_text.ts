// cli/argv_text.ts — whether ww's arguments and environment arrived as the caller wrote them. Deno
// gives a script its arguments as strings, decoded from the bytes the kernel passed with U+FFFD in
// place of any byte that is not UTF-8, and leaves out of its environment a variable that is not
// UTF-8: a path or a value in another encoding would reach the program changed, or not at all,
// and silently. Pure: the process's command line and environment (/proc/self/cmdline, environ)
// come in as bytes.

/** The NUL-ended strings of `bytes` (as /proc/self/cmdline and environ hold them), as views. */
function nulStrings(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let start = 0; start < bytes.length;) {
    let end = bytes.indexOf(0, start);
    if (end === -1) end = bytes.length;
    out.push(bytes.subarray(start, end));
    start = end + 1;
  }
  return out;
}

/**
 * Whether `environ` (a process's environment as /proc/self/environ holds it) sets `key`, whatever
 * its value's bytes.
 *
 * @example
 * environHolds(new Uint8Array([...new TextEncoder().encode("A="), 0xe9, 0]), "A"); // true
 */
export function environHolds(environ: Uint8Array, key: string): boolean {
  const prefix = new TextEncoder().encode(`${key}=`);
  return nulStrings(environ).some((entry) =>
    entry.length >= prefix.length && prefix.every((b, i) => entry[i] === b)
  );
}

/**
 * The index among the last `argc` arguments of `cmdline` (NUL-ended strings, as
 * /proc/self/cmdline holds them) of the first whose bytes are not UTF-8; undefined when every one
 * is, or when `cmdline` holds fewer than `argc` arguments.
 *
 * @example
 * const raw = new Uint8Array([...new TextEncoder().encode("deno\0run\0"), 0xe9, 0]);
 * firstNonUtf8Argument(raw, 2); // 1: the second of the last two, "\xe9"
 */
export function firstNonUtf8Argument(cmdline: Uint8Array, argc: number): number | undefined {
  const args = nulStrings(cmdline);
  if (args.length < argc) return undefined;
  const strict = new TextDecoder("utf-8", { fatal: true });
  for (let k = 0; k < argc; k++) {
    try {
      strict.decode(args[args.length - argc + k]);
    } catch {
      return k;
    }
  }
  return undefined;
}
