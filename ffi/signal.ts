// ffi/signal.ts — which signals this process ignores, and setting one to be ignored, both by
// sigaction(2), for what ww's caller had ignored (`nohup ww run …`): Deno catches SIGHUP and
// SIGINT as soon as any signal listener is added, and then ends ww on them, as their default would.
// And stopping this process, as SIGTSTP's default would, once ww has caught it and passed it on.

import { check, libc } from "./libc.ts";

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

/** SIGSTOP, which no process can catch or ignore. */
const SIGSTOP = 19;

/**
 * Stops this process until a SIGCONT, as the default action of SIGTSTP (Ctrl-Z) would have: ww
 * catches SIGTSTP to pass it on to its program first.
 */
export function stopThisProcess(): void {
  check("kill", libc().kill(Deno.pid, SIGSTOP), "SIGSTOP to ww itself");
}
