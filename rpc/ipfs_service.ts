// rpc/ipfs_service.ts — IPFS for the host capability (--with-ipfs): cat, ls and stat of IPFS paths and
// add of bytes, through the node ww was pointed at (--ipfs), trusting it no more than the program
// fetcher does. Paths are walked over verified blocks (unixfs.ts), a file's bytes are assembled and
// checked leaf by leaf (assemble.ts), /ipns/ names are resolved as for a program (ipns.ts: a
// record ww verifies, or DNSLink read by ww; the node's word only with --trust-node-ipns), and the
// CID the node returns for added bytes is checked to name exactly those bytes before a program
// sees it.
//
// Loaded only when a program first calls one of these methods (main.ts wires it in lazily), since
// it brings in the IPLD libraries.

import type { IpfsEntry, IpfsEntryType, IpfsService, IpfsStat } from "./types.ts";
import { SetupError, UsageError } from "../core/errors.ts";
import { foreignText } from "../core/escape.ts";
import { assembleFile, fileSize, type Sink } from "../ipfs/assemble.ts";
import {
  type CID,
  cidKey,
  cidNames,
  DAG_PB,
  equalBytes,
  hashMatches,
  parseCid,
  RAW,
} from "../ipfs/block.ts";
import { VerifiedBlocks } from "../ipfs/blocks.ts";
import { resolveIpnsName } from "../ipfs/ipns.ts";
import { DEFAULT_IPFS_TIMEOUT_MS } from "../ipfs/multiaddr.ts";
import { type ByteSource, IpfsNode } from "../ipfs/node.ts";
import { formatIpfsPath, type IpfsPath, parseIpfsPath } from "../core/ipfs_path.ts";
import { decodeNode, type FileNode, type Node, walkToNode } from "../ipfs/unixfs.ts";

export interface IpfsServiceOptions {
  /** The node's Kubo RPC endpoint: a multiaddr or http(s) URL (--ipfs; see ipfsApiUrl). */
  readonly api: string;
  /** Where `api` came from (--ipfs, WW_IPFS, $IPFS_PATH/api ...), named in errors. */
  readonly origin?: string;
  /** How long the node may send nothing before a call gives up (--ipfs-timeout). */
  readonly timeoutMs?: number;
  /** Take the node's word for an /ipns/ name it gives no record for (--trust-node-ipns). */
  readonly trustNodeIpns?: boolean;
}

/**
 * The IPFS service for the host capability. Every method fails with a one-line Error naming the
 * path or CID. `stat` and `ls` report a file's size as its length in bytes and a directory's as
 * the size of its whole DAG, as its links record it.
 *
 * @example
 * const ipfs = ipfsService({ api: "/ip4/127.0.0.1/tcp/5001/http" });
 * const cid = await ipfs.add(new TextEncoder().encode("hello"));
 * await ipfs.cat(`/ipfs/${cid}`); // the same bytes, verified
 */
