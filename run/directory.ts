// run/directory.ts — why a path ww is to use as a directory (a --chdir, TMPDIR) is none, in words
// that follow its name. Static, and small: every run checks TMPDIR.

import { ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, errnoName } from "../ffi/errno.ts";
import { modeKind, statOwner } from "../ffi/stat.ts";
import { CwdError } from "../core/errors.ts";

/**
 * Why `path` (a --chdir, TMPDIR) is no directory ww can use, in words that follow its name, or
 * undefined: `missing` when there is nothing there; a file, or a file on its path; a link loop; a
 * path too long; or an errno that kept ww from looking.
 *
 * @example
 * directoryProblem("/etc/hostname", "no such directory"); // "not a directory"
 */
export function directoryProblem(path: string, missing: string): string | undefined {
  const info = statOwner(path);
  if (!("errno" in info)) return modeKind(info.mode) === "dir" ? undefined : "not a directory";
  switch (info.errno) {
    case ENOENT:
      return missing;
    case ENOTDIR:
      return "not a directory (a part of its path is a file)";
    case ELOOP:
      return "too many levels of symbolic links (a loop)";
    case ENAMETOOLONG:
      return "its path is too long";
    default:
      return `cannot reach it (${errnoName(info.errno)})`;
  }
}

/** directoryProblem's `missing` for a run's --chdir (cwd): what is not there, and what to do. */
export const NO_SUCH_CWD =
  "no such directory on this machine (make it first, or give one that exists)";

/**
 * Why `chdir`, a run's --chdir (cwd), is no directory on this machine, with what to do; undefined
 * when it is one. A file there said only "not a directory".
 *
 * @example
 * cwdProblem("/etc/hostname"); // "not a directory; give the directory the program is to start in"
 */
export function cwdProblem(chdir: string): string | undefined {
  const why = directoryProblem(chdir, NO_SUCH_CWD);
  return why === undefined || why === NO_SUCH_CWD
    ? why
    : `${why}; give the directory the program is to start in`;
}

/**
 * The error for a --chdir (cwd) `dir` the jail's user cannot enter in `backend`'s jail, `why` the
 * kernel's word for it: the stage's chdir step (native), or bwrap's own (run/launch_bwrap.ts).
 */
export function cannotEnterCwd(dir: string, backend: "native" | "bwrap", why: string): CwdError {
  const line =
    `the program cannot enter it in the ${backend} jail (${why}; choose a directory the jail's user can enter)`;
  return CwdError.because(dir, line);
}
