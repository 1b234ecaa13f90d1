// jail/bwrap.ts — a JailPolicy to the bubblewrap command line. Pure: the facts about the host's
// file system it needs (which top-level entries are symlinks, which loader files exist) are input.
//
// The root is bubblewrap's empty tmpfs; only the system's program and library directories, the
// loader's files in /etc, the program itself (unless a held program runs from its
// descriptor), ww's stage (STAGE_PATH), the private work directory and the user's binds are
// visible, each mount after its parents (jail/bind_mounts.ts); the root and /dev are read-only
// once set up, and every writable tmpfs is bounded by --tmp-size. bwrap runs the stage's exec
// mode as the new pid namespace's pid 1 (--as-pid-1, in place of bwrap's own reaper): it forks the
// program as pid 2 with the environment fixed, reaps the jail's orphans, and tells ww how the
// program ended.

import {
  type BindMount,
  bindProblem,
  type BindRequest,
  bindRequests,
  cleanDest,
  isWithin,
  rebase,
  topAt,
} from "./binds.ts";
import {
  bindWaypoints,
  hostPathAt,
  mountPointProblem,
  planBinds,
  sortParentsFirst,
  type Waypoint,
} from "./bind_mounts.ts";
import type { HeldHow } from "./held.ts";
import type { HostFiles } from "./system_files.ts";
import type { Bind, JailPolicy, Limits } from "./policy.ts";
import type { StagePlan } from "../stage/plan.ts";
import { stageLimits } from "./limits.ts";
import { stageExecArgs } from "../stage/exec_args.ts";

/** The uid and gid the program has inside the jail (nobody). */
export const JAIL_UID = 65534;
export const JAIL_GID = 65534;
/** The hostname inside the jail's UTS namespace (the host's would leak otherwise). */
export const JAIL_HOSTNAME = "ww";

/** Where the jail shows ww's stage (stage/stage.c), which executes the program. */
export const STAGE_PATH = "/.ww-stage";

/** Descriptor numbers, as bwrap will have them, for its control channels. */
export interface BwrapFds {
  readonly seccomp: number;
  readonly status: number;
  /** The stage's bytes, which bwrap copies into the jail at STAGE_PATH (--ro-bind-data). */
  readonly stage: number;
  /**
   * The program's stderr, passed through bwrap to the stage, which moves it to fd 2: bwrap's own
   * fd 2 is a pipe to ww, which reads bwrap's reason when it cannot set up the jail, and a NUL
   * byte from the stage once it is set up (see stageExecArgs).
   */
  readonly programStderr: number;
  /**
   * For each of the mounts' binds (BwrapMounts.binds, in order), a descriptor of its source,
   * which ww opened once refusing any symbolic link on its path (ffi/open.ts holdNoSymlinks):
   * bwrap binds /proc/self/fd/N, and the stage in the jail compares what the jail shows at the
   * bind's destination with it before the program starts, then closes it. Bound by its path, a
   * source checked as a directory was mounted as whatever a symlink swapped in for a part of it
   * led to by the time bwrap resolved it (a jail that could write the bind's parent showed
   * another jail the host's /etc); bwrap resolves /proc/self/fd/N to a path too (its --bind-fd
   * as well, before 0.10), so the stage's check is what tells.
   */
  readonly binds: readonly number[];
  /**
   * For each of the mounts' waypoints (BwrapMounts.waypoints, in order), a descriptor of the
   * directory, opened as the binds' sources are: the stage walks each bind's destination and
   * finds every one of them on the way (stage/stage.c check_pinned).
   */
  readonly waypoints: readonly number[];
  /**
   * The stage's end of the unix socket to the supervisor's bounder, which bounds the files of the
   * jail's in-memory file systems (boundedTmpfs, StagePlan.tmpfs); present with --tmp-size.
   */
  readonly tmpfs?: number;
}

/**
 * The tmpfs mounts of --tmp-size the bwrap jail can write (see bwrapArgs): /dev/shm, /tmp unless a
 * bind holds it, and the work directory when it is not in /tmp; none when the size is unlimited.
 *
 * @example
 * boundedTmpfs({ ...DEFAULT_POLICY, backend: "bwrap" }, { tmpBound: false, workdirInTmp: true, workdir: "/tmp/ww-1" });
 * // ["/dev/shm", "/tmp"]
 */
