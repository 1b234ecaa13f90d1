// ffi/stream.ts — an async byte stream over a raw descriptor that ww owns alone: its end of the
// host socket, or of a pipe to bubblewrap.
//
// Deno cannot wrap a raw fd in a Deno.Conn, so waiting is done by the reactor's poll(2) on a worker
// thread (ffi/reactor.ts) and the transfer itself by read/write on the main thread, where errno can be read. The descriptor
// is made O_NONBLOCK; that is safe because ww's end is its own open file description (the other
// end of a socketpair or pipe is a different one, so the child's blocking mode is untouched).

import { EAGAIN, EBADF, EINTR, EPIPE } from "./errno.ts";
import { concatBytes } from "./fd.ts";
import { check, lastErrno, libc, SyscallError } from "./libc.ts";
import { F_GETFL, F_SETFL, O_NONBLOCK, POLLIN, POLLOUT } from "./flags.ts";
import { type OpGroup, sleep } from "./ops.ts";
import { closeWatched, whenReady } from "./reactor.ts";

/** The largest descriptor there can be: an int. */
const INT_MAX = 2 ** 31 - 1;

const SHUT_RDWR = 2;

/**
 * The subset of Deno.Conn that the RPC layer needs.
 *
 * @example
 * ```ts ignore
 * async function echo(stream: ByteStream): Promise<void> {
 *   const buf = new Uint8Array(4096);
 *   for (let n = await stream.read(buf); n !== null; n = await stream.read(buf)) {
 *     await stream.write(buf.subarray(0, n));
 *   }
 *   stream.close();
 * }
 * ```
 */
export interface ByteStream {
  /** Reads into `p`; resolves to the byte count, or null at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes all of `p`. */
  write(p: Uint8Array): Promise<number>;
  /** Ends the stream; pending and later reads resolve to null. */
  close(): void;
}

/**
 * How long reads and writes that complete at once may keep the event loop from its other work
 * (timers, signals, a child's exit, other streams) before they give it a turn. A peer that keeps
 * its end full (a guest writing calls without pause on fd 3) otherwise made every read complete at
 * once, and ww ran past --timeout, passed on no signal and saw no exit until the peer stopped.
 */
const TURN_MS = 5;
/**
 * When the event loop last had a turn from reads and writes (one waited in poll, or gave it one);
 * undefined until the process's first read or write, which starts the clock. Started when the
 * module loaded, it counted a run's whole start (the loading and planning before the first read
 * of the stage's reports) as time the streams had kept the loop, and that first read always gave
 * a turn: a 1 ms timer, and Deno's timers module compiled, in every bwrap run (issue 13).
 */
let lastTurn: number | undefined;

/** Whether reads and writes have kept the event loop for TURN_MS or more (see giveTurn). */
function turnDue(): boolean {
  const now = performance.now();
  lastTurn ??= now;
  return now - lastTurn >= TURN_MS;
}

/**
 * Gives the event loop a turn (timers and I/O run before this resolves): a 1 ms timer, as a
 * setTimeout(0) is, which lets other chains of calls take many steps meanwhile.
 */
async function giveTurn(): Promise<void> {
  await sleep(0);
  lastTurn = performance.now();
}

/**
 * What finish() reads into, one for the process: it is synchronous, so no two finish at once,
 * and a run no longer allocates (and zeroes) 64 KiB to learn that nothing is left (issue 16).
 */
const finishBuffer = new Uint8Array(65536);

/**
 * A ByteStream that owns `fd` and closes it on close().
 *
 * Its methods only pass its state to the functions below: V8 compiles a class's methods on their
 * first call, and every run calls these (~0.2 ms a run, the largest part of what V8 still
 * compiled then; issue 13), while the bundle has top-level functions compiled with their file
 * (scripts/eager_compile.ts). A one-line method costs little to compile.
 *
 * @example
 * ```ts ignore
 * const child = await startProgram(config);
 * const socket: FdStream = child.hostSocket; // ww's end of the program's fd 3
 * const buf = new Uint8Array(4096);
 * const n = await socket.read(buf); // null once the program closed its end
 * ```
 */
export class FdStream implements ByteStream {
  readonly #s: StreamState;

  /** Owns `fd`; its waits count in `ops` (whether they keep Deno alive) when given. */
  constructor(fd: number, ops?: OpGroup) {
    this.#s = openStream(fd, ops);
  }

  /** The descriptor (until close). */
  get fd(): number {
    return this.#s.fd;
  }

