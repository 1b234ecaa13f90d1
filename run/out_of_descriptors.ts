// run/out_of_descriptors.ts — a failure of ww's own for want of file descriptors (EMFILE: ww's
// open-file limit; ENFILE: the system's), said as what it is and how to fix it, not as an internal
// error: whichever of ww's calls met the limit first (a socketpair, a pipe, a pidfd, a file Deno
// opened) says nothing more useful.

import { SetupError } from "../core/errors.ts";
import { SyscallError } from "../ffi/libc.ts";

/** Deno's text for EMFILE and ENFILE in the errors of its own calls. */
const DENO_EMFILE = /\(os error 24\)/;
const DENO_ENFILE = /\(os error 23\)/;

/**
 * The SetupError for `e` when it is a failure for want of descriptors; undefined otherwise.
 *
 * @example
 * outOfDescriptors(new SyscallError("pipe2", 24))?.message;
 * // "out of file descriptors (pipe2: EMFILE): raise ww's open-file limit (ulimit -n)"
 */
export function outOfDescriptors(e: unknown): SetupError | undefined {
  const emfile = e instanceof SyscallError
    ? e.code === "EMFILE"
    : e instanceof Error && DENO_EMFILE.test(e.message);
  const enfile = e instanceof SyscallError
    ? e.code === "ENFILE"
    : e instanceof Error && DENO_ENFILE.test(e.message);
  if (!emfile && !enfile) return undefined;
  const what = e instanceof SyscallError ? e.message : "EMFILE";
  return new SetupError(
    emfile
      ? `out of file descriptors (${what}): raise ww's open-file limit (ulimit -n)`
      : `the system is out of file descriptors (${
        e instanceof SyscallError ? e.message : "ENFILE"
      }): its open-file table is full (fs.file-max)`,
    { cause: e },
  );
}
