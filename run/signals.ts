// run/signals.ts — signal names and numbers (Linux, x86_64 and aarch64), and forwarding of the
// signals a supervisor is expected to pass on to its child.

import { ignoreSignal, isIgnored, stopThisProcess, unblockSignals } from "../ffi/signal.ts";
import { ownGroupOrphaned } from "./process_group.ts";

/**
 * Linux signal numbers by name.
 *
 * @example
 * ```ts ignore
 * SIGNALS.SIGTERM; // 15
 * 128 + SIGNALS.SIGKILL; // 137, the exit code of a program killed by SIGKILL
 * ```
 */
export const SIGNALS = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSYS: 31,
} as const;
Object.freeze(SIGNALS);

/**
 * A Linux signal's name, e.g. "SIGTERM".
 *
 * @example
 * ```ts ignore
 * const signal: SignalName = "SIGTERM";
 * child.kill(signal);
 * ```
 */
export type SignalName = keyof typeof SIGNALS;

/**
 * The signals ww passes on to its child. SIGTSTP (Ctrl-Z) stops ww too, once passed on (unless
 * ww's process group is orphaned: see run/process_group.ts), and SIGCONT (`fg`, `bg`) continues
 * the program with ww: a jailed program is in a session of its own, where the terminal's Ctrl-Z
 * does not reach it, and it went on running while its shell said it was stopped.
 */
export const FORWARDED_SIGNALS: readonly (SignalName & Deno.Signal)[] = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGWINCH",
  "SIGTSTP",
  "SIGCONT",
];

/** The forwarded signals that ask for an end: before the program exists, they stop ww. */
export const STOP_SIGNALS: readonly SignalName[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

/** "SIGTERM" for 15, or undefined. */
export function signalName(signal: number): SignalName | undefined {
  return (Object.keys(SIGNALS) as SignalName[]).find((k) => SIGNALS[k] === signal);
}

let callerIgnores: readonly (SignalName & Deno.Signal)[] | undefined;

/**
 * The FORWARDED_SIGNALS this process ignores, as its caller left them (`nohup ww run …` ignores
 * SIGHUP; a shell's background job, SIGINT and SIGQUIT): neither Deno nor ww ignores any of them,
 * and ww forwards none of them, so they stay ignored as they were. Asked once, before ww adds a
 * listener (Deno then catches SIGHUP and SIGINT, whatever they were).
 */
export function callerIgnoredSignals(): readonly (SignalName & Deno.Signal)[] {
  return callerIgnores ??= FORWARDED_SIGNALS.filter((sig) => isIgnored(SIGNALS[sig]));
}

/**
 * What `send` did with a signal, which for SIGTSTP says when ww stops too: sent to the program,
 * going out when the promise resolves (ww stops then: stopWithProgram); "held" for a program
 * being started, which may run before it can be signalled (whoever holds it stops both once it
 * can: ww stopped alone left it running); "none", no program (ww stops at once: nothing can start
 * while it is stopped).
 */
export type Forwarded = Promise<void> | "held" | "none";

/** Counts the stops asked and the SIGCONTs received: a pending stop runs only if it is the last. */
let stopAsked = 0;

/**
 * Passes FORWARDED_SIGNALS received by this process to `send`, but for those its caller had it
 * ignore (callerIgnoredSignals), which it keeps ignoring, as the program does; returns a function
 * that stops. A SIGTSTP stops ww too, as `send`'s answer says.
 */
export function forwardSignals(send: (signal: SignalName) => Forwarded): () => void {
  const ignored = callerIgnoredSignals();
  const forwarded = FORWARDED_SIGNALS.filter((sig) => !ignored.includes(sig));
  // A caller that left them blocked (a supervisor's mask inherited through exec) had them wait
  // unseen in ww: `kill -TERM` ended neither ww nor the program, whose mask is emptied as it
  // starts. A blocked signal is not a choice as an ignored one is (nohup): ww forwards these.
  unblockSignals(forwarded.map((sig) => SIGNALS[sig]));
  const handlers = forwarded.map((sig) => {
    const handler = sig === "SIGTSTP"
      ? () => {
        // As the kernel discards a SIGTSTP that would stop a process of an orphaned group: no
        // shell's job control could continue ww, or the program.
        if (ownGroupOrphaned()) return;
        const forwarded = send(sig);
        if (forwarded === "none") stopThisProcess();
        else if (forwarded !== "held") stopWithProgram(forwarded);
      }
      : sig === "SIGCONT"
      ? () => {
        // A stop still waiting for its signal to go out is over: the kernel, too, discards a
        // pending stop when SIGCONT comes.
        stopAsked++;
        send(sig);
      }
      : () => void send(sig);
    Deno.addSignalListener(sig, handler);
    return [sig, handler] as const;
  });
  // Deno catches SIGHUP and SIGINT once any listener is added, and then ends ww on them: ignored
  // again, as the caller had them (an unjailed program inherits that: launch_direct.ts).
  for (const sig of ignored) ignoreSignal(SIGNALS[sig]);
  return () => {
    for (const [sig, handler] of handlers) Deno.removeSignalListener(sig, handler);
  };
}

/**
 * Stops ww, as a SIGTSTP passed on to the program stops the program: once `sent` (the signal to
 * the program) has gone out, since stopped, ww could not send it (the program's own pid, under a
 * jail, may be a promise away); not in an orphaned process group, where no shell's job control
 * could continue it.
 */
export function stopWithProgram(sent: Promise<void>): void {
  if (ownGroupOrphaned()) return;
  // One stop at a time: the latest asked, unless a SIGCONT came since (a second Ctrl-Z while the
  // first waited stopped ww again after `fg`; a SIGCONT before it went out left ww stopped).
  const asked = ++stopAsked;
  void sent.then(() =>
    setTimeout(() => {
      if (asked === stopAsked) stopThisProcess();
    }, 0)
  );
}
