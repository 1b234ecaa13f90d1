// cli/flag_table.ts — every `ww run` flag, written once: its name, short alias, value name, help
// text and what it sets. cli/flags.ts parses with this table, cli/flag_docs.ts prints it as
// `ww --help` and as README.md's flag table (`deno task readme-flags`; cli/flag_docs_test.ts fails
// when README.md and the table disagree). Pure.
//
// To add a flag, add one row to FLAGS, in the group and at the place where --help should list it:
//   { name: "--example", value: "<n>", group: "jail", help: "what it does (default 1)",
//     set: (s, value) => { s.example = parseExample(value); } },
// - `value` is the value's name in the help ("<n>", "name=ADDR"); leave it out for a switch,
//   whose `set` gets no value (`--switch=x` is then refused with "takes no value").
// - `set` records the flag in FlagState (add a field there and to newFlagState() if it needs
//   one) and throws a one-line UsageError naming the flag for a bad value: everything the value
//   alone decides (its syntax, its fixed bounds) is checked there, for every value given, so that
//   a later value of the same flag does not hide a bad one (cli/flags_test.ts runs every flag that
//   takes one value so). Checks that need the whole command line (every grant, the program)
//   belong in parseRunArgs; those that need the machine or the backend, in the run.
// - `help` is one line of text; `code spans` are code in the README and plain in --help. `see`
//   names the README section that says more. Then run `deno task readme-flags`.

import type { FdGrant } from "../fd/layout.ts";
import { type OwnGrant, parseOpenSpec } from "../fd/grants.ts";
import {
  type Bind,
  DEFAULT_POLICY,
  JAIL_BACKENDS,
  type JailBackend,
  type Limits,
  parseBind,
  parseCount,
  parseCpuSeconds,
  parseDuration,
  parseSize,
} from "../jail/policy.ts";
import { memoryMinimumProblem } from "../jail/limits.ts";
import { ipfsApiUrl } from "../ipfs/multiaddr.ts";
import { NOT_TEXT, parseEnvFile } from "./env_file.ts";
import type { TtyFlag } from "./tty.ts";
import { commandLineEnvKeyProblem, grantProblem, jailIdProblem } from "../core/config.ts";
import { osWhy, UsageError } from "../core/errors.ts";
import { absoluteFrom } from "../core/path.ts";
import { clipText, flagValue } from "../core/escape.ts";
import type { HostGrants } from "../rpc/types.ts";

/** What the flags have said so far; parseRunArgs turns it into a RunConfig. */
export interface FlagState {
  readonly fds: FdGrant[];
  readonly own: OwnGrant[];
  readonly env: Record<string, string>;
  /** Where each variable of `env` was set: `--env KEY=VALUE`, `--env KEY`, `--env-file FILE:LINE`. */
  readonly envFrom: Record<string, string>;
  ipfsFlag?: string;
  ipfsTimeoutMs?: number;
  debug: boolean;
  help: boolean;
  explain: boolean;
  readonly grants: { -readonly [K in keyof HostGrants]: boolean };
  backend: JailBackend;
  net: boolean;
  allowWeakerJail: boolean;
  trustNodeIpns: boolean;
  socketActivation: boolean;
  deno: boolean;
  /** --tty or --no-tty, the last one given; neither when absent. */
  tty: TtyFlag;
  readonly ids: { uid?: number; gid?: number };
  timeoutMs?: number;
  chdir?: string;
  readonly readOnlyBinds: Bind[];
  readonly writableBinds: Bind[];
  readonly limits: { -readonly [K in keyof Limits]: Limits[K] };
}

/** The state before any flag: the default policy, no grants, an empty environment. */
export function newFlagState(): FlagState {
  return {
    fds: [],
    own: [],
    env: {},
    envFrom: {},
    debug: false,
    help: false,
    explain: false,
    grants: { console: false, ipfs: false, exec: false },
    backend: DEFAULT_POLICY.backend,
    net: false,
    allowWeakerJail: false,
    trustNodeIpns: false,
    socketActivation: false,
    deno: false,
    tty: undefined,
    ids: {},
    readOnlyBinds: [],
    writableBinds: [],
    limits: { ...DEFAULT_POLICY.limits },
  };
}

