// cli/argv_text.ts — whether ww's arguments arrived as the caller wrote them. Deno gives a script
// its arguments as strings, decoded from the bytes the kernel passed with U+FFFD in place of any
// byte that is not UTF-8: a path or a value in another encoding would reach the program changed,
// and silently. Pure: the process's command line (/proc/self/cmdline) comes in as bytes.

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
  const ends: number[] = [];
  for (let i = 0; i < cmdline.length; i++) if (cmdline[i] === 0) ends.push(i);
  if (ends.length < argc) return undefined;
  const strict = new TextDecoder("utf-8", { fatal: true });
  for (let k = 0; k < argc; k++) {
    const at = ends.length - argc + k;
    const start = at === 0 ? 0 : ends[at - 1] + 1;
    try {
      strict.decode(cmdline.subarray(start, ends[at]));
    } catch {
      return k;
    }
  }
  return undefined;
}
