// ipfs/blocks.ts — verified blocks from a node: every block is hashed and compared with its CID
// before anyone sees it, and a block that fails names its CID in a one-line error. Requests run
// a few at a time, so prefetching the inner nodes of a large file does not flood the node.

import { SetupError } from "../core/errors.ts";
import { type CID, cidKey, hashMatches, inlineBytes, unverifiableHash } from "./block.ts";
import type { IpfsNode } from "./node.ts";

const MAX_IN_FLIGHT = 8;
/**
 * Prefetched blocks no `get` has taken yet, at most: each is held until the walk reaches it, and a
 * root of 1200 links to distinct 1 MiB inner nodes held 1.5 GB (a 4 MiB root links ~90,000).
 */
const MAX_PREFETCHED = 32;

/** The node's blocks, verified. */
export class VerifiedBlocks {
  readonly #started = new Map<string, Promise<Uint8Array>>();
  readonly #waiting: (() => void)[] = [];
  #inFlight = 0;

  /**
   * `node`: where blocks come from; `name`: how messages name a CID (cidNames: the user's root as
   * they wrote it).
   */
  constructor(
    readonly node: IpfsNode,
    readonly name: (cid: CID) => string = (cid) => cid.toString(),
  ) {}

  /** The program's path, which starts every error message. */
  get context(): string {
    return this.node.context;
  }

  /** The verified bytes of `cid`; a second call for a CID that was prefetched reuses the fetch. */
  get(cid: CID): Promise<Uint8Array> {
    const key = cidKey(cid);
    const started = this.#started.get(key);
    if (started) {
      this.#started.delete(key);
      return started;
    }
    return this.#fetch(cid);
  }

  /**
   * Takes a fetch of `cid`'s bytes started earlier, to be verified and given by a later `get`.
   * An identity CID's bytes are its own: the fetch is not waited for, nor needed.
   */
  adopt(cid: CID, bytes: Promise<Uint8Array>): void {
    if (inlineBytes(cid)) return;
    const problem = unverifiableHash(cid, this.name(cid));
    const verified = problem
      ? Promise.reject(new SetupError(`${this.context}: ${problem}`))
      : bytes.then(async (b) => {
        if (!(await hashMatches(cid, b))) throw this.mismatch(cid);
        return b;
      });
    verified.catch(() => {}); // reported by the `get` that takes it
    this.#started.set(cidKey(cid), verified);
  }

  /**
   * Lets go of a prefetch of `cid` no `get` will take (the walk copied its bytes from an earlier
   * place): held, it kept a place of MAX_PREFETCHED for the rest of the file.
   */
  forget(cid: CID): void {
    this.#started.delete(cidKey(cid));
  }

  /** Starts fetching `cid` for a later `get`, unless MAX_PREFETCHED wait already. */
  prefetch(cid: CID): void {
    const key = cidKey(cid);
    if (this.#started.size >= MAX_PREFETCHED || this.#started.has(key) || inlineBytes(cid)) {
      return;
    }
    const p = this.#fetch(cid);
    p.catch(() => {}); // reported by the `get` that takes it
    this.#started.set(key, p);
  }

  async #fetch(cid: CID): Promise<Uint8Array> {
    const inline = inlineBytes(cid);
    if (inline) return inline;
    const problem = unverifiableHash(cid, this.name(cid));
    if (problem) throw new SetupError(`${this.context}: ${problem}`);
    if (this.#inFlight >= MAX_IN_FLIGHT) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#inFlight++;
    let bytes: Uint8Array;
    try {
      bytes = await this.node.blockGet(cid.toString(), this.name(cid));
    } finally {
      this.#inFlight--;
      this.#waiting.shift()?.();
    }
    if (!(await hashMatches(cid, bytes))) throw this.mismatch(cid);
    return bytes;
  }

  /** The error for bytes from the node that do not hash to `cid`. */
  mismatch(cid: CID): SetupError {
    return new SetupError(
      `${this.context}: the IPFS node at ${this.node.where} sent data that does not match ${
        this.name(cid)
      } (refusing to run it)`,
    );
  }
}
