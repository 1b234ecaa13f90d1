// ipfs/assemble.ts — a UnixFS file's bytes, verified, written in order to a sink (the memfd).
//
// The bytes come as one `cat` stream, which is the fastest way a node serves a file, and are
// trusted no more than anything else the node sends: the file's DAG is walked from its verified
// root, the inner nodes are fetched as verified blocks, and each leaf's share of the stream is
// hashed and compared with the leaf's CID before it is written. A raw leaf is its bytes; a dag-pb
// leaf is framed the way importers frame leaves (PBNode{Data: UnixFS{Type, Data, filesize}}), and
// when that does not reproduce its CID the leaf is fetched as a block instead. Hashing runs while
// the stream goes on; writes wait, in order, for their check.
//
// Memory stays flat whatever the file's size: the stream is read straight into pooled leaf
// buffers, which return to the pool once written, and at most MAX_QUEUED bytes wait unwritten.

import { SetupError } from "../core/errors.ts";
import { type CID, equalBytes, hashMatches, inlineBytes, RAW, unverifiableHash } from "./block.ts";
import type { VerifiedBlocks } from "./blocks.ts";
import { type ByteSource, MAX_BLOCK_BYTES, MAX_BLOCK_MIB } from "./node.ts";
import { decodeNode, type FileNode, isUnixFsCodec, type Node } from "./unixfs.ts";

/** Where verified bytes go, in file order. */
export interface Sink {
  /** Appends `bytes`, which stay unchanged until the returned promise (if any) settles. */
  write(bytes: Uint8Array): void | Promise<void>;
  /** Appends a copy of `length` bytes already written at `offset` (a repeated sub-DAG). */
  copy(offset: number, length: number): void | Promise<void>;
}

/** A leaf's block is at most this much larger than its data (protobuf framing). */
const LEAF_OVERHEAD = 32;
/** Verified-but-unwritten bytes allowed to pile up before the stream waits for the writer. */
const MAX_QUEUED = 4 * 2 ** 20;
/** UnixFS Data.Type of leaves: File, as js-ipfs writes them, and Raw, as Kubo does. */
const LEAF_TYPES = [2, 0];

type Task =
  | { readonly cid: CID; readonly size?: number; readonly tsize?: number }
  | { readonly end: string; readonly start: number };

/** The size of the file `node` roots, from its UnixFS data. */
export function fileSize(node: Node): number {
  return node.kind === "raw" ? node.bytes.length : Number(node.unixfs.fileSize());
}

/**
 * Writes the content of `file` to `sink`, verifying every byte. `bytes` gives the node's stream
 * of the file (asked for only when the file has more than one block, and its root gives each
 * link's size); `progress` hears the bytes written so far.
 */
