// fetchProgram against a real IPFS node (js-ipfs over the Kubo RPC API): every kind of path and
// DAG gives back exactly the file's bytes in a sealed memfd; a node that lies, stalls, dies or is
// not there gives a one-line error and leaves nothing behind; the cache serves a second run with
// no node at all.

import assert from "node:assert/strict";
import { closeFd } from "../../ffi/fd.ts";
import { ALL_SEALS, memfdSeals, readAt } from "../../ffi/memfd.ts";
import { fileSize } from "../../ffi/stat.ts";
import { fetchProgram } from "../../ipfs/fetch.ts";
import { EXIT, InterruptedError, WwError } from "../../core/errors.ts";
import { reportFds } from "../support/children.ts";
import { type Ipfsd, nodeFetch, startIpfsd } from "./ipfsd.ts";
import { refusedPort } from "../support/listeners.ts";
import { startProxy } from "./proxy.ts";

const ipfsd = await startIpfsd();
const program = await Deno.readFile(await reportFds());
const root = await Deno.makeTempDir({ prefix: "wwtest-ipfs-fetch-" });
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));

/** A fresh, empty cache directory. */
function newCache(): string {
  return Deno.makeTempDirSync({ dir: root, prefix: "cache-" });
}

function random(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** The program with `extra` bytes of padding: still runnable (the loader ignores the tail). */
function padded(extra: Uint8Array): Uint8Array {
  return concat(program, extra);
}

function contents(fd: number): Uint8Array {
  const out = new Uint8Array(fileSize(fd));
  readAt(fd, out, 0);
  return out;
}

async function fetchBytes(
  path: string,
  options: { api?: string; cacheDir?: string; timeoutMs?: number } = {},
): Promise<{ name: string; bytes: Uint8Array; sealed: boolean }> {
  const got = await fetchProgram(path, {
    api: options.api ?? ipfsd.api,
    cacheDir: options.cacheDir ?? newCache(),
    timeoutMs: options.timeoutMs ?? 20_000,
  });
  try {
    if (got.sealed) {
      assert.equal(memfdSeals(got.fd) & ALL_SEALS, ALL_SEALS, "the memfd is sealed");
    } else {
      // The cached file itself, opened read-only.
      const flags = Deno.readTextFileSync(`/proc/self/fdinfo/${got.fd}`).match(/flags:\s+(\d+)/);
      assert.equal(parseInt(flags![1], 8) & 3, 0, "opened read-only");
      assert.match(Deno.readLinkSync(`/proc/self/fd/${got.fd}`), /\/files\/baf\w+$/);
    }
    const bytes = contents(got.fd);
    return { name: got.name, bytes, sealed: got.sealed };
  } finally {
    closeFd(got.fd);
  }
}

async function fetchError(
  path: string,
  options: { api?: string; cacheDir?: string; timeoutMs?: number } = {},
): Promise<WwError> {
  try {
    await fetchBytes(path, options);
  } catch (e) {
    if (e instanceof WwError) {
      assert.ok(!e.message.includes("\n"), `one line: ${e.message}`);
      return e;
    }
    throw e;
  }
  throw new Error(`${path} was fetched, but an error was expected`);
}

/** A CID as ww keys it (its cache's files): CIDv1, base32. */
async function base32(cid: string): Promise<string> {
  const { CID } = await import("multiformats/cid");
  const { base58btc } = await import("multiformats/bases/base58");
  return CID.parse(cid, cid.startsWith("z") ? base58btc : undefined).toV1().toString();
}

/** Files and temporary files in a cache directory. */
function cacheFiles(dir: string): string[] {
  const out: string[] = [];
  for (const sub of ["files", "tmp"]) {
    try {
      for (const e of Deno.readDirSync(`${dir}/${sub}`)) out.push(`${sub}/${e.name}`);
    } catch { /* not created */ }
  }
  return out.sort();
}

const big = padded(random(6 * 2 ** 20));
const bigV1 = await ipfsd.addFile(big, { cidVersion: 1 });
const bigV0 = await ipfsd.addFile(big, { cidVersion: 0 });

Deno.test("a single-block file CID gives the file's bytes, named after the CID", async () => {
  const small = new TextEncoder().encode("#!/bin/sh\necho hi\n");
  const cid = await ipfsd.addFile(small);
  const got = await fetchBytes(`/ipfs/${cid}`);
  assert.deepEqual(got, { name: cid, bytes: small, sealed: true });
  assert.deepEqual((await fetchBytes(cid)).bytes, small, "a bare CID works too");
});

Deno.test("a multi-block file of several MiB comes back byte for byte, CIDv1 with raw leaves", async () => {
  assert.deepEqual((await fetchBytes(`/ipfs/${bigV1}`)).bytes, big);
});

Deno.test("a multi-block file comes back byte for byte as CIDv0 with dag-pb leaves", async () => {
  assert.ok(bigV0.startsWith("Qm"));
  assert.deepEqual((await fetchBytes(`/ipfs/${bigV0}`)).bytes, big);
});

Deno.test("a DAG with inner nodes between root and leaves is walked in order", async () => {
  const bytes = padded(random(2 ** 20));
  for (const cidVersion of [0, 1] as const) {
    const cid = await ipfsd.addFile(bytes, { cidVersion, chunker: "size-1024" });
    assert.deepEqual((await fetchBytes(`/ipfs/${cid}`)).bytes, bytes, `CIDv${cidVersion}`);
  }
});

Deno.test("repeated leaves and repeated sub-DAGs are written each time they occur", async () => {
  const zeros = padded(new Uint8Array(3 * 2 ** 20));
  for (const cidVersion of [0, 1] as const) {
    const cid = await ipfsd.addFile(zeros, { cidVersion, chunker: "size-512" });
    assert.deepEqual((await fetchBytes(`/ipfs/${cid}`)).bytes, zeros, `CIDv${cidVersion}`);
  }
});

Deno.test("CIDv1 in base32, base58btc and base36, and CIDv0, name the same program", async () => {
  const cid = await ipfsd.addFile(program);
  const { CID } = await import("multiformats/cid");
  const { base32 } = await import("multiformats/bases/base32");
  const { base36 } = await import("multiformats/bases/base36");
  const { base58btc } = await import("multiformats/bases/base58");
  const parsed = CID.parse(cid, base58btc);
  for (
    const text of [parsed.toString(base32), parsed.toString(base58btc), parsed.toString(base36)]
  ) {
    assert.deepEqual((await fetchBytes(`/ipfs/${text}`)).bytes, program, text);
  }
  const v0 = await ipfsd.addFile(program, { cidVersion: 0 });
  assert.deepEqual((await fetchBytes(`/ipfs/${v0}`)).bytes, program);
});

Deno.test("a wrapped directory's bin/app is found, and argv[0] is its last segment", async () => {
  const dir = await ipfsd.addTree({ "bin/app": program, "README": new TextEncoder().encode("hi") });
  assert.deepEqual(await fetchBytes(`/ipfs/${dir}/bin/app`), {
    name: "app",
    bytes: program,
    sealed: true,
  });
});

Deno.test("a path through HAMT-sharded directories is walked and verified", async () => {
  const files: Record<string, Uint8Array> = { "bin/app": program };
  for (let i = 0; i < 40; i++) files[`bin/other-${i}`] = new TextEncoder().encode(`file ${i}`);
  const dir = await ipfsd.addTree(files, { shardSplitThreshold: 4 });
  assert.deepEqual(await fetchBytes(`/ipfs/${dir}/bin/app`), {
    name: "app",
    bytes: program,
    sealed: true,
  });
  const missing = await fetchError(`/ipfs/${dir}/bin/nope`);
  assert.equal(missing.exitCode, EXIT.notFound);
  assert.match(missing.message, /nope/);
});

// UnixFS says a file's root gives each link's size; README says ww takes one that does not. It
// asked the node's cat of it, which js-ipfs answers with no bytes: "ended ... after 0 of 0 bytes".
Deno.test("a file whose root gives no sizes is taken from its blocks, verified", async () => {
  const { CID } = await import("multiformats/cid");
  const dagPb = await import("@ipld/dag-pb");
  const part = new TextEncoder().encode("#!/bin/sh\necho unsized\n");
  const leaf = CID.parse(await ipfsd.addFile(part, { cidVersion: 1, rawLeaves: true }));
  // UnixFS data: Type 2 (file), no filesize, no blocksizes; the same leaf twice.
  const root = await putBlock(
    ipfsd,
    dagPb.encode({
      Data: new Uint8Array([0x08, 0x02]),
      Links: [{ Hash: leaf, Tsize: part.length }, { Hash: leaf, Tsize: part.length }],
    }),
  );
  const { bytes } = await fetchBytes(`/ipfs/${root}`, { cacheDir: newCache() });
  assert.deepEqual(bytes, new Uint8Array([...part, ...part]));
});

// A CID of a codec no program can be (dag-cbor, dag-json) was asked of the node, and waited on
// for --ipfs-timeout when the node had no such block; at once when it had, it was refused.
Deno.test("a CID no UnixFS node can have is refused before the node is waited on", async () => {
  const cbor = "bafyreiexjtsiv3anyuogbackybh2tylcgfxjkn7sby2ygfzkgbsbtjc2qm";
  for (const path of [`/ipfs/${cbor}`, `/ipfs/${cbor}/bin/app`]) {
    const start = performance.now();
    const e = await fetchError(path, { api: ipfsd.api, cacheDir: newCache(), timeoutMs: 10_000 });
    assert.equal(e.exitCode, EXIT.notExecutable, e.message);
    assert.match(
      e.message,
      /is not a UnixFS file \(codec 0x71\); give the CID of the program's file or of a directory that holds it$/,
    );
    assert.ok(performance.now() - start < 3000, `waited ${performance.now() - start} ms`);
  }
});

// A node of its own: js-ipfs's cat of a file that links such a block may end the daemon.
Deno.test("a CID no UnixFS node can have, linked from inside a file, is refused before it is asked for", async () => {
  const own = await startIpfsd();
  try {
    const cbor = "bafyreiexjtsiv3anyuogbackybh2tylcgfxjkn7sby2ygfzkgbsbtjc2qm";
    const { CID } = await import("multiformats/cid");
    const dagPb = await import("@ipld/dag-pb");
    const leaf = CID.parse(
      await own.addFile(new TextEncoder().encode("12345"), { cidVersion: 1, rawLeaves: true }),
    );
    const root = await putBlock(
      own,
      dagPb.encode({
        Data: fileData([5, 5]),
        Links: [{ Hash: leaf, Tsize: 5 }, { Hash: CID.parse(cbor), Tsize: 5 }],
      }),
    );
    const start = performance.now();
    const e = await fetchError(`/ipfs/${root}`, {
      api: own.api,
      cacheDir: newCache(),
      timeoutMs: 10_000,
    });
    assert.match(
      e.message,
      new RegExp(`${cbor} inside the file is not UnixFS file data \\(codec 0x71\\)$`),
    );
    assert.ok(performance.now() - start < 3000, `waited ${performance.now() - start} ms`);
  } finally {
    await own.stop();
  }
});

// A shard's blocks are its author's: one whose bucket link leads to a file, not a shard, was
// "internal error: PBNode Data was not a valid UnixFS type" through a path, and "holds: nothing"
// when listed.
Deno.test("a sharded directory whose bucket leads to no shard is refused, naming it", async () => {
  const { CID } = await import("multiformats/cid");
  const dagPb = await import("@ipld/dag-pb");
  const leaf = CID.parse(
    await ipfsd.addFile(new TextEncoder().encode("#!/bin/sh\necho hi\n"), {
      cidVersion: 1,
      rawLeaves: true,
    }),
  );
  // UnixFS data: Type 5 (HAMT shard), hashType murmur3 (0x22), fanout 256; one bucket link "00".
  const data = new Uint8Array([0x08, 0x05, 0x28, 0x22, 0x30, 0x80, 0x02]);
  const shard = await putBlock(
    ipfsd,
    dagPb.encode({ Data: data, Links: [{ Name: "00", Hash: leaf, Tsize: 18 }] }),
  );
  for (const path of [`/ipfs/${shard}/app`, `/ipfs/${shard}`]) {
    const e = await fetchError(path, { api: ipfsd.api, cacheDir: newCache() });
    assert.equal(e.exitCode, EXIT.notExecutable, e.message);
    assert.match(e.message, /is not a valid sharded UnixFS directory \(/);
    assert.ok(!e.message.includes("\n"), e.message);
  }
});

// A listing read a sharded directory's sub-shards to their end: a chain of 80,000 empty
// sub-shards, each the only link of the last, took 51 s and 400 MB for "holds: nothing".
Deno.test("listing a sharded directory reads a bounded number of its sub-shards", async () => {
  const { CID } = await import("multiformats/cid");
  const dagPb = await import("@ipld/dag-pb");
  // UnixFS data: Type 5 (HAMT shard), hashType murmur3 (0x22), fanout 256.
  const data = new Uint8Array([0x08, 0x05, 0x28, 0x22, 0x30, 0x80, 0x02]);
  let shard = await putBlock(ipfsd, dagPb.encode({ Data: data, Links: [] }));
  for (let i = 0; i < 100; i++) {
    const link = { Name: "00", Hash: CID.parse(shard), Tsize: 1 };
    shard = await putBlock(ipfsd, dagPb.encode({ Data: data, Links: [link] }));
  }
  const proxy = startProxy(ipfsd.url);
  try {
    const e = await fetchError(`/ipfs/${shard}`, { api: proxy.api, cacheDir: newCache() });
    assert.equal(e.exitCode, EXIT.notExecutable, e.message);
    assert.match(e.message, /is a directory, not a program; it holds: nothing in its first 64 /);
    const blocks = proxy.requests.filter((r) => r.startsWith("block/get")).length;
    assert.ok(blocks <= 66, `${blocks} blocks read`);
  } finally {
    await proxy.close();
  }
});

// A stop during the walk of a shard was taken for the shard's fault: "... is not a valid sharded
// UnixFS directory (... stopped by SIGINT ...)", exit 126, not the stop's own 130. The shard is
// the daemon's; a node of the test's own serves its root and never answers for what is under it.
Deno.test("a stop while a sharded directory is walked is the stop, not a malformed shard", async () => {
  const files: Record<string, Uint8Array> = { "app": program };
  for (let i = 0; i < 40; i++) files[`other-${i}`] = new TextEncoder().encode(`file ${i}`);
  const dir = await ipfsd.addTree(files, { shardSplitThreshold: 4 });
  const got = await nodeFetch(`${ipfsd.url}/api/v0/block/get?arg=${dir}`, { method: "POST" });
  const root = new Uint8Array(await got.arrayBuffer());
  const asked: string[] = [];
  const never = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const arg = new URL(req.url).searchParams.get("arg") ?? "";
    asked.push(arg);
    if (new URL(req.url).pathname === "/api/v0/block/get" && arg === dir) {
      return new Response(root);
    }
    await never.promise;
    return new Response(null, { status: 500 });
  });
  const stop = new AbortController();
  const timer = setTimeout(
    () => stop.abort(new InterruptedError("/ipfs/x: stopped by SIGINT while being fetched", 2)),
    1500,
  );
  const cacheDir = newCache();
  try {
    await assert.rejects(
      fetchProgram(`/ipfs/${dir}/app`, {
        api: `/ip4/127.0.0.1/tcp/${server.addr.port}/http`,
        cacheDir,
        timeoutMs: 20_000,
        signal: stop.signal,
      }),
      (e: unknown) => {
        assert.ok(e instanceof InterruptedError, String(e));
        assert.equal(e.exitCode, 130);
        return true;
      },
    );
    // The walk went past the root into the shard.
    assert.ok(asked.some((a) => a !== dir), asked.join(" "));
  } finally {
    clearTimeout(timer);
    never.resolve();
    await server.shutdown();
  }
});

