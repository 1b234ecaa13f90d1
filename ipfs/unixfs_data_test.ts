// decodeUnixFsData against ipfs-unixfs 13.1.1, the decoder it replaces: the same fields for every
// message ipfs-unixfs writes, an Error (never a wrong value) for truncated or malformed bytes, and
// none of ipfs-unixfs's dependencies in the cold fetch path.

import assert from "node:assert/strict";
import { UnixFS } from "ipfs-unixfs";
import { decodeUnixFsData, UNIXFS_TYPES, type UnixFsData, type UnixFsType } from "./unixfs_data.ts";
import { loadedModules } from "../tests/support/modules.ts";

/** A seeded generator (mulberry32), so that a failure reproduces. */
class Random {
  constructor(private state: number) {}
  uint32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return this.uint32() % n;
  }
  chance(p: number): boolean {
    return this.uint32() / 2 ** 32 < p;
  }
  /** A uint64 of a random bit length, so that every varint length comes up. */
  uint64(): bigint {
    const bits = this.int(65);
    const value = (BigInt(this.uint32()) << 32n) | BigInt(this.uint32());
    return bits === 0 ? 0n : value >> BigInt(64 - bits);
  }
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }
}

/** A comparable picture of a decoded message. */
function view(d: UnixFsData) {
  return {
    type: d.type,
    data: d.data && [...d.data],
    blockSizes: [...d.blockSizes],
    hashType: d.hashType,
    fanout: d.fanout,
    mode: d.mode,
    mtime: d.mtime && { secs: d.mtime.secs, nsecs: d.mtime.nsecs },
    fileSize: d.fileSize(),
  };
}

/** Our decoding of `bytes`, or the Error it threw (anything else thrown fails the test). */
function ours(bytes: Uint8Array): UnixFsData | Error {
  try {
    return decodeUnixFsData(bytes);
  } catch (e) {
    assert.ok(e instanceof Error && e.constructor === Error, `not a plain Error: ${e}`);
    assert.ok(e.message.length > 0 && !e.message.includes("\n"));
    return e;
  }
}

function reference(bytes: Uint8Array): UnixFS | Error {
  try {
    return UnixFS.unmarshal(bytes);
  } catch (e) {
    return e as Error;
  }
}

/**
 * Asserts that our decoding has the fields ipfs-unixfs's has. ipfs-unixfs does not keep hashType
 * when it unmarshals, and gives a missing mode its default and the mode's low 12 bits otherwise.
 */
function assertSame(got: UnixFsData, ref: UnixFS, what: string): void {
  assert.equal(got.type, ref.type, what);
  assert.deepEqual(got.data, ref.data, what);
  assert.deepEqual(got.blockSizes, ref.blockSizes, what);
  assert.equal(got.fanout, ref.fanout, what);
  assert.equal(got.fileSize(), ref.fileSize(), what);
  const defaultMode = ref.isDirectory() ? 0o755 : 0o644;
  assert.equal((got.mode ?? defaultMode) & 0xfff, ref.mode, what);
  assert.equal(got.mtime?.secs, ref.mtime?.secs, what);
  assert.equal(got.mtime?.nsecs, ref.mtime?.nsecs, what);
}

