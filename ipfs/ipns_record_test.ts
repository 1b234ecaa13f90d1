import assert from "node:assert/strict";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { createIPNSRecord, createIPNSRecordWithExpiration, marshalIPNSRecord } from "ipns";
import { base36 } from "multiformats/bases/base36";
import { base58btc } from "multiformats/bases/base58";
import { loadedModules } from "../tests/support/modules.ts";
import { nameMultihash, verifyRecord } from "./ipns_record.ts";

const VALUE = "/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
const HOUR = 3600_000;

async function keyName() {
  const key = await generateKeyPair("Ed25519");
  return {
    key,
    cidName: key.publicKey.toCID().toString(base36),
    peerId: base58btc.encode(key.publicKey.toMultihash().bytes).slice(1),
  };
}

Deno.test("a record signed by the name's key, valid, pointing to /ipfs/, is believed", async () => {
  const { key, cidName, peerId } = await keyName();
  const record = marshalIPNSRecord(await createIPNSRecord(key, VALUE, 7n, HOUR));
  for (const name of [cidName, peerId]) {
    const got = await verifyRecord(name, record);
    assert.ok(!("error" in got), "error" in got ? got.error : "");
    assert.equal(got.value, VALUE);
    assert.equal(got.sequence, 7n);
    assert.equal(got.key, cidName);
    assert.ok(Date.parse(got.validUntil.replace(/\.(\d{3})\d*Z$/, ".$1Z")) > Date.now());
  }
});

Deno.test("a record signed by another key is refused", async () => {
  const { cidName } = await keyName();
  const other = await keyName();
  const record = marshalIPNSRecord(await createIPNSRecord(other.key, VALUE, 1n, HOUR));
  const got = await verifyRecord(cidName, record);
  assert.ok("error" in got);
  assert.match(got.error, /signed by another key|does not verify/);
});

Deno.test("a record whose bytes were changed is refused", async () => {
  const { key, cidName } = await keyName();
  const record = marshalIPNSRecord(await createIPNSRecord(key, VALUE, 1n, HOUR));
  // Change the value's CID wherever it appears (the protobuf value and the signed CBOR data).
  const changed = replaceAll(record, "bafkreigh2", "bafkreigh3");
  assert.notDeepEqual(changed, record);
  const got = await verifyRecord(cidName, changed);
  assert.ok("error" in got);
  assert.match(got.error, /signature does not verify/);
});

Deno.test("an expired record is refused, naming when it expired", async () => {
  const { key, cidName } = await keyName();
  const record = marshalIPNSRecord(
    await createIPNSRecordWithExpiration(key, VALUE, 1n, "2020-01-01T00:00:00.000000000Z"),
  );
  const got = await verifyRecord(cidName, record);
  assert.deepEqual(got, { error: "the IPNS record expired at 2020-01-01T00:00:00.000000000Z" });
});

Deno.test("a record pointing to something else than an /ipfs/ path is refused", async () => {
  const { key, cidName } = await keyName();
  const record = marshalIPNSRecord(await createIPNSRecord(key, "/ipns/example.org", 1n, HOUR));
  const got = await verifyRecord(cidName, record);
  assert.deepEqual(got, {
    error: "the IPNS record points to /ipns/example.org, not an /ipfs/ path",
  });
});

Deno.test("garbage is a malformed record", async () => {
  const { cidName } = await keyName();
  const got = await verifyRecord(cidName, new Uint8Array([1, 2, 3, 4]));
  assert.ok("error" in got);
  assert.match(got.error, /malformed/);
});

Deno.test("nameMultihash accepts key names and refuses other CIDs and words", () => {
  assert.ok(
    nameMultihash("12D3KooWQxiaZtN3NVnDELbzWQhRLmWcf5EgpcrLDEU7y9Ki39qZ") instanceof Uint8Array,
  );
  const raw = nameMultihash("bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy");
  assert.deepEqual(raw, { error: "the CID does not name a libp2p key (codec libp2p-key, 0x72)" });
  assert.ok("error" in (nameMultihash("not-a-name") as { error: string }));
});

