// fd/grants.ts — the grants ww opens itself (`--listen`, `--connect`, `--open`): their values,
// the parsing of their addresses and paths, and their validation, which every run with such a
// grant checks. What opening them needs is fd/grant_open.ts's. Pure: ffi/socket.ts and
// run/own_grants.ts do the opening.

import { fdEnvVar, type FdGrant, GRANT_NAME, type LaidOutGrant } from "./layout.ts";

/** How `--open` opens a file: `r` read only (default), `w` create or truncate, `a` create and
 * append, `rw` read and write, created when missing.
 *
 * @example
 * ```ts ignore
 * const mode: OpenMode = "a"; // as --open log=app.log:a
 * ```
 */
export type OpenMode = "r" | "w" | "a" | "rw";
export const OPEN_MODES: readonly OpenMode[] = ["r", "w", "a", "rw"];

/**
 * A grant ww opens itself, by name; the program finds it in WW_FD_<NAME>.
 *
 * @example
 * ```ts ignore
 * const own: OwnGrant[] = [
 *   { name: "http", listen: "tcp:127.0.0.1:0" },
 *   { name: "db", connect: "unix:/run/db.sock" },
 *   { name: "log", open: "/var/log/app.log", mode: "a" },
 * ];
 * ```
 */
export type OwnGrant =
  | { readonly name: string; readonly listen: string }
  | { readonly name: string; readonly connect: string }
  | { readonly name: string; readonly open: string; readonly mode?: OpenMode };

/** A parsed socket address. */
export type Address =
  | { readonly kind: "tcp" | "udp"; readonly host: string; readonly port: number }
  | { readonly kind: "unix"; readonly path: string };

/** sun_path holds 108 bytes, the terminating NUL included. */
export const UNIX_PATH_MAX = 107;

/** The flag a grant comes from, e.g. "listen". */
export function grantKind(g: OwnGrant): "listen" | "connect" | "open" {
  return "listen" in g ? "listen" : "connect" in g ? "connect" : "open";
}

/** "--listen http=tcp:127.0.0.1:0", as the user wrote it; used to prefix every error. */
export function grantLabel(g: OwnGrant, words: Wording = "commandLine"): string {
  if (words === "library") {
    const [how, what] = "listen" in g
      ? ["listen", g.listen]
      : "connect" in g
      ? ["connect", g.connect]
      : ["open", `${g.open}${g.mode && g.mode !== "r" ? ` (mode ${g.mode})` : ""}`];
    return `grant ${g.name} (${how} ${what})`;
  }
  if ("listen" in g) return `--listen ${g.name}=${g.listen}`;
  if ("connect" in g) return `--connect ${g.name}=${g.connect}`;
  return `--open ${g.name}=${g.open}${g.mode && g.mode !== "r" ? `:${g.mode}` : ""}`;
}

/**
 * Whom a message is for: "commandLine" names the flags of `ww run` (`--listen http=...`),
 * "library" the options of a Command (`grant http (listen ...)`, `grants.own`).
 */
export type Wording = "commandLine" | "library";

/**
 * Parses `tcp:HOST:PORT` (IPv6 as `[ADDR]`), `udp:HOST:PORT` or `unix:PATH`.
 *
 * @example
 * parseAddress("tcp:[::1]:8080"); // { kind: "tcp", host: "::1", port: 8080 }
 */
