// ffi/signal.ts — which signals this process ignores, and setting one to be ignored, both by
// sigaction(2), for what ww's caller had ignored (`nohup ww run …`): Deno catches SIGHUP and
// SIGINT as soon as any signal listener is added, and then ends ww on them, as their default would.
// And stopping this process, as SIGTSTP's default would, once ww has caught it and passed it on;
// and unblocking the signals ww forwards, which a caller may have left blocked.

import { check, libc, SyscallError } from "./libc.ts";

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

/**
 * Sets signal `sig` to be ignored by this process (and by a child it spawns without resetting it).
 *
 * @example
 * ignoreSignal(1); // SIGHUP
 */
export function ignoreSignal(sig: number): void {
  // The handler SIG_IGN, an empty mask, no flags.
  const act = new Uint8Array(SIGACTION_SIZE);
  new DataView(act.buffer).setBigUint64(0, SIG_IGN, true);
  check(
    "sigaction",
    libc().sigaction(sig, Deno.UnsafePointer.of(act), new Uint8Array(SIGACTION_SIZE)),
    `signal ${sig}`,
  );
}

/** pthread_sigmask's `how` that takes signals out of the mask. */
const SIG_UNBLOCK = 1;

/**
 * Takes signals `sigs` out of the signal mask of the calling thread, ww's main thread, which a
 * caller's blocked mask is inherited into (every thread Deno started keeps it): a signal sent to
 * the process then reaches it there, and Deno's handler, as unblocked.
 *
 * @example
 * unblockSignals([15, 2]); // SIGTERM, SIGINT
 */
export function unblockSignals(sigs: readonly number[]): void {
  // glibc's sigset_t: signal N at bit N-1, 1024 bits; the first word holds signals 1 to 64.
  const set = new BigUint64Array(16);
  for (const sig of sigs) set[0] |= 1n << BigInt(sig - 1);
  // pthread_sigmask returns its error, not -1 and errno.
  const err = libc().pthread_sigmask(SIG_UNBLOCK, new Uint8Array(set.buffer), new Uint8Array(128));
  if (err !== 0) throw new SyscallError("pthread_sigmask", err, `unblock ${sigs.join(", ")}`);
}

/** SIGSTOP, which no process can catch or ignore. */
const SIGSTOP = 19;

/**
 * Stops this process until a SIGCONT, as the default action of SIGTSTP (Ctrl-Z) would have: ww
 * catches SIGTSTP to pass it on to its program first.
 */
export function stopThisProcess(): void {
  check("kill", libc().kill(Deno.pid, SIGSTOP), "SIGSTOP to ww itself");
}
