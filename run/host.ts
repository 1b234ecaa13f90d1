// run/host.ts — the facts about this machine that ww decides and plans from, gathered here and
// nowhere else: tools (bwrap) found by one rule, kernel features (Landlock, seccomp, user
// namespace sysctls), ww's own ids and capabilities, and which system directories and /etc files
// a jail shows. Each fact is read when asked for, never at import. Used by --jail=auto
// (run/auto.ts), `ww doctor`, --explain and the launchers; the decisions are pure (jail/).

import {
  ETC_FILES,
  type HostFiles,
  NET_ETC_FILES,
  SYSTEM_DIRS,
  type SystemEntry,
} from "../jail/system_files.ts";
import type { NamespaceFacts } from "../jail/auto.ts";
import type { SeccompArch } from "../jail/seccomp.ts";
import { landlockAbi } from "../ffi/landlock.ts";
import { accessible, fileOwner, pathKind, statOwner, X_OK } from "../ffi/stat.ts";
import { EACCES, ELOOP, ENOENT, ENOTDIR, errnoName } from "../ffi/errno.ts";
import { SetupError } from "../core/errors.ts";
import { holdNoSymlinks } from "../ffi/open.ts";
import { closeFd } from "../ffi/fd.ts";
import { SyscallError } from "../ffi/libc.ts";
import { callerVariableIfText } from "./caller_env.ts";

