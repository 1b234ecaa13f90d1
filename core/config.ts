// core/config.ts — RunConfig, the one value that describes a run; the CLI builds it from flags and
// the library takes it from callers, and the rules its values follow that the command line and
// the library share (`grantProblem`, the --with-fd grants'; `jailIdProblem`, the jail's ids').

import { fdEnvVar, type FdGrant, GRANT_NAME } from "../fd/layout.ts";
import type { OwnGrant, Wording } from "../fd/grants.ts";
import type { JailPolicy } from "../jail/policy.ts";
import { clipText, escapeText } from "./escape.ts";

/**
 * Everything that decides what a run does.
 *
 * @example
 * ```ts ignore
 * const config: RunConfig = {
 *   program: "/bin/cat",
 *   args: ["-"],
 *   fds: [{ name: "db", source: 7 }], // the child gets fd 4 and WW_FD_DB=4
 *   env: { LANG: "C.UTF-8" },
 *   ipfsApi: DEFAULT_IPFS_API,
 *   jail: DEFAULT_POLICY,
 * };
 * ```
 */
export interface RunConfig {
  /** The program as the user named it: a path, or a name looked up in PATH. */
  readonly program: string;
  /** Its arguments (argv[1...]). */
  readonly args: readonly string[];
  /** Descriptors of the calling process to hand over, by name. */
  readonly fds: readonly FdGrant[];
  /**
   * Sockets and files ww opens itself with the caller's rights, by name (`--listen`,
   * `--connect`, `--open`), laid out after `fds` by upper-cased name.
   */
  readonly own?: readonly OwnGrant[];
  /**
   * Start the program as systemd starts a socket-activated service (sd_listen_fds(3)): the
   * `listen` grants on fd 3, 4, … by upper-cased name, LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID
   * set, and the host socket after them at WW_HOST_FD. Needs at least one `listen` grant.
   */
  readonly socketActivation?: boolean;
  /** The child's whole environment, apart from the WW_FD_* variables. */
  readonly env: Readonly<Record<string, string>>;
  /** Kubo RPC endpoint (multiaddr) for /ipfs and /ipns programs. */
  readonly ipfsApi: string;
  /** Where ipfsApi came from (--ipfs, WW_IPFS, $IPFS_PATH/api, default), named in errors. */
  readonly ipfsApiOrigin?: string;
  /** How long the IPFS node may send nothing while a program is fetched; default 30 s. */
  readonly ipfsTimeoutMs?: number;
  /** Take the node's word for an /ipns/ name it gives no signed record for. */
  readonly trustNodeIpns?: boolean;
  /** What the jail allows; DEFAULT_POLICY for the default profile. */
  readonly jail: JailPolicy;
  /**
   * A terminal of its own for the program: a new pseudo-terminal on its fd 0-2, the controlling
   * terminal of its session, proxied by ww to and from ww's own stdin and stdout, whose terminal
   * (if stdin is one) is in raw mode until the program ends. The CLI sets it when stdin and
   * stdout are terminals (--tty, --no-tty); default false: the program gets ww's fd 0-2.
   */
  readonly tty?: boolean;
}

/** Largest descriptor number accepted in a grant. */
export const MAX_FD = 2 ** 31 - 1;

/** The largest --uid or --gid: bubblewrap takes no larger id (it reads them as a signed int). */
export const MAX_JAIL_ID = 2147483647;

/**
 * Why `id` cannot be a jail's uid or gid, or undefined. Refused for every backend, so that a run
 * and its --explain agree, and `--jail=auto` never takes bwrap's refusal of an id for a machine
 * without namespaces (it fell back to native, and remembered that for every later run).
 *
 * @example
 * jailIdProblem(4294967294);
 * // "expected a numeric id from 0 to 2147483647 (for every backend: bubblewrap takes none larger)"
 */
export function jailIdProblem(id: number): string | undefined {
  if (Number.isInteger(id) && id >= 0 && id <= MAX_JAIL_ID) return undefined;
  return `expected a numeric id from 0 to ${MAX_JAIL_ID} (for every backend: bubblewrap takes none larger)`;
}

