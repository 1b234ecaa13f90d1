// ipfs/ipns.ts — the /ipfs/ path an /ipns/ name points to, as ww believes it, and why: a
// key-based name by its signed IPNS record, fetched from the node and verified here
// (ipns_record.ts, loaded only now); a domain by its `_dnslink.<domain>` TXT records, looked up
// with the system's resolver, not through the node. The node's own `name/resolve` answer is taken
// only with --trust-node-ipns, and only when the node gives no record at all: a record that fails
// a check is a lie, and no flag makes ww run what it points to.

import { lazyImport } from "../core/lazy.ts";
import { SetupError } from "../core/errors.ts";
import { foreignText } from "../core/escape.ts";
import { formatIpfsPath, type IpfsPath, parseIpfsPath } from "../core/ipfs_path.ts";
import { ipfsSetupError } from "./setting_words.ts";
import { dnslinkValue, isDomainName } from "./dnslink.ts";
import type { IpfsNode } from "./node.ts";
import type { SequenceMemory } from "./ipns_seen.ts";

/** What a name resolved to, and the reasons it was believed (one line per step). */
export interface ResolvedName {
  /** The /ipfs/ path. */
  readonly path: string;
  readonly why: readonly string[];
}

export interface ResolveOptions {
  /** Take the node's name/resolve answer when it gives no record (--trust-node-ipns). */
  readonly trustNode?: boolean;
  /** The DNS server for DNSLink (a test's); default the system's resolver. */
  readonly nameServer?: { readonly ipAddr: string; readonly port: number };
  /**
   * The highest sequence verified before for each key, while that record is valid
   * (ipns_seen.ts): a record below it is refused, a record above it raises it.
   */
  readonly sequences?: SequenceMemory;
}

/** DNSLink may point to another name; a chain longer than this is refused (it may be a loop). */
const MAX_STEPS = 8;

/**
 * Resolves `/ipns/<name>` to the /ipfs/ path ww believes. Errors are one-line SetupErrors (exit
 * 125) starting with `context` (the program's path) and naming the name and the reason.
 *
 * @example
 * const { path, why } = await resolveIpnsName(node, "k51...", "/ipns/k51.../bin/app", {});
 */
export async function resolveIpnsName(
  node: IpfsNode,
  name: string,
  context: string,
  options: ResolveOptions = {},
): Promise<ResolvedName> {
  const why: string[] = [];
  let current = name;
  let rest: string[] = [];
  // The names met so far, to name a loop as one when it closes: a name pointing to itself, or two
  // pointing to each other, were asked of DNS (or the node) 8 times and then "a loop?".
  const met: string[] = [];
  for (let step = 0; step < MAX_STEPS; step++) {
    const seen = met.map(loopKey).indexOf(loopKey(current));
    met.push(current);
    if (seen !== -1) {
      throw new SetupError(
        `${context}: /ipns/${name} leads in a loop: ${
          met.slice(seen).map((n) => `/ipns/${n}`).join(" -> ")
        } (point one of them at an /ipfs/ path: its dnslink= TXT record, or its key's IPNS record)`,
      );
    }
    const target = isDomainName(current)
      ? await dnslink(current, context, options, node.timeoutMs)
      : await keyName(node, current, context, options);
    const parsed = targetPath(target.path);
    if (parsed === undefined) {
      throw new SetupError(
        `${context}: /ipns/${current} points to "${
          foreignText(target.path)
        }", not an /ipfs/ or /ipns/ path ww can follow`,
      );
    }
    why.push(`/ipns/${current} -> ${target.path}: ${target.why}`);
    rest = [...parsed.segments, ...rest];
    if (parsed.namespace === "ipfs") {
      return { path: formatIpfsPath({ ...parsed, segments: rest }), why };
    }
    current = parsed.root;
  }
  throw new SetupError(
    `${context}: /ipns/${name} leads through more than ${MAX_STEPS} names (point it, or one of them, at an /ipfs/ path)`,
  );
}

/** A name as a loop is told by: a domain's case does not matter. */
function loopKey(name: string): string {
  return isDomainName(name) ? name.toLowerCase() : name;
}