export function ipfsService(options: IpfsServiceOptions): IpfsService {
  const timeoutMs = options.timeoutMs ?? DEFAULT_IPFS_TIMEOUT_MS;
  const turns = nodeTurns(MAX_NODE_CALLS);
  /**
   * Runs `f` with a connection whose errors start with `context`, closed afterwards, once fewer
   * than MAX_NODE_CALLS others hold one.
   */
  const withNode = async <T>(context: string, f: (node: IpfsNode) => Promise<T>): Promise<T> => {
    await turns.take();
    const node = new IpfsNode(options.api, timeoutMs, context, undefined, options.origin);
    try {
      return await f(node);
    } finally {
      node.close();
      turns.give();
    }
  };
  return {
    cat: (path, reserve) =>
      withNode(path, async (node) => {
        const { found, blocks } = await walk(path, node, options);
        const type = typeOf(found.node);
        if (type === "directory") {
          throw new SetupError(
            `${path}: is a directory, not a file (ls lists it; cat reads a file)`,
          );
        }
        if (type !== "file") {
          throw new SetupError(`${path}: is a UnixFS ${unixfsType(found.node)}, not a file`);
        }
        const size = fileSize(found.node);
        if (size > MAX_CAT_BYTES) {
          throw new SetupError(
            `${path}: is ${size} bytes, more than one cat returns (${MAX_CAT_BYTES >> 20} MiB)`,
          );
        }
        await reserve?.(size);
        const sink = new MemorySink(size);
        await assembleFile(found, blocks, () => node.cat(found.cid.toString()), sink);
        return sink.bytes();
      }),
    stat: (path) =>
      withNode(path, async (node) => {
        const { found } = await walk(path, node, options);
        return statOf(found);
      }),
    ls: (path, reserve) =>
      withNode(path, async (node) => {
        // Before anything is fetched: a guest may ask for hundreds at once.
        await reserve?.(LS_RESERVE);
        const { found, blocks } = await walk(path, node, options);
        const type = typeOf(found.node);
        if (type !== "directory") {
          const what = type === "file" ? "file" : `UnixFS ${unixfsType(found.node)}`;
          throw new SetupError(
            `${path}: is a ${what}, not a directory (${
              type === "file" ? "cat reads it; " : ""
            }ls lists a directory)`,
          );
        }
        const links = await directoryLinks(found, blocks, path);
        // Entries that share a CID (a shard may link one block many times) share one fetch.
        const stats = new Map<string, Promise<IpfsStat>>();
        const stat = (cid: CID) => {
          const key = cidKey(cid);
          let known = stats.get(key);
          if (known === undefined) {
            blocks.prefetch(cid);
            known = blocks.get(cid).then((bytes) =>
              statOf({ cid, bytes, node: decodeNode(cid, bytes, path) })
            );
            stats.set(key, known);
          }
          return known;
        };
        return await Promise.all(links.map(async ({ name, cid }): Promise<IpfsEntry> => {
          if (!isUnixfs(cid)) return { name, cid: cidKey(cid), size: 0, type: "other" };
          return { name, ...await stat(cid) };
        }));
      }),
    add: (data) =>
      withNode(`add of ${data.length} bytes`, async (node) => {
        const cid = await addBytes(node, data);
        await checkAdded(node, cid, data);
        return cidKey(cid);
      }),
  };
}

/** The largest file `cat` returns: it is held in memory and sent as one message. */
const MAX_CAT_BYTES = 64 << 20;

/** Verified blocks whose mismatch errors fit the call (there is no program to refuse to run). */
class CheckedBlocks extends VerifiedBlocks {
  constructor(
    node: IpfsNode,
    name?: (cid: CID) => string,
    readonly why = (shown: string) =>
      `the IPFS node at ${node.where} sent data that does not match ${shown}`,
  ) {
    super(node, name);
  }

  override mismatch(cid: CID): SetupError {
    return new SetupError(`${this.context}: ${this.why(this.name(cid))}`);
  }
}

/** The node `path` names, found by a walk over verified blocks (an /ipns/ name resolved first). */
async function walk(
  path: string,
  node: IpfsNode,
  options: IpfsServiceOptions,
): Promise<{ found: FileNode; blocks: VerifiedBlocks }> {
  const parsed = parseIpfsPath(path);
  if ("error" in parsed) throw new UsageError(parsed.error);
  let target: IpfsPath = parsed;
  if (parsed.namespace === "ipns") {
    const { path: to } = await resolveIpnsName(node, parsed.root, path, {
      trustNode: options.trustNodeIpns,
    });
    const resolved = parseIpfsPath(to);
    if ("error" in resolved) throw new SetupError(`${path}: ${resolved.error}`);
    target = { ...resolved, segments: [...resolved.segments, ...parsed.segments] };
  }
  const root = parseCid(target.root);
  if ("error" in root) throw new UsageError(`${formatIpfsPath(target)}: ${root.error}`);
  // Errors name the root as the guest wrote it.
  const blocks = new CheckedBlocks(node, cidNames(root, target.root));
  const found = await walkToNode(root, target.root, target.segments, blocks);
  return { found, blocks };
}

function isUnixfs(cid: CID): boolean {
  return cid.code === RAW || cid.code === DAG_PB;
}

function unixfsType(node: Node): string {
  return node.kind === "raw" ? "raw" : node.unixfs.type;
}

function typeOf(node: Node): IpfsEntryType {
  const type = unixfsType(node);
  if (type === "file" || type === "raw") return "file";
  if (type === "directory" || type === "hamt-sharded-directory") return "directory";
  return "other";
}

