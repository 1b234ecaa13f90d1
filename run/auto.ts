// run/auto.ts — what jail/auto.ts decides `--jail=auto` on: the host's namespace facts (run/host.ts:
// where bwrap is, the sysctls that allow or forbid user namespaces) and the answer of a real try
// of bwrap (run/auto_try.ts, started as a real bwrap run is), made once and remembered in
// $XDG_CACHE_HOME/ww/jail-auto.json (default ~/.cache/ww) under a key of everything that could
// change it. A run with a valid answer reads a few small files and spawns nothing; the first run
// under a new key (another kernel, bwrap, uid, container) starts one bwrap that runs /bin/true.

import {
  autoCacheKey,
  type AutoKeyFacts,
  type BackendChoice,
  type BwrapTry,
  bwrapUnusable,
  chooseBackend,
  encodeAutoCache,
  type NamespaceFacts,
  readAutoCache,
  REMEMBERED_NO,
} from "../jail/auto.ts";
import type { JailPolicy } from "../jail/policy.ts";
import { lazyImport } from "../core/lazy.ts";
import { fileIdentity, fileOwner, modeKind } from "../ffi/stat.ts";
import { namespaceFacts, ownStatus, readText } from "./host.ts";
import { callerVariableIfText } from "./caller_env.ts";
import { dirTrustProblem } from "../ffi/trusted_dir.ts";
import { escapeText } from "../core/escape.ts";

/** The backend a run with `policy` gets, and why. */
export async function jailChoice(policy: JailPolicy): Promise<BackendChoice> {
  if (policy.backend !== "auto") return chooseBackend(policy.backend, namespaceFacts);
  const facts = namespaceFacts();
  // chooseBackend consults the try only when the facts do not already rule bwrap out.
  const tried = bwrapUnusable(facts) === undefined ? await rememberedTry(facts) : undefined;
  const choice = chooseBackend("auto", () => facts, tried && (() => tried));
  // A "no" is remembered: how long, and how to clear it, said where the user reads the reason.
  return tried?.ok === false
    ? { ...choice, commandLine: `${choice.reason} ${REMEMBERED_NO}` }
    : choice;
}

/**
 * Where the answer of the real try is remembered, for this caller's environment, and whether ww is
 * root. With neither XDG_CACHE_HOME nor HOME (a root service's environment often has none) it was
 * /tmp/.cache, where another user could make the directories first and have root write through a
 * link of theirs: root's goes in /run/ww, where its jails' id leases are (root's alone), and
 * another user's is not remembered (undefined).
 *
 * @example
 * autoCachePath({ HOME: "/home/u" }, false); // "/home/u/.cache/ww/jail-auto.json"
 * autoCachePath({}, true); // "/run/ww/jail-auto.json"
 */
export function autoCachePath(
  env: { XDG_CACHE_HOME?: string; HOME?: string },
  root: boolean,
): string | undefined {
  const base = env.XDG_CACHE_HOME?.startsWith("/")
    ? `${env.XDG_CACHE_HOME}/ww`
    : env.HOME?.startsWith("/")
    ? `${env.HOME}/.cache/ww`
    : root
    ? "/run/ww"
    : undefined;
  return base === undefined ? undefined : `${base}/jail-auto.json`;
}

/**
 * The remembered answer of a real try of bwrap on this machine, or a new try when there is none
 * under the current key (which it then remembers).
 */
function rememberedTry(facts: NamespaceFacts): BwrapTry | Promise<BwrapTry> {
  const key = autoCacheKey(facts, keyFacts(facts.bwrapPath!));
  const path = cachePath();
  const remembered = path === undefined || trustProblem(dirOf(path)) !== undefined
    ? undefined
    : readAutoCache(readOwnFile(path), key, Date.now());
  if (remembered) return remembered;
  return retryBwrap(facts);
}

/**
 * A fresh real try of bwrap, remembered for later runs: for the first run under a key, and for a
 * run whose bwrap failed before the jail existed although the remembered answer said it works
 * (that run's host ids are `identity`: the try asks whether they can create the namespaces).
 */
