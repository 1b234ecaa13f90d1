// ipfs/ipns_record.ts — decides whether ww believes a signed IPNS record for a key-based name
// (a libp2p key as a CIDv1, or a peer id): the record must verify against the name's own public
// key (embedded in the name, or in the record and hashing to the name), its validity (EOL) must
// not be past, and its value must be an /ipfs/ path. The checks themselves are the `ipns`
// package's (ipnsValidator); this module turns their outcome into a verdict with a reason for
// people. Pure apart from the clock (expiry is checked against now).
//
// Loaded lazily, only for /ipns/ names: the record and key code must cost /ipfs/ paths and local
// programs nothing.

import { unmarshalIPNSRecord } from "npm:ipns@^10.1.6";
import { ipnsValidator } from "npm:ipns@^10.1.6/validator";
import { base36 } from "npm:multiformats@^14.0.5/bases/base36";
import { base58btc } from "npm:multiformats@^14.0.5/bases/base58";
import { CID } from "npm:multiformats@^14.0.5/cid";
import * as Digest from "npm:multiformats@^14.0.5/hashes/digest";
import { foreignText } from "../core/escape.ts";
import { notCidWhy, parseCid, tooLongForCid } from "./block.ts";

/** The multicodec of a CID that names a libp2p public key. */
const LIBP2P_KEY = 0x72;

/** A record ww believes, and why. */
export interface VerifiedRecord {
  /** The /ipfs/ path the name points to. */
  readonly value: string;
  /** The record's sequence number. */
  readonly sequence: bigint;
  /** When the record stops being valid (RFC 3339, as the record says it). */
  readonly validUntil: string;
  /** The key it was verified against: the name's multihash, as a CIDv1 libp2p-key in base36. */
  readonly key: string;
}

/**
 * The multihash bytes of a key-based IPNS name (peer id `12D3Koo…`/`Qm…` in base58btc, or a
 * CIDv1 with the libp2p-key codec, `k51…`/`bafz…`), or why it is not one.
 *
 * @example
 * nameMultihash("k51qzi5uqu5dl..."); // Uint8Array [0x00, 0x24, ...]
 */
export function nameMultihash(name: string): Uint8Array | { error: string } {
  const long = tooLongForCid(name);
  if (long) return { error: `not a key-based name (${long})` };
  if (/^(1|Qm)/.test(name)) {
    try {
      const bytes = base58btc.baseDecode(name);
      Digest.decode(bytes); // one whole multihash, its length as it says
      return bytes;
    } catch {
      return {
        error:
          "not a key-based name (a peer ID, 12D3Koo… or Qm…, is one multihash in base58btc, and this is none)",
      };
    }
  }
  const cid = parseCid(name);
  if ("error" in cid) return { error: `not a key-based name (${notCidWhy(name)})` };
  if (cid.version !== 1 || cid.code !== LIBP2P_KEY) {
    return { error: "the CID does not name a libp2p key (codec libp2p-key, 0x72)" };
  }
  return cid.multihash.bytes;
}

/**
 * The verdict on `record` (the marshalled IpnsEntry the node returned) for the key-based name
 * `name`: a VerifiedRecord, or the reason it is not believed, for a one-line error.
 *
 * @example
 * const verdict = await verifyRecord("k51...", bytes);
 * if ("error" in verdict) throw new SetupError(`/ipns/k51...: ${verdict.error}`);
 */
export async function verifyRecord(
  name: string,
  record: Uint8Array,
): Promise<VerifiedRecord | { error: string }> {
  const multihash = nameMultihash(name);
  if ("error" in multihash) return multihash;
  const routingKey = new Uint8Array([...new TextEncoder().encode("/ipns/"), ...multihash]);
  let entry: ReturnType<typeof unmarshalIPNSRecord>;
  try {
    entry = unmarshalIPNSRecord(record);
  } catch (e) {
    return { error: `the node's IPNS record is malformed (${message(e)})` };
  }
  try {
    await ipnsValidator(routingKey, record);
  } catch (e) {
    const name = e instanceof Error ? e.name : "";
    if (name === "SignatureVerificationError") {
      return {
        error:
          "the IPNS record's signature does not verify against the name's key (changed, or signed by another key)",
      };
    }
    if (name === "InvalidEmbeddedPublicKeyError") {
      return { error: "the IPNS record is signed by another key than the name's" };
    }
    if (name === "RecordExpiredError") {
      return { error: `the IPNS record expired at ${entry.validity}` };
    }
    return { error: `the node's IPNS record is not valid (${message(e)})` };
  }
  if (!entry.value.startsWith("/ipfs/")) {
    return { error: `the IPNS record points to ${foreignText(entry.value)}, not an /ipfs/ path` };
  }
  return {
    value: entry.value,
    sequence: entry.sequence,
    validUntil: entry.validity,
    key: CID.createV1(LIBP2P_KEY, Digest.decode(multihash)).toString(base36),
  };
}

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}
