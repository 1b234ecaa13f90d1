// run/own_grants.ts — opens the grants ww opens itself (`--listen`, `--connect`, `--open`) with
// the caller's own rights, just before the program starts, and turns each into a descriptor
// grant laid out after the caller's. A failure closes everything opened so far, removes any
// socket file ww created, and reports one line naming the grant (fd/grant_open.ts words it); so
// does a run refused after its grants were opened, which also removes the files an `--open`
// created, and, when ww refused it, truncates no `:w` file (OpenedGrants.start does, right before
// the spawn). A `--listen unix:PATH` takes over a socket nobody listens on, as servers do
// (listenUnix). Grants of one run that are each other's other end find each other: a --connect
// its --listen (opened first), both ends of one FIFO (holdBothEnds). A FIFO's --opens come last:
// no other grant's refusal waits behind a FIFO end's wait for its other end.

import { EADDRINUSE, ENOTSOCK } from "../ffi/errno.ts";
import { O_CREAT, O_EXCL } from "../ffi/flags.ts";
import { closeFd, fdState, truncateFd } from "../ffi/fd.ts";
import {
  fileIdentity,
  fileOwner,
  holdFile,
  isSocketDescriptor,
  isStillAt,
  pathKind,
  sameFile,
} from "../ffi/stat.ts";
import { lockDirectory, tryLockDirectory } from "../ffi/lock.ts";
import { SyscallError } from "../ffi/libc.ts";
import { outOfDescriptors } from "./out_of_descriptors.ts";
import { holdNoSymlinks, nameInHeldDirectory } from "../ffi/open.ts";
import { AF_INET6 } from "../ffi/socket_basics.ts";
import {
  boundAddress,
  connectSocket,
  fifoIdentity,
  inetParts,
  listenSocket,
  openBothEnds,
  openPath,
  resolveInet,
  unixSockaddr,
  UnknownHostError,
} from "../ffi/socket.ts";
import {
  type Address,
  grantLabel,
  listensThereAlready,
  type OpenMode,
  ownFdGrant,
  type OwnGrant,
  parseAddress,
  UNIX_PATH_MAX,
} from "../fd/grants.ts";
import {
  bindsOverlap,
  formatInetAddress,
  grantFailure,
  grantPath,
  holdsBothEnds,
  makesPath,
  openFlags,
  takenUnixPathStep,
} from "../fd/grant_open.ts";
import type { LaidOutGrant } from "../fd/layout.ts";
import { GrantError, InterruptedError, TimedOutError } from "../core/errors.ts";
import { fromCallerCwd } from "./caller_env.ts";
import type { Cleanups } from "./launch.ts";
import { signalName } from "./signals.ts";
import { trustedPath, UntrustedLinkError } from "./trusted_path.ts";

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
  readonly fds: readonly LaidOutGrant[];
  readonly listeners: readonly Listener[];
  /**
   * The run has passed every check of ww's and its program is about to be spawned: truncates each
   * `:w` file. (A refusal of the jail's own after the spawn, a --chdir its user cannot enter or
   * bwrap failing, finds it truncated: the stage would have to truncate it, right before execve.)
   */
  readonly start: () => void;
  /** The program has started: the files the `--open`s created stay (a failed start removes them). */
  readonly keep: () => void;
  /** Closes ww's copies, once the program holds its own (a connection must end with it). */
  readonly closeInWw: () => void;
}

/**
 * Opens every grant, the --listens first: a --connect to the run's own --listen then finds it
 * listening, whichever name comes first (it was refused when its name did). Then the others in
 * flag order, the --opens of a FIFO last (fifoAt): a later grant's refusal once came only
 * after an earlier FIFO end's wait for its other end, which could last until a signal. Under
 * `socketActivation` the listeners are laid out from fd 3 (see ownFdGrant); every other grant by
 * name (fd/layout.ts), whatever the order they were opened in. `cleanups` closes the descriptors
 * and removes socket files ww created when the run ends or starting fails. Throws a SetupError
 * naming the first grant that failed.
 */
