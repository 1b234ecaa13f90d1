// ipfs/fetch.ts — a program named by an IPFS path, as a sealed memfd ready to execute: from the
// cache when it holds the path, otherwise fetched through the node and verified (download.ts,
// loaded only then), checked to be a program for this machine, and cached. /ipns/ names are
// resolved through the node on every run; what they point to is cached like any /ipfs/ path.
//
// This module is what `ww run` loads (dynamically) for an IPFS program; on a warm run it is, with
// cache.ts and ffi/memfd.ts, all that is loaded.

import { closeFd } from "../ffi/fd.ts";
import { copyRange, createMemfd, fileSize, readAt, sealMemfd } from "../ffi/memfd.ts";
import { NotExecutableError, UsageError } from "../run/errors.ts";
import { cacheDir, DEFAULT_CACHE_BYTES, openCached, storeCached } from "./cache.ts";
import { executableProblem, HEADER_BYTES } from "./executable.ts";
import { DEFAULT_IPFS_TIMEOUT_MS } from "./multiaddr.ts";
import { IpfsNode } from "./node.ts";
import { formatIpfsPath, type IpfsPath, parseIpfsPath, programName } from "./path.ts";

export interface FetchOptions {
  /** The node's Kubo RPC endpoint, a multiaddr (--ipfs). */
  readonly api: string;
  /** How long the node may send nothing before ww gives up (--ipfs-timeout). */
  readonly timeoutMs?: number;
  /** Default: cacheDir(Deno.env). */
  readonly cacheDir?: string;
  /** Bound on the cache's size; default DEFAULT_CACHE_BYTES. */
  readonly cacheBytes?: number;
}

/** A program ready to execute. */
export interface FetchedProgram {
  /** argv[0]: the path's last segment. */
  readonly name: string;
  /** A sealed memfd holding the program, close-on-exec; the caller closes it. */
  readonly fd: number;
  /** The file's CID (v1, base32). */
  readonly cid: string;
}

/**
 * Loads the program `program` names into a sealed memfd. Errors are one-line WwErrors: a bad
 * path or CID (125), an unreachable, silent or lying node (125), a missing path (125), a
 * directory or a file that is not a program for this machine (126).
 *
 * @example
 * const { name, fd } = await fetchProgram("/ipfs/bafy.../bin/app", { api: DEFAULT_IPFS_API });
 */
export async function fetchProgram(
  program: string,
  options: FetchOptions,
): Promise<FetchedProgram> {
  const parsed = parseIpfsPath(program);
  if ("error" in parsed) throw new UsageError(parsed.error);
  const name = programName(parsed);
  const dir = options.cacheDir ?? cacheDir(Deno.env.toObject());
  let node: IpfsNode | undefined;
  let memfd: number | undefined;
  try {
    let path: IpfsPath = parsed;
    if (parsed.namespace === "ipns") {
      node = new IpfsNode(options.api, options.timeoutMs ?? DEFAULT_IPFS_TIMEOUT_MS, program);
      const target = parseIpfsPath(await node.resolveName(parsed.root));
      if ("error" in target) throw new UsageError(`${program}: ${target.error}`);
      path = { ...target, segments: [...target.segments, ...parsed.segments] };
    }
    const key = formatIpfsPath(path);
    memfd = createMemfd(name);
    let cid: string;
    let size: number;
    const warm = await openCached(dir, { path: key });
    if (warm) {
      ({ cid, size } = warm);
      loadFrom(warm.fd, memfd, size);
    } else {
      node ??= new IpfsNode(options.api, options.timeoutMs ?? DEFAULT_IPFS_TIMEOUT_MS, program);
      const { download } = await import("./download.ts");
      const got = await download(path, node, memfd, dir);
      ({ cid, size } = got);
      if (got.cached) loadFrom(got.cached.fd, memfd, size);
    }
    sealMemfd(memfd);
    const head = new Uint8Array(Math.min(HEADER_BYTES, fileSize(memfd)));
    readAt(memfd, head, 0);
    const problem = executableProblem(head);
    if (problem) throw new NotExecutableError(`${program}: ${problem}`);
    if (!warm) await cache(dir, { cid, fd: memfd, size, paths: [key] }, options.cacheBytes);
    const fd = memfd;
    memfd = undefined;
    return { name, fd, cid };
  } finally {
    node?.close();
    if (memfd !== undefined) closeFd(memfd);
  }
}

function loadFrom(cached: number, memfd: number, size: number): void {
  try {
    copyRange(cached, memfd, 0, size);
  } finally {
    closeFd(cached);
  }
}

async function cache(
  dir: string,
  entry: Parameters<typeof storeCached>[1],
  maxBytes = DEFAULT_CACHE_BYTES,
): Promise<void> {
  try {
    await storeCached(dir, entry, maxBytes);
  } catch (e) {
    // The run goes on without the cache (a read-only home, a full disk); the next one refetches.
    const why = e instanceof Error ? e.message : String(e);
    Deno.stderr.writeSync(
      new TextEncoder().encode(`ww: warning: cannot cache in ${dir}: ${why}\n`),
    );
  }
}
