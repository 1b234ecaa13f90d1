// ipfs/unixfs_data.ts — the UnixFS `Data` protobuf message, the bytes in a dag-pb node's Data
// field (https://github.com/ipfs/specs/blob/main/UNIXFS.md), decoded by hand.
//
// ipfs-unixfs decodes the same message, but importing it loads protons-runtime, uint8arrays and
// multiformats' sha2, which imports node:crypto and node:buffer: ~22 ms on every cold fetch. This
// decoder gives the fields in the shape ipfs-unixfs's UnixFS class has (type names, bigint sizes,
// fileSize()), and is stricter than it where the bytes are not a well-formed message: a missing
// or unknown Type, a known field with the wrong wire type and group wire types are errors, as
// they are for Kubo's proto2 decoder. Field number 0 is skipped, as ipfs-unixfs skips it: its
// writer (protons-runtime 7) writes a uint64 in [2^31, 2^32), such as a 3 GiB file's filesize, as
// the value's low byte and four zero bytes, which read as field-0 varints when that byte is < 0x80.

/** A UnixFS node type, named as ipfs-unixfs names it. */
export type UnixFsType =
  | "raw"
  | "directory"
  | "file"
  | "metadata"
  | "symlink"
  | "hamt-sharded-directory";

/** A decoded UnixFS Data message; absent optional fields are undefined. */
export interface UnixFsData {
  readonly type: UnixFsType;
  /** The node's own bytes: file content, or a symlink's target. */
  readonly data?: Uint8Array;
  /** The content size of each child of a file node, in link order. */
  readonly blockSizes: readonly bigint[];
  /** The hash function of a HAMT-sharded directory (a multihash code). */
  readonly hashType?: bigint;
  /** The number of buckets of a HAMT-sharded directory. */
  readonly fanout?: bigint;
  /** The mode as stored; readers default a missing one to 0o644 (files) or 0o755 (directories). */
  readonly mode?: number;
  /** The modification time, in seconds (and nanoseconds) since the Unix epoch. */
  readonly mtime?: { readonly secs: bigint; readonly nsecs?: number };
  /**
   * The size of the file's content: 0 for directories, otherwise the data's length plus the sum
   * of blockSizes (the stored filesize field is not trusted, as ipfs-unixfs does not trust it).
   */
  fileSize(): bigint;
}

/** Data.Type's enum values, in order, as ipfs-unixfs names them. */
export const UNIXFS_TYPES: readonly UnixFsType[] = [
  "raw",
  "directory",
  "file",
  "metadata",
  "symlink",
  "hamt-sharded-directory",
];

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

/** Protobuf's largest field number (2^29 - 1). */
const MAX_FIELD = 0x1fffffff;

/**
 * Decodes a UnixFS Data message. Truncated or malformed bytes throw an Error saying what is wrong
 * and at which byte.
 *
 * @example
 * decodeUnixFsData(new Uint8Array([0x08, 0x01])).type; // "directory"
 */
export function decodeUnixFsData(bytes: Uint8Array): UnixFsData {
  const r = new Reader(bytes, 0, bytes.length);
  let type: UnixFsType | undefined;
  let data: Uint8Array | undefined;
  const blockSizes: bigint[] = [];
  let hashType: bigint | undefined;
  let fanout: bigint | undefined;
  let mode: number | undefined;
  let mtime: { secs: bigint; nsecs?: number } | undefined;
  while (r.pos < r.end) {
    const { field, wire, at } = r.tag();
    switch (field) {
      case 1: {
        const value = r.varint(field, wire);
        if (value >= UNIXFS_TYPES.length) {
          throw new Error(`unknown UnixFS Type ${value} at byte ${at}`);
        }
        type = UNIXFS_TYPES[Number(value)];
        break;
      }
      case 2:
        data = r.bytes(field, wire);
        break;
      case 3:
        r.varint(field, wire); // filesize: see fileSize()
        break;
      case 4:
        // A repeated number may also come packed: one length-delimited run of varints.
        if (wire === LEN) {
          const run = r.sub(field, wire);
          while (run.pos < run.end) blockSizes.push(run.varint(field, VARINT));
        } else {
          blockSizes.push(r.varint(field, wire));
        }
        break;
      case 5:
        hashType = r.varint(field, wire);
        break;
      case 6:
        fanout = r.varint(field, wire);
        break;
      case 7:
        // uint32 from a varint keeps the low 32 bits, as protobuf decoders do.
        mode = Number(BigInt.asUintN(32, r.varint(field, wire)));
        break;
      case 8:
        mtime = decodeUnixTime(r.sub(field, wire));
        break;
      default:
        r.skip(wire, at);
    }
  }
  if (type === undefined) throw new Error("no UnixFS Type");
  const isDirectory = type === "directory" || type === "hamt-sharded-directory";
  return {
    type,
    data,
    blockSizes,
    hashType,
    fanout,
    mode,
    mtime,
    fileSize() {
      if (isDirectory) return 0n;
      let sum = BigInt(data?.length ?? 0);
      for (const size of blockSizes) sum += size;
      return sum;
    },
  };
}