export async function openOwnGrants(
  own: readonly OwnGrant[],
  cleanups: Cleanups,
  socketActivation = false,
  signal?: AbortSignal,
): Promise<OpenedGrants> {
  const fds: LaidOutGrant[] = [];
  const listeners: Listener[] = [];
  const closers: (() => void)[] = [];
  const truncate: number[] = [];
  let truncated = false;
  let kept = false;
  // This run's listeners so far: a later --listen of an address one of them holds, written
  // another way, is told so (ownListenerThere).
  const listening: { readonly g: OwnGrant; readonly fd: number }[] = [];
  // The --open grants of a FIFO come last, in flag order: their opens may wait for the other end,
  // and every other grant's refusal comes before any wait, and before the hold of a FIFO's both
  // ends (holdBothEnds) lets in whoever else waits on it.
  const fifoEnds = own.filter((g) => fifoAt(g) !== undefined);
  const order = [
    ...own.filter((g) => "listen" in g),
    ...own.filter((g) => !("listen" in g) && !fifoEnds.includes(g)),
    ...fifoEnds,
  ];
  let bothEnds: HeldEnds | undefined;
  // The descriptors this run opened for its grants so far, and the held ends: the caller's,
  // opened by path, not ww's own (isOwnDescriptor).
  const granted = new Set<number>();
  try {
    for (const g of order) {
      if (g === fifoEnds[0]) {
        bothEnds = holdBothEnds(fifoEnds);
        bothEnds.fds.forEach((fd) => granted.add(fd));
      }
      let fd: number;
      let file: OpenedFile | undefined;
      try {
        const via = bothEnds?.heldFor.get(g);
        const opened = await openOne(g, cleanups, listeners, granted, signal, via);
        fd = typeof opened === "number" ? opened : opened.fd;
        if (typeof opened !== "number") {
          file = opened;
          if (opened.truncate) truncate.push(opened.fd);
        }
      } catch (e) {
        if (e instanceof InterruptedError && e === signal?.reason) throw interruptedWait(g, e);
        if (e instanceof TimedOutError && e === signal?.reason) throw timedOutWait(g, e);
        // Out of descriptors is ww's limit, not the grant's: said as everywhere else.
        const shortage = outOfDescriptors(e);
        if (shortage) throw shortage;
        const twin = await ownListenerThere(g, e, listening, signal);
        if (twin) {
          throw new GrantError(g.name, listensThereAlready(g, twin, "library"), {
            cause: e,
            commandLine: listensThereAlready(g, twin),
          });
        }
        throw grantError(g, e) ?? e;
      }
      granted.add(fd);
      if ("listen" in g) listening.push({ g, fd });
      closers.push(cleanups.add(() => closeFd(fd)));
      const created = file?.created ? file : undefined;
      if (created) cleanups.add(() => kept || removeIfStillThere(created));
      fds.push(ownFdGrant(g, fd, socketActivation));
    }
  } finally {
    bothEnds?.fds.forEach(closeFd);
  }
  return {
    fds,
    listeners,
    start: () => {
      if (truncated) return; // a second launcher (bwrap fell back to native) starts it again
      truncated = true;
      truncate.forEach(truncateFd);
    },
    keep: () => {
      kept = true;
    },
    closeInWw: () => closers.forEach((c) => c()),
  };
}

/**
 * For each FIFO that `own` grants both ends of (fd/grant_open.ts holdsBothEnds), a descriptor of
 * ww's own open on both (ffi/socket.ts openBothEnds), through which each of its grants is opened
 * (openFile's `via`): never waiting for its other end (they are opened one after the other, and
 * the first waited for the second until a signal came), and never another FIFO put at the path
 * since. The caller closes them once the grants are open, before the program starts. A path
 * that cannot be resolved, or opened so, is passed over: its grant's own open says why, in its
 * turn.
 */
function holdBothEnds(own: readonly OwnGrant[]): HeldEnds {
  const fifos = new Map<string, FifoAt & { modes: OpenMode[]; grants: OwnGrant[] }>();
  for (const g of own) {
    const at = fifoAt(g);
    if (at === undefined || !("open" in g)) continue;
    const key = `${at.id.dev}:${at.id.ino}`;
    const fifo = fifos.get(key) ?? { ...at, modes: [], grants: [] };
    fifo.modes.push(g.mode ?? "r");
    fifo.grants.push(g);
    fifos.set(key, fifo);
  }
  const held: HeldEnds = { fds: [], heldFor: new Map() };
  for (const { path, kernelLinks, id, modes, grants } of fifos.values()) {
    const fd = holdsBothEnds(modes) ? openBothEnds(path, !kernelLinks, id) : undefined;
    if (fd === undefined) continue;
    held.fds.push(fd);
    for (const g of grants) held.heldFor.set(g, fd);
  }
  return held;
}

