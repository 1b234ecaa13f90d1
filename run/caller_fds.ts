// run/caller_fds.ts — the caller's descriptors that a program shares: those of ww's fd 0-2 it is
// given (or, from the library, the descriptors given as its stdio), and the caller's descriptors
// granted to it. The program holds the caller's open file descriptions themselves, so what it
// changes in them outlives the run, in the caller's shell: their status flags (a stdout left
// O_NONBLOCK made the next writer of a pipeline fail with EAGAIN; O_APPEND cleared, overwrite),
// and, for ww's own fd 0-2 that are terminals, the terminal's mode (left raw, without echo),
// exclusive mode (TIOCEXCL: nobody else could open it) and suspended output (tcflow TCOOFF: the
// shell's next line never showed). No jail can refuse these (fcntl and ioctl on descriptors it
// must pass), so ww takes each one's state before the program starts and gives it back when the
// run ends, as it does for its own raw mode under --tty. What the program wrote or read stays
// done.

import { F_GETFL, F_SETFL } from "../ffi/flags.ts";
import { libc } from "../ffi/libc.ts";
import { fileIdentity } from "../ffi/stat.ts";
import {
  foregroundGroup,
  isExclusive,
  resumeOutput,
  setExclusive,
  setTerminalMode,
  type TerminalMode,
  terminalMode,
} from "../ffi/tty.ts";
import type { Cleanups } from "./launch.ts";

/** ww's own fd 0-2, as Deno tells whether each is a terminal (no FFI for a run without one). */
const OWN = [Deno.stdin, Deno.stdout, Deno.stderr];

/** What a shared descriptor was when the first run that shares it started. */
interface Kept {
  /** The file it is (st_dev, st_ino): given back only while the number still names it. */
  readonly file: string;
  /** Its status flags (F_GETFL). */
  readonly flags: number;
  /** When it is a terminal: its mode, and whether it was in exclusive mode. */
  readonly terminal?: { readonly mode: TerminalMode; readonly exclusive: boolean };
  /** How many running runs share it. */
  runs: number;
}

/**
 * By descriptor number. Overlapping runs give a descriptor's state back once, when the last ends
 * (each giving back its own saw a later run restore what an earlier program left).
 */
const kept = new Map<number, Kept>();

/**
 * Takes the state of each of `fds`, the caller's descriptors the program shares, and gives it
 * back by `cleanups`, or when Deno exits first. `ownStdio` lists those of ww's fd 0-2 among them:
 * a terminal's state is kept for these (whether they are terminals is known without FFI).
 */
export function keepCallerFds(
  fds: readonly number[],
  ownStdio: readonly number[],
  cleanups: Cleanups,
): void {
  const held: number[] = [];
  for (const fd of new Set(fds)) {
    const entry = kept.get(fd);
    if (entry) {
      entry.runs++;
      held.push(fd);
      continue;
    }
    const state = stateOf(fd, ownStdio.includes(fd) && OWN[fd].isTerminal());
    if (state === undefined) continue; // not open: nothing to give back
    kept.set(fd, { ...state, runs: 1 });
    held.push(fd);
  }
  if (held.length === 0) return;
  const release = () => {
    globalThis.removeEventListener("unload", release);
    for (const fd of held.splice(0)) {
      const entry = kept.get(fd)!;
      if (--entry.runs > 0) continue;
      kept.delete(fd);
      giveBack(fd, entry);
    }
  };
  globalThis.addEventListener("unload", release);
  cleanups.add(release);
}

/** The state of `fd` (a terminal's too, when `terminal`), or undefined when it is not open. */
function stateOf(fd: number, terminal: boolean): Omit<Kept, "runs"> | undefined {
  const file = fileOf(fd);
  const flags = libc().fcntl(fd, F_GETFL, 0);
  if (file === undefined || flags < 0) return undefined;
  if (!terminal) return { file, flags };
  try {
    return { file, flags, terminal: { mode: terminalMode(fd), exclusive: isExclusive(fd) } };
  } catch {
    return { file, flags }; // a terminal whose mode cannot be read stays as it is
  }
}

/** The file `fd` names, as "dev:ino", or undefined when it is not open. */
function fileOf(fd: number): string | undefined {
  const id = fileIdentity(`/proc/self/fd/${fd}`);
  return id === undefined ? undefined : `${id.dev}:${id.ino}`;
}

/**
 * Gives `fd` back what the program changed of `kept`, while the number still names the same
 * file. A terminal only from its foreground: from a background job, tcsetattr stops ww (SIGTTOU),
 * and the terminal is the foreground job's to set.
 */
function giveBack(fd: number, kept: Kept): void {
  if (fileOf(fd) !== kept.file) return;
  const flags = libc().fcntl(fd, F_GETFL, 0);
  if (flags >= 0 && flags !== kept.flags) libc().fcntl(fd, F_SETFL, kept.flags);
  const terminal = kept.terminal;
  if (terminal === undefined) return;
  try {
    if (foregroundGroup(fd) !== ownGroup()) return;
    const now = terminalMode(fd);
    if (!now.every((b, i) => b === terminal.mode[i])) setTerminalMode(fd, terminal.mode);
    if (isExclusive(fd) !== terminal.exclusive) setExclusive(fd, terminal.exclusive);
    resumeOutput(fd);
  } catch { /* the terminal is gone (hung up): nothing to give back */ }
}

/** ww's own process group (/proc/self/stat's fifth field). */
function ownGroup(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
}
