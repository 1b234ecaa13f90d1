// jail/bwrap.ts — a JailPolicy to the bubblewrap command line. Pure: the facts about the host's
// file system it needs (which top-level entries are symlinks, which loader files exist) are input.
//
// The root is bubblewrap's empty tmpfs; only the system's program and library directories, the
// loader's files in /etc, the program itself (unless a program from IPFS runs from its
// descriptor), ww's stage (STAGE_PATH), the private work directory and the user's binds are
// visible. bwrap runs the stage's exec mode as pid 2 under its own pid-1 reaper in the new pid
// namespace, which fixes the environment and executes the program.

import type { Bind, JailPolicy, Limits } from "./policy.ts";
import type { LimitName, StagePlan } from "../stage/plan.ts";

/** The uid and gid the program has inside the jail (nobody). */
export const JAIL_UID = 65534;
export const JAIL_GID = 65534;
/** The hostname inside the jail's UTS namespace (the host's would leak otherwise). */
export const JAIL_HOSTNAME = "ww";

/** Top-level system paths the jail shows read-only when the host has them. */
export const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
/** Files in /etc that the dynamic loader and basic libc functions read; no secrets. */
export const ETC_FILES = [
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/alternatives",
  "/etc/localtime",
];
/** Extra /etc files for name resolution and TLS, shown only with --net. */
export const NET_ETC_FILES = [
  "/etc/resolv.conf",
  "/etc/hosts",
  "/etc/nsswitch.conf",
  "/etc/host.conf",
  "/etc/gai.conf",
  "/etc/ssl",
  "/etc/ca-certificates",
];

/** One SYSTEM_DIRS entry as the host has it. */
export type SystemEntry =
  | { readonly path: string; readonly kind: "dir" }
  | { readonly path: string; readonly kind: "symlink"; readonly target: string };

/** What bwrapArgs needs to know about the host. */
export interface HostFiles {
  /** SYSTEM_DIRS entries that exist, in SYSTEM_DIRS order. */
  readonly system: readonly SystemEntry[];
  /** ETC_FILES (and NET_ETC_FILES) entries that exist. */
  readonly etc: readonly string[];
}

/** Where the jail shows ww's stage (stage/stage.c), which executes the program. */
export const STAGE_PATH = "/.ww-stage";

/** Descriptor numbers, as bwrap will have them, for its control channels. */
export interface BwrapFds {
  readonly seccomp: number;
  readonly status: number;
  /** The stage's bytes, which bwrap copies into the jail at STAGE_PATH (--ro-bind-data). */
  readonly stage: number;
}

export interface BwrapInput {
  readonly policy: JailPolicy;
  readonly host: HostFiles;
  /** The program's absolute path, where it is executed inside the jail (unless by `exec`). */
  readonly programPath: string;
  /** The file to show at programPath (its real path on the host), when not already visible. */
  readonly programSource: string;
  /** A program from IPFS, held by a descriptor (numbered as bwrap has it): see ProgramFd. */
  readonly programFd?: ProgramFd;
  readonly args: readonly string[];
  /**
   * The private work directory's path, made (mode 0700) inside the jail and made the cwd. It
   * lives in the jail's own tmpfs, not on the host: when ww is root, bwrap runs as an
   * unprivileged user who could not reach a host directory in a private TMPDIR, and a bind by
   * descriptor does not help (bwrap 0.8 resolves /proc/self/fd/N back to the path). It goes
   * away with the jail.
   */
  readonly workdir: string;
  /** A PWD the user asked for with --env; bwrap would otherwise overwrite it. */
  readonly userPwd?: string;
  readonly fds: BwrapFds;
}

/**
 * A program from IPFS, held by descriptor `fd`, and how it gets into the jail:
 * - `exec`: the descriptor stays open through bwrap, and the stage executes the program from it
 *   (marked close-on-exec, execveat AT_EMPTY_PATH); nothing is copied and nothing shows at
 *   programPath.
 * - `copy`: bwrap copies it into a read-only file of its own at programPath (a sealed memfd
 *   cannot be bound);
 * - `bind`: bound read-only at programPath (a cached file bwrap's user can reach).
 * In every case the program gets `argv0` as its argv[0].
 */
export interface ProgramFd {
  readonly fd: number;
  readonly how: "exec" | "copy" | "bind";
  readonly argv0: string;
}

/** True when `path` lies under a directory the jail already shows (not through a symlink). */
export function isVisibleInJail(path: string, host: HostFiles): boolean {
  return host.system.some((e) =>
    e.kind === "dir" && (path === e.path || path.startsWith(`${e.path}/`))
  );
}

/**
 * The arguments after `bwrap`.
 *
 * @example
 * bwrapArgs({ policy: DEFAULT_POLICY, host, programPath: "/usr/bin/true", ... });
 * // ["--ro-bind", "/usr", "/usr", ..., "--", "/.ww-stage", "exec", "/usr/bin/true", "-", ...]
 */