/** A FIFO an --open names: its trusted path (trustedPath) and its identity (fifoIdentity). */
interface FifoAt {
  readonly path: string;
  readonly kernelLinks: boolean;
  readonly id: { readonly dev: number; readonly ino: number };
}

/** holdBothEnds's descriptors, and which of them each grant of a held FIFO opens through. */
interface HeldEnds {
  readonly fds: number[];
  readonly heldFor: Map<OwnGrant, number>;
}

/**
 * The FIFO that `g`, an --open, names now by its trusted path, with that path; undefined for any
 * other grant or file, and for a path with a link ww does not follow (its own open refuses it, in
 * its turn).
 */
function fifoAt(g: OwnGrant): FifoAt | undefined {
  if (!("open" in g)) return undefined;
  let resolved;
  try {
    resolved = trustedPath(g.open);
  } catch {
    return undefined;
  }
  const id = fifoIdentity(resolved.path);
  return id === undefined ? undefined : { ...resolved, id };
}

/**
 * The earlier grant of this run whose listener holds the address that `g`, a --listen, could not
 * have (`e`: bind's EADDRINUSE, or a unix socket someone listens on), written another way than
 * `g` writes it (`tcp:localhost:80` after `tcp:127.0.0.1:80`, a wildcard's port, a unix path by
 * another name), which ownGrantsProblem, comparing the text, cannot see; undefined when
 * something else holds it, which the kernel's own reason then names.
 */
async function ownListenerThere(
  g: OwnGrant,
  e: unknown,
  listening: readonly { readonly g: OwnGrant; readonly fd: number }[],
  signal: AbortSignal | undefined,
): Promise<OwnGrant | undefined> {
  if (!("listen" in g) || listening.length === 0) return undefined;
  const address = parseAddress(g.listen) as Address;
  const kindOf = (l: OwnGrant) => "listen" in l ? (parseAddress(l.listen) as Address) : undefined;
  if (address.kind === "unix") {
    const there = e instanceof SocketInUseError ? fileIdentity(address.path) : undefined;
    if (there === undefined) return undefined;
    return listening.find(({ g: l }) => {
      const a = kindOf(l);
      const id = a?.kind === "unix" ? fileIdentity(a.path) : undefined;
      return id !== undefined && sameFile(id, there);
    })?.g;
  }
  if (!(e instanceof SyscallError && e.code === "EADDRINUSE")) return undefined;
  let wanted;
  try {
    const [addr] = await resolveInet(address.host, address.port, address.kind === "udp", signal);
    wanted = inetParts(addr);
  } catch {
    return undefined; // resolved a moment ago; the kernel's reason stands
  }
  return listening.find(({ g: l, fd }) =>
    kindOf(l)?.kind === address.kind && bindsOverlap(boundAddress(fd), wanted)
  )?.g;
}

/**
 * Whether `code`, the kernel's ENOENT or EISDIR for a grant that makes a file or socket, is for
 * its path's trailing '/' alone: without it, the path names nothing that is a directory, in a
 * directory that exists (else the kernel's own reason is the one to give).
 */
function onlyTheSlash(g: OwnGrant, code: string): boolean {
  const path = grantPath(g);
  if (!makesPath(g) || !path?.endsWith("/") || !["ENOENT", "EISDIR"].includes(code)) return false;
  const bare = path.replace(/\/+$/, "");
  return bare !== "" && pathKind(bare) !== "dir" && pathKind(directoryOf(bare)) === "dir";
}

/** The GrantError naming `g` for `e`, a failure to open it; undefined for another error. */
function grantError(g: OwnGrant, e: unknown): GrantError | undefined {
  const code = e instanceof UnknownHostError
    ? "unknown host"
    : e instanceof SocketInUseError
    ? "in use"
    : e instanceof UnlockableSocketError
    ? "unlockable"
    : e instanceof LockedSocketError
    ? "locked"
    : e instanceof ForeignSocketError
    ? "foreign"
    : e instanceof UntrustedLinkError
    ? "untrusted link"
    : e instanceof OwnProcessError
    ? e.what === "file" ? "own process" : "own descriptor"
    : e instanceof HeldSocketError
    ? `held socket ${e.fd}`
    : e instanceof SyscallError
    ? onlyTheSlash(g, e.code) ? "trailing slash" : e.code
    : undefined;
  if (code === undefined) return undefined;
  const link = e instanceof UntrustedLinkError ? e.link : undefined;
  return new GrantError(g.name, grantFailure(g, code, "library", link), {
    cause: e,
    commandLine: grantFailure(g, code, "commandLine", link),
  });
}

