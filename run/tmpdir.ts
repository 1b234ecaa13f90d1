// run/tmpdir.ts — the caller's TMPDIR, checked once by one rule (core/config.ts workdirParent) for
// every backend: the directory the work directory goes in, or a UsageError naming TMPDIR.

import { workdirParent } from "../core/config.ts";
import { UsageError } from "../core/errors.ts";
import { fileOwner } from "../ffi/stat.ts";

/** The directory work directories are made in; throws a UsageError naming a bad TMPDIR. */
export function workTmpdir(): string {
  const tmpdir = Deno.env.get("TMPDIR");
  const parent = workdirParent(tmpdir);
  if ("error" in parent) throw new UsageError(parent.error);
  // fileOwner (statx through libc), not Deno.statSync, whose first use costs a run ~0.6 ms.
  if (fileOwner(parent.dir)?.isDirectory !== true) {
    throw new UsageError(
      `${
        tmpdir ? `TMPDIR=${tmpdir}` : "/tmp (TMPDIR is unset)"
      }: no such directory (create it, or set TMPDIR to an existing absolute directory)`,
    );
  }
  return parent.dir;
}
