// run/resolve.ts — finds the file a program name refers to, the way a shell would: a name with a
// slash is a path (relative to the caller's cwd), a name without one is looked up in the caller's
// PATH. The result is an absolute path that the jail can bind and exec. HOST_FS is the host's file
// system as run/view.ts reads it.

import { NotExecutableError, NotFoundError } from "../core/errors.ts";
import { absolutePath } from "../core/path.ts";
import { clipText } from "../core/escape.ts";
import { SyscallError } from "../ffi/libc.ts";
import { EACCES, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, EPERM } from "../ffi/errno.ts";
import { modeKind, statOwner, X_OK } from "../ffi/stat.ts";
import { mayAccess } from "./access.ts";
import type { HostEntry, HostFs } from "./view.ts";
import { callerCwd, callerVariable } from "./caller_env.ts";
import type { RunConfig } from "../core/config.ts";
import { isWithin } from "../jail/binds.ts";

/** Why no backend can start a program with its arguments and environment (E2BIG). */
export const TOO_LARGE =
  "the program's arguments and environment are too large to start it (E2BIG: the kernel takes at most 128 KiB in one string, and about a quarter of the stack limit, 2 MiB by default, in all)";

/**
 * The error for a local program that ww found and that is not there to run after all: gone
 * (`errno` ENOENT, 127) or changed (replaced by a directory, say: another errno's name, 126) as ww
 * started it.
 *
 * @example
 * programGone("prog").message; // "prog: no such file (it went away as ww started it)"
 * programGone("prog", "EISDIR").message; // "prog: it changed as ww started it (EISDIR)"
 */
export function programGone(
  program: string,
  errno = "ENOENT",
): NotFoundError | NotExecutableError {
  return errno === "ENOENT"
    ? new NotFoundError(`${program}: no such file (it went away as ww started it)`)
    : new NotExecutableError(`${program}: it changed as ww started it (${errno})`);
}

/** A path whose `..`, or final `/`, `/.` or `/..`, absolutePath resolves by its text alone. */
const LEXICAL = /(^|\/)\.\.(\/|$)|\/\.?$/;

/** `program` made absolute with nothing taken out of it, for the kernel to resolve. */
function typedPath(program: string, cwd: string): string {
  return program.startsWith("/") ? program : `${cwd}/${program}`;
}

/**
 * The PATH a program's name is looked up in: the program's own when its environment sets one (as
 * env(1) and Deno.Command do), else ww's caller's.
 *
 * @example
 * searchPath({ PATH: "/opt/bin" }, () => "/usr/bin"); // "/opt/bin"
 * searchPath({}, () => "/usr/bin"); // "/usr/bin"
 */
export function searchPath(
  env: Readonly<Record<string, string>>,
  callerPath: () => string = () => callerVariable("PATH") ?? "",
): string {
  // The caller's PATH is read only when the program has none: it may not be UTF-8 text
  // (run/caller_env.ts), which a program given a PATH of its own must not fail on.
  return Object.hasOwn(env, "PATH") ? env.PATH : callerPath();
}

/**
 * The absolute path of a run's local program: `program` resolved from ww's cwd, a name looked up
 * in searchPath(`env`), the program's environment.
 */
export function localProgramPath(program: string, env: Readonly<Record<string, string>>): string {
  // PATH and the cwd are read only when the lookup needs them: either may not be UTF-8 text
  // (run/caller_env.ts), which a run of /bin/true must not fail on.
  const pathVariable = program.includes("/") ? "" : searchPath(env);
  const relative = program.includes("/")
    ? !program.startsWith("/")
    : pathVariable.split(":").some((dir) => !dir.startsWith("/"));
  return resolveProgram(
    program,
    pathVariable,
    relative ? callerCwd() : "/",
    Object.hasOwn(env, "PATH"),
  );
}

/**
 * The absolute path of a run's local program (localProgramPath). One missing here that lies where
 * a bind shows another place in the jail (`--ro-bind data:/data /data/run.sh`, as a container's
 * path would be given) is a NotFoundError that says where ww looks, and names the host path the
 * bind shows there.
 */
export function runProgramPath(config: Pick<RunConfig, "program" | "env" | "jail">): string {
  const { program, jail } = config;
  try {
    return localProgramPath(program, config.env);
  } catch (e) {
    if (!(e instanceof NotFoundError) || !program.startsWith("/")) throw e;
    const bind = [...jail.readOnlyBinds, ...jail.writableBinds]
      .filter((b) => b.source !== b.dest && isWithin(program, b.dest))
      .sort((a, b) => b.dest.length - a.dest.length)[0];
    if (bind === undefined) throw e;
    const hostPath = `${bind.source.replace(/\/$/, "")}${program.slice(bind.dest.length)}`;
    throw new NotFoundError(
      `${program}: no such file on this machine, where ww looks the program up (not in the jail); the bind at ${bind.dest} shows ${hostPath} there: give that path`,
    );
  }
}

/**
 * The fix for a missing local path that was meant as a program from IPFS: `ipfs://<cid>/app` (a
 * gateway's or a browser's URL) and `ipfs/<cid>/app` (the leading slash left out) are local paths
 * to ww, and were refused as "no such file (check the path)", which did not say how IPFS programs
 * are named. Undefined for any other path.
 *
 * @example
 * ipfsSpelling("ipfs://bafy…/app"); // "a program from IPFS is named /ipfs/<cid>[/path]: ww run /ipfs/bafy…/app"
 */
export function ipfsSpelling(program: string): string | undefined {
  const m = /^(ipfs|ipns):?\/+(.+)$/.exec(program);
  if (!m) return undefined;
  const [, namespace, rest] = m;
  const named = namespace === "ipfs" ? "<cid>" : "<name>";
  return `a program from IPFS is named /${namespace}/${named}[/path]: ww run /${namespace}/${rest}`;
}