/** If we accept `bytes`, ipfs-unixfs accepts them too and decodes the same fields. */
function assertNoLooserThanReference(bytes: Uint8Array): boolean {
  const got = ours(bytes);
  if (got instanceof Error) return false;
  const ref = reference(bytes);
  const what = `bytes ${hex(bytes)}`;
  assert.ok(!(ref instanceof Error), `${what}: we accept, ipfs-unixfs says ${ref}`);
  assertSame(got, ref as UnixFS, what);
  return true;
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

interface Value {
  type: UnixFsType;
  data?: Uint8Array;
  blockSizes: bigint[];
  hashType?: bigint;
  fanout?: bigint;
  mode?: number;
  mtime?: { secs: bigint; nsecs?: number };
}

function randomValue(r: Random): Value {
  return {
    type: UNIXFS_TYPES[r.int(UNIXFS_TYPES.length)],
    data: r.chance(0.6) ? r.bytes(r.int(40)) : undefined,
    blockSizes: Array.from({ length: r.chance(0.5) ? r.int(8) : 0 }, () => r.uint64()),
    hashType: r.chance(0.3) ? r.uint64() : undefined,
    fanout: r.chance(0.3) ? r.uint64() : undefined,
    mode: r.chance(0.5) ? r.int(0x1000) : undefined,
    mtime: r.chance(0.5)
      ? {
        secs: BigInt.asIntN(64, r.uint64()),
        nsecs: r.chance(0.5) ? r.uint32() : undefined,
      }
      : undefined,
  };
}

const marshal = (v: Value) => new UnixFS(v).marshal();

/**
 * Whether ipfs-unixfs writes `v` wrongly: a uint64 in [2^31, 2^32) becomes its low byte and four
 * zero bytes, which read as the low 7 bits and field-0 varints when that byte is < 0x80, and as
 * garbage otherwise.
 */
function writtenWrongly(v: Value): boolean {
  const cut = (n?: bigint) => n !== undefined && n >= 2n ** 31n && n < 2n ** 32n;
  return [...v.blockSizes, v.hashType, v.fanout, v.mtime?.secs].some(cut);
}

Deno.test("every value ipfs-unixfs marshals decodes as ipfs-unixfs decodes it, to the fields it was made of", () => {
  const r = new Random(1);
  let wrong = 0;
  for (let i = 0; i < 5000; i++) {
    const v = randomValue(r);
    const bytes = marshal(v);
    const what = `value ${i}: ${hex(bytes)}`;
    if (writtenWrongly(v)) {
      assertNoLooserThanReference(bytes);
      wrong++;
      continue;
    }
    const got = decodeUnixFsData(bytes);
    assertSame(got, UnixFS.unmarshal(bytes), what);
    assert.equal(got.type, v.type, what);
    assert.deepEqual(got.data, v.data?.length ? v.data : undefined, what);
    assert.deepEqual(got.blockSizes, v.blockSizes, what);
    assert.equal(got.hashType, v.hashType, what);
    assert.equal(got.fanout, v.fanout, what);
    const mtime = v.mtime?.nsecs === undefined ? v.mtime && { secs: v.mtime.secs } : v.mtime;
    assert.deepEqual(got.mtime, mtime, what);
  }
  assert.ok(wrong < 500, `${wrong} values written wrongly`);
});

Deno.test("a uint64 in [2^31, 2^32) as ipfs-unixfs writes it (cut short, then zero bytes) decodes as it reads it", () => {
  const v: Value = { type: "file", data: new Uint8Array(3), blockSizes: [1n, 3n * 2n ** 30n] };
  const bytes = marshal(v);
  // filesize 3 GiB + 4 and the second block size are each written as one byte and four zeros.
  assert.deepEqual([...bytes.subarray(7, 13)], [0x18, 0x04, 0, 0, 0, 0]);
  const got = decodeUnixFsData(bytes);
  assertSame(got, UnixFS.unmarshal(bytes), hex(bytes));
  assert.deepEqual(got.blockSizes, [1n, 0n]);
});

Deno.test("a prefix of a marshalled value is an Error, or decoded as ipfs-unixfs decodes it", () => {
  const r = new Random(2);
  let accepted = 0;
  for (let i = 0; i < 1000; i++) {
    const bytes = marshal(randomValue(r));
    for (let k = 0; k < bytes.length; k++) {
      if (assertNoLooserThanReference(bytes.subarray(0, k))) accepted++;
    }
  }
  assert.ok(accepted > 1000, `only ${accepted} prefixes decoded`);
});

// A test-side encoder, so that where each field ends is known.
function varint(value: bigint | number): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  for (; v >= 0x80n; v >>= 7n) out.push(Number(v & 0x7fn) | 0x80);
  out.push(Number(v));
  return out;
}
const tag = (field: number, wire: number) => varint(field * 8 + wire);
const enc = {
  varint: (field: number, v: bigint | number) => [...tag(field, 0), ...varint(v)],
  fixed64: (field: number) => [...tag(field, 1), 1, 2, 3, 4, 5, 6, 7, 8],
  bytes: (
    field: number,
    b: ArrayLike<number>,
  ) => [...tag(field, 2), ...varint(b.length), ...Array.from(b)],
  fixed32: (
    field: number,
    v: number,
  ) => [...tag(field, 5), v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24],
};