export async function assembleFile(
  file: FileNode,
  blocks: VerifiedBlocks,
  bytes: () => ByteSource,
  sink: Sink,
  progress: (written: number) => void = () => {},
): Promise<void> {
  const { node } = file;
  if (node.kind === "raw") {
    await sink.write(node.bytes);
    progress(node.bytes.length);
    return;
  }
  if (node.pb.Links.length === 0) {
    const data = node.unixfs.data ?? new Uint8Array(0);
    await sink.write(data);
    progress(data.length);
    return;
  }

  const context = blocks.context;
  const total = fileSize(node);
  // A root that gives no size for each of its links (UnixFS says it should) gives no way to read
  // a leaf from the node's stream by its size, and nodes differ over such a file's stream (js-ipfs
  // sends none: "ended after 0 of 0 bytes", blaming the node): every block is fetched and verified
  // instead, and the stream is not asked for.
  const fromBlocks = node.unixfs.blockSizes.length !== node.pb.Links.length;
  const stream = new StreamReader(fromBlocks ? undefined : bytes(), (got) =>
    new SetupError(
      `${context}: the IPFS node at ${blocks.node.where} ended ${
        blocks.name(file.cid)
      } after ${got} of ${total} bytes`,
    ));
  const writer = new OrderedWriter(sink, progress);
  const spans = new Map<string, { start: number; length: number }>();
  const open = new Set<string>();
  const pool = new BufferPool();
  let leafTypes = LEAF_TYPES;
  // A leaf's size is what its parent's UnixFS data says (blockSizes), which the file's author
  // wrote and nothing has checked: a leaf is read whole into a buffer of that size, so a size
  // no block can have is refused before any is allocated (2^40 bytes was "internal error: Array
  // buffer allocation failed"), and a leaf whose bytes do not match is weighed against its own
  // block, so that a wrong size is blamed on the DAG, not on the node.
  const leafSize = (cid: CID, size: number) => {
    if (size > MAX_BLOCK_BYTES) {
      throw new SetupError(
        `${context}: the DAG of ${blocks.name(file.cid)} says its leaf ${
          blocks.name(cid)
        } holds ${size} bytes, more than a block can (${MAX_BLOCK_MIB} MiB)`,
      );
    }
    return size;
  };
  const leafMismatch = async (cid: CID, size: number, real?: number) => {
    real ??= await blocks.get(cid).then((b) => b.length, () => undefined);
    return real !== undefined && real !== size
      ? new SetupError(
        `${context}: the DAG of ${blocks.name(file.cid)} says its leaf ${
          blocks.name(cid)
        } holds ${size} bytes; it holds ${real}`,
      )
      : blocks.mismatch(cid);
  };

  const expand = async (cid: CID, n: Node, stack: Task[]) => {
    if (n.kind !== "pb" || !(n.unixfs.type === "file" || n.unixfs.type === "raw")) {
      throw new SetupError(
        `${context}: ${blocks.name(cid)} inside the file is not UnixFS file data`,
      );
    }
    const key = spanKey(cid);
    open.add(key);
    stack.push({ end: key, start: stream.consumed });
    const data = n.unixfs.data;
    if (data && data.length > 0) {
      await stream.skip(data.length);
      writer.write(data);
    }
    const links = n.pb.Links;
    // Said before any leaf is read: a leaf read from the stream is checked by hashMatches alone.
    for (const l of links) {
      const problem = unverifiableHash(l.Hash, blocks.name(l.Hash));
      if (problem) throw new SetupError(`${context}: ${problem} (in ${blocks.name(cid)})`);
      // Not fetched, and waited on, first: no block of another codec is file data.
      if (!isUnixFsCodec(l.Hash)) {
        throw new SetupError(
          `${context}: ${l.Hash} inside the file is not UnixFS file data (codec 0x${
            l.Hash.code.toString(16)
          })`,
        );
      }
    }
    const sizes = !fromBlocks && n.unixfs.blockSizes.length === links.length
      ? n.unixfs.blockSizes
      : undefined;
    const children: Task[] = links.map((l, i) => ({
      cid: l.Hash,
      size: sizes ? Number(sizes[i]) : undefined,
      tsize: l.Tsize,
    }));
    for (const c of children) {
      if ("cid" in c && c.cid.code !== RAW && !looksLikeLeaf(c)) blocks.prefetch(c.cid);
    }
    stack.push(...children.reverse());
  };

  const stack: Task[] = [];
  try {
    await expand(file.cid, node, stack);
    while (stack.length > 0) {
      writer.throwIfFailed();
      const task = stack.pop()!;
      if ("end" in task) {
        open.delete(task.end);
        spans.set(task.end, { start: task.start, length: stream.consumed - task.start });
        continue;
      }
      const { cid, size } = task;
      const key = spanKey(cid);
      const span = spans.get(key);
      if (span) {
        blocks.forget(cid);
        await stream.skip(span.length);
        writer.copy(span.start, span.length);
        continue;
      }
      if (open.has(key)) {
        throw new SetupError(`${context}: the DAG of ${blocks.name(file.cid)} has a cycle`);
      }
      const start = stream.consumed;
      const inline = inlineBytes(cid);
      // A raw leaf's link size is its block's: when the two sizes its parent gives differ, the
      // block itself is taken, and says which is true (a size above the leaf's waited for bytes
      // the node would never send, and then blamed the node).
      const sizesDiffer = size !== undefined && task.tsize !== undefined && task.tsize !== size;
      if (cid.code === RAW && (inline || size === undefined || sizesDiffer)) {
        const bytes = inline ?? await blocks.get(cid);
        if (!inline && sizesDiffer && bytes.length !== size) {
          throw await leafMismatch(cid, size!, bytes.length);
        }
        await stream.skip(bytes.length);
        writer.write(bytes);
      } else if (cid.code === RAW) {
        const bytes = await stream.fill(pool.take(leafSize(cid, size!)));
        const check = hashMatches(cid, bytes).then(async (ok) => {
          if (!ok) throw await leafMismatch(cid, size!);
        });
        writer.write(bytes, check, () => pool.give(bytes));
      } else if (looksLikeLeaf(task) && !inline) {
        // Read the data into its place inside the leaf block as importers frame it, so checking
        // the framing costs no copy.
        const { prefix, suffix, typeAt } = leafFraming(leafSize(cid, size!), leafTypes[0]);
        const framed = prefix.length + size! + suffix.length === task.tsize;
        const total = framed ? task.tsize! : size!;
        const at = framed ? prefix.length : 0;
        const window = await stream.fill(pool.take(total).subarray(at, at + size!));
        const block = new Uint8Array(window.buffer as ArrayBuffer, 0, total);
        const data = block.subarray(at, at + size!);
        if (framed) {
          block.set(prefix, 0);
          block.set(suffix, at + size!);
        }
        const check = (async () => {
          if (framed) {
            for (const type of leafTypes) {
              block[typeAt] = type;
              if (await hashMatches(cid, block)) {
                leafTypes = [type, ...LEAF_TYPES.filter((t) => t !== type)];
                return;
              }
            }
          }
          // An importer that frames leaves differently: take the leaf itself.
          const leaf = decodeNode(cid, await blocks.get(cid), context, blocks.name(cid));
          if (leaf.kind !== "pb" || leaf.pb.Links.length > 0) {
            throw new SetupError(
              `${context}: ${blocks.name(cid)} in ${
                blocks.name(file.cid)
              } is laid out in a way ww cannot verify from a stream`,
            );
          }
          const leafData = leaf.unixfs.data ?? new Uint8Array(0);
          if (!equalBytes(leafData, data)) throw await leafMismatch(cid, size!, leafData.length);
        })();
        writer.write(data, check, () => pool.give(block));
      } else {
        const child = decodeNode(cid, await blocks.get(cid), context, blocks.name(cid));
        await expand(cid, child, stack);
        continue;
      }
      spans.set(key, { start, length: stream.consumed - start });
      if (writer.queued > MAX_QUEUED) await writer.drain();
    }
    if (!(await stream.atEnd())) {
      throw new SetupError(
        `${context}: the IPFS node at ${blocks.node.where} sent more bytes than ${
          blocks.name(file.cid)
        } holds`,
      );
    }
    await writer.drain();
  } finally {
    await stream.close();
    await writer.settle();
  }
}