/**
 * The absolute path of the program to execute (a name looked up in `pathVariable`, a PATH value:
 * searchPath, which is the program's own when `ownPath`), or a NotFound/NotExecutable error.
 */
export function resolveProgram(
  program: string,
  pathVariable: string,
  cwd: string,
  ownPath = false,
): string {
  if (program.includes("/")) {
    const path = absolutePath(cwd, program);
    // Made absolute, the path lost what the kernel reads otherwise: a final `/`, `/.` or `/..`
    // names a directory (ENOTDIR after a file), and `..` goes up from where a link led, not from
    // the link. Where the path has them, it must lead where ww's does, as the kernel resolves it.
    if (LEXICAL.test(program)) {
      const real = HOST_FS.realPath(path);
      if (real !== undefined && HOST_FS.realPath(typedPath(program, cwd)) !== real) {
        throw new NotExecutableError(
          `${program}: not a directory, or not the file ${path} (give the program's own path)`,
        );
      }
    }
    const problem = executableProblem(path);
    if (problem === "missing") {
      const entry = HOST_FS.entry(path);
      throw new NotFoundError(
        entry.kind === "symlink"
          ? `${program}: a symbolic link to ${entry.target}, which leads to no file (fix or remove the link, or give the program's own path)`
          : `${program}: no such file (${ipfsSpelling(program) ?? "check the path"})`,
      );
    }
    if (problem) throw new NotExecutableError(`${program}: ${problem}`);
    return path;
  }
  // Joined to a PATH entry, `.` and `..` name that entry or its parent: a directory, whichever.
  if (program === "." || program === "..") {
    throw new NotExecutableError(
      `${program}: is a directory, not a program (give the program's path, e.g. ./prog)`,
    );
  }
  let firstProblem: { path: string; problem: string } | undefined;
  for (const dir of pathVariable.split(":")) {
    // An empty PATH entry means the current directory (POSIX).
    const path = absolutePath(cwd, `${dir || "."}/${program}`);
    const problem = executableProblem(path);
    if (!problem) return path;
    if (problem !== "missing") firstProblem ??= { path, problem };
  }
  if (firstProblem) {
    throw new NotExecutableError(`${program}: ${firstProblem.path}: ${firstProblem.problem}`);
  }
  // The program's own PATH is not the one its caller knows: which one was searched is said.
  const which = ownPath ? "the program's own PATH" : "PATH";
  const where = pathVariable === ""
    ? `: ${which} is empty${ownPath ? "" : " or not set"}`
    : ` in ${ownPath ? `${which}, ${clipText(pathVariable, 200)}` : which}`;
  // A system directory's copy is the likeliest path meant; else a file of that name in the cwd
  // (statx of `./name`, so a cwd that is not UTF-8 text is never read); else the name itself is
  // likely wrong: `ww run lss` was told to give `./lss`, a file that does not exist either.
  const example = SYSTEM_BIN.map((dir) => `${dir}/${program}`).find((p) => !executableProblem(p)) ??
    (isFile(`./${program}`) ? `./${program}` : undefined);
  const fix = example === undefined
    ? "check its name, or give its path"
    : `give a path with a slash, e.g. ${example}`;
  throw new NotFoundError(`${program}: not found${where} (${fix})`);
}

/** Whether `path` is a regular file (after links), however its modes are. */
function isFile(path: string): boolean {
  const info = statOwner(path);
  return !("errno" in info) && modeKind(info.mode) === "file";
}

/** Where a program a PATH did not have is looked for, to be named as an example. */
const SYSTEM_BIN = ["/usr/local/bin", "/usr/bin", "/bin"];

/** "missing", a reason it cannot be executed, or undefined when it looks executable. */
function executableProblem(path: string): string | undefined {
  // statx through libc, not Deno.statSync: its first use costs a run ~0.6 ms (ffi/stat.ts).
  const info = statOwner(path);
  if ("errno" in info) {
    if (info.errno === ENOENT || info.errno === ENOTDIR) return "missing";
    if (info.errno === EACCES || info.errno === EPERM) {
      return "permission denied (ww may not search a directory on its path: check the directories' modes)";
    }
    if (info.errno === ELOOP) {
      return "too many levels of symbolic links (a loop: fix or remove a link on its path, or give the program's own path)";
    }
    if (info.errno === ENAMETOOLONG) {
      return "its path is too long (give a shorter one, e.g. relative to a directory nearer the program)";
    }
    throw new SyscallError("statx", info.errno, path);
  }
  const kind = modeKind(info.mode);
  if (kind === "dir") return "is a directory, not a program (give the program's path)";
  if (kind !== "file") return "is not a regular file (give the program's path)";
  // As the kernel checks ww's own ids: the effective uid and gid, every supplementary group, ACLs.
  return mayAccess(path, info, X_OK, "ww")
    ? undefined
    : "permission denied (not executable; try chmod +x)";
}

/**
 * The host's file system for run/view.ts. An entry ww may not inspect counts as missing: what ww
 * cannot see, it does not start.
 */
export const HOST_FS: HostFs = {
  entry(path: string): HostEntry {
    try {
      const info = Deno.lstatSync(path);
      if (info.isSymlink) return { kind: "symlink", target: Deno.readLinkSync(path) };
      return { kind: info.isFile ? "file" : info.isDirectory ? "dir" : "other" };
    } catch {
      return { kind: "missing" };
    }
  },
  realPath(path: string): string | undefined {
    try {
      return Deno.realPathSync(path);
    } catch {
      return undefined;
    }
  },
};
