// ipfs/ipns_seen.ts — the highest sequence of each key's IPNS record that ww has verified, and how
// long that record is valid, kept in the cache directory (names/<sha256 of the key>), so that a
// node cannot hand ww a record the name's owner has since superseded: still validly signed and
// unexpired, it pointed to the old program. Once the newer record has expired, an older valid one
// is the name's again (an owner republishing from a fresh node starts its sequence anew). Kept
// only where the cache is trusted (cache.ts trustProblem); a cache that cannot be written keeps
// nothing, and `ww cache clear` forgets it all.

import { tmpName, trustProblem } from "./cache.ts";
import { closeFd } from "../ffi/fd.ts";
import { openRegularReadOnly, readAt } from "../ffi/memfd.ts";
import { fileSize } from "../ffi/stat.ts";

/** The highest verified sequence for each key, while its record is valid, and a way to raise it. */
export interface SequenceMemory {
  /** The highest sequence verified for `key` (a CIDv1 libp2p-key) of a record still valid. */
  highest(key: string): Promise<bigint | undefined>;
  /** Raises `key`'s to `sequence`, of a record valid until `validUntil` (a lower one: nothing). */
  saw(key: string, sequence: bigint, validUntil: string): Promise<void>;
}

interface Seen {
  readonly key: string;
  readonly sequence: string;
  readonly validUntil: string;
}

/** A memory's file holds one small JSON object; anything longer is not ww's. */
const SEEN_MAX_BYTES = 4096;

/** The SequenceMemory of the cache at `dir`. */
export function ipnsSequences(dir: string): SequenceMemory {
  const file = async (key: string) => {
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)),
    );
    return `${dir}/names/${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  };
  const highest = async (key: string) => {
    if (trustProblem(dir) !== undefined) return undefined;
    // A regular file or nothing, as for the cache's programs: a FIFO there would block the open.
    const fd = openRegularReadOnly(await file(key));
    if (fd === undefined) return undefined;
    try {
      const size = fileSize(fd);
      if (size > SEEN_MAX_BYTES) return undefined;
      const bytes = new Uint8Array(size);
      readAt(fd, bytes, 0);
      const seen: Seen = JSON.parse(new TextDecoder().decode(bytes));
      const valid = Date.parse(seen.validUntil) > Date.now();
      return seen.key === key && valid && /^\d{1,20}$/.test(seen.sequence)
        ? BigInt(seen.sequence)
        : undefined;
    } catch {
      return undefined;
    } finally {
      closeFd(fd);
    }
  };
  const write = async (key: string, seen: Seen) => {
    const tmp = tmpName(dir, "name");
    try {
      await Deno.mkdir(`${dir}/names`, { recursive: true, mode: 0o700 });
      await Deno.mkdir(`${dir}/tmp`, { recursive: true, mode: 0o700 });
      await Deno.writeTextFile(tmp, JSON.stringify(seen), { mode: 0o600 });
      await Deno.rename(tmp, await file(key));
    } catch {
      // A cache that cannot be written keeps nothing; the fetch goes on.
      await Deno.remove(tmp).catch(() => {});
    }
  };
  return {
    highest,
    saw: async (key, sequence, validUntil) => {
      if (trustProblem(dir) !== undefined) return;
      // Two runs raising it at once: the lower one's rename may land last, so each looks again
      // after its own and writes once more while it finds less than it saw.
      for (let tries = 0; tries < 3; tries++) {
        const known = await highest(key);
        if (known !== undefined && known >= sequence) return;
        await write(key, { key, sequence: sequence.toString(), validUntil });
      }
    },
  };
}