/** UnixTime{Seconds int64 = 1, FractionalNanoseconds fixed32 = 2}; Seconds defaults to 0. */
function decodeUnixTime(r: Reader): { secs: bigint; nsecs?: number } {
  let secs = 0n;
  let nsecs: number | undefined;
  while (r.pos < r.end) {
    const { field, wire, at } = r.tag();
    if (field === 1) secs = BigInt.asIntN(64, r.varint(field, wire));
    else if (field === 2) nsecs = r.fixed32(field, wire);
    else r.skip(wire, at);
  }
  return nsecs === undefined ? { secs } : { secs, nsecs };
}

/** A cursor over bytes[pos, end); every read checks the bound and the field's wire type. */
class Reader {
  constructor(readonly buf: Uint8Array, public pos: number, readonly end: number) {}

  tag(): { field: number; wire: number; at: number } {
    const at = this.pos;
    const tag = Number(this.uint64());
    const field = Math.floor(tag / 8);
    if (field > MAX_FIELD) throw new Error(`bad field number at byte ${at}`);
    return { field, wire: tag % 8, at };
  }

  varint(field: number, wire: number): bigint {
    this.expect(field, wire, VARINT);
    return this.uint64();
  }

  bytes(field: number, wire: number): Uint8Array {
    const sub = this.sub(field, wire);
    return this.buf.subarray(sub.pos, sub.end);
  }

  /** A reader over a length-delimited field's bytes; this one moves past them. */
  sub(field: number, wire: number): Reader {
    this.expect(field, wire, LEN);
    const length = this.length();
    const sub = new Reader(this.buf, this.pos, this.pos + length);
    this.pos += length;
    return sub;
  }

  fixed32(field: number, wire: number): number {
    this.expect(field, wire, I32);
    this.need(4);
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4);
    this.pos += 4;
    return view.getUint32(0, true);
  }

  /** Moves past the value of an unknown field. */
  skip(wire: number, at: number): void {
    if (wire === VARINT) this.uint64();
    else if (wire === I64) this.advance(8);
    else if (wire === LEN) this.advance(this.length());
    else if (wire === I32) this.advance(4);
    else throw new Error(`unsupported wire type ${wire} at byte ${at}`);
  }

  private expect(field: number, wire: number, expected: number): void {
    if (wire !== expected) {
      throw new Error(`field ${field} has wire type ${wire}, not ${expected}`);
    }
  }

  private length(): number {
    const at = this.pos;
    const length = this.uint64();
    if (length > BigInt(this.end - this.pos)) {
      throw new Error(`length ${length} at byte ${at} runs past the end (${this.end})`);
    }
    return Number(length);
  }

  private advance(n: number): void {
    this.need(n);
    this.pos += n;
  }

  private need(n: number): void {
    if (this.end - this.pos < n) throw new Error(`truncated at byte ${this.pos}`);
  }

  /** A base-128 varint of at most 10 bytes whose value fits in 64 bits. */
  private uint64(): bigint {
    const at = this.pos;
    let value = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error(`truncated varint at byte ${at}`);
      const b = this.buf[this.pos++];
      value |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) {
        if (i === 9 && b > 1) throw new Error(`varint over 64 bits at byte ${at}`);
        return value;
      }
    }
    throw new Error(`varint longer than 10 bytes at byte ${at}`);
  }
}
