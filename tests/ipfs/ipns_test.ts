// /ipns/ names through the real command line and a real js-ipfs node: ww runs what the name's
// signed record points to only when the record verifies against the name's own key and is still
// valid; a node that lies about a name, a record signed by another key, an expired record, and a
// node that gives no record (unless --trust-node-ipns) are one line and exit 125, and nothing runs.

import assert from "node:assert/strict";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { createIPNSRecord, marshalIPNSRecord } from "ipns";
import { IpfsNode } from "../../ipfs/node.ts";
import { resolveIpnsName } from "../../ipfs/ipns.ts";
import { SetupError } from "../../core/errors.ts";
import { Command } from "../../mod.ts";
import { runWw } from "../support/ww.ts";
import { startDns, startSilentDns } from "./dns.ts";
import { nodeFetch, startIpfsd } from "./ipfsd.ts";
import { type Proxy, replaceBytes, startProxy, withRecord } from "./proxy.ts";

const ipfsd = await startIpfsd();
const tmp = await Deno.makeTempDir({ prefix: "wwtest-ipns-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const text = (s: string) => new TextEncoder().encode(s);

const honest = await ipfsd.addTree({ "bin/app": text("#!/bin/sh\necho honest\n") });
const other = await ipfsd.addTree({ "bin/app": text("#!/bin/sh\necho other\n") });
assert.equal(honest.length, other.length);
const name = await ipfsd.publish(honest);

const DENO_DIR = JSON.parse(
  new TextDecoder().decode(
    (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output()).stdout,
  ),
).denoDir;

/** `ww run --jail=none` with a private cache against `api`. */
function ww(api: string, args: string[]) {
  const cache = Deno.makeTempDirSync({ dir: tmp, prefix: "xdg-" });
  return runWw(["run", "--jail=none", "--ipfs", api, ...args], {
    env: { XDG_CACHE_HOME: cache, DENO_DIR },
  });
}

/** stderr without the --jail=none warning. */
function errors(stderr: string): string[] {
  return stderr.trim().split("\n").filter((l) => l !== "" && !l.includes("NOT jailed"));
}

const lie = (body: Uint8Array) => replaceBytes(body, honest, other);
const lyingRecord = withRecord((record) => replaceBytes(record, honest, other));

Deno.test("the node's own published name runs, verified by its record", async () => {
  const r = await ww(ipfsd.api, [`/ipns/${name}/bin/app`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "honest\n");
});

Deno.test("a node that rewrites name/resolve and the record is refused: exit 125, one line, nothing runs", async () => {
  const proxy = startProxy(ipfsd.url, {
    rewrite: {
      "name/resolve": lie,
      "dht/get": lyingRecord,
    },
  });
  try {
    const r = await ww(proxy.api, [`/ipns/${name}/bin/app`]);
    assert.equal(r.code, 125, r.stderr);
    assert.equal(r.stdout, "");
    assert.deepEqual(errors(r.stderr), [
      `ww: /ipns/${name}/bin/app: /ipns/${name}: the IPNS record's signature does not verify against the name's key (changed, or signed by another key)`,
    ]);
    assert.ok(proxy.requests.some((q) => q.startsWith("dht/get")), proxy.requests.join(", "));
  } finally {
    await proxy.close();
  }
});

Deno.test("a record signed by another key is refused", async () => {
  const key = await generateKeyPair("Ed25519");
  const forged = marshalIPNSRecord(await createIPNSRecord(key, `/ipfs/${other}`, 99n, 3600_000));
  const proxy = startProxy(ipfsd.url, {
    rewrite: { "name/resolve": lie, "dht/get": withRecord(() => forged) },
  });
  try {
    const r = await ww(proxy.api, [`/ipns/${name}/bin/app`]);
    assert.equal(r.code, 125, r.stderr);
    assert.equal(r.stdout, "");
    assert.deepEqual(errors(r.stderr), [
      `ww: /ipns/${name}/bin/app: /ipns/${name}: the IPNS record's signature does not verify against the name's key (changed, or signed by another key)`,
    ]);
  } finally {
    await proxy.close();
  }
});

Deno.test("an expired record is refused, naming when it expired", async () => {
  // A second node, so that this name's short lifetime does not race the other tests.
  const node = await startIpfsd();
  let proxy: Proxy | undefined;
  try {
    const cid = await node.addTree({ "bin/app": text("#!/bin/sh\necho expired\n") });
    const short = await node.publish(cid, "1s");
    // The node keeps an expired record to itself: the proxy serves the one it gave while valid.
    const res = await nodeFetch(`${node.url}/api/v0/dht/get?arg=/ipns/${short}`, {
      method: "POST",
    });
    const answer = new Uint8Array(await res.arrayBuffer());
    assert.equal(res.status, 200);
    await new Promise((r) => setTimeout(r, 1500));
    proxy = startProxy(node.url, { rewrite: { "dht/get": () => answer } });
    const r = await ww(proxy.api, [`/ipns/${short}/bin/app`]);
    assert.equal(r.code, 125, r.stderr);
    assert.equal(r.stdout, "");
    const lines = errors(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0],
      new RegExp(
        `^ww: /ipns/${short}/bin/app: /ipns/${short}: the IPNS record expired at 20\\d\\d-`,
      ),
    );
  } finally {
    await proxy?.close();
    await node.stop();
  }
});

Deno.test("a node with no record path: refused naming --trust-node-ipns; with it, the node's answer runs", async () => {
  const proxy = startProxy(ipfsd.url, { refuse: ["dht/get", "routing/get"] });
  try {
    const refused = await ww(proxy.api, [`/ipns/${name}/bin/app`]);
    assert.equal(refused.code, 125, refused.stderr);
    assert.equal(refused.stdout, "");
    assert.deepEqual(errors(refused.stderr), [
      `ww: /ipns/${name}/bin/app: the IPFS node at ${proxy.api} (from --ipfs) gives no IPNS record for /ipns/${name}, so ww cannot verify the name (--trust-node-ipns takes the node's word for it)`,
    ]);
    const trusted = await ww(proxy.api, ["--trust-node-ipns", `/ipns/${name}/bin/app`]);
    assert.equal(trusted.code, 0, trusted.stderr);
    assert.equal(trusted.stdout, "honest\n");
  } finally {
    await proxy.close();
  }
});

Deno.test("a library caller: the refusal names trustNodeIpns, and with it the node's answer runs", async () => {
  const proxy = startProxy(ipfsd.url, { refuse: ["dht/get", "routing/get"] });
  // Command caches what it fetches under this process's XDG_CACHE_HOME: a private one, for this
  // test only (deno test --parallel runs other test files in this process).
  const savedCache = Deno.env.get("XDG_CACHE_HOME");
  Deno.env.set("XDG_CACHE_HOME", Deno.makeTempDirSync({ dir: tmp, prefix: "xdg-" }));
  const program = `/ipns/${name}/bin/app`;
  const options = { ipfsApi: proxy.api, jail: { backend: "none" as const } };
  try {
    await assert.rejects(new Command(program, options).output(), (e: unknown) => {
      assert.ok(e instanceof SetupError, String(e));
      assert.equal(
        e.message,
        `${program}: the IPFS node at ${proxy.api} gives no IPNS record for /ipns/${name}, so ww cannot verify the name (trustNodeIpns takes the node's word for it)`,
      );
      return true;
    });
    const trusted = await new Command(program, { ...options, trustNodeIpns: true }).output();
    assert.equal(trusted.code, 0, new TextDecoder().decode(trusted.stderr));
    assert.equal(new TextDecoder().decode(trusted.stdout), "honest\n");
  } finally {
    if (savedCache === undefined) Deno.env.delete("XDG_CACHE_HOME");
    else Deno.env.set("XDG_CACHE_HOME", savedCache);
    await proxy.close();
  }
});

Deno.test("--trust-node-ipns does not make a lying record acceptable", async () => {
  const proxy = startProxy(ipfsd.url, {
    rewrite: {
      "name/resolve": lie,
      "dht/get": lyingRecord,
    },
  });
  try {
    const r = await ww(proxy.api, ["--trust-node-ipns", `/ipns/${name}/bin/app`]);
    assert.equal(r.code, 125, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(errors(r.stderr).join("\n"), /: the IPNS record's signature does not verify/);
  } finally {
    await proxy.close();
  }
});

Deno.test("DNSLink is read from DNS by ww, not asked of the node, and may point to a verified key", async () => {
  const dns = await startDns({
    "_dnslink.direct.test": [["v=spf1 -all"], ["dnslink=/ipfs/", `${honest}/bin`]],
    "_dnslink.bykey.test": [[`dnslink=/ipns/${name}`]],
    "_dnslink.nothing.test": [["other=1"]],
  });
  // The node lies about every name: ww must not ask it.
  const proxy = startProxy(ipfsd.url, { rewrite: { "name/resolve": lie } });
  const node = new IpfsNode(proxy.api, 10_000, "test");
  try {
    const options = { nameServer: dns.nameServer };
    const direct = await resolveIpnsName(node, "direct.test", "/ipns/direct.test/app", options);
    assert.equal(direct.path, `/ipfs/${honest}/bin`);
    assert.match(
      direct.why[0],
      /DNSLink TXT record at _dnslink\.direct\.test; this trust rests on DNS/,
    );
    const bykey = await resolveIpnsName(node, "bykey.test", "/ipns/bykey.test/bin/app", options);
    assert.equal(bykey.path, `/ipfs/${honest}`);
    assert.equal(bykey.why.length, 2);
    assert.match(bykey.why[1], /IPNS record verified against key k51/);
    for (const domain of ["nothing.test", "missing.test"]) {
      await assert.rejects(
        resolveIpnsName(node, domain, `/ipns/${domain}/app`, options),
        (e: Error) => {
          assert.ok(e instanceof SetupError);
          assert.equal(
            e.message,
            `/ipns/${domain}/app: no dnslink= TXT record at _dnslink.${domain} (it should read dnslink=/ipfs/<cid> or dnslink=/ipns/<name>: publish that, or check the domain)`,
          );
          return true;
        },
      );
    }
    assert.ok(dns.questions.includes("_dnslink.direct.test 16"), dns.questions.join(", "));
    assert.ok(!proxy.requests.some((q) => q.startsWith("name/resolve")), proxy.requests.join());
  } finally {
    node.close();
    await proxy.close();
    await dns.close();
  }
});

// A name whose DNSLink points to itself, or two that point to each other, were asked of DNS 8
// times and refused as "leads through more than 8 names (a loop?)", naming neither the loop nor
// the fix.
Deno.test("a DNSLink loop is refused when it closes, naming the names in it and the fix", async () => {
  const dns = await startDns({
    "_dnslink.self.test": [["dnslink=/ipns/self.test"]],
    "_dnslink.ping.test": [["dnslink=/ipns/PONG.test/bin"]],
    "_dnslink.pong.test": [["dnslink=/ipns/ping.test/app"]],
  });
  const node = new IpfsNode(ipfsd.api, 10_000, "test");
  const fix =
    "(point one of them at an /ipfs/ path: its dnslink= TXT record, or its key's IPNS record)";
  try {
    const options = { nameServer: dns.nameServer };
    for (
      const [name, loop, questions] of [
        ["self.test", "/ipns/self.test -> /ipns/self.test", 1],
        ["ping.test", "/ipns/ping.test -> /ipns/PONG.test -> /ipns/ping.test", 2],
      ] as const
    ) {
      const before = dns.questions.length;
      await assert.rejects(
        resolveIpnsName(node, name, `/ipns/${name}/x`, options),
        (e: Error) => {
          assert.ok(e instanceof SetupError);
          assert.equal(e.message, `/ipns/${name}/x: /ipns/${name} leads in a loop: ${loop} ${fix}`);
          return true;
        },
      );
      assert.equal(dns.questions.length - before, questions, dns.questions.join(", "));
    }
  } finally {
    node.close();
    await dns.close();
  }
});

// A value with no root ("/ipfs/", "/ipfs//app") ended ww with "internal error: Cannot read
// properties of null", and one with a newline forged a line of ww's own in its message.
Deno.test("a name pointing to a path ww cannot follow is one line naming it, escaped, from DNS or a trusted node", async () => {
  const values = [
    `/ipfs/${honest}/app\nww: forged line`,
    `/ipfs/${honest}/../bin/app`,
    `/ipns/\x1b[2Jname`,
    `/ipfs/${honest}/a\u202eb`,
  ];
  const dns = await startDns(
    Object.fromEntries(values.map((v, i) => [`_dnslink.bad${i}.test`, [[`dnslink=${v}`]]])),
  );
  const trusted = ["/ipfs/", "/ipfs//app", `/ipfs/${honest}/app\nww: forged line`];
  let answer = 0;
  const proxy = startProxy(ipfsd.url, {
    refuse: ["dht/get", "routing/get"],
    rewrite: { "name/resolve": () => text(JSON.stringify({ Path: trusted[answer++] })) },
  });
  const node = new IpfsNode(proxy.api, 10_000, "test");
  const refused = async (name: string, options: { trustNode?: boolean }) => {
    const context = `/ipns/${name}/app`;
    await assert.rejects(
      resolveIpnsName(node, name, context, { nameServer: dns.nameServer, ...options }),
      (e: Error) => {
        assert.ok(e instanceof SetupError, String(e));
        assert.ok(e.message.startsWith(`${context}: /ipns/${name} points to "`), e.message);
        assert.match(e.message, /", not an \/ipfs\/ or \/ipns\/ path ww can follow$/);
        assert.doesNotMatch(e.message, /[\p{Cc}\u202e]/u, e.message);
        return true;
      },
    );
  };
  try {
    for (let i = 0; i < values.length; i++) await refused(`bad${i}.test`, {});
    for (let i = 0; i < trusted.length; i++) await refused(name, { trustNode: true });
  } finally {
    node.close();
    await proxy.close();
    await dns.close();
  }
});

Deno.test("--explain shows what a name resolved to and why, asks only for the record, runs nothing", async () => {
  const proxy = startProxy(ipfsd.url);
  try {
    const r = await ww(proxy.api, ["--explain", `/ipns/${name}/bin/app`]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes("honest"), r.stdout);
    const lines = r.stdout.split("\n");
    assert.equal(lines[0], `program: /ipns/${name}/bin/app`);
    assert.equal(lines[1], `resolves to: /ipfs/${honest}/bin/app`);
    assert.match(
      lines[2],
      new RegExp(
        `^  /ipns/${name} -> /ipfs/${honest}: IPNS record verified against key k51\\w+, sequence \\d+, valid until 20\\d\\d-`,
      ),
    );
    assert.deepEqual(
      proxy.requests.filter((q) => !/^(routing|dht)\/get /.test(q)),
      [],
      proxy.requests.join(", "),
    );
  } finally {
    await proxy.close();
  }
});

Deno.test("--explain of a name ww would refuse is the same one-line error", async () => {
  const proxy = startProxy(ipfsd.url, { refuse: ["dht/get", "routing/get"] });
  try {
    const r = await ww(proxy.api, ["--explain", `/ipns/${name}/bin/app`]);
    assert.equal(r.code, 125, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(errors(r.stderr).join("\n"), /^ww: .*--trust-node-ipns takes the node's word/);
    const trusted = await ww(proxy.api, [
      "--explain",
      "--trust-node-ipns",
      `/ipns/${name}/bin/app`,
    ]);
    assert.equal(trusted.code, 0, trusted.stderr);
    assert.match(
      trusted.stdout,
      /: the node's name\/resolve answer, NOT verified \(--trust-node-ipns/,
    );
  } finally {
    await proxy.close();
  }
});

Deno.test("a node that answers a record request with more than a record could be is refused", async () => {
  const proxy = startProxy(ipfsd.url, {
    rewrite: { "dht/get": () => new Uint8Array(300 * 1024).fill(0x20) },
  });
  try {
    const r = await ww(proxy.api, [`/ipns/${name}/bin/app`]);
    assert.equal(r.code, 125, r.stderr);
    assert.equal(r.stdout, "");
    assert.deepEqual(errors(r.stderr), [
      `ww: /ipns/${name}/bin/app: the IPFS node at ${proxy.api} (from --ipfs) sent more than 256 KiB for dht/get /ipns/${name}, which holds one IPNS record of at most 10 KiB`,
    ]);
  } finally {
    await proxy.close();
  }
});

Deno.test("a DNSLink lookup that gets no answer ends at --ipfs-timeout, in one line naming the record", async () => {
  // A resolver that reads every question and answers none: without a bound, the lookup would
  // wait out the resolver's own retries.
  const dns = await startSilentDns();
  const node = new IpfsNode(ipfsd.api, 400, "test");
  try {
    const t0 = performance.now();
    await assert.rejects(
      resolveIpnsName(node, "silent.test", "/ipns/silent.test/app", {
        nameServer: { ipAddr: dns.address, port: 53 },
      }),
      (e: Error) => {
        assert.ok(e instanceof SetupError, String(e));
        // A library caller's words in the message, the flag in the command line's (issue 16).
        assert.equal(
          e.message,
          "/ipns/silent.test/app: the DNSLink TXT record _dnslink.silent.test got no answer within 400 ms (raise ipfsTimeoutMs to wait longer)",
        );
        assert.equal(
          e.commandLine,
          "/ipns/silent.test/app: the DNSLink TXT record _dnslink.silent.test got no answer within 400 ms (raise --ipfs-timeout to wait longer)",
        );
        return true;
      },
    );
    const waited = performance.now() - t0;
    assert.ok(waited >= 390 && waited < 3000, `waited ${waited.toFixed(0)} ms`);
    assert.ok(dns.questions() > 0, "the question never reached the silent server");
  } finally {
    await dns.close();
  }
});

// A superseded record is still signed and unexpired: a node that held back the newer one ran the
// program the name's owner had replaced. ww keeps the highest sequence it verified for each key in
// its cache, and refuses a lower one.
Deno.test("a record older than one ww verified before is refused: a node cannot roll a name back", async () => {
  const { base36 } = await import("multiformats/bases/base36");
  const key = await generateKeyPair("Ed25519");
  const keyName = key.publicKey.toCID().toString(base36);
  const signed = async (path: string, sequence: bigint, lifetimeMs = 3600_000) =>
    marshalIPNSRecord(await createIPNSRecord(key, path, sequence, lifetimeMs));
  const newer = await signed(`/ipfs/${other}`, 5n);
  const older = await signed(`/ipfs/${honest}`, 1n);
  // The record as the routing answer of a node that holds it.
  const answer = (record: Uint8Array) => () =>
    text(`${JSON.stringify({ Type: 5, Extra: btoa(String.fromCharCode(...record)) })}\n`);
  const cache = Deno.makeTempDirSync({ dir: tmp, prefix: "xdg-" });
  const run = async (record: Uint8Array, xdg = cache) => {
    const proxy = startProxy(ipfsd.url, {
      rewrite: { "routing/get": answer(record), "dht/get": answer(record) },
    });
    try {
      const r = await runWw(
        ["run", "--jail=none", "--ipfs", proxy.api, `/ipns/${keyName}/bin/app`],
        { env: { XDG_CACHE_HOME: xdg, DENO_DIR } },
      );
      return { ...r, api: proxy.api };
    } finally {
      await proxy.close();
    }
  };
  const first = await run(newer);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, "other\n");
  const rolledBack = await run(older);
  assert.equal(rolledBack.code, 125, rolledBack.stderr);
  assert.equal(rolledBack.stdout, "");
  assert.deepEqual(errors(rolledBack.stderr), [
    `ww: /ipns/${keyName}/bin/app: /ipns/${keyName}: the IPFS node at ${rolledBack.api} (from --ipfs) gives the name's record of sequence 1, older than the sequence 5 ww verified before (a node holding back the newer record)`,
  ]);
  // The same record again is no rollback; a cache that never saw the newer one takes the older.
  assert.equal((await run(newer)).stdout, "other\n");
  const fresh = Deno.makeTempDirSync({ dir: tmp, prefix: "xdg-" });
  assert.equal((await run(older, fresh)).stdout, "honest\n");
  // Once the newer record has expired the older valid one is the name's again (an owner that
  // republishes from a fresh node starts its sequence anew).
  // Long enough for two runs on a loaded machine (at 1.5 s, CI's second run came after it expired).
  const briefMs = 10_000;
  const signedAt = Date.now();
  const brief = await signed(`/ipfs/${other}`, 9n, briefMs);
  const later = Deno.makeTempDirSync({ dir: tmp, prefix: "xdg-" });
  assert.equal((await run(brief, later)).stdout, "other\n");
  const whileValid = await run(older, later);
  assert.ok(Date.now() < signedAt + briefMs, "the runs outlasted the newer record: no check made");
  assert.equal(whileValid.code, 125, "refused while the newer is valid");
  await new Promise((r) => setTimeout(r, Math.max(0, signedAt + briefMs + 200 - Date.now())));
  assert.equal((await run(older, later)).stdout, "honest\n");
});