/**
 * A CID as a key of `spans` and `open`: its bytes (as CIDv1) as a string. cidKey's base32 text
 * would be encoded anew for every leaf, ~2 ms of a 32 MiB file's main-thread time.
 */
function spanKey(cid: CID): string {
  return String.fromCharCode(...(cid.version === 0 ? cid.toV1() : cid).bytes);
}

function looksLikeLeaf(task: { size?: number; tsize?: number }): boolean {
  if (task.size === undefined || task.tsize === undefined) return false;
  const overhead = task.tsize - task.size;
  return overhead >= 0 && overhead <= LEAF_OVERHEAD;
}

/** Writes to a sink in order, each write after its (already running) check has passed. */
class OrderedWriter {
  queued = 0;
  #written = 0;
  #tail: Promise<void> = Promise.resolve();
  #failure: unknown;

  constructor(readonly sink: Sink, readonly progress: (written: number) => void) {}

  /** Writes `bytes` once `check` passes; `release` then gets the buffer back. */
  write(bytes: Uint8Array, check?: Promise<void>, release?: () => void): void {
    check?.catch(() => {}); // surfaced through the chain, in order
    this.#enqueue(bytes.length, async () => {
      if (check) await check;
      await this.sink.write(bytes);
      release?.();
    });
  }

  copy(offset: number, length: number): void {
    this.#enqueue(length, () => this.sink.copy(offset, length));
  }

  throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  async drain(): Promise<void> {
    await this.#tail;
    this.throwIfFailed();
  }

  /** Waits for the chain without throwing (for clean-up after a failure elsewhere). */
  async settle(): Promise<void> {
    await this.#tail.catch(() => {});
  }

  #enqueue(length: number, op: () => Promise<void> | void): void {
    this.queued += length;
    this.#tail = this.#tail.then(async () => {
      if (this.#failure !== undefined) return;
      try {
        await op();
      } catch (e) {
        this.#failure = e;
        return;
      }
      this.queued -= length;
      this.#written += length;
      this.progress(this.#written);
    });
  }
}