Deno.test("/ipns/ of the node's own key is resolved on every run", async () => {
  const first = padded(new TextEncoder().encode("first"));
  const second = padded(new TextEncoder().encode("second"));
  const cache = newCache();
  const name = await ipfsd.publish(await ipfsd.addTree({ "bin/app": first }));
  assert.deepEqual(await fetchBytes(`/ipns/${name}/bin/app`, { cacheDir: cache }), {
    name: "app",
    bytes: first,
    sealed: true,
  });
  await ipfsd.publish(await ipfsd.addTree({ "bin/app": second }));
  assert.deepEqual(
    (await fetchBytes(`/ipns/${name}/bin/app`, { cacheDir: cache })).bytes,
    second,
  );
});

Deno.test("two concurrent cold fetches of the same CID both succeed and cache it once", async () => {
  const cache = newCache();
  const bytes = padded(random(3 * 2 ** 20));
  const cid = await ipfsd.addFile(bytes);
  const [a, b] = await Promise.all([
    fetchBytes(`/ipfs/${cid}`, { cacheDir: cache }),
    fetchBytes(`/ipfs/${cid}`, { cacheDir: cache }),
  ]);
  assert.deepEqual(a.bytes, bytes);
  assert.deepEqual(b.bytes, bytes);
  assert.equal(cacheFiles(cache).length, 1, cacheFiles(cache).join(" "));
  assert.ok(cacheFiles(cache)[0].startsWith("files/bafy"));
});

