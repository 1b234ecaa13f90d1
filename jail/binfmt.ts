/**
 * Whether a binfmt_misc handler takes a program by its first bytes: with one (qemu-user's, say)
 * the kernel runs an ELF program built for another machine, which ww must then leave to execve
 * rather than refuse before the run. Pure: run/script.ts reads the entries
 * (/proc/sys/fs/binfmt_misc/<name>, as the kernel shows them).
 *
 * @module
 */

/** An enabled handler that matches by magic bytes: the file's bytes at `offset`, under `mask`. */
export interface BinfmtMagic {
  readonly offset: number;
  readonly magic: Uint8Array;
  readonly mask: Uint8Array;
}

/** Bytes from hex digits ("7f454c46"). */
function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/[0-9a-f]{2}/gi) ?? [], (b) => parseInt(b, 16));
}

/**
 * The magic of a handler from the text of its entry, or undefined for one that is disabled or
 * matches a file name's extension instead.
 *
 * @example
 * parseBinfmtEntry("enabled\ninterpreter /usr/bin/qemu-aarch64\nflags: F\noffset 0\nmagic 7f454c46\nmask ffffffff\n");
 * // { offset: 0, magic: Uint8Array [0x7f, 0x45, 0x4c, 0x46], mask: Uint8Array [0xff, 0xff, 0xff, 0xff] }
 */
export function parseBinfmtEntry(text: string): BinfmtMagic | undefined {
  const lines = text.split("\n");
  if (lines[0] !== "enabled") return undefined;
  const field = (key: string) =>
    lines.find((l) => l.startsWith(`${key} `))?.slice(key.length + 1).trim();
  const magicHex = field("magic");
  if (magicHex === undefined) return undefined;
  const magic = hexBytes(magicHex);
  const maskHex = field("mask");
  return {
    offset: Number(field("offset") ?? "0"),
    magic,
    mask: maskHex === undefined ? magic.map(() => 0xff) : hexBytes(maskHex),
  };
}

/**
 * Whether `handler` takes a file that starts with `head`, as the kernel compares: each byte
 * under the mask.
 *
 * @example
 * binfmtMatches({ offset: 0, magic: Uint8Array.of(0x7f), mask: Uint8Array.of(0xff) }, Uint8Array.of(0x7f, 0x45)); // true
 */
export function binfmtMatches(handler: BinfmtMagic, head: Uint8Array): boolean {
  const { offset, magic, mask } = handler;
  if (head.length < offset + magic.length) return false;
  return magic.every((b, i) => ((head[offset + i] ^ b) & (mask[i] ?? 0xff)) === 0);
}