/**
 * Refuses, as a run does (openOwnGrants), a grant whose path has a link ww does not follow
 * (trustedPath), or a loop, and an `--open` of a file of ww's own process (/proc/self/environ,
 * which /proc resolves with no link left to follow, as a run's open does): for --explain, which
 * opens nothing. The path is the one a run resolves first: an `--open`'s file, a `unix:`
 * socket's (to listen on or connect to). A directory there is left to the run, which names it
 * so.
 */
export function checkOwnGrantPaths(own: readonly OwnGrant[]): void {
  for (const g of own) {
    const address = "open" in g ? undefined : parseAddress("listen" in g ? g.listen : g.connect);
    const path = "open" in g
      ? g.open
      : address && !("error" in address) && address.kind === "unix"
      ? address.path
      : undefined;
    if (path === undefined) continue;
    try {
      const resolved = trustedPath(path);
      if (
        "open" in g && !resolved.kernelLinks && isOwnProcessFile(resolved.path) &&
        pathKind(resolved.path) === "file"
      ) {
        throw new OwnProcessError(path);
      }
    } catch (e) {
      throw grantError(g, e) ?? e;
    }
  }
}

/** A file an `--open` grant opened: what the run must do with it. */
interface OpenedFile {
  readonly fd: number;
  /** Its path, with no link on it (trustedPath), and the file's identity when opened. */
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  /** This open created it: a start that fails removes it. */
  readonly created: boolean;
  /** A `:w` grant of a regular file, truncated when the program starts. */
  readonly truncate: boolean;
}

/**
 * Removes a file a failed start created, if the same file is still at its path. (By identity, not
 * by its descriptor: ww's copy may be closed by then, once the program held its own.)
 */
function removeIfStillThere(file: OpenedFile): void {
  const now = Deno.lstatSync(file.path);
  if (sameFile(now, file)) Deno.removeSync(file.path);
}

/**
 * What ww waited for while it opened grant `g`: the waits of a grant (a FIFO's other end, a name
 * lookup, a connection) are what a start can spend long on.
 */
function waitedFor(g: OwnGrant): string {
  return "open" in g
    ? `for ${(g.mode ?? "r") === "r" ? "a writer" : "a reader"} at the FIFO's other end`
    : "connect" in g
    ? "to connect"
    : "for its address";
}

/**
 * The InterruptedError for a stop that came while ww opened grant `g`, naming the grant and what
 * ww waited for.
 */
function interruptedWait(g: OwnGrant, e: InterruptedError): InterruptedError {
  const why = `stopped by ${signalName(e.signal) ?? `signal ${e.signal}`} while ww waited ${
    waitedFor(g)
  }; nothing was run`;
  return new InterruptedError(`${grantLabel(g, "library")}: ${why}`, e.signal, {
    commandLine: `${grantLabel(g)}: ${why}`,
  });
}

/**
 * The TimedOutError for a timeout (`e`, the run's) that expired while ww opened grant `g`, naming
 * the grant, the timeout and what ww waited for.
 */
function timedOutWait(g: OwnGrant, e: TimedOutError): TimedOutError {
  const why = (limit: string) =>
    `${limit} expired while ww waited ${waitedFor(g)}; nothing was run`;
  return new TimedOutError(
    e.timeoutMs,
    `${grantLabel(g, "library")}: ${why(`jail.timeoutMs ${e.timeoutMs}`)}`,
    { commandLine: `${grantLabel(g)}: ${why(`--timeout ${e.timeoutMs / 1000}s`)}` },
  );
}

