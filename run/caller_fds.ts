// run/caller_fds.ts — the caller's descriptors that a program shares: those of ww's fd 0-2 it is
// given, and the caller's descriptors granted to it. The program holds the caller's open file
// descriptions themselves, so what it changes in them outlives the run, in the caller's shell:
// their status flags (a stdout left O_NONBLOCK made the next writer of a pipeline fail with
// EAGAIN; O_APPEND cleared, overwrite), and, for ww's own fd 0-2 that are terminals, the
// terminal's mode (left raw, without echo), exclusive mode (TIOCEXCL: nobody else could open it),
// line discipline (N_NULL: everything written to it was dropped) and suspended output (tcflow
// TCOOFF: the shell's next line never showed). The jails refuse none of these (fcntl and ioctl on
// descriptors they must pass), so ww takes each one's state before the program starts and gives
// it back when the run ends, as it does for its own raw mode under --tty. What the program wrote
// or read stays done.

import { F_GETFL, F_SETFL } from "../ffi/flags.ts";
import { libc } from "../ffi/libc.ts";
import { closeFd, holdDuplicate } from "../ffi/fd.ts";
import { fileIdentity } from "../ffi/stat.ts";
import {
  inBackground,
  isExclusive,
  lineDiscipline,
  resumeOutput,
  setExclusive,
  setLineDiscipline,
  setTerminalMode,
  type TerminalMode,
  terminalMode,
} from "../ffi/tty.ts";
import type { Cleanups } from "./launch.ts";
import { onExit } from "./exit_hooks.ts";

/** ww's own fd 0-2, as Deno tells whether each is a terminal (no FFI for a run without one). */
const OWN = [Deno.stdin, Deno.stdout, Deno.stderr];

/** What a shared open file description was when the first run that shares it started. */
interface Kept {
  /**
   * A duplicate of the descriptor, held until the state is given back: what ww restores goes
   * to this description, whatever the caller's descriptor number names by then.
   */
  readonly dup: number;
  /** Its status flags (F_GETFL). */
  readonly flags: number;
  /** When it is one of ww's terminals: its mode, exclusive mode and line discipline. */
  readonly terminal?: {
    readonly mode: TerminalMode;
    readonly exclusive: boolean;
    readonly ldisc: number;
  };
  /** How many running runs share it. */
  runs: number;
}

/**
 * By descriptor number and the file it names. Overlapping runs give a description's state back
 * once, when the last ends (each giving back its own saw a later run restore what an earlier
 * program left).
 */
const kept = new Map<string, Kept>();

/**
 * Takes the state of the caller's descriptors the program shares, `ownStdio` (those of ww's fd
 * 0-2 it gets: a terminal's state is kept for these, whether they are terminals being known
 * without FFI) and `grants` (`fd`, read from; `as`, the caller's own number for it, which a
 * program a guest starts shares with its starter: ww's duplicate is another number for the same
 * description), and gives it back by `cleanups`, or when the process exits first
 * (run/exit_hooks.ts).
 */
export function keepCallerFds(
  ownStdio: readonly number[],
  grants: readonly { readonly fd: number; readonly as: number }[],
  cleanups: Cleanups,
): void {
  const held: string[] = [];
  const shared = [...ownStdio.map((fd) => ({ fd, as: fd })), ...grants];
  for (const { fd, as } of shared) {
    const id = fileIdentity(`/proc/self/fd/${fd}`);
    if (id === undefined) continue; // not open: nothing to give back
    const key = `${as} ${id.dev}:${id.ino}`;
    if (held.includes(key)) continue;
    const entry = kept.get(key);
    if (entry) {
      entry.runs++;
      held.push(key);
      continue;
    }
    const state = stateOf(fd, ownStdio.includes(fd) && OWN[fd].isTerminal());
    if (state === undefined) continue;
    kept.set(key, { ...state, runs: 1 });
    held.push(key);
  }
  if (held.length === 0) return;
  let removeHook = () => {};
  const release = () => {
    removeHook();
    for (const key of held.splice(0)) {
      const entry = kept.get(key)!;
      if (--entry.runs > 0) continue;
      kept.delete(key);
      try {
        giveBack(entry);
      } finally {
        closeFd(entry.dup);
      }
    }
  };
  removeHook = onExit(release);
  cleanups.add(release);
}

/** The state of `fd` (a terminal's too, when `terminal`), or undefined when it cannot be read. */
function stateOf(fd: number, terminal: boolean): Omit<Kept, "runs"> | undefined {
  const flags = libc().fcntl(fd, F_GETFL, 0);
  if (flags < 0) return undefined;
  // Out of descriptors, the run goes on without this one's state (it will need more itself).
  let dup: number;
  try {
    dup = holdDuplicate(fd);
  } catch {
    return undefined;
  }
  if (!terminal) return { dup, flags };
  try {
    const state = { mode: terminalMode(fd), exclusive: isExclusive(fd), ldisc: lineDiscipline(fd) };
    return { dup, flags, terminal: state };
  } catch {
    return { dup, flags }; // a terminal whose state cannot be read stays as it is
  }
}

/**
 * Gives the description held by `kept.dup` back what the program changed. Exclusive mode at any
 * time; a terminal's mode, line discipline and output only from its foreground: from a background
 * job, tcsetattr stops ww (SIGTTOU), and the terminal is the foreground job's to set.
 */
function giveBack(kept: Kept): void {
  const { dup, terminal } = kept;
  const flags = libc().fcntl(dup, F_GETFL, 0);
  if (flags >= 0 && flags !== kept.flags) libc().fcntl(dup, F_SETFL, kept.flags);
  if (terminal === undefined) return;
  try {
    if (isExclusive(dup) !== terminal.exclusive) setExclusive(dup, terminal.exclusive);
    if (inBackground(dup)) return;
    if (lineDiscipline(dup) !== terminal.ldisc) setLineDiscipline(dup, terminal.ldisc);
    const now = terminalMode(dup);
    if (!now.every((b, i) => b === terminal.mode[i])) setTerminalMode(dup, terminal.mode);
    resumeOutput(dup);
  } catch { /* the terminal is gone (hung up): nothing to give back */ }
}
