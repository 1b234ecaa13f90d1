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
  return bwrapObstacle(facts)?.problem;
}

/**
 * bwrapUnusable's problem and what fixes it (what to install, which sysctl to set), for
 * `ww doctor`; undefined when the cheap check finds none.
 *
 * @example
 * bwrapObstacle({ bwrapPath: "/usr/bin/bwrap", maxUserNamespaces: 0, capSysAdmin: false });
 * // { problem: "user namespaces are disabled (user.max_user_namespaces = 0)",
 * //   fix: "allow them: sysctl -w user.max_user_namespaces=15000 (as root; ...)" }
 */
export function bwrapObstacle(
  facts: NamespaceFacts,
): { readonly problem: string; readonly fix: string } | undefined {
  if (facts.bwrapPath === undefined) {
    return {
      problem: "bwrap is not in PATH",
      fix: "install bubblewrap (apt-get install bubblewrap, or dnf install bubblewrap)",
    };
  }
  if (facts.bwrapSetuid) return undefined;
  if (facts.maxUserNamespaces === undefined) {
    return {
      problem: "this kernel has no user namespaces (no /proc/sys/user/max_user_namespaces)",
      fix: "boot a kernel built with user namespaces (CONFIG_USER_NS=y); until then, --jail=native",
    };
  }
  if (facts.maxUserNamespaces <= 0) {
    return {
      problem: "user namespaces are disabled (user.max_user_namespaces = 0)",
      fix: `allow them: ${persistentSysctl("user.max_user_namespaces=15000")}`,
    };
  }
  if (facts.capSysAdmin) return undefined;
  if (facts.apparmorRestrictsUserns === 1) {
    return {
      problem:
        "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)",
      fix:
        `give bwrap an AppArmor profile that allows them (a profile for ${facts.bwrapPath} with the rule "userns,"), or lift the restriction: ${
          persistentSysctl("kernel.apparmor_restrict_unprivileged_userns=0")
        }`,
    };
  }
  if (facts.unprivilegedUsernsClone === 0) {
    return {
      problem: "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)",
      fix: `allow them: ${persistentSysctl("kernel.unprivileged_userns_clone=1")}`,
    };
  }
  return undefined;
}

/** How to set `setting` now and at every boot. */
function persistentSysctl(setting: string): string {
  return `sysctl -w ${setting} (as root; and the same line in /etc/sysctl.d/ to keep it)`;
}

/**
 * What fixes a real try of bwrap that failed (`detail`, bwrap's words) where the sysctls allow
 * user namespaces, for `ww doctor`: ENOSPC is a used-up user.max_user_namespaces; EPERM (bwrap's
 * "No permissions to create new namespace") and the like, something the sysctls do not show (a
 * container's seccomp profile, an LSM).
 *
 * @example
 * bwrapTryFix("bwrap: Creating new namespace failed: No space left on device");
 * // "user.max_user_namespaces is used up: end processes that hold user namespaces, or raise it ..."
 */
export function bwrapTryFix(detail: string): string {
  if (/No space left on device/.test(detail)) {
    return `user.max_user_namespaces is used up: end processes that hold user namespaces, or raise it: ${
      persistentSysctl("user.max_user_namespaces=<more>")
    }`;
  }
  if (/Operation not permitted|Permission denied|No permissions to create/.test(detail)) {
    return "something the sysctls do not show refuses user namespaces to ww (a container's seccomp profile, an LSM such as SELinux or AppArmor): let ww's processes create them there (for a container, a seccomp profile that allows unshare and clone with CLONE_NEWUSER), or run with --jail=native";
  }
  return "bwrap's words say what failed; until it is fixed, --jail=native runs without bwrap";
}

/** How long a remembered "no" holds: a used-up user.max_user_namespaces frees up again. */
export const NO_KEPT_MS = 60 * 60 * 1000;

/**
 * What a "no" of a real try adds to the reason in the command line's words (--debug, --explain):
 * how long it is remembered, and how to clear it.
 */
export const REMEMBERED_NO =
  "(remembered for an hour; `ww doctor` tries bwrap again now, and remembers its answer)";

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

/**
 * The remembered try in `text` (the cache file), if it was made under `key`; at `now` (ms), a
 * "no" made NO_KEPT_MS or more before (or at no time it says) is no answer: what made bwrap fail
 * may have passed (user.max_user_namespaces used up for a while).
 */
export function readAutoCache(
  text: string | undefined,
  key: string,
  now?: number,
): BwrapTry | undefined {
  if (text === undefined) return undefined;
  try {
    const doc = JSON.parse(text);
    if (doc?.key !== key || typeof doc.ok !== "boolean" || typeof doc.detail !== "string") {
      return undefined;
    }
    if (!doc.ok && now !== undefined && !keptAt(doc.at, now)) return undefined;
    return { ok: doc.ok, detail: doc.detail };
  } catch {
    return undefined;
  }
}

/** Whether a "no" made at `at` (a cache file's field: anything) still holds at `now`. */
function keptAt(at: unknown, now: number): boolean {
  return typeof at === "number" && at <= now && now - at < NO_KEPT_MS;
}

/** The cache file's text for a try made under `key`, at `at` (ms) when given. */
export function encodeAutoCache(key: string, t: BwrapTry, at?: number): string {
  return `${
    JSON.stringify({ key, ok: t.ok, detail: t.detail, ...(at === undefined ? {} : { at }) })
  }\n`;
}