/** Messages as lists of encoded fields, with the value ipfs-unixfs marshals to the same bytes. */
function examples(): { value: Value; fields: number[][] }[] {
  const data = Uint8Array.from({ length: 5 }, (_, i) => i + 1);
  return [
    {
      value: { type: "file", data, blockSizes: [300n, 2n ** 40n] },
      fields: [
        enc.varint(1, 2),
        enc.bytes(2, data),
        enc.varint(3, 5n + 300n + 2n ** 40n),
        enc.varint(4, 300),
        enc.varint(4, 2n ** 40n),
      ],
    },
    {
      value: { type: "raw", data, blockSizes: [] },
      fields: [enc.varint(1, 0), enc.bytes(2, data), enc.varint(3, 5)],
    },
    {
      value: { type: "directory", blockSizes: [], mode: 0o700, mtime: { secs: -5n, nsecs: 999 } },
      fields: [
        enc.varint(1, 1),
        enc.varint(7, 0o700),
        enc.bytes(8, [...enc.varint(1, BigInt.asUintN(64, -5n)), ...enc.fixed32(2, 999)]),
      ],
    },
    {
      value: {
        type: "hamt-sharded-directory",
        data,
        blockSizes: [],
        hashType: 0x22n,
        fanout: 256n,
      },
      fields: [enc.varint(1, 5), enc.bytes(2, data), enc.varint(5, 0x22), enc.varint(6, 256)],
    },
    {
      value: { type: "symlink", data: new TextEncoder().encode("../target"), blockSizes: [] },
      fields: [enc.varint(1, 4), enc.bytes(2, new TextEncoder().encode("../target"))],
    },
  ];
}

Deno.test("a message cut where a field ends decodes the fields before the cut; cut inside a field, it is an Error", () => {
  for (const { value, fields } of examples()) {
    const bytes = Uint8Array.from(fields.flat());
    assert.deepEqual(
      bytes,
      marshal(value),
      `${value.type}: the example is what ipfs-unixfs writes`,
    );
    const ends = new Set<number>();
    fields.reduce((end, f) => (ends.add(end + f.length), end + f.length), 0);
    for (let k = 0; k <= bytes.length; k++) {
      const prefix = bytes.subarray(0, k);
      const got = ours(prefix);
      const what = `${value.type} cut at ${k}: ${hex(prefix)}`;
      if (ends.has(k)) {
        assert.ok(!(got instanceof Error), `${what}: ${got}`);
        assertSame(got, UnixFS.unmarshal(prefix), what);
      } else {
        assert.ok(got instanceof Error, `${what}: decoded`);
      }
    }
  }
});

Deno.test("blockSizes may come packed, unpacked, or both, in order", () => {
  const packed = [...varint(1), ...varint(300), ...varint(2n ** 63n), ...varint(0)];
  const cases: [number[], bigint[]][] = [
    [[...enc.varint(1, 2), ...enc.bytes(4, packed)], [1n, 300n, 2n ** 63n, 0n]],
    [[...enc.varint(1, 2), ...enc.bytes(4, [])], []],
    [
      [...enc.varint(1, 2), ...enc.varint(4, 7), ...enc.bytes(4, packed), ...enc.varint(4, 8)],
      [7n, 1n, 300n, 2n ** 63n, 0n, 8n],
    ],
  ];
  // ipfs-unixfs reads a packed run's length as one size: it is no reference here.
  for (const [bytes, sizes] of cases) {
    const got = decodeUnixFsData(Uint8Array.from(bytes));
    assert.deepEqual(got.blockSizes, sizes);
    assert.equal(got.fileSize(), sizes.reduce((a, b) => a + b, 0n));
  }
  // A packed run's last varint may not run on past the run.
  const cut = [...enc.varint(1, 2), ...tag(4, 2), 2, 0x01, 0xac, 0x02];
  assert.throws(() => decodeUnixFsData(Uint8Array.from(cut)), /truncated varint/);
});

