// ffi/signal.ts — which signals this process ignores (sigaction(2)), and setting one to be ignored
// (signal(2) with SIG_IGN), for what ww's caller had ignored (`nohup ww run …`): Deno catches
// SIGHUP and SIGINT as soon as any signal listener is added, and then ends ww on them, as their
// default would.

import { lastErrno, libc, openLibrary, SyscallError } from "./libc.ts";

/** SIG_IGN, as a handler's address. */
const SIG_IGN = 1n;
/** struct sigaction (glibc, x86_64 and aarch64): 152 bytes, the handler first. */
const SIGACTION_SIZE = 152;

/**
 * Whether this process ignores signal `sig` now (its disposition is SIG_IGN).
 *
 * @example
 * isIgnored(13); // true under Deno: SIGPIPE
 */
export function isIgnored(sig: number): boolean {
  const old = new Uint8Array(SIGACTION_SIZE);
  if (libc().sigaction(sig, null, old) !== 0) return false;
  return new DataView(old.buffer).getBigUint64(0, true) === SIG_IGN;
}

let library: ReturnType<typeof open> | undefined;

function open() {
  return openLibrary({ signal: { parameters: ["i32", "pointer"], result: "pointer" } });
}

/**
 * Sets signal `sig` to be ignored by this process (and by a child it spawns without resetting it).
 *
 * @example
 * ignoreSignal(1); // SIGHUP
 */
export function ignoreSignal(sig: number): void {
  library ??= open();
  const old = library.signal(sig, Deno.UnsafePointer.create(SIG_IGN));
  // SIG_ERR is (void *) -1.
  if (Deno.UnsafePointer.value(old) === 0xffff_ffff_ffff_ffffn) {
    throw new SyscallError("signal", lastErrno(), `signal ${sig}`);
  }
}
