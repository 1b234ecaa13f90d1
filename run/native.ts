// run/native.ts — ww's side of the native jail: gathers the host facts jail/native.ts plans from.
// run/launch_native.ts launches it through the stage (stage/stage.c, run/stage.ts).

import { landlockAbi } from "../ffi/landlock.ts";
import { type NativeFacts, nativePathCandidates, parseProcStatus } from "../jail/native.ts";
import type { JailPolicy } from "../jail/policy.ts";
import type { SeccompArch } from "../jail/seccomp.ts";
import { exists } from "./host.ts";

/**
 * What this host offers the native jail, for a run of `programSource` (none for a program from
 * a descriptor) under `policy`.
 */
export function nativeFacts(policy: JailPolicy, programSource?: string): NativeFacts {
  const pathKinds: Record<string, "dir" | "file"> = {};
  for (const path of nativePathCandidates(policy, programSource)) {
    try {
      pathKinds[path] = Deno.statSync(path).isDirectory ? "dir" : "file";
    } catch { /* absent: no rule */ }
  }
  return {
    landlockAbi: landlockAbi().abi,
    seccomp: exists("/proc/sys/kernel/seccomp/actions_avail"),
    arch: seccompArchOrUndefined(),
    identity: parseProcStatus(Deno.readTextFileSync("/proc/self/status")),
    capLastCap: Number(Deno.readTextFileSync("/proc/sys/kernel/cap_last_cap").trim()),
    pathKinds,
    parentPid: Deno.pid,
  };
}

/** The seccomp arch of this process, when ww has a filter for it. */
export function seccompArchOrUndefined(): SeccompArch | undefined {
  const arch = Deno.build.arch;
  return arch === "x86_64" || arch === "aarch64" ? arch : undefined;
}
