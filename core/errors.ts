// core/errors.ts — the errors ww reports to people, each with the exit code the CLI uses for it.
// Messages are one line: the offending input, what is wrong, and what to do (a control character
// in the input they quote is escaped, so it cannot break the line).

import { clipMiddle, oneLine } from "./escape.ts";
import {
  EACCES,
  EISDIR,
  ELOOP,
  ENAMETOOLONG,
  ENOEXEC,
  ENOTDIR,
  errnoName,
  ETXTBSY,
} from "../ffi/errno.ts";

/**
 * Exit codes of `ww run` that are not the program's own (documented in README.md).
 *
 * @example
 * ```ts ignore
 * Deno.exit(EXIT.notFound); // 127, as a shell reports a missing command
 * ```
 */
export const EXIT = {
  /** A usage or setup error of ww itself: bad flags, a jail that cannot be built. */
  usage: 125,
  /** The program exists but cannot be executed. */
  notExecutable: 126,
  /** The program was not found. */
  notFound: 127,
  /** `--timeout` (jail.timeoutMs) expired: the program was stopped, or never started. */
  timedOut: 124,
} as const;

/** The most characters of an error's message: what it quotes is cut in the middle past this. */
const MAX_MESSAGE = 8192;

/**
 * An error meant for the user, with the exit code it maps to.
 *
 * @example
 * ```ts ignore
 * try {
 *   await startProgram(config);
 * } catch (e) {
 *   if (!(e instanceof WwError)) throw e;
 *   console.error(`ww: ${e.message}`);
 *   Deno.exit(e.exitCode);
 * }
 * ```
 */
export class WwError extends Error {
  /**
   * The line `ww run` prints for this error, in the command line's words (its flags), when they
   * differ from `message`, which is worded for a library caller (its options).
   */
  readonly commandLine?: string;
  /** `message`: one line for the user; `exitCode`: what `ww run` exits with. */
  constructor(message: string, readonly exitCode: number, options?: WwErrorOptions) {
    // One line, whatever the input it quotes holds (a newline in a flag's value or a path), and
    // one of a size that ww's stderr takes whole, however much of it that input is.
    super(oneLine(clipMiddle(message, MAX_MESSAGE)), options);
    this.name = "WwError";
    if (options?.commandLine !== undefined) {
      this.commandLine = oneLine(clipMiddle(options.commandLine, MAX_MESSAGE));
    }
  }
}

/**
 * ErrorOptions, and the command line's wording of the error when it differs from `message`.
 *
 * @example
 * ```ts ignore
 * throw new SetupError("cwd /srv: not shown in the jail", { commandLine: "--chdir /srv: ..." });
 * ```
 */
export interface WwErrorOptions extends ErrorOptions {
  /** The line `ww run` prints instead of `message` (see {@linkcode WwError.commandLine}). */
  readonly commandLine?: string;
}

/**
 * Bad flags or arguments, or a library caller's wrong option or config (exit 125).
 *
 * @example
 * ```ts ignore
 * throw new UsageError("--timeout 0s: must be at least 1 ms (e.g. --timeout 500ms)");
 * ```
 */
export class UsageError extends WwError {
  /** `message`: one line naming the input, what is wrong and the fix. */
  constructor(message: string, options?: WwErrorOptions) {
    super(message, EXIT.usage, options);
    this.name = "UsageError";
  }
}

/**
 * Something ww needed to prepare the run failed (exit 125).
 *
 * @example
 * ```ts ignore
 * throw new SetupError("bwrap: not found in PATH (install bubblewrap, or use --jail=native)");
 * ```
 */
export class SetupError extends WwError {
  /** `message`: one line naming the input, what is wrong and the fix. */
  constructor(message: string, options?: WwErrorOptions) {
    super(message, EXIT.usage, options);
    this.name = "SetupError";
  }
}

/**
 * The program was found but cannot be executed (exit 126).
 *
 * @example
 * ```ts ignore
 * throw new NotExecutableError("./notes.txt: not an executable (chmod +x it)");
 * ```
 */
export class NotExecutableError extends WwError {
  /** `message`: one line naming the input, what is wrong and the fix. */
  constructor(message: string, options?: WwErrorOptions) {
    super(message, EXIT.notExecutable, options);
    this.name = "NotExecutableError";
  }
}

/**
 * ww was told to stop (SIGINT, SIGTERM, ...) before the program started, e.g. while fetching it;
 * exits 128+N, as a shell reports a command killed by signal N.
 *
 * @example
 * ```ts ignore
 * throw new InterruptedError("app: stopped by SIGINT while being fetched; nothing was run", 2);
 * ```
 */
export class InterruptedError extends WwError {
  /** `signal`: the number of the signal that stopped ww. */
  constructor(message: string, readonly signal: number, options?: WwErrorOptions) {
    super(message, 128 + signal, options);
    this.name = "InterruptedError";
  }
}