/** What a flag's `set` may read besides its value: the caller's environment, cwd and files. */
export interface FlagContext {
  readonly callerEnv: Readonly<Record<string, string>>;
  /** The caller's cwd, asked for only to resolve a relative path (it may not be nameable). */
  readonly cwd: () => string;
  /** Reads --env-file; throws as Deno.readTextFileSync does when it cannot. */
  readonly readFile?: (path: string) => string;
  /**
   * Whether the caller's environment has `key` with a value that is not UTF-8 text: Deno leaves
   * such a variable out of `callerEnv`.
   */
  readonly callerEnvNotText?: (key: string) => boolean;
}

interface FlagRow {
  /** The long name, `--name`; `--name=value` and `--name value` are the same. */
  readonly name: `--${string}`;
  /** A one-letter alias, `-x`, which takes its value as the next argument only. */
  readonly alias?: `-${string}`;
  /** `run` flags say what the program gets; `jail` flags how it is confined. */
  readonly group: "run" | "jail";
  /** One line; `code spans` are code in the README and plain in --help. */
  readonly help: string;
  /** The README section that says more: its title and anchor. */
  readonly see?: { readonly title: string; readonly anchor: `#${string}` };
}

/** A flag that takes no value. */
export interface SwitchFlag extends FlagRow {
  readonly value?: undefined;
  readonly set: (state: FlagState) => void;
}

/** A flag that takes a value: `value` names it in the help. */
export interface ValueFlag extends FlagRow {
  readonly value: string;
  readonly set: (state: FlagState, value: string, context: FlagContext) => void;
}

/** One row of the table. */
export type Flag = SwitchFlag | ValueFlag;

const HOST_CAPABILITY = {
  title: "The host capability on fd 3",
  anchor: "#the-host-capability-on-fd-3",
} as const;