/** Why `grant` cannot be added to `earlier`, or undefined when it can. */
export function grantProblem(
  grant: FdGrant,
  earlier: readonly FdGrant[],
  words: Wording = "commandLine",
): string | undefined {
  // The flag, rebuilt from the grant (a number typed 03 shows as 3), or for a library caller the
  // list entry (`earlier` is the list before it).
  const flag = words === "commandLine"
    ? `--with-fd ${grant.name}=${grant.source}`
    : `fds[${earlier.length}] ${JSON.stringify(grant.name)}`;
  if (!GRANT_NAME.test(grant.name)) {
    return `${flag}: the name must match [A-Za-z_][A-Za-z0-9_]* (it becomes ${fdEnvVar("NAME")})`;
  }
  if (!Number.isSafeInteger(grant.source) || grant.source < 0 || grant.source > MAX_FD) {
    return `${flag}: the fd must be a whole number from 0 to ${MAX_FD}`;
  }
  const clash = earlier.find((g) => fdEnvVar(g.name) === fdEnvVar(grant.name));
  if (clash) {
    return `${flag}: the name is already granted as ${clash.name} (names are compared ignoring case; both would be ${
      fdEnvVar(grant.name)
    })`;
  }
  return undefined;
}

/** The first problem with a whole list of grants (see grantProblem), or undefined. */
export function grantsProblem(
  grants: readonly FdGrant[],
  words: Wording = "commandLine",
): string | undefined {
  for (const [i, g] of grants.entries()) {
    const problem = grantProblem(g, grants.slice(0, i), words);
    if (problem) return problem;
  }
  return undefined;
}

/** Why `key` cannot be an environment variable name, or undefined. */
export function envKeyProblem(key: string): string | undefined {
  if (key === "") return "the variable name is empty";
  if (key.includes("=")) return "the variable name contains '='";
  if (key.includes("\0")) return "the variable name contains a NUL byte";
  return undefined;
}

/**
 * Why `key` cannot be a variable name given on the command line (`--env`, `--env-file`):
 * envKeyProblem's reasons, and whitespace, a slash or a leading '-', which are typos there
 * (`--env "A B=1"`, `A B=1` in a file; `--env /bin/app` or `--env --`, a value forgotten, which
 * took the program or the separator as a name), and a character ww never prints as it is (a
 * control or format character: core/escape.ts escapeText's), which no shell line types by
 * mistake and which would reach the program unseen, though execve(2) would pass them all. The
 * name is quoted, and the character shown, as escapeText writes them.
 *
 * @example
 * commandLineEnvKeyProblem("A B");
 * // 'the variable name "A B" contains whitespace'
 * commandLineEnvKeyProblem("A\x1bB");
 * // 'the variable name "A\\x1bB" contains an unprintable character, \\x1b'
 */
export function commandLineEnvKeyProblem(key: string): string | undefined {
  const quoted = `"${escapeText(key)}"`;
  // escapeText's characters but the backslash, which is printable (and a name's own).
  const unprintable = [...key].find((c) => c !== "\\" && escapeText(c) !== c);
  return envKeyProblem(key) ??
    (/\s/.test(key) ? `the variable name ${quoted} contains whitespace` : undefined) ??
    (unprintable !== undefined
      ? `the variable name ${quoted} contains an unprintable character, ${escapeText(unprintable)}`
      : undefined) ??
    (key.includes("/") ? `the variable name ${quoted} contains '/'` : undefined) ??
    // `--env --` took the separator for a name, and the run went on without it.
    (key.startsWith("-") ? `the variable name ${quoted} starts with '-'` : undefined);
}

/**
 * Why the strings of a run cannot reach execve(2) as given: an environment name that is not one
 * (`A=B` would set A), a NUL byte, which would cut a string short (the command line cannot
 * produce either; a library caller can), or a string longer than execve takes in one, 32 pages
 * of `pageSize()` (an --env-file's long value, say).
 *
 * @example
 * execStringsProblem({ program: "/bin/env", args: [], env: { "A=B": "1" } });
 * // 'env "A=B": the variable name contains \'=\''
 */