async function openOne(
  g: OwnGrant,
  cleanups: Cleanups,
  listeners: Listener[],
  granted: ReadonlySet<number>,
  signal: AbortSignal | undefined,
  via?: number,
): Promise<number | OpenedFile> {
  if ("open" in g) return await openFile(g.open, g.mode ?? "r", granted, signal, via);
  const text = "listen" in g ? g.listen : g.connect;
  // Checked before: ownGrantsProblem.
  const address = parseAddress(text) as Address;
  // A socket's path is resolved as a file's is (trustedPath).
  const unix = address.kind === "unix" ? trustedPath(address.path) : undefined;
  if ("connect" in g && unix && !unix.kernelLinks) {
    // Through a descriptor of the socket file, opened with no link on its path: no link that
    // appeared since the check is followed.
    const held = holdNoSymlinks(unix.path);
    try {
      // connect(2) says ECONNREFUSED for a file that is no socket, as for a server that is down.
      if (!Deno.statSync(`/proc/self/fd/${held}`).isSocket) {
        throw new SyscallError("connect", ENOTSOCK, unix.path);
      }
      return await connectSocket(
        unixSockaddr(`/proc/self/fd/${held}`),
        CONNECT_TIMEOUT_MS,
        signal,
      );
    } finally {
      closeFd(held);
    }
  }
  if ("connect" in g) {
    const candidates = address.kind === "unix"
      ? [unixSockaddr(address.path)]
      : await resolveInet(address.host, address.port, false, signal);
    let last: unknown = new SyscallError("connect", 99);
    for (const addr of candidates) {
      try {
        return await connectSocket(addr, CONNECT_TIMEOUT_MS, signal);
      } catch (e) {
        if (signal?.aborted) throw e;
        last = e;
      }
    }
    throw last;
  }
  if (address.kind === "unix") {
    // bind(2) has no openat2: the socket is bound, probed, taken over and removed through a
    // descriptor of its directory, opened with no link on its path, so no link that appeared
    // since the check is followed. Under /proc the kernel's links are followed, as for --open.
    const dir = unix && !unix.kernelLinks ? heldSocketPath(address.path) : undefined;
    const at = dir?.path ?? address.path;
    try {
      const fd = await listenUnix(at);
      let held: number;
      try {
        held = holdFile(at);
      } catch (e) {
        closeFd(fd);
        removeIfThere(at);
        throw e;
      }
      cleanups.add(() => {
        try {
          removeBoundSocket(at, held);
        } finally {
          dir?.close();
        }
      });
      listeners.push({ name: g.name, listen: text, address: `unix:${address.path}` });
      return fd;
    } catch (e) {
      dir?.close();
      throw e;
    }
  }
  const [addr] = await resolveInet(address.host, address.port, address.kind === "udp", signal);
  const fd = listenSocket(addr, address.kind === "udp");
  try {
    const bound = boundAddress(fd);
    // A link-local address means nothing without the interface it was given with.
    const zone = /%(.+)$/.exec(address.host)?.[1];
    const at = formatInetAddress(bound.family === AF_INET6 ? 10 : 2, bound.port, bound.addr, zone);
    listeners.push({ name: g.name, listen: text, address: at });
    return fd;
  } catch (e) {
    closeFd(fd);
    throw e;
  }
}

/**
 * A file of ww's own process (/proc/self/mem, environ, maps, …), asked for by `--open`: its memory
 * read and written is ww; its environment is the caller's, which the jail was not given. Or a
 * descriptor ww opened itself (isOwnDescriptor).
 */
class OwnProcessError extends Error {
  constructor(readonly path: string, readonly what: "file" | "descriptor" = "file") {
    super(`${path}: ww's own process ${what}`);
    this.name = "OwnProcessError";
  }
}

/**
 * A socket that ww holds as fd `fd` (its stdin, say), asked for by `--open` through /proc: no
 * path opens a socket (ENXIO), and it has no name to --connect to.
 */
class HeldSocketError extends Error {
  constructor(readonly path: string, readonly fd: number) {
    super(`${path}: fd ${fd} is a socket`);
    this.name = "HeldSocketError";
  }
}

/** A unix socket something listens on: `--listen` does not take it over. */
class SocketInUseError extends Error {
  constructor(readonly path: string) {
    super(`${path}: in use`);
    this.name = "SocketInUseError";
  }
}

/** A socket at a path whose directory ww cannot open to take the lock of its takeover. */
class UnlockableSocketError extends Error {
  constructor(readonly path: string) {
    super(`${path}: cannot lock its directory`);
    this.name = "UnlockableSocketError";
  }
}

/**
 * A stale unix socket whose directory another process has held locked for longer than a run
 * taking it over would (any process that may read the directory can flock it).
 */
class LockedSocketError extends Error {
  constructor(readonly path: string) {
    super(`${path}: its directory is locked`);
    this.name = "LockedSocketError";
  }
}

/** Another user's socket that ww may not connect to (to probe it) or remove. */
class ForeignSocketError extends Error {
  constructor(readonly path: string) {
    super(`${path}: another user's socket`);
    this.name = "ForeignSocketError";
  }
}

