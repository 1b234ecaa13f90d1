/**
 * `--jail=auto`: which backend a run gets. bubblewrap when this machine lets ww create user
 * namespaces, the native jail otherwise. The sysctls tell only part of it: a container's seccomp
 * profile, or a user.max_user_namespaces already used up, blocks namespaces where every sysctl
 * allows them. So after the cheap check, the answer of a real try of bwrap decides; run/auto.ts
 * makes that try once and remembers it under a key of everything that could change it
 * (autoCacheKey), so a run pays one small file read, not a spawn. Pure: run/auto.ts gathers the
 * facts, makes the try and keeps the cache.
 *
 * @module
 */

import type { JailBackend } from "./policy.ts";

/** What decides whether bubblewrap can create namespaces here. */
export interface NamespaceFacts {
  /** bwrap's absolute path in PATH, if any. */
  readonly bwrapPath?: string;
  /** A setuid-root bwrap creates namespaces itself, whatever the sysctls say. */
  readonly bwrapSetuid?: boolean;
  /** /proc/sys/user/max_user_namespaces (absent: the kernel has no user namespaces). */
  readonly maxUserNamespaces?: number;
  /** /proc/sys/kernel/apparmor_restrict_unprivileged_userns (Ubuntu 23.10+). */
  readonly apparmorRestrictsUserns?: number;
  /** /proc/sys/kernel/unprivileged_userns_clone (Debian's older kernels). */
  readonly unprivilegedUsernsClone?: number;
  /** ww holds CAP_SYS_ADMIN, which both "unprivileged" sysctls exempt. */
  readonly capSysAdmin: boolean;
}

/** What a real try of bwrap with the jail's namespaces said. */
export interface BwrapTry {
  readonly ok: boolean;
  /** bwrap's first line of error, when it failed. */
  readonly detail: string;
}

/**
 * A concrete backend and why it was chosen.
 *
 * @example
 * ```ts ignore
 * const { backend, reason }: BackendChoice = child.jail;
 * console.error(`jailed by ${backend}: ${reason}`);
 * ```
 */
export interface BackendChoice {
  /** bwrap, native or none. */
  readonly backend: Exclude<JailBackend, "auto">;
  /** Why, in words for the user (e.g. the sysctl that rules bwrap out). */
  readonly reason: string;
  /**
   * The reason in the command line's words, where they differ: an explicit backend is the
   * library's `jail.backend "bwrap"` and the command line's `--jail=bwrap`.
   */
  readonly commandLine?: string;
}

/**
 * Why bubblewrap cannot jail here, or undefined when it can (as far as a cheap check tells).
 *
 * @example
 * bwrapUnusable({ capSysAdmin: false }); // "bwrap is not in PATH"
 */
export function bwrapUnusable(facts: NamespaceFacts): string | undefined {
  if (facts.bwrapPath === undefined) return "bwrap is not in PATH";
  if (facts.bwrapSetuid) return undefined;
  if (facts.maxUserNamespaces === undefined) {
    return "this kernel has no user namespaces (no /proc/sys/user/max_user_namespaces)";
  }
  if (facts.maxUserNamespaces <= 0) {
    return "user namespaces are disabled (user.max_user_namespaces = 0)";
  }
  if (facts.capSysAdmin) return undefined;
  if (facts.apparmorRestrictsUserns === 1) {
    return "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)";
  }
  if (facts.unprivilegedUsernsClone === 0) {
    return "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)";
  }
  return undefined;
}

/**
 * The backend for `requested`; `facts` is only consulted for `auto`, and `tried` (a real try of
 * bwrap, or its remembered answer) only when the facts do not already rule bwrap out.
 *
 * @example
 * chooseBackend("auto", () => ({ bwrapPath: "/usr/bin/bwrap", maxUserNamespaces: 1000,
 *   capSysAdmin: false }), () => ({ ok: true, detail: "" }));
 * // { backend: "bwrap", reason: "auto: bubblewrap (/usr/bin/bwrap) can create user namespaces" }
 */
export function chooseBackend(
  requested: JailBackend,
  facts: () => NamespaceFacts,
  tried?: () => BwrapTry,
): BackendChoice {
  if (requested !== "auto") {
    return {
      backend: requested,
      reason: `jail.backend "${requested}"`,
      commandLine: `--jail=${requested}`,
    };
  }
  const f = facts();
  const problem = bwrapUnusable(f);
  if (problem !== undefined) return { backend: "native", reason: `auto: ${problem}` };
  const t = tried?.();
  if (t && !t.ok) return bwrapFailedChoice(t);
  return {
    backend: "bwrap",
    reason: `auto: bubblewrap (${f.bwrapPath}) can create user namespaces`,
  };
}

/** `auto`'s choice once a real try of bwrap failed: the native jail, with bwrap's reason. */
export function bwrapFailedChoice(t: BwrapTry): BackendChoice {
  return {
    backend: "native",
    reason: `auto: bubblewrap cannot create the jail's namespaces here (${
      t.detail || "it failed"
    })`,
  };
}

/**
 * What can change whether bwrap creates namespaces, beyond NamespaceFacts: the kernel, the bwrap
 * binary, who ww runs as, the user namespace it runs in (a container has its own), and the seccomp
 * filters it runs under (a container's profile).
 */
export interface AutoKeyFacts {
  readonly kernel: string;
  /** bwrap's inode, size and mtime: a new bwrap may behave differently. */
  readonly bwrapFile: string;
  readonly uid: number;
  /** readlink /proc/self/ns/user, e.g. "user:[4026531837]". */
  readonly userNamespace: string;
  /** Seccomp_filters of /proc/self/status. */
  readonly seccompFilters: number;
}

/**
 * The key a remembered try is valid under: any change of these facts makes it stale.
 *
 * @example
 * autoCacheKey(namespaceFacts, keyFacts); // '{"kernel":"6.18.0",...}'
 */
export function autoCacheKey(ns: NamespaceFacts, key: AutoKeyFacts): string {
  return JSON.stringify({ ...key, ...ns });
}

/** The remembered try in `text` (the cache file), if it was made under `key`. */
export function readAutoCache(text: string | undefined, key: string): BwrapTry | undefined {
  if (text === undefined) return undefined;
  try {
    const doc = JSON.parse(text);
    if (doc?.key !== key || typeof doc.ok !== "boolean" || typeof doc.detail !== "string") {
      return undefined;
    }
    return { ok: doc.ok, detail: doc.detail };
  } catch {
    return undefined;
  }
}

/** The cache file's text for a try made under `key`. */
export function encodeAutoCache(key: string, t: BwrapTry): string {
  return `${JSON.stringify({ key, ok: t.ok, detail: t.detail })}\n`;
}
