// run/tty.ts — a terminal of the program's own (RunConfig.tty): a new pseudo-terminal whose
// slave is the program's fd 0-2 and controlling terminal (the launchers and the stage make it
// so), and ww's proxy between its own stdin/stdout and the master: bytes both ways, without
// blocking the event loop and without changing ww's stdin/stdout (the caller's shell shares
// them), the caller's window size followed on SIGWINCH, and the caller's terminal in raw mode
// while the program runs (again, with the size, once a stopped ww is continued: `fg`), given back
// its mode whatever ends the run; once ww cannot pass the program's output on (its stdout's
// reader left), the pty hung up as a terminal that goes away is. The program never holds the
// caller's terminal, so it cannot inject input into it (TIOCSTI) or control it (TIOCLINUX).

import { POLLHUP, POLLIN, POLLOUT } from "../ffi/flags.ts";
import { closeFd, pipe } from "../ffi/fd.ts";
import {
  foregroundGroup,
  inBackground,
  isLineMode,
  isTerminal,
  rawMode,
  setTerminalMode,
  type TerminalMode,
  terminalMode,
  typedSignals,
} from "../ffi/tty.ts";
import {
  openPty,
  openTerminalPath,
  pollEither,
  readSome,
  setWindowSize,
  windowSize,
  windowSizeOf,
  writeSome,
} from "../ffi/pty.ts";
import type { Cleanups } from "./launch.ts";
import type { HeldProcess } from "../ffi/process.ts";
import { holdInTree, untilSignalsArrive } from "./procfs.ts";
import { parseStatPlace } from "./process_group.ts";
import { onExit } from "./exit_hooks.ts";
import { SIGNALS } from "./signals.ts";
import { type NonblockingOut, openNonblockingOut } from "../ffi/nonblocking_out.ts";
import { eventsNow } from "../ffi/reactor.ts";

/** The pseudo-terminal a launcher gives the program. */
export interface ProgramTerminal {
  /** The slave: the program's fd 0, 1 and 2, and its new session's controlling terminal. */
  readonly slave: number;
  /** The slave's host path (/dev/pts/N); the unjailed program opens it to make it its own. */
  readonly name: string;
  /**
   * It becomes the controlling terminal of the program's new session: the run's own program.
   * A program that program starts (--with-exec) shares the pty as fd 0-2 only.
   */
  readonly controlling: boolean;
}

/** How many generations below the process ww spawned continueStopped looks for a group's leader. */
const RUN_DEPTH = 64;

/** A run's terminal, from its opening to the end of the program. */
export interface Terminal extends ProgramTerminal {
  /**
   * Once the program holds the slave: ww closes its copy (so the master ends when the program's
   * side does), puts the caller's terminal in raw mode and starts the proxy. `root` is the process
   * ww spawned (Launched.root): a stopped group is continued only when the run's processes lead it.
   */
  start(root: HeldProcess): void;
  /**
   * Once the program has ended: passes on what it wrote last, stops the proxy, and gives the
   * caller's terminal back its mode. What the program wrote is passed on however slowly the
   * caller reads it, unless the run was asked to end (endSoon).
   */
  finish(): Promise<void>;
  /**
   * The run was asked to end (--timeout, a signal that ends it): output still waiting for the
   * caller is passed on for at most DRAIN_MS more, so that a caller who stopped reading cannot
   * keep ww from exiting.
   */
  endSoon(): void;
}

const STDIN = 0;
const STDOUT = 1;
/** After the program's end, its last output is taken until the pty stays quiet this long... */
const QUIET_MS = 100;
/** ...or for at most this long, when something the program left behind still writes to it; and
 * for at most this long is output passed on once the run was asked to end (endSoon). */
const DRAIN_MS = 2000;
/** What the caller's end of input becomes: the terminal's end-of-file key (VEOF, Ctrl-D). */
const EOT = 0x04;

/**
 * The size of a terminal of its own when ww has none to copy (`--tty` on pipes): the VT100's 24
 * rows of 80 columns, as a terminal emulator starts, where a 0 × 0 terminal makes programs that
 * lay out text (less, vi, top) draw nothing or fail.
 */
const SIZE_WITHOUT_TERMINAL = windowSizeOf(24, 80);

/**
 * Opens a pseudo-terminal for a run, sized as ww's own terminal when it has one (24 × 80 when
 * not). Everything it opens is closed, and the caller's terminal mode restored, by `cleanups` when
 * the start fails.
 */