/** Exact-size reads from a byte source into the caller's buffers. */
class StreamReader {
  consumed = 0;
  #scratch = new Uint8Array(64 * 1024);
  #done = false;

  /**
   * `source` undefined: a file taken from its blocks alone, whose bytes skip() only counts (no
   * leaf is filled from a stream then: none has a size).
   */
  constructor(readonly source: ByteSource | undefined, readonly ended: (got: number) => Error) {}

  /**
   * Fills all of `view` from the stream. The read transfers `view`'s buffer, so the result is the
   * same window on the buffer's new identity; `view` itself is unusable afterwards.
   */
  async fill(view: Uint8Array): Promise<Uint8Array> {
    let buffer = view.buffer as ArrayBuffer;
    const { byteOffset, byteLength } = view;
    let filled = 0;
    while (filled < byteLength) {
      const got = await this.#read(
        new Uint8Array(buffer, byteOffset + filled, byteLength - filled),
      );
      if (!got) throw this.ended(this.consumed);
      buffer = got.buffer as ArrayBuffer;
      filled += got.byteLength;
    }
    return new Uint8Array(buffer, byteOffset, byteLength);
  }

  async skip(n: number): Promise<void> {
    if (this.source === undefined) {
      this.consumed += n;
      return;
    }
    while (n > 0) {
      const got = await this.#read(this.#scratch.subarray(0, Math.min(n, this.#scratch.length)));
      if (!got) throw this.ended(this.consumed);
      this.#scratch = new Uint8Array(got.buffer as ArrayBuffer);
      n -= got.byteLength;
    }
  }

  async atEnd(): Promise<boolean> {
    const got = await this.#read(this.#scratch.subarray(0, 1));
    if (!got) return true;
    this.#scratch = new Uint8Array(got.buffer as ArrayBuffer);
    return false;
  }

  async close(): Promise<void> {
    if (!this.#done) {
      this.#done = true;
      await this.source?.close();
    }
  }

  async #read(into: Uint8Array): Promise<Uint8Array | null> {
    if (this.#done || this.source === undefined) return null;
    const got = await this.source.read(into);
    if (!got) {
      this.#done = true;
      return null;
    }
    this.consumed += got.byteLength;
    return got;
  }
}

/** Leaf buffers for reuse, by size: a file's leaves are mostly one size. */
class BufferPool {
  readonly #free = new Map<number, ArrayBuffer[]>();

  take(size: number): Uint8Array {
    return new Uint8Array(this.#free.get(size)?.pop() ?? new ArrayBuffer(size));
  }

  /** Returns the whole buffer behind `view`. */
  give(view: Uint8Array): void {
    const buffer = view.buffer as ArrayBuffer;
    const list = this.#free.get(buffer.byteLength) ?? [];
    list.push(buffer);
    this.#free.set(buffer.byteLength, list);
  }
}

/**
 * The bytes around `size` bytes of data in a leaf block as importers write it: PBNode{Data:
 * UnixFS{Type, Data, filesize}} (dag-pb and UnixFS protobufs, fields in order), and where the
 * Type byte is.
 */
export function leafFraming(
  size: number,
  type: number,
): { prefix: Uint8Array; suffix: Uint8Array; typeAt: number } {
  const sizeVarint = varint(size);
  const dataField = size > 0 ? [0x12, ...sizeVarint] : [];
  const unixfsLength = 2 + dataField.length + size + 1 + sizeVarint.length;
  const head = [0x0a, ...varint(unixfsLength)];
  return {
    prefix: new Uint8Array([...head, 0x08, type, ...dataField]),
    suffix: new Uint8Array([0x18, ...sizeVarint]),
    typeAt: head.length + 1,
  };
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}