Deno.test("unknown fields of every wire type are skipped, in Data and in its mtime", () => {
  const unknown = [
    enc.varint(9, 2n ** 64n - 1n),
    enc.fixed64(10),
    enc.bytes(11, [1, 2, 3]),
    enc.fixed32(12, 0xdeadbeef),
    enc.varint(1000, 1),
    enc.bytes(2 ** 29 - 1, []),
  ];
  for (const { value, fields } of examples()) {
    const plain = view(decodeUnixFsData(Uint8Array.from(fields.flat())));
    for (let at = 0; at <= fields.length; at++) {
      for (const extra of [...unknown, unknown.flat()]) {
        const bytes = Uint8Array.from([...fields.slice(0, at), extra, ...fields.slice(at)].flat());
        const got = decodeUnixFsData(bytes);
        assert.deepEqual(view(got), plain, `${value.type}: ${hex(bytes)}`);
        assertSame(got, UnixFS.unmarshal(bytes), `${value.type}: ${hex(bytes)}`);
      }
    }
  }
  const mtime = [...enc.varint(1, 77), ...unknown.flat(), ...enc.fixed32(2, 5), ...unknown.flat()];
  const got = decodeUnixFsData(Uint8Array.from([...enc.varint(1, 2), ...enc.bytes(8, mtime)]));
  assert.deepEqual(got.mtime, { secs: 77n, nsecs: 5 });
});

/**
 * Random bytes with two things ipfs-unixfs misreads taken out: tag 0x22 (a packed blockSizes run,
 * which it reads as one size) and varints of more than 5 bytes (its uint32 reader skips 10 bytes
 * whatever their length). Everything else it reads as a protobuf decoder should.
 */
function comparable(bytes: Uint8Array): Uint8Array {
  let run = 0;
  for (let i = 0; i < bytes.length; i++) {
    if ((bytes[i] & 0x7f) === 0x22) bytes[i] ^= 1;
    run = bytes[i] & 0x80 ? run + 1 : 0;
    if (run === 5) (bytes[i] &= 0x7f), (run = 0);
  }
  return bytes;
}

/** A run of fields, mostly well-formed: known and unknown numbers, now and then a wrong part. */
function fieldSoup(r: Random): Uint8Array {
  const wires = [0, 2, 0, 0, 0, 0, 2, 2];
  const out: number[] = [...enc.varint(1, r.int(7))];
  const n = r.int(6);
  for (let i = 0; i < n; i++) {
    const field = 1 + r.int(10);
    const wire = r.chance(0.85) ? (wires[field - 1] ?? [0, 1, 2, 5][r.int(4)]) : r.int(8);
    out.push(...tag(field, wire));
    if (wire === 0) {
      out.push(...varint(field === 1 ? r.int(7) : field === 7 ? r.int(2 ** 20) : r.uint64()));
    } else if (wire === 1) out.push(...r.bytes(8));
    else if (wire === 5) out.push(...r.bytes(4));
    else if (wire === 2) {
      const body = field === 8 && r.chance(0.7)
        ? [...enc.varint(1, r.uint64()), ...(r.chance(0.5) ? enc.fixed32(2, r.uint32()) : [])]
        : [...r.bytes(r.int(12))];
      out.push(...varint(r.chance(0.9) ? body.length : r.int(20)), ...body);
    }
  }
  return comparable(
    Uint8Array.from(out.slice(0, r.chance(0.2) ? r.int(out.length + 1) : undefined)),
  );
}