/** Every `ww run` flag, in the order --help and the README list them. */
export const FLAGS: readonly Flag[] = [
  {
    name: "--with-fd",
    value: "name=fdnum",
    group: "run",
    help:
      "give the program the caller's descriptor fdnum (repeatable); the program gets it on fd 4, 5, ... (ordered by fdnum, then name) and its number in `WW_FD_<NAME>`",
    see: { title: "What the program gets", anchor: "#what-the-program-gets" },
    set: (s, value) => s.fds.push(parseGrant(value, s.fds)),
  },
  {
    name: "--listen",
    value: "name=ADDR",
    group: "run",
    help:
      "ww binds ADDR (`tcp:HOST:PORT`, `udp:HOST:PORT`, `unix:PATH`; IPv6 as `[ADDR]`; PORT 0 picks a free one and ww prints it) and, for streams, listens; the program gets the socket and needs no network",
    see: { title: "Serving and connecting", anchor: "#serving-and-connecting" },
    set: (s, value) => s.own.push(parseOwnGrant("--listen", value)),
  },
  {
    name: "--connect",
    value: "name=ADDR",
    group: "run",
    help: "ww connects to ADDR (`tcp:HOST:PORT`, `unix:PATH`); the program gets the stream",
    set: (s, value) => s.own.push(parseOwnGrant("--connect", value)),
  },
  {
    name: "--open",
    value: "name=PATH[:MODE]",
    group: "run",
    help:
      "ww opens PATH with the caller's rights: `r` (default), `w` (create or truncate), `a` (create, append), `rw` (read and write, create); the program gets the descriptor",
    set: (s, value) => s.own.push(parseOwnGrant("--open", value)),
  },
  {
    name: "--socket-activation",
    group: "run",
    help:
      "start the program as systemd starts a socket-activated service: the `--listen` sockets from fd 3, `LISTEN_FDS`, `LISTEN_FDNAMES` and `LISTEN_PID` set, the host socket after them at `WW_HOST_FD`",
    see: { title: "Serving and connecting", anchor: "#serving-and-connecting" },
    set: (s) => {
      s.socketActivation = true;
    },
  },
  {
    name: "--env",
    alias: "-e",
    value: "KEY[=VALUE]",
    group: "run",
    help:
      "set KEY to VALUE in the program's otherwise empty environment (repeatable); KEY alone passes the caller's KEY, or nothing when the caller has none (as `docker run -e`)",
    set: (s, value, c) => parseEnv(value, c, s),
  },
  {
    name: "--env-file",
    value: "FILE",
    group: "run",
    help:
      "`--env` for each line of FILE in docker's format: `KEY=VALUE` (the value verbatim to the end of the line), `KEY`, `# comment`, blank lines",
    // In command-line order with --env: a later value for the same key wins.
    set: (s, value, c) => {
      if (value === "") throw new UsageError("--env-file: the path is empty");
      const { env, lineOf } = readEnvFile(value, absoluteFrom(c.cwd, value), c);
      Object.assign(s.env, env);
      for (const key in lineOf) s.envFrom[key] = `--env-file ${value}:${lineOf[key]}`;
    },
  },
  {
    name: "--chdir",
    value: "DIR",
    group: "run",
    help:
      "start the program in DIR (relative to the caller's cwd; as `bwrap --chdir`, `docker run -w`), which the jail must show (default: a fresh private work directory)",
    see: { title: "What the program gets", anchor: "#what-the-program-gets" },
    set: (s, value, c) => {
      if (value === "") throw new UsageError("--chdir: the directory is empty");
      if (value.includes("\0")) throw new UsageError("--chdir: the path contains a NUL byte");
      s.chdir = absoluteFrom(c.cwd, value);
    },
  },
  {
    name: "--ipfs",
    value: "<address>",
    group: "run",
    help:
      "Kubo RPC endpoint for `/ipfs/` and `/ipns/` programs: a multiaddr (`/ip4/127.0.0.1/tcp/5001/http`, `/unix/PATH`) or `http(s)://HOST:PORT` (default `$WW_IPFS`, else `$IPFS_PATH/api` (`~/.ipfs/api`) as Kubo writes it, else `/dns4/localhost/tcp/5001/http`); every byte is verified against its CID and cached by CID in `$XDG_CACHE_HOME/ww`",
    see: { title: "Which node", anchor: "#which-node" },
    set: (s, value) => {
      const parsed = ipfsApiUrl(value);
      if ("error" in parsed) throw new UsageError(`--ipfs ${parsed.error}`);
      s.ipfsFlag = value;
    },
  },
  {
    name: "--ipfs-timeout",
    value: "<duration>",
    group: "run",
    help: "give up when the IPFS node sends nothing for this long (`30s`, `1m30s`; default `30s`)",
    set: (s, value) => {
      s.ipfsTimeoutMs = duration("--ipfs-timeout", value);
    },
  },
  {
    name: "--trust-node-ipns",
    group: "run",
    help:
      "take the node's `name/resolve` answer for an `/ipns/` key it gives no signed record for (otherwise ww verifies the record itself)",
    see: { title: "Names (/ipns/)", anchor: "#names-ipns" },
    set: (s) => {
      s.trustNodeIpns = true;
    },
  },
  {
    name: "--deno",
    group: "run",
    help:
      "`<binary>` is a Deno guest (`guest.ts`): ww bundles it and runs it with this deno, bound read-only with the bundle (no `DENO_DIR` or binds needed)",
    see: { title: "Deno guests", anchor: "#deno-guests" },
    set: (s) => {
      s.deno = true;
    },
  },
  {
    name: "--tty",
    group: "run",
    help:
      "a pseudo-terminal of its own for the program on fd 0-2, proxied by ww, even when stdin or stdout is not a terminal (default: one exactly when both are and ww is not a background job)",
    see: { title: "A terminal", anchor: "#a-terminal" },
    set: (s) => {
      s.tty = "tty";
    },
  },
  {
    name: "--no-tty",
    group: "run",
    help: "no terminal of its own, even when stdin and stdout are terminals",
    set: (s) => {
      s.tty = "no-tty";
    },
  },
  {
    name: "--explain",
    group: "run",
    help:
      "print the descriptors, environment and jail a run would get, and for an `/ipns/` name what it resolves to and why ww believes it; run nothing, and refuse what the run would refuse (the same line and exit code), except what only fetching an IPFS program tells (that the node has it, and what it is; a program the cache holds is checked as the run checks it)",
    set: (s) => {
      s.explain = true;
    },
  },
  {
    name: "--with-console",
    group: "run",
    help:
      "host capability (fd 3, Cap'n Proto RPC, `rpc/ww.capnp`): log lines to ww's stderr, prefixed with the program's name",
    see: HOST_CAPABILITY,
    set: (s) => {
      s.grants.console = true;
    },
  },
  {
    name: "--with-ipfs",
    group: "run",
    help: "host capability: read IPFS (cat, ls, stat) and add bytes",
    see: HOST_CAPABILITY,
    set: (s) => {
      s.grants.ipfs = true;
    },
  },
  {
    name: "--with-exec",
    group: "run",
    help: "host capability: start programs under ww, in the same jail, with a subset of the grants",
    see: HOST_CAPABILITY,
    set: (s) => {
      s.grants.exec = true;
    },
  },
  {
    name: "--with-all",
    group: "run",
    help: "all of the `--with-*` capabilities above (not `--with-fd`)",
    set: (s) => {
      s.grants.console = s.grants.ipfs = s.grants.exec = true;
    },
  },
  {
    name: "--debug",
    group: "run",
    help: "show stack traces with errors",
    set: (s) => {
      s.debug = true;
    },
  },
  {
    name: "--help",
    alias: "-h",
    group: "run",
    help: "print this help",
    set: (s) => {
      s.help = true;
    },
  },
  {
    name: "--jail",
    value: "<backend>",
    group: "jail",
    help:
      "`auto` (default): bwrap where this machine can really create user namespaces, else native; `bwrap`: bubblewrap namespaces + seccomp + limits; `native`: Landlock + seccomp + limits, no namespaces but, as root, a network of its own; `none`: not jailed",
    see: { title: "The jail", anchor: "#the-jail" },
    set: (s, value) => {
      if (!(JAIL_BACKENDS as readonly string[]).includes(value)) {
        throw new UsageError(
          `--jail ${flagValue(value)}: unknown backend (use one of ${JAIL_BACKENDS.join(", ")})`,
        );
      }
      s.backend = value as JailBackend;
    },
  },
  {
    name: "--allow-weaker-jail",
    group: "jail",
    help: "let `--jail=native` run when the kernel lacks some of its protections",
    set: (s) => {
      s.allowWeakerJail = true;
    },
  },
  {
    name: "--uid",
    value: "<n>",
    group: "jail",
    help:
      "the program's user id (bwrap: default 65534 in the jail, 0 maps to the jail's own host id; native: never 0); as root, jails run as a host id of their own, leased from `WW_JAIL_IDS` (default 70000-79999)",
    see: { title: "The jail's identity", anchor: "#the-jails-identity" },
    set: (s, value) => {
      s.ids.uid = numericId("--uid", value);
    },
  },
  {
    name: "--gid",
    value: "<n>",
    group: "jail",
    help: "the program's group id, as `--uid`",
    see: { title: "The jail's identity", anchor: "#the-jails-identity" },
    set: (s, value) => {
      s.ids.gid = numericId("--gid", value);
    },
  },
  {
    name: "--ro-bind",
    value: "<src>[:<dst>]",
    group: "jail",
    help: "show host path src read-only at dst (default: the same path; src relative to the cwd)",
    see: { title: "Binds and in-memory file systems", anchor: "#binds-and-in-memory-file-systems" },
    set: (s, value, c) => s.readOnlyBinds.push(bind("--ro-bind", value, c.cwd)),
  },
  {
    name: "--bind",
    value: "<src>[:<dst>]",
    group: "jail",
    help: "show host path src read-write at dst",
    set: (s, value, c) => s.writableBinds.push(bind("--bind", value, c.cwd)),
  },
  {
    name: "--net",
    group: "jail",
    help: "share the host's network (default: no network at all)",
    set: (s) => {
      s.net = true;
    },
  },
  {
    name: "--timeout",
    value: "<duration>",
    group: "jail",
    help:
      "wall-clock limit (`30s`, `500ms`, `2m`, `1m30s`; 1ms to 596h) on the whole run once ww has the program, its waits before the start included (a FIFO's other end, a `--connect`): SIGTERM, then SIGKILL 2s later; ww then exits 124",
    see: { title: "Exit status", anchor: "#exit-status" },
    set: (s, value) => {
      s.timeoutMs = duration("--timeout", value);
    },
  },
  {
    name: "--memory",
    value: "<size>",
    group: "jail",
    help:
      "private memory per process (RLIMIT_DATA; binary K, M, G or T, `1.5G` too; default `4G`; at least `1M`; or `unlimited`)",
    set: (s, value) => {
      const bytes = limitValue("--memory", parseSize(value));
      const low = bytes === undefined ? undefined : memoryMinimumProblem(bytes, "commandLine");
      if (low) throw new UsageError(`--memory ${value}: ${low}`);
      s.limits.memoryBytes = bytes;
    },
  },
  {
    name: "--cpu",
    value: "<seconds>",
    group: "jail",
    help:
      "CPU time per process, in seconds or as 90s, 2m, 1m30s, 1h (RLIMIT_CPU): SIGXCPU at the limit, SIGKILL 1 s later; default unlimited",
    set: (s, value) => {
      s.limits.cpuSeconds = limitValue("--cpu", parseCpuSeconds(value));
    },
  },
  {
    name: "--nofile",
    value: "<n>",
    group: "jail",
    help: "open files (RLIMIT_NOFILE; default 1024; or `unlimited`)",
    see: { title: "Limits that cannot work", anchor: "#limits-that-cannot-work" },
    set: (s, value) => {
      s.limits.openFiles = limitValue("--nofile", parseCount(value));
    },
  },
  {
    name: "--nproc",
    value: "<n>",
    group: "jail",
    help:
      "processes and threads of the jail's user (RLIMIT_NPROC; default 512; at least 3 under bwrap)",
    set: (s, value) => {
      s.limits.processes = limitValue("--nproc", parseCount(value));
    },
  },
  {
    name: "--tmp-size",
    value: "<size>",
    group: "jail",
    help:
      "size of each in-memory file system the jail can write (`/tmp` with the work directory, `/dev/shm`; default `512M`; or `unlimited`), and its files (one a KiB, at least 4096); bwrap only",
    see: { title: "Binds and in-memory file systems", anchor: "#binds-and-in-memory-file-systems" },
    set: (s, value) => {
      s.limits.tmpBytes = limitValue("--tmp-size", parseSize(value));
    },
  },
];