Deno.test("a node that flips a byte of the stream is refused, naming the block's CID", async () => {
  const proxy = startProxy(ipfsd.url, { tamper: { commands: ["cat"], at: 3_000_000 } });
  const cache = newCache();
  try {
    for (const cid of [bigV1, bigV0]) {
      const e = await fetchError(`/ipfs/${cid}`, { api: proxy.api, cacheDir: cache });
      assert.equal(e.exitCode, EXIT.usage);
      assert.match(e.message, /sent data that does not match (bafk|Qm|bafy)\w+/);
      assert.match(e.message, new RegExp(proxy.api));
    }
    assert.deepEqual(cacheFiles(cache), []);
  } finally {
    await proxy.close();
  }
});

Deno.test("a node that flips a byte of a block (a directory, a small file) is refused", async () => {
  const small = new TextEncoder().encode("#!/bin/sh\necho small\n");
  const dir = await ipfsd.addTree({ "bin/tool": small });
  const proxy = startProxy(ipfsd.url, { tamper: { commands: ["block/get"], at: 10 } });
  const cache = newCache();
  try {
    const e = await fetchError(`/ipfs/${dir}/bin/tool`, { api: proxy.api, cacheDir: cache });
    // Named as the path has it (base58btc, "zdj7…", as the node gave it), not re-encoded.
    assert.match(e.message, new RegExp(`does not match ${dir} `));
    assert.ok(!e.message.includes(await base32(dir)), e.message);
    const file = await ipfsd.addFile(small);
    const e2 = await fetchError(`/ipfs/${file}`, { api: proxy.api, cacheDir: cache });
    // A zb2… CID was named as bafk…, which the user never wrote.
    assert.match(e2.message, new RegExp(`does not match ${file} `));
    assert.deepEqual(cacheFiles(cache), []);
  } finally {
    await proxy.close();
  }
});

