// jail/binfmt.ts: a binfmt_misc entry as the kernel shows it, and whether it takes a file's
// first bytes.

import assert from "node:assert/strict";
import { binfmtMatches, parseBinfmtEntry } from "./binfmt.ts";

/** qemu-user-static's aarch64 entry, as Debian registers it and the kernel shows it. */
const QEMU_AARCH64 = [
  "enabled",
  "interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P",
  "flags: POCF",
  "offset 0",
  "magic 7f454c460201010000000000000000000200b700",
  "mask ffffffffffffff00fffffffffffffffffeffffff",
  "",
].join("\n");

/** An ELF executable's first 64 bytes for machine `machine`, 64-bit little-endian. */
function elfHead(machine: number, type = 2): Uint8Array {
  const head = new Uint8Array(64);
  head.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  new DataView(head.buffer).setUint16(16, type, true);
  new DataView(head.buffer).setUint16(18, machine, true);
  return head;
}

Deno.test("parseBinfmtEntry: an enabled magic entry's offset, magic and mask", () => {
  const entry = parseBinfmtEntry(QEMU_AARCH64);
  assert.ok(entry);
  assert.equal(entry.offset, 0);
  assert.deepEqual([...entry.magic.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
  assert.equal(entry.magic.length, 20);
  assert.equal(entry.mask.length, 20);
  assert.equal(entry.mask[7], 0);
});

Deno.test("parseBinfmtEntry: a disabled entry, or one by extension, takes nothing by magic", () => {
  assert.equal(parseBinfmtEntry(QEMU_AARCH64.replace("enabled", "disabled")), undefined);
  assert.equal(
    parseBinfmtEntry("enabled\ninterpreter /usr/bin/wine\nflags: \nextension .exe\n"),
    undefined,
  );
  assert.equal(parseBinfmtEntry(""), undefined);
  // No mask: every byte counts.
  assert.deepEqual(parseBinfmtEntry("enabled\nmagic 4d5a\n"), {
    offset: 0,
    magic: Uint8Array.of(0x4d, 0x5a),
    mask: Uint8Array.of(0xff, 0xff),
  });
});

Deno.test("binfmtMatches: qemu's aarch64 entry takes an aarch64 executable, under its mask, and nothing else", () => {
  const qemu = parseBinfmtEntry(QEMU_AARCH64)!;
  assert.equal(binfmtMatches(qemu, elfHead(183)), true);
  // The mask lets ET_DYN (3) through as ET_EXEC (2), and any OS ABI byte (7).
  assert.equal(binfmtMatches(qemu, elfHead(183, 3)), true);
  const osAbi = elfHead(183);
  osAbi[7] = 3;
  assert.equal(binfmtMatches(qemu, osAbi), true);
  assert.equal(binfmtMatches(qemu, elfHead(62)), false);
  assert.equal(binfmtMatches(qemu, elfHead(75)), false);
  assert.equal(binfmtMatches(qemu, elfHead(183).subarray(0, 19)), false, "too short");
  const offset = { offset: 2, magic: Uint8Array.of(0x4c), mask: Uint8Array.of(0xff) };
  assert.equal(binfmtMatches(offset, elfHead(62)), true);
});