function statOf({ cid, bytes, node }: FileNode): IpfsStat {
  const type = typeOf(node);
  const size = type === "file"
    ? fileSize(node)
    : node.kind === "pb"
    ? node.pb.Links.reduce((n, l) => n + (l.Tsize ?? 0), bytes.length)
    : bytes.length;
  return { cid: cidKey(cid), size, type };
}

/**
 * The most entries one ls returns. A sharded directory's entries are not bounded by its blocks:
 * a shard of 5000 links to one sub-shard of 5000 entries, two blocks a guest could add, listed as
 * 25 million entries and took ww to 6 GB and out of memory.
 */
export const MAX_LS_ENTRIES = 10_000;

/**
 * The most bytes one ls returns, as its message holds them (lsEntryBytes). Names are not bounded by
 * their blocks either: a shard of 1000 links to one sub-shard of ten 10 KB names, 145 KB of blocks,
 * listed as 100 MB and took ww past 1 GiB. 10000 entries of 255-byte names come to 3.5 MB.
 */
export const MAX_LS_BYTES = 4 << 20;

/**
 * What one ls reserves of the guest's budget before it starts (charged twice, as every result):
 * listing is costlier than its result (the block, its links decoded, their stats, the message),
 * and 40 concurrent ls of 6000 entries took ww to 1 GiB when nothing bounded them. Charged this,
 * the whole budget, one runs at a time: two at once still took ww to 235 MiB (bound 256), since
 * building one 1.2 MB result costs ~80 MB until collected.
 */
const LS_RESERVE = 8 * MAX_LS_BYTES;

/**
 * How many of a guest's calls reach the node at once; the others wait their turn, in order. Each
 * holds connections of its own (descriptors): 1000 concurrent calls took ww to 1027 descriptors,
 * past the usual limit. A call takes its turn before it reserves any memory (cat, ls), so that
 * every call holding a reservation can fetch.
 */
const MAX_NODE_CALLS = 8;

