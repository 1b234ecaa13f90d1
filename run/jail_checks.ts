// run/jail_checks.ts — what a jailed run refuses before it starts anything, in one order for the
// launchers (run/launch_bwrap.ts, run/launch_native.ts) and --explain (run/explain_program.ts),
// so that --explain refuses with the run's own line: under bwrap no granted descriptor, and none
// of the program's stdin, stdout and stderr, may be a directory, and bwrap's command line must fit
// it; under native without --net none may be a unix datagram socket, nor a grant a socket's
// O_PATH descriptor; the jail's host user (leased as root, else ww's own, supplementary groups
// included) must reach the program and every bind, write every --bind, read every --ro-bind, and
// execute a script's interpreters (run/ids.ts); then the limits must let the jail start
// (run/limits.ts).

import type { RunConfig } from "../core/config.ts";
import type { LaidOutGrant } from "../fd/layout.ts";
import { GrantError, SetupError } from "../core/errors.ts";
import { isPathOnly } from "../ffi/fd.ts";
import { isUnixDatagram } from "../ffi/socket_basics.ts";
import { isSocketDescriptor, pathKind } from "../ffi/stat.ts";
import { blockedCwd, checkInterpreterFor, checkJailAccess } from "./ids.ts";
import { ownHostIds } from "./access.ts";
import { type HostUser, jailHostUser } from "../jail/ids.ts";
import type { StageIdentity } from "../stage/plan.ts";
import type { Interpreter } from "./script.ts";
import { cannotEnterCwd } from "./directory.ts";
import { type BindRequest, topAt } from "../jail/binds.ts";
import { checkLimits } from "./limits.ts";
import { searchPath } from "./resolve.ts";

/**
 * Throws the first reason the jail could not start: under bwrap, a granted descriptor or one of
 * `stdio` (ww's descriptors that become the program's fd 0-2) is a directory; the jail's host
 * user (the stage's `identity`, or ww's own when it switches to none) cannot reach `program` (a
 * local program's path; undefined for one held by a descriptor) or a bind, write a --bind or read
 * a --ro-bind; or `config`'s limits do not fit a `backend` run holding descriptors up to `highestFd`.
 */
export function checkJailStart(o: {
  readonly config: RunConfig;
  readonly backend: "bwrap" | "native";
  readonly stdio: readonly number[];
  /** bwrap's argv (its options and the program's arguments), under bwrap. */
  readonly bwrapArgv?: readonly string[];
  /** The identity the stage switches to before the jail (its plan's), if it does. */
  readonly identity: StageIdentity | undefined;
  /** The host id ww leased for the jail, if it did. */
  readonly leased: number | undefined;
  readonly program: string | undefined;
  /** The interpreters of a #! script's lines (run/script.ts), which the jail's user executes. */
  readonly interpreters?: readonly Interpreter[];
  readonly highestFd: number;
  /** The user's binds as the plan resolved them (its `bindRequests`). */
  readonly binds: readonly BindRequest[];
  /**
   * Where a bind's source (its real path) is to be looked at: the descriptor ww opened it as
   * (/proc/self/fd/N), so the check is of what the jail gets; absent for --explain, which opens
   * nothing.
   */
  readonly pinned?: (real: string) => string | undefined;
}): void {
  const { jail } = o.config;
  if (o.backend === "bwrap") {
    checkNoDirectoryStdio(o.stdio);
    checkNoDirectoryGrant(o.config.fds);
    if (o.bwrapArgv) checkBwrapArgc(o.bwrapArgv.length, o.config.args.length);
  } else if (!jail.net) {
    checkSocketsWithoutNet(o.config.fds, o.stdio);
  }
  // Checked for ww's own ids too: a jail that keeps them was let start with a --bind it could
  // not write, whose program then met EACCES with no word of why.
  const who = jailHostUser(o.identity, ownHostIds);
  // A name without a slash was looked up in a PATH: a copy later in it may be the jail's to run.
  const { program: name, env } = o.config;
  const lookedUp = name.includes("/") ? undefined : { name, pathVariable: searchPath(env) };
  checkJailAccess(who, o.leased, o.program, o.binds, o.pinned, lookedUp);
  for (const i of o.interpreters ?? []) checkInterpreterFor(who, o.config.program, i);
  checkCwdEnterable(jail.chdir, o.backend, o.binds, who);
  checkLimits(jail.limits, { backend: o.backend, highestFd: o.highestFd });
}

/**
 * Refuses a --chdir the jail's user cannot enter, in the words of the stage that would have
 * found it (run/directory.ts cannotEnterCwd): before, --explain said nothing, and a run with a
 * --listen on port 0 had printed where it listened before it failed. Looked at on the host:
 * under the native jail the path itself, under bwrap where a bind shows it (its other places are
 * the jail's own, or the system's).
 */
function checkCwdEnterable(
  chdir: string | undefined,
  backend: "bwrap" | "native",
  binds: readonly BindRequest[],
  who: HostUser,
): void {
  if (chdir === undefined) return;
  let at: { path: string; from: string } | undefined = { path: chdir, from: "/" };
  if (backend === "bwrap") {
    const bind = topAt(chdir, binds);
    at = bind && { path: `${bind.real}${chdir.slice(bind.dest.length)}`, from: bind.real };
  }
  if (at && blockedCwd(at.path, at.from, who)) {
    throw cannotEnterCwd(chdir, backend, "permission denied");
  }
}

