// ipfs/block.ts — CIDs and the one check everything else rests on: a block's bytes hash to the
// digest in its CID. Nothing fetched from an IPFS node is used before it passes `hashMatches`.

import { CID } from "npm:multiformats@^14.0.5/cid";
import { shaDigest } from "../ffi/sha.ts";
import { base16, base16upper } from "npm:multiformats@^14.0.5/bases/base16";
import { base32, base32upper } from "npm:multiformats@^14.0.5/bases/base32";
import { base36, base36upper } from "npm:multiformats@^14.0.5/bases/base36";
import { base58btc } from "npm:multiformats@^14.0.5/bases/base58";
import { base64, base64pad, base64url, base64urlpad } from "npm:multiformats@^14.0.5/bases/base64";

export { CID };

/** Multicodec codes ww understands. */
export const DAG_PB = 0x70;
export const RAW = 0x55;
const IDENTITY = 0x00;
const SHA2_256 = 0x12;
const SHA2_512 = 0x13;

/** The multibase prefixes DECODER reads, and the base each names. */
const MULTIBASES: Readonly<Record<string, string>> = {
  b: "base32",
  B: "base32",
  k: "base36",
  K: "base36",
  z: "base58btc",
  f: "base16",
  F: "base16",
  m: "base64",
  M: "base64",
  u: "base64url",
  U: "base64url",
};

const DECODER = base32.decoder.or(base32upper.decoder).or(base58btc.decoder)
  .or(base36.decoder).or(base36upper.decoder).or(base16.decoder).or(base16upper.decoder)
  .or(base64.decoder).or(base64pad.decoder).or(base64url.decoder).or(base64urlpad.decoder);

/**
 * Parses a CIDv0 or a CIDv1 in any common multibase, or says why it is not one.
 *
 * @example
 * parseCid("QmS45prVvRpjebcdLC17eesXcA9dhVbfcbFFVqotqcCsPy"); // a CID
 */
export function parseCid(text: string): CID | { error: string } {
  const long = tooLongForCid(text);
  if (long) return { error: long };
  try {
    return CID.parse(text, DECODER);
  } catch {
    return { error: `${text} is not a CID (${notCidWhy(text)})` };
  }
}

/**
 * Why `text`, which does not parse as a CID, is none, in words: what its first characters say
 * it is (multiformats' own words were "Invalid CID version 16", "Unexpected end of data").
 *
 * @example
 * notCidWhy("notacid");
 * // "a CIDv1 starts with a multibase prefix (b for base32, as in bafy…, or k, z, f, m, u) and a CIDv0 with Qm"
 * notCidWhy("bafyXYZ"); // "it starts with b, base32, and the rest is no CID in base32"
 */
export function notCidWhy(text: string): string {
  if (text.startsWith("Qm")) return "a CIDv0 is 46 base58btc characters starting with Qm";
  const base = MULTIBASES[text[0]];
  return base
    ? `it starts with ${text[0]}, ${base}, and the rest is no CID in ${base}`
    : "a CIDv1 starts with a multibase prefix (b for base32, as in bafy…, or k, z, f, m, u) and a CIDv0 with Qm";
}

/**
 * The most characters a CID, or a key-based IPNS name, has here. The longest real ones (an
 * identity CID of 128 bytes, in base16) have ~300; multiformats decodes base58 and base36 in time
 * that grows as the square of the length, and a guest's 240,000-character name held ww's event
 * loop for 44 s.
 */
export const MAX_CID_CHARS = 1024;

/**
 * Why `text` is too long to be a CID or a key-based name (before anything decodes it), or
 * undefined.
 *
 * @example
 * tooLongForCid("z".repeat(2000)); // "a CID or key has at most 1024 characters (this has 2000)"
 */
export function tooLongForCid(text: string): string | undefined {
  if (text.length <= MAX_CID_CHARS) return undefined;
  return `a CID or key has at most ${MAX_CID_CHARS} characters (this has ${text.length})`;
}