export function openTerminal(cleanups: Cleanups): Terminal {
  const pty = openPty();
  const closeMaster = cleanups.add(() => closeFd(pty.master));
  // Closed early by a hangup (hangUpProgram), after which its number may be another file's.
  let hungUp = false;
  const closeSlave = cleanups.add(() => closeFd(pty.slave));
  const [wakeRead, wakeWrite] = pipe();
  cleanups.add(() => closeFd(wakeRead));
  const closeWake = cleanups.add(() => closeFd(wakeWrite));
  const sizeFrom = [STDIN, STDOUT].find(isTerminal);
  const resize = () => {
    if (hungUp) return;
    const ws = sizeFrom === undefined ? SIZE_WITHOUT_TERMINAL : windowSize(sizeFrom);
    if (ws) setWindowSize(pty.master, ws);
  };
  resize();
  const onResize = () => {
    try {
      resize();
    } catch { /* the program's side is gone: nothing to resize */ }
  };

  let saved: TerminalMode | undefined;
  let removeHook: (() => void) | undefined;
  // Stopped (SIGTSTP to ww) and continued (`fg`): the shell took the terminal back in its own mode
  // meanwhile, and the window may have changed size. Continued in the background (`bg`), the
  // terminal is the shell's: setting it would stop ww (SIGTTOU), and the next `fg` continues ww
  // again.
  const onContinue = () => {
    onResize();
    if (saved === undefined) return;
    try {
      if (!inBackground(STDIN)) setTerminalMode(STDIN, rawMode(saved));
    } catch { /* the terminal is gone (hung up) */ }
  };
  const restore = () => {
    removeHook?.();
    if (saved === undefined) return;
    const mode = saved;
    saved = undefined;
    try {
      setTerminalMode(STDIN, mode, true);
    } catch { /* the terminal is gone (hung up): nothing to give back */ }
  };
  cleanups.add(restore);

  const state: PumpState = { ending: false, endedAt: Infinity, writeUntil: Infinity };
  let pumps: Promise<unknown> = Promise.resolve();
  let started = false;
  let typedAhead: Uint8Array[] = [];
  let out: NonblockingOut | undefined;
  return {
    slave: pty.slave,
    name: pty.name,
    controlling: true,
    start(root) {
      closeSlave();
      if (isTerminal(STDIN)) {
        // The program runs already: a terminal whose mode cannot be read or set stays as it is.
        try {
          const mode = terminalMode(STDIN);
          // An exit while the program runs gives the mode back too.
          removeHook = onExit(restore);
          saved = mode;
          if (isLineMode(mode)) typedAhead = readLineInput();
          setTerminalMode(STDIN, rawMode(mode));
        } catch { /* not raw, then */ }
      }
      if (sizeFrom !== undefined) {
        Deno.addSignalListener("SIGWINCH", onResize);
        Deno.addSignalListener("SIGCONT", onContinue);
      }
      started = true;
      // ww's stdout, written without blocking: a caller that stops reading must not stop ww's
      // event loop (--timeout, signals, RPC) in a write(2).
      out = openNonblockingOut(STDOUT);
      cleanups.add(() => out?.close());
      const input = pumpInput(
        pty.master,
        wakeRead,
        state,
        typedAhead,
        // A jail's tree is a few generations deep (stage, bwrap, its pid 1, the program); its
        // programs may fork deeper, and a group they lead in the foreground is theirs.
        (signals) =>
          continueStopped(pty.master, signals, (pid) => holdInTree(root, pid, RUN_DEPTH)),
      );
      // The caller's side is gone (`ww run --tty yes | head`): closing the master is what a
      // terminal that goes away does to its programs (pty_close: tty_vhangup of the slave), the
      // session leader gets SIGHUP and SIGCONT, and every read of the slave from then on ends
      // (0) and every write fails (EIO), so a program that ignores SIGHUP ends as it would on a
      // real terminal, instead of writing for ever to a pty ww would read only to drop. The
      // input pump ends first: it uses the master, and its wait on it would keep the master
      // open (poll holds the file).
      const hangUpProgram = async () => {
        // Once finish() has begun, it has woken the waits and closed wakeWrite, whose number may
        // be another file's by now.
        if (!state.ending) writeSome(wakeWrite, new Uint8Array([1]));
        await input.catch(() => {});
        hungUp = true;
        closeMaster();
      };
      pumps = Promise.all([input, pumpOutput(pty.master, wakeRead, state, out, hangUpProgram)]);
    },
    endSoon() {
      state.writeUntil = Math.min(state.writeUntil, Date.now() + DRAIN_MS);
    },
    async finish() {
      state.ending = true;
      state.endedAt = Date.now();
      // Never drained: it wakes every wait on it from now on (a hangup may have written to it
      // already: a pipe holds both bytes).
      writeSome(wakeWrite, new Uint8Array([1]));
      closeWake();
      if (started && sizeFrom !== undefined) {
        Deno.removeSignalListener("SIGWINCH", onResize);
        Deno.removeSignalListener("SIGCONT", onContinue);
      }
      await pumps.catch(() => {});
      out?.close();
      restore();
    },
  };
}

