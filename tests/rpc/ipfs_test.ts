// tests/rpc/ipfs_test.ts — the host's Ipfs capability (--with-ipfs) as a real Deno guest in ww's
// default jail sees it, against a real IPFS node (js-ipfs, tests/ipfs/ipfsd.ts): add and read back,
// stat and ls of a directory, /ipns/ names, errors naming the path, and a node that tampers with
// what it sends.

import assert from "node:assert/strict";
import * as dagPb from "npm:@ipld/dag-pb@^4.2.0";
import { cidKey, parseCid } from "../../ipfs/block.ts";
import { MAX_LS_BYTES, MAX_LS_ENTRIES } from "../../rpc/ipfs_service.ts";
import { nodeFetch, startIpfsd } from "../ipfs/ipfsd.ts";
import { join } from "node:path";
import { replaceBytes, startProxy, unixProxy, withRecord } from "../ipfs/proxy.ts";
import { REPO, runWw, runWwMeasured } from "../support/ww.ts";
import { buildGuest } from "./build.ts";
import { pattern } from "./ipfs_guest.ts";

const ipfsd = await startIpfsd();

const DENO = Deno.execPath();
const GUEST = [DENO, "run", "-A", "--config", `${REPO}deno.json`, `${REPO}tests/rpc/ipfs_guest.ts`];
// The jail shows deno and the repository read-only; deno's cache goes to the jail's own /tmp.
const JAIL = ["--ro-bind", DENO, "--ro-bind", REPO, "--env", "DENO_DIR=/tmp/deno"];

type Result = { ok?: unknown; error?: string };

/** Runs the guest with `calls` under `ww run flags...`; returns its report, one entry per call. */
async function guest(flags: string[], calls: unknown[]): Promise<Result[]> {
  const r = await runWw(["run", ...flags, ...JAIL, ...GUEST, JSON.stringify(calls)]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!);
}

function ok<T>(result: Result): T {
  assert.equal(result.error, undefined, result.error);
  return result.ok as T;
}