/**
 * The CID as ww keys it (its cache's files, its maps): CIDv1, base32. Messages name a CID the user
 * wrote as they wrote it instead (cidNames).
 */
export function cidKey(cid: CID): string {
  return cid.version === 0 ? cid.toV1().toString() : cid.toString(base32);
}

/**
 * How the messages of one fetch name a CID: the path's root as the user wrote it (`zdpu…`,
 * `zb2…`, `k2…`: multiformats writes a CIDv1 in base32 whatever base it was read from), and any
 * other CID, which the user never wrote (a leaf, an entry of a directory), as multiformats does.
 *
 * @example
 * const typed = "zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA";
 * const name = cidNames(parseCid(typed) as CID, typed);
 * name(CID.parse("bafkreidon73zkcrwdb5iafqtijxildoonbwnpv7dyd6ef3qdgads2jc4su")); // typed: the same CID
 */
export function cidNames(root: CID, typed: string): (cid: CID) => string {
  return (cid) => cid.equals(root) ? typed : cid.toString();
}

/**
 * The fewest bytes of a digest that ww takes as naming a block, as Kubo does (boxo verifcid's
 * minimum): a truncated digest compares only its prefix, and one of a few bytes (or none) names
 * whatever a node makes up to match it.
 */
export const MIN_DIGEST_BYTES = 20;

/**
 * Why `cid`'s digest cannot vouch for a block's bytes (a hash function ww does not have, or a
 * digest truncated below MIN_DIGEST_BYTES or longer than its function's), or undefined when it
 * can; `shown` is how the message names it (the user's own text for a CID they wrote).
 *
 * @example
 * unverifiableHash(CID.parse("bafkreaa"));
 * // "bafkreaa: its sha2-256 digest is 0 bytes long, too short or too long to vouch for the data (20 to 32 bytes)"
 */
export function unverifiableHash(cid: CID, shown: string = cid.toString()): string | undefined {
  const { code, digest } = cid.multihash;
  if (code === IDENTITY) return undefined;
  const hash = HASHES.get(code);
  if (!hash) {
    return `${shown}: hash function 0x${code.toString(16)} is not supported (sha2-256, sha2-512)`;
  }
  if (digest.length >= MIN_DIGEST_BYTES && digest.length <= hash.bytes) return undefined;
  const length = `${digest.length} byte${digest.length === 1 ? "" : "s"}`;
  return `${shown}: its ${hash.name} digest is ${length} long, too short or too long to vouch for the data (${MIN_DIGEST_BYTES} to ${hash.bytes} bytes)`;
}

/** The hash functions ww checks, by multihash code. */
const HASHES = new Map<number, { name: string; algorithm: "SHA-256" | "SHA-512"; bytes: number }>([
  [SHA2_256, { name: "sha2-256", algorithm: "SHA-256", bytes: 32 }],
  [SHA2_512, { name: "sha2-512", algorithm: "SHA-512", bytes: 64 }],
]);

/**
 * True when `bytes` hash to the digest in `cid`. A truncated digest compares its prefix, and is
 * false below MIN_DIGEST_BYTES (unverifiableHash says why); the identity "hash" compares the
 * bytes themselves.
 */
export async function hashMatches(cid: CID, bytes: Uint8Array): Promise<boolean> {
  const { code, digest } = cid.multihash;
  if (code === IDENTITY) return equalBytes(digest, bytes);
  if (unverifiableHash(cid) !== undefined) return false;
  const algorithm = HASHES.get(code)!.algorithm;
  // libcrypto when it is there (ffi/sha.ts says why it is cheaper), WebCrypto otherwise.
  const full = shaDigest(algorithm, bytes) ?? new Uint8Array(
    await crypto.subtle.digest(algorithm, bytes as Uint8Array<ArrayBuffer>),
  );
  return equalBytes(digest, full.subarray(0, digest.length));
}

/** The block bytes an identity CID carries inline, or undefined for a hashed CID. */
export function inlineBytes(cid: CID): Uint8Array | undefined {
  return cid.multihash.code === IDENTITY ? cid.multihash.digest : undefined;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
