// ffi/socket_basics.ts — the socket calls of ww's own run, apart from its grants' (ffi/socket.ts,
// which only runs with --listen, --connect or --open, and --explain, load): the loopback port
// held for Deno's inspector (run/inspector_port.ts), whether a descriptor is a unix datagram
// socket (run/jail_checks.ts), the autobind of a unix socket handed over (run/launch.ts); and
// withSocket, the fresh socket each of them and ffi/socket.ts start from. Through libc's first
// and jail groups only.

import { check, libc, libcJail, SyscallError } from "./libc.ts";

export const AF_UNIX = 1;
const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
const SO_TYPE = 3;
const SO_DOMAIN = 39;
const SO_REUSEPORT = 15;

/** Runs `use` on a fresh close-on-exec socket; closes it when `use` throws. */
export function withSocket(domain: number, type: number, use: (fd: number) => void): number {
  const fd = check("socket", libc().socket(domain, type | SOCK_CLOEXEC, 0));
  try {
    use(fd);
    return fd;
  } catch (e) {
    libc().close(fd);
    throw e;
  }
}

/**
 * A TCP socket bound to 127.0.0.1:`port` and not listening: it accepts nothing, and keeps the
 * port from any socket that would listen there. SO_REUSEPORT lets every process of the same user
 * hold the same port this way at once; a socket without it (a listener, which sets SO_REUSEADDR
 * only) is refused the port while one is held. Undefined when the port is taken already.
 */
export function holdLoopbackPort(port: number): number | undefined {
  const addr = new Uint8Array(16);
  const view = new DataView(addr.buffer);
  view.setUint16(0, AF_INET, true);
  view.setUint16(2, port, false);
  addr.set([127, 0, 0, 1], 4);
  try {
    return withSocket(AF_INET, SOCK_STREAM, (fd) => {
      check("setsockopt", libc().setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, new Int32Array([1]), 4));
      check("bind", libc().bind(fd, addr, addr.length));
    });
  } catch (e) {
    if (e instanceof SyscallError && e.code === "EADDRINUSE") return undefined;
    throw e;
  }
}

/**
 * Whether ww's descriptor `fd` is a unix datagram socket (false for any other descriptor).
 *
 * @example
 * isUnixDatagram(0); // false for a terminal, a file or a pipe
 */
export function isUnixDatagram(fd: number): boolean {
  return intOption(fd, SO_DOMAIN) === AF_UNIX && (intOption(fd, SO_TYPE) & 0xff) === SOCK_DGRAM;
}

/** The int value of socket option `name` (SOL_SOCKET) of `fd`; -1 when it has none (no socket). */
function intOption(fd: number, name: number): number {
  optionLength[0] = 4;
  return libcJail().getsockopt(fd, SOL_SOCKET, name, optionValue, optionLength) === 0
    ? optionValue[0]
    : -1;
}

// intOption's and autobindUnix's buffers: one set a process, no garbage a run (issue 16).
const optionValue = new Int32Array(1);
const optionLength = new Uint32Array(1);
const nameBuffer = new Uint8Array(128);
const nameLength = new Uint32Array(1);
const familyOnly = new Uint8Array(new Uint16Array([AF_UNIX]).buffer);

/**
 * Gives ww's descriptor `fd`, when it is a unix socket with no address yet, one the kernel picks
 * (autobind: an abstract name of 5 hex digits), so that nobody holding it can bind it to a name
 * of their choosing afterwards (a bound socket refuses a second bind). True when it bound it.
 *
 * @example
 * const [a] = unixSocketPair();
 * autobindUnix(a); // true: a socketpair's ends have no address
 * autobindUnix(a); // false: it has one now
 */
export function autobindUnix(fd: number): boolean {
  if (intOption(fd, SO_DOMAIN) !== AF_UNIX) return false;
  nameLength[0] = nameBuffer.length;
  // An unnamed unix socket's address is its family alone (2 bytes).
  if (libcJail().getsockname(fd, nameBuffer, nameLength) !== 0 || nameLength[0] > 2) return false;
  return libc().bind(fd, familyOnly, 2) === 0;
}