export function boundedTmpfs(
  policy: JailPolicy,
  mounts: Pick<BwrapMounts, "tmpBound" | "workdirInTmp" | "workdir">,
): string[] {
  if (policy.limits.tmpBytes === undefined) return [];
  return [
    "/dev/shm",
    ...(mounts.tmpBound ? [] : ["/tmp"]),
    ...(mounts.workdirInTmp ? [] : [mounts.workdir]),
  ];
}

/**
 * The files (inodes) a tmpfs of `bytes` may hold: one a KiB, as tmpfs charges a file (and an
 * extended attribute its size) to the inode space that nr_inodes sets, at 1 KiB an inode (Linux 6.6
 * and later); at least TMPFS_MIN_FILES, which the jail's own mount points under /tmp fit in.
 *
 * @example
 * tmpfsFiles(512 * 2 ** 20); // 524288
 * tmpfsFiles(1024); // 4096
 */
export function tmpfsFiles(bytes: number): number {
  return Math.max(Math.ceil(bytes / 1024), TMPFS_MIN_FILES);
}

/** The fewest files a tmpfs of --tmp-size may hold, however small the size (see tmpfsFiles). */
export const TMPFS_MIN_FILES = 4096;

export interface BwrapInput {
  readonly policy: JailPolicy;
  readonly host: HostFiles;
  /** The program's absolute path, where it is executed inside the jail (unless by `exec`). */
  readonly programPath: string;
  /** The program's argv[0]: its name as the caller gave it, under every backend alike. */
  readonly argv0: string;
  /** The file to show at programPath (its real path on the host), when not already visible. */
  readonly programSource: string;
  /** A program held by a descriptor (numbered as bwrap has it): see BwrapHeld. */
  readonly held?: BwrapHeld;
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
  /** Socket activation: the stage sets LISTEN_PID to the program's pid in the jail. */
  readonly listenPid?: boolean;
  /**
   * The program's fd 0 is a terminal of its own (RunConfig.tty): the stage makes it the
   * controlling terminal of the session bwrap's --new-session gave the program (`exec-tty`).
   */
  readonly tty?: boolean;
  readonly fds: BwrapFds;
  /**
   * The user's binds and the work directory as planBwrapMounts placed them; planned here (with
   * every source taken as its own real path) when absent, and an Error thrown if they cannot be.
   */
  readonly mounts?: BwrapMounts;
}

/**
 * A held program (jail/held.ts) at descriptor `fd` of bwrap's, and how it gets into the jail
 * (placeHeld decides):
 * - `exec`: the descriptor stays open through bwrap, and the stage executes the program from it
 *   (marked close-on-exec, execveat AT_EMPTY_PATH); nothing is copied and nothing shows at
 *   programPath.
 * - `copy`: bwrap copies it into a read-only file of its own at programPath (a sealed memfd
 *   cannot be bound);
 * - `bind`: bound read-only at programPath (a cached file bwrap's user can reach).
 */
export interface BwrapHeld {
  readonly fd: number;
  readonly how: HeldHow;
}

/** True when `path` lies under a directory the jail already shows (not through a symlink). */
export function isVisibleInJail(path: string, host: HostFiles): boolean {
  return host.system.some((e) =>
    e.kind === "dir" && (path === e.path || path.startsWith(`${e.path}/`))
  );
}

/**
 * Whether the jail's system view reaches `path` at its own place: in a system directory, or at
 * or through one of the host's system symlinks, which ww makes again (/bin, and /bin/true by it).
 */
function systemViewHas(path: string, host: HostFiles): boolean {
  return isVisibleInJail(path, host) ||
    host.system.some((e) => e.kind === "symlink" && isWithin(path, e.path));
}

/**
 * Why the bwrap jail cannot start the program in `dir` (--chdir), or undefined: `dir` must lie in
 * a system directory or a bind (whose host path the caller then checks: see bwrapHostPath), in
 * /proc or /dev, or be a directory the jail makes (/tmp, the work directory, a mount point or its
 * parents); below /tmp or the work directory nothing exists yet (`startsEmpty`: the work
 * directory's own parents there too), and elsewhere the jail does not show it (`notShown`). The
 * message in a command line's words and in a library's.
 *
 * @example
 * bwrapChdirProblem("/srv/data", host, mounts)?.commandLine;
 * // "--chdir /srv/data: the jail does not show it (bind it with --ro-bind or --bind, ...)"
 */