export function execStringsProblem(
  run: Pick<RunConfig, "program" | "args" | "env">,
  pageSize: () => number = () => 4096,
): string | undefined {
  if (run.program.includes("\0")) return "program: contains a NUL byte";
  if (overExecString(run.program, pageSize)) return `program: ${EXEC_STRING_TOO_LONG}`;
  for (const [i, arg] of run.args.entries()) {
    if (arg.includes("\0")) return `args[${i}]: contains a NUL byte`;
    if (overExecString(arg, pageSize)) return `args[${i}]: ${EXEC_STRING_TOO_LONG}`;
  }
  for (const [key, value] of Object.entries(run.env)) {
    const problem = envKeyProblem(key) ??
      (value.includes("\0")
        ? "the value contains a NUL byte"
        : overExecString(`${key}=${value}`, pageSize)
        ? EXEC_STRING_TOO_LONG
        : undefined);
    if (problem) return `env ${JSON.stringify(key)}: ${problem}`;
  }
  return undefined;
}

/**
 * What execve(2) says of an argument or `KEY=VALUE` string longer than it takes in one (its
 * MAX_ARG_STRLEN, 32 pages with the NUL: 128 KiB on x86_64): E2BIG, which --explain, running
 * nothing, did not see.
 */
const EXEC_STRING_TOO_LONG =
  "longer than execve takes in one string (32 pages, 128 KiB with 4 KiB pages, its NUL included; E2BIG): pass it in a file instead";

/**
 * Whether `s`, with its NUL, has more UTF-8 bytes than execve takes in one string: 32 pages of
 * `pageSize()`, asked only of a string that may be that long.
 */
function overExecString(s: string, pageSize: () => number): boolean {
  // A UTF-16 unit is at most 3 UTF-8 bytes, and a page at least 4 KiB: a short string is fine.
  if (s.length * 3 + 1 <= 32 * 4096) return false;
  return new TextEncoder().encode(s).length + 1 > 32 * pageSize();
}

/**
 * Why `env` sets a `WW_FD_<NAME>` variable that no grant of `names` backs, or undefined: a guest
 * reading the map (GetFDMap) would take it for a grant, naming a descriptor ww never gave. A
 * variable a grant backs is overridden by the grant (layoutFds). Worded for `words`' caller: the
 * command line's --env and --env-file (naming the one that set the variable when `from` says,
 * as FlagState.envFrom does), or a library caller's env and fds.
 *
 * @example
 * unbackedFdVariableProblem({ WW_FD_DB: "9" }, []);
 * // "--env WW_FD_DB=9 (or --env-file): WW_FD_ variables are ww's, one for each descriptor grant, and no grant is named db (grant one: --with-fd db=FD)"
 */
export function unbackedFdVariableProblem(
  env: Readonly<Record<string, string>>,
  names: readonly string[],
  words: Wording = "commandLine",
  from: Readonly<Record<string, string>> = {},
): string | undefined {
  const backed = new Set(names.map(fdEnvVar));
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith("WW_FD_") || backed.has(key)) continue;
    const where = words === "commandLine" ? commandLineOrigin(key, value, from) : `env ${key}`;
    const name = key.slice("WW_FD_".length);
    const grant = name.toLowerCase();
    const why = backed.has(key.toUpperCase())
      ? `the grant's variable is upper case (${key.toUpperCase()})`
      : !GRANT_NAME.test(name)
      ? "this one names no grant"
      : `no grant is named ${grant} (grant one: ${
        words === "commandLine" ? `--with-fd ${grant}=FD` : "fds"
      })`;
    return `${where}: WW_FD_ variables are ww's, one for each descriptor grant, and ${why}`;
  }
  return undefined;
}

/**
 * Why `env` sets WW_HOST_FD, or undefined: ww sets it, exactly when the host socket is not fd 3
 * (under socket activation, where ww's own value replaces any other), and a guest library takes
 * the descriptor it names for the host socket. Worded for `words`' caller, as
 * unbackedFdVariableProblem.
 *
 * @example
 * hostFdVariableProblem({ WW_HOST_FD: "4" }, false);
 * // "--env WW_HOST_FD=4 (or --env-file): WW_HOST_FD is ww's, set under --socket-activation to the host socket's descriptor, which a guest library takes it for"
 */
