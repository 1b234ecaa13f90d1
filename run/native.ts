// run/native.ts — ww's side of the native jail: the facts jail/native.ts plans from, read through
// run/host.ts. run/launch_native.ts launches it through the stage (stage/stage.c, run/stage.ts).

import { type NativeFacts, nativePathCandidates } from "../jail/native.ts";
import { pathKind } from "../ffi/stat.ts";
import { parseProcStatus } from "../jail/proc_status.ts";
import type { JailPolicy } from "../jail/policy.ts";
import {
  capLastCap,
  landlockSupport,
  ownStatus,
  seccompArchOrUndefined,
  seccompFilters,
  whyAbsent,
} from "./host.ts";
import { HOST_FS } from "./resolve.ts";
import { bindSourceReal } from "./facts.ts";

/**
 * What this host offers the native jail, for a run of `programSource` (none for a program from
 * a descriptor) under `policy`.
 */
export function nativeFacts(policy: JailPolicy, programSource?: string): NativeFacts {
  const pathKinds: Record<string, "dir" | "file"> = {};
  for (const path of nativePathCandidates(policy, programSource)) {
    // Absent: no rule. (pathKind, not Deno.statSync: no FileInfo or error object for ~20 paths
    // a run, issue 16.)
    const kind = pathKind(path);
    if (kind !== undefined) pathKinds[path] = kind === "dir" ? "dir" : "file";
  }
  // Resolved once, here, by ww's rule for links (run/facts.ts bindSourceReal): ww opens each
  // bind's source at its real path, refusing any link on it (run/pin_binds.ts pinBindSources), and
  // the stage rules on that descriptor.
  const realPaths: Record<string, string> = {};
  const bindProblems: Record<string, string> = {};
  for (const binds of [policy.readOnlyBinds, policy.writableBinds]) {
    for (const { source } of binds) {
      const real = bindSourceReal(source);
      if (typeof real === "object") bindProblems[source] = real.why;
      else if (real !== undefined && real !== source) realPaths[source] = real;
    }
  }
  const chdirReal = policy.chdir === undefined ? undefined : HOST_FS.realPath(policy.chdir);
  if (chdirReal !== undefined && chdirReal !== policy.chdir) realPaths[policy.chdir!] = chdirReal;
  return {
    landlockAbi: landlockSupport().abi,
    seccomp: seccompFilters(),
    arch: seccompArchOrUndefined(),
    identity: parseProcStatus(ownStatus()),
    capLastCap: capLastCap(),
    pathKinds,
    whyAbsent,
    realPaths,
    bindProblems,
    parentPid: Deno.pid,
  };
}