export function bwrapChdirProblem(
  dir: string,
  host: HostFiles,
  mounts: BwrapMounts,
): { reason: "notShown" | "startsEmpty"; commandLine: string; library: string } | undefined {
  const made = [
    ...host.system.filter((e) => e.kind === "dir").map((e) => e.path),
    ...mounts.binds.map((b) => b.dest),
    "/tmp",
    "/proc",
    "/dev",
  ];
  // The work directory itself, not its parents below /tmp (a TMPDIR of the caller's, its cwd
  // say): the jail makes them only as the way to it, empty, where the caller's files are not.
  if (dir === mounts.workdir || made.some((p) => isWithin(p, dir))) return undefined;
  if (bwrapHostPath(dir, host, mounts) !== undefined) return undefined;
  if (["/proc", "/dev"].some((p) => isWithin(dir, p))) return undefined;
  if ([...(mounts.tmpBound ? [] : ["/tmp"]), mounts.workdir].some((p) => isWithin(dir, p))) {
    const why =
      "not in the jail, whose /tmp and work directory start empty (bind a directory there, or choose one the jail shows)";
    return {
      reason: "startsEmpty",
      commandLine: `--chdir ${dir}: ${why}`,
      library: `cwd ${dir}: ${why}`,
    };
  }
  return {
    reason: "notShown",
    commandLine:
      `--chdir ${dir}: the jail does not show it (bind it with --ro-bind or --bind, or choose a directory the jail shows)`,
    library:
      `cwd ${dir}: the jail does not show it (bind it with jail.readOnlyBinds or jail.writableBinds, or choose a directory the jail shows)`,
  };
}

/**
 * The host path the bwrap jail shows at `dir`: under the innermost bind, its source; under a
 * system directory, the same path; undefined where the jail makes it itself (/tmp, the work
 * directory, /proc, /dev, a mount point's parents).
 *
 * @example
 * bwrapHostPath("/data/in", host, { binds: [{ source: "/srv/d", dest: "/data", writable: false }], ... });
 * // "/srv/d/in"
 */
export function bwrapHostPath(
  dir: string,
  host: HostFiles,
  mounts: BwrapMounts,
): string | undefined {
  const bind = mounts.binds.findLast((b) => isWithin(dir, b.dest));
  if (bind) return rebase(dir, bind.dest, bind.source);
  if (host.system.some((e) => e.kind === "dir" && isWithin(dir, e.path))) return dir;
  return undefined;
}

/**
 * The loader's files in /etc that ww mounts itself: all of `host.etc` but those a bind of the same
 * host path shows already (`--ro-bind /etc`). Mounted on such a bind, a file that is a symlink
 * there (/etc/localtime) was resolved in bwrap's new root, where it leads nowhere, and bwrap could
 * not make its mount point.
 *
 * @example
 * ownEtcFiles({ ...host, etc: ["/etc/ld.so.cache", "/etc/localtime"] },
 *   { ...mounts, binds: [{ source: "/etc", dest: "/etc", writable: false }] });
 * // []
 */