// A CID the user wrote in another base than base32 (zb2…, zdpu…, k2…) was named in base32 in the
// errors about it (bafk…, bafy…): not the text the user typed, nor one they could find in it.
Deno.test("errors name the path's root CID as it was written, in whatever base", async () => {
  const { CID } = await import("multiformats/cid");
  const { base58btc } = await import("multiformats/bases/base58");
  const { base36 } = await import("multiformats/bases/base36");
  const Digest = await import("multiformats/hashes/digest");
  const cbor = CID.parse("bafyreiexjtsiv3anyuogbackybh2tylcgfxjkn7sby2ygfzkgbsbtjc2qm");
  const short = CID.createV1(0x55, Digest.create(0x12, new Uint8Array(10).fill(7)));
  const cases: [string, RegExp][] = [
    [cbor.toString(base58btc), /^(\S+): \1 is not a UnixFS file \(codec 0x71\)/],
    [cbor.toString(base36), /^(\S+): \1 is not a UnixFS file \(codec 0x71\)/],
    [short.toString(base58btc), /^(\S+): \1: its sha2-256 digest is 10 bytes long/],
  ];
  for (const [typed, pattern] of cases) {
    const e = await fetchError(`/ipfs/${typed}`, { cacheDir: newCache() });
    assert.match(e.message, new RegExp(`^/ipfs/${typed}: ${typed}[: ]`));
    assert.match(e.message.replace("/ipfs/", ""), pattern);
    assert.ok(!/\bbaf[a-z]/.test(e.message), e.message);
  }
});

Deno.test("a node that stalls mid-stream times out after --ipfs-timeout", async () => {
  const proxy = startProxy(ipfsd.url, { stall: { commands: ["cat"], after: 1_000_000 } });
  const cache = newCache();
  try {
    const start = performance.now();
    const e = await fetchError(`/ipfs/${bigV1}`, {
      api: proxy.api,
      cacheDir: cache,
      timeoutMs: 700,
    });
    const took = performance.now() - start;
    assert.equal(e.exitCode, EXIT.usage);
    assert.match(e.message, /sent nothing for 700ms/);
    // A library caller's words in the message, the flag in the command line's (issue 16).
    assert.match(e.message, /raise ipfsTimeoutMs to wait longer/);
    assert.match(e.commandLine ?? "", /raise --ipfs-timeout to wait longer/);
    assert.ok(took < 5000, `gave up after ${took} ms`);
    assert.deepEqual(cacheFiles(cache), []);
  } finally {
    await proxy.close();
  }
});

Deno.test("a CID the node cannot find times out, naming the CID", async () => {
  const unknown = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
  const e = await fetchError(`/ipfs/${unknown}`, { timeoutMs: 500 });
  assert.match(e.message, new RegExp(`sent nothing for 500ms while fetching block ${unknown}`));
});

Deno.test("a node that dies mid-transfer is an error, and nothing is left behind", async () => {
  const doomed = await startIpfsd();
  const cache = newCache();
  const bytes = padded(random(16 * 2 ** 20));
  const cid = await doomed.addFile(bytes);
  const proxy = startProxy(doomed.url, { bytesPerSecond: 16 * 2 ** 20 });
  try {
    const pending = fetchError(`/ipfs/${cid}`, { api: proxy.api, cacheDir: cache });
    while (proxy.forwarded() < 2 ** 20) await new Promise((r) => setTimeout(r, 20));
    doomed.kill();
    const e = await pending;
    assert.equal(e.exitCode, EXIT.usage);
    assert.match(e.message, new RegExp(`stopped sending /ipfs/${cid} after \\d+ bytes`));
    assert.deepEqual(cacheFiles(cache), []);
  } finally {
    await proxy.close();
    await doomed.stop();
  }
});

Deno.test("an unreachable node is an error naming the address tried", async () => {
  const api = `/ip4/127.0.0.1/tcp/${refusedPort()}/http`;
  const e = await fetchError(`/ipfs/${bigV1}`, { api });
  assert.equal(e.exitCode, EXIT.usage);
  assert.match(e.message, new RegExp(`cannot reach the IPFS node at ${api} .*connection refused`));
});

Deno.test("a directory is not a program: the error lists its entries", async () => {
  const dir = await ipfsd.addTree({ "bin/app": program, "bin/tool": program, "README": program });
  const e = await fetchError(`/ipfs/${dir}/bin`);
  assert.equal(e.exitCode, EXIT.notExecutable);
  assert.match(e.message, /is a directory, not a program; it holds: app, tool$/);
  const top = await fetchError(`/ipfs/${dir}`);
  assert.match(top.message, /it holds: README, bin$/);
});