/** How long a run waits for another one taking over a socket path in the same directory. */
const TAKEOVER_LOCK_MS = 2_000;

/**
 * A socket listening at `path`. bind refuses a path that exists (EADDRINUSE); a socket there that
 * nobody listens on is taken over (takenUnixPathStep), under a lock on its directory, so that of
 * two runs at once only one removes it and the other finds the winner listening. The winner
 * listens before it lets go, since a bound socket not yet listening refuses connections too.
 */
async function listenUnix(path: string): Promise<number> {
  try {
    return listenUnixOnce(path);
  } catch (e) {
    if (!(e instanceof SyscallError && e.code === "EADDRINUSE")) throw e;
  }
  let lock: number | undefined;
  try {
    lock = await lockDirectory(directoryOf(path), TAKEOVER_LOCK_MS);
  } catch (e) {
    // A directory the caller may write (bind said EADDRINUSE, not EACCES) but not read.
    if (!(e instanceof SyscallError && e.code === "EACCES")) throw e;
    if (unixPathKind(path) === "socket") throw new UnlockableSocketError(path);
    throw new SyscallError("bind", EADDRINUSE, path);
  }
  // Another run taking the path over holds the lock for a probe and a bind, and has bound it by
  // now; a lock held longer is no such run's (any process that may read the directory can flock
  // it). Taken over without the lock, the path could be another run's by then: left, and said so.
  if (lock === undefined) {
    const live = unixPathKind(path) !== "socket" || await probeUnix(path) !== "refused";
    throw live ? new SocketInUseError(path) : new LockedSocketError(path);
  }
  try {
    const kind = unixPathKind(path);
    const probe = kind === "socket" ? await probeUnix(path) : undefined;
    switch (takenUnixPathStep(kind, probe)) {
      case "exists":
        throw new SyscallError("bind", EADDRINUSE, path);
      case "in use":
        throw new SocketInUseError(path);
      case "unlink":
        try {
          removeIfThere(path);
        } catch (e) {
          // Another user's, in a sticky directory such as /tmp.
          if (e instanceof Deno.errors.PermissionDenied) throw new ForeignSocketError(path);
          throw e;
        }
        break;
      case "bind":
        break;
    }
    try {
      return listenUnixOnce(path);
    } catch (e) {
      // A run that found the path free bound it meanwhile (it takes no lock to bind).
      if (e instanceof SyscallError && e.code === "EADDRINUSE") throw new SocketInUseError(path);
      throw e;
    }
  } finally {
    closeFd(lock);
  }
}

/**
 * The path to bind the socket at `path` by, its directory resolved as a grant's is (trustedPath).
 * Where no one but root may change a directory on the resolved way (ownersOnly),
 * the socket's name in that directory, a path with no link and no `.` or `//` on it (`./x.sock`
 * is `/cwd/x.sock`; `/var/run/x.sock`, `/run/x.sock`): the kernel records the path bind(2) is
 * given as the socket's address, and a server checks that address against the path it was told
 * (sd_is_socket_unix). Elsewhere its last name in its directory held open (ffi/open.ts
 * nameInHeldDirectory), so that no link swapped in after the check is followed, and the address
 * is that /proc/self/fd/N/name. The name itself is not resolved: bind(2) follows no link there
 * (it fails with EADDRINUSE). Undefined when the directory is under /proc, or neither would fit a
 * sockaddr_un: `path` is then used as it is.
 */
function heldSocketPath(path: string): { path: string; close(): void } | undefined {
  const absolute = fromCallerCwd(path);
  const parent = trustedPath(directoryOf(absolute));
  if (parent.kernelLinks) return undefined;
  const fits = (p: string) => new TextEncoder().encode(p).length <= UNIX_PATH_MAX;
  const name = absolute.slice(absolute.lastIndexOf("/") + 1);
  const real = `${parent.path.replace(/\/$/, "")}/${name}`;
  // A link, even root's, may sit in a directory others can write, where another may be put in
  // its place after the check: the resolved way has none, and ownersOnly keeps it so.
  if (fits(real) && ownersOnly(parent.path)) return { path: real, close() {} };
  const held = nameInHeldDirectory(parent.path, name);
  if (fits(held.path)) return held;
  held.close();
  return undefined;
}