export function ownEtcFiles(host: HostFiles, mounts: Pick<BwrapMounts, "binds">): string[] {
  return host.etc.filter((path) =>
    !mounts.binds.some((b) => b.source === b.dest && isWithin(path, b.dest))
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
  const mounts = input.mounts ?? plannedOrThrow(input);
  const { workdir } = mounts;
  const size = policy.limits.tmpBytes === undefined
    ? []
    : ["--size", String(policy.limits.tmpBytes)];
  // Every mount, ww's and the user's, goes on after its parents (see jail/bind_mounts.ts).
  const ops: { dest: string; args: string[] }[] = [];
  const op = (dest: string, ...args: string[]) => ops.push({ dest, args });
  for (const entry of host.system) {
    if (entry.kind === "dir") op(entry.path, "--ro-bind", entry.path, entry.path);
    else op(entry.path, "--symlink", entry.target, entry.path);
  }
  for (const path of ownEtcFiles(host, mounts)) op(path, "--ro-bind", path, path);
  op("/proc", "--proc", "/proc");
  // Sysctl files are writable by their owner, host uid 0, without any capability
  // (kernel/sysctl.c, test_perm), and when ww runs as root the jail's uid maps to host uid 0:
  // the program could set kernel.core_pattern to a program of its own, run as host root.
  // bwrap means to cover /proc/sys itself but never does: it asks access(W_OK) first, which a
  // /proc/sys directory always refuses (EACCES), and then skips it.
  op("/proc/sys", "--ro-bind", "/proc/sys", "/proc/sys");
  op("/proc/sysrq-trigger", "--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger");
  // Every file system the jail can write that holds memory is a tmpfs of --tmp-size: /dev/shm
  // (--dev makes it a directory of /dev's tmpfs), /tmp, and the work directory when it is not in
  // /tmp. / and /dev are made read-only at the end.
  op("/dev", "--dev", "/dev");
  op("/dev/shm", ...size, "--tmpfs", "/dev/shm");
  if (!mounts.tmpBound) op("/tmp", ...size, "--tmpfs", "/tmp");
  if (mounts.workdirInTmp) op(workdir, "--perms", "0700", "--dir", workdir);
  else op(workdir, "--perms", "0700", ...size, "--tmpfs", workdir);
  if (
    fds.binds.length !== mounts.binds.length || fds.waypoints.length !== mounts.waypoints.length
  ) {
    throw new Error("bwrapArgs: a descriptor for each bind and waypoint (internal)");
  }
  mounts.binds.forEach((b, i) =>
    op(b.dest, b.writable ? "--bind" : "--ro-bind", `/proc/self/fd/${fds.binds[i]}`, b.dest)
  );
  const a: string[] = [];
  for (const o of sortParentsFirst(ops)) a.push(...o.args);
  // Only the cwd moves with --chdir: the work directory is made all the same.
  a.push("--chdir", policy.chdir ?? workdir);
  const held = input.held;
  a.push("--perms", "0555", "--ro-bind-data", String(fds.stage), STAGE_PATH);
  if (held?.how === "copy") {
    a.push("--perms", "0555", "--ro-bind-data", String(held.fd), input.programPath);
  } else if (held?.how === "bind") {
    a.push("--ro-bind-fd", String(held.fd), input.programPath);
  } else if (!held && mounts.programAt !== undefined) {
    a.push("--ro-bind", input.programSource, mounts.programAt);
  }
  // bwrap's root tmpfs holds every mount point and the files it copies in (--ro-bind-data); once
  // they are made, neither it nor /dev's tmpfs may take the jail's writes (root in the jail owns
  // both). Not recursive: the mounts on them keep their own flags.
  a.push("--remount-ro", "/dev", "--remount-ro", "/");
  a.push(...namespaceArgs(policy.net));
  a.push("--uid", String(policy.uid ?? JAIL_UID), "--gid", String(policy.gid ?? JAIL_GID));
  a.push("--hostname", JAIL_HOSTNAME);
  // The stage is the jail's pid 1 in place of bwrap's reaper: it reaps as that did, and says how
  // the program ended, which bwrap's exit code (128+N for signal N and for exit 128+N) cannot.
  a.push("--cap-drop", "ALL", "--new-session", "--as-pid-1", "--die-with-parent");
  a.push("--seccomp", String(fds.seccomp), "--json-status-fd", String(fds.status));
  // bwrap always sets PWD in the program's environment; the stage takes it out again ("-"), or
  // restores the user's own ("=VALUE"), so the environment is exactly what the user passed.
  const target = held?.how === "exec" ? String(held.fd) : input.programPath;
  const exec = stageExecArgs({
    target,
    pwd: input.userPwd,
    argv0: input.argv0,
    args: input.args,
    listenPid: input.listenPid,
    tty: input.tty,
    tmpfs: fds.tmpfs,
    report: { stderr: fds.programStderr },
    pinned: [
      ...mounts.binds.map((b, i) => ({
        dest: b.dest,
        fd: fds.binds[i],
        how: b.writable ? "rw" as const : "ro" as const,
      })),
      ...mounts.waypoints.map((w, i) => ({
        dest: w.dest,
        fd: fds.waypoints[i],
        how: "dir" as const,
      })),
    ],
    // A descriptor from the host is a way out of the mount namespace (a directory's "..", a
    // read-only file reopened by /proc/self/fd/N for writing): Landlock keeps each to its mode.
    landlock: true,
    // And of the network namespace: a granted IP socket, disconnected, connected anywhere.
    offline: !policy.net,
  });
  // concat, not push(...exec): a program may have 100,000s of arguments, and a spread call passes
  // each on the stack ("Maximum call stack size exceeded").
  return a.concat("--", STAGE_PATH, exec);
}

/** The user's binds as the bwrap jail mounts them, and where the work directory goes. */
export interface BwrapMounts {
  /** Parents first (see jail/bind_mounts.ts). */
  readonly binds: readonly BindMount[];
  /** The directories between a bind and the bind it is in (jail/bind_mounts.ts bindWaypoints). */
  readonly waypoints: readonly Waypoint[];
  /** A bind at /tmp replaces the jail's own /tmp. */
  readonly tmpBound: boolean;
  readonly workdir: string;
  /** The work directory is a directory in the jail's /tmp; otherwise a tmpfs of its own. */
  readonly workdirInTmp: boolean;
  /**
   * Where ww mounts the program's file (programSource) in the jail, if anywhere: at its path,
   * unless a user's bind shows the program there (see showsProgram); then, where that path leads
   * through the host's symlinks, at the program's real path when the jail shows nothing there.
   */
  readonly programAt?: string;
}

/** What planBwrapMounts needs beyond the policy's binds. */
export type BwrapMountInput =
  & Pick<BwrapInput, "host" | "programPath" | "programSource" | "held" | "workdir">
  & {
    /** The host's realpath of a path, or undefined when absent (see mountPointProblem). */
    readonly realOf?: (hostPath: string) => string | undefined;
    /** The symbolic links resolving a host path follows (BwrapFacts.linksOn). */
    readonly linksOn?: (hostPath: string) => readonly string[] | undefined;
  };

/**
 * Places the user's binds (`requests`, sources resolved) among what ww itself mounts in the bwrap
 * jail, or says in one line which bind collides with what. A bind may:
 * - replace the jail's /tmp (`--bind DIR:/tmp`), or go anywhere in it;
 * - go inside a system directory or over a loader file (or their parent, /etc) only to show that
 *   same host path, read-only or writable: anything else would hide or shadow ww's own view;
 * - not touch /proc, /dev, a system symlink such as /bin, ww's stage or the program ww shows,
 *   unless it shows the program's own file there (then ww mounts none of its own).
 * The work directory ($TMPDIR/ww-…) moves to /ww-… when a bind or ww's own mounts hold its place.
 *
 * @example
 * planBwrapMounts([{ flag: "--bind", source: "/d", real: "/d", dest: "/tmp" }], input);
 * // { binds: [{ source: "/d", dest: "/tmp", writable: true }], waypoints: [], tmpBound: true,
 * //   workdir: "/ww-1", workdirInTmp: false, programAt: "/opt/app/run" }
 */
export function planBwrapMounts(
  requests: readonly BindRequest[],
  input: BwrapMountInput,
): BwrapMounts | BwrapMountError {
  const { host } = input;
  const held = input.held;
  // A program needs showing unless the jail's system view has both its file and its path (a link
  // elsewhere to /usr/bin/true needs it: nothing else is at the link's path in the jail).
  const programShown = held
    ? held.how !== "exec"
    : !isVisibleInJail(input.programSource, host) || !systemViewHas(input.programPath, host);
  const clean: BindRequest[] = [];
  for (const r of requests) {
    const dest = cleanDest(r.dest);
    if (typeof dest !== "string") return bindProblem(r, dest.error);
    clean.push({ ...r, dest });
  }
  for (const r of clean) {
    const problem = collision(r, input, programShown);
    if (problem) return bindProblem(r, problem);
  }
  const planned = planBinds(clean);
  if ("error" in planned) return planned;
  const misplaced = mountPointProblem(planned.mounts, input.realOf ?? ((p) => p));
  if (misplaced) return { error: misplaced.why, bind: misplaced.bind, library: misplaced.why };
  const program = programMountPoint(input, programShown, clean, planned.mounts);
  if (typeof program === "object") return program;
  const programAt = program;
  const tmpBound = planned.mounts.some((m) => m.dest === "/tmp");
  const near = (a: string, b: string) => isWithin(a, b) || isWithin(b, a);
  // The work directory must be made where nothing else is: never in a bind (bwrap would create it
  // on the host and leave it there) nor in a read-only system view.
  const taken = (w: string) =>
    planned.mounts.some((m) => near(w, m.dest)) ||
    host.system.some((e) => isWithin(w, e.path)) || host.etc.some((p) => near(w, p)) ||
    ["/proc", "/dev", STAGE_PATH].some((p) => near(w, p)) ||
    (programAt !== undefined && near(w, programAt));
  let workdir = input.workdir;
  if (taken(workdir)) workdir = `/${workdir.slice(workdir.lastIndexOf("/") + 1)}`;
  if (taken(workdir)) {
    return { error: `the work directory ${workdir} collides with a bind; bind elsewhere` };
  }
  const workdirInTmp = !tmpBound && workdir !== "/tmp" && isWithin(workdir, "/tmp");
  return {
    binds: planned.mounts,
    waypoints: bindWaypoints(planned.mounts),
    tmpBound,
    workdir,
    workdirInTmp,
    ...(programAt !== undefined ? { programAt } : {}),
  };
}

/**
 * Why the mounts cannot be planned: `error` in the command line's words; for a failure of one
 * bind, its source (`bind`) and the line in a library caller's words (`library`).
 */
export interface BwrapMountError {
  readonly error: string;
  readonly bind?: string;
  readonly library?: string;
}

/**
 * Where ww mounts the program's file (BwrapMounts.programAt): undefined when the jail shows it
 * already, or an error when a user's bind shows another host path where it must go.
 */
function programMountPoint(
  input: BwrapMountInput,
  programShown: boolean,
  requests: readonly BindRequest[],
  mounts: readonly BindMount[],
): string | undefined | BwrapMountError {
  if (!programShown) return undefined;
  const shown = hostPathAt(input.programPath, mounts);
  if (shown === undefined || input.held) return input.programPath;
  if (shown === input.programSource) return undefined;
  // The bind shows the program's path through symlinks (showsProgram). The jail follows them
  // itself, through its own mounts: each must be shown at its own path, or the jail would reach
  // another file, or none.
  const real = input.programSource;
  const links = input.linksOn?.(input.programPath);
  const astray = links === undefined
    ? input.programPath
    : links.find((l) => !systemViewHas(l, input.host) && hostPathAt(l, mounts) !== l);
  if (astray !== undefined) {
    return bindProblem(
      topAt(input.programPath, requests)!,
      `the program ${input.programPath} is reached through the symbolic link ${astray}, which the jail does not show at its own path (bind it there too, or run ${real})`,
    );
  }
  if (isVisibleInJail(real, input.host)) return undefined;
  const there = hostPathAt(real, mounts);
  if (there === real) return undefined;
  if (there === undefined) return real;
  return bindProblem(
    topAt(real, requests)!,
    `the program ${input.programPath} is a symlink to ${real}, which this bind shows from ${there}; choose another destination`,
  );
}

/** Why bind `r` collides with what ww mounts itself, or undefined. */
function collision(
  r: BindRequest,
  input: BwrapMountInput,
  programShown: boolean,
): string | undefined {
  const d = r.dest;
  if (d === "/") return "cannot bind over the jail's root /";
  if (isWithin(d, "/proc")) return "the jail has its own /proc there; choose another destination";
  if (isWithin(d, "/dev")) {
    return "the jail has its own /dev there (null, zero, full, random, urandom, tty, shm); choose another destination";
  }
  if (isWithin(d, STAGE_PATH)) {
    return `${STAGE_PATH} is ww's stage in the jail; choose another destination`;
  }
  const same = d === r.real;
  for (const e of input.host.system) {
    if (!isWithin(d, e.path)) continue;
    if (e.kind === "symlink") {
      return `${e.path} is a symlink to ${e.target} in the jail; choose another destination`;
    }
    if (!same) {
      return `the jail shows the host's ${e.path} there, read-only; inside it only the same host path may be bound (e.g. ${r.flag} ${d}), or choose another destination`;
    }
  }
  for (const p of input.host.etc) {
    if (!same && (isWithin(d, p) || isWithin(p, d))) {
      return `the jail shows the host's ${p} there (the loader reads it); only the same host path may be bound there, or choose another destination`;
    }
  }
  if (
    programShown && (isWithin(d, input.programPath) || isWithin(input.programPath, d)) &&
    !showsProgram(r, input)
  ) return `ww shows the program at ${input.programPath} there; choose another destination`;
  return undefined;
}

/**
 * Whether bind `r` shows the program's own file at the program's path anyway: the host path it
 * shows there is the program's file, or, for a program run by its host path, leads there through
 * the host's symlinks (a node_modules/.bin/cli in a bound directory). ww mounts nothing over it,
 * and shows the program's real path where the jail does not (programMountPoint).
 */
function showsProgram(r: BindRequest, input: BwrapMountInput): boolean {
  if (!isWithin(input.programPath, r.dest)) return false;
  const through = r.real + input.programPath.slice(r.dest.length);
  if (through === input.programSource) return true;
  return !input.held && input.realOf !== undefined && input.realOf(through) === input.programSource;
}

function plannedOrThrow(input: BwrapInput): BwrapMounts {
  const planned = planBwrapMounts(bindRequests(input.policy, (s) => s), input);
  if ("error" in planned) throw new Error(planned.error);
  return planned;
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
  return {
    supervise: "bwrap",
    parentPid: input.parentPid,
    closeOnExecFrom: input.closeOnExecFrom,
    limits: stageLimits(limits),
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