/**
 * Refuses a granted descriptor that is a directory, under bwrap: its `..` leads out of the jail's
 * mount namespace into the host's file system. Landlock keeps reads and writes beneath it (the
 * stage's descriptor rules), but no right of its covers chmod, chown, utimes, extended attributes
 * or connecting to a unix socket by path: a host's world-writable sockets (X11, the system bus)
 * were reachable. A bind shows the directory in the jail's own tree instead.
 */
function checkNoDirectoryGrant(fds: readonly LaidOutGrant[]): void {
  for (const { name, source: fd, callerFd } of fds) {
    if (!isDirectory(fd)) continue;
    const source = callerFd ?? fd;
    throw new GrantError(
      name,
      `grant ${name}: descriptor ${source} ${LEADS_OUT}; bind the directory with jail.readOnlyBinds or jail.writableBinds instead`,
      {
        commandLine:
          `--with-fd ${name}=${source}: fd ${source} ${LEADS_OUT}; bind the directory with --ro-bind or --bind instead`,
      },
    );
  }
}

/** Why a directory may not reach the program under bwrap, after the word naming it. */
const LEADS_OUT =
  "is a directory, whose '..' leads out of the bwrap jail into the host's file system";

/** Whether ww's descriptor `fd` is a directory. */
function isDirectory(fd: number): boolean {
  return pathKind(`/proc/self/fd/${fd}`) === "dir";
}

const STDIO_NAMES = ["stdin", "stdout", "stderr"];

/**
 * Refuses, under native without --net, a socket reaching the program that would reach more than
 * it shows, or nothing. A unix datagram socket, granted or as its stdin, stdout or stderr, sends
 * to any unix socket of the host by path (an ssh-agent, D-Bus) with sendto or sendmsg, whose
 * address neither Landlock nor seccomp sees (a stream socket cannot be connected anew there:
 * seccomp denies connect; bwrap's mount namespace hides those sockets). A granted O_PATH
 * descriptor of a socket is only for connecting to it (by /proc/self/fd/N), and without a network
 * of its own the program may make no socket to connect with (under bwrap it connects to that one
 * socket; ww connects one itself with --connect).
 */
function checkSocketsWithoutNet(fds: readonly LaidOutGrant[], stdio: readonly number[]): void {
  // statx first: a descriptor that is no socket (most are) costs no getsockopt, whose symbols
  // a run binds only when it needs them.
  const isDatagram = (fd: number) => isSocketDescriptor(fd) && isUnixDatagram(fd);
  const datagram = "a unix datagram socket, which sends to any unix socket of the host " +
    "(an ssh-agent, D-Bus) in the native jail without a network of its own;";
  const pathOnly = "an O_PATH descriptor of a socket, which a program can only connect to, and " +
    "the native jail without a network of its own lets it make no socket;";
  for (const { name, source: fd, callerFd } of fds) {
    if (!isSocketDescriptor(fd)) continue;
    const named = isPathOnly(fd);
    if (!named && !isUnixDatagram(fd)) continue;
    const source = callerFd ?? fd;
    const why = named ? pathOnly : datagram;
    const connect = (how: string) => named ? ` let ww connect it (${how}),` : "";
    throw new GrantError(
      name,
      `grant ${name}: descriptor ${source} is ${why}${
        connect(`own: { name: "${name}", connect: "unix:PATH" }`)
      } use jail.backend "bwrap", or allow the host's network with jail.net`,
      {
        commandLine: `--with-fd ${name}=${source}: fd ${source} is ${why}${
          connect(`--connect ${name}=unix:PATH`)
        } use --jail=bwrap, or allow the host's network with --net`,
      },
    );
  }
  stdio.forEach((fd, i) => {
    if (!isDatagram(fd)) return;
    const what = `the program's ${STDIO_NAMES[i]} (fd ${i}) is ${datagram} use`;
    throw new SetupError(`${what} jail.backend "bwrap", or jail.net`, {
      commandLine: `${what} --jail=bwrap, or --net`,
    });
  });
}

/**
 * Refuses a directory as the program's stdin, stdout or stderr under bwrap (`ww run … < /etc`
 * opens one): the same escape as a granted directory (checkNoDirectoryGrant). `stdio[i]` is the
 * descriptor of ww's that becomes the program's fd i.
 */
function checkNoDirectoryStdio(stdio: readonly number[]): void {
  stdio.forEach((fd, i) => {
    if (!isDirectory(fd)) return;
    const what = `the program's ${
      STDIO_NAMES[i]
    } (fd ${i}) ${LEADS_OUT}; give it a file, a pipe or a terminal (bind a directory with`;
    throw new SetupError(`${what} jail.readOnlyBinds or jail.writableBinds)`, {
      commandLine: `${what} --ro-bind or --bind)`,
    });
  });
}

/** The most arguments bubblewrap takes, its own name and options included (bubblewrap.c MAX_ARGS). */
const BWRAP_MAX_ARGS = 9000;

/** Refuses a bwrap command line of `argc` words, `programArgs` of them the program's, over the limit. */
function checkBwrapArgc(argc: number, programArgs: number): void {
  if (argc <= BWRAP_MAX_ARGS) return;
  const why =
    `the program has ${programArgs} arguments, and bubblewrap takes at most ${BWRAP_MAX_ARGS} words in all (${
      argc - programArgs
    } of them its own here); pass fewer, or use`;
  throw new SetupError(`${why} jail.backend "native"`, { commandLine: `${why} --jail=native` });
}
