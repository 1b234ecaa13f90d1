// ipfs/assemble.ts — a UnixFS file's bytes, verified, written in order to a sink (the memfd).
//
// The bytes come as one `cat` stream, which is the fastest way a node serves a file, and are
// trusted no more than anything else the node sends: the file's DAG is walked from its verified
// root, the inner nodes are fetched as verified blocks, and each leaf's share of the stream is
// hashed and compared with the leaf's CID before it is written. A raw leaf is its bytes; a dag-pb
// leaf is re-encoded the way importers write leaves, and when that does not reproduce its CID the
// leaf is fetched as a block instead. Hashing runs while the stream goes on; writes wait, in
// order, for their check.

import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { SetupError } from "../run/errors.ts";
import { type CID, cidKey, equalBytes, hashMatches, inlineBytes, RAW } from "./block.ts";
import type { VerifiedBlocks } from "./blocks.ts";
import { decodeNode, type FileNode, type Node } from "./unixfs.ts";

/** Where verified bytes go, in file order. */
export interface Sink {
  write(bytes: Uint8Array): void;
  /** Appends a copy of `length` bytes already written at `offset` (a repeated sub-DAG). */
  copy(offset: number, length: number): void;
}

/** A leaf's block is at most this much larger than its data (protobuf framing). */
const LEAF_OVERHEAD = 32;
/** Verified-but-unwritten bytes allowed to pile up before the stream waits for the writer. */
const MAX_QUEUED = 8 * 2 ** 20;

type Task =
  | { readonly cid: CID; readonly size?: number; readonly tsize?: number }
  | { readonly end: string; readonly start: number };

/** The size of the file `node` roots, from its UnixFS data. */
export function fileSize(node: Node): number {
  return node.kind === "raw" ? node.bytes.length : Number(node.unixfs.fileSize());
}

/**
 * Writes the content of `file` to `sink`, verifying every byte. `cat` opens the node's stream of
 * the file; `progress` hears the bytes written so far.
 */