/** Turns of `limit` at once: `take` resolves once one is free, `give` hands it on. */
function nodeTurns(limit: number): { take(): Promise<void>; give(): void } {
  let held = 0;
  const waiting: (() => void)[] = [];
  return {
    take: () => {
      if (held < limit) {
        held++;
        return Promise.resolve();
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
    give: () => {
      const next = waiting.shift();
      if (next) next();
      else held--;
    },
  };
}

/** What one entry of an ls takes in its message: the struct, its name and its CID as texts. */
function lsEntryBytes(name: string, cid: CID): number {
  const text = (n: number) => Math.ceil((n + 1) / 8) * 8;
  return 32 + text(UTF8.encode(name).length) + text(cidKey(cid).length);
}

const UTF8 = new TextEncoder();

/**
 * The entries of a plain or HAMT-sharded directory, as names and CIDs, and the bytes their ls
 * result will take; at most MAX_LS_ENTRIES and MAX_LS_BYTES, counted as they are read.
 */
async function directoryLinks(
  dir: FileNode,
  blocks: VerifiedBlocks,
  path: string,
): Promise<{ name: string; cid: CID }[]> {
  const { node } = dir;
  const links: { name: string; cid: CID }[] = [];
  let bytes = 0;
  if (node.kind !== "pb") return links;
  const tooMany = () =>
    new SetupError(
      `${path}: holds more than ${MAX_LS_ENTRIES} entries, more than one ls returns; name a path beneath it`,
    );
  const add = (name: string, cid: CID) => {
    if (links.length === MAX_LS_ENTRIES) throw tooMany();
    bytes += lsEntryBytes(name, cid);
    if (bytes > MAX_LS_BYTES) {
      throw new SetupError(
        `${path}: its entries' names and CIDs come to more than ${
          MAX_LS_BYTES >> 20
        } MiB, more than one ls returns; name a path beneath it`,
      );
    }
    links.push({ name, cid });
  };
  if (node.unixfs.type === "directory") {
    if (node.pb.Links.length > MAX_LS_ENTRIES) throw tooMany();
    for (const l of node.pb.Links) add(l.Name ?? "", l.Hash);
    return links;
  }
  const { exporter } = await import("npm:ipfs-unixfs-exporter@^16.2.2");
  // The exporter reads blocks through this store, so every shard it looks at is verified.
  const store = {
    async *get(cid: CID) {
      yield await blocks.get(cid);
    },
  };
  const entry = await exporter(dir.cid, store);
  if (entry.type !== "directory") return links;
  for await (const e of entry.entries()) add(e.name, e.cid);
  return links;
}

/** Uploads `data` to the node as one file (CIDv1, raw leaves); the CID it answers, unchecked. */
async function addBytes(node: IpfsNode, data: Uint8Array): Promise<CID> {
  const text = await node.add(data);
  let hash: unknown;
  try {
    hash = JSON.parse(text.trim().split("\n").at(-1)!).Hash;
  } catch { /* reported below */ }
  const cid = typeof hash === "string" ? parseCid(hash) : undefined;
  if (!cid || "error" in cid) {
    throw new SetupError(
      `${node.context}: the IPFS node at ${node.where} answered add without a CID: ${
        foreignText(text.trim().split("\n")[0])
      }`,
    );
  }
  return cid;
}

/**
 * Checks that `cid` names exactly `data`: the file's DAG is walked from its verified root and
 * assembled with `data` standing in for the node's stream of the file's bytes, so every leaf is
 * hashed against its CID from the data itself and only inner nodes come from the node.
 */
async function checkAdded(node: IpfsNode, cid: CID, data: Uint8Array): Promise<void> {
  const lie = (why: string) =>
    `the IPFS node at ${node.where} answered ${cid}, which does not name the bytes added (${why})`;
  if (cid.code === RAW) {
    if (!(await hashMatches(cid, data))) {
      throw new SetupError(`${node.context}: ${lie("their hash differs")}`);
    }
    return;
  }
  const blocks = new CheckedBlocks(node, undefined, (leaf) => lie(`${leaf} differs`));
  const found = await walkToNode(cid, cid.toString(), [], blocks);
  if (typeOf(found.node) !== "file") {
    throw new SetupError(`${node.context}: ${lie(`it is a ${unixfsType(found.node)}`)}`);
  }
  const size = fileSize(found.node);
  if (size !== data.length) {
    throw new SetupError(`${node.context}: ${lie(`it holds ${size} bytes`)}`);
  }
  const sink = new ComparingSink(data);
  await assembleFile(found, blocks, () => localSource(data), sink);
  if (sink.problem() !== undefined) {
    throw new SetupError(`${node.context}: ${lie(sink.problem()!)}`);
  }
}

/** `data` as the stream of a file's bytes. */
function localSource(data: Uint8Array): ByteSource {
  let offset = 0;
  return {
    read(into) {
      if (offset >= data.length) return Promise.resolve(null);
      const n = Math.min(into.length, data.length - offset);
      into.set(data.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(into.subarray(0, n));
    },
    close: () => Promise.resolve(),
  };
}

/** A sink that checks that what the DAG assembles to is `data`, byte for byte. */
class ComparingSink implements Sink {
  #at = 0;
  #differs: number | undefined;

  constructor(readonly data: Uint8Array) {}

  write(bytes: Uint8Array): void {
    this.#expect(bytes);
  }

  copy(offset: number, length: number): void {
    this.#expect(this.data.subarray(offset, offset + length));
  }

  /** What differs, once everything is written; undefined when nothing does. */
  problem(): string | undefined {
    if (this.#differs !== undefined) return `it differs at byte ${this.#differs}`;
    if (this.#at !== this.data.length) return `it holds ${this.#at} of ${this.data.length} bytes`;
    return undefined;
  }

  #expect(bytes: Uint8Array): void {
    const end = this.#at + bytes.length;
    if (this.#differs === undefined) {
      if (end > this.data.length || !equalBytes(bytes, this.data.subarray(this.#at, end))) {
        this.#differs = this.#at;
      }
    }
    this.#at = end;
  }
}

/** A file's verified bytes, in memory (a cat's answer is one message anyway). */
class MemorySink implements Sink {
  #buffer: Uint8Array;
  #length = 0;

  constructor(expected: number) {
    this.#buffer = new Uint8Array(expected);
  }

  write(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  copy(offset: number, length: number): void {
    this.#reserve(length);
    this.#buffer.copyWithin(this.#length, offset, offset + length);
    this.#length += length;
  }

  bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }

  #reserve(n: number): void {
    if (this.#length + n <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.max(this.#length + n, this.#buffer.length * 2));
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
  }
}
