// tests/ipfs/ipfsd.ts — a real IPFS node for the tests: js-ipfs serving the Kubo /api/v0 RPC API
// on loopback ports it picks itself, with a fresh repository, stopped afterwards. It comes from
// the recipe in shared/recipes/ipfsd, installed (npm install) in the folder $WW_IPFSD_DIR; the
// tests fail when it is missing. Fixtures are added over plain HTTP multipart: kubo-rpc-client
// cannot send request bodies under Deno.

import { join } from "node:path";

/**
 * An HTTP client that keeps no idle connection: each request to a test node opens its own. The
 * node's server (Node's http) closes a connection idle for 5 s; fetch's pool sent a request on
 * one it was closing ("connection closed before message completed"), once in a CI run of the
 * suite. ww's own client (ipfs/http.ts) sends one request a connection, as this does.
 */
const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });

/**
 * fetch, on a connection of its own (`client`): for every request the tests make to a node.
 *
 * @example
 * const res = await nodeFetch(`${ipfsd.url}/api/v0/id`, { method: "POST" });
 */
export function nodeFetch(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, client });
}

/** A running node. */
export interface Ipfsd {
  /** The RPC endpoint as a multiaddr, for --ipfs. */
  readonly api: string;
  /** The same as an HTTP base URL. */
  readonly url: string;
  readonly pid: number;
  /** Adds one file; returns its CID. */
  addFile(bytes: Uint8Array, options?: AddOptions): Promise<string>;
  /** Adds files under their relative paths, wrapped in a directory; returns the root CID. */
  addTree(files: Record<string, Uint8Array>, options?: AddOptions): Promise<string>;
  /**
   * Publishes /ipfs/<cid> under the node's own key, valid for `lifetime` (e.g. "1s"; default
   * the node's, 24 h); returns the IPNS name (its peer ID).
   */
  publish(cid: string, lifetime?: string): Promise<string>;
  /** Stops the node (SIGTERM, then SIGKILL) and removes its repository. */
  stop(): Promise<void>;
  /**
   * Kills the node at once (SIGKILL) and removes its repository. startIpfsd has it done when the
   * test file's process ends, for a node not stopped by then.
   */
  kill(): void;
}

export interface AddOptions {
  /** CID version (default 1). */
  readonly cidVersion?: 0 | 1;
  /** Raw leaves (default: true for CIDv1, false for CIDv0). */
  readonly rawLeaves?: boolean;
  /** e.g. "size-1024", to make deep DAGs from small files. */
  readonly chunker?: string;
  /** Directories with more entries than this become HAMT shards. */
  readonly shardSplitThreshold?: number;
}

/** The install folder of the test node; throws a message saying how to get one. */
export function ipfsdDir(): string {
  const dir = Deno.env.get("WW_IPFSD_DIR");
  const hint =
    "install the js-ipfs test node: cp -r shared/recipes/ipfsd <dir> && (cd <dir> && npm install --omit=optional --no-audit --no-fund), then export WW_IPFSD_DIR=<dir>";
  if (!dir) throw new Error(`WW_IPFSD_DIR is not set: ${hint}`);
  try {
    Deno.statSync(join(dir, "node_modules/ipfs/src/cli.js"));
    Deno.statSync(join(dir, "ipfs-config.json"));
  } catch {
    throw new Error(`WW_IPFSD_DIR=${dir} holds no installed ipfsd recipe: ${hint}`);
  }
  return dir;
}

/** The TCP port of the API address a node wrote to its repository's `api` file. */
function apiPort(address: string): number {
  const port = /^\/ip4\/127\.0\.0\.1\/tcp\/(\d+)\//.exec(address.trim())?.[1];
  if (port === undefined) throw new Error(`not an API address: ${address}`);
  return Number(port);
}