/**
 * Whether a flag's value looks like what comes after the flags, the program (a path: a slash and
 * no `=`) or the separator and flags (a leading `-`, not a negative number): the flag's own value
 * was then probably forgotten (`--ro-bind /bin/sh -c ...`, `--env --`). cli/flags.ts says so when
 * the run is refused.
 *
 * @example
 * looksLikeProgram("/bin/sh"); // true
 * looksLikeProgram("db=/var/db"); // false
 * looksLikeProgram("-1"); // false
 */
export function looksLikeProgram(value: string): boolean {
  return /^-\D/.test(value) || (value.includes("/") && !value.includes("="));
}

function duration(flag: string, value: string): number {
  const ms = parseDuration(value);
  if (typeof ms !== "number") throw new UsageError(`${flag} ${ms.error}`);
  return ms;
}

function numericId(flag: string, value: string): number {
  const problem = /^\d+$/.test(value) ? jailIdProblem(Number(value)) : jailIdProblem(NaN);
  if (problem) throw new UsageError(`${flag} ${flagValue(value)}: ${problem}`);
  return Number(value);
}

function bind(flag: string, value: string, cwd: () => string): Bind {
  const parsed = parseBind(value);
  if ("error" in parsed) throw new UsageError(`${flag} ${flagValue(value)}: ${parsed.error}`);
  const source = absoluteFrom(cwd, parsed.source);
  return { source, dest: parsed.dest ?? source };
}

