// ffi/pty.ts — a terminal of ww's own for its program (--tty): a fresh pseudo-terminal pair
// (posix_openpt, grantpt, unlockpt, ptsname_r), a terminal opened by its path, window sizes
// (TIOCGWINSZ, TIOCSWINSZ), a wait for "readable or writable" that a second descriptor can cut
// short, and one read or write at a time. Closing the master hangs the slave up (pty_close:
// tty_vhangup), as a terminal that goes away does. Only a run with a terminal of its own loads it
// (run/tty.ts); a terminal's mode and job control, which a run on its caller's terminal needs too,
// are ffi/tty.ts's.

import { EAGAIN, EINTR } from "./errno.ts";
import { closeFd } from "./fd.ts";
import {
  check,
  checkReturned,
  I32,
  lastErrno,
  libc,
  openLibrary,
  pollOnWorker,
  type Symbols,
} from "./libc.ts";
import { O_CLOEXEC, O_NOCTTY, O_NONBLOCK, O_RDWR, POLLIN } from "./flags.ts";
import { terminalIoctl } from "./tty.ts";

// asm-generic/ioctls.h, shared by x86_64 and aarch64.
const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;
const PTSNAME_MAX = 128;

const symbols = {
  posix_openpt: { parameters: [I32], result: "i32" },
  grantpt: { parameters: [I32], result: "i32" },
  unlockpt: { parameters: [I32], result: "i32" },
  ptsname_r: { parameters: [I32, "buffer", "usize"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

// Bound on first use.
let library: Symbols<typeof symbols> | undefined;
function pty(): Symbols<typeof symbols> {
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
  const c = pty();
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
    const slave = check("open", libc().open(path, O_RDWR | O_NOCTTY | O_CLOEXEC, 0), name);
    return { master, slave, name };
  } catch (e) {
    closeFd(master);
    throw e;
  }
}

/** A terminal's size in characters (the pixel sizes of struct winsize are kept as they are). */
export type WindowSize = Uint8Array<ArrayBuffer>;

/** TIOCGWINSZ: the window size of terminal `fd`, or undefined when it is not a terminal. */
export function windowSize(fd: number): WindowSize | undefined {
  const ws = new Uint8Array(8);
  return terminalIoctl(fd, TIOCGWINSZ, ws) === 0 ? ws : undefined;
}

/** A window size of `rows` × `cols` characters (struct winsize: ws_row, ws_col, no pixel sizes). */
export function windowSizeOf(rows: number, cols: number): WindowSize {
  return new Uint8Array(new Uint16Array([rows, cols, 0, 0]).buffer);
}

/** TIOCSWINSZ: sets terminal `fd`'s window size; the kernel signals its foreground with SIGWINCH. */
export function setWindowSize(fd: number, ws: WindowSize): void {
  check("ioctl", terminalIoctl(fd, TIOCSWINSZ, ws), `TIOCSWINSZ on fd ${fd}`);
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
  const n = libc().read(fd, buf, BigInt(buf.length));
  if (n >= 0) return n;
  const errno = lastErrno();
  return errno === EAGAIN || errno === EINTR ? -1 : 0;
}

/**
 * One write(2) of `bytes` to `fd`: the byte count, -1 when it cannot take any now, or null when
 * it never will (EPIPE, EIO: the reader is gone).
 */
export function writeSome(fd: number, bytes: Uint8Array): number | null {
  const n = libc().write(fd, bytes, BigInt(bytes.length));
  if (n >= 0) return n;
  const errno = lastErrno();
  return errno === EAGAIN || errno === EINTR ? -1 : null;
}

/** Opens the terminal at `path` read-write, close-on-exec, never as ww's controlling terminal. */
export function openTerminalPath(path: string): number {
  return check(
    "open",
    libc().open(new TextEncoder().encode(path + "\0"), O_RDWR | O_NOCTTY | O_CLOEXEC, 0),
    path,
  );
}
