/**
 * `--jail=auto`: which backend a run gets. bubblewrap when this machine lets ww create user
 * namespaces, the native jail otherwise. The check is cheap, because it is on every run's launch
 * path: it reads a few sysctls and never spawns anything, so it can be wrong where a seccomp
 * profile (e.g. a container's) blocks namespaces; bwrap then fails with its own reason, and `ww
 * doctor` tries for real. Pure: the facts are gathered by run/auto.ts.
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

/** A concrete backend and why it was chosen. */
export interface BackendChoice {
  readonly backend: Exclude<JailBackend, "auto">;
  readonly reason: string;
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
 * The backend for `requested`; `facts` is only consulted for `auto`.
 *
 * @example
 * chooseBackend("auto", () => ({ bwrapPath: "/usr/bin/bwrap", maxUserNamespaces: 1000,
 *   capSysAdmin: false }));
 * // { backend: "bwrap", reason: "bubblewrap (/usr/bin/bwrap) can create user namespaces" }
 */
export function chooseBackend(
  requested: JailBackend,
  facts: () => NamespaceFacts,
): BackendChoice {
  if (requested !== "auto") return { backend: requested, reason: `--jail=${requested}` };
  const f = facts();
  const problem = bwrapUnusable(f);
  return problem === undefined
    ? { backend: "bwrap", reason: `auto: bubblewrap (${f.bwrapPath}) can create user namespaces` }
    : { backend: "native", reason: `auto: ${problem}` };
}
