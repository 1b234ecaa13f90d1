// ipfs/cache_command.ts — `ww cache [list|size|clear]`: what the IPFS program cache holds, how big
// it is, and emptying it. Returns the lines to print; main.ts prints them.

import { osReason, UsageError } from "../core/errors.ts";
import { oneLine } from "../core/escape.ts";
import {
  cacheDir,
  clearCached,
  DEFAULT_CACHE_BYTES,
  ForeignCacheEntriesError,
  listCached,
  trustProblem,
} from "./cache.ts";
import { formatBytes } from "./progress.ts";

export const CACHE_USAGE = `usage: ww cache [list|size|clear]
  list    the cached programs: CID (canonical: CIDv1, base32), size, last use,
          and the /ipfs/ paths that led to them, as they were run (for an empty
          cache, one line saying so)
  size    the cache's total size and its bound
  clear   remove all ww cached: programs, their paths, IPNS sequences seen
          (refused, removing nothing, while the cache holds anything ww did not
          put there)
The cache is $XDG_CACHE_HOME/ww/ipfs (default ~/.cache/ww/ipfs).`;

/**
 * Runs `ww cache <argv>` against the cache of `env`; returns the lines for stdout.
 *
 * @example
 * await cacheCommand(["size"], Deno.env.toObject()); // ["0 B in 0 programs (bound 1.0 GiB) in /home/me/.cache/ww/ipfs"]
 */
export async function cacheCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<string[]> {
  const dir = cacheDir(env);
  const [sub = "list", ...rest] = argv;
  // `ww cache clear --help` asks what clear does, as `ww doctor --help` asks of doctor: it was
  // refused as an argument, exit 125, where the help was wanted.
  if (CACHE_COMMANDS.includes(sub) && rest.length === 1 && HELP_WORDS.includes(rest[0])) {
    return CACHE_USAGE.split("\n");
  }
  if (rest.length > 0) {
    // Worded as main.ts words `ww doctor extra`: ww's own "ww: " comes before it.
    throw new UsageError(
      `cache ${sub} takes no arguments (${rest.join(" ")}); try ww cache ${sub}, or ww cache help`,
    );
  }
  // A directory runs do not use, since someone else can change it (another user's /tmp/.cache):
  // listing it showed what no run takes, and clearing it removed another user's files.
  const untrusted = CACHE_COMMANDS.includes(sub) && isDirectory(dir)
    ? trustProblem(dir)
    : undefined;
  if (untrusted !== undefined) {
    throw new UsageError(
      `cache ${sub}: ${dir} is not a cache ww uses: ${untrusted} (runs fetch every time; set XDG_CACHE_HOME to a directory of your own)`,
    );
  }
  try {
    // One line each, whatever XDG_CACHE_HOME or a recorded path holds.
    return (await cacheLines(sub, dir)).map(oneLine);
  } catch (e) {
    if (e instanceof ForeignCacheEntriesError) {
      throw new UsageError(
        `cache clear: ${e.dir} holds what ww did not put there (${e.listed}), which a clear would remove with the cache, so it removed nothing: move it out, then clear again`,
      );
    }
    // A cache directory ww cannot read (an XDG_CACHE_HOME that is a file, one of another user's,
    // a loop of links, a path too long): one line naming it, not an internal error.
    if (!isOsError(e)) throw e;
    // Out of descriptors is ww's limit, not the directory's: main.ts says so, as for a run.
    if (SHORTAGE_CODES.includes(e.code)) throw e;
    throw new UsageError(
      `cache ${sub}: cannot use ${dir} (${
        osReason(e)
      }; set XDG_CACHE_HOME to a directory of your own)`,
    );
  }
}

/** ww's open-file limit (EMFILE) and the system's (ENFILE), as Deno names them. */
const SHORTAGE_CODES = ["EMFILE", "ENFILE"];

/** An error of the operating system's, as Deno throws it: it carries the errno's name. */
function isOsError(e: unknown): e is Error & { code: string } {
  return e instanceof Error && typeof (e as { code?: unknown }).code === "string";
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false; // absent, or not reachable: the commands say so themselves
  }
}

/** The subcommands that use the cache directory. */
const CACHE_COMMANDS = ["list", "size", "clear"];

/** The words that ask for the usage after a subcommand, as they do alone (cacheLines). */
const HELP_WORDS = ["help", "--help", "-h"];

async function cacheLines(sub: string, dir: string): Promise<string[]> {
  switch (sub) {
    case "list": {
      const entries = await listCached(dir);
      // Nothing printed read as a command that did nothing, or looked somewhere else.
      if (entries.length === 0) return [`the cache is empty: ${dir} holds no programs`];
      return entries.map((e) =>
        [e.cid, formatBytes(e.size), e.lastUsed.toISOString(), ...e.paths].join("  ")
      );
    }
    case "size": {
      const entries = await listCached(dir);
      const total = entries.reduce((n, e) => n + e.size, 0);
      return [
        `${formatBytes(total)} in ${entries.length} program${
          entries.length === 1 ? "" : "s"
        } (bound ${formatBytes(DEFAULT_CACHE_BYTES)}) in ${dir}`,
      ];
    }
    case "clear": {
      const { programs, bytes } = await clearCached(dir);
      return [
        `removed ${programs} program${programs === 1 ? "" : "s"} (${
          formatBytes(bytes)
        }) from ${dir}`,
      ];
    }
    case "--help":
    case "-h":
    case "help":
      return CACHE_USAGE.split("\n");
    default:
      throw new UsageError(
        `unknown cache command ${JSON.stringify(sub)} (use ww cache list, size or clear)`,
      );
  }
}