export function parseAddress(text: string): Address | { error: string } {
  const colon = text.indexOf(":");
  const kind = colon < 0 ? "" : text.slice(0, colon);
  const rest = text.slice(colon + 1);
  if (kind === "unix") {
    if (rest === "") return { error: "the unix socket path is empty (e.g. unix:/run/app.sock)" };
    if (rest.includes("\0")) return { error: "the unix socket path contains a NUL byte" };
    // ss and systemd write an abstract name so; bind made a file of that name in ww's cwd.
    if (rest.startsWith("@")) {
      return {
        error:
          "unix:@NAME is an abstract socket name, which ww neither makes nor reaches: give a path (unix:./@NAME for a file named so)",
      };
    }
    // No socket is named so, whatever is there: a directory, or (a FIFO, a file, a socket) none.
    if (rest.endsWith("/")) return { error: trailingSlash("listen") };
    const bytes = new TextEncoder().encode(rest).length;
    if (bytes > UNIX_PATH_MAX) {
      return {
        error: `the unix socket path is too long (${bytes} bytes, at most ${UNIX_PATH_MAX})`,
      };
    }
    return { kind: "unix", path: rest };
  }
  if (kind !== "tcp" && kind !== "udp") {
    return {
      error: `unknown kind ${
        JSON.stringify(colon < 0 ? text : kind)
      } (use tcp:HOST:PORT, udp:HOST:PORT or unix:PATH)`,
    };
  }
  let host: string;
  let portText: string;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close < 0 || rest[close + 1] !== ":") {
      return { error: `expected ${kind}:[IPV6]:PORT, e.g. ${kind}:[::1]:8080` };
    }
    host = rest.slice(1, close);
    portText = rest.slice(close + 2);
  } else {
    const last = rest.lastIndexOf(":");
    if (last < 0) return { error: `expected ${kind}:HOST:PORT, e.g. ${kind}:127.0.0.1:8080` };
    host = rest.slice(0, last);
    portText = rest.slice(last + 1);
    if (host.includes(":")) {
      return { error: `write an IPv6 address in brackets, e.g. ${kind}:[::1]:8080` };
    }
  }
  if (host === "" || host.includes("\0")) {
    return { error: `the host is empty (e.g. ${kind}:127.0.0.1:8080)` };
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    return { error: `${JSON.stringify(portText)} is not a port from 0 to 65535` };
  }
  return { kind, host, port: Number(portText) };
}

/**
 * Splits `PATH[:MODE]`; a suffix that is not a mode stays part of the path.
 *
 * @example
 * parseOpenSpec("/var/log/app.log:a"); // { path: "/var/log/app.log", mode: "a" }
 */
export function parseOpenSpec(text: string): { path: string; mode: OpenMode } {
  const colon = text.lastIndexOf(":");
  const suffix = text.slice(colon + 1);
  if (colon > 0 && (OPEN_MODES as readonly string[]).includes(suffix)) {
    return { path: text.slice(0, colon), mode: suffix as OpenMode };
  }
  return { path: text, mode: "r" };
}

/** Why `g` cannot be granted after `fds` and `earlier`, or undefined when it can. */
export function ownGrantProblem(
  g: OwnGrant,
  fds: readonly FdGrant[],
  earlier: readonly OwnGrant[],
  words: Wording = "commandLine",
): string | undefined {
  const cli = words === "commandLine";
  const label = grantLabel(g, words);
  if (!GRANT_NAME.test(g.name)) {
    return `${label}: the name must match [A-Za-z_][A-Za-z0-9_]* (it becomes ${fdEnvVar("NAME")})`;
  }
  const clash = [...fds.map((f) => f.name), ...earlier.map((e) => e.name)].find((n) =>
    fdEnvVar(n) === fdEnvVar(g.name)
  );
  if (clash !== undefined) {
    return `${label}: the name is already granted as ${clash} (names are unique across ${
      cli ? "--with-fd, --listen, --connect and --open" : "grants.fds and grants.own"
    }, ignoring case)`;
  }
  if ("open" in g) {
    if (g.open === "" || g.open.includes("\0")) {
      return cli
        ? `${label}: expected name=PATH[:MODE], e.g. --open log=/var/log/app.log:a`
        : `${label}: the path is empty or contains a NUL byte`;
    }
    if (g.mode !== undefined && !OPEN_MODES.includes(g.mode)) {
      return `${label}: unknown mode ${JSON.stringify(g.mode)} (use r, w, a or rw)`;
    }
    return undefined;
  }
  const address = parseAddress("listen" in g ? g.listen : g.connect);
  if ("error" in address) return `${label}: ${address.error}`;
  if ("connect" in g && address.kind === "udp") {
    return `${label}: ${
      cli ? "--connect" : "connect"
    } takes tcp:HOST:PORT or unix:PATH (a udp socket has no connection to hand over)`;
  }
  // Port 0 asks bind for any free port; no server listens on it ("connection refused").
  if ("connect" in g && address.kind === "tcp" && address.port === 0) {
    return `${label}: port 0 names no server (give the port it listens on)`;
  }
  // Bound by an earlier grant of this run, the address was "in use (stop what listens there)".
  const twin = "listen" in g && !picksPort(g.listen)
    ? earlier.find((e) => "listen" in e && sameAddress(e.listen, g.listen))
    : undefined;
  return twin ? listensThereAlready(g, twin, words) : undefined;
}