  /** Settles once the stream is closed (finish or close): nothing more comes from the peer. */
  get ended(): Promise<void> {
    return this.#s.ended.promise;
  }

  // Async, as they were: a misuse (another object as `this`) is a rejection, not a throw.

  /** Resolves once the socket is readable (or closed), without reading anything. */
  async readable(): Promise<void> {
    return await streamReadable(this.#s);
  }

  /** Reads into `p`; resolves to the byte count, or null at end of stream. */
  async read(p: Uint8Array): Promise<number | null> {
    return await readStream(this.#s, p);
  }

  /** Writes all of `p`. */
  async write(p: Uint8Array): Promise<number> {
    return await writeStream(this.#s, p);
  }

  /**
   * Ends the stream once the writer is gone, keeping what it wrote: what is still buffered in the
   * kernel, up to FINISH_MAX_BYTES, is read into memory, the connection is shut down and the
   * descriptor closed, and later reads return that data and then null. (Closing outright would
   * drop a program's last words on its way out.)
   */
  finish(): void {
    finishStream(this.#s);
  }

  /** Ends the stream and closes the descriptor; pending and later reads resolve to null. */
  close(): void {
    closeStream(this.#s);
  }
}

/** An FdStream's state. */
interface StreamState {
  readonly fd: number;
  closed: boolean;
  readonly ended: PromiseWithResolvers<void>;
  /** Data read by finish() and not yet handed out. */
  tail: Uint8Array;
  readonly ops?: OpGroup;
}

function openStream(fd: number, ops: OpGroup | undefined): StreamState {
  // FFI takes "3", 3.5 or NaN as some descriptor: a caller's slip would own another one.
  if (!Number.isInteger(fd) || fd < 0 || fd > INT_MAX) {
    throw new TypeError(`FdStream: ${String(fd)} is not a descriptor (0 to ${INT_MAX})`);
  }
  const c = libc();
  const flags = check("fcntl", c.fcntl(fd, F_GETFL, 0), `F_GETFL on fd ${fd}`);
  check("fcntl", c.fcntl(fd, F_SETFL, flags | O_NONBLOCK), `F_SETFL on fd ${fd}`);
  return { fd, closed: false, ended: Promise.withResolvers<void>(), tail: new Uint8Array(0), ops };
}

async function streamReadable(s: StreamState): Promise<void> {
  if (s.tail.length === 0) await pollStream(s, POLLIN);
}

async function readStream(s: StreamState, p: Uint8Array): Promise<number | null> {
  for (;;) {
    if (s.tail.length > 0) {
      const n = Math.min(p.length, s.tail.length);
      p.set(s.tail.subarray(0, n));
      s.tail = s.tail.subarray(n);
      return n;
    }
    if (s.closed) return null;
    const n = libc().read(s.fd, p, BigInt(p.length));
    if (n >= 0) {
      if (n > 0 && turnDue()) await giveTurn();
      return n === 0 && p.length > 0 ? null : n;
    }
    const errno = lastErrno();
    if (errno !== EAGAIN && errno !== EINTR) {
      if (s.closed) return null;
      throw new SyscallError("read", errno, `fd ${s.fd}`);
    }
    await pollStream(s, POLLIN);
  }
}

async function writeStream(s: StreamState, p: Uint8Array): Promise<number> {
  let off = 0;
  while (off < p.length) {
    if (s.closed) throw new SyscallError("write", EBADF, `fd ${s.fd} is closed`);
    const chunk = p.subarray(off);
    // Deno ignores SIGPIPE, so a vanished reader is an EPIPE here, not a signal.
    const n = libc().write(s.fd, chunk, BigInt(chunk.length));
    if (n >= 0) {
      off += n;
      if (turnDue()) await giveTurn();
      continue;
    }
    const errno = lastErrno();
    if (errno !== EAGAIN && errno !== EINTR) {
      throw new SyscallError("write", errno, `fd ${s.fd}`);
    }
    await pollStream(s, POLLOUT);
  }
  return p.length;
}

/**
 * The most finish() keeps: several times what a socket buffers by default (wmem_max, ~208 KiB),
 * where a writer that ended left its last words. More comes only from a writer that is still
 * there (a process the program left behind, holding a copy of its end): under --jail=none such
 * writers kept finish() reading, ww frozen, for as long as they wrote, gigabytes into memory.
 */
export const FINISH_MAX_BYTES = 4 << 20;

function finishStream(s: StreamState): void {
  if (s.closed) return;
  const chunks: Uint8Array[] = [s.tail];
  for (let kept = 0; kept < FINISH_MAX_BYTES;) {
    const want = Math.min(finishBuffer.length, FINISH_MAX_BYTES - kept);
    const n = libc().read(s.fd, finishBuffer, BigInt(want));
    if (n <= 0) break; // EOF, or EAGAIN: nothing more is buffered
    chunks.push(finishBuffer.slice(0, n));
    kept += n;
  }
  s.tail = concatBytes(chunks);
  closeStream(s);
}

function closeStream(s: StreamState): void {
  if (s.closed) return;
  s.closed = true;
  s.ended.resolve();
  // shutdown ends the connection for the peer even where a copy of this end lives on; the
  // reactor ends this stream's waits, and closes the fd once no poll watches it, so that its
  // number cannot be reused under a poll.
  libc().shutdown(s.fd, SHUT_RDWR);
  closeWatched(s.fd);
}

async function pollStream(s: StreamState, events: number): Promise<void> {
  if (s.closed) return;
  await whenReady(s.fd, events, s.ops).ready;
  lastTurn = performance.now();
}

/** How much a piped stdio stream reads at once; one chunk is all it holds unread. */
const CHUNK_BYTES = 65536;

/**
 * A ReadableStream over `stream` that reads only when its consumer asks (one chunk held at a
 * time, so a fast writer cannot fill ww's memory); closes `stream` at the end or on cancel.
 */
export function readableOf(stream: FdStream): ReadableStream<Uint8Array<ArrayBuffer>> {
  return new ReadableStream<Uint8Array<ArrayBuffer>>({
    async pull(controller) {
      const buf = new Uint8Array(CHUNK_BYTES);
      let n: number | null;
      try {
        n = await stream.read(buf);
      } catch (e) {
        stream.close();
        throw e;
      }
      if (n === null) {
        stream.close();
        controller.close();
      } else {
        controller.enqueue(buf.subarray(0, n));
      }
    },
    cancel() {
      stream.close();
    },
  }, { highWaterMark: 0 });
}

/**
 * A WritableStream over `stream` (a pipe's write end), closed when the stream is closed, aborted
 * or a write fails: a failed write errors the WritableStream, which then calls neither close nor
 * abort, and the descriptor stayed open in the caller's process for good, one a run. A reader that
 * is gone (EPIPE) is Deno's BrokenPipe, as a Deno.Command child's stdin reports it.
 */
export function writableOf(stream: FdStream): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      try {
        await stream.write(bytesOf(chunk));
      } catch (e) {
        stream.close();
        if (e instanceof SyscallError && e.errno === EPIPE) {
          throw new Deno.errors.BrokenPipe("the program's stdin is closed: it ended or closed it");
        }
        throw e;
      }
    },
    close() {
      stream.close();
    },
    abort() {
      stream.close();
    },
  });
}

/**
 * The bytes of a chunk written to a program's stdin, as Deno's own streams take them: any
 * ArrayBufferView (a Uint16Array's every byte, not its first length bytes) or ArrayBuffer; a
 * TypeError for anything else (a string).
 */
function bytesOf(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) {
    return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
  if (chunk instanceof ArrayBuffer || chunk instanceof SharedArrayBuffer) {
    return new Uint8Array(chunk);
  }
  const what = chunk === null ? "null" : typeof chunk;
  throw new TypeError(
    `stdin: a chunk must be an ArrayBuffer or an ArrayBufferView (a Uint8Array), not ${what}`,
  );
}

/** readAllText's decoder, used without `stream`: it keeps nothing between calls. */
const utf8 = new TextDecoder();

/**
 * Everything `stream` carries until its end, as UTF-8 text.
 *
 * @example
 * ```ts ignore
 * const text = await readAllText(new FdStream(pipeReadEnd));
 * ```
 */
export async function readAllText(stream: ByteStream): Promise<string> {
  // The bytes, decoded once at the end: each run reads its stage's reports so, and a decoder and
  // a string per read were garbage (issue 16).
  let buf = new Uint8Array(4096);
  let length = 0;
  for (;;) {
    if (length === buf.length) {
      const more = new Uint8Array(2 * buf.length);
      more.set(buf);
      buf = more;
    }
    const n = await stream.read(buf.subarray(length));
    if (n === null) return utf8.decode(buf.subarray(0, length));
    length += n;
  }
}
