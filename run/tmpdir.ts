// run/tmpdir.ts — the caller's TMPDIR, checked once by one rule (core/config.ts workdirParent) for
// every backend: the directory the work directory goes in, or a UsageError naming TMPDIR.

import { workdirParent } from "../core/config.ts";
import { UsageError } from "../core/errors.ts";
import { directoryProblem } from "./directory.ts";
import { callerVariable, callerVariableIfText } from "./caller_env.ts";

/** The directory work directories are made in; throws a UsageError naming a bad TMPDIR. */
export function workTmpdir(): string {
  return checkedTmpdir(callerVariable("TMPDIR"));
}

/**
 * The directory `tmpdir` (TMPDIR's value, the caller's) names, by workTmpdir's rule: for what
 * else ww makes there (a --deno guest's bundle); a UsageError naming TMPDIR when it names none.
 */
export function checkedTmpdir(tmpdir: string | undefined): string {
  const parent = workdirParent(tmpdir);
  if ("error" in parent) throw new UsageError(parent.error);
  // statx through libc, not Deno.statSync, whose first use costs a run ~0.6 ms.
  const why = directoryProblem(parent.dir, "no such directory");
  if (why) {
    throw new UsageError(
      `${tmpdirName()}: ${why} (create it, or set TMPDIR to an existing absolute directory)`,
    );
  }
  return parent.dir;
}

/**
 * The error for a work directory that cannot be made in TMPDIR (`why`: the errno's name, say), as
 * for a TMPDIR that is no directory: one line that names TMPDIR, exit 125.
 */
export function workdirRefused(why: string): UsageError {
  return new UsageError(
    `${tmpdirName()}: cannot make the work directory there (${why}; set TMPDIR to a directory ww and the jail's user can write)`,
  );
}

/** TMPDIR as the caller set it, for messages. */
function tmpdirName(): string {
  const tmpdir = callerVariableIfText("TMPDIR");
  return tmpdir ? `TMPDIR=${tmpdir}` : "/tmp (TMPDIR is unset)";
}
