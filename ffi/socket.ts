// ffi/socket.ts — the sockets and files ww opens for its own grants (`--listen`, `--connect`,
// `--open`), through libc, so that ww holds real descriptor numbers to hand over (Deno's own
// listeners and connections expose none). Every descriptor is close-on-exec in ww; on failure
// nothing is left open. Errors are SyscallErrors; run/own_grants.ts words them for people.

import { EINPROGRESS, EINTR, ENXIO } from "./errno.ts";
import {
  check,
  cString,
  I32,
  I64,
  lastErrno,
  libc,
  libcJail,
  openLibrary,
  POINTER,
  type Symbols,
  SyscallError,
  workerMemory,
} from "./libc.ts";
import { F_GETFL, F_SETFL, O_ACCMODE, O_NONBLOCK, O_PATH, O_RDWR, POLLOUT } from "./flags.ts";
import { AT_FDCWD, holdNoSymlinks, openHowNoLinks, SYS_OPENAT2 } from "./open.ts";
import {
  AF_INET6,
  AF_UNIX,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
  withSocket,
} from "./socket_basics.ts";

/** The calls of grants' sockets and files beyond libc's first group (socket, bind, setsockopt). */
const socketSymbols = {
  listen: { parameters: [I32, "i32"], result: "i32" },
  connect: { parameters: [I32, "buffer", "u32"], result: "i32" },
  // A connect's SO_ERROR, here as well as in libc's jail group (ffi/socket_basics.ts intOption):
  // an unjailed --connect would otherwise bind that whole group for one call.
  getsockopt: { parameters: [I32, "i32", "i32", "buffer", "buffer"], result: "i32" },
  // A FIFO's open waits for its other end: on a worker thread, so that ww's event loop goes on
  // (forwarding signals). Its errno is lost there; a failure is asked again on the main thread.
  open_wait: {
    name: "open",
    parameters: ["buffer", "i32", "u32"],
    result: "i32",
    nonblocking: true,
  },
  // openat2(2), which glibc does not wrap: `syscall` with this call's argument shape, on the main
  // thread and, for a FIFO that waits for its other end, on a worker thread (as open_wait). Here,
  // not libc's jail group (syscall_openat2): an unjailed --open would bind that whole group for one call.
  openat2: {
    name: "syscall",
    parameters: [I64, "i32", "buffer", "buffer", "usize"],
    result: "i32",
  },
  openat2_wait: {
    name: "syscall",
    parameters: ["i64", "i32", "buffer", "buffer", "usize"],
    result: "i64",
    nonblocking: true,
  },
  // Name lookups may wait on DNS: run on a worker thread. Their result is the error code (EAI_*),
  // not errno, so the thread does not matter.
  getaddrinfo: {
    // The result's pointer is written at the last: into workerMemory.
    parameters: ["buffer", "buffer", "buffer", "pointer"],
    result: "i32",
    nonblocking: true,
  },
  freeaddrinfo: { parameters: [POINTER], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

let library: Symbols<typeof socketSymbols> | undefined;
function sock(): Symbols<typeof socketSymbols> {
  return library ??= openLibrary(socketSymbols);
}

const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SO_REUSEADDR = 2;
const SO_ERROR = 4;
const SOMAXCONN = 4096;
const AI_NUMERICSERV = 0x400;

/** A host name getaddrinfo did not resolve (EAI_NONAME, or EAI_AGAIN where no DNS answers). */
export class UnknownHostError extends Error {
  constructor(readonly host: string, readonly eai: number) {
    super(`unknown host ${host}`);
    this.name = "UnknownHostError";
  }
}

/**
 * The addresses of host:port for a socket type, in getaddrinfo's order. Aborting `signal` ends
 * the wait for them: resolveInet then throws the abort's reason.
 */
export async function resolveInet(
  host: string,
  port: number,
  datagram: boolean,
  signal?: AbortSignal,
): Promise<Uint8Array[]> {
  signal?.throwIfAborted();
  const hints = new Uint8Array(48);
  const view = new DataView(hints.buffer);
  view.setInt32(0, AI_NUMERICSERV, true);
  view.setInt32(8, datagram ? SOCK_DGRAM : SOCK_STREAM, true);
  const node = cString(host);
  const service = cString(String(port));
  const memory = workerMemory(8);
  const out = new BigUint64Array(memory.buffer);
  // Aborted, a lookup that ends after all frees its list; its buffers are kept until then.
  const rc = await untilAborted(
    sock().getaddrinfo(node, service, hints, memory.at),
    signal,
    (rc) => {
      void [node, service, hints];
      if (rc === 0) sock().freeaddrinfo(Deno.UnsafePointer.create(out[0]));
      memory.free();
    },
  ).catch((e) => {
    // Aborted: the lookup frees it when it ends.
    if (!signal?.aborted) memory.free();
    throw e;
  });
  const head = rc === 0 ? Deno.UnsafePointer.create(out[0]) : null;
  memory.free();
  if (rc !== 0) throw new UnknownHostError(host, rc);
  const addresses: Uint8Array[] = [];
  // struct addrinfo on LP64: flags, family, socktype, protocol (4 x i32), addrlen (u32, padded),
  // addr (pointer at 24), canonname (32), next (40).
  for (let p = head; p !== null;) {
    const info = new Deno.UnsafePointerView(p);
    const len = info.getUint32(16);
    const addr = info.getPointer(24);
    if (addr !== null) {
      addresses.push(new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(addr, len).slice(0)));
    }
    p = info.getPointer(40);
  }
  sock().freeaddrinfo(head);
  return addresses;
}

/** A sockaddr_un for `path` (at most 107 bytes, checked by the caller). */
export function unixSockaddr(path: string): Uint8Array {
  const bytes = new TextEncoder().encode(path);
  const addr = new Uint8Array(2 + bytes.length + 1);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(bytes, 2);
  return addr;
}

function family(addr: Uint8Array): number {
  return new DataView(addr.buffer, addr.byteOffset).getUint16(0, true);
}

/**
 * A socket bound to `addr` and, for a stream, listening with backlog SOMAXCONN (the kernel caps it
 * at net.core.somaxconn). A TCP listener sets SO_REUSEADDR, as servers do, so that a port whose
 * last connections linger in TIME_WAIT can be bound again; a live listener still refuses it.
 */
export function listenSocket(addr: Uint8Array, datagram: boolean): number {
  const f = family(addr);
  return withSocket(f, datagram ? SOCK_DGRAM : SOCK_STREAM, (fd) => {
    if (!datagram && f !== AF_UNIX) {
      const one = new Int32Array([1]);
      check("setsockopt", libc().setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4));
    }
    check("bind", libc().bind(fd, addr, addr.length));
    if (!datagram) check("listen", sock().listen(fd, SOMAXCONN));
  });
}

