// ipfs/unixfs.ts — UnixFS nodes and the walk from a root CID down a path to a file or directory,
// over verified blocks only. Plain directories are walked here; HAMT-sharded directories are handed
// to ipfs-unixfs-exporter (loaded only when one is met), which reads through the same verifier.

import * as dagPb from "npm:@ipld/dag-pb@^4.2.0";
import { NotExecutableError, NotFoundError, WwError } from "../core/errors.ts";
import { foreignText } from "../core/escape.ts";
import { CID, cidKey, DAG_PB, RAW } from "./block.ts";
import type { VerifiedBlocks } from "./blocks.ts";
import { decodeUnixFsData, type UnixFsData } from "./unixfs_data.ts";

/** A decoded block: raw bytes, or a dag-pb node with its UnixFS data. */
export type Node =
  | { readonly kind: "raw"; readonly bytes: Uint8Array }
  | { readonly kind: "pb"; readonly pb: dagPb.PBNode; readonly unixfs: UnixFsData };

/** How many entries an error message lists. */
const LISTED = 20;
/** How many sub-shards of a sharded directory a listing reads, at most. */
const LISTED_SHARDS = 64;

/** Whether `cid`'s codec is one a UnixFS node has: raw or dag-pb. */
export function isUnixFsCodec(cid: CID): boolean {
  return cid.code === RAW || cid.code === DAG_PB;
}

/**
 * Throws NotExecutableError (126) when `cid`'s codec is neither raw nor dag-pb: no UnixFS node,
 * whatever its block holds, so it is not fetched (the node might take --ipfs-timeout to find it).
 */
export function checkUnixFsCodec(cid: CID, context: string, shown = cid.toString()): void {
  if (isUnixFsCodec(cid)) return;
  throw new NotExecutableError(
    `${context}: ${shown} is not a UnixFS file (codec 0x${
      cid.code.toString(16)
    }); give the CID of the program's file or of a directory that holds it`,
  );
}

/**
 * Decodes a verified block of `cid` (named `shown` in messages); blocks that are neither raw nor
 * UnixFS are an error.
 */
export function decodeNode(
  cid: CID,
  bytes: Uint8Array,
  context: string,
  shown = cid.toString(),
): Node {
  checkUnixFsCodec(cid, context, shown);
  if (cid.code === RAW) return { kind: "raw", bytes };
  try {
    const pb = dagPb.decode(bytes);
    if (!pb.Data) throw new Error("no UnixFS data");
    return { kind: "pb", pb, unixfs: decodeUnixFsData(pb.Data) };
  } catch (e) {
    throw new NotExecutableError(
      `${context}: ${shown} is not a UnixFS node (${e instanceof Error ? e.message : e})`,
    );
  }
}

/** What a path names: its root CID, block and decoded node. */
export interface FileNode {
  readonly cid: CID;
  readonly bytes: Uint8Array;
  readonly node: Node;
}

/**
 * Follows `segments` from `root` and returns the file they name. A missing entry, a path through
 * a file, a directory at the end, or a symlink (at the end or on the way: symlinkRefused) is an
 * error naming the path.
 */
export async function walkToFile(
  root: CID,
  rootText: string,
  segments: readonly string[],
  blocks: VerifiedBlocks,
): Promise<FileNode> {
  const found = await walkToNode(root, rootText, segments, blocks);
  const { node } = found;
  const type = node.kind === "raw" ? "raw" : node.unixfs.type;
  if (type === "file" || type === "raw") return found;
  if (node.kind === "pb" && type === "symlink") {
    throw symlinkRefused(blocks.context, undefined, node);
  }
  if (type === "directory" || type === "hamt-sharded-directory") {
    const { names, cut } = await listDirectory(node, blocks, found.cid);
    throw new NotExecutableError(
      `${blocks.context}: is a directory, not a program; it holds: ${formatNames(names, cut)}`,
    );
  }
  throw new NotExecutableError(
    `${blocks.context}: is a UnixFS ${type}, not a program file (give the path of the program's file)`,
  );
}

/**
 * Follows `segments` from `root` and returns the node they name, whatever its type. A missing
 * entry, or a path through a file, is a NotFoundError (exit 127) naming the path; a path through
 * a symlink, symlinkRefused (126).
 */
export async function walkToNode(
  root: CID,
  rootText: string,
  segments: readonly string[],
  blocks: VerifiedBlocks,
): Promise<FileNode> {
  const context = blocks.context;
  let cid = root;
  let here = `/ipfs/${rootText}`;
  for (let i = 0; i <= segments.length; i++) {
    checkUnixFsCodec(cid, context, blocks.name(cid));
    const bytes = await blocks.get(cid);
    const node = decodeNode(cid, bytes, context, blocks.name(cid));
    if (i === segments.length) return { cid, bytes, node };
    const type = node.kind === "raw" ? "raw" : node.unixfs.type;
    const name = segments[i];
    if (type === "hamt-sharded-directory") {
      const target = await walkSharded(cid, segments.slice(i), blocks);
      return await walkToNode(target, `${target}`, [], blocks);
    }
    if (node.kind === "pb" && type === "symlink") throw symlinkRefused(context, here, node);
    if (type !== "directory" || node.kind !== "pb") {
      const what = type === "raw" ? "file" : type;
      // 127, as for a local path through a file (ENOTDIR): there is no such program.
      throw new NotFoundError(
        `${context}: ${here} is a ${what}, not a directory (check the path: it goes on through it)`,
      );
    }
    const link = node.pb.Links.find((l) => l.Name === name);
    if (!link) {
      const names = node.pb.Links.map((l) => l.Name ?? "");
      // Exit 127, as a shell reports a program path that does not exist.
      throw new NotFoundError(
        `${context}: no entry ${JSON.stringify(name)} in ${here}; it holds: ${formatNames(names)}`,
      );
    }
    cid = link.Hash;
    here = `${here}/${name}`;
  }
  throw new Error("unreachable");
}