export async function assembleFile(
  file: FileNode,
  blocks: VerifiedBlocks,
  cat: (cid: CID) => AsyncIterable<Uint8Array>,
  sink: Sink,
  progress: (written: number) => void = () => {},
): Promise<void> {
  const { node } = file;
  if (node.kind === "raw") {
    sink.write(node.bytes);
    progress(node.bytes.length);
    return;
  }
  if (node.pb.Links.length === 0) {
    const data = node.unixfs.data ?? new Uint8Array(0);
    sink.write(data);
    progress(data.length);
    return;
  }

  const context = blocks.context;
  const total = fileSize(node);
  const stream = new StreamReader(cat(file.cid), (got) =>
    new SetupError(
      `${context}: the IPFS node at ${blocks.node.api} ended ${file.cid} after ${got} of ${total} bytes`,
    ));
  const writer = new OrderedWriter(sink, progress);
  const spans = new Map<string, { start: number; length: number }>();
  const open = new Set<string>();
  let leafType: "file" | "raw" = "file";

  const expand = async (cid: CID, n: Node, stack: Task[]) => {
    if (n.kind !== "pb" || !(n.unixfs.type === "file" || n.unixfs.type === "raw")) {
      throw new SetupError(`${context}: ${cid} inside the file is not UnixFS file data`);
    }
    const key = cidKey(cid);
    open.add(key);
    stack.push({ end: key, start: stream.consumed });
    const data = n.unixfs.data;
    if (data && data.length > 0) {
      await stream.skip(data.length);
      writer.write(data);
    }
    const links = n.pb.Links;
    const sizes = n.unixfs.blockSizes.length === links.length ? n.unixfs.blockSizes : undefined;
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
      const key = cidKey(cid);
      const span = spans.get(key);
      if (span) {
        await stream.skip(span.length);
        writer.copy(span.start, span.length);
        continue;
      }
      if (open.has(key)) throw new SetupError(`${context}: the DAG of ${file.cid} has a cycle`);
      const start = stream.consumed;
      const inline = inlineBytes(cid);
      if (cid.code === RAW && (inline || size === undefined)) {
        const bytes = inline ?? await blocks.get(cid);
        await stream.skip(bytes.length);
        writer.write(bytes);
      } else if (cid.code === RAW) {
        const bytes = await stream.take(size!);
        writer.write(
          bytes,
          hashMatches(cid, bytes).then((ok) => {
            if (!ok) throw blocks.mismatch(cid);
          }),
        );
      } else if (looksLikeLeaf(task) && !inline) {
        const data = await stream.take(size!);
        writer.write(
          data,
          (async () => {
            for (const type of [leafType, leafType === "file" ? "raw" as const : "file" as const]) {
              const block = dagPb.encode({ Data: new UnixFS({ type, data }).marshal(), Links: [] });
              if (block.length === task.tsize && await hashMatches(cid, block)) {
                leafType = type;
                return;
              }
            }
            // An importer that frames leaves differently: take the leaf itself.
            const leaf = decodeNode(cid, await blocks.get(cid), context);
            if (leaf.kind !== "pb" || leaf.pb.Links.length > 0) {
              throw new SetupError(
                `${context}: ${cid} in ${file.cid} is laid out in a way ww cannot verify from a stream`,
              );
            }
            if (!equalBytes(leaf.unixfs.data ?? new Uint8Array(0), data)) {
              throw blocks.mismatch(cid);
            }
          })(),
        );
      } else {
        const child = decodeNode(cid, await blocks.get(cid), context);
        await expand(cid, child, stack);
        continue;
      }
      spans.set(key, { start, length: stream.consumed - start });
      if (writer.queued > MAX_QUEUED) await writer.drain();
    }
    if (!(await stream.atEnd())) {
      throw new SetupError(
        `${context}: the IPFS node at ${blocks.node.api} sent more bytes than ${file.cid} holds`,
      );
    }
    await writer.drain();
  } finally {
    await stream.close();
    await writer.settle();
  }
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

  write(bytes: Uint8Array, check?: Promise<void>): void {
    check?.catch(() => {}); // surfaced through the chain, in order
    this.#enqueue(bytes.length, async () => {
      if (check) await check;
      this.sink.write(bytes);
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

/** Exact-size reads from a stream of chunks. */
class StreamReader {
  consumed = 0;
  readonly #it: AsyncIterator<Uint8Array>;
  #chunk: Uint8Array = new Uint8Array(0);
  #done = false;

  constructor(source: AsyncIterable<Uint8Array>, readonly ended: (got: number) => Error) {
    this.#it = source[Symbol.asyncIterator]();
  }

  /** The next `n` bytes. */
  async take(n: number): Promise<Uint8Array> {
    if (this.#chunk.length >= n) return this.#advance(n);
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (this.#chunk.length === 0 && !(await this.#pull())) throw this.ended(this.consumed);
      const part = this.#advance(Math.min(n - filled, this.#chunk.length));
      out.set(part, filled);
      filled += part.length;
    }
    return out;
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.#chunk.length === 0 && !(await this.#pull())) throw this.ended(this.consumed);
      left -= this.#advance(Math.min(left, this.#chunk.length)).length;
    }
  }

  async atEnd(): Promise<boolean> {
    while (this.#chunk.length === 0) if (!(await this.#pull())) return true;
    return false;
  }

  async close(): Promise<void> {
    if (!this.#done) {
      this.#done = true;
      await this.#it.return?.();
    }
  }

  #advance(n: number): Uint8Array {
    const part = this.#chunk.subarray(0, n);
    this.#chunk = this.#chunk.subarray(n);
    this.consumed += n;
    return part;
  }

  async #pull(): Promise<boolean> {
    if (this.#done) return false;
    const r = await this.#it.next();
    if (r.done) {
      this.#done = true;
      return false;
    }
    this.#chunk = r.value;
    return true;
  }
}
