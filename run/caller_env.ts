// run/caller_env.ts — ww's caller's environment variables and current directory, as ww reads
// them. Deno gives none that is not UTF-8 text as a string: Deno.env.get and Deno.cwd throw
// (which the command line reported as an internal error), and Deno.env.toObject leaves such a
// variable out (so an IPFS_PATH in Latin-1 was silently another node's). Here one that a run
// needs is a UsageError naming it, raised only when the run reads it; one that only points at an
// optional place (where --jail=auto keeps what it learnt) is as if unset.

import { UsageError } from "../core/errors.ts";

/**
 * The variables ww itself reads from its caller's environment (not those a run passes on with
 * --env KEY, which cli/flags.ts refuses in words of their own).
 */
const READ_VARIABLES = [
  "PATH",
  "HOME",
  "TMPDIR",
  "XDG_CACHE_HOME",
  "IPFS_PATH",
  "WW_IPFS",
  "WW_JAIL_IDS",
] as const;

/** The error for a variable whose value is not UTF-8 text. */
function notText(name: string): UsageError {
  return new UsageError(
    `${name} holds bytes that are not UTF-8 text, which ww cannot read; set it in UTF-8, or unset it for ww (env -u ${name} ww ...)`,
  );
}

function isNotText(e: unknown): boolean {
  return e instanceof Deno.errors.InvalidData;
}

/**
 * The caller's variable `name`, or undefined when it is unset; a UsageError naming it when its
 * value is not UTF-8 text.
 *
 * @example
 * callerVariable("TMPDIR"); // "/var/tmp", or undefined
 */
export function callerVariable(name: string): string | undefined {
  try {
    const value = Deno.env.get(name);
    return name === "PATH" && pathSetByDeno(value) ? undefined : value;
  } catch (e) {
    if (isNotText(e)) throw notText(name);
    throw e;
  }
}

/**
 * The caller's variable `name`, or undefined when it is unset or not UTF-8 text: for one that only
 * points at an optional place.
 */
export function callerVariableIfText(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch (e) {
    if (isNotText(e)) return undefined;
    throw e;
  }
}

/**
 * The caller's environment, as Deno.env.toObject gives it; each of the variables ww reads that is
 * set to what is not UTF-8 text is there too, as a property that throws callerVariable's
 * UsageError when read (and is not enumerated): the run that needs it says why in one line.
 */
export function callerEnvironment(): Record<string, string> {
  const env = Deno.env.toObject();
  if (pathSetByDeno(env.PATH)) delete env.PATH;
  for (const name of READ_VARIABLES) {
    if (Object.hasOwn(env, name)) continue;
    try {
      Deno.env.has(name);
    } catch (e) {
      if (!isNotText(e)) throw e;
      Object.defineProperty(env, name, {
        get: () => {
          throw notText(name);
        },
        enumerable: false,
      });
    }
  }
  return env;
}

/**
 * Whether `value`, ww's PATH, is Deno's own: Deno sets PATH to its directory of node shims when
 * its caller left PATH unset (`env -i ww run ...`), where ww would look a program up, and which
 * `--env PATH` would pass on. Only then is the environment the kernel gave ww read.
 */
function pathSetByDeno(value: string | undefined): boolean {
  if (!value?.endsWith("/node_compat_bin")) return false;
  try {
    const environ = new TextDecoder("latin1").decode(Deno.readFileSync("/proc/self/environ"));
    return !`\0${environ}`.includes("\0PATH=");
  } catch {
    return false; // no /proc: Deno's word is all there is
  }
}

/**
 * `path`, from ww's current directory when relative, as open(2) takes it: joined, not normalized
 * (a `..` after a link leads where the link does). The cwd is asked for only then (callerCwd).
 *
 * @example
 * fromCallerCwd("/etc/hosts"); // "/etc/hosts", the cwd not asked for
 * fromCallerCwd("a/../b"); // "/home/u/a/../b" from /home/u
 */
export function fromCallerCwd(path: string): string {
  return path.startsWith("/") ? path : `${callerCwd()}/${path}`;
}

/**
 * ww's current directory; a UsageError when its path is not UTF-8 text. Asked only to resolve a
 * relative path.
 */
export function callerCwd(): string {
  try {
    return Deno.cwd();
  } catch (e) {
    if (!isNotText(e)) throw e;
    throw new UsageError(
      "the current directory's path is not UTF-8 text, which ww cannot name for a relative path; give an absolute path, or run ww from a directory whose path is UTF-8",
    );
  }
}
