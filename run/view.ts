// run/view.ts — what a jail shows of the host, and where a path that a jailed program names leads
// in it. Pure: the host's file system is read through a HostFs the caller passes.
//
// A program started through Executor.start names its program as it sees it, from inside its own
// jail. ww must find that file in the same view, not in its own: a path the guest's jail never
// showed (one relative to ww's cwd, /usr/../some/host/dir/prog, a symlink pointing out of a bind)
// would otherwise be bound into the new program's jail, widening what the guest can reach.

import { ETC_FILES, NET_ETC_FILES, SYSTEM_DIRS } from "../jail/system_files.ts";
import type { JailPolicy } from "../jail/policy.ts";

/** One thing a jail shows at `dest`, applied in order: a later one covers an earlier one. */
export type ViewMount =
  /**
   * The host's `source` (a file or directory, symlinks in it followed on the host). `resolved`:
   * `source` is the real path the jail was made with, taken as is (the program's own file: a
   * guest that can write where it lies may have put a symlink there since).
   */
  | { readonly dest: string; readonly source: string; readonly resolved?: true }
  /** Something of the jail's own that is no file of the host (/proc, /dev, a private /tmp). */
  | { readonly dest: string; readonly own: string };

/** What a jail shows, in the order it is set up. Nothing else is reachable. */
export interface JailView {
  readonly mounts: readonly ViewMount[];
}

/** What a path is on the host, without following a final symlink. */
export type HostEntry =
  | { readonly kind: "file" | "dir" | "other" | "missing" }
  | { readonly kind: "symlink"; readonly target: string };

/** The host's file system, as far as resolution needs it. */
export interface HostFs {
  /** lstat(2), and readlink(2) for a symlink. */
  entry(path: string): HostEntry;
  /** realpath(3), or undefined when the path does not exist. */
  realPath(path: string): string | undefined;
}

/**
 * A program found in a view: where the jail shows it, and the host file that is.
 *
 * @example
 * ```ts ignore
 * child.program; // { path: "/usr/bin/python3", source: "/usr/bin/python3.12" }
 * ```
 */
export interface ViewPath {
  /** Absolute and normalised, as the jail shows it. */
  readonly path: string;
  /** The host file: its real path (no symlink on it), when resolveInView found it. */
  readonly source: string;
}

/** Symlinks followed in one resolution before giving up, as the kernel does (ELOOP). */
const MAX_LINKS = 40;

/**
 * The view of a program run with `policy` under `backend`, whose own program is shown at
 * `program.path` (from the host's `program.source`, the real path it was started from; absent for
 * a program from IPFS, which is no host file). bwrap: the system directories and loader files, its own /proc, /dev and /tmp (the
 * work directory is in it), the binds (read-only ones first, as jail/bwrap.ts applies them), the
 * program. native: the same host paths at their own place (binds cannot move), and /proc, /dev
 * of its own (the work directory is not shown: it is the jail's own). none: the whole host but
 * /proc, which ww would read as its own.
 *
 * @example
 * jailView("bwrap", DEFAULT_POLICY, { path: "/usr/bin/app", source: "/usr/bin/app" }).mounts[0];
 * // { dest: "/usr", source: "/usr" }
 */
export function jailView(
  backend: "bwrap" | "native" | "none",
  policy: JailPolicy,
  program?: ViewPath,
): JailView {
  if (backend === "none") {
    // ww's /proc/self is not the program's: nothing under /proc is resolved on the host.
    return { mounts: [{ dest: "/", source: "/" }, { dest: "/proc", own: "/proc" }] };
  }
  const mounts: ViewMount[] = [];
  const etc = policy.net ? [...ETC_FILES, ...NET_ETC_FILES] : ETC_FILES;
  for (const path of [...SYSTEM_DIRS, ...etc]) mounts.push({ dest: path, source: path });
  mounts.push({ dest: "/proc", own: "/proc" }, { dest: "/dev", own: "/dev" });
  if (backend === "bwrap") mounts.push({ dest: "/tmp", own: "private /tmp" });
  for (const b of [...policy.readOnlyBinds, ...policy.writableBinds]) {
    mounts.push({ dest: backend === "bwrap" ? b.dest : b.source, source: b.source });
  }
  if (program) mounts.push({ dest: program.path, source: program.source, resolved: true });
  return { mounts };
}

