// core/errors.ts — the errors ww reports to people, each with the exit code the CLI uses for it.
// Messages are one line: the offending input, what is wrong, and what to do.

import { EACCES, EISDIR, ELOOP, ENAMETOOLONG, ENOEXEC, ENOTDIR, ETXTBSY } from "../ffi/errno.ts";

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
} as const;

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
  /** `message`: one line for the user; `exitCode`: what `ww run` exits with. */
  constructor(message: string, readonly exitCode: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "WwError";
  }
}

/**
 * Bad flags or arguments (exit 125).
 *
 * @example
 * ```ts ignore
 * throw new UsageError("--timeout 0s: must be at least 1 ms (e.g. --timeout 500ms)");
 * ```
 */
export class UsageError extends WwError {
  /** `message`: one line naming the input, what is wrong and the fix. */
  constructor(message: string, options?: ErrorOptions) {
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
  constructor(message: string, options?: ErrorOptions) {
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
  constructor(message: string, options?: ErrorOptions) {
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
  constructor(message: string, readonly signal: number, options?: ErrorOptions) {
    super(message, 128 + signal, options);
    this.name = "InterruptedError";
  }
}

/**
 * A granted descriptor is not open in this process (exit 125), so it cannot be handed over.
 * `grant` is the grant's name and `fd` its descriptor number.
 *
 * @example
 * new ClosedFdError("db", 77).message; // "grant db: descriptor 77 is not open in this process ..."
 */
export class ClosedFdError extends SetupError {
  /** `grant`: the grant's name; `fd`: the descriptor it names; `message` for the command line. */
  constructor(
    readonly grant: string,
    readonly fd: number,
    message?: string,
    options?: ErrorOptions,
  ) {
    super(
      message ??
        `grant ${grant}: descriptor ${fd} is not open in this process (open it before starting the program, and keep it open until then)`,
      options,
    );
    this.name = "ClosedFdError";
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
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT.notFound, options);
    this.name = "NotFoundError";
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
