// run/host.ts — facts about this machine that the jail plans need: which system directories
// exist and which are symlinks, which loader files exist, where bwrap is, and the seccomp arch.

import {
  ETC_FILES,
  type HostFiles,
  NET_ETC_FILES,
  SYSTEM_DIRS,
  type SystemEntry,
} from "../jail/bwrap.ts";
import type { SeccompArch } from "../jail/seccomp.ts";
import { SetupError } from "../core/errors.ts";

/** The system directories and /etc files of this host that a jail shows. */
export function hostFiles(net: boolean): HostFiles {
  const system: SystemEntry[] = [];
  for (const path of SYSTEM_DIRS) {
    const info = lstat(path);
    if (info?.isSymlink) system.push({ path, kind: "symlink", target: Deno.readLinkSync(path) });
    else if (info?.isDirectory) system.push({ path, kind: "dir" });
  }
  const etc = [...ETC_FILES, ...(net ? NET_ETC_FILES : [])].filter((p) => lstat(p) !== undefined);
  return { system, etc };
}

/** Where tools are looked for after PATH: a caller's narrow PATH must not switch the jail off. */
const TOOL_DIRS = ["/usr/bin", "/usr/local/bin", "/bin"];

/** The absolute path of the tool `name` in PATH or TOOL_DIRS, or undefined. */
export function findTool(name: string): string | undefined {
  const dirs = (Deno.env.get("PATH") ?? "").split(":").filter((d) => d.startsWith("/"));
  for (const dir of [...dirs, ...TOOL_DIRS]) {
    const path = `${dir}/${name}`;
    const info = lstat(path);
    if (info && !info.isDirectory) return path;
  }
  return undefined;
}

/** The absolute path of bwrap, or a SetupError saying what to do. */
export function findBwrap(): string {
  const path = findTool("bwrap");
  if (path) return path;
  throw new SetupError(
    "--jail=bwrap: bubblewrap (bwrap) is not installed or not in PATH; install it (apt-get install bubblewrap) or run unjailed with --jail=none",
  );
}

/** The seccomp architecture of this process. */
export function seccompArch(): SeccompArch {
  const arch = Deno.build.arch;
  if (arch === "x86_64" || arch === "aarch64") return arch;
  throw new SetupError(`the jail's seccomp filter does not support ${arch}; use --jail=none`);
}

function lstat(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch {
    return undefined;
  }
}

/** Whether `path` exists (following symlinks). */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