function limitValue(
  flag: string,
  parsed: number | undefined | { error: string },
): number | undefined {
  if (typeof parsed === "object") throw new UsageError(`${flag} ${parsed.error}`);
  return parsed;
}

function parseGrant(value: string, earlier: readonly FdGrant[]): FdGrant {
  const eq = value.indexOf("=");
  if (eq < 0) {
    throw new UsageError(`--with-fd ${flagValue(value)}: expected name=fdnum, e.g. --with-fd db=3`);
  }
  const name = value.slice(0, eq);
  const fdText = value.slice(eq + 1);
  if (!/^\d+$/.test(fdText)) {
    throw new UsageError(
      `--with-fd ${value}: ${
        JSON.stringify(fdText)
      } is not a descriptor number (a whole number, e.g. --with-fd db=3)`,
    );
  }
  const grant = { name, source: Number(fdText) };
  const problem = grantProblem(grant, earlier);
  if (problem) {
    // The flag as typed, not rebuilt from the grant (05 as 5, 1e20 for twenty digits).
    const rebuilt = `--with-fd ${name}=${grant.source}`;
    throw new UsageError(
      problem.startsWith(rebuilt) ? `--with-fd ${value}${problem.slice(rebuilt.length)}` : problem,
    );
  }
  return grant;
}

