// ipfs/fetch.ts — a program named by an IPFS path, as a read-only descriptor ready to execute:
// the cached file when the cache holds the path, otherwise fetched through the node and verified
// into a sealed memfd (download.ts, loaded only then), checked to be a program for this machine,
// and cached. /ipns/ names are resolved on every run, by a record ww verifies or by DNSLink
// (ipns.ts); what they point to is cached like any /ipfs/ path.
//
// This module is what `ww run` loads (dynamically) for an IPFS program; on a warm run it is, with
// cache.ts, ffi/memfd.ts, ffi/stat.ts and the small pure modules beside them (path.ts, node.ts
// and its HTTP client, executable.ts), all that is loaded: none of the IPLD libraries.

import { closeFd } from "../ffi/fd.ts";
import { copyRange, createMemfd, mayExecute, readAt, sealMemfd } from "../ffi/memfd.ts";
import { fileSize } from "../ffi/stat.ts";
import { escapeText } from "../core/escape.ts";
import { NotExecutableError, UsageError } from "../core/errors.ts";
import { cacheDir, DEFAULT_CACHE_BYTES, openCached, storeCached } from "./cache.ts";
import { ipnsSequences } from "./ipns_seen.ts";
import { executableProblem, HEADER_BYTES } from "./executable.ts";
import { DEFAULT_IPFS_TIMEOUT_MS } from "./multiaddr.ts";
import type { EarlyRequests } from "./download.ts";
import { IpfsNode } from "./node.ts";
import type { Notices } from "./progress.ts";
import { lazyImport } from "../core/lazy.ts";
import {
  formatIpfsPath,
  type IpfsPath,
  ipfsProgramProblem,
  parseIpfsPath,
  programName,
} from "../core/ipfs_path.ts";

export interface FetchOptions {
  /** The node's Kubo RPC endpoint: a multiaddr or http(s) URL (--ipfs; see ipfsApiUrl). */
  readonly api: string;
  /** Where `api` came from (--ipfs, WW_IPFS, $IPFS_PATH/api ...), named in errors. */
  readonly origin?: string;
  /** How long the node may send nothing before ww gives up (--ipfs-timeout). */
  readonly timeoutMs?: number;
  /** Default: cacheDir(callerEnv). */
  readonly cacheDir?: string;
  /**
   * The caller's environment, whose XDG_CACHE_HOME or HOME places the cache (run/caller_env.ts
   * callerEnvironment, which says so in one line when the one asked for is not UTF-8 text).
   * Default: Deno.env's.
   */
  readonly callerEnv?: { readonly XDG_CACHE_HOME?: string; readonly HOME?: string };
  /** Bound on the cache's size; default DEFAULT_CACHE_BYTES. */
  readonly cacheBytes?: number;
  /** Take the node's word for an /ipns/ name it gives no record for (--trust-node-ipns). */
  readonly trustNodeIpns?: boolean;
  /**
   * Stops the fetch: every request to the node ends, nothing is cached or left behind, and
   * fetchProgram rejects with the abort's reason when it is a WwError (a SetupError otherwise).
   */
  readonly signal?: AbortSignal;
  /**
   * Where ww's lines about the fetch go (a warning, a notice that the node is slow), for a fetch
   * while a program runs: no progress line is drawn then. Default: written to stderr, and a
   * progress line on a terminal.
   */
  readonly notices?: Notices;
}

/**
 * A program ready to execute: held by a descriptor (run/start.ts makes it a HeldProgram of
 * jail/held.ts, adding whether it is a script), with its name and CID.
 */
export interface FetchedProgram {
  /** argv[0]: the path's last segment. */
  readonly name: string;
  /**
   * The program, read-only and close-on-exec; the caller closes it. Fetched just now, it is a
   * sealed memfd; from the cache, it is the cached file itself (mode 0555), opened read-only, so
   * a warm run copies nothing.
   */
  readonly fd: number;
  /** True for a sealed memfd, false for the cached file. */
  readonly sealed: boolean;
  /** The file's CID (v1, base32). */
  readonly cid: string;
}

