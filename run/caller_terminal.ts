// run/caller_terminal.ts — the caller's own terminal when a program shares it (its fd 0, 1 or 2
// is ww's, and no terminal of its own was asked for: `ww run prog > out.txt` at a prompt): the
// jail cannot stop the program from changing its mode (seccomp refuses only TIOCSTI and
// TIOCLINUX), so ww takes the mode before the program starts and gives it back when the run ends,
// as it does for its own raw mode under --tty. A terminal left raw, without echo, stayed so.

import { setTerminalMode, type TerminalMode, terminalMode } from "../ffi/tty.ts";
import type { Cleanups } from "./launch.ts";

/** ww's own fd 0-2, as Deno tells whether each is a terminal (no FFI for a run without one). */
const OWN = [Deno.stdin, Deno.stdout, Deno.stderr];

/**
 * Takes the mode of each of ww's terminals among the program's fd 0-2 (`stdio[i]` undefined: the
 * program gets ww's fd i) and gives it back by `cleanups`, or when Deno exits first.
 */
export function keepCallerTerminalModes(
  stdio: readonly (number | undefined)[],
  cleanups: Cleanups,
): void {
  const saved: [number, TerminalMode][] = [];
  for (let fd = 0; fd < 3; fd++) {
    if (stdio[fd] !== undefined || !OWN[fd].isTerminal()) continue;
    try {
      saved.push([fd, terminalMode(fd)]);
    } catch { /* a terminal whose mode cannot be read stays as it is */ }
  }
  if (saved.length === 0) return;
  const restore = () => {
    globalThis.removeEventListener("unload", restore);
    for (const [fd, mode] of saved.splice(0)) {
      try {
        setTerminalMode(fd, mode);
      } catch { /* the terminal is gone (hung up): nothing to give back */ }
    }
  };
  globalThis.addEventListener("unload", restore);
  cleanups.add(restore);
}
