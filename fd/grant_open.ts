// fd/grant_open.ts — what opening the grants ww opens itself needs, apart from checking them
// (fd/grants.ts): the flags an --open opens with, whether a run's grants of one FIFO hold both
// its ends, the path a grant names or makes, what a taken unix path's bind does next, whether two
// IP bindings overlap, the text of a bound address, and the one line a failure becomes. Pure;
// run/own_grants.ts, which does the opening and is loaded only by runs with such grants (and
// --explain), is its one user.

import {
  grantKind,
  grantLabel,
  type OpenMode,
  type OwnGrant,
  trailingSlash,
  type Wording,
} from "./grants.ts";
import { type UntrustedLink, untrustedLinkWhy } from "./grant_path.ts";

/** Where an IP socket is bound: its family (2, AF_INET, or 10, AF_INET6), port and address bytes. */
export interface InetBinding {
  readonly family: number;
  readonly port: number;
  readonly addr: Uint8Array;
}

/**
 * Whether a listener bound at `a` keeps a socket of the same kind from binding `b` (bind's
 * EADDRINUSE): the same port, and the same address, or the wildcard of the same family, or
 * IPv6's wildcard, which takes IPv4's port too (a dual-stack socket).
 *
 * @example
 * const v4 = (port: number, ...addr: number[]) => ({ family: 2, port, addr: new Uint8Array(addr) });
 * bindsOverlap(v4(80, 0, 0, 0, 0), v4(80, 127, 0, 0, 1)); // true: 0.0.0.0:80 holds 127.0.0.1:80
 * bindsOverlap(v4(80, 127, 0, 0, 2), v4(80, 127, 0, 0, 1)); // false
 */
export function bindsOverlap(a: InetBinding, b: InetBinding): boolean {
  if (a.port !== b.port) return false;
  const wildcard = (x: InetBinding) => x.addr.every((byte) => byte === 0);
  if (a.family === b.family) {
    return wildcard(a) || wildcard(b) ||
      (a.addr.length === b.addr.length && a.addr.every((byte, i) => byte === b.addr[i]));
  }
  return (a.family === 10 && wildcard(a)) || (b.family === 10 && wildcard(b));
}

/**
 * The text of a sockaddr_in or sockaddr_in6 (family, port, address bytes as the kernel wrote
 * them): "127.0.0.1:8080" or "[::1]:8080"; an IPv4-mapped one as "[::ffff:127.0.0.1]:8080"
 * (RFC 5952, 5), and with `zone` (an interface, as the address was given: "eth0") after a `%`.
 *
 * @example
 * formatInetAddress(10, 8080, new Uint8Array(16).fill(0, 0, 15).fill(1, 15)); // "[::1]:8080"
 */
