// ipfs/dnslink.ts — DNSLink, the pure part: whether an /ipns/ name is a domain (DNSLink) rather
// than a key, and what a domain's `_dnslink.<domain>` TXT records point to. ww looks the records
// up itself (ipns.ts), not through the IPFS node; the trust then rests on DNS.

import { foreignText } from "../core/escape.ts";

/** True when the /ipns/ name is a domain name (it has a dot), so DNSLink, not a key. */
export function isDomainName(name: string): boolean {
  return name.includes(".");
}

/**
 * The path the TXT records of `_dnslink.<domain>` point to (`dnslink=/ipfs/…` or
 * `dnslink=/ipns/…`), or why there is none. Each record is the list of its strings, which DNS
 * splits at 255 bytes and which are joined here. With several dnslink= records the
 * lexicographically first wins, as the DNSLink specification says.
 *
 * @example
 * dnslinkValue([["dnslink=/ipfs/bafy..."]]); // "/ipfs/bafy..."
 */
export function dnslinkValue(records: readonly (readonly string[])[]): string | { error: string } {
  const values = records
    .map((strings) => strings.join(""))
    .filter((text) => text.startsWith("dnslink="))
    .map((text) => text.slice("dnslink=".length).trim())
    .sort();
  const [value] = values;
  if (value === undefined) return { error: "no dnslink= TXT record" };
  if (!/^\/ip[fn]s\/[^/]+/.test(value)) {
    return {
      error: `the dnslink= record points to ${foreignText(value)}, not an /ipfs/ or /ipns/ path`,
    };
  }
  return value;
}