/**
 * `--timeout` (jail.timeoutMs) expired before the program started (exit 124, as when it stops a
 * program): a wait of the start's, a grant's (a FIFO's other end, a connect, a name lookup) or
 * the jail's, took the whole of it. `timeoutMs` is the limit.
 *
 * @example
 * ```ts ignore
 * try { await startProgram({ program: "/bin/true", own: [fifo], jail: { timeoutMs: 2000 } }); }
 * catch (e) { if (e instanceof TimedOutError) console.log(e.timeoutMs, e.exitCode); } // 2000 124
 * ```
 */
export class TimedOutError extends WwError {
  /** `timeoutMs`: the limit that expired; `message`: what ww was waiting on. */
  constructor(readonly timeoutMs: number, message: string, options?: WwErrorOptions) {
    super(message, EXIT.timedOut, options);
    this.name = "TimedOutError";
  }
}

/**
 * A grant could not be handed to the program (exit 125): a socket ww could not listen on or
 * connect to, a file it could not open, a descriptor it may not pass. `grant` is the grant's
 * name; `cause` the system call's error, when there is one.
 *
 * @example
 * ```ts ignore
 * throw new GrantError("db", "grant db: cannot open /srv/db (no such file)", { cause });
 * ```
 */
export class GrantError extends SetupError {
  /** `grant`: the grant's name; `message`: one line naming it, what failed and the fix. */
  constructor(readonly grant: string, message: string, options?: WwErrorOptions) {
    super(message, options);
    this.name = "GrantError";
  }
}

/**
 * A granted descriptor is not open in this process (exit 125), so it cannot be handed over.
 * `grant` is the grant's name and `fd` its descriptor number.
 *
 * @example
 * new ClosedFdError("db", 77).message; // "grant db: descriptor 77 is not open in this process ..."
 */
export class ClosedFdError extends GrantError {
  /** `grant`: the grant's name; `fd`: the descriptor it names. */
  constructor(grant: string, readonly fd: number, options?: WwErrorOptions) {
    super(
      grant,
      `grant ${grant}: descriptor ${fd} is not open in this process (open it before starting the program, and keep it open until then)`,
      options,
    );
    this.name = "ClosedFdError";
  }
}

/**
 * A resource limit of the jail cannot work for this run on this machine (exit 125): too low for
 * the program to start, or above what ww may set. `limit` is its key in the jail's limits
 * (`processes`, `memoryBytes`, `cpuSeconds`, `openFiles`) and `value` the value asked for.
 *
 * @example
 * ```ts ignore
 * try { await new Command("/bin/true", { jail: { limits: { processes: 1 } } }).spawn(); }
 * catch (e) { if (e instanceof LimitError) console.log(e.limit, e.value); } // "processes" 1
 * ```
 */
export class LimitError extends UsageError {
  /** `limit` and `value`: the limit asked for; `message`: what is wrong and a value that works. */
  constructor(
    readonly limit: "memoryBytes" | "cpuSeconds" | "openFiles" | "processes",
    readonly value: number,
    message: string,
    options?: WwErrorOptions,
  ) {
    super(message, options);
    this.name = "LimitError";
  }
}

/**
 * A bind of a host path into the jail cannot be made (exit 125): its source is missing or out of
 * the jail's user's reach, or its destination is not allowed. `bind` is the bind's host path
 * (source).
 *
 * @example
 * ```ts ignore
 * try { await startProgram({ program: "/bin/true", jail: { ...DEFAULT_POLICY, readOnlyBinds: [{ source: "/nope", dest: "/x" }] } }); }
 * catch (e) { if (e instanceof BindError) console.log(e.bind); } // "/nope"
 * ```
 */
export class BindError extends SetupError {
  /** `bind`: the bind's source on the host; `message`: what is wrong and the fix. */
  constructor(readonly bind: string, message: string, options?: WwErrorOptions) {
    super(message, options);
    this.name = "BindError";
  }
}

/**
 * The program cannot start in the working directory asked for (exit 125): the jail does not show
 * it, or it is not a directory. `cwd` is the directory as asked for (the `cwd` option).
 *
 * @example
 * ```ts ignore
 * try { await new Command("/bin/pwd", { cwd: "/srv/missing" }).output(); }
 * catch (e) { if (e instanceof CwdError) console.log(e.cwd); } // "/srv/missing"
 * ```
 */
export class CwdError extends SetupError {
  /** `cwd`: the directory asked for; `message`: what is wrong and the fix. */
  constructor(readonly cwd: string, message: string, options?: WwErrorOptions) {
    super(message, options);
    this.name = "CwdError";
  }

  /**
   * The error for `dir` with one reason in both words: `cwd DIR: why` for a library caller,
   * `--chdir DIR: why` on the command line.
   *
   * @example
   * ```ts ignore
   * throw CwdError.because("/srv", "not a directory");
   * ```
   */
  static because(dir: string, why: string): CwdError {
    return new CwdError(dir, `cwd ${dir}: ${why}`, { commandLine: `--chdir ${dir}: ${why}` });
  }
}

