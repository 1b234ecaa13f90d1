// ffi/tty.ts — terminals: a fresh pseudo-terminal pair (posix_openpt, grantpt, unlockpt,
// ptsname_r), a terminal's mode (tcgetattr, cfmakeraw, tcsetattr) and window size (TIOCGWINSZ,
// TIOCSWINSZ), its hangup (SIGHUP and SIGCONT to its foreground process group), and a wait for
// "readable or writable" that a second descriptor can cut short.

import { EAGAIN, EINTR, ENOTTY } from "./errno.ts";
import { closeFd } from "./fd.ts";
import { HeldProcess } from "./process.ts";
import {
  check,
  checkReturned,
  I32,
  lastErrno,
  libc,
  NO_ARG,
  openLibrary,
  pollOnWorker,
  type Symbols,
  SyscallError,
} from "./libc.ts";
import { O_CLOEXEC, O_NOCTTY, O_NONBLOCK, O_RDWR, POLLIN } from "./flags.ts";

// asm-generic/ioctls.h, shared by x86_64 and aarch64.
const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;
const TIOCGPGRP = 0x540f;
const TIOCEXCL = 0x540c;
const TIOCNXCL = 0x540d;
const TIOCGEXCL = 0x80045440;
const TIOCGETD = 0x5424;
const TIOCSETD = 0x5423;
/** tcflow(3)'s ioctl, and its argument that restarts suspended output. */
const TCXONC = 0x540a;
const TCOON = 1;
const SIGHUP = 1;
const SIGCONT = 18;
const TCSANOW = 0;
const TCSADRAIN = 1;
/** sizeof(struct termios) in glibc on x86_64 and aarch64. */
const TERMIOS_SIZE = 60;
const PTSNAME_MAX = 128;