Deno.test("a missing entry is an error naming it and what the directory holds", async () => {
  const dir = await ipfsd.addTree({ "bin/app": program });
  const e = await fetchError(`/ipfs/${dir}/bin/ap`);
  assert.equal(e.exitCode, EXIT.notFound);
  assert.match(e.message, new RegExp(`no entry "ap" in /ipfs/${dir}/bin; it holds: app`));
  // 127 too, as a local path through a file (/bin/sh/x) is.
  const through = await fetchError(`/ipfs/${dir}/bin/app/more`);
  assert.equal(through.exitCode, EXIT.notFound);
  assert.match(through.message, /is a file, not a directory/);
});

Deno.test("a file that is not a program for this machine is refused with the reason (126)", async () => {
  const text = await ipfsd.addFile(new TextEncoder().encode("just some text\n"));
  const e = await fetchError(`/ipfs/${text}`);
  assert.equal(e.exitCode, EXIT.notExecutable);
  assert.match(e.message, /neither an ELF header nor a #! line/);
  const foreign = program.slice();
  foreign[18] = Deno.build.arch === "x86_64" ? 183 : 62; // e_machine of the other architecture
  foreign[19] = 0;
  const elf = await ipfsd.addFile(foreign);
  assert.match(
    (await fetchError(`/ipfs/${elf}`)).message,
    /is an ELF program for \w+, but this machine is/,
  );
});

// A digest cut to a few bytes (or none) compares only that prefix: a node made up bytes to match
// it, and ww ran them (bafkreaa: sha2-256 with a 0-byte digest) and cached them.
Deno.test("a CID whose digest is cut below 20 bytes is refused: nothing the node sends for it runs or is cached", async () => {
  const { CID } = await import("multiformats/cid");
  const Digest = await import("multiformats/hashes/digest");
  const script = new TextEncoder().encode("#!/bin/sh\necho made up\n");
  const proxy = startProxy(ipfsd.url, {
    rewrite: { "block/get": () => script, cat: () => script },
  });
  const cache = newCache();
  try {
    for (const length of [0, 1, 19]) {
      const cid = CID.createV1(0x55, Digest.create(0x12, new Uint8Array(length))).toString();
      const e = await fetchError(`/ipfs/${cid}`, { api: proxy.api, cacheDir: cache });
      assert.equal(e.exitCode, EXIT.usage);
      assert.match(e.message, new RegExp(`${cid}: its sha2-256 digest is ${length} bytes? long`));
    }
    assert.deepEqual(cacheFiles(cache), []);
  } finally {
    await proxy.close();
  }
});

// A node of its own: js-ipfs's cat of that root (ww's early request) ends the daemon.
Deno.test("a link with a cut digest inside a file's DAG is refused, naming it and the block it is in", async () => {
  const own = await startIpfsd();
  try {
    await refusesWeakLink(own);
  } finally {
    await own.stop();
  }
});

async function refusesWeakLink(ipfsd: Ipfsd): Promise<void> {
  const { CID } = await import("multiformats/cid");
  const Digest = await import("multiformats/hashes/digest");
  const dagPb = await import("@ipld/dag-pb");
  const honest = CID.parse(
    await ipfsd.addFile(new TextEncoder().encode("12345"), { cidVersion: 1, rawLeaves: true }),
  );
  const weak = CID.createV1(0x55, Digest.create(0x12, new Uint8Array(4)));
  // UnixFS file data: Type 2, filesize 10, two blocksizes of 5.
  const node = {
    Data: new Uint8Array([0x08, 0x02, 0x18, 10, 0x20, 5, 0x20, 5]),
    Links: [
      { Hash: honest, Tsize: 5 },
      { Hash: weak, Tsize: 5 },
    ],
  };
  const root = await putBlock(ipfsd, dagPb.encode(node));
  const cache = newCache();
  const e = await fetchError(`/ipfs/${root}`, { api: ipfsd.api, cacheDir: cache });
  assert.equal(e.exitCode, EXIT.usage);
  assert.match(
    e.message,
    new RegExp(`${weak}: its sha2-256 digest is 4 bytes long.* \\(in ${root}\\)$`),
  );
  assert.deepEqual(cacheFiles(cache), []);
}

// A UnixFS symlink was refused in words that did not say it was one ("is a symlink, not a
// directory", exit 127, on the way; "is a UnixFS symlink, not a program file", 126, at the end),
// and never named what it points to.
Deno.test("a UnixFS symlink on the path, as the program or on the way, is refused in one line naming it and its target (126)", async () => {
  const { CID } = await import("multiformats/cid");
  const dagPb = await import("@ipld/dag-pb");
  const { UnixFS } = await import("ipfs-unixfs");
  const own = await startIpfsd();
  try {
    const script = new TextEncoder().encode("#!/bin/sh\necho hi\n");
    const file = CID.parse(await own.addFile(script, { cidVersion: 1 }));
    const put = async (node: Parameters<typeof dagPb.prepare>[0]) => {
      const block = dagPb.encode(dagPb.prepare(node));
      return { Hash: CID.parse(await putBlock(own, block)), Tsize: block.length };
    };
    const symlink = (target: string) =>
      put({
        Data: new UnixFS({ type: "symlink", data: new TextEncoder().encode(target) }).marshal(),
        Links: [],
      });
    const directory = (links: Record<string, { Hash: InstanceType<typeof CID>; Tsize: number }>) =>
      put({
        Data: new UnixFS({ type: "directory" }).marshal(),
        Links: Object.entries(links).sort().map(([Name, l]) => ({ Name, ...l })),
      });
    const bin = await directory({ app: { Hash: file, Tsize: script.length } });
    const root = await directory({
      bin,
      "app-link": await symlink("bin/app"),
      "bin-link": await symlink("bin"),
      "odd-link": await symlink("/etc/\nww: fake"),
    });
    const cases = [
      [`/ipfs/${root.Hash}/app-link`, `is a UnixFS symlink to "bin/app"`],
      [
        `/ipfs/${root.Hash}/bin-link/app`,
        `/ipfs/${root.Hash}/bin-link is a UnixFS symlink to "bin"`,
      ],
      [`/ipfs/${root.Hash}/odd-link`, `is a UnixFS symlink to "/etc/\\nww: fake"`],
    ];
    for (const [path, said] of cases) {
      const e = await fetchError(path, { api: own.api, cacheDir: newCache() });
      assert.equal(e.exitCode, EXIT.notExecutable, e.message);
      assert.equal(
        e.message,
        `${path}: ${said}, which ww does not follow (give the path it points to, below its directory)`,
      );
    }
    // The target's path runs.
    const got = await fetchBytes(`/ipfs/${root.Hash}/bin/app`, {
      api: own.api,
      cacheDir: newCache(),
    });
    assert.deepEqual(got.bytes, script);
  } finally {
    await own.stop();
  }
});

/** Stores `block` (dag-pb) on `ipfsd` as it is; its CID (CIDv1). */
async function putBlock(ipfsd: Ipfsd, block: Uint8Array): Promise<string> {
  const { CID } = await import("multiformats/cid");
  const form = new FormData();
  form.append("file", new Blob([block as Uint8Array<ArrayBuffer>]));
  const res = await nodeFetch(
    `${ipfsd.url}/api/v0/block/put?format=dag-pb&cid-codec=dag-pb&mhtype=sha2-256&version=1`,
    { method: "POST", body: form },
  );
  const text = await res.text();
  assert.ok(res.ok, `block/put: ${text}`);
  return CID.parse(JSON.parse(text).Key["/"] ?? JSON.parse(text).Key).toString();
}

/** A protobuf varint. */
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80);
  return [...out, n];
}