/** The CID as ww names it (v1, base32): js-ipfs prints some CIDs in other bases. */
function key(cid: string): string {
  const parsed = parseCid(cid);
  if ("error" in parsed) throw new Error(parsed.error);
  return cidKey(parsed);
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The bytes the node itself serves for `cid`. */
async function nodeCat(cid: string): Promise<Uint8Array> {
  const res = await nodeFetch(`${ipfsd.url}/api/v0/cat?arg=${cid}`, { method: "POST" });
  assert.ok(res.ok, `cat ${cid}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

const IPFS = ["--with-ipfs", "--ipfs", ipfsd.api];

Deno.test("a guest adds bytes, gets their CID, and cats the same bytes back", async () => {
  const big = 1_000_000; // several raw leaves under a dag-pb root
  const [small, smallBack, large, largeBack] = await guest(IPFS, [
    { add: "hello from the guest" },
    { cat: "$0" },
    { addPattern: big },
    { cat: "/ipfs/$2" },
  ]);
  const smallCid = ok<{ cid: string }>(small).cid;
  assert.match(smallCid, /^bafk/, "CIDv1, raw leaf, base32");
  assert.equal(ok<{ text: string }>(smallBack).text, "hello from the guest");
  const largeCid = ok<{ cid: string }>(large).cid;
  assert.match(largeCid, /^bafy/, "CIDv1, dag-pb root, base32");
  const expected = await sha256(pattern(big));
  assert.deepEqual(ok(largeBack), { length: big, sha256: expected });
  // The node holds what the guest added, under that CID.
  assert.equal(new TextDecoder().decode(await nodeCat(smallCid)), "hello from the guest");
  assert.equal(await sha256(await nodeCat(largeCid)), expected);
});

Deno.test("a guest stats and lists a directory, also through its /ipns/ name", async () => {
  const hello = new TextEncoder().encode("hello\n");
  const data = pattern(300_000);
  const root = await ipfsd.addTree({ "hello.txt": hello, "sub/data.bin": data });
  const name = await ipfsd.publish(root);
  const [ls, statSub, statHello, catData, lsIpns] = await guest(IPFS, [
    { ls: `/ipfs/${root}` },
    { stat: `/ipfs/${root}/sub` },
    { stat: `/ipfs/${root}/hello.txt` },
    { cat: `/ipfs/${root}/sub/data.bin` },
    { ls: `/ipns/${name}/sub` },
  ]);
  const entries = ok<{ name: string; cid: string; size: number; type: string }[]>(ls);
  assert.deepEqual(entries.map((e) => [e.name, e.type]), [
    ["hello.txt", "file"],
    ["sub", "directory"],
  ]);
  const sub = ok<{ cid: string; size: number; type: string }>(statSub);
  assert.equal(sub.type, "directory");
  assert.equal(sub.cid, entries[1].cid);
  assert.ok(sub.size > data.length, `a directory's size is its DAG's: ${sub.size}`);
  assert.deepEqual(ok(statHello), { cid: entries[0].cid, size: hello.length, type: "file" });
  assert.equal(entries[0].size, hello.length);
  assert.deepEqual(ok(catData), { length: data.length, sha256: await sha256(data) });
  const viaName = ok<{ name: string; size: number; type: string }[]>(lsIpns);
  assert.deepEqual(viaName.map((e) => [e.name, e.size, e.type]), [
    ["data.bin", data.length, "file"],
  ]);
});

Deno.test("a missing path, a directory cat and a file ls fail naming the path", async () => {
  const root = key(await ipfsd.addTree({ "a.txt": new TextEncoder().encode("a") }));
  const [missing, catDir, lsFile, badCid] = await guest(IPFS, [
    { cat: `/ipfs/${root}/missing` },
    { cat: `/ipfs/${root}` },
    { ls: `/ipfs/${root}/a.txt` },
    { stat: "/ipfs/not-a-cid" },
  ]);
  assert.equal(
    missing.error,
    `/ipfs/${root}/missing: no entry "missing" in /ipfs/${root}; it holds: a.txt`,
  );
  assert.equal(
    catDir.error,
    `/ipfs/${root}: is a directory, not a file (ls lists it; cat reads a file)`,
  );
  assert.equal(
    lsFile.error,
    `/ipfs/${root}/a.txt: is a file, not a directory (cat reads it; ls lists a directory)`,
  );
  assert.match(badCid.error!, /^\/ipfs\/not-a-cid: not-a-cid is not a CID/);
});

Deno.test("through a node that tampers with what it sends, cat fails naming the CID", async () => {
  const small = key(await ipfsd.addFile(new TextEncoder().encode("tamper with me")));
  const large = key(await ipfsd.addFile(pattern(1_000_000)));
  const proxy = startProxy(ipfsd.url, { tamper: { commands: ["block/get", "cat"], at: 10 } });
  try {
    const [catSmall, catLarge] = await guest(["--with-ipfs", "--ipfs", proxy.api], [
      { cat: small },
      { cat: `/ipfs/${large}` },
    ]);
    assert.equal(
      catSmall.error,
      `${small}: the IPFS node at ${proxy.api} (from --ipfs) sent data that does not match ${small}`,
    );
    // The root's block or one of its leaves: either way a CID the file is made of.
    assert.match(
      catLarge.error!,
      new RegExp(`^/ipfs/${large}: the IPFS node at .* sent data that does not match baf\\w+$`),
    );
  } finally {
    await proxy.close();
  }
});

/**
 * A proxy in front of the node that forwards everything, but answers every add with `cid`
 * instead of the CID the node gave.
 */
function lyingAdd(cid: string): { api: string; close(): Promise<void> } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const res = await nodeFetch(`${ipfsd.url}${url.pathname}${url.search}`, {
      method: req.method,
      headers: req.headers,
      body: req.body,
    });
    if (url.pathname !== "/api/v0/add") return res;
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    lines.at(-1).Hash = cid;
    return new Response(lines.map((l) => JSON.stringify(l)).join("\n"), { status: res.status });
  });
  return {
    api: `/ip4/127.0.0.1/tcp/${server.addr.port}/http`,
    close: () => server.shutdown(),
  };
}

Deno.test("a CID the node answers for added bytes that does not name them is refused", async () => {
  // CIDs of other content the node holds: a raw leaf, and a multi-block file of 1 MB.
  const otherSmall = await ipfsd.addFile(new TextEncoder().encode("other bytes"));
  const otherLarge = await ipfsd.addFile(pattern(1_000_001).subarray(1));
  const cases = [
    { lie: otherSmall, call: { add: "my bytes" }, why: "their hash differs" },
    { lie: otherLarge, call: { add: "my bytes" }, why: "it holds 1000000 bytes" },
    { lie: otherLarge, call: { addPattern: 1_000_000 }, why: "baf\\w+ differs" },
  ];
  for (const { lie, call, why } of cases) {
    const proxy = lyingAdd(lie);
    try {
      const [added] = await guest(["--with-ipfs", "--ipfs", proxy.api], [call]);
      const expected =
        `^add of \\d+ bytes: the IPFS node at ${proxy.api} \\(from --ipfs\\) answered ${
          key(lie)
        }, ` +
        `which does not name the bytes added \\(${why}\\)$`;
      assert.match(added.error!, new RegExp(expected));
    } finally {
      await proxy.close();
    }
  }
});

// add went through fetch as it likes: a redirect was followed to any host, and an answer read
// for as long as it came.
Deno.test("a node's add answer that redirects or never ends is refused, and nothing else is asked", async () => {
  let elsewhere = 0;
  const other = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    elsewhere++;
    return new Response('{"Hash":"bafkqaaa"}');
  });
  const node = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    if (new URL(req.url).searchParams.has("pin") && req.headers.get("x-endless") === null) {
      const { port } = other.addr as Deno.NetAddr;
      return Response.redirect(`http://127.0.0.1:${port}/api/v0/add`, 307);
    }
    return new Response("");
  });
  const endless = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
    new Response(
      new ReadableStream({
        pull: (c) => c.enqueue(new TextEncoder().encode(`${JSON.stringify({ Name: "x" })}\n`)),
      }),
    ));
  const api = (s: Deno.HttpServer) => `/ip4/127.0.0.1/tcp/${(s.addr as Deno.NetAddr).port}/http`;
  try {
    const [moved] = await guest(["--with-ipfs", "--ipfs", api(node)], [{ add: "x" }]);
    assert.match(moved.error ?? "", /refused add: HTTP 307$/, JSON.stringify(moved));
    assert.equal(elsewhere, 0);
    const [long] = await guest(["--with-ipfs", "--ipfs", api(endless)], [{ add: "x" }]);
    assert.match(long.error ?? "", /sent more than 256 KiB for add/);
  } finally {
    await Promise.all([other.shutdown(), node.shutdown(), endless.shutdown()]);
  }
});