/**
 * A stream socket connected to `addr`, blocking again once connected (as a program expects);
 * a connection not made within `timeoutMs` fails with ETIMEDOUT. Aborting `signal` ends the
 * wait: connectSocket then throws the abort's reason, and holds nothing open.
 */
export async function connectSocket(
  addr: Uint8Array,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<number> {
  signal?.throwIfAborted();
  const fd = check(
    "socket",
    libc().socket(family(addr), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
  );
  try {
    if (sock().connect(fd, addr, addr.length) === -1) {
      const errno = lastErrno();
      if (errno !== EINPROGRESS) throw new SyscallError("connect", errno);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const memory = workerMemory(8);
        const view = new DataView(memory.buffer);
        view.setInt32(0, fd, true);
        view.setInt16(4, POLLOUT, true);
        view.setInt16(6, 0, true);
        // Aborted, the socket is closed at once; the poll on the worker thread ends by its
        // timeout, and frees the pollfd it writes into then.
        const n = await untilAborted(
          libc().poll(memory.at, 1n, Math.max(0, deadline - Date.now())),
          signal,
          () => memory.free(),
        );
        memory.free();
        if (n > 0) break;
        // A signal may cut the wait short (n = -1, errno on another thread): wait the rest.
        if (n === 0 || Date.now() >= deadline) throw new SyscallError("connect", 110);
      }
      const soError = new Int32Array(1);
      const len = new Uint32Array([4]);
      check("getsockopt", sock().getsockopt(fd, SOL_SOCKET, SO_ERROR, soError, len));
      if (soError[0] !== 0) throw new SyscallError("connect", soError[0]);
    }
    const flags = check("fcntl", libc().fcntl(fd, F_GETFL, 0));
    check("fcntl", libc().fcntl(fd, F_SETFL, flags & ~O_NONBLOCK));
    return fd;
  } catch (e) {
    libc().close(fd);
    throw e;
  }
}

/** The address a socket is bound to: family, port and address bytes (network order). */
export function boundAddress(fd: number): { family: number; port: number; addr: Uint8Array } {
  const buf = new Uint8Array(128);
  const len = new Uint32Array([buf.length]);
  check("getsockname", libcJail().getsockname(fd, buf, len));
  return inetParts(buf);
}

/**
 * The family, port and address bytes (network order) of a sockaddr_in or sockaddr_in6, as
 * resolveInet gives them and getsockname writes them.
 */
export function inetParts(
  sockaddr: Uint8Array,
): { family: number; port: number; addr: Uint8Array } {
  const view = new DataView(sockaddr.buffer, sockaddr.byteOffset, sockaddr.byteLength);
  const f = view.getUint16(0, true);
  const port = view.getUint16(2, false);
  // sockaddr_in: address at 4; sockaddr_in6: flowinfo at 4, address at 8.
  const addr = f === AF_INET6 ? sockaddr.slice(8, 24) : sockaddr.slice(4, 8);
  return { family: f, port, addr };
}

/**
 * open(2) with O_CLOEXEC added, retried on EINTR; mode 0666 less the umask for new files. The
 * program gets a blocking descriptor, as from a shell redirection, and, as there, a FIFO's open
 * waits for its other end (a writer for `r`, a reader for `w` and `a`), without stopping ww.
 * With `noSymlinks`, by openat2(2) refusing any symlink on the path (ELOOP): one that appeared
 * since the path was resolved (fd/grant_path.ts) is not followed. Aborting `signal` ends a wait
 * for a FIFO's other end: openPath then throws the abort's reason, and holds nothing open.
 */
export async function openPath(
  path: string,
  flags: number,
  noSymlinks = false,
  signal?: AbortSignal,
): Promise<number> {
  const p = cString(path);
  const opener = noSymlinks ? openat2Opener(flags) : openOpener(flags);
  const readOnly = (flags & O_ACCMODE) === 0;
  // A FIFO to read waits for a writer, on a worker thread. Not by a nonblocking open first: that
  // makes ww a reader at once, so a writer could open, write and close before ww reopens to
  // wait, and the line would be lost with ww waiting forever (seen under load).
  let fd = readOnly && isFifo(path) ? -1 : openNow(p, opener, path);
  // O_NONBLOCK: a FIFO opens at once for reading (it became one after the check: wait as above),
  // or fails ENXIO for writing (nothing reads it yet: wait for a reader).
  if (fd === -1 || (readOnly && Deno.statSync(`/proc/self/fd/${fd}`).isFifo)) {
    if (fd !== -1) libc().close(fd);
    fd = await waitForOtherEnd(p, opener, path, noSymlinks, signal);
    if (fd === -1) {
      const again = openNow(p, opener, path);
      if (again !== -1) libc().close(again);
      throw new SyscallError(noSymlinks ? "openat2" : "open", 5, path);
    }
    return fd;
  }
  const status = libc().fcntl(fd, F_GETFL, 0);
  if (status !== -1 && libc().fcntl(fd, F_SETFL, status & ~O_NONBLOCK) !== -1) return fd;
  const errno = lastErrno();
  libc().close(fd);
  throw new SyscallError("fcntl", errno, path);
}

/**
 * The open that waits for a FIFO's other end, on a worker thread. Aborting `signal` rejects it
 * with the abort's reason at once, and ends the wait: ww opens the FIFO it waits on for reading
 * and writing, which never waits and is both ends at once, so the open on the worker thread
 * returns, and ww closes what it got.
 */
async function waitForOtherEnd(
  p: Uint8Array<ArrayBuffer>,
  opener: Opener,
  path: string,
  noSymlinks: boolean,
  signal: AbortSignal | undefined,
): Promise<number> {
  signal?.throwIfAborted();
  const waitedOn = signal && fifoIdentity(path);
  return await untilAborted(
    opener.wait(p),
    signal,
    (fd) => fd !== -1 && libc().close(fd),
    () => waitedOn && releaseFifo(path, noSymlinks, waitedOn),
  );
}

/**
 * `work`, a call that runs on a worker thread, or the reason of `signal`'s abort as soon as it is
 * aborted: `stop` then ends the call early where it can, and `late` releases what the call gives
 * when it ends after all (and holds what the call still uses until then).
 */
function untilAborted<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  late: (value: T) => void = () => {},
  stop: () => void = () => {},
): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const abort = () => {
      if (settled) return;
      settled = true;
      reject(signal.reason);
      stop();
    };
    if (signal.aborted) abort();
    else signal.addEventListener("abort", abort, { once: true });
    work.then((value) => {
      signal.removeEventListener("abort", abort);
      if (settled) return late(value);
      settled = true;
      resolve(value);
    }, (e) => {
      signal.removeEventListener("abort", abort);
      if (settled) return;
      settled = true;
      reject(e);
    });
  });
}