/**
 * The names in a directory, sharded or not (at most LISTED + 1 of them), and whether some were
 * left unread: a listing reads at most LISTED_SHARDS of a sharded directory's blocks.
 */
async function listDirectory(
  node: Node,
  blocks: VerifiedBlocks,
  of: CID,
): Promise<{ names: string[]; cut: boolean }> {
  const names: string[] = [];
  // A shard's blocks are its author's: a chain of 80,000 sub-shards, each the only link of the
  // last, holding nothing, was read to its end for a listing (51 s and 400 MB, seen). Sub-shards
  // that hold entries give LISTED names within a few blocks.
  let shards = 0;
  const list = async (node: Node): Promise<boolean> => {
    if (node.kind !== "pb") return false;
    if (node.unixfs.type === "directory") {
      names.push(...node.pb.Links.map((l) => l.Name ?? ""));
      return false;
    }
    // A shard's links are named by a hex bucket prefix, followed by the entry's name; a link
    // that is only a prefix leads to a sub-shard.
    const prefix = ((Number(node.unixfs.fanout ?? 256n)) - 1).toString(16).length;
    for (const link of node.pb.Links) {
      if (names.length > LISTED) return false;
      const name = link.Name ?? "";
      if (name.length > prefix) {
        names.push(name.slice(prefix));
        continue;
      }
      if (++shards > LISTED_SHARDS) return true;
      // A bucket's link that leads to no shard: `of` (the directory asked for) is no sharded
      // directory (it said "holds nothing"). A codec no shard has is not fetched first.
      const noShard = () => malformedShard(blocks.context, of, "a bucket's link leads to no shard");
      if (link.Hash.code !== DAG_PB) throw noShard();
      const child = decodeNode(
        link.Hash,
        await blocks.get(link.Hash),
        blocks.context,
        blocks.name(link.Hash),
      );
      if (child.kind !== "pb" || child.unixfs.type !== "hamt-sharded-directory") throw noShard();
      if (await list(child)) return true;
    }
    return false;
  };
  const cut = await list(node);
  return { names, cut };
}

/** Resolves `segments` below the HAMT-sharded directory `shard` with ipfs-unixfs-exporter. */
async function walkSharded(
  shard: CID,
  segments: readonly string[],
  blocks: VerifiedBlocks,
): Promise<CID> {
  const { walkPath } = await import("npm:ipfs-unixfs-exporter@^16.2.2");
  // The exporter reads blocks through this store, so every block it looks at is verified.
  const store = {
    async *get(cid: CID) {
      yield await blocks.get(CID.asCID(cid) ?? cid);
    },
  };
  let last: CID = shard;
  try {
    for await (const entry of walkPath(`${cidKey(shard)}/${segments.join("/")}`, store)) {
      last = entry.cid;
    }
  } catch (e) {
    // ww's own (an interrupt's, a node's failure), not the DAG's.
    if (e instanceof WwError) throw e;
    if (e instanceof Error && e.name === "NotFoundError") {
      throw new NotFoundError(
        `${blocks.context}: no such entry in the sharded directory ${shard} (${e.message})`,
      );
    }
    // Any other failure of the exporter is the DAG's: its author's blocks, however they are wrong
    // (an "internal error" before).
    throw malformedShard(blocks.context, shard, e instanceof Error ? e.message : String(e));
  }
  return last;
}

/**
 * The error for a UnixFS symlink at `here` on a program's path (the program itself: undefined),
 * naming it and its target: ww
 * follows none, at the end of the path or on the way. A target is its author's text, relative to
 * a directory the walk would have to go back up (and past the root), or absolute, naming a path
 * on whatever host reads it: not content any CID verifies. 126: a file is there, and ww will not
 * execute what it names.
 */
function symlinkRefused(
  context: string,
  here: string | undefined,
  node: Extract<Node, { kind: "pb" }>,
): NotExecutableError {
  const target = new TextDecoder().decode(node.unixfs.data ?? new Uint8Array());
  return new NotExecutableError(
    `${context}: ${here === undefined ? "" : `${here} `}is a UnixFS symlink to "${
      foreignText(target, 200)
    }", which ww does not follow (give the path it points to, below its directory)`,
  );
}

/** The error for a sharded directory whose blocks are not a valid one: 126, as a bad node is. */
function malformedShard(context: string, shard: CID, why: string): NotExecutableError {
  return new NotExecutableError(
    `${context}: ${shard} is not a valid sharded UnixFS directory (${foreignText(why, 200)})`,
  );
}

/** `names`, cut to LISTED; `more` when there are others not read. */
function formatNames(names: readonly string[], more = false): string {
  if (names.length === 0) {
    return more ? `nothing in its first ${LISTED_SHARDS} sub-shards, ...` : "nothing";
  }
  // A DAG's names are its author's: cut and escaped, as any text ww did not write.
  const shown = names.slice(0, LISTED).map((n) => foreignText(n, 100)).join(", ");
  return names.length > LISTED || more ? `${shown}, ...` : shown;
}