/**
 * The program does not exist (exit 127).
 *
 * @example
 * ```ts ignore
 * throw new NotFoundError("frobnicate: not found in PATH");
 * ```
 */
export class NotFoundError extends WwError {
  /** `message`: one line naming the input, what is wrong and the fix. */
  constructor(message: string, options?: WwErrorOptions) {
    super(message, EXIT.notFound, options);
    this.name = "NotFoundError";
  }
}

/**
 * The jail's backend could not set the jail up, so the program never started: `backend` is the
 * one that failed ("bwrap"), `reason` its own words (bubblewrap's lines on its stderr, e.g.
 * "bwrap: Can't mount proc on /newroot/proc: Operation not permitted"), empty when it said
 * nothing (it was killed). The message says both, in one line.
 *
 * @example
 * ```ts ignore
 * const { status } = await new Command("/bin/true", { jail: { backend: "bwrap" } }).spawn();
 * const s = await status; // s.error instanceof JailError: s.error.reason is bwrap's own line
 * ```
 */
export class JailError extends SetupError {
  /** `backend`: the backend that failed; `reason`: what it said, one line per line it wrote. */
  constructor(
    message: string,
    readonly backend: "bwrap",
    readonly reason: string,
    options?: WwErrorOptions,
  ) {
    super(message, options);
    this.name = "JailError";
  }
}

/**
 * Under --jail=auto, bwrap failed before the jail existed (so nothing of the program ran) and a
 * fresh try confirmed it cannot create namespaces here: the run goes to `fallback` instead.
 *
 * @example
 * ```ts ignore
 * try { await startProgram(config); } catch (e) { if (e instanceof NamespacesUnavailableError) e.fallback.backend; }
 * ```
 */
export class NamespacesUnavailableError extends SetupError {
  /** `fallback`: the native jail, and why namespaces are unavailable. */
  constructor(
    message: string,
    readonly fallback: { readonly backend: "native"; readonly reason: string },
  ) {
    super(message);
    this.name = "NamespacesUnavailableError";
  }
}

/**
 * The errno values execve reports for a file that exists but cannot be executed: exit 126
 * (NotExecutableError), where ENOENT is 127. One rule for posix_spawn and the stage's exec.
 */
export const NOT_EXECUTABLE_ERRNOS: ReadonlySet<number> = new Set([
  EACCES,
  ENOEXEC,
  EISDIR,
  ETXTBSY,
  ELOOP,
  ENOTDIR,
  ENAMETOOLONG,
]);

/**
 * What the system said in `e` (a Deno.errors error, say), without the "(os error N)" and the call
 * Deno adds: for a line that names the thing and says why in its own words.
 *
 * @example
 * osReason(new Error("Not a directory (os error 20): readdir '/x'")); // "Not a directory"
 */
export function osReason(e: unknown): string {
  return e instanceof Error ? e.message.replace(/ \(os error \d+\).*$/s, "") : String(e);
}

/** ww's words for the errno names its messages about files meet most. */
const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ELOOP: "too many levels of symbolic links (a loop)",
  EISDIR: "it is a directory",
  ENOTDIR: "a part of its path is not a directory",
  ENAMETOOLONG: "its path is too long",
  // open(2) of a unix socket, or of a device with nothing behind it (/dev/tty, no terminal).
  ENXIO: "no such device or address: a unix socket, or a device with nothing behind it",
};

/**
 * Why a file operation failed, in ww's words, from `e`: a Deno.errors error or an ffi
 * SyscallError, both of which carry the errno's name as `code` (their own texts differ: "Is a
 * directory" from one, "open (/x): ELOOP" from the other); else osReason's first line.
 *
 * @example
 * osWhy(new Deno.errors.NotFound("No such file or directory (os error 2)")); // "no such file"
 * osWhy({ code: "ELOOP" }); // "too many levels of symbolic links (a loop)"
 */
export function osWhy(e: unknown): string {
  const { code: given, name } = (e ?? {}) as { code?: unknown; name?: unknown };
  // One made by hand (a library caller's reader) has its class's name only.
  // Deno gives some errors no class of their own, nor a code: "... (os error 6)", the number.
  const number = /\(os error (\d+)\)/.exec(osText(e))?.[1];
  const code = typeof given === "string"
    ? given
    : typeof name === "string" && Object.hasOwn(ERROR_CODES, name)
    ? ERROR_CODES[name]
    : number !== undefined
    ? errnoName(Number(number))
    : undefined;
  return code !== undefined && Object.hasOwn(ERRNO_WORDS, code)
    ? ERRNO_WORDS[code]
    : osReason(e).split("\n")[0];
}

/** The message of `e`, an Error's or any value's text. */
function osText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The errno name of each of the runtime's error classes, by the class's name, for osWhy. */
const ERROR_CODES: Readonly<Record<string, string>> = {
  NotFound: "ENOENT",
  PermissionDenied: "EACCES",
  IsADirectory: "EISDIR",
  NotADirectory: "ENOTDIR",
  FilesystemLoop: "ELOOP",
};