Deno.test("random bytes are an Error, or decoded as ipfs-unixfs decodes them", () => {
  const r = new Random(3);
  let accepted = 0;
  for (let i = 0; i < 20000; i++) {
    if (assertNoLooserThanReference(comparable(r.bytes(r.int(48))))) accepted++;
    if (assertNoLooserThanReference(fieldSoup(r))) accepted++;
  }
  assert.ok(accepted > 2000, `only ${accepted} of 40000 decoded`);
});

Deno.test("malformed messages are Errors saying what is wrong", () => {
  const cases: [number[], RegExp][] = [
    [[], /no UnixFS Type/],
    [enc.bytes(2, [5]), /no UnixFS Type/],
    [[0x08], /truncated varint at byte 1/],
    [enc.varint(1, 6), /unknown UnixFS Type 6/],
    [enc.varint(1, 2n ** 32n + 2n), /unknown UnixFS Type/],
    [[0x08, 0x02, 0x18, ...Array(10).fill(0xff), 0x01], /varint longer than 10 bytes at byte 3/],
    [[0x08, 0x02, 0x18, ...Array(9).fill(0xff), 0x02], /varint over 64 bits at byte 3/],
    [[0x08, 0x02, 0x12, 0x05, 1, 2], /length 5 at byte 3 runs past the end/],
    [[0x08, 0x02, 0x12, 0x80, 0x80, 0x80, 0x80, 0x10], /runs past the end/],
    [[0x08, 0x02, 0x4b, 0x4c], /unsupported wire type 3 at byte 2/],
    [[0x08, 0x02, 0x4c], /unsupported wire type 4/],
    [[0x08, 0x02, 0x4e], /unsupported wire type 6/],
    [[0x08, 0x02, 0x4f], /unsupported wire type 7/],
    [[0x08, 0x02, ...tag(2 ** 29, 0), 0x00], /bad field number at byte 2/],
    [[0x08, 0x02, 0x55, 0x00, 0x00, 0x00], /truncated at byte 3/],
    [[0x08, 0x02, 0x49, 1, 2, 3, 4, 5, 6, 7], /truncated at byte 3/],
    [enc.bytes(1, [2]), /field 1 has wire type 2, not 0/],
    [[...enc.varint(1, 2), ...enc.varint(2, 1)], /field 2 has wire type 0, not 2/],
    [[...enc.varint(1, 2), ...enc.varint(8, 1)], /field 8 has wire type 0, not 2/],
    [[...enc.varint(1, 2), ...enc.bytes(8, enc.varint(2, 1))], /field 2 has wire type 0, not 5/],
    [[...enc.varint(1, 2), ...enc.bytes(8, [0x15, 1, 2])], /truncated at byte 5/],
  ];
  for (const [bytes, message] of cases) {
    const got = ours(Uint8Array.from(bytes));
    assert.ok(got instanceof Error, `${hex(Uint8Array.from(bytes))}: decoded`);
    assert.match(got.message, message, hex(Uint8Array.from(bytes)));
  }
});

/** The loaded modules that are ipfs-unixfs or protons-runtime, or import node:crypto or node:buffer. */
async function costly(files: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const file of files) {
    const source = await Deno.readTextFile(file);
    if (
      /\/(ipfs-unixfs|protons-runtime)@/.test(file) || /["']node:(crypto|buffer)["']/.test(source)
    ) found.push(file);
  }
  return found;
}

Deno.test("importing ipfs/download.ts loads no ipfs-unixfs, protons-runtime, node:crypto or node:buffer", async () => {
  // The probe sees what it should: importing ipfs-unixfs itself loads all of them.
  const control = await costly(await loadedModules("ipfs-unixfs"));
  assert.ok(control.some((f) => f.includes("/protons-runtime@")), control.join("\n"));
  assert.ok(control.some((f) => f.endsWith("/hashes/sha2.js")), control.join("\n"));

  const files = await loadedModules(new URL("./download.ts", import.meta.url).href);
  assert.ok(files.some((f) => f.endsWith("/ipfs/unixfs_data.ts")), files.join("\n"));
  assert.deepEqual(await costly(files), []);
});
