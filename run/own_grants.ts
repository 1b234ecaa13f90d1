// run/own_grants.ts — opens the grants ww opens itself (`--listen`, `--connect`, `--open`) with
// the caller's own rights, just before the program starts, and turns each into a descriptor
// grant laid out after the caller's. A failure closes everything opened so far, removes any
// socket file ww created, and reports one line naming the grant (fd/grants.ts words it).

import { closeFd } from "../ffi/fd.ts";
import { SyscallError } from "../ffi/libc.ts";
import {
  AF_INET6,
  boundAddress,
  connectSocket,
  listenSocket,
  openPath,
  resolveInet,
  unixSockaddr,
  UnknownHostError,
} from "../ffi/socket.ts";
import {
  type Address,
  formatInetAddress,
  grantFailure,
  openFlags,
  ownFdGrant,
  type OwnGrant,
  parseAddress,
} from "../fd/grants.ts";
import type { FdGrant } from "../fd/layout.ts";
import { GrantError } from "../core/errors.ts";
import type { Cleanups } from "./launch.ts";

/** How long `--connect` waits for a connection to be made. */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Where a `--listen` grant landed.
 *
 * @example
 * ```ts ignore
 * const child = await startProgram({ ...config, own: [{ name: "http", listen: "tcp:127.0.0.1:0" }] });
 * const [http]: readonly Listener[] = child.listeners; // http.address: "127.0.0.1:43121"
 * ```
 */
export interface Listener {
  /** The grant's name. */
  readonly name: string;
  /** The address as asked, e.g. "tcp:127.0.0.1:0". */
  readonly listen: string;
  /** Where it is bound: "127.0.0.1:43121", "[::1]:8080" or "unix:/run/app.sock". */
  readonly address: string;
}

/** The opened grants: descriptors for the fd plan, and where the listeners landed. */
export interface OpenedGrants {
  readonly fds: readonly FdGrant[];
  readonly listeners: readonly Listener[];
  /** Closes ww's copies, once the program holds its own (a connection must end with it). */
  readonly closeInWw: () => void;
}

/**
 * Opens every grant; under `socketActivation` the listeners are laid out from fd 3 (see
 * ownFdGrant). `cleanups` closes the descriptors and removes socket files ww created when
 * the run ends or starting fails. Throws a SetupError naming the first grant that failed.
 */
export async function openOwnGrants(
  own: readonly OwnGrant[],
  cleanups: Cleanups,
  socketActivation = false,
): Promise<OpenedGrants> {
  const fds: FdGrant[] = [];
  const listeners: Listener[] = [];
  const closers: (() => void)[] = [];
  for (const g of own) {
    let fd: number;
    try {
      fd = await openOne(g, cleanups, listeners);
    } catch (e) {
      const code = e instanceof UnknownHostError
        ? "unknown host"
        : e instanceof SyscallError
        ? e.code
        : undefined;
      if (code === undefined) throw e;
      throw new GrantError(g.name, grantFailure(g, code, "library"), {
        cause: e,
        commandLine: grantFailure(g, code),
      });
    }
    closers.push(cleanups.add(() => closeFd(fd)));
    fds.push(ownFdGrant(g, fd, socketActivation));
  }
  return { fds, listeners, closeInWw: () => closers.forEach((c) => c()) };
}

async function openOne(g: OwnGrant, cleanups: Cleanups, listeners: Listener[]): Promise<number> {
  if ("open" in g) return await openFile(g.open, g.mode ?? "r");
  const text = "listen" in g ? g.listen : g.connect;
  // Checked before: ownGrantsProblem.
  const address = parseAddress(text) as Address;
  if ("connect" in g) {
    const candidates = address.kind === "unix"
      ? [unixSockaddr(address.path)]
      : await resolveInet(address.host, address.port, false);
    let last: unknown = new SyscallError("connect", 99);
    for (const addr of candidates) {
      try {
        return await connectSocket(addr, CONNECT_TIMEOUT_MS);
      } catch (e) {
        last = e;
      }
    }
    throw last;
  }
  if (address.kind === "unix") {
    // bind refuses a path that exists (EADDRINUSE): ww never replaces a file.
    let fd: number;
    try {
      fd = listenSocket(unixSockaddr(address.path), false);
    } catch (e) {
      // bind made the file before listen failed: it is ww's, so it goes.
      if (e instanceof SyscallError && e.syscall === "listen") Deno.removeSync(address.path);
      throw e;
    }
    cleanups.add(() => Deno.removeSync(address.path));
    listeners.push({ name: g.name, listen: text, address: `unix:${address.path}` });
    return fd;
  }
  const [addr] = await resolveInet(address.host, address.port, address.kind === "udp");
  const fd = listenSocket(addr, address.kind === "udp");
  try {
    const bound = boundAddress(fd);
    const at = formatInetAddress(bound.family === AF_INET6 ? 10 : 2, bound.port, bound.addr);
    listeners.push({ name: g.name, listen: text, address: at });
    return fd;
  } catch (e) {
    closeFd(fd);
    throw e;
  }
}

async function openFile(path: string, mode: "r" | "w" | "a" | "rw"): Promise<number> {
  const fd = await openPath(path, openFlags(mode));
  try {
    // O_RDONLY opens a directory too; the program was promised a file.
    if (Deno.statSync(`/proc/self/fd/${fd}`).isDirectory) {
      throw new SyscallError("open", 21, path);
    }
    return fd;
  } catch (e) {
    closeFd(fd);
    throw e;
  }
}
