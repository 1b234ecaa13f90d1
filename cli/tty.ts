// cli/tty.ts — whether `ww run` gives the program a terminal of its own (RunConfig.tty), from the
// flags and what ww's stdin and stdout are. Pure.

/** What the command line said: `--tty`, `--no-tty`, or neither (the last one given wins). */
export type TtyFlag = "tty" | "no-tty" | undefined;

/** Whether ww's stdin and stdout are terminals (isatty), and ww in the terminal's foreground. */
export interface TerminalFacts {
  readonly stdin: boolean;
  readonly stdout: boolean;
  /** False for a background job (`ww run … &`); undefined when not known (not terminals). */
  readonly foreground?: boolean;
}

/**
 * `--tty`: always, whatever stdin is (like `docker run -t`: the pty is fed from a pipe or file
 * just as well); `--no-tty`: never; neither: when ww's stdin and stdout are both terminals, as a
 * person at a terminal is, and not when either is redirected (a script, a pipe, a test), nor in a
 * background job (`ww run … &`), which taking the terminal would stop (SIGTTOU) until `fg`.
 *
 * @example
 * wantsTty(undefined, { stdin: true, stdout: true }); // true
 * wantsTty(undefined, { stdin: true, stdout: false }); // false
 * wantsTty(undefined, { stdin: true, stdout: true, foreground: false }); // false
 * wantsTty("tty", { stdin: false, stdout: false }); // true
 */
export function wantsTty(flag: TtyFlag, facts: TerminalFacts): boolean {
  if (flag !== undefined) return flag === "tty";
  return facts.stdin && facts.stdout && facts.foreground !== false;
}
