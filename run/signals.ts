// run/signals.ts — signal names and numbers (Linux, x86_64 and aarch64), and forwarding of the
// signals a supervisor is expected to pass on to its child.

/** Linux signal numbers by name. */
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

/** A signal's name as kill() takes it and ExitStatus reports it: "SIGTERM", "SIGKILL", ... */
export type SignalName = keyof typeof SIGNALS;

/** The signals ww passes on to its child. */
export const FORWARDED_SIGNALS: readonly (SignalName & Deno.Signal)[] = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGWINCH",
];

/** The forwarded signals that ask for an end: before the program exists, they stop ww. */
export const STOP_SIGNALS: readonly SignalName[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

/** "SIGTERM" for 15, or undefined. */
export function signalName(signal: number): SignalName | undefined {
  return (Object.keys(SIGNALS) as SignalName[]).find((k) => SIGNALS[k] === signal);
}

/**
 * Passes FORWARDED_SIGNALS received by this process to `send`; returns a function that stops.
 */
export function forwardSignals(send: (signal: SignalName) => void): () => void {
  const handlers = FORWARDED_SIGNALS.map((sig) => {
    const handler = () => send(sig);
    Deno.addSignalListener(sig, handler);
    return [sig, handler] as const;
  });
  return () => {
    for (const [sig, handler] of handlers) Deno.removeSignalListener(sig, handler);
  };
}