/**
 * The pty at `name` (a run's Child.terminal) for a program that run starts: a new descriptor of
 * its slave, closed by `cleanups`, given as fd 0-2 but not as controlling terminal.
 */
export function sharedTerminal(
  name: string,
  cleanups: Cleanups,
): ProgramTerminal & { readonly close: () => void } {
  const slave = openTerminalPath(name);
  return { slave, name, controlling: false, close: cleanups.add(() => closeFd(slave)) };
}

/**
 * Where the pumps are: the program has ended (`ending`), when (`endedAt`), and until when output
 * is passed on once the run was asked to end (`writeUntil`).
 */
interface PumpState {
  ending: boolean;
  endedAt: number;
  writeUntil: number;
}

/**
 * The most reads readLineInput makes: a terminal holds at most 4096 bytes of lines (N_TTY's
 * buffer), each read taking at least one, or one end of input.
 */
const TYPED_AHEAD_READS = 4097;

/**
 * What the caller's terminal holds ready in its line mode, read before ww makes it raw, where an
 * end of input already typed (Ctrl-D, or what `script` sends once its own input ends) would be
 * read as a NUL byte, and the program would wait for its input's end forever. Each line as it
 * is; a line that Ctrl-D pushed without its newline, and an end of input, followed by the EOT
 * that does the same on the program's terminal. Only lines the terminal has completed are ready:
 * one being typed stays, and is read raw.
 */
function readLineInput(): Uint8Array[] {
  const ready: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  for (let reads = 0; reads < TYPED_AHEAD_READS; reads++) {
    // A terminal that hung up reads as an end of input for ever: nothing is typed there.
    const events = eventsNow(STDIN, POLLIN);
    if ((events & POLLIN) === 0 || (events & POLLHUP) !== 0) break;
    const n = readSome(STDIN, buf);
    if (n < 0) break;
    if (n === 0) {
      // Each end of input typed, as typed: a program may read past one (cat; cat).
      ready.push(new Uint8Array([EOT]));
      continue;
    }
    const pushed = n < buf.length && buf[n - 1] !== 0x0a;
    ready.push(pushed ? new Uint8Array([...buf.subarray(0, n), EOT]) : buf.slice(0, n));
  }
  return ready;
}

/**
 * The caller's input to the program, until it ends or the run does: first what the caller's
 * terminal had ready before it was made raw (readLineInput). After an interrupt or quit key
 * (Ctrl-C, Ctrl-\), `afterSignalKey` runs with the signals the keys send: each waits in a
 * stopped program until it runs.
 */
async function pumpInput(
  master: number,
  wake: number,
  state: PumpState,
  typedAhead: readonly Uint8Array[],
  afterSignalKey: (signals: readonly number[]) => Promise<void>,
) {
  const typed = async (bytes: Uint8Array) => {
    if (!await writeAll(master, bytes, wake)) return false;
    let signals: number[];
    try {
      signals = typedSignals(terminalMode(master), bytes).map((name) => SIGNALS[name]);
    } catch {
      return true; // the program's side is gone
    }
    // The program's side gone meanwhile: nothing is stopped there.
    if (signals.length > 0) await afterSignalKey(signals).catch(() => {});
    return true;
  };
  for (const bytes of typedAhead) {
    if (!await typed(bytes)) return;
  }
  const buf = new Uint8Array(4096);
  let lineStart = true;
  while (!state.ending) {
    const { ready, woken } = await pollEither(STDIN, POLLIN, wake);
    if (woken || state.ending) return;
    if (!ready) continue;
    // ww's stdin stays blocking (the caller's shell shares it); poll said a read returns now.
    const n = readSome(STDIN, buf);
    if (n < 0) continue;
    if (n === 0) {
      // As a user at a terminal ends input: one Ctrl-D at the start of a line, two after text.
      await writeAll(master, new Uint8Array(lineStart ? [EOT] : [EOT, EOT]), wake);
      return;
    }
    lineStart = buf[n - 1] === 0x0a || buf[n - 1] === 0x0d;
    if (!await typed(buf.subarray(0, n))) return;
  }
}