/**
 * The line for `g`, a --listen whose address `twin`, an earlier grant of the same run, holds
 * already: as written (ownGrantProblem), or once bound, written another way (`tcp:localhost:80`
 * after `tcp:127.0.0.1:80`, a wildcard's port, a unix path by another name).
 *
 * @example
 * listensThereAlready({ name: "b", listen: "tcp:localhost:80" }, { name: "a", listen: "tcp:0.0.0.0:80" });
 * // "--listen b=tcp:localhost:80: --listen a=tcp:0.0.0.0:80 listens there already (one address, one grant)"
 */
export function listensThereAlready(
  g: OwnGrant,
  twin: OwnGrant,
  words: Wording = "commandLine",
): string {
  return `${grantLabel(g, words)}: ${
    grantLabel(twin, words)
  } listens there already (one address, one grant)`;
}

/**
 * Whether two addresses are the same as written: kind, host and port, or path (`tcp:localhost:80`
 * is not `tcp:127.0.0.1:80`, which only binding them tells apart).
 */
function sameAddress(a: string, b: string): boolean {
  const [x, y] = [parseAddress(a), parseAddress(b)];
  return !("error" in x) && JSON.stringify(x) === JSON.stringify(y);
}

/** The first problem with a whole list of own grants (see ownGrantProblem), or undefined. */
export function ownGrantsProblem(
  own: readonly OwnGrant[],
  fds: readonly FdGrant[],
  words: Wording = "commandLine",
): string | undefined {
  for (const [i, g] of own.entries()) {
    const problem = ownGrantProblem(g, fds, own.slice(0, i), words);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * The descriptor grant for an own grant ww opened at `source`: a `--listen` socket under socket
 * activation is laid out from fd 3 (see fd/layout.ts).
 */
export function ownFdGrant(
  g: OwnGrant,
  source: number,
  socketActivation: boolean,
): LaidOutGrant {
  return socketActivation && "listen" in g
    ? { name: g.name, source, own: true, activated: true }
    : { name: g.name, source, own: true };
}

/** Why `--socket-activation` cannot apply to these grants (it needs a `--listen`), or undefined. */
export function socketActivationProblem(
  own: readonly OwnGrant[],
  socketActivation: boolean | undefined,
  words: Wording = "commandLine",
): string | undefined {
  if (!socketActivation || own.some((g) => "listen" in g)) return undefined;
  return words === "commandLine"
    ? "--socket-activation: no --listen grant to pass (add one, e.g. --listen http=tcp:127.0.0.1:8080)"
    : 'socketActivation: no listen grant in own to pass (add one, e.g. { name: "http", listen: "tcp:127.0.0.1:8080" })';
}

/**
 * Why a path that ends in '/' names no file or socket, for a grant of `kind`.
 *
 * @example
 * trailingSlash("open"); // "the path ends in '/', … (drop the '/' to name a file)"
 */
export function trailingSlash(kind: "listen" | "connect" | "open"): string {
  return `the path ends in '/', which makes its last name a directory's (drop the '/' to name a ${
    kind === "open" ? "file" : "socket"
  })`;
}

/** Whether a listener's address asks for a free port, which ww then reports (`tcp:HOST:0`). */
export function picksPort(listen: string): boolean {
  const a = parseAddress(listen);
  return "port" in a && a.port === 0;
}

/** What a grant will be, for --explain. */
export function describeOwnGrant(g: OwnGrant): string {
  if ("listen" in g) {
    const a = parseAddress(g.listen);
    const what = "kind" in a && a.kind === "udp" ? "a bound udp socket" : "a listening socket";
    return `${what} on ${g.listen}, opened by ww`;
  }
  if ("connect" in g) return `a stream connected to ${g.connect}, opened by ww`;
  const verb = {
    r: "read only",
    w: "write (created or truncated)",
    a: "append (created)",
    rw: "read and write (created)",
  }[
    g.mode ?? "r"
  ];
  return `${g.open} opened ${verb} with ww's own rights`;
}