// The sizes a file's DAG gives its leaves are its author's word: a size no block can have was
// "internal error: Array buffer allocation failed" (ww took a buffer of that size), and a size
// smaller than the leaf blamed the node. A node of its own for each (js-ipfs's cat of such a
// root may end the daemon).
for (
  const [claim, tsize, expected] of [
    // Its link's size says the same: no block is that large, whatever the node would send.
    [2 ** 30, 2 ** 30, /holds 1073741824 bytes, more than a block can \(4 MiB\)$/],
    [10, 36, /holds 10 bytes; it holds 36$/],
    // Above the leaf: the node never sends the bytes, and ww waited for them, then blamed it.
    [1000, 36, /holds 1000 bytes; it holds 36$/],
  ] as const
) {
  Deno.test(`a file's DAG that says its leaf holds ${claim} bytes is refused, naming the leaf`, async () => {
    const own = await startIpfsd();
    try {
      const { CID } = await import("multiformats/cid");
      const dagPb = await import("@ipld/dag-pb");
      const script = new TextEncoder().encode(`#!/bin/sh\necho ${"x".repeat(20)}\n`);
      assert.equal(script.length, 36);
      const leaf = CID.parse(await own.addFile(script, { cidVersion: 1, rawLeaves: true }));
      // UnixFS file data: Type 2, filesize and one blocksize of `claim`.
      const data = new Uint8Array([0x08, 0x02, 0x18, ...varint(claim), 0x20, ...varint(claim)]);
      const root = await putBlock(
        own,
        dagPb.encode({ Data: data, Links: [{ Hash: leaf, Tsize: tsize }] }),
      );
      const cache = newCache();
      const e = await fetchError(`/ipfs/${root}`, { api: own.api, cacheDir: cache });
      assert.equal(e.exitCode, EXIT.usage, e.message);
      assert.ok(e.message.includes(`the DAG of ${root} says its leaf ${leaf} `), e.message);
      assert.match(e.message, expected);
      assert.deepEqual(cacheFiles(cache), []);
    } finally {
      await own.stop();
    }
  });
}

// It was fetched from the node like any other, and refused when the node was not there. A long
// one (its CID longer than a file name may be) could not be cached either, and said so each run.
Deno.test("an identity CID carries its program: no node is asked, nothing is cached", async () => {
  const { CID } = await import("multiformats/cid");
  const { identity } = await import("multiformats/hashes/identity");
  const proxy = startProxy(ipfsd.url);
  const cache = newCache();
  try {
    for (const script of ["#!/bin/sh\necho inline\n", `#!/bin/sh\n# ${"x".repeat(300)}\n`]) {
      const bytes = new TextEncoder().encode(script);
      const cid = CID.createV1(0x55, identity.digest(bytes)).toString();
      const got = await fetchBytes(`/ipfs/${cid}`, { api: proxy.api, cacheDir: cache });
      assert.deepEqual(got.bytes, bytes);
    }
    assert.deepEqual(proxy.requests, []);
    assert.deepEqual(cacheFiles(cache), []);
  } finally {
    await proxy.close();
  }
});

Deno.test("malformed paths and CIDs are usage errors", async () => {
  for (const path of ["/ipfs/", "/ipfs/notacid", "/ipfs/bafy/../x"]) {
    const e = await fetchError(path);
    assert.equal(e.exitCode, EXIT.usage, path);
    assert.ok(e.message.startsWith("/ipfs/"), e.message);
  }
});

Deno.test("a domain without DNSLink is an error naming it (ww looks it up, not the node)", async () => {
  const e = await fetchError("/ipns/no-such-name.invalid/bin/app", { timeoutMs: 10_000 });
  assert.equal(e.exitCode, EXIT.usage);
  assert.match(
    e.message,
    /^\/ipns\/no-such-name\.invalid\/bin\/app: (no dnslink= TXT record at|cannot look up the DNSLink TXT record) _dnslink\.no-such-name\.invalid/,
  );
});