// add went through fetch: --ipfs-timeout was its deadline in all (a node answering slowly but
// steadily was "sent nothing"), and a /unix/ node was refused.
Deno.test("a guest's add reaches a /unix/ node, waits for a slow but steady answer, and names a silent node", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "ww-test-add-" });
  const socket = join(dir, "api.sock");
  const viaUnix = unixProxy(socket, Number(new URL(ipfsd.url).port));
  // An answer of ~100 bytes, 8 of them every 150 ms: ~2 s in all, against a timeout of 600 ms.
  const dripping = startProxy(ipfsd.url, { drip: { commands: ["add"], bytes: 8, everyMs: 150 } });
  const silent = startProxy(ipfsd.url, { stall: { commands: ["add"], after: 0 } });
  try {
    const [added, back] = await guest(
      ["--with-ipfs", "--ipfs", `/unix${socket}`],
      [{ add: "over a unix socket" }, { cat: "$0" }],
    );
    assert.match(ok<{ cid: string }>(added).cid, /^bafk/);
    assert.equal(ok<{ text: string }>(back).text, "over a unix socket");
    const started = Date.now();
    const [slow] = await guest(
      ["--with-ipfs", "--ipfs", dripping.api, "--ipfs-timeout", "600ms"],
      [{ add: "slowly but steadily" }],
    );
    assert.match(ok<{ cid: string }>(slow).cid, /^bafk/);
    assert.ok(Date.now() - started > 1200, "the answer took longer than the timeout");
    const [stalled] = await guest(
      ["--with-ipfs", "--ipfs", silent.api, "--ipfs-timeout", "400ms"],
      [{ add: "x" }],
    );
    assert.match(
      stalled.error ?? "",
      /the IPFS node at \S+ \(from --ipfs\) was silent for 400ms during add of 1 bytes \(is it online\? raise --ipfs-timeout to wait longer\)$/,
      JSON.stringify(stalled),
    );
  } finally {
    await Promise.all([viaUnix.close(), dripping.close(), silent.close()]);
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("without --with-ipfs, Host.ipfs() fails naming the flag", async () => {
  const [stat] = await guest(["--ipfs", ipfsd.api], [{ stat: "/ipfs/x" }]);
  assert.match(stat.error!, /ipfs is not granted: run ww with --with-ipfs/);
});

Deno.test("concurrent cats of a large file share one budget: ww's memory stays bounded", async () => {
  const size = 16 << 20;
  const cid = await ipfsd.addFile(pattern(size));
  const guest = await buildGuest();
  const quiet = await runWwMeasured(["run", guest, "bench", "2000"]);
  const r = await runWwMeasured(["run", ...IPFS, guest, "cat-many", "16", `/ipfs/${cid}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).sizes, Array(16).fill(size));
  // 64 MiB buffered for the guest (a result counts twice: the service's copy and the message's),
  // the blocks the IPFS service fetches beside it, and the garbage collector's lag, over ww's own
  // peak with a quiet guest: a bound that does not grow with the number of calls (before the
  // budget, 16 calls held 16 results at once: 406 MiB).
  const bound = quiet.peak + 3 * (64 << 20);
  const mib = (n: number) => `${(n / (1 << 20)).toFixed(0)} MiB`;
  console.log(
    `16 concurrent cats of ${mib(size)}: ww peaked at ${mib(r.peak)}, bound ${mib(bound)}`,
  );
  assert.ok(r.peak < bound, `ww peaked at ${mib(r.peak)}, over ${mib(bound)}`);
});

Deno.test("concurrent ls of a large directory share one budget: ww's memory stays bounded", async () => {
  const file = parseCid(await ipfsd.addFile(new TextEncoder().encode("x")));
  if ("error" in file) throw new Error(file.error);
  // One block of 6000 entries (0.8 MB): each ls result is 1.2 MB.
  const dir = await putDagPb({
    Data: new Uint8Array([0x08, 0x01]),
    Links: Array.from({ length: 6000 }, (_, i) => ({
      Name: `${String(i).padStart(5, "0")}${"p".repeat(95)}`,
      Hash: file,
      Tsize: 1,
    })),
  });
  const guest = await buildGuest();
  const quiet = await runWwMeasured(["run", guest, "bench", "2000"]);
  const r = await runWwMeasured(["run", ...IPFS, guest, "ls-many", "40", `/ipfs/${dir}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).counts, Array(40).fill(6000));
  // As for cat (above). Before ls reserved its share, the 40 calls ran at once: 764 MiB to 1 GiB.
  const bound = quiet.peak + 3 * (64 << 20);
  const mib = (n: number) => `${(n / (1 << 20)).toFixed(0)} MiB`;
  console.log(`40 concurrent ls of 6000 entries: ww peaked at ${mib(r.peak)}, bound ${mib(bound)}`);
  assert.ok(r.peak < bound, `ww peaked at ${mib(r.peak)}, over ${mib(bound)}`);
});

// Each call reached the node on connections of its own: 1000 concurrent calls took ww to 1027
// descriptors, past the usual limit of 1024.
Deno.test("concurrent stats reach the node a few at a time: ww's descriptors stay few", async () => {
  const file = await ipfsd.addFile(new TextEncoder().encode("counted"));
  const guest = await buildGuest();
  const r = await runWwMeasured(["run", ...IPFS, guest, "stat-many", "300", `/ipfs/${file}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).sizes, Array(300).fill(7));
  console.log(`300 concurrent stats: ww held at most ${r.peakFds} descriptors`);
  assert.ok(r.peakFds < 100, `ww held ${r.peakFds} descriptors at once`);
});

Deno.test("a guest's /ipns/ reads through a node that lies about the name are refused naming it", async () => {
  const honest = await ipfsd.addTree({ "a.txt": new TextEncoder().encode("honest") });
  const other = await ipfsd.addTree({ "a.txt": new TextEncoder().encode("lying!") });
  assert.equal(honest.length, other.length);
  const name = await ipfsd.publish(honest);
  const lie = (bytes: Uint8Array) => replaceBytes(bytes, honest, other);
  const proxy = startProxy(ipfsd.url, {
    rewrite: { "name/resolve": lie, "dht/get": withRecord(lie), "routing/get": withRecord(lie) },
  });
  try {
    const calls = [{ cat: `/ipns/${name}/a.txt` }, { ls: `/ipns/${name}` }, {
      stat: `/ipns/${name}/a.txt`,
    }];
    const results = await guest(["--with-ipfs", "--ipfs", proxy.api], calls);
    for (const [i, result] of results.entries()) {
      const path = Object.values(calls[i])[0];
      assert.equal(
        result.error,
        `${path}: /ipns/${name}: the IPNS record's signature does not verify against the name's key (changed, or signed by another key)`,
      );
    }
    // The honest node's answer is still believed.
    const [cat] = await guest(IPFS, [{ cat: `/ipns/${name}/a.txt` }]);
    assert.equal(ok<{ text: string }>(cat).text, "honest");
  } finally {
    await proxy.close();
  }
});

/** Puts `block` in the node as dag-pb (CIDv1, sha2-256); its CID. */
async function putDagPb(node: dagPb.PBNode): Promise<string> {
  const form = new FormData();
  form.append("file", new Blob([dagPb.encode(node) as Uint8Array<ArrayBuffer>]));
  const params = "format=dag-pb&cid-codec=dag-pb&mhtype=sha2-256&version=1&pin=true";
  const res = await nodeFetch(`${ipfsd.url}/api/v0/block/put?${params}`, {
    method: "POST",
    body: form,
  });
  const text = await res.text();
  assert.ok(res.ok, `block/put: ${text}`);
  return key(JSON.parse(text).Key);
}

// UnixFS Data of a HAMT shard: Type 5, hashType murmur3-x64-64 (0x22), fanout 256.
const SHARD_DATA = new Uint8Array([0x08, 0x05, 0x28, 0x22, 0x30, 0x80, 0x02]);

// A shard's entries are not bounded by its blocks: one of 5000 links to a sub-shard of 5000
// entries, two small blocks, listed as 25 million entries took ww to 6 GB and out of memory.
Deno.test("ls of a sharded directory of more entries than one ls returns fails naming the path; ww stays small", async () => {
  const file = parseCid(await ipfsd.addFile(new TextEncoder().encode("x")));
  if ("error" in file) throw new Error(file.error);
  const sub = parseCid(
    await putDagPb({
      Data: SHARD_DATA,
      Links: Array.from(
        { length: 300 },
        (_, i) => ({ Name: `00e${String(i).padStart(4, "0")}`, Hash: file, Tsize: 1 }),
      ),
    }),
  );
  if ("error" in sub) throw new Error(sub.error);
  const top = await putDagPb({
    Data: SHARD_DATA,
    Links: Array.from({ length: 2000 }, () => ({ Name: "00", Hash: sub, Tsize: 1 })),
  });
  const r = await runWwMeasured([
    "run",
    ...IPFS,
    ...JAIL,
    ...GUEST,
    JSON.stringify([{ ls: `/ipfs/${top}` }]),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const [ls] = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Result[];
  assert.match(
    ls.error ?? "",
    new RegExp(`/ipfs/${top}: holds more than ${MAX_LS_ENTRIES} entries, more than one ls returns`),
  );
  assert.ok(r.peak < 512 * 2 ** 20, `ww peaked at ${(r.peak / 2 ** 20).toFixed(0)} MiB`);
});

// Names are not bounded by their blocks either: ten 10 KB names in a sub-shard that a top shard
// links 1000 times, 145 KB of blocks, listed as 100 MB, took ww past 1 GiB and 30 s of CPU.
Deno.test("ls of a directory whose names come to more than one ls returns fails naming the path; ww stays small", async () => {
  const file = parseCid(await ipfsd.addFile(new TextEncoder().encode("x")));
  if ("error" in file) throw new Error(file.error);
  const sub = parseCid(
    await putDagPb({
      Data: SHARD_DATA,
      Links: Array.from({ length: 10 }, (_, i) => ({
        Name: `00${String(i).padStart(4, "0")}${"n".repeat(10_000)}`,
        Hash: file,
        Tsize: 1,
      })),
    }),
  );
  if ("error" in sub) throw new Error(sub.error);
  const top = await putDagPb({
    Data: SHARD_DATA,
    Links: Array.from({ length: 1000 }, () => ({ Name: "00", Hash: sub, Tsize: 1 })),
  });
  const guest = await buildGuest();
  const r = await runWwMeasured(["run", ...IPFS, "--timeout", "60s", guest, "ls-many", "1", top]);
  // The guest fails on the call's exception, which names the path and the limit.
  assert.notEqual(r.code, 124, "ww was still listing at --timeout");
  assert.ok(
    r.stderr.includes(
      `${top}: its entries' names and CIDs come to more than ${
        MAX_LS_BYTES >> 20
      } MiB, more than one ls returns; name a path beneath it`,
    ),
    r.stderr,
  );
  assert.ok(r.peak < 512 * 2 ** 20, `ww peaked at ${(r.peak / 2 ** 20).toFixed(0)} MiB`);
});
