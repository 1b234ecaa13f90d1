// ipfs/download.ts — the cold path: from an /ipfs/ path to a verified file in a memfd, through the
// node. Loaded by fetch.ts only on a cache miss, since it brings in the IPLD libraries.

import { writeAll } from "../ffi/fd.ts";
import { copyRange } from "../ffi/memfd.ts";
import { SetupError, UsageError } from "../core/errors.ts";
import { assembleFile, fileSize } from "./assemble.ts";
import { cidKey, cidNames, inlineBytes, parseCid, unverifiableHash } from "./block.ts";
import { VerifiedBlocks } from "./blocks.ts";
import { CacheFiller, openCached } from "./cache.ts";
import type { ByteSource, IpfsNode } from "./node.ts";
import type { IpfsPath } from "../core/ipfs_path.ts";
import { stderrProgress } from "./progress.ts";
import { walkToFile } from "./unixfs.ts";

/**
 * Where the file went: written to `memfd` and copied into the cache by `filler` (done reading the
 * memfd, so it can be sealed), which the caller commits or discards (no filler: the file is larger
 * than the cache, or `cacheProblem` says why the cache cannot be written); or found in the cache
 * after all.
 */
export type Downloaded =
  | {
    readonly cid: string;
    readonly size: number;
    readonly filler?: CacheFiller;
    readonly cacheProblem?: string;
    readonly cached?: undefined;
  }
  | { readonly cid: string; readonly size: number; readonly cached: { readonly fd: number } };

/** The largest program ww fetches from IPFS: it holds the whole file in memory. */
export const MAX_PROGRAM_BYTES = 2 * 2 ** 30;

/** The cache a download looks in and fills. */
export interface CacheSpace {
  readonly dir: string;
  readonly maxBytes: number;
}

/** Requests sent before download.ts was loaded, so the node works while the code loads. */
export interface EarlyRequests {
  /** block/get of the path's root CID. */
  readonly root: Promise<Uint8Array>;
  /** cat of the whole path: the bytes of the file it names, as the node resolves it. */
  readonly bytes: ByteSource;
}

/**
 * Resolves `path` (an /ipfs/ path) through `node` to a file and writes its verified bytes to
 * `memfd`, copying them into the cache as they come; when the file turns out to be cached under
 * its CID, returns the cached copy instead. The node's own resolution of the path (behind
 * `early.bytes`) is not trusted: the bytes are checked against the file that ww's walk finds.
 */
export async function download(
  path: IpfsPath,
  node: IpfsNode,
  early: EarlyRequests | undefined,
  memfd: number,
  cache: CacheSpace,
): Promise<Downloaded> {
  const context = node.context;
  const root = parseCid(path.root);
  if ("error" in root) throw new UsageError(`${context}: ${root.error}`);
  // Before the early requests are waited for: a node may take its time over a CID that names
  // nothing it can check.
  const weak = unverifiableHash(root, path.root);
  if (weak) throw new SetupError(`${context}: ${weak}`);
  if (path.segments.length === 0) {
    // Before the root is asked for: a CID written in another base than the path that cached it.
    const hit = await openCached(cache.dir, { cid: cidKey(root) });
    if (hit) return { cid: hit.cid, size: hit.size, cached: { fd: hit.fd } };
  }
  // Messages name the root as the user wrote it; the cache keys it canonically (cidKey).
  const blocks = new VerifiedBlocks(node, cidNames(root, path.root));
  if (early) blocks.adopt(root, early.root);
  const file = await walkToFile(root, path.root, path.segments, blocks);
  const cid = cidKey(file.cid);
  const size = fileSize(file.node);
  // Cached under its CID by another path: only a file of the size its root says (one cut short by
  // a crash ran as the program, and was recorded as it, seen).
  const hit = await openCached(cache.dir, { cid, size });
  if (hit) return { cid, size: hit.size, cached: { fd: hit.fd } };
  // A root that gives no size for each of its links says nothing of how much it holds (UnixFS
  // says it should; ww takes such a file, walks it all, and does not cache it).
  const sized = file.node.kind === "raw" ||
    file.node.unixfs.blockSizes.length === file.node.pb.Links.length;
  // Such a file is taken from its blocks (assemble.ts): the node's stream of it, asked for early,
  // is not read, and goes now rather than run on, unread, until the fetch ends.
  if (!sized) await early?.bytes.close();
  // Held in memory (a memfd) until it runs: a DAG of a few KiB whose levels each link one child
  // twice describes a TiB, and the copies of its repeated spans filled ww's memory.
  if (size > MAX_PROGRAM_BYTES) {
    throw new SetupError(
      `${context}: ${
        blocks.name(file.cid)
      } holds ${size} bytes; ww holds a program from IPFS in memory until it runs, and takes one of at most ${
        MAX_PROGRAM_BYTES / 2 ** 30
      } GiB`,
    );
  }
  // A cache that cannot be written (a read-only home, say) is no reason to fail the run: the
  // caller warns, and the next run fetches again.
  let filler: CacheFiller | undefined;
  let cacheProblem: string | undefined;
  // An identity CID is its own copy (and may be longer than a file name can be).
  if (sized && size <= cache.maxBytes && !inlineBytes(file.cid)) {
    try {
      filler = await CacheFiller.open(cache.dir);
    } catch (e) {
      cacheProblem = e instanceof Error ? e.message : String(e);
    }
  }
  // A fetch whose lines go elsewhere than stderr (a guest's start) draws none on the terminal.
  const progress = stderrProgress(context, size, node.notices !== undefined);
  let written = 0;
  // The root's sizes are its author's word, and all that bounded the memfd and the cache's copy:
  // a DAG that says 2 bytes and holds a GiB filled both (the cache past its bound).
  const within = (n: number) => {
    if (written + n <= (sized ? size : MAX_PROGRAM_BYTES)) return;
    throw new SetupError(
      sized
        ? `${context}: the DAG of ${
          blocks.name(file.cid)
        } holds more than the ${size} bytes its root says (refusing to run it)`
        : `${context}: ${blocks.name(file.cid)} holds more than ${
          MAX_PROGRAM_BYTES / 2 ** 30
        } GiB; ww holds a program from IPFS in memory until it runs`,
    );
  };
  try {
    await assembleFile(
      file,
      blocks,
      () => early?.bytes ?? node.cat(file.cid.toString(), blocks.name(file.cid)),
      {
        write: (bytes) => {
          within(bytes.length);
          writeAll(memfd, bytes);
          written += bytes.length;
          filler?.grow(memfd, written);
        },
        copy: async (offset, length) => {
          within(length);
          await copyRange(memfd, memfd, offset, length);
          written += length;
          filler?.grow(memfd, written);
        },
      },
      (n) => progress.update(n),
    );
    await filler?.idle();
  } catch (e) {
    await filler?.discard();
    throw e;
  } finally {
    progress.done();
  }
  return { cid, size: written, filler, cacheProblem };
}
