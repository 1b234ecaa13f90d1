// ipfs/ipns_seen.ts — the highest sequence of each key's IPNS record that ww has verified, kept in
// the cache directory (names/<sha256 of the key>), so that a node cannot hand ww a record the name's
// owner has since superseded: still validly signed and unexpired, it pointed to the old program.
// Kept only where the cache is trusted (cache.ts trustProblem); a cache that cannot be written
// keeps nothing, and `ww cache clear` forgets it all.

import { trustProblem } from "./cache.ts";

/** The highest verified sequence for each key, and a way to raise it. */
export interface SequenceMemory {
  /** The highest sequence verified for `key` (a CIDv1 libp2p-key), if any. */
  highest(key: string): Promise<bigint | undefined>;
  /** Raises `key`'s highest sequence to `sequence` (a lower one changes nothing). */
  saw(key: string, sequence: bigint): Promise<void>;
}

interface Seen {
  readonly key: string;
  readonly sequence: string;
}

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
    try {
      const seen: Seen = JSON.parse(await Deno.readTextFile(await file(key)));
      return seen.key === key && /^\d{1,20}$/.test(seen.sequence)
        ? BigInt(seen.sequence)
        : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    highest,
    saw: async (key, sequence) => {
      const known = await highest(key);
      if (known !== undefined && known >= sequence) return;
      if (trustProblem(dir) !== undefined) return;
      const path = await file(key);
      const tmp = `${path}.${Deno.pid}.${crypto.randomUUID()}`;
      try {
        await Deno.mkdir(`${dir}/names`, { recursive: true, mode: 0o700 });
        const seen: Seen = { key, sequence: sequence.toString() };
        await Deno.writeTextFile(tmp, JSON.stringify(seen), { mode: 0o600 });
        await Deno.rename(tmp, path);
      } catch {
        // A cache that cannot be written keeps nothing; the fetch goes on.
        await Deno.remove(tmp).catch(() => {});
      }
    },
  };
}