// A fetch a guest starts while its run goes on (Executor.start of an /ipfs/ path): the program
// has the terminal, and ww wrote its warning there with a blocking write, outside the queue that
// never blocks, and drew its progress line over the program's output. With `notices` the lines go
// there, and stderr gets nothing.
Deno.test("with notices, a fetch's warning goes there and nothing to stderr", async () => {
  const cid = await ipfsd.addFile(new TextEncoder().encode("#!/bin/sh\necho hi\n"));
  const cache = newCache();
  Deno.chmodSync(cache, 0o777); // untrusted: the run warns that it cannot cache there
  const script = (notices: boolean) => `
    import { fetchProgram } from "${new URL("../../ipfs/fetch.ts", import.meta.url)}";
    const lines = [];
    await fetchProgram("/ipfs/${cid}", {
      api: "${ipfsd.api}", cacheDir: "${cache}", timeoutMs: 20000,
      ${notices ? "notices: (line) => lines.push(line)," : ""}
    });
    console.log(JSON.stringify(lines));`;
  const run = async (notices: boolean) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        "--config",
        new URL("../../deno.json", import.meta.url).pathname,
        script(notices),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return {
      lines: JSON.parse(new TextDecoder().decode(out.stdout)) as string[],
      stderr: new TextDecoder().decode(out.stderr),
    };
  };
  const warning = new RegExp(`^ww: warning: cannot cache in ${cache}: .*writable by others`);
  const quiet = await run(true);
  assert.equal(quiet.stderr, "");
  assert.equal(quiet.lines.length, 1, JSON.stringify(quiet.lines));
  assert.match(quiet.lines[0], warning);
  const loud = await run(false);
  assert.deepEqual(loud.lines, []);
  assert.match(loud.stderr, warning);
});

// Last: it stops the node.
Deno.test("a second run of the same /ipfs/ path needs no node at all", async () => {
  const cache = newCache();
  const dir = await ipfsd.addTree({ "bin/app": big });
  assert.deepEqual((await fetchBytes(`/ipfs/${dir}/bin/app`, { cacheDir: cache })).bytes, big);
  assert.deepEqual((await fetchBytes(`/ipfs/${bigV0}`, { cacheDir: cache })).bytes, big);
  await ipfsd.stop();
  const unreachable = `/ip4/127.0.0.1/tcp/${refusedPort()}/http`;
  assert.deepEqual(
    await fetchBytes(`/ipfs/${dir}/bin/app`, { cacheDir: cache, api: unreachable }),
    { name: "app", bytes: big, sealed: false },
  );
  // The CIDv1 form of a CIDv0 names the same DAG, so the cache has it under either.
  const { CID } = await import("multiformats/cid");
  const v1 = CID.parse(bigV0).toV1().toString();
  assert.deepEqual((await fetchBytes(v1, { cacheDir: cache, api: unreachable })).bytes, big);
});

/** UnixFS file data: Type 2, a filesize and a blocksize for each child. */
function fileData(blockSizes: readonly number[]): Uint8Array {
  const total = blockSizes.reduce((a, b) => a + b, 0);
  return new Uint8Array([
    0x08,
    0x02,
    0x18,
    ...varint(total),
    ...blockSizes.flatMap((n) => [0x20, ...varint(n)]),
  ]);
}

// A DAG of a few KiB whose every level links one child twice describes as much as it likes: the
// memfd grew at ~350 MB/s with nothing to stop it but the machine's memory.
// A node of its own: js-ipfs's cat of such a DAG may end the daemon.
Deno.test("a program whose DAG says it holds more than 2 GiB is refused before its bytes are read", async () => {
  const { CID } = await import("multiformats/cid");
  const dagPb = await import("@ipld/dag-pb");
  const own = await startIpfsd();
  const leaf = CID.parse(await own.addFile(random(1024), { cidVersion: 1, rawLeaves: true }));
  let child = leaf;
  let size = 1024;
  for (let level = 0; level < 22; level++) {
    const block = dagPb.encode({
      Data: fileData([size, size]),
      Links: [{ Hash: child, Tsize: size }, { Hash: child, Tsize: size }],
    });
    child = CID.parse(await putBlock(own, block));
    size *= 2;
  }
  const proxy = startProxy(own.url);
  const cache = newCache();
  try {
    const e = await fetchError(`/ipfs/${child}`, { api: proxy.api, cacheDir: cache });
    assert.equal(e.exitCode, EXIT.usage);
    assert.match(
      e.message,
      new RegExp(
        `${child} holds ${2 ** 32} bytes; ww holds a program from IPFS in memory .* at most 2 GiB$`,
      ),
    );
    // The cat ww asks for as it loads its code is dropped unread.
    assert.ok(proxy.forwarded() < 2 ** 20, String(proxy.forwarded()));
    assert.deepEqual(cacheFiles(cache), []);
  } finally {
    await proxy.close();
    await own.stop();
  }
});

// The root's sizes were all that bounded the memfd and the cache's copy: a root that said 2 bytes
// over subtrees of a KiB was written whole, and a GiB one was cached past the cache's bound.
Deno.test("a DAG that holds more than its root says is refused, and nothing is cached", async () => {
  const { CID } = await import("multiformats/cid");
  const dagPb = await import("@ipld/dag-pb");
  const own = await startIpfsd();
  const halves = [random(512), random(512)];
  const leaves = await Promise.all(
    halves.map(async (h) => CID.parse(await own.addFile(h, { cidVersion: 1, rawLeaves: true }))),
  );
  const inner = CID.parse(
    await putBlock(
      own,
      dagPb.encode({
        Data: fileData([512, 512]),
        Links: leaves.map((l) => ({ Hash: l, Tsize: 512 })),
      }),
    ),
  );
  const root = await putBlock(
    own,
    dagPb.encode({
      // Each link's own size is the inner node's, so that it is walked as one (not read as a leaf).
      Data: fileData([1, 1]),
      Links: [{ Hash: inner, Tsize: 1100 }, { Hash: inner, Tsize: 1100 }],
    }),
  );
  // The bytes the DAG holds, as a node that serves them would (js-ipfs refuses this DAG's cat).
  const whole = concat(...halves, ...halves);
  const proxy = startProxy(own.url, { rewrite: { cat: () => whole } });
  const cache = newCache();
  try {
    const e = await fetchError(`/ipfs/${root}`, { api: proxy.api, cacheDir: cache });
    assert.equal(e.exitCode, EXIT.usage);
    assert.match(
      e.message,
      new RegExp(`the DAG of ${root} holds more than the 2 bytes its root says`),
    );
    assert.deepEqual(cacheFiles(cache).filter((f) => f.startsWith("files/")), []);
  } finally {
    await proxy.close();
    await own.stop();
  }
});