/**
 * The path a name points to, split, or undefined when ww cannot follow it: not an /ipfs/ or
 * /ipns/ path with a root, a '.', '..' or empty segment, or a control or format character
 * anywhere (a record's value or a node's answer is another party's text).
 */
function targetPath(path: string): IpfsPath | undefined {
  if (!path.startsWith("/") || /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(path)) return undefined;
  const parsed = parseIpfsPath(path);
  return "error" in parsed ? undefined : parsed;
}

/**
 * The DNSLink record of `domain`, looked up for at most `timeoutMs` (--ipfs-timeout, as for the
 * node): a resolver that never answers would otherwise hold the run for its own retries.
 */
async function dnslink(
  domain: string,
  context: string,
  options: ResolveOptions,
  timeoutMs: number,
): Promise<{ path: string; why: string }> {
  const host = `_dnslink.${domain}`;
  let records: string[][];
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    records = await Deno.resolveDns(host, "TXT", {
      ...(options.nameServer ? { nameServer: options.nameServer } : {}),
      signal,
    });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) records = [];
    else if (signal.aborted) {
      throw ipfsSetupError((name) =>
        `${context}: the DNSLink TXT record ${host} got no answer within ${timeoutMs} ms (raise ${
          name("timeout")
        } to wait longer)`
      );
    } else {
      throw new SetupError(
        `${context}: cannot look up the DNSLink TXT record ${host} (${
          (e instanceof Error ? e.message : String(e)).split("\n")[0]
        })`,
      );
    }
  }
  const value = dnslinkValue(records);
  if (typeof value !== "string") {
    throw new SetupError(
      `${context}${
        alsoNaming(context, `/ipns/${domain}`)
      }: ${value.error} at ${host} (it should read dnslink=/ipfs/<cid> or dnslink=/ipns/<name>: publish that, or check the domain)`,
    );
  }
  return {
    path: value,
    why: `DNSLink TXT record at ${host}; this trust rests on DNS, which signs nothing here`,
  };
}

/**
 * `: <path>`, to follow `context` in a message, unless the context names it already: it is the
 * path, or a path under it (`ww run /ipns/example.com/bin/app`).
 */
function alsoNaming(context: string, path: string): string {
  return context === path || context.startsWith(`${path}/`) ? "" : `: ${path}`;
}

async function keyName(
  node: IpfsNode,
  name: string,
  context: string,
  options: ResolveOptions,
): Promise<{ path: string; why: string }> {
  const { nameMultihash, verifyRecord } = await lazyImport<typeof import("./ipns_record.ts")>(
    "ipfs/ipns_record.ts",
  );
  const multihash = nameMultihash(name);
  if ("error" in multihash) {
    throw new SetupError(
      `${context}${
        alsoNaming(context, `/ipns/${name}`)
      }: ${multihash.error} (expected a key, k51…/12D3Koo…, or a domain)`,
    );
  }
  const record = await node.ipnsRecord(name);
  if (record === undefined) {
    if (!options.trustNode) {
      throw ipfsSetupError((setting) =>
        `${context}: the IPFS node at ${node.where} gives no IPNS record for /ipns/${name}, so ww cannot verify the name (${
          setting("trust")
        } takes the node's word for it)`
      );
    }
    return {
      path: await node.resolveName(name),
      why: `the node's name/resolve answer, NOT verified (--trust-node-ipns; it gave no record)`,
    };
  }
  const verdict = await verifyRecord(name, record);
  if ("error" in verdict) throw new SetupError(`${context}: /ipns/${name}: ${verdict.error}`);
  // Signed and unexpired, a superseded record is still a record: a node that kept back the newer
  // one ran the old program.
  const seen = await options.sequences?.highest(verdict.key);
  if (seen !== undefined && verdict.sequence < seen) {
    throw new SetupError(
      `${context}: /ipns/${name}: the IPFS node at ${node.where} gives the name's record of sequence ${verdict.sequence}, older than the sequence ${seen} ww verified before (a node holding back the newer record)`,
    );
  }
  await options.sequences?.saw(verdict.key, verdict.sequence, verdict.validUntil);
  return {
    path: verdict.value,
    why:
      `IPNS record verified against key ${verdict.key}, sequence ${verdict.sequence}, valid until ${verdict.validUntil}`,
  };
}