export function formatInetAddress(
  family: 2 | 10,
  port: number,
  addr: Uint8Array,
  zone?: string,
): string {
  if (family === 2) return `${[...addr.subarray(0, 4)].join(".")}:${port}`;
  const inZone = zone === undefined ? "" : `%${zone}`;
  if (addr.subarray(0, 10).every((b) => b === 0) && addr[10] === 0xff && addr[11] === 0xff) {
    return `[::ffff:${[...addr.subarray(12, 16)].join(".")}${inZone}]:${port}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((addr[i] << 8) | addr[i + 1]);
  // RFC 5952: the longest run (of two or more) of zero groups becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  const text = best < 0
    ? hex(groups)
    : `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
  return `[${text}${inZone}]:${port}`;
}

const O_WRONLY = 0o1;
const O_RDWR = 0o2;
const O_CREAT = 0o100;
const O_NOCTTY = 0o400;
const O_APPEND = 0o2000;

/**
 * open(2) flags for a mode (O_CLOEXEC is ffi/socket.ts's to add). `w` truncates nothing here: ww
 * truncates the file once the run has passed every check (OpenedGrants.start), so that a run
 * refused after its grants were opened leaves the file as it was.
 */
export function openFlags(mode: OpenMode): number {
  switch (mode) {
    case "r":
      return O_NOCTTY;
    case "w":
      return O_WRONLY | O_CREAT | O_NOCTTY;
    case "a":
      return O_WRONLY | O_CREAT | O_APPEND | O_NOCTTY;
    case "rw":
      return O_RDWR | O_CREAT | O_NOCTTY;
  }
}

/**
 * Whether the --open grants of one FIFO, by their modes, hold both its ends: a reading one (r, rw)
 * and a writing one (w, a, rw) of two grants. Then each end's open waits for the other, which ww
 * opens only after it: the run hung until a signal came. ww holds the FIFO open on both ends
 * meanwhile (run/own_grants.ts), so that neither waits. A single end still waits for its other end,
 * as from a shell's redirection.
 *
 * @example
 * holdsBothEnds(["r", "w"]); // true
 * holdsBothEnds(["w", "a"]); // false: no reader among them; each waits for one
 * holdsBothEnds(["rw"]); // false: one grant, which waits for nothing
 */
export function holdsBothEnds(modes: readonly OpenMode[]): boolean {
  return modes.length >= 2 && modes.some((m) => m === "r" || m === "rw") &&
    modes.some((m) => m !== "r");
}

/**
 * What a `--listen unix:PATH` whose bind found PATH taken does next, from what is at PATH (looked
 * at without following a symlink) and, for a socket, what a connect to it gave: a socket nobody
 * listens on (`refused`: left by a server that died, a SIGKILLed ww say) is removed and PATH bound
 * again, as servers do; a socket someone accepts on (`accepted`) is in use; anything else at PATH
 * (a file, a directory, a symlink) is never removed. A PATH gone meanwhile is bound again. The
 * caller decides under a lock, so that of two runs taking over one PATH only one removes it.
 *
 * @example
 * takenUnixPathStep("socket", "refused"); // "unlink"
 * takenUnixPathStep("file"); // "exists"
 */
export function takenUnixPathStep(
  kind: "socket" | "file" | "missing",
  probe?: "refused" | "accepted" | "missing",
): "unlink" | "bind" | "in use" | "exists" {
  if (kind === "missing" || (kind === "socket" && probe === "missing")) return "bind";
  if (kind !== "socket") return "exists";
  return probe === "refused" ? "unlink" : "in use";
}

/**
 * The file system path `g` names: an --open's, or a unix socket's; undefined for a network
 * address.
 *
 * @example
 * grantPath({ name: "s", listen: "unix:/run/a.sock" }); // "/run/a.sock"
 * grantPath({ name: "h", listen: "tcp:127.0.0.1:0" }); // undefined
 */
export function grantPath(g: OwnGrant): string | undefined {
  if ("open" in g) return g.open;
  const address = "listen" in g ? g.listen : g.connect;
  return address.startsWith("unix:") ? address.slice("unix:".length) : undefined;
}

/**
 * Whether `g` makes what it names when it is not there: a --listen (a unix socket's file, for
 * `unix:`), or an --open to write.
 *
 * @example
 * makesPath({ name: "o", open: "/tmp/x", mode: "w" }); // true
 * makesPath({ name: "i", open: "/etc/hostname" }); // false
 */
export function makesPath(g: OwnGrant): boolean {
  return "listen" in g || ("open" in g && (g.mode ?? "r") !== "r");
}

/**
 * The one-line error for a grant that could not be opened: `code` is the errno name of the call
 * that failed, "trailing slash" (its ENOENT or EISDIR, for a file or socket to make, named with
 * a '/' after it in a directory that exists), "unknown host", "in use" (a unix socket something listens on), "locked" (a stale
 * unix socket whose directory another process keeps locked), "unlockable" (a
 * unix socket whose directory ww cannot open to lock for its takeover), or "foreign" (another
 * user's unix socket, which ww may not connect to or remove).
 *
 * @example
 * grantFailure({ name: "http", listen: "tcp:127.0.0.1:80" }, "EACCES");
 * // "--listen http=tcp:127.0.0.1:80: no permission to bind this address (EACCES) (...)"
 */
export function grantFailure(
  g: OwnGrant,
  code: string,
  words: Wording = "commandLine",
  link?: UntrustedLink,
): string {
  const kind = grantKind(g);
  const why = (() => {
    // A socket ww holds as fd N (its stdin, say), named through /proc: it has no path to open.
    const held = /^held socket (\d+)$/.exec(code)?.[1];
    if (held !== undefined) {
      return `that is a socket (fd ${held}), which no path opens: give the descriptor itself (${
        words === "commandLine"
          ? `--with-fd ${g.name}=${held}`
          : `grants.fds { name: "${g.name}", source: ${held} }`
      })`;
    }
    switch (code) {
      case "unknown host":
        return "unknown host (use a name the host resolves, or a numeric address)";
      case "own process":
        return "that is ww's own process (/proc/self is ww here, not the program nor its caller): its memory or environment, which ww gives no jail";
      case "own descriptor":
        return `that is a descriptor ww opened itself (/proc/self is ww here, not its caller), which ww gives no jail (grant one ${
          words === "commandLine" ? "the caller opened with --with-fd" : "you opened as a grant"
        }, or give the file's own path)`;
      case "ENOTSOCK":
        return "not a socket: a file of another kind is there (check the path)";
      case "untrusted link":
        return untrustedLinkWhy(link!, "in a grant's path ");
      case "ELOOP":
        return "too many levels of symbolic links (a loop), or one appeared on the path as ww opened it (fix or remove the looping link, or give the file's own path)";
      case "EADDRINUSE":
        return kind === "listen" && "listen" in g && g.listen.startsWith("unix:")
          ? "the path already exists and is not a socket (ww replaces only a socket nobody listens on: remove it or pick another path)"
          : "address in use (stop what listens there, or use port 0 for a free one)";
      case "in use":
        return "in use: something listens on this socket (stop it, or pick another path)";
      case "foreign":
        return "another user's socket is there, which ww may not probe or remove (its owner may remove it, or pick another path)";
      case "locked":
        return "a stale socket is there, and another process has held its directory's lock (flock) for over 2 s, which a run taking it over does not: ww leaves it (try again, or remove the socket)";
      case "unlockable":
        return "a socket is there, and ww cannot read its directory to lock it while it takes the socket over (remove the socket, or pick another path)";
      case "EADDRNOTAVAIL":
        return "the address is not one of this host's (use 127.0.0.1, ::1, 0.0.0.0 or a local address)";
      case "EACCES":
      case "EPERM":
        return kind === "listen"
          ? `no permission to bind this address (${code}) (${
            "listen" in g && g.listen.startsWith("unix:")
              ? "the socket's directory must be writable by you; pick another path"
              : "ports below 1024 need privilege; use a higher port"
          })`
          : `permission denied (${code}) to ${
            words === "commandLine" ? "the caller of ww" : "this process"
          }`;
      case "ECONNREFUSED":
        return "connection refused (is the server running and listening there?)";
      case "ETIMEDOUT":
        return "connection timed out (is the host reachable?)";
      case "ENETUNREACH":
      case "EHOSTUNREACH":
        return `unreachable (${code})`;
      case "ENOENT": {
        if (kind === "connect") return "no such socket file (is the server running?)";
        const path = grantPath(g);
        const kernelFs = path === undefined ? null : /^\/(proc|sys)(?:\/|$)/.exec(path);
        if (makesPath(g) && kernelFs) {
          return `/${
            kernelFs[1]
          } holds only the kernel's own entries, and nothing can be made there (pick another path)`;
        }
        const why = !makesPath(g)
          ? "no such file (check the path)"
          : "the parent directory does not exist (create it first)";
        // `PATH:wx`: a mode mistyped became part of the path (a path may hold ':').
        // (Not for ":w" alone, a file of that name: it has no path before a mode.)
        const suffix = "open" in g ? /.:([A-Za-z]{1,3})$/.exec(g.open)?.[1] : undefined;
        return suffix === undefined ? why : `${why}; ':${suffix}' is not a mode (r, w, a or rw)`;
      }
      case "ENOTDIR":
        return "a component of the path is not a directory";
      case "EISDIR":
        return "is a directory (name a file)";
      case "trailing slash":
        // The kernel's ENOENT or EISDIR for a new file or socket in a directory that exists.
        return trailingSlash(kind);
      case "ENAMETOOLONG":
        return "the path is too long";
      case "EAGAIN":
        return "the server's backlog is full (EAGAIN) (try again)";
      case "EAFNOSUPPORT":
        return "this host does not support the address family (EAFNOSUPPORT)";
      case "EPROTOTYPE":
        return "the socket there is not a stream socket (EPROTOTYPE), and a connection is made only to one";
      case "EROFS":
        return "the file system is read-only (EROFS)";
      case "EINVAL": {
        const address = "listen" in g ? g.listen : "connect" in g ? g.connect : "";
        return /\[fe80:/i.test(address) && !address.includes("%")
          ? "a link-local IPv6 address needs its interface, as [fe80::1%eth0] (EINVAL)"
          : `failed (${code})`;
      }
      case "ENXIO":
        if (kind === "open" && grantPath(g) === "/dev/tty") {
          return "ww has no controlling terminal (ENXIO), which /dev/tty names (run ww from a terminal, or name the terminal's own path, as `tty` prints it)";
        }
        return kind === "open"
          ? `no such device or address (ENXIO): a unix socket is reached with ${
            words === "commandLine"
              ? `--connect ${g.name}=unix:${"open" in g ? g.open : "PATH"}`
              : "a connect grant (unix:PATH)"
          }, and a device needs something behind it`
          : `failed (${code})`;
      default:
        return `failed (${code})`;
    }
  })();
  return `${grantLabel(g, words)}: ${why}`;
}