// The cache's file was opened blocking, whatever it was: a FIFO put there held ww in open(2),
// where no signal but SIGKILL reached it, and a directory was "internal error: pread: EISDIR".
Deno.test("what is no regular file in the cache is not cached: the program is fetched again", async () => {
  const script = new TextEncoder().encode("#!/bin/sh\necho fifo\n");
  const own = await startIpfsd();
  try {
    const cid = await own.addFile(script, { cidVersion: 1 });
    for (const kind of ["fifo", "directory"]) {
      const cache = newCache();
      Deno.mkdirSync(`${cache}/files`, { recursive: true });
      // As ww makes it: a cache others may write is not looked in at all.
      Deno.chmodSync(`${cache}/files`, 0o700);
      const planted = `${cache}/files/${await base32(cid)}`;
      if (kind === "fifo") {
        const made = await new Deno.Command("mkfifo", { args: [planted] }).output();
        assert.equal(made.code, 0);
      } else {
        Deno.mkdirSync(planted);
      }
      const got = await fetchBytes(cid, { api: own.api, cacheDir: cache, timeoutMs: 5000 });
      assert.deepEqual(got.bytes, script, kind);
    }
  } finally {
    await own.stop();
  }
});

// A crash after a cached file's rename but before its bytes reached the disk leaves a prefix under
// the CID: a bare CID, or another path to it, ran that prefix (a script's last line cut to
// "rm -rf /tmp", seen) and recorded it as the program.
Deno.test("a cached file cut short is not run: the program is fetched again, whole", async () => {
  const script = new TextEncoder().encode("#!/bin/sh\necho one\necho rm -rf /tmp/keep/this\n");
  const own = await startIpfsd();
  try {
    const cid = await own.addFile(script, { cidVersion: 1 });
    const dir = await own.addTree({ "bin/app": script });
    const cache = newCache();
    assert.deepEqual((await fetchBytes(cid, { api: own.api, cacheDir: cache })).bytes, script);
    const file = `${cache}/files/${await base32(cid)}`;
    for (const path of [cid, await base32(cid), `/ipfs/${dir}/bin/app`]) {
      Deno.chmodSync(file, 0o755);
      Deno.writeFileSync(file, script.subarray(0, 30));
      Deno.chmodSync(file, 0o555);
      const got = await fetchBytes(path, { api: own.api, cacheDir: cache });
      assert.equal(new TextDecoder().decode(got.bytes), new TextDecoder().decode(script), path);
      assert.deepEqual(Deno.readFileSync(file), script, `${path}: cached whole again`);
    }
  } finally {
    await own.stop();
  }
});

// Every inner node a root links was fetched ahead and held until the walk reached it: a root of
// 1200 links to 1 MiB inner nodes held 1.5 GB while the node stalled the file's bytes.
Deno.test("ww fetches at most 32 inner nodes ahead of the walk", async () => {
  const { CID } = await import("multiformats/cid");
  const dagPb = await import("@ipld/dag-pb");
  const own = await startIpfsd();
  const inners: { Hash: InstanceType<typeof CID>; Tsize: number }[] = [];
  for (let i = 0; i < 100; i++) {
    const leaf = CID.parse(
      await own.addFile(new TextEncoder().encode(`leaf ${i}`.padEnd(16)), {
        cidVersion: 1,
        rawLeaves: true,
      }),
    );
    const block = dagPb.encode({ Data: fileData([16]), Links: [{ Hash: leaf, Tsize: 16 }] });
    // A link size well above its data's: an inner node to fetch, not a leaf to read.
    inners.push({ Hash: CID.parse(await putBlock(own, block)), Tsize: block.length + 100 });
  }
  const root = await putBlock(
    own,
    dagPb.encode({ Data: fileData(inners.map(() => 16)), Links: inners }),
  );
  const proxy = startProxy(own.url, { stall: { commands: ["cat"], after: 0 } });
  try {
    const e = await fetchError(`/ipfs/${root}`, {
      api: proxy.api,
      cacheDir: newCache(),
      timeoutMs: 700,
    });
    assert.match(e.message, /sent nothing for 700ms/);
    const blockGets = proxy.requests.filter((r) => r.startsWith("block/get")).length;
    // The root's, and the inner nodes fetched ahead.
    assert.ok(blockGets <= 1 + 32, `${blockGets} block/get requests`);
  } finally {
    await proxy.close();
    await own.stop();
  }
});

// UnixFS asks a root for each link's size; one without them ran before the bound on what a root
// says, and was then refused as holding "more than the 0 bytes its root says".
Deno.test("a root that gives no sizes for its links still runs, and is not cached", async () => {
  const { CID } = await import("multiformats/cid");
  const dagPb = await import("@ipld/dag-pb");
  const own = await startIpfsd();
  const halves = [
    new TextEncoder().encode("#!/bin/sh\necho no"),
    new TextEncoder().encode(" sizes\n"),
  ];
  try {
    const leaves = await Promise.all(
      halves.map(async (h) => CID.parse(await own.addFile(h, { cidVersion: 1, rawLeaves: true }))),
    );
    // UnixFS file data: Type 2, and nothing else.
    const root = await putBlock(
      own,
      dagPb.encode({
        Data: new Uint8Array([0x08, 0x02]),
        Links: leaves.map((l, i) => ({ Hash: l, Tsize: halves[i].length })),
      }),
    );
    const whole = concat(...halves);
    const proxy = startProxy(own.url, { rewrite: { cat: () => whole } });
    const cache = newCache();
    try {
      const got = await fetchBytes(`/ipfs/${root}`, { api: proxy.api, cacheDir: cache });
      assert.deepEqual(got.bytes, whole);
      assert.deepEqual(cacheFiles(cache).filter((f) => f.startsWith("files/")), []);
    } finally {
      await proxy.close();
    }
  } finally {
    await own.stop();
  }
});