/**
 * Whether every directory from / to `realDir` (a path without links) belongs to root and none
 * other may write it, but where the sticky bit keeps each entry its owner's (/tmp): no one else
 * can put a link where one of them is. Not ww's own user's, where ww is not root: a jail writes
 * as that user then (run/trusted_path.ts).
 */
function ownersOnly(realDir: string): boolean {
  const parts = realDir.split("/").filter((p) => p !== "");
  for (let i = 0; i <= parts.length; i++) {
    const info = fileOwner(`/${parts.slice(0, i).join("/")}`, false);
    if (info === undefined || !info.isDirectory || info.uid !== 0) return false;
    if ((info.mode & 0o022) !== 0 && (info.mode & 0o1000) === 0) return false;
  }
  return true;
}

/** The directory whose entry `path` is, for its lock. */
function directoryOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}

/** Removes `path`; gone already (its run's clean-up got there first) is as good. */
function removeIfThere(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/**
 * A run's clean-up of the socket file it bound, which `held` holds (ffi/stat.ts holdFile: lstat's
 * inode number alone is taken again by the next file made): removed only while it is that file,
 * under the directory's lock. Once the program has gone, nothing listens on it, so
 * another run may take the path over before this runs: its new socket, or anything else put at
 * the path meanwhile, is not this run's to remove. While another process holds the lock (a run
 * taking over in the directory now, or any other) the file is left, a stale socket the next run
 * takes over.
 */
function removeBoundSocket(path: string, held: number): void {
  let lock: number | undefined | "none" = "none";
  try {
    lock = tryLockDirectory(directoryOf(path));
  } catch { /* a directory ww cannot open to lock: nobody else can lock it either */ }
  try {
    if (lock !== undefined && isStillAt(path, held)) Deno.removeSync(path);
  } finally {
    if (typeof lock === "number") closeFd(lock);
    closeFd(held);
  }
}

/** bind and listen at `path`; a file bind made before listen failed is ww's, so it goes. */
function listenUnixOnce(path: string): number {
  try {
    return listenSocket(unixSockaddr(path), false);
  } catch (e) {
    if (e instanceof SyscallError && e.syscall === "listen") Deno.removeSync(path);
    throw e;
  }
}

/** What is at `path`, not following a symlink. */
function unixPathKind(path: string): "socket" | "file" | "missing" {
  try {
    return Deno.lstatSync(path).isSocket ? "socket" : "file";
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "missing";
    throw e;
  }
}

/**
 * Whether something accepts connections on the socket at `path`: a nonblocking connect is
 * refused at once when nothing listens; one that a full backlog turns away (EAGAIN), or a socket
 * of another type turns away (EPROTOTYPE), is live.
 */
async function probeUnix(path: string): Promise<"refused" | "accepted" | "missing"> {
  try {
    closeFd(await connectSocket(unixSockaddr(path), PROBE_TIMEOUT_MS));
    return "accepted";
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    if (e.code === "ECONNREFUSED") return "refused";
    if (e.code === "EAGAIN") return "accepted";
    // A socket of another type (datagram, seqpacket) that something has bound: live too.
    if (e.code === "EPROTOTYPE") return "accepted";
    if (e.code === "ENOENT") return "missing";
    // A socket the caller may not write to: whether it is live cannot be told.
    if (e.code === "EACCES") throw new ForeignSocketError(path);
    throw e;
  }
}

/** A connect to a unix socket is answered at once; this only bounds an odd one. */
const PROBE_TIMEOUT_MS = 1_000;

/**
 * Whether `path` (an open file's, as /proc/self/fd shows it) is a file of ww's own process:
 * under its pid, or under the id of one of its threads, which /proc shows as a process of its own
 * (/proc/<tid>/environ is ww's environment, and <tid> is ww's pid + 2, say).
 *
 * @example
 * isOwnProcessFile(`/proc/${Deno.pid}/environ`); // true
 */
export function isOwnProcessFile(path: string): boolean {
  const id = /^\/proc\/(\d+)\//.exec(path)?.[1];
  if (id === undefined) return false;
  return id === String(Deno.pid) || fileOwner(`/proc/self/task/${id}`) !== undefined;
}

/**
 * Whether the descriptor `fd` that a grant just opened is one ww holds only as a descriptor of
 * its own (opened close-on-exec): /proc/self is ww when it opens the grant, so /dev/fd/N,
 * /proc/self/fd/N and every other spelling of them (`viaProc`: the path went through /proc's
 * links) reach ww's fd N, which may be one of the run's own pipes (its stage's reports, bwrap's
 * status) or Deno's own files (its caches). By any other path, only a pipe, socket or other
 * object that is no file, directory or device is looked at: a file ww also has open is a file
 * like any other. What ww also holds as a descriptor it inherited (/dev/stdin) is the caller's to
 * give, as --with-fd gives it, and so is what it opened for the run's grants (`granted`): a FIFO
 * granted twice (both its ends, say) was refused the second time as ww's own.
 */
export function isOwnDescriptor(
  fd: number,
  info: Deno.FileInfo,
  viaProc: boolean,
  granted: ReadonlySet<number> = new Set(),
): boolean {
  const object = !(info.isFile || info.isDirectory || info.isCharDevice || info.isBlockDevice);
  if (!object && !viaProc) return false;
  // Compared as ffi/stat.ts reads a device (Deno's FileInfo encodes it otherwise).
  const self = fileIdentity(`/proc/self/fd/${fd}`);
  if (self === undefined) return false;
  let own = false;
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    const other = Number(entry.name);
    if (other === fd || granted.has(other)) continue;
    const id = fileIdentity(`/proc/self/fd/${other}`);
    if (id === undefined || !sameFile(id, self)) continue;
    const state = fdState(other);
    if (state === "inherited") return false;
    if (state === "close-on-exec") own = true;
  }
  return own;
}