function readEnvFile(
  name: string,
  path: string,
  context: FlagContext,
): { env: Record<string, string>; lineOf: Record<string, number> } {
  const { readFile } = context;
  let text: string;
  try {
    if (!readFile) throw new Error("no file reader given");
    text = readFile(path);
  } catch (e) {
    const why = osWhy(e);
    // A directory is the one mistake whose fix the reason does not say.
    const fix = why === "it is a directory" ? "; give the file of KEY=VALUE lines" : "";
    throw new UsageError(`--env-file ${name}: cannot read it (${why})${fix}`);
  }
  const parsed = parseEnvFile(text, name, context.callerEnv, context.callerEnvNotText);
  if ("error" in parsed) throw new UsageError(`--env-file ${parsed.error}`);
  return parsed;
}

/** `name=ADDR` or, for --open, `name=PATH[:MODE]`; the address itself is checked afterwards. */
function parseOwnGrant(flag: "--listen" | "--connect" | "--open", value: string): OwnGrant {
  const eq = value.indexOf("=");
  if (eq < 0) {
    const example = flag === "--open"
      ? "--open log=/var/log/app.log:a"
      : `${flag} http=tcp:127.0.0.1:8080`;
    throw new UsageError(
      `${flag} ${flagValue(value)}: expected name=${
        flag === "--open" ? "PATH[:MODE]" : "ADDR"
      }, e.g. ${example}`,
    );
  }
  const name = value.slice(0, eq);
  const rest = value.slice(eq + 1);
  if (flag === "--listen") return { name, listen: rest };
  if (flag === "--connect") return { name, connect: rest };
  const { path, mode } = parseOpenSpec(rest);
  return { name, open: path, mode };
}

function parseEnv(value: string, context: FlagContext, s: FlagState): void {
  const { env, envFrom } = s;
  const { callerEnv } = context;
  const eq = value.indexOf("=");
  const key = eq < 0 ? value : value.slice(0, eq);
  const problem = commandLineEnvKeyProblem(key);
  if (problem) {
    // As an env file's line says what it expected, unless the program or `--` was taken for the
    // name: cli/flags.ts then says the value was probably forgotten.
    const fix = looksLikeProgram(value) ? "" : " (expected KEY=VALUE or KEY)";
    throw new UsageError(`--env ${flagValue(value)}: ${problem}${fix}`);
  }
  if (eq < 0) {
    // Like `docker run -e KEY`: the caller's value, or nothing when the caller has none.
    if (key in callerEnv) [env[key], envFrom[key]] = [callerEnv[key], `--env ${key}`];
    else if (context.callerEnvNotText?.(key)) throw new UsageError(`--env ${key}: ${NOT_TEXT}`);
    return;
  }
  const v = value.slice(eq + 1);
  if (v.includes("\0")) throw new UsageError(`--env ${key}: the value contains a NUL byte`);
  [env[key], envFrom[key]] = [v, `--env ${key}=${clipText(v, 40)}`];
}
