// ffi/libc.ts — the one place where ww opens libc. Every other module in ffi/ calls through `libc`
// and turns failures into `SyscallError`; nothing outside ffi/ sees a pointer.
//
// Blocking calls (`poll`) are declared `nonblocking`, so Deno runs them on a worker thread and the
// event loop stays free (waitpid is called only with WNOHANG, once ffi/reactor.ts saw the child
// end). errno is thread-local, so it is only meaningful for calls made on the main thread; the
// nonblocking ones are used only where the return value says enough.

import { errnoName } from "./errno.ts";

/** What every run needs: descriptors, spawning, waiting, signalling. */
const symbols = {
  // errno's address on this thread (lastErrno): bound with the rest, one dlopen fewer a run.
  __errno_location: { parameters: [], result: "pointer" },
  close: { parameters: ["i32"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  pidfd_open: { parameters: ["i32", "u32"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  poll: { parameters: ["pointer", "u64", "i32"], result: "i32", nonblocking: true },
  // poll(2) with a timeout of 0, on the main thread: is a descriptor ready now?
  poll_now: { name: "poll", parameters: ["buffer", "u64", "i32"], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  // Here, not with the file group: a --jail=none run reopens its stderr with it (ffi/stderr.ts),
  // and binding that whole group for one call cost it 3-6 ms.
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  // Here too (ffi/stat.ts): a --jail=none run asks it of TMPDIR, the program and its stderr, and
  // Deno.statSync's first use costs a run ~0.6 ms; a call through a bound group costs microseconds.
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  sigfillset: { parameters: ["buffer"], result: "i32" },
  sigemptyset: { parameters: ["buffer"], result: "i32" },
  posix_spawn: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_adddup2: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  posix_spawn_file_actions_addclosefrom_np: { parameters: ["buffer", "i32"], result: "i32" },
  posix_spawn_file_actions_addchdir_np: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  posix_spawnattr_setsigmask: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_setsigdefault: { parameters: ["buffer", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Files by path and memfds beyond open(2): programs from IPFS, Landlock rules, ww's stderr when
 * it is a socket (ffi/stderr.ts). */
const fileSymbols = {
  pread: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
  sendfile: { parameters: ["i32", "i32", "buffer", "usize"], result: "isize" },
  access: { parameters: ["buffer", "i32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  // openat2(2), which glibc does not wrap: `syscall` declared with this call's argument shape (see
  // the Landlock probe below).
  syscall_openat2: {
    name: "syscall",
    parameters: ["i64", "i32", "buffer", "buffer", "usize"],
    result: "i64",
  },
  // In-kernel copies run on a worker thread, so the event loop goes on (it keeps reading the
  // node's stream while a program being fetched is copied into the cache); a call that fails is
  // repeated on the main thread to learn errno.
  sendfile_background: {
    name: "sendfile",
    parameters: ["i32", "i32", "pointer", "usize"],
    result: "isize",
    nonblocking: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

/**
 * What every jail needs beyond the first group: its id lease's lock, the stage's memfd, the kind
 * of the paths a jail shows (ffi/stat.ts).
 */
const jailSymbols = {
  flock: { parameters: ["i32", "i32"], result: "i32" },
  memfd_create: { parameters: ["buffer", "u32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Only a jail's id lease, as root, scans every /proc/<pid> (ffi/proc.ts). */
const procSymbols = {
  getdents64: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Only the native jail's stage confines itself. */
const stageSymbols = {
  // The Landlock ABI probe (ffi/landlock.ts). glibc has no Landlock wrappers, so `syscall` is
  // declared with this call's argument shape: it is variadic, but on x86_64 and aarch64 Linux its
  // integer and pointer arguments travel in the same registers as fixed ones.
  syscall_landlock_create_ruleset: {
    name: "syscall",
    parameters: ["i64", "buffer", "usize", "u32"],
    result: "i64",
  },
} as const satisfies Deno.ForeignLibraryInterface;

// Each group is bound on first use, and a plain `ww run` needs only the first group.
let library: Symbols<typeof symbols> | undefined;
let fileLibrary: Symbols<typeof fileSymbols> | undefined;
let stageLibrary: Symbols<typeof stageSymbols> | undefined;
let procLibrary: Symbols<typeof procSymbols> | undefined;
let jailLibrary: Symbols<typeof jailSymbols> | undefined;
/** errno of the thread ww calls libc on, as memory; set when libc's first group is bound. */
let errnoCell: Int32Array | undefined;

/** The functions of a group of symbols, as Deno.dlopen would type them. */
export type Symbols<S extends Deno.ForeignLibraryInterface> = Deno.DynamicLibrary<S>["symbols"];

/** A JS function as dlopen makes it, for the wrappers of openLibrary. */
type Call = (...args: unknown[]) => unknown;

/**
 * Opens `symbols` of `path` (libc by default) without a fast-call trampoline for any: Deno compiles one per
 * synchronous symbol when the library is opened (its "turbocall", with Cranelift), ~1.7 ms to
 * start the compiler and ~0.2 ms a symbol, 5-6 ms for the first group on every run, for calls
 * ww makes a few times each. Deno compiles none for a symbol that takes a struct, so each is
 * opened with its first parameter as a struct of that one field (none: a struct it ignores), which
 * the C calling convention passes exactly as the field alone, in the same register, on x86_64
 * and aarch64; the wrapper puts the argument in it. A call then costs ~1 µs more. The wrappers
 * keep `symbols`' own signatures, so callers see no difference. Every library ww opens is
 * opened this way (ffi/tty.ts, ffi/socket.ts, ffi/sha.ts too).
 *
 * @example
 * const { getpid } = openLibrary({ getpid: { parameters: [], result: "i32" } });
 * getpid(); // Deno.pid
 */
export function openLibrary<S extends Deno.ForeignLibraryInterface>(
  symbols: S,
  path = "libc.so.6",
): Symbols<S> {
  // Before any symbol of the library can fail: lastErrno must not open anything after a failure.
  libc();
  return openWithoutTrampolines(symbols, path);
}

/** openLibrary's work, for libc's first group too. */
function openWithoutTrampolines<S extends Deno.ForeignLibraryInterface>(
  symbols: S,
  path: string,
): Symbols<S> {
  const defs: Record<string, Deno.ForeignFunction> = {};
  const wraps: Record<string, (call: Call) => Call> = {};
  for (const [key, def] of Object.entries(symbols) as [string, Deno.ForeignFunction][]) {
    if (def.nonblocking) {
      defs[key] = def; // called on a worker thread: no trampoline either
      continue;
    }
    const [first = "i32", ...rest] = def.parameters;
    defs[key] = { ...def, parameters: [{ struct: [first] }, ...rest] };
    const arity = def.parameters.length;
    wraps[key] = (call) => structFirst(first, arity === 0)(call, arity);
  }
  const opened = Deno.dlopen(path, defs).symbols as Record<string, Call>;
  const out: Record<string, Call> = {};
  for (const key of Object.keys(defs)) out[key] = wraps[key]?.(opened[key]) ?? opened[key];
  return out as Symbols<S>;
}

/**
 * A wrapper of `call` (a symbol opened by openLibrary) that takes its first argument as declared
 * and passes it as the one-field struct, its memory: an i32, or a 64-bit integer or address.
 */
function structFirst(type: Deno.NativeType, none: boolean): (call: Call, arity: number) => Call {
  if (none) {
    const unused = new Int32Array(1);
    return (call) => () => call(unused);
  }
  if (type === "i32" || type === "u32") {
    const cell = new Int32Array(1);
    return (call, arity) => withArity(call, cell, (v) => cell[0] = v as number, arity);
  }
  if (!["pointer", "buffer", "i64", "u64", "isize", "usize"].includes(type as string)) {
    throw new TypeError(`openLibrary: a first parameter of type ${String(type)} is not supported`);
  }
  const cell = new BigUint64Array(1);
  const set = type === "pointer"
    ? (v: unknown) => cell[0] = BigInt(Deno.UnsafePointer.value(v as Deno.PointerValue))
    : type === "buffer"
    // null is NULL, as dlopen's own "buffer" parameter takes it.
    ? (v: unknown) =>
      cell[0] = v === null
        ? 0n
        : BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(v as BufferSource)))
    : (v: unknown) => cell[0] = BigInt.asUintN(64, BigInt(v as number | bigint));
  return (call, arity) => withArity(call, cell, set, arity);
}

/**
 * The first argument of the call in progress, referenced until it returns: a buffer's address is
 * all the one-field struct holds, and the garbage collector (which set's own allocations can start)
 * must not free the memory behind it first.
 */
const callFirst: unknown[] = [undefined];

/**
 * `call` with `cell` in place of its first argument, which `set` writes into it, as a function of
 * exactly `arity` parameters: a rest parameter and a spread would make two arrays per call, most
 * of a libc call's garbage (a run makes hundreds; issue 16).
 */
function withArity(call: Call, cell: unknown, set: (v: unknown) => void, arity: number): Call {
  const done = (result: unknown) => {
    callFirst[0] = undefined;
    return result;
  };
  switch (arity) {
    case 1:
      return (a) => (callFirst[0] = a, set(a), done(call(cell)));
    case 2:
      return (a, b) => (callFirst[0] = a, set(a), done(call(cell, b)));
    case 3:
      return (a, b, c) => (callFirst[0] = a, set(a), done(call(cell, b, c)));
    case 4:
      return (a, b, c, d) => (callFirst[0] = a, set(a), done(call(cell, b, c, d)));
    case 5:
      return (a, b, c, d, e) => (callFirst[0] = a, set(a), done(call(cell, b, c, d, e)));
    case 6:
      return (a, b, c, d, e, f) => (callFirst[0] = a, set(a), done(call(cell, b, c, d, e, f)));
    default:
      return (a, ...rest) => (callFirst[0] = a, set(a), done(call(cell, ...rest)));
  }
}

/** The libc symbols every run uses. */
export function libc(): Symbols<typeof symbols> {
  if (library) return library;
  const opened = openWithoutTrampolines(symbols, "libc.so.6");
  errnoCell = errnoAt(opened.__errno_location());
  return library = opened;
}

/** The libc symbols for files by path and memfds. */
export function libcFiles(): Symbols<typeof fileSymbols> {
  return fileLibrary ??= openLibrary(fileSymbols);
}

/** The libc symbols of a jail's id lease and its stage's memfd. */
export function libcJail(): Symbols<typeof jailSymbols> {
  return jailLibrary ??= openLibrary(jailSymbols);
}

/** The libc symbols of the scan of /proc. */
export function libcProc(): Symbols<typeof procSymbols> {
  return procLibrary ??= openLibrary(procSymbols);
}

/** The libc symbols of the Landlock probe. */
export function libcStage(): Symbols<typeof stageSymbols> {
  return stageLibrary ??= openLibrary(stageSymbols);
}

/** A failed system call: which call, its errno name, and what ww was doing. */
export class SyscallError extends Error {
  constructor(
    readonly syscall: string,
    readonly errno: number,
    readonly context = "",
  ) {
    super(`${syscall}${context ? ` (${context})` : ""}: ${errnoName(errno)}`);
    this.name = "SyscallError";
  }
  /** The symbolic errno, e.g. "EBADF". */
  get code(): string {
    return errnoName(this.errno);
  }
}

/**
 * The errno of the last failed call made on this thread (ww's main thread: the synchronous
 * symbols run there).
 *
 * It reads errno's own memory: no call, and no allocation that could start a garbage collection,
 * runs between the failed call and the read. Reading it through `__errno_location()` and a new
 * `UnsafePointerView` allocated twice in that window, and a system call made meanwhile (by a
 * collection, say) can overwrite errno. One read of a stage's report failed as `ENOENT`, which
 * read(2) never returns, in about 20,000 native runs: most likely an EAGAIN (which ww waits on)
 * overwritten there.
 */
export function lastErrno(): number {
  return errnoCell![0];
}

/** errno as an Int32Array over `p`, this thread's __errno_location() (its address is fixed). */
function errnoAt(p: Deno.PointerValue): Int32Array {
  if (p === null) throw new Error("__errno_location() returned NULL");
  return new Int32Array(Deno.UnsafePointerView.getArrayBuffer(p, 4));
}

/** Throws a SyscallError with the current errno when `result` is -1. */
export function check(syscall: string, result: number | bigint, context?: string): number {
  if (Number(result) === -1) throw new SyscallError(syscall, lastErrno(), context);
  return Number(result);
}

/** For the posix_spawn family, which return the error number instead of setting errno. */
export function checkReturned(syscall: string, result: number, context?: string): void {
  if (result !== 0) throw new SyscallError(syscall, result, context);
}

/**
 * A pointer to `buf`'s memory, for a nonblocking call only (poll, sendfile on a worker thread),
 * whose caller keeps `buf` referenced until the call has settled (keepAlive). A synchronous call
 * takes the buffer itself as a `buffer` parameter, which Deno holds for the call's length: a
 * pointer taken first leaves the buffer unreferenced, and a collection started by any allocation
 * before the call could free the memory the C function then reads or writes.
 */
export function ptr(buf: ArrayBufferView): Deno.PointerValue {
  return Deno.UnsafePointer.of(buf as BufferSource);
}

/**
 * Marks `buf` as used after a nonblocking call through `ptr(buf)` has settled, so that the
 * garbage collector cannot free its memory while the worker thread still writes to it.
 */
export function keepAlive(buf: ArrayBufferView): void {
  if (buf.byteLength < 0) throw new Error("unreachable");
}

const encoder = new TextEncoder();

/** A NUL-terminated copy of `s`, as C wants strings. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  // One buffer, encoded into, for the usual ASCII string (argv, env, paths: every run makes
  // dozens); a longer UTF-8 encoding is made apart and copied.
  const out = new Uint8Array(s.length + 1);
  const { read } = encoder.encodeInto(s, out);
  if (read === s.length && out[s.length] === 0) return out;
  const bytes = encoder.encode(s);
  const long = new Uint8Array(bytes.length + 1);
  long.set(bytes);
  return long;
}

/** A NULL-terminated `char *[]` (cStringArray), which holds the strings its pointers point to. */
export type CStringArray = BigUint64Array<ArrayBuffer> & {
  readonly strings: readonly Uint8Array[];
};

/**
 * A NULL-terminated `char *[]` for argv/envp, to pass as a `buffer` parameter: the strings are
 * referenced by the array, so they live as long as the call that reads them holds it.
 *
 * @example
 * ```ts ignore
 * libc().posix_spawn(pid, path, actions, attr, cStringArray(argv), cStringArray(env));
 * ```
 */
export function cStringArray(items: readonly string[]): CStringArray {
  const strings = items.map(cString);
  const array = new BigUint64Array(items.length + 1) as CStringArray;
  strings.forEach((buf, i) => {
    array[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
  });
  // Reachable from the array itself: passing the array to a call keeps the strings alive with it.
  (array as { strings: readonly Uint8Array[] }).strings = strings;
  return array;
}