async function openFile(
  path: string,
  mode: "r" | "w" | "a" | "rw",
  granted: ReadonlySet<number>,
  signal: AbortSignal | undefined,
  via?: number,
): Promise<OpenedFile> {
  const resolved = trustedPath(path);
  // No link is left on the path, and none may appear before the open: openat2 refuses any.
  // Under /proc, the kernel's own links (/proc/self/fd/N) are followed by a plain open. A FIFO
  // ww holds both ends of (`via`, holdBothEnds) is opened through that descriptor: the very FIFO
  // held, which another put at the path since could not replace, and whose open never waits.
  const open = (flags: number) =>
    via === undefined
      ? openPath(resolved.path, flags, !resolved.kernelLinks, signal)
      : openPath(`/proc/self/fd/${via}`, flags, false, signal);
  const flags = openFlags(mode);
  let fd: number | undefined;
  let created = false;
  try {
    // Whether this open creates the file: a start that fails removes only what it created.
    for (let tries = 0; fd === undefined && (flags & O_CREAT) !== 0 && tries < 3; tries++) {
      try {
        fd = await open(flags | O_EXCL);
        created = true;
      } catch (e) {
        if (!(e instanceof SyscallError && e.code === "EEXIST")) throw e;
        try {
          fd = await open(flags & ~O_CREAT);
        } catch (e) {
          // Removed between the two opens: try again.
          if (!(e instanceof SyscallError && e.code === "ENOENT")) throw e;
        }
      }
    }
    fd ??= await open(flags);
  } catch (e) {
    // A socket ww holds (its stdin under systemd, say), named through /proc: no path opens one.
    const m = /^\/proc\/(self|thread-self|\d+)\/fd\/(\d+)$/.exec(resolved.path);
    const held = m && (!/^\d/.test(m[1]) || isOwnProcessFile(resolved.path)) ? m[2] : undefined;
    if (
      e instanceof SyscallError && e.code === "ENXIO" && resolved.kernelLinks &&
      held !== undefined && isSocketDescriptor(Number(held))
    ) {
      throw new HeldSocketError(path, Number(held));
    }
    throw e;
  }
  try {
    const info = Deno.statSync(`/proc/self/fd/${fd}`);
    // O_RDONLY opens a directory too; the program was promised a file.
    if (info.isDirectory) throw new SyscallError("open", 21, path);
    // Through /proc/self (or thread-self, or ww's pid), the program would read and write ww:
    // root's, often, with the run's grants and leases in hand; or read its environment, the
    // caller's, which the jail was not given.
    if (isOwnProcessFile(Deno.readLinkSync(`/proc/self/fd/${fd}`))) {
      throw new OwnProcessError(path);
    }
    if (isOwnDescriptor(fd, info, resolved.kernelLinks, granted)) {
      throw new OwnProcessError(path, "descriptor");
    }
    return {
      fd,
      path: resolved.path,
      dev: info.dev,
      ino: info.ino!,
      created,
      truncate: mode === "w" && info.isFile,
    };
  } catch (e) {
    closeFd(fd);
    throw e;
  }
}
