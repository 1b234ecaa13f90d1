// run/native.ts — ww's side of the native jail: the facts jail/native.ts plans from, read through
// run/host.ts. run/launch_native.ts launches it through the stage (stage/stage.c, run/stage.ts).

import { type NativeFacts, nativePathCandidates } from "../jail/native.ts";
import { parseProcStatus } from "../jail/proc_status.ts";
import type { JailPolicy } from "../jail/policy.ts";
import {
  capLastCap,
  landlockSupport,
  ownStatus,
  seccompArchOrUndefined,
  seccompFilters,
} from "./host.ts";

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
    landlockAbi: landlockSupport().abi,
    seccomp: seccompFilters(),
    arch: seccompArchOrUndefined(),
    identity: parseProcStatus(ownStatus()),
    capLastCap: capLastCap(),
    pathKinds,
    parentPid: Deno.pid,
  };
}