/** Splits an absolute or relative path into its non-empty segments. */
function segments(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

/** The longest path the kernel takes, in bytes without its NUL (linux/limits.h PATH_MAX - 1). */
const PATH_MAX = 4095;
/** The longest argument or variable execve(2) takes, NUL included (linux/binfmts.h). */
const MAX_ARG_STRLEN = 131072;

/**
 * Where absolute `path` leads in `view`: the file it names as the jail shows it, after `.`, `..`
 * and every symlink (followed within the view, as the kernel would inside the jail), and the host
 * file behind it. An error (a one-line message naming `path`) when it leaves what the view shows,
 * is relative, does not exist, or is not a file.
 *
 * @example
 * resolveInView("/usr/../home/u/prog", view, fs);
 * // { error: "/usr/../home/u/prog: /home/u/prog is not shown in the program's jail" }
 */
export function resolveInView(
  path: string,
  view: JailView,
  fs: HostFs,
): ViewPath | { error: string } {
  if (!path.startsWith("/")) {
    return {
      error: `${path}: not an absolute path (name the program by its full path in the jail)`,
    };
  }
  // Longer, the kernel refuses it (ENAMETOOLONG); and the walk below is no place for megabytes.
  const bytes = new TextEncoder().encode(path).length;
  if (bytes > PATH_MAX) {
    return {
      error: `${
        path.slice(0, 40)
      }…: a path of ${bytes} bytes; the kernel takes at most ${PATH_MAX}`,
    };
  }
  const fail = (why: string) => ({ error: `${path}: ${why}` });
  const done: string[] = [];
  let todo = segments(path);
  let links = 0;
  /** The host file behind `done`; undefined at a directory the jail only makes to hold a mount. */
  let host = hostOf(done, view, fs);
  while (todo.length > 0) {
    const part = todo.shift()!;
    if (part === ".") continue;
    if (part === "..") {
      done.pop();
      host = hostOf(done, view, fs);
      continue;
    }
    done.push(part);
    const here = `/${done.join("/")}`;
    const mount = covering(here, view);
    // A directory the jail makes (in its root, or in its own /tmp) to hold a mount beneath it.
    const holds = view.mounts.some((m) => m.dest.startsWith(`${here}/`));
    if (mount === undefined || ("own" in mount && holds && todo.length > 0)) {
      if (!holds) return fail(`${here} is not shown in the program's jail`);
      host = undefined;
      continue;
    }
    if ("own" in mount) {
      return fail(`${here} is the jail's own ${mount.own}, not a host file ww can start`);
    }
    let entry: HostEntry;
    if (mount.dest === here) {
      // A jail shows a mount's source with its symlinks followed on the host (bwrap binds the
      // resolved path; a Landlock rule names the resolved inode).
      const real = mount.resolved ? mount.source : fs.realPath(mount.source);
      if (real === undefined) return fail(`${here} does not exist in the program's jail`);
      host = real;
      entry = fs.entry(host);
      if (mount.resolved && entry.kind === "symlink") {
        return fail(
          `its host file ${real} was replaced by a symlink since its jail was made`,
        );
      }
    } else {
      host = join(host!, part);
      entry = fs.entry(host);
      if (entry.kind === "symlink") {
        if (++links > MAX_LINKS) {
          return fail(
            "too many levels of symbolic links (a loop: name the program by its own path)",
          );
        }
        done.pop();
        if (entry.target.startsWith("/")) done.length = 0;
        todo = [...segments(entry.target), ...todo];
        host = hostOf(done, view, fs);
        continue;
      }
    }
    if (entry.kind === "missing") return fail(`${here} does not exist in the program's jail`);
    if (todo.length > 0 && entry.kind !== "dir") return fail(`${here} is not a directory`);
  }
  const jailPath = `/${done.join("/")}`;
  const kind = host === undefined ? "dir" : fs.entry(host).kind;
  if (kind === "dir") return fail(`${jailPath} is a directory, not a program`);
  if (kind !== "file") return fail(`${jailPath} is not a regular file`);
  return { path: jailPath, source: host! };
}

/** `dir`/`name`, for an absolute `dir`. */
function join(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

/** The last mount in `view` whose dest is `path` or one of its ancestors. */
function covering(path: string, view: JailView): ViewMount | undefined {
  return view.mounts.findLast((m) =>
    m.dest === "/" || path === m.dest || path.startsWith(`${m.dest}/`)
  );
}

/**
 * The host directory behind the jail path `done` (already resolved, so free of symlinks), or
 * undefined for one the jail only makes to hold a mount (or the root).
 */
function hostOf(done: readonly string[], view: JailView, fs: HostFs): string | undefined {
  const here = `/${done.join("/")}`;
  const mount = covering(here, view);
  if (mount === undefined || "own" in mount) return undefined;
  const root = mount.resolved ? mount.source : fs.realPath(mount.source);
  if (root === undefined) return undefined;
  const rest = here.slice(mount.dest === "/" ? 0 : mount.dest.length);
  return rest === "" ? root : `${root === "/" ? "" : root}${rest}`;
}

/**
 * The program a jailed program names for Executor.start: an absolute path resolved in its view
 * (resolveInView), or a name without a slash looked up in `searchPath` (its own PATH, as given
 * to it), each absolute entry resolved in the view. Relative paths are refused: ww does not know
 * the program's working directory.
 *
 * @example
 * resolveGuestProgram("env", view, "/usr/bin:/bin", fs); // { path: "/usr/bin/env", ... }
 */
export function resolveGuestProgram(
  program: string,
  view: JailView,
  searchPath: string | undefined,
  fs: HostFs,
): ViewPath | { error: string } {
  if (program === "") return { error: "the program name is empty" };
  // As a run's own program (core/config.ts): the error quoted the name, its NUL and all.
  if (program.includes("\0")) return { error: "program: contains a NUL byte" };
  if (program.includes("/")) return resolveInView(program, view, fs);
  // Longer, execve refuses the variable itself (E2BIG); and each entry is a walk.
  const pathBytes = new TextEncoder().encode(searchPath ?? "").length;
  if (pathBytes > MAX_ARG_STRLEN) {
    return {
      error: `${
        program.slice(0, 40)
      }: its PATH has ${pathBytes} bytes; execve takes at most ${MAX_ARG_STRLEN} in one variable`,
    };
  }
  const dirs = (searchPath ?? "").split(":").filter((d) => d.startsWith("/"));
  for (const dir of dirs) {
    const found = resolveInView(`${dir}/${program}`, view, fs);
    if (!("error" in found)) return found;
  }
  return {
    error: dirs.length === 0
      ? `${program}: the program has no PATH to look it up in (name it by its full path)`
      : `${program}: not found in the program's PATH in its jail (${dirs.join(":")})`,
  };
}

/**
 * The guest's error when ww could not open, exactly where resolveInView found it, the program
 * it found at jail path `path` (run/guest_program.ts openGuestProgram opens `source` refusing every
 * symlink): `errno` is the open's error name, or "not-file" for something else than a regular
 * file. A symlink or a move there means the path changed after ww checked it: ww starts only
 * the file it checked, so it starts nothing.
 *
 * @example
 * guestOpenError("/data/app", "ELOOP");
 * // "/data/app: a symlink replaced part of its path while ww checked it; nothing was started"
 */
export function guestOpenError(path: string, errno: string): string {
  switch (errno) {
    case "ELOOP":
      return `${path}: a symlink replaced part of its path while ww checked it; nothing was started`;
    case "ENOENT":
    case "ENOTDIR":
      return `${path}: it was moved or removed while ww checked it; nothing was started`;
    case "not-file":
      return `${path}: it was replaced by something other than a file while ww checked it; nothing was started`;
    case "EACCES":
      return `${path}: ww cannot read it, and starts a program for a jailed program only from the file it opened and checked (make it readable)`;
    default:
      return `${path}: ww could not open it (${errno}); nothing was started`;
  }
}
