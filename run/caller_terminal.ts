// run/caller_terminal.ts — the caller's own terminal when a program shares it (its fd 0, 1 or 2
// is ww's, and no terminal of its own was asked for: `ww run prog > out.txt` at a prompt): the
// jail cannot stop the program from changing its mode (seccomp refuses only TIOCSTI and
// TIOCLINUX), so ww takes the mode before the program starts and gives it back when the run ends,
// as it does for its own raw mode under --tty. A terminal left raw, without echo, stayed so.

import { foregroundGroup, setTerminalMode, type TerminalMode, terminalMode } from "../ffi/tty.ts";
import type { Cleanups } from "./launch.ts";

/** ww's own fd 0-2, as Deno tells whether each is a terminal (no FFI for a run without one). */
const OWN = [Deno.stdin, Deno.stdout, Deno.stderr];

/**
 * For each of ww's terminals that runs share with their programs: the mode it had before the
 * first of them started, and how many are running. Overlapping runs give the mode back once, when
 * the last ends (each giving back its own saw a later run restore what an earlier program left).
 */
const shared = new Map<number, { mode: TerminalMode; runs: number }>();

/**
 * Takes the mode of each of ww's terminals among the program's fd 0-2 (`stdio[i]` undefined: the
 * program gets ww's fd i) and gives it back by `cleanups`, or when Deno exits first.
 */
export function keepCallerTerminalModes(
  stdio: readonly (number | undefined)[],
  cleanups: Cleanups,
): void {
  const held: number[] = [];
  for (let fd = 0; fd < 3; fd++) {
    if (stdio[fd] !== undefined || !OWN[fd].isTerminal()) continue;
    const entry = shared.get(fd);
    if (entry) {
      entry.runs++;
    } else {
      try {
        shared.set(fd, { mode: terminalMode(fd), runs: 1 });
      } catch {
        continue; // a terminal whose mode cannot be read stays as it is
      }
    }
    held.push(fd);
  }
  if (held.length === 0) return;
  const release = () => {
    globalThis.removeEventListener("unload", release);
    for (const fd of held.splice(0)) {
      const entry = shared.get(fd)!;
      if (--entry.runs > 0) continue;
      shared.delete(fd);
      giveBack(fd, entry.mode);
    }
  };
  globalThis.addEventListener("unload", release);
  cleanups.add(release);
}

/**
 * Sets `fd`'s mode back to `mode` when the program changed it, and only from the terminal's
 * foreground: from a background job, tcsetattr stops ww (SIGTTOU), and the terminal is the
 * foreground job's to set.
 */
function giveBack(fd: number, mode: TerminalMode): void {
  try {
    const now = terminalMode(fd);
    if (now.every((b, i) => b === mode[i])) return;
    if (foregroundGroup(fd) !== ownGroup()) return;
    setTerminalMode(fd, mode);
  } catch { /* the terminal is gone (hung up): nothing to give back */ }
}

/** ww's own process group (/proc/self/stat's fifth field). */
function ownGroup(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
}