/** Starts a node; resolves once its API answers. */
export async function startIpfsd(): Promise<Ipfsd> {
  const dir = ipfsdDir();
  const home = await Deno.makeTempDir({ prefix: "wwtest-ipfsd-" });
  // Each port is the node's own pick (0): one chosen here and freed for the node to take could be
  // taken first by a test running beside it (EADDRINUSE, once in a CI run). The node writes the
  // API's address to its repository's `api` file once it listens.
  const config = JSON.parse(await Deno.readTextFile(join(dir, "ipfs-config.json")));
  config.Addresses.API = "/ip4/127.0.0.1/tcp/0";
  config.Addresses.Gateway = "/ip4/127.0.0.1/tcp/0";
  config.Addresses.RPC = "/ip4/127.0.0.1/tcp/0";
  await Deno.writeTextFile(join(home, "config.json"), JSON.stringify(config));
  const log = await Deno.open(join(home, "daemon.log"), { write: true, create: true });
  const child = new Deno.Command("node", {
    args: [
      join(dir, "node_modules/ipfs/src/cli.js"),
      "daemon",
      "--init-config",
      join(home, "config.json"),
      "--init-profile",
      "test",
      "--enable-preload=false",
    ],
    env: { IPFS_PATH: join(home, "repo") },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // The daemon's errors go to a log (shown when it fails to start); draining the pipe keeps it
  // from ever blocking on a full one.
  const drained = child.stderr.pipeTo(log.writable).catch(() => {});
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  // A test that fails before its own stop (while adding its fixtures, say) leaves neither the node
  // nor its repository behind: both go when the test file's process ends, at the latest.
  const killAtUnload = () => {
    globalThis.removeEventListener("unload", killAtUnload);
    if (!exited) child.kill("SIGKILL");
    try {
      Deno.removeSync(home, { recursive: true });
    } catch { /* already gone */ }
  };
  globalThis.addEventListener("unload", killAtUnload);
  const deadline = Date.now() + 60_000;
  let port: number | undefined;
  for (;;) {
    try {
      port ??= apiPort(await Deno.readTextFile(join(home, "repo", "api")));
      const res = await nodeFetch(`http://127.0.0.1:${port}/api/v0/id`, { method: "POST" });
      await res.body?.cancel();
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill("SIGKILL");
      await status;
      await drained;
      const text = await Deno.readTextFile(join(home, "daemon.log")).catch(() => "");
      await Deno.remove(home, { recursive: true }).catch(() => {});
      globalThis.removeEventListener("unload", killAtUnload);
      throw new Error(`the js-ipfs test node did not start:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = `http://127.0.0.1:${port}`;

  const add = async (
    parts: [string, Uint8Array][],
    wrap: boolean,
    options: AddOptions = {},
  ): Promise<string> => {
    const cidVersion = options.cidVersion ?? 1;
    const params = new URLSearchParams({
      "cid-version": String(cidVersion),
      "raw-leaves": String(options.rawLeaves ?? cidVersion === 1),
      "wrap-with-directory": String(wrap),
      pin: "true",
    });
    if (options.chunker) params.set("chunker", options.chunker);
    if (options.shardSplitThreshold !== undefined) {
      params.set("shard-split-threshold", String(options.shardSplitThreshold));
    }
    const form = new FormData();
    for (const [name, bytes] of parts) {
      form.append("file", new Blob([bytes as Uint8Array<ArrayBuffer>]), encodeURIComponent(name));
    }
    const res = await nodeFetch(`${url}/api/v0/add?${params}`, { method: "POST", body: form });
    const text = await res.text();
    if (!res.ok) throw new Error(`add failed: ${text}`);
    const lines = text.trim().split("\n").map((l) => JSON.parse(l));
    return lines.at(-1).Hash;
  };

  return {
    api: `/ip4/127.0.0.1/tcp/${port}/http`,
    url,
    pid: child.pid,
    addFile: (bytes, options) => add([["file", bytes]], false, options),
    addTree: (files, options) => add(Object.entries(files), true, options),
    async publish(cid, lifetime) {
      const res = await nodeFetch(
        `${url}/api/v0/name/publish?arg=/ipfs/${cid}&allow-offline=true${
          lifetime ? `&lifetime=${lifetime}` : ""
        }`,
        { method: "POST" },
      );
      const body = await res.json();
      if (!res.ok) throw new Error(`name/publish failed: ${JSON.stringify(body)}`);
      return body.Name;
    },
    async stop() {
      globalThis.removeEventListener("unload", killAtUnload);
      if (!exited) child.kill("SIGTERM");
      const timer = setTimeout(() => !exited && child.kill("SIGKILL"), 5000);
      await status;
      clearTimeout(timer);
      await drained;
      await Deno.remove(home, { recursive: true }).catch(() => {});
    },
    kill: killAtUnload,
  };
}
