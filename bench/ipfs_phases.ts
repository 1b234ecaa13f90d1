// bench/ipfs_phases.ts — one stage of a cold fetch, timed in a fresh process, for the per-phase
// breakdown bench/ipfs.ts prints. Each mode does a little more of what `ww run /ipfs/<cid>` does,
// with ww's own code, so the difference between two modes is what the added step costs:
//
//   wire      cat of the file through ww's HTTP client (IpfsNode.cat) into 256 KiB buffers
//   hash      the same, and SHA-256 of every buffer (as block.ts hashes)
//   memfd     the same as wire, and every buffer written to a memfd (writeAll, as download.ts)
//   resolve   loading the IPLD code (download.ts) and the root block, fetched and verified
//   download  download.ts's whole fetch: root, DAG walk, verified stream, memfd, cache copy
//   nocache   the same with no cache to fill
//
// `deno run -A bench/ipfs_phases.ts <mode> <api> <cid>` prints {"import": ms, "work": ms, "cpu":
// ms} as JSON: the time from the process's start to the end of this script's imports, the time the
// mode's work took after it, and the CPU time all its threads used meanwhile.

import { closeFd, writeAll } from "../ffi/fd.ts";
import { createMemfd, sealMemfd } from "../ffi/memfd.ts";
import { IpfsNode } from "../ipfs/node.ts";
import { shaDigest } from "../ffi/sha.ts";

const LEAF = 256 * 1024;
/**
 * As many leaf buffers as assemble.ts's pool comes to (counted): its writer releases a verified
 * leaf before the one after next is read. A pool of 16 added the first touch of 4 MiB of fresh
 * pages (5-15 ms of CPU here) that a real fetch does not pay, to the HTTP client's figure.
 */
const POOL = 2;
const [mode, api, cid] = Deno.args;
/**
 * CPU time (ms) this process's threads have used so far: /proc's schedstat, in nanoseconds, where
 * GNU time's figures come in 10 ms ticks.
 */
function cpuMs(): number {
  let ns = 0;
  for (const { name } of Deno.readDirSync("/proc/self/task")) {
    try {
      ns += Number(Deno.readTextFileSync(`/proc/self/task/${name}/schedstat`).split(" ")[0]);
    } catch { /* the thread ended meanwhile */ }
  }
  return ns / 1e6;
}

const imported = performance.now();
const cpuBefore = cpuMs();
const node = new IpfsNode(api, 30_000, `/ipfs/${cid}`);

/**
 * Reads the node's cat of the file into LEAF-sized buffers, handing each full one to `each`; the
 * buffers cycle through a pool of POOL, as assemble.ts's do.
 */
async function stream(each: (bytes: Uint8Array) => void | Promise<void>): Promise<void> {
  const source = node.cat(cid);
  const pool = Array.from({ length: POOL }, () => new Uint8Array(LEAF));
  let turn = 0;
  let buffer = pool[0];
  let filled = 0;
  for (;;) {
    const got = await source.read(buffer.subarray(filled));
    if (!got) break;
    buffer = new Uint8Array(got.buffer as ArrayBuffer);
    filled += got.length;
    if (filled === LEAF) {
      pool[turn] = buffer;
      await each(buffer);
      turn = (turn + 1) % POOL;
      buffer = pool[turn];
      filled = 0;
    }
  }
  if (filled > 0) await each(buffer.subarray(0, filled));
  await source.close();
}

const memfd = createMemfd("phase");
const cache = await Deno.makeTempDir({ prefix: "wwbench-phase-" });
try {
  switch (mode) {
    case "wire":
      await stream(() => {});
      break;
    case "hash":
      // As block.ts hashes: libcrypto when it is there, WebCrypto otherwise.
      await stream(async (b) => {
        if (!shaDigest("SHA-256", b)) await crypto.subtle.digest("SHA-256", b.slice());
      });
      break;
    case "memfd":
      await stream((b) => writeAll(memfd, b));
      break;
    case "resolve": {
      const { parseCid } = await import("../ipfs/block.ts");
      const { VerifiedBlocks } = await import("../ipfs/blocks.ts");
      await import("../ipfs/download.ts");
      const root = parseCid(cid);
      if ("error" in root) throw new Error(root.error);
      await new VerifiedBlocks(node).get(root);
      break;
    }
    case "download":
    case "nocache": {
      const { download } = await import("../ipfs/download.ts");
      const path = { namespace: "ipfs", root: cid, segments: [] } as const;
      const maxBytes = mode === "download" ? 2 ** 40 : 0;
      const got = await download(path, node, undefined, memfd, { dir: cache, maxBytes });
      if (got.cached) throw new Error("the cache is new: nothing can be in it");
      sealMemfd(memfd);
      await got.filler?.commit({ ...got, paths: [] }, maxBytes);
      break;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
  const work = performance.now() - imported;
  console.log(JSON.stringify({ import: imported, work, cpu: cpuMs() - cpuBefore }));
} finally {
  node.close();
  closeFd(memfd);
  await Deno.remove(cache, { recursive: true });
}
