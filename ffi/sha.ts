// ffi/sha.ts — SHA-256 and SHA-512 of a buffer in one synchronous call into the system's libcrypto
// (OpenSSL), which ww uses, when it is there, to verify what an IPFS node sends. It is ~4 times
// cheaper than crypto.subtle.digest for a 256 KiB leaf: the call hashes the caller's memory where
// it is (SHA-NI where the CPU has it), where WebCrypto copies the bytes and hands the work to a
// worker thread, whose wake-ups on a loaded machine cost more than the hash. Without libcrypto,
// callers use crypto.subtle.

import { openLibrary, type Symbols, USIZE } from "./libc.ts";

const symbols = {
  SHA256: { parameters: ["buffer", USIZE, "buffer"], result: "pointer" },
  SHA512: { parameters: ["buffer", USIZE, "buffer"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** OpenSSL 3, then 1.1: both export the one-shot SHA256 and SHA512. */
const NAMES = ["libcrypto.so.3", "libcrypto.so.1.1"];

let library: Symbols<typeof symbols> | null | undefined;

function open(): Symbols<typeof symbols> | null {
  if (library !== undefined) return library;
  library = null;
  for (const name of NAMES) {
    try {
      library = openLibrary(symbols, name);
      break;
    } catch { /* not installed: try the next, then let the caller use WebCrypto */ }
  }
  return library;
}

/**
 * The SHA-256 or SHA-512 digest of `bytes`, computed now on this thread; undefined when no
 * libcrypto could be opened (the caller falls back to crypto.subtle).
 *
 * @example
 * const digest = shaDigest("SHA-256", bytes) ?? new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
 */
export function shaDigest(
  algorithm: "SHA-256" | "SHA-512",
  bytes: Uint8Array,
): Uint8Array | undefined {
  const lib = open();
  if (!lib) return undefined;
  const out = new Uint8Array(algorithm === "SHA-256" ? 32 : 64);
  const f = algorithm === "SHA-256" ? lib.SHA256 : lib.SHA512;
  // A zero-length buffer may have no backing store; OpenSSL reads nothing from it either way.
  f(bytes.length > 0 ? bytes : new Uint8Array(1), BigInt(bytes.length), out);
  return out;
}