/** The system directories and /etc files of this host that a jail shows. */
export function hostFiles(net: boolean): HostFiles {
  const system: SystemEntry[] = [];
  for (const path of SYSTEM_DIRS) {
    const kind = pathKind(path, false);
    if (kind === "symlink") system.push({ path, kind, target: Deno.readLinkSync(path) });
    else if (kind === "dir") system.push({ path, kind });
  }
  const etc = [...ETC_FILES, ...(net ? NET_ETC_FILES : [])].filter((p) =>
    pathKind(p, false) !== undefined
  );
  return { system, etc };
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/** Where tools are looked for after PATH: a caller's narrow PATH must not switch the jail off. */
export const TOOL_DIRS: readonly string[] = ["/usr/bin", "/usr/local/bin", "/bin"];

/**
 * The directories a tool is looked for in, in order: PATH's absolute entries (a relative entry
 * would depend on the caller's cwd), then TOOL_DIRS. The one rule for every tool ww runs, bwrap
 * for --jail=auto and --jail=bwrap alike.
 *
 * @example
 * toolDirs("/opt/bin:bin:/usr/bin");
 * // ["/opt/bin", "/usr/bin", "/usr/local/bin", "/bin"]
 */
export function toolDirs(path: string | undefined): string[] {
  const dirs = (path ?? "").split(":").filter((d) => d.startsWith("/"));
  return [...new Set([...dirs, ...TOOL_DIRS])];
}

/**
 * The absolute path of the tool `name`: the first regular file (after symlinks) of that name in
 * toolDirs(PATH) that ww may execute, as the kernel decides (its groups and ACLs counted), or
 * undefined. Any x bit was taken: a bwrap of mode 0750 in a group ww is not in was picked before
 * the /usr/bin one, and the jail failed to start.
 */
export function findTool(name: string, path = callerVariableIfText("PATH")): string | undefined {
  for (const dir of toolDirs(path)) {
    // fileOwner (statx), not Deno.statSync: each directory without the tool was an error object
    // with its stack, on every bwrap run (~30 KB with a long PATH; issue 16).
    const file = `${dir}/${name}`;
    const mode = fileOwner(file)?.mode ?? 0;
    if ((mode & S_IFMT) === S_IFREG && accessible(file, X_OK)) return file;
  }
  return undefined;
}

/** The absolute path of bwrap, or a SetupError saying what to do. */
export function findBwrap(): string {
  const path = findTool("bwrap");
  if (path) return path;
  const why =
    "bubblewrap (bwrap) is not installed or not in PATH; install it (apt-get install bubblewrap) or run unjailed with";
  throw new SetupError(`the bwrap jail: ${why} jail.backend "none"`, {
    commandLine: `--jail=bwrap: ${why} --jail=none`,
  });
}

/** The seccomp architecture of this process, when ww has a filter for it. */
export function seccompArchOrUndefined(): SeccompArch | undefined {
  const arch = Deno.build.arch;
  return arch === "x86_64" || arch === "aarch64" ? arch : undefined;
}

/** The seccomp architecture of this process, or a SetupError when ww has no filter for it. */
export function seccompArch(): SeccompArch {
  const arch = seccompArchOrUndefined();
  if (arch) return arch;
  const why = `the jail's seccomp filter does not support ${Deno.build.arch}; use`;
  throw new SetupError(`${why} jail.backend "none"`, { commandLine: `${why} --jail=none` });
}

// The kernel's seccomp support and its highest capability are fixed for the kernel's life: asked
// once per process, not on each of a service's runs (issue 16).
let filters: boolean | undefined;
let lastCap: number | undefined;

/** Whether the kernel offers seccomp filters (asked once per process). */
export function seccompFilters(): boolean {
  return filters ??= exists("/proc/sys/kernel/seccomp/actions_avail");
}

let landlock: { abi: number; errno?: number } | undefined;

/** The kernel's Landlock ABI (0 with the errno when it has none), asked once per process. */
export function landlockSupport(): { abi: number; errno?: number } {
  return landlock ??= landlockAbi();
}

/**
 * The highest capability number this kernel knows (what dropping "every" capability covers),
 * read once per process.
 */
export function capLastCap(): number {
  return lastCap ??= Number(Deno.readTextFileSync("/proc/sys/kernel/cap_last_cap").trim());
}

/** ww's own /proc/self/status. */
export function ownStatus(): string {
  return Deno.readTextFileSync("/proc/self/status");
}

/**
 * Whether ww holds capability number `cap` (capabilities(7)) in its effective set. (The native
 * jail's planner reads all of ww's ids and capabilities with jail/proc_status.ts's parseProcStatus,
 * which this module does not import: every run loads this module, and not that one.)
 */
export function hasCapability(cap: bigint): boolean {
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(ownStatus())?.[1];
  return capEff !== undefined && (BigInt(`0x${capEff}`) >> cap & 1n) === 1n;
}

const CAP_SYS_ADMIN = 21n;

/** This machine's facts about user namespaces, and where bwrap is (by findTool's rule). */
export function namespaceFacts(): NamespaceFacts {
  const bwrapPath = findTool("bwrap");
  return {
    bwrapPath,
    // fileOwner (statx), not Deno.statSync, whose first use costs a run ~0.8 ms.
    bwrapSetuid: bwrapPath !== undefined && ((fileOwner(bwrapPath)?.mode ?? 0) & 0o4000) !== 0,
    maxUserNamespaces: readNumber("/proc/sys/user/max_user_namespaces"),
    apparmorRestrictsUserns: readNumber("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
    unprivilegedUsernsClone: readNumber("/proc/sys/kernel/unprivileged_userns_clone"),
    capSysAdmin: hasCapability(CAP_SYS_ADMIN),
  };
}

/** The text of `path`, or undefined when it cannot be read (absent, a kernel without it). */
export function readText(path: string): string | undefined {
  // An absent file is told by statx through libc: Deno's error for it, a run's first error
  // object, cost ~0.5 ms to make (a sysctl this kernel lacks, read on every --jail=auto run).
  if (!exists(path)) return undefined;
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The text of the file at `path` when it holds at most `max` bytes; throws as Deno.readTextFileSync
 * does when it cannot be read, and an Error saying so when it holds more (reading no more than
 * `max` + 1 bytes of it: /dev/zero never ends) or is not UTF-8. With `noLinks`, no symlink
 * anywhere on `path` is followed, not even one that appeared since the path was checked
 * (fd/grant_path.ts): the file is named by a descriptor opened with openat2 refusing links, and
 * opened through it.
 */
export function readTextAtMost(path: string, max: number, noLinks = false): string {
  const held = noLinks ? holdWithoutLinks(path) : undefined;
  let file;
  try {
    file = Deno.openSync(held === undefined ? path : `/proc/self/fd/${held}`);
  } finally {
    if (held !== undefined) closeFd(held);
  }
  try {
    const buf = new Uint8Array(max + 1);
    let n = 0;
    for (let r; n < buf.length && (r = file.readSync(buf.subarray(n))) !== null;) n += r;
    if (n > max) throw new Error(`it holds more than ${max} bytes`);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(buf.subarray(0, n));
    } catch {
      // Decoded with U+FFFD for what is not UTF-8, a value would reach the program changed.
      throw new Error("it is not UTF-8 text");
    }
  } finally {
    file.close();
  }
}

/** holdNoSymlinks, its failures as Deno.openSync's (NotFound, PermissionDenied) where they match. */
function holdWithoutLinks(path: string): number {
  try {
    return holdNoSymlinks(path);
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    if (e.errno === ENOENT) throw new Deno.errors.NotFound(e.message, { cause: e });
    if (e.errno === EACCES) throw new Deno.errors.PermissionDenied(e.message, { cause: e });
    if (e.errno === ELOOP) {
      throw new Error("a symbolic link appeared on the path as ww opened it", { cause: e });
    }
    throw e;
  }
}

/** The number in `path` (a sysctl), or undefined when it cannot be read. */
export function readNumber(path: string): number | undefined {
  const text = readText(path);
  return text === undefined ? undefined : Number(text.trim());
}

/** Whether `path` exists (following symlinks). */
export function exists(path: string): boolean {
  return pathKind(path) !== undefined;
}

/**
 * Why a bind source that a fact found absent cannot be bound, in words that end a
 * `bind <source>: …` line (see absentReason).
 *
 * @example
 * ```ts ignore
 * whyAbsent("/nonexistent"); // "no such file or directory on this machine (check the path)"
 * ```
 */
export function whyAbsent(path: string): string {
  const info = statOwner(path);
  // There again since the fact was taken: said as missing, as the fact had it.
  return absentReason("errno" in info ? info.errno : ENOENT);
}

/**
 * The words for the errno that looking a bind source up failed with: missing, or what kept ww
 * from seeing it (a directory on its path ww may not search, a symlink loop), which "no such file"
 * would hide.
 *
 * @example
 * absentReason(13); // "ww may not look there (EACCES: it cannot search a directory on the path)"
 */
export function absentReason(errno: number): string {
  if (errno === ENOENT || errno === ENOTDIR) {
    return "no such file or directory on this machine (check the path)";
  }
  if (errno === EACCES) {
    return "ww may not look there (EACCES: it cannot search a directory on the path)";
  }
  if (errno === ELOOP) {
    return "too many levels of symbolic links (ELOOP: fix or remove the link that loops, or give the path it leads to)";
  }
  return `ww cannot look it up (${errnoName(errno)}: check the path)`;
}
