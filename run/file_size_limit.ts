// run/file_size_limit.ts — ww's own writes past its file-size limit (RLIMIT_FSIZE, `ulimit -f`):
// the stage's memfd, a --deno guest's bundle, the IPFS cache. By default the kernel kills the
// writer with SIGXFSZ, and ww died silently, exit 153, the code of a program killed by that
// signal, leaving its work directory behind. ww ignores SIGXFSZ, so the write fails with EFBIG
// instead, and the failure is said as what it is, with the fix. The program gets SIGXFSZ's default
// back, with the caller's limit: the stage and ffi/spawn.ts reset every disposition it does not keep.

import { SetupError, WwError } from "../core/errors.ts";
import { SyscallError } from "../ffi/libc.ts";
import { ignoreSignal } from "../ffi/signal.ts";
import { SIGNALS } from "./signals.ts";

/** Deno's text for EFBIG in the errors of its own calls. */
const DENO_EFBIG = /\(os error 27\)/;

/**
 * Makes a write of ww's past its file-size limit fail with EFBIG, which overFileSizeLimit names,
 * rather than kill ww.
 */
export function failWritesPastFileSizeLimit(): void {
  ignoreSignal(SIGNALS.SIGXFSZ);
}

/**
 * The SetupError for `e` when it is a write past ww's file-size limit (EFBIG); undefined
 * otherwise.
 *
 * @example
 * overFileSizeLimit(new SyscallError("write", 27, "fd 30"))?.message;
 * // "a file ww writes is larger than its file-size limit (write (fd 30): EFBIG): raise the limit (ulimit -f unlimited)"
 */
export function overFileSizeLimit(e: unknown): SetupError | undefined {
  const what = e instanceof SyscallError
    ? e.code === "EFBIG" ? e.message : undefined
    // A WwError says it already, in the words of what failed (a --deno guest's bundling).
    : e instanceof Error && !(e instanceof WwError) && DENO_EFBIG.test(e.message)
    ? e.message.replace(/ \(os error 27\)/, " (EFBIG)")
    : undefined;
  if (what === undefined) return undefined;
  return new SetupError(
    `a file ww writes is larger than its file-size limit (${what}): raise the limit (ulimit -f unlimited)`,
    { cause: e },
  );
}