/**
 * The program `program` names, verified: from the cache, or fetched into a sealed memfd and then
 * cached. Errors are one-line WwErrors: a bad path or CID (125), an unreachable, silent or lying
 * node (125), a missing path (127), a directory or a file that is not a program for this machine
 * (126).
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
  const slash = ipfsProgramProblem(program, parsed);
  if (slash) throw new NotExecutableError(slash);
  const name = programName(parsed);
  const dir = options.cacheDir ?? cacheDir(options.callerEnv ?? Deno.env.toObject());
  const connect = () =>
    new IpfsNode(
      options.api,
      options.timeoutMs ?? DEFAULT_IPFS_TIMEOUT_MS,
      program,
      options.signal,
      options.origin,
      options.notices,
    );
  let node: IpfsNode | undefined;
  let fd: number | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  try {
    let path: IpfsPath = parsed;
    if (parsed.namespace === "ipns") {
      node = connect();
      const { resolveIpnsName } = await lazyImport<typeof import("./ipns.ts")>("ipfs/ipns.ts");
      const resolved = await resolveIpnsName(node, parsed.root, program, {
        trustNode: options.trustNodeIpns,
        sequences: ipnsSequences(dir),
      });
      const target = parseIpfsPath(resolved.path);
      if ("error" in target) throw new UsageError(`${program}: ${target.error}`);
      path = { ...target, segments: [...target.segments, ...parsed.segments] };
    }
    const key = formatIpfsPath(path);
    const warm = await openCached(dir, { path: key });
    let fetched: FetchedProgram;
    if (warm) {
      fd = warm.fd;
      checkExecutable(program, fd);
      const runnable = await fromCache(name, warm.fd, warm.size);
      fd = runnable.fd;
      fetched = { name, cid: warm.cid, ...runnable };
    } else {
      node ??= connect();
      // Sent before the IPLD code loads, so the node is already at work when it has; only for
      // CIDs in the bases every node reads (the others are normalized by download.ts first), and
      // not for an identity CID (base32 raw "bafkq…", dag-pb "bafya…"), whose bytes are its own: a
      // node that takes the connection and never answers would hold such a run for --ipfs-timeout.
      let early: EarlyRequests | undefined;
      if (/^(Qm|b|z)/.test(path.root) && !/^baf(kq|ya)/.test(path.root)) {
        const root = node.blockGet(path.root);
        root.catch(() => {}); // reported where download.ts takes it
        const bytes = node.cat(key);
        cleanups.push(() => bytes.close());
        early = { root, bytes };
        // Loading the IPLD code below holds the event loop for tens of ms, during which a request
        // only begun (connecting) would not be written: let them leave first. Their connections
        // cost a local node well under a millisecond, and a remote one a round trip that the
        // node's answer would take anyway.
        await node.requestsSent();
      }
      // Loaded only on a cache miss: the IPLD libraries cost start-up time a cached run must not pay.
      const { download } = await lazyImport<typeof import("./download.ts")>("ipfs/download.ts");
      const memfd = fd = createMemfd(name);
      const maxBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
      const got = await download(path, node, early, memfd, { dir, maxBytes });
      if (got.cached) {
        // Cached under its CID by another path: record this path too, and run the cached file.
        closeFd(memfd);
        fd = got.cached.fd;
        checkExecutable(program, fd);
        await cache(
          dir,
          options.notices,
          () => storeCached(dir, { ...got, fd: got.cached.fd, paths: [key] }, maxBytes),
        );
        const runnable = await fromCache(name, got.cached.fd, got.size);
        fd = runnable.fd;
        fetched = { name, cid: got.cid, ...runnable };
      } else {
        const { filler } = got;
        try {
          // A fetch that was stopped caches nothing, even one whose last copy outran the stop.
          options.signal?.throwIfAborted();
          sealMemfd(memfd);
          checkExecutable(program, fd);
        } catch (e) {
          await filler?.discard();
          throw e;
        }
        if (filler) {
          await cache(
            dir,
            options.notices,
            () => filler.commit({ ...got, paths: [key] }, maxBytes),
          );
        } else if (got.cacheProblem) warnNotCached(dir, got.cacheProblem, options.notices);
        fetched = { name, fd, cid: got.cid, sealed: true };
      }
    }
    fd = undefined;
    return fetched;
  } finally {
    for (const f of cleanups) await f();
    node?.close();
    if (fd !== undefined) closeFd(fd);
  }
}

/**
 * The program an /ipfs/ path names, when the cache holds it, checked as fetchProgram checks it
 * (a file that is not a program for this machine is a NotExecutableError, 126); undefined when
 * it is not cached, or the path is an /ipns/ name (resolved only by asking). Asks no node: for
 * --explain, which must refuse a cached program the run would refuse. The caller closes `fd`.
 */
export async function cachedProgram(
  program: string,
  options: Pick<FetchOptions, "cacheDir" | "callerEnv">,
): Promise<{ fd: number; cid: string } | undefined> {
  const parsed = parseIpfsPath(program);
  if ("error" in parsed || parsed.namespace !== "ipfs") return undefined;
  const dir = options.cacheDir ?? cacheDir(options.callerEnv ?? Deno.env.toObject());
  const warm = await openCached(dir, { path: formatIpfsPath(parsed) });
  if (!warm) return undefined;
  try {
    checkExecutable(program, warm.fd);
  } catch (e) {
    closeFd(warm.fd);
    throw e;
  }
  return { fd: warm.fd, cid: warm.cid };
}

/**
 * A cached file, to run as it is; or, when the cache is on a noexec file system, a sealed copy
 * (and the file is closed).
 */
async function fromCache(
  name: string,
  fd: number,
  size: number,
): Promise<{ fd: number; sealed: boolean }> {
  if (mayExecute(`/proc/self/fd/${fd}`)) return { fd, sealed: false };
  const memfd = createMemfd(name);
  try {
    await copyRange(fd, memfd, 0, size);
    sealMemfd(memfd);
  } catch (e) {
    closeFd(memfd);
    throw e;
  }
  closeFd(fd);
  return { fd: memfd, sealed: true };
}

function checkExecutable(program: string, fd: number): void {
  const head = new Uint8Array(Math.min(HEADER_BYTES, fileSize(fd)));
  readAt(fd, head, 0);
  const problem = executableProblem(head);
  if (problem) throw new NotExecutableError(`${program}: ${problem}`);
}

/** Runs `store`; a failure only warns: the run goes on without the cache, the next refetches. */
async function cache(
  dir: string,
  notices: Notices | undefined,
  store: () => Promise<void>,
): Promise<void> {
  try {
    await store();
  } catch (e) {
    warnNotCached(dir, e instanceof Error ? e.message : String(e), notices);
  }
}

/** Says that the program was not cached: to `notices` when given, else on stderr. */
function warnNotCached(dir: string, why: string, notices: Notices | undefined): void {
  // The directory comes from XDG_CACHE_HOME or HOME, which may hold anything.
  const line = `ww: warning: cannot cache in ${escapeText(dir)}: ${escapeText(why)}`;
  if (notices) notices(line);
  else Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`));
}