export function bwrapArgs(input: BwrapInput): string[] {
  const { policy, host, fds } = input;
  const a: string[] = [];
  for (const entry of host.system) {
    if (entry.kind === "dir") a.push("--ro-bind", entry.path, entry.path);
    else a.push("--symlink", entry.target, entry.path);
  }
  for (const path of host.etc) a.push("--ro-bind", path, path);
  a.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp");
  a.push("--perms", "0700", "--dir", input.workdir, "--chdir", input.workdir);
  // Sysctl files are writable by their owner, host uid 0, without any capability
  // (kernel/sysctl.c, test_perm), and when ww runs as root the jail's uid maps to host uid 0:
  // the program could set kernel.core_pattern to a program of its own, run as host root.
  // bwrap means to cover /proc/sys itself but never does: it asks access(W_OK) first, which a
  // /proc/sys directory always refuses (EACCES), and then skips it.
  a.push("--ro-bind", "/proc/sys", "/proc/sys");
  a.push("--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger");
  for (const b of policy.readOnlyBinds) a.push("--ro-bind", b.source, b.dest);
  for (const b of policy.writableBinds) a.push("--bind", b.source, b.dest);
  const programFd = input.programFd;
  a.push("--perms", "0555", "--ro-bind-data", String(fds.stage), STAGE_PATH);
  if (programFd?.how === "copy") {
    a.push("--perms", "0555", "--ro-bind-data", String(programFd.fd), input.programPath);
  } else if (programFd?.how === "bind") {
    a.push("--ro-bind-fd", String(programFd.fd), input.programPath);
  } else if (!programFd && !isVisibleInJail(input.programSource, host)) {
    a.push("--ro-bind", input.programSource, input.programPath);
  }
  a.push(...namespaceArgs(policy.net));
  a.push("--uid", String(policy.uid ?? JAIL_UID), "--gid", String(policy.gid ?? JAIL_GID));
  a.push("--hostname", JAIL_HOSTNAME);
  a.push("--cap-drop", "ALL", "--new-session", "--die-with-parent");
  a.push("--seccomp", String(fds.seccomp), "--json-status-fd", String(fds.status));
  // bwrap always sets PWD in the program's environment; the stage takes it out again ("-"), or
  // restores the user's own ("=VALUE"), so the environment is exactly what the user passed.
  const target = programFd?.how === "exec" ? String(programFd.fd) : input.programPath;
  a.push("--", STAGE_PATH, "exec", target, input.userPwd === undefined ? "-" : `=${input.userPwd}`);
  a.push(programFd ? programFd.argv0 : input.programPath, ...input.args);
  return a;
}

/**
 * bwrap's namespace flags for the jail: every namespace (the network one unless `net`), and no
 * nested user namespaces. `ww doctor` tries exactly these.
 */
export function namespaceArgs(net: boolean): string[] {
  return [
    "--unshare-user",
    "--unshare-ipc",
    "--unshare-pid",
    "--unshare-uts",
    "--unshare-cgroup",
    ...(net ? [] : ["--unshare-net"]),
    "--disable-userns",
    "--assert-userns-disabled",
  ];
}

/** What starts bwrap: the limits, the host identity to drop to, and the stage's descriptors. */
export interface BwrapStageInput {
  readonly limits: Limits;
  /** The unprivileged host uid/gid bwrap runs as, when ww runs as root; else undefined. */
  readonly dropTo?: { readonly uid: number; readonly gid: number };
  /** bwrap's path and arguments. */
  readonly bwrapArgv: readonly string[];
  readonly env: readonly string[];
  /** ww's pid. */
  readonly parentPid: number;
  /** The stage's own descriptors (its plan and status pipes) start here. */
  readonly closeOnExecFrom: number;
}

/**
 * The stage's plan (stage/plan.ts) that starts bwrap with the limits set and, when ww is root, as
 * an unprivileged host user; the stage stays behind as supervisor, and when bwrap ends or ww dies
 * it SIGKILLs whatever is left (bwrap's pid 1 included, at any instant of the start).
 *
 * The stage sets the limits on itself before it executes bwrap, so bwrap, the jail's pid 1 and the
 * program all inherit them; lowering a limit needs no privilege, where setting one on another
 * user's process would need CAP_SYS_RESOURCE. The drop matters because a user namespace's uid
 * maps to the uid that created it: a jail made by root is host uid 0 to the kernel, which exempts
 * it from RLIMIT_NPROC, lets it write sysctls (their owner is uid 0), and makes every file it
 * creates in a --bind directory root's (a setuid-root binary, for one).
 *
 * @example
 * bwrapStagePlan({ limits: { processes: 5 }, bwrapArgv: ["/usr/bin/bwrap", "--"], env: [],
 *   parentPid: 1, closeOnExecFrom: 6 }).limits; // [{ resource: "nproc", value: 5 }]
 */
export function bwrapStagePlan(input: BwrapStageInput): StagePlan {
  const { limits, dropTo } = input;
  const set: [LimitName, number | undefined][] = [
    ["data", limits.memoryBytes],
    ["cpu", limits.cpuSeconds],
    ["nofile", limits.openFiles],
    ["nproc", limits.processes],
  ];
  return {
    supervise: "bwrap",
    parentPid: input.parentPid,
    closeOnExecFrom: input.closeOnExecFrom,
    limits: set.filter(([, v]) => v !== undefined).map(([resource, value]) => ({
      resource,
      value: value!,
    })),
    ...(dropTo
      ? {
        identity: { uid: dropTo.uid, gid: dropTo.gid, clearGroups: true, dropBoundingUpTo: null },
      }
      : {}),
    // bwrap sets no_new_privs for the jail itself.
    noNewPrivs: false,
    path: input.bwrapArgv[0],
    argv: input.bwrapArgv,
    env: input.env,
  };
}

/** The binds a policy adds, for --explain. */
export function describeBinds(binds: readonly Bind[]): string[] {
  return binds.map((b) => (b.source === b.dest ? b.source : `${b.source} -> ${b.dest}`));
}