const symbols = {
  posix_openpt: { parameters: [I32], result: "i32" },
  grantpt: { parameters: [I32], result: "i32" },
  unlockpt: { parameters: [I32], result: "i32" },
  ptsname_r: { parameters: [I32, "buffer", "usize"], result: "i32" },
  open: { parameters: ["buffer", I32, "u32"], result: "i32" },
  isatty: { parameters: [I32], result: "i32" },
  getpgrp: { parameters: [NO_ARG], result: "i32" },
  tcgetattr: { parameters: [I32, "buffer"], result: "i32" },
  tcsetattr: { parameters: [I32, "i32", "buffer"], result: "i32" },
  cfmakeraw: { parameters: ["buffer", NO_ARG], result: "void" },
  // Variadic in C; an integer and a pointer travel in the same registers as fixed arguments on
  // x86_64 and aarch64 Linux.
  ioctl: { parameters: [I32, "u64", "buffer"], result: "i32" },
  // ioctl with an integer argument (passed by value, not pointed at).
  ioctl_value: { name: "ioctl", parameters: [I32, "u64", "u64"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

// Bound on first use: only a run with a terminal needs them.
let library: Symbols<typeof symbols> | undefined;
function tty(): Symbols<typeof symbols> {
  return library ??= openLibrary(symbols);
}

/** A pseudo-terminal pair: ww keeps `master`; `slave` (at `name`) becomes the program's. */
export interface Pty {
  /** Nonblocking, close-on-exec. */
  readonly master: number;
  /** Close-on-exec, opened without making it ww's controlling terminal. */
  readonly slave: number;
  /** The slave's path, /dev/pts/N. */
  readonly name: string;
}

/** Opens a new pseudo-terminal pair; both ends close on exec. */
export function openPty(): Pty {
  const c = tty();
  const master = check(
    "posix_openpt",
    c.posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK),
  );
  try {
    check("grantpt", c.grantpt(master));
    check("unlockpt", c.unlockpt(master));
    const buf = new Uint8Array(PTSNAME_MAX);
    checkReturned("ptsname_r", c.ptsname_r(master, buf, BigInt(buf.length)));
    const name = new TextDecoder().decode(buf.subarray(0, buf.indexOf(0)));
    const path = new TextEncoder().encode(name + "\0");
    const slave = check("open", c.open(path, O_RDWR | O_NOCTTY | O_CLOEXEC, 0), name);
    return { master, slave, name };
  } catch (e) {
    closeFd(master);
    throw e;
  }
}

/** Whether `fd` is a terminal. */
export function isTerminal(fd: number): boolean {
  return tty().isatty(fd) === 1;
}

/** A terminal's mode (struct termios), as opaque bytes to give back to setTerminalMode. */
export type TerminalMode = Uint8Array<ArrayBuffer>;

/** tcgetattr: the mode of terminal `fd`. */
export function terminalMode(fd: number): TerminalMode {
  const mode = new Uint8Array(TERMIOS_SIZE);
  check("tcgetattr", tty().tcgetattr(fd, mode), `fd ${fd}`);
  return mode;
}

/** struct termios: c_lflag's offset (after c_iflag, c_oflag, c_cflag), and its ICANON bit. */
const LFLAG_OFFSET = 12;
const ICANON = 0x2;

/** Whether `mode` reads input a line at a time (ICANON), where an end of input can be typed. */
export function isLineMode(mode: TerminalMode): boolean {
  return (new DataView(mode.buffer).getUint32(LFLAG_OFFSET, true) & ICANON) !== 0;
}

/** struct termios: c_cc's offset (after c_line), the interrupt and quit keys' places in it, ISIG. */
const CC_OFFSET = 17;
const VINTR = 0;
const VQUIT = 1;
const ISIG = 0x1;

/**
 * The signals that `bytes`, typed into a terminal of `mode`, have its line discipline send the
 * foreground group, while keys make signals (ISIG): SIGINT for its interrupt key (VINTR,
 * Ctrl-C), SIGQUIT for its quit key (VQUIT, Ctrl-\). A key set to 0 is disabled
 * (_POSIX_VDISABLE).
 *
 * @example
 * typedSignals(terminalMode(master), new Uint8Array([0x03])); // ["SIGINT"] in a default mode
 */
export function typedSignals(mode: TerminalMode, bytes: Uint8Array): ("SIGINT" | "SIGQUIT")[] {
  if ((new DataView(mode.buffer).getUint32(LFLAG_OFFSET, true) & ISIG) === 0) return [];
  const keys = [["SIGINT", mode[CC_OFFSET + VINTR]], ["SIGQUIT", mode[CC_OFFSET + VQUIT]]] as const;
  return keys.filter(([, key]) => key !== 0 && bytes.includes(key)).map(([signal]) => signal);
}

/** `mode` made raw (cfmakeraw): no echo, no line editing, no signals from keys, 8-bit bytes. */
export function rawMode(mode: TerminalMode): TerminalMode {
  const raw = mode.slice();
  tty().cfmakeraw(raw);
  return raw;
}

/**
 * tcsetattr: sets terminal `fd`'s mode; with `drain`, once the output already written has been
 * sent (TCSADRAIN), so that it is not shown in the wrong mode.
 */
export function setTerminalMode(fd: number, mode: TerminalMode, drain = false): void {
  check("tcsetattr", tty().tcsetattr(fd, drain ? TCSADRAIN : TCSANOW, mode), `fd ${fd}`);
}

/** TIOCGPGRP: the process group in the foreground of terminal `fd`. */
export function foregroundGroup(fd: number): number {
  const pgrp = new Int32Array(1);
  check("ioctl", tty().ioctl(fd, BigInt(TIOCGPGRP), pgrp), "TIOCGPGRP");
  return pgrp[0];
}

/**
 * Whether this process is in terminal `fd`'s foreground: its process group is the terminal's
 * foreground group (not a background job's, which setting the terminal's mode would stop).
 */
export function inForeground(fd: number): boolean {
  return foregroundGroup(fd) === tty().getpgrp();
}

/**
 * Whether this process is a background job of terminal `fd`, its controlling terminal, where
 * setting the terminal's mode would stop it (SIGTTOU). A terminal that is not this process's
 * controlling terminal (TIOCGPGRP: ENOTTY) has no jobs of it, and may be set: ww's stdin on a
 * pty of another session's, say, whose line discipline a program had changed and ww, asking
 * inForeground, left changed.
 */
export function inBackground(fd: number): boolean {
  const pgrp = new Int32Array(1);
  if (tty().ioctl(fd, BigInt(TIOCGPGRP), pgrp) === -1) {
    const errno = lastErrno();
    if (errno === ENOTTY) return false;
    throw new SyscallError("ioctl", errno, "TIOCGPGRP");
  }
  return pgrp[0] !== tty().getpgrp();
}

/** TIOCGEXCL: whether terminal `fd` is in exclusive mode (no new open of it but by root). */
export function isExclusive(fd: number): boolean {
  const on = new Int32Array(1);
  check("ioctl", tty().ioctl(fd, BigInt(TIOCGEXCL), on), "TIOCGEXCL");
  return on[0] !== 0;
}

/** TIOCEXCL or TIOCNXCL: puts terminal `fd` in exclusive mode, or takes it out. */
export function setExclusive(fd: number, on: boolean): void {
  check(
    "ioctl",
    tty().ioctl(fd, BigInt(on ? TIOCEXCL : TIOCNXCL), null),
    on ? "TIOCEXCL" : "TIOCNXCL",
  );
}

/** TIOCGETD: terminal `fd`'s line discipline (N_TTY is 0). */
export function lineDiscipline(fd: number): number {
  const ldisc = new Int32Array(1);
  check("ioctl", tty().ioctl(fd, BigInt(TIOCGETD), ldisc), "TIOCGETD");
  return ldisc[0];
}

/** TIOCSETD: sets terminal `fd`'s line discipline. */
export function setLineDiscipline(fd: number, ldisc: number): void {
  check("ioctl", tty().ioctl(fd, BigInt(TIOCSETD), new Int32Array([ldisc])), "TIOCSETD");
}

/** tcflow(TCOON): restarts terminal `fd`'s output if it was suspended (tcflow TCOOFF). */
export function resumeOutput(fd: number): void {
  check("ioctl", tty().ioctl_value(fd, BigInt(TCXONC), BigInt(TCOON)), "TCXONC");
}

/** A terminal's size in characters (the pixel sizes of struct winsize are kept as they are). */
export type WindowSize = Uint8Array<ArrayBuffer>;

/** TIOCGWINSZ: the window size of terminal `fd`, or undefined when it is not a terminal. */
export function windowSize(fd: number): WindowSize | undefined {
  const ws = new Uint8Array(8);
  return tty().ioctl(fd, BigInt(TIOCGWINSZ), ws) === 0 ? ws : undefined;
}

/** A window size of `rows` × `cols` characters (struct winsize: ws_row, ws_col, no pixel sizes). */
export function windowSizeOf(rows: number, cols: number): WindowSize {
  return new Uint8Array(new Uint16Array([rows, cols, 0, 0]).buffer);
}

/** TIOCSWINSZ: sets terminal `fd`'s window size; the kernel signals its foreground with SIGWINCH. */
export function setWindowSize(fd: number, ws: WindowSize): void {
  check("ioctl", tty().ioctl(fd, BigInt(TIOCSWINSZ), ws), `TIOCSWINSZ on fd ${fd}`);
}

/**
 * Hangs up on the programs of the pty whose master is `master`, as the kernel does when a terminal
 * goes away: SIGHUP and SIGCONT to the slave's foreground process group (TIOCGPGRP on the master
 * names it; TIOCSIG takes only SIGINT, SIGQUIT and SIGTSTP). Nothing when it has none.
 *
 * TIOCGPGRP gives a number, and the foreground group may be gone, its number taken since by a
 * host process that leads a group of its own (a program that made a short-lived group the
 * foreground one): the signal goes to that group only when `inRun` finds its leader among the
 * run's processes (held, so the signal goes through its pidfd), or, when no process has that pid,
 * by number, which no new process can hold while a member of the group lives.
 */
export function hangUp(master: number, inRun: (pid: number) => HeldProcess | undefined): void {
  const id = foregroundGroup(master);
  if (id <= 0) return;
  const anyone = HeldProcess.open(id);
  if (anyone === undefined) {
    for (const sig of [SIGHUP, SIGCONT]) libc().kill(-id, sig);
    return;
  }
  anyone.close();
  const leader = inRun(id);
  if (leader === undefined) return;
  try {
    for (const sig of [SIGHUP, SIGCONT]) leader.signalGroup(sig);
  } finally {
    leader.close();
  }
}

/** What pollEither saw. */
export interface PollResult {
  /** `fd` is ready (or at its end, or in error: the next read or write tells which). */
  readonly ready: boolean;
  /** `wake` is readable: the caller asked the wait to end. */
  readonly woken: boolean;
}

/**
 * Waits on a worker thread, so the event loop runs on, until `fd` is ready for `events` (POLLIN
 * or POLLOUT), `wake` is readable, or `timeoutMs` passed (-1: no limit). A descriptor ww does not
 * own (its stdin or stdout) is waited for here instead of being made nonblocking, which would
 * change it for the caller's shell too.
 */
export async function pollEither(
  fd: number,
  events: number,
  wake: number,
  timeoutMs = -1,
): Promise<PollResult> {
  const [ready, woken] = await pollOnWorker([[fd, events], [wake, POLLIN]], timeoutMs);
  return { ready: ready !== 0, woken: woken !== 0 };
}

/**
 * One read(2) of `fd` into `buf`: the byte count; 0 at its end (EOF, or EIO: a pty master whose
 * slave every process has closed) or on any other error; -1 when nothing is there yet.
 */
export function readSome(fd: number, buf: Uint8Array): number {
  const n = Number(libc().read(fd, buf, BigInt(buf.length)));
  if (n >= 0) return n;
  const errno = lastErrno();
  return errno === EAGAIN || errno === EINTR ? -1 : 0;
}

/**
 * One write(2) of `bytes` to `fd`: the byte count, -1 when it cannot take any now, or null when
 * it never will (EPIPE, EIO: the reader is gone).
 */
export function writeSome(fd: number, bytes: Uint8Array): number | null {
  const n = Number(libc().write(fd, bytes, BigInt(bytes.length)));
  if (n >= 0) return n;
  const errno = lastErrno();
  return errno === EAGAIN || errno === EINTR ? -1 : null;
}

const spawnSymbols = {
  posix_spawn_file_actions_addopen: {
    parameters: ["buffer", I32, "buffer", "i32", "u32"],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;
let spawnLibrary: Symbols<typeof spawnSymbols> | undefined;

/**
 * Adds "open `path` (NUL-terminated) read-write as fd `fd`, without O_NOCTTY" to posix_spawn
 * file actions (glibc copies the path).
 */
export function addOpenAction(actions: Uint8Array, fd: number, path: Uint8Array): void {
  spawnLibrary ??= openLibrary(spawnSymbols);
  checkReturned(
    "posix_spawn_file_actions_addopen",
    spawnLibrary.posix_spawn_file_actions_addopen(actions, fd, path, O_RDWR, 0),
  );
}

/** Opens the terminal at `path` read-write, close-on-exec, never as ww's controlling terminal. */
export function openTerminalPath(path: string): number {
  return check(
    "open",
    tty().open(new TextEncoder().encode(path + "\0"), O_RDWR | O_NOCTTY | O_CLOEXEC, 0),
    path,
  );
}
