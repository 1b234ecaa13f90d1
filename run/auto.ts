// run/auto.ts — what jail/auto.ts decides `--jail=auto` on: the host's namespace facts (run/host.ts:
// where bwrap is, the sysctls that allow or forbid user namespaces) and the answer of a real try
// of bwrap, made once and remembered in $XDG_CACHE_HOME/ww/jail-auto.json (default ~/.cache/ww)
// under a key of everything that could change it. A run with a valid answer reads a few small files and spawns
// nothing; the first run under a new key (another kernel, bwrap, uid, container) spawns one bwrap
// that runs /bin/true (~10 ms).

import {
  autoCacheKey,
  type AutoKeyFacts,
  type BackendChoice,
  type BwrapTry,
  chooseBackend,
  encodeAutoCache,
  type NamespaceFacts,
  readAutoCache,
} from "../jail/auto.ts";
import { JAIL_GID, JAIL_UID, namespaceArgs } from "../jail/bwrap.ts";
import type { JailPolicy } from "../jail/policy.ts";
import { findTool, namespaceFacts, ownStatus } from "./host.ts";

/** The backend a run with `policy` gets, and why. */
export function jailChoice(policy: JailPolicy): BackendChoice {
  if (policy.backend !== "auto") return chooseBackend(policy.backend, namespaceFacts);
  const facts = namespaceFacts();
  return chooseBackend("auto", () => facts, () => rememberedTry(facts));
}

/** Where the answer of the real try is remembered, for this caller's environment. */
export function autoCachePath(env: { XDG_CACHE_HOME?: string; HOME?: string }): string {
  const base = env.XDG_CACHE_HOME?.startsWith("/")
    ? env.XDG_CACHE_HOME
    : `${env.HOME ?? "/tmp"}/.cache`;
  return `${base}/ww/jail-auto.json`;
}

/**
 * The remembered answer of a real try of bwrap on this machine, or a new try when there is none
 * under the current key (which it then remembers).
 */
function rememberedTry(facts: NamespaceFacts): BwrapTry {
  const key = autoCacheKey(facts, keyFacts(facts.bwrapPath!));
  const path = cachePath();
  const remembered = readAutoCache(readOwnFile(path), key);
  if (remembered) return remembered;
  return retryBwrap(facts);
}

/**
 * A fresh real try of bwrap, remembered for later runs: for the first run under a key, and for a
 * run whose bwrap failed before the jail existed although the remembered answer said it works.
 */
export function retryBwrap(facts: NamespaceFacts = namespaceFacts()): BwrapTry {
  if (facts.bwrapPath === undefined) return { ok: false, detail: "bwrap is not in PATH" };
  const t = tryBwrap(facts.bwrapPath);
  remember(cachePath(), encodeAutoCache(autoCacheKey(facts, keyFacts(facts.bwrapPath)), t));
  return t;
}

/**
 * Runs bwrap with the jail's namespaces, as the launcher runs it (as the jail's unprivileged host
 * user when ww is root: a user namespace that root may create, nobody may not); its first line
 * of error says why it failed.
 */
export function tryBwrap(bwrap: string): BwrapTry {
  const args = ["--ro-bind", "/", "/", ...namespaceArgs(false), "--", "/bin/true"];
  let cmd = bwrap;
  try {
    let rest = args;
    if (Deno.uid() === 0) {
      // The try drops root as the stage does for a real run (to an unprivileged uid, no groups).
      const setpriv = findTool("setpriv");
      if (!setpriv) return { ok: false, detail: "setpriv (util-linux) is not installed" };
      cmd = setpriv;
      rest = [`--reuid=${JAIL_UID}`, `--regid=${JAIL_GID}`, "--clear-groups", bwrap, ...args];
    }
    const r = new Deno.Command(cmd, { args: rest, stdin: "null", stdout: "null", stderr: "piped" })
      .outputSync();
    const detail = new TextDecoder().decode(r.stderr).trim().split("\n")[0];
    return { ok: r.success, detail: r.success ? "" : detail || `bwrap exited ${r.code}` };
  } catch (e) {
    return { ok: false, detail: `cannot run ${cmd}: ${e instanceof Error ? e.message : e}` };
  }
}

function cachePath(): string {
  return autoCachePath({
    XDG_CACHE_HOME: Deno.env.get("XDG_CACHE_HOME"),
    HOME: Deno.env.get("HOME"),
  });
}

function keyFacts(bwrapPath: string): AutoKeyFacts {
  const bwrap = Deno.statSync(bwrapPath);
  const status = ownStatus();
  let userNamespace = "";
  try {
    userNamespace = Deno.readLinkSync("/proc/self/ns/user");
  } catch { /* no user namespaces: the sysctl check already ruled bwrap out */ }
  return {
    kernel: Deno.osRelease(),
    bwrapFile: `${bwrap.ino}:${bwrap.size}:${bwrap.mtime?.getTime()}`,
    uid: Deno.uid() ?? -1,
    userNamespace,
    seccompFilters: Number(/^Seccomp_filters:\s*(\d+)/m.exec(status)?.[1] ?? 0),
  };
}

/**
 * The cache file's text, when ww's own user owns it and no one else may write it: another user
 * must not choose ww's backend (a shared HOME-less /tmp/.cache, for one).
 */
function readOwnFile(path: string): string | undefined {
  try {
    const info = Deno.lstatSync(path);
    if (!info.isFile || info.uid !== Deno.uid() || ((info.mode ?? 0) & 0o022) !== 0) {
      return undefined;
    }
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** Writes the cache file atomically (a whole file or none); a cache that cannot be written is skipped. */
function remember(path: string, text: string): void {
  const dir = path.slice(0, path.lastIndexOf("/"));
  const tmp = `${path}.${Deno.pid}.tmp`;
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.writeTextFileSync(tmp, text, { mode: 0o600 });
    Deno.renameSync(tmp, path);
  } catch {
    try {
      Deno.removeSync(tmp);
    } catch { /* never written */ }
  }
}
