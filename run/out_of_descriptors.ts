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
  const kind = shortageOf(e);
  if (kind === undefined) return undefined;
  // ww's own call names itself ("pipe2: EMFILE"); Deno's says only the errno.
  const what = e instanceof SyscallError ? e.message : kind;
  return new SetupError(
    kind === "EMFILE"
      ? `out of file descriptors (${what}): raise ww's open-file limit (ulimit -n)`
      : `the system is out of file descriptors (${what}): its open-file table is full (fs.file-max)`,
    { cause: e },
  );
}

/** Which shortage `e` is, if any: EMFILE (ww's limit) or ENFILE (the system's). */
function shortageOf(e: unknown): "EMFILE" | "ENFILE" | undefined {
  if (e instanceof SyscallError) {
    return e.code === "EMFILE" || e.code === "ENFILE" ? e.code : undefined;
  }
  if (!(e instanceof Error)) return undefined;
  return DENO_EMFILE.test(e.message)
    ? "EMFILE"
    : DENO_ENFILE.test(e.message)
    ? "ENFILE"
    : undefined;
}
