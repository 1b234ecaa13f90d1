// ffi/tty.ts — terminals as ww finds them, its caller's among them: whether a descriptor is one,
// its mode (tcgetattr, cfmakeraw, tcsetattr) and the signals its keys send, its foreground
// process group, exclusive mode, line discipline and suspended output; and the posix_spawn action
// that opens a terminal as a program's. A terminal of ww's own (a pty) is ffi/pty.ts's.

import { ENOTTY } from "./errno.ts";
import {
  check,
  checkReturned,
  I32,
  lastErrno,
  NO_ARG,
  openLibrary,
  type Symbols,
  SyscallError,
} from "./libc.ts";
import { O_RDWR } from "./flags.ts";

// asm-generic/ioctls.h, shared by x86_64 and aarch64.
const TIOCGPGRP = 0x540f;
const TIOCEXCL = 0x540c;
const TIOCNXCL = 0x540d;
const TIOCGEXCL = 0x80045440;
const TIOCGETD = 0x5424;
const TIOCSETD = 0x5423;
/** tcflow(3)'s ioctl, and its argument that restarts suspended output. */
const TCXONC = 0x540a;
const TCOON = 1;
const TCSANOW = 0;
const TCSADRAIN = 1;
/** sizeof(struct termios) in glibc on x86_64 and aarch64. */
const TERMIOS_SIZE = 60;

const symbols = {
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

/**
 * ioctl(2) `request` on terminal `fd` with `arg` pointed at: its result, -1 with errno set (a pty's
 * window size, ffi/pty.ts, goes through it: one declaration of ioctl).
 */
export function terminalIoctl(fd: number, request: number, arg: BufferSource): number {
  return tty().ioctl(fd, BigInt(request), arg);
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