/**
 * Continues the foreground group of the program's terminal when its leader, one of the run's
 * processes (`inRun`), is stopped: a program that stopped itself (SIGSTOP) left no key that got
 * the caller's shell back, since the SIGINT of a Ctrl-C waits in a stopped process until it runs.
 * As for the signals sent to ww, which SIGCONT follows, a stopped program ends too (or runs on,
 * if it ignores the key's signal). Not after Ctrl-Z: SIGCONT would discard the stop it asks for.
 * The key's `signals` have arrived first: continued before, the program ran on, and ended with 0
 * when its line discipline's SIGINT came too late (that also discards the output not yet read).
 */
async function continueStopped(
  master: number,
  signals: readonly number[],
  inRun: (pid: number) => HeldProcess | undefined,
): Promise<void> {
  const id = foregroundGroup(master);
  if (id <= 0) return;
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${id}/stat`);
  } catch {
    return; // gone
  }
  if (parseStatPlace(stat)?.state !== "T") return;
  const leader = inRun(id);
  if (leader === undefined) return;
  try {
    await untilSignalsArrive(leader, signals, KEY_SIGNAL_WAIT_MS);
    leader.signalGroup(SIGNALS.SIGCONT);
  } finally {
    leader.close();
  }
}

/**
 * How long continueStopped waits for a key's signal to arrive: the kernel worker that reads the
 * key runs within microseconds on an idle machine, and has been seen a few milliseconds late
 * under load. A program that blocks the signal has it pending all the same.
 */
const KEY_SIGNAL_WAIT_MS = 1_000;

/**
 * The program's output to the caller: until every holder of the slave has closed it (EIO), or,
 * once the run ends, until the pty is quiet (something the program left behind may hold it) or
 * DRAIN_MS have passed, or until the caller's side is gone, when `hangUp` ends it: the program
 * never blocks on a pty nobody reads, and ww with it, and nothing reads the pty only to drop what
 * the program writes (a program that ignores SIGHUP writes on, and ww read and dropped it for as
 * long as it ran: `trap "" HUP; yes` kept ww busy for good).
 */
async function pumpOutput(
  master: number,
  wake: number,
  state: PumpState,
  out: NonblockingOut,
  hangUp: () => Promise<void>,
) {
  const buf = new Uint8Array(16384);
  let waited = 0;
  for (;;) {
    // Read before the wait: a wake-up that comes during it must not end the pump before the
    // output still in the pty is passed on.
    const ending = state.ending;
    const { ready } = await pollEither(master, POLLIN, ending ? -1 : wake, ending ? QUIET_MS : -1);
    if (!ready) {
      if (ending) return;
      continue;
    }
    const n = readSome(master, buf);
    if (n === 0) return;
    if (n < 0) continue;
    const writing = Date.now();
    const written = await writeOutput(out, buf.subarray(0, n), state);
    // Time spent waiting for a slow caller after the end is not the pty's: DRAIN_MS bounds
    // what is left behind writing to it, not how fast the caller reads.
    if (state.ending) waited += Date.now() - Math.max(writing, state.endedAt);
    if (written === "late") return;
    if (written === "gone") return await hangUp();
    if (state.ending && Date.now() - waited > state.endedAt + DRAIN_MS) return;
  }
}

/**
 * Writes all of `bytes` to ww's stdout (`out`), waiting while it is full, however long the caller
 * takes, unless the run was asked to end (state.writeUntil, looked at again after each wait, of at
 * most ~100 ms). "gone" when stdout takes no more (the reader left: EPIPE; or any other failure
 * of the write), "late" when the run was asked to end first.
 */
async function writeOutput(
  out: NonblockingOut,
  bytes: Uint8Array,
  state: PumpState,
): Promise<"all" | "gone" | "late"> {
  let off = 0;
  while (off < bytes.length) {
    if (Date.now() >= state.writeUntil) return "late";
    const n = out.write(bytes.subarray(off));
    if (n < 0) return "gone";
    if (n > 0) off += n;
    else await out.writable();
  }
  return "all";
}

/** Writes all of `bytes`, waiting while `fd` is full; false when it cannot, or when woken. */
async function writeAll(fd: number, bytes: Uint8Array, wake: number): Promise<boolean> {
  let off = 0;
  while (off < bytes.length) {
    const { ready, woken } = await pollEither(fd, POLLOUT, wake);
    if (woken) return false;
    if (!ready) continue;
    const n = writeSome(fd, bytes.subarray(off));
    if (n === null) return false;
    if (n > 0) off += n;
  }
  return true;
}