// multiformats' words leaked: "To parse non base32, base36 or base58btc encoded CID multibase
// decoder must be provided", "Invalid CID version 16"; and a peer ID whose multihash says 58
// bytes but holds 22 was asked of the node, which then "gives no IPNS record" for it.
Deno.test("a name or CID that does not decode is refused in ww's words, naming what is wrong", async () => {
  const { parseCid } = await import("./block.ts");
  const cases: [string, RegExp][] = [
    ["notacid", /a CIDv1 starts with a multibase prefix \(b for base32.*and a CIDv0 with Qm\)$/],
    ["bafyXYZ", /\(it starts with b, base32, and the rest is no CID in base32\)$/],
    ["Qm123", /\(a CIDv0 is 46 base58btc characters starting with Qm\)$/],
    ["zzzz", /\(it starts with z, base58btc, and the rest is no CID in base58btc\)$/],
  ];
  for (const [text, words] of cases) {
    const cid = parseCid(text);
    assert.ok("error" in cid, text);
    assert.match(cid.error, new RegExp(`^${text} is not a CID \\(`));
    assert.match(cid.error, words);
    const name = nameMultihash(text);
    assert.ok("error" in name, text);
    if (!text.startsWith("Qm")) assert.match(name.error, words);
    assert.doesNotMatch(`${cid.error} ${name.error}`, /decoder|version|Unexpected|Invalid/);
  }
  for (const name of ["12D3KooWJqB73smQxgron6dGn2CgrfVZZ", "Qm123", "1O0Il", "foo bar"]) {
    const got = nameMultihash(name);
    assert.ok("error" in got, name);
    assert.match(got.error, /^not a key-based name \(/, name);
    assert.doesNotMatch(got.error, /decoder|Incorrect|Non-base58|Unknown/, name);
  }
  assert.match(
    (nameMultihash("12D3KooWJqB73smQxgron6dGn2CgrfVZZ") as { error: string }).error,
    /a peer ID, 12D3Koo… or Qm…, is one multihash in base58btc, and this is none/,
  );
});

function replaceAll(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const out = bytes.slice();
  const [f, t] = [new TextEncoder().encode(from), new TextEncoder().encode(to)];
  for (let i = 0; i + f.length <= out.length; i++) {
    if (f.every((b, k) => out[i + k] === b)) out.set(t, i);
  }
  return out;
}

Deno.test("the record code loads only for a key-based /ipns/ name: not with fetch.ts or ipns.ts", async () => {
  const recordCode = (files: string[]) =>
    files.filter((f) => /\/(ipns|@libp2p\+[^/]+)@|\/ipfs\/ipns_record\.ts$/.test(f));
  // The probe sees what it should: importing the record module loads the ipns package.
  const control = await loadedModules(new URL("./ipns_record.ts", import.meta.url).href);
  assert.ok(control.some((f) => f.includes("/ipns@")), control.join("\n"));
  for (const module of ["./fetch.ts", "./ipns.ts"]) {
    const files = await loadedModules(new URL(module, import.meta.url).href);
    assert.ok(files.some((f) => f.endsWith(module.slice(1))), files.join("\n"));
    assert.deepEqual(recordCode(files), [], module);
  }
});

// multiformats decodes base58 and base36 in time that grows as the square of the length: a
// guest's 240,000-character name held ww's event loop for 44 s (Ipfs.stat, no node needed).
Deno.test("a name or CID longer than any real one is refused before anything decodes it", async () => {
  const { parseCid, MAX_CID_CHARS } = await import("./block.ts");
  for (const text of ["z", "Qm", "k", "1", "b"].map((p) => p + "z".repeat(200_000))) {
    const started = performance.now();
    const cid = parseCid(text);
    const name = nameMultihash(text);
    assert.ok(
      performance.now() - started < 50,
      `${text.slice(0, 2)}: ${performance.now() - started} ms`,
    );
    assert.ok("error" in cid && "error" in name);
    assert.match(
      cid.error,
      new RegExp(
        `a CID or key has at most ${MAX_CID_CHARS} characters \\(this has ${text.length}\\)`,
      ),
    );
    assert.match(name.error, /^not a key-based name \(a CID or key has at most/);
  }
  // Real ones are far shorter: a CIDv1 of a 64-byte digest, in base16.
  assert.ok(!("error" in parseCid(`f01551340${"ab".repeat(64)}`)));
});
