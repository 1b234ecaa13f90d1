// run/auto.ts — gathers the facts jail/auto.ts decides `--jail=auto` on: where bwrap is, and the
// sysctls that allow or forbid user namespaces. A few small file reads; nothing is spawned.

import { type BackendChoice, chooseBackend, type NamespaceFacts } from "../jail/auto.ts";
import type { JailPolicy } from "../jail/policy.ts";

/** The backend a run with `policy` gets, and why. */
export function jailChoice(policy: JailPolicy): BackendChoice {
  return chooseBackend(policy.backend, namespaceFacts);
}

/** This machine's facts about user namespaces. */
export function namespaceFacts(): NamespaceFacts {
  const bwrapPath = findInPath("bwrap");
  return {
    bwrapPath,
    bwrapSetuid: bwrapPath !== undefined && ((Deno.statSync(bwrapPath).mode ?? 0) & 0o4000) !== 0,
    maxUserNamespaces: readNumber("/proc/sys/user/max_user_namespaces"),
    apparmorRestrictsUserns: readNumber("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
    unprivilegedUsernsClone: readNumber("/proc/sys/kernel/unprivileged_userns_clone"),
    capSysAdmin: hasCapSysAdmin(),
  };
}

const CAP_SYS_ADMIN = 21n;

function hasCapSysAdmin(): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readText("/proc/self/status") ?? "");
  return m !== null && (BigInt(`0x${m[1]}`) >> CAP_SYS_ADMIN & 1n) === 1n;
}

function findInPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir.startsWith("/")) continue;
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch { /* not here */ }
  }
  return undefined;
}

function readNumber(path: string): number | undefined {
  const text = readText(path);
  return text === undefined ? undefined : Number(text.trim());
}

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}