export function hostFdVariableProblem(
  env: Readonly<Record<string, string>>,
  socketActivation: boolean,
  words: Wording = "commandLine",
  from: Readonly<Record<string, string>> = {},
): string | undefined {
  const value = env.WW_HOST_FD;
  if (value === undefined || socketActivation) return undefined;
  const where = words === "commandLine"
    ? commandLineOrigin("WW_HOST_FD", value, from)
    : "env WW_HOST_FD";
  return `${where}: WW_HOST_FD is ww's, set under ${
    words === "commandLine" ? "--socket-activation" : "socketActivation"
  } to the host socket's descriptor, which a guest library takes it for`;
}

/** The flag that set `key`, as `from` says, or both flags that could have. */
function commandLineOrigin(
  key: string,
  value: string,
  from: Readonly<Record<string, string>>,
): string {
  return from[key] ?? `--env ${key}=${clipText(value, 40)} (or --env-file)`;
}

/** The longest path the kernel takes, its NUL not counted (PATH_MAX, 4096, counts it). */
const PATH_MAX_BYTES = 4095;

/**
 * Room ww keeps for what it adds to TMPDIR's path: `/ww-` and 16 hex digits, with bwrap's
 * `/newroot` before it (bwrap makes the work directory in the jail's root), 28 bytes; a --deno
 * guest's `/ww-deno-` and 16 hex digits and `/guest.js`, 34, which deno bundle needs a byte more
 * for; and a margin. Past this, bwrap failed as if the jail could not be set up, and the native
 * stage as if the host offered no jail (`try another --jail`).
 */
const TMPDIR_ROOM_BYTES = 64;

/** The longest TMPDIR every backend makes its work directory in. */
const TMPDIR_MAX_BYTES = PATH_MAX_BYTES - TMPDIR_ROOM_BYTES;

/**
 * The directory work directories are made in, from the caller's TMPDIR: TMPDIR itself (one
 * absolute directory, short enough for the paths ww makes in it), or /tmp when TMPDIR is unset or
 * empty, the same for every backend (the bwrap jail makes its work directory at that path in its
 * own tmpfs; native and none on the host).
 *
 * @example
 * workdirParent(undefined); // { dir: "/tmp" }
 * workdirParent("tmp"); // { error: "TMPDIR=tmp: not an absolute path (...)" }
 * workdirParent("/" + "d".repeat(4095)); // { error: "TMPDIR=/ddd…: too long (4096 bytes; ...)" }
 */
export function workdirParent(tmpdir: string | undefined): { dir: string } | { error: string } {
  if (tmpdir === undefined || tmpdir === "") return { dir: "/tmp" };
  const fix = "set TMPDIR to one absolute directory, e.g. /tmp, or unset it";
  if (tmpdir.includes(":")) {
    return { error: `TMPDIR=${tmpdir}: holds one directory, not a list separated by ':' (${fix})` };
  }
  if (!tmpdir.startsWith("/")) return { error: `TMPDIR=${tmpdir}: not an absolute path (${fix})` };
  const dir = tmpdir.replace(/\/+$/, "") || "/";
  // A UTF-16 unit is at most 3 bytes of UTF-8: most TMPDIRs need no encoding to be measured.
  const bytes = dir.length * 3 > TMPDIR_MAX_BYTES ? new TextEncoder().encode(dir).length : 0;
  if (bytes > TMPDIR_MAX_BYTES) {
    return {
      error:
        `TMPDIR=${tmpdir}: too long (${bytes} bytes; the paths ww makes in it need ${TMPDIR_ROOM_BYTES} more, and the kernel takes at most ${PATH_MAX_BYTES}, PATH_MAX) (set TMPDIR to a directory of at most ${TMPDIR_MAX_BYTES} bytes, e.g. /tmp, or unset it)`,
    };
  }
  return { dir };
}