export async function retryBwrap(
  facts: NamespaceFacts = namespaceFacts(),
  identity?: { readonly uid: number; readonly gid: number },
): Promise<BwrapTry> {
  if (facts.bwrapPath === undefined) return { ok: false, detail: "bwrap is not in PATH" };
  const { tryBwrap } = await lazyImport<typeof import("./auto_try.ts")>("run/auto_try.ts");
  const t = await tryBwrap(facts.bwrapPath, identity);
  const path = cachePath();
  if (path !== undefined) {
    remember(path, encodeAutoCache(autoCacheKey(facts, keyFacts(facts.bwrapPath)), t, Date.now()));
  }
  return t;
}

function cachePath(): string | undefined {
  // Neither in UTF-8 is as neither set.
  return autoCachePath({
    XDG_CACHE_HOME: callerVariableIfText("XDG_CACHE_HOME"),
    HOME: callerVariableIfText("HOME"),
  }, Deno.uid() === 0);
}

function keyFacts(bwrapPath: string): AutoKeyFacts {
  // statx through libc, not Deno.statSync, whose first use costs a run ~0.8 ms (ffi/stat.ts).
  const bwrap = fileIdentity(bwrapPath);
  const status = ownStatus();
  let userNamespace = "";
  try {
    userNamespace = Deno.readLinkSync("/proc/self/ns/user");
  } catch { /* no user namespaces: the sysctl check already ruled bwrap out */ }
  return {
    kernel: Deno.osRelease(),
    bwrapFile: bwrap
      ? `${bwrap.ino}:${bwrap.size}:${bwrap.mtimeSec}.${bwrap.mtimeNsec}`
      : "unreadable",
    uid: Deno.uid() ?? -1,
    userNamespace,
    seccompFilters: Number(/^Seccomp_filters:\s*(\d+)/m.exec(status)?.[1] ?? 0),
  };
}

/**
 * Whether `path` (not followed) is a `kind` that ww's own user owns and no one else may write:
 * another user must not choose ww's backend, nor lead its write of the answer elsewhere.
 */
function isOwn(path: string, kind: "file" | "dir"): boolean {
  const info = fileOwner(path, false);
  return info !== undefined && modeKind(info.mode) === kind && info.uid === Deno.uid() &&
    (info.mode & 0o022) === 0;
}

/** The cache file's text, when it is ww's own (isOwn). */
function readOwnFile(path: string): string | undefined {
  return isOwn(path, "file") ? readText(path) : undefined;
}

/** The directory of the cache file `path`. */
function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}

/**
 * Writes the cache file atomically (a whole file or none), in a directory that no one but ww's
 * user and root can change on the way to it (ffi/trusted_dir.ts): root run with another user's
 * HOME (sudo -E) read and wrote through that user's directories, which they could swap for links
 * between the check and the write. Such a directory is refused with one line; a cache that cannot
 * be written is skipped.
 */
function remember(path: string, text: string): void {
  const dir = dirOf(path);
  const tmp = `${path}.${Deno.pid}.tmp`;
  try {
    // Checked before mkdir makes anything, and again once the whole path is there.
    let problem = trustProblem(dir);
    if (problem === undefined) {
      Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
      problem = trustProblem(dir);
    }
    if (problem !== undefined) {
      const line =
        `ww: warning: --jail=auto's answer is not remembered in ${dir}: ${problem}; set XDG_CACHE_HOME to a directory of your own`;
      Deno.stderr.writeSync(new TextEncoder().encode(`${escapeText(line)}\n`));
      return;
    }
    // Only in a directory of ww's own, as the answer is read back (readOwnFile); and as a new
    // file (O_EXCL), never one a link already there leads to.
    if (!isOwn(dir, "dir")) return;
    Deno.writeTextFileSync(tmp, text, { mode: 0o600, createNew: true });
    Deno.renameSync(tmp, path);
  } catch {
    try {
      Deno.removeSync(tmp);
    } catch { /* never written */ }
  }
}

/** dirTrustProblem, with a failure to check (a link gone meanwhile) said as the problem. */
function trustProblem(dir: string): string | undefined {
  try {
    return dirTrustProblem(dir);
  } catch (e) {
    return `cannot check it (${e instanceof Error ? e.message : e})`;
  }
}