/** The device and inode of the file at `path` (followed), when it is a FIFO, as Deno reads them. */
export function fifoIdentity(path: string): { dev: number; ino: number } | undefined {
  try {
    const info = Deno.statSync(path);
    return info.isFifo && info.ino !== null ? { dev: info.dev, ino: info.ino } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Opens the FIFO `path` names, for reading and writing, and closes it: whoever waits in an open
 * for its other end is let through. Only the very FIFO that was waited on (`waitedOn`).
 */
function releaseFifo(path: string, noSymlinks: boolean, waitedOn: { dev: number; ino: number }) {
  const both = openBothEnds(path, noSymlinks, waitedOn);
  if (both !== undefined) libc().close(both);
}

/**
 * A descriptor of the very FIFO `fifo` (fifoIdentity) that `path` names, open for reading and
 * writing (close-on-exec): both its ends at once, which never waits, so every open of either end
 * goes through while ww holds it. Undefined when `path` names another file by now (it is opened
 * only as O_PATH, so nothing happens to it), has a link on it when `noSymlinks`, or is gone.
 */
export function openBothEnds(
  path: string,
  noSymlinks: boolean,
  fifo: { dev: number; ino: number },
): number | undefined {
  let held = -1;
  try {
    held = noSymlinks
      ? holdNoSymlinks(path)
      : check("open", libc().open(cString(path), O_PATH | SOCK_CLOEXEC, 0), path);
    const now = Deno.statSync(`/proc/self/fd/${held}`);
    if (!now.isFifo || now.dev !== fifo.dev || now.ino !== fifo.ino) return undefined;
    const both = libc().open(
      cString(`/proc/self/fd/${held}`),
      O_RDWR | O_NONBLOCK | SOCK_CLOEXEC,
      0,
    );
    return both === -1 ? undefined : both;
  } catch {
    // Gone, or no longer reachable as it was.
    return undefined;
  } finally {
    if (held !== -1) libc().close(held);
  }
}

/** How openPath opens: at once (with O_NONBLOCK added), and waiting on a worker thread. */
interface Opener {
  readonly syscall: string;
  now(p: Uint8Array<ArrayBuffer>): number;
  wait(p: Uint8Array<ArrayBuffer>): Promise<number>;
}

function openOpener(flags: number): Opener {
  return {
    syscall: "open",
    now: (p) => libc().open(p, flags | O_NONBLOCK | SOCK_CLOEXEC, 0o666),
    wait: (p) => sock().open_wait(p, flags | SOCK_CLOEXEC, 0o666),
  };
}

/** openat2 with RESOLVE_NO_SYMLINKS and RESOLVE_NO_MAGICLINKS: no link anywhere on the path. */
function openat2Opener(flags: number): Opener {
  // One open_how for each kind of open; the worker thread's is kept until its call returns (it
  // is this function's, not reused).
  const nowHow = openHowNoLinks(flags | O_NONBLOCK | SOCK_CLOEXEC);
  const waitHow = openHowNoLinks(flags | SOCK_CLOEXEC);
  return {
    syscall: "openat2",
    now: (p) => sock().openat2(SYS_OPENAT2, AT_FDCWD, p, nowHow, 24n),
    wait: async (p) => Number(await sock().openat2_wait(SYS_OPENAT2, AT_FDCWD, p, waitHow, 24n)),
  };
}

/** Whether `path` names a FIFO now; false when it cannot be stat'ed (open says why). */
function isFifo(path: string): boolean {
  return fifoIdentity(path) !== undefined;
}

/** The open on the main thread, retried on EINTR; -1 for ENXIO (a FIFO nothing reads yet). */
function openNow(p: Uint8Array<ArrayBuffer>, opener: Opener, path: string): number {
  for (;;) {
    const fd = opener.now(p);
    if (fd !== -1) return fd;
    const errno = lastErrno();
    // A FIFO with no reader yet, to wait for. A socket, or a device with nothing behind it
    // (/dev/tty without a terminal), says ENXIO too, and waiting changed it into an EIO.
    if (errno === ENXIO && isFifo(path)) return -1;
    if (errno !== EINTR) throw new SyscallError(opener.syscall, errno, path);
  }
}
