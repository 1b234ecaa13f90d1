// ffi/libc.ts — the one place where ww opens libc. Every other module in ffi/ calls through `libc`
// and turns failures into `SyscallError`; nothing outside ffi/ sees a pointer.
//
// Blocking calls (`poll`) are declared `nonblocking`, so Deno runs them on a worker thread and the
// event loop stays free (waitpid is called only with WNOHANG, once ffi/reactor.ts saw the child
// end). errno is thread-local, so it is only meaningful for calls made on the main thread; the
// nonblocking ones are used only where the return value says enough.

import { ENOMEM, errnoName } from "./errno.ts";

/**
 * The first integer or pointer parameter of a synchronous symbol, declared as a struct of that one
 * field, and NO_ARG, the extra struct of one that has none: see openLibrary.
 */
export const I32 = { struct: ["i32"] } as const;
/** See I32. */
export const U32 = { struct: ["u32"] } as const;
/** See I32. */
export const I64 = { struct: ["i64"] } as const;
/** See I32. */
export const U64 = { struct: ["u64"] } as const;
/** See I32. */
export const USIZE = { struct: ["usize"] } as const;
/** See I32. */
export const POINTER = { struct: ["pointer"] } as const;
/** See I32: a byte the function ignores, which the wrapper passes for a symbol with no I32 and the like. */
export const NO_ARG = { struct: ["u8"] } as const;

/** What every run needs: descriptors, spawning, waiting, signalling. */
const symbols = {
  // errno's address on this thread (errnoCell): bound with the rest, one dlopen fewer a run.
  __errno_location: { parameters: [NO_ARG], result: "pointer" },
  close: { parameters: [I32], result: "i32" },
  fcntl: { parameters: [I32, "i32", "i32"], result: "i32" },
  kill: { parameters: [I32, "i32"], result: "i32" },
  socketpair: { parameters: [I32, "i32", "i32", "buffer"], result: "i32" },
  pipe2: { parameters: ["buffer", I32], result: "i32" },
  // ssize_t results declared i32: see SYNCHRONOUS_RESULTS.
  read: { parameters: [I32, "buffer", "usize"], result: "i32" },
  write: { parameters: [I32, "buffer", "usize"], result: "i32" },
  pidfd_open: { parameters: [I32, "u32"], result: "i32" },
  shutdown: { parameters: [I32, "i32"], result: "i32" },
  poll: { parameters: ["pointer", "u64", "i32"], result: "i32", nonblocking: true },
  // The memory of a call on the worker pool (workerMemory).
  malloc: { parameters: [USIZE], result: "pointer" },
  free: { parameters: [POINTER], result: "void" },
  // poll(2) with a timeout of 0, on the main thread: is a descriptor ready now?
  poll_now: { name: "poll", parameters: ["buffer", U64, "i32"], result: "i32" },
  waitpid: { parameters: [I32, "buffer", "i32"], result: "i32" },
  // Here, not with the file group: a --jail=none run reopens its stderr with it (ffi/nonblocking_out.ts),
  // and binding that whole group for one call cost it 3-6 ms.
  open: { parameters: ["buffer", I32, "u32"], result: "i32" },
  // Here too (ffi/stat.ts): a --jail=none run asks it of TMPDIR, the program and its stderr, and
  // Deno.statSync's first use costs a run ~0.6 ms; a call through a bound group costs microseconds.
  statx: { parameters: [I32, "buffer", "i32", "u32", "buffer"], result: "i32" },
  // Here, not with ffi/socket.ts's group: every run under `deno run` holds Deno's inspector port
  // (run/inspector_port.ts), and binding that whole group for it cost ~0.4 ms.
  socket: { parameters: [I32, "i32", "i32"], result: "i32" },
  setsockopt: { parameters: [I32, "i32", "i32", "buffer", "u32"], result: "i32" },
  bind: { parameters: [I32, "buffer", "u32"], result: "i32" },
  // openat2(2), which glibc does not wrap: `syscall` declared with this call's argument shape (see
  // the Landlock probe below). Here, not with the jail's group: every run asks whether its
  // program's path passes a /proc magic link (ffi/open.ts passesMagicLink), and a --jail=none run
  // bound that whole group for it, ~0.3 ms.
  syscall_openat2: {
    name: "syscall",
    parameters: [I64, "i32", "buffer", "buffer", "usize"],
    result: "i32",
  },
  // Here, not with the file group: every run asks whether ww may execute its program (ffi/stat.ts
  // accessible), and a --jail=none run bound that whole group for it (9 symbols).
  faccessat: { parameters: [I32, "buffer", "i32", "i32"], result: "i32" },
  // A --jail=none run's work directory (ffi/dir.ts): Deno.makeTempDirSync and Deno.removeSync
  // cost it ~0.3 ms more, their first use.
  mkdtemp: { parameters: ["buffer", NO_ARG], result: "pointer" },
  rmdir: { parameters: ["buffer", NO_ARG], result: "i32" },
  // Its lock (ffi/dir.ts), which the jails' id lease takes too (ffi/lock.ts); and the look for
  // those of runs whose ww was killed, on a worker thread while the program starts: a TMPDIR of
  // ~250 names took the main thread ~0.3 ms (getdents64 below, for its errno).
  flock: { parameters: [I32, "i32"], result: "i32" },
  getdents64_background: {
    name: "getdents64",
    parameters: ["i32", "pointer", "usize"],
    result: "isize",
    nonblocking: true,
  },
  sigfillset: { parameters: ["buffer", NO_ARG], result: "i32" },
  // Every run asks which signals its caller left ignored (ffi/signal.ts): reading
  // /proc/self/status for it cost ~0.3 ms.
  sigaction: { parameters: [I32, "pointer", "buffer"], result: "i32" },
  // Every run unblocks the signals it forwards (ffi/signal.ts), which a caller may leave blocked.
  pthread_sigmask: { parameters: [I32, "buffer", "buffer"], result: "i32" },
  sigemptyset: { parameters: ["buffer", NO_ARG], result: "i32" },
  posix_spawn: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer", NO_ARG],
    result: "i32",
  },
  posix_spawn_file_actions_init: { parameters: ["buffer", NO_ARG], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer", NO_ARG], result: "i32" },
  posix_spawn_file_actions_adddup2: { parameters: ["buffer", I32, "i32"], result: "i32" },
  posix_spawn_file_actions_addclosefrom_np: { parameters: ["buffer", I32], result: "i32" },
  posix_spawn_file_actions_addchdir_np: { parameters: ["buffer", "buffer", NO_ARG], result: "i32" },
  posix_spawnattr_init: { parameters: ["buffer", NO_ARG], result: "i32" },
  posix_spawnattr_destroy: { parameters: ["buffer", NO_ARG], result: "i32" },
  posix_spawnattr_setflags: { parameters: ["buffer", "i16", NO_ARG], result: "i32" },
  posix_spawnattr_setsigmask: { parameters: ["buffer", "buffer", NO_ARG], result: "i32" },
  posix_spawnattr_setsigdefault: { parameters: ["buffer", "buffer", NO_ARG], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Files by path and memfds beyond open(2): programs from IPFS, Landlock rules, ww's stderr when
 * it is a socket (ffi/nonblocking_out.ts). */
const fileSymbols = {
  pread: { parameters: [I32, "buffer", "usize", "i64"], result: "i32" },
  ftruncate: { parameters: [I32, "i64"], result: "i32" },
  // A program's cache file, and its directory, reach the disk before the file is used (ipfs/cache.ts).
  fsync: { parameters: [I32], result: "i32" },
  sendfile: { parameters: [I32, "i32", "buffer", "usize"], result: "i32" },
  access: { parameters: ["buffer", I32], result: "i32" },
  readlink: { parameters: ["buffer", "buffer", USIZE], result: "i32" },
  send: { parameters: [I32, "buffer", "usize", "i32"], result: "i32" },
  // The page size (execve's longest string is 32 pages): asked only of a very long argument.
  // getpagesize(3), not sysconf, whose result is a long (see SYNCHRONOUS_RESULTS).
  getpagesize: { parameters: [NO_ARG], result: "i32" },
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
 * What every jail needs beyond the first group, bound at once (each group bound costs a run a
 * dlopen, ~0.05-0.08 ms, and each symbol bound ~0.025 ms: a jailed run bound the file and socket
 * groups, 20 symbols, for the 3 of them below): its id lease's lock and /proc scan (ffi/lock.ts,
 * ffi/proc.ts), the stage's memfd, the hard limits its limits are checked against
 * (ffi/rlimit.ts), the native jail's Landlock probe, the names its unix sockets are given (ffi/socket_basics.ts
 * autobindUnix); and a signal to a process through its pidfd (ffi/process.ts), which few runs
 * send.
 */
const jailSymbols = {
  getsockname: { parameters: [I32, "buffer", "buffer"], result: "i32" },
  getsockopt: { parameters: [I32, "i32", "i32", "buffer", "buffer"], result: "i32" },
  // fcntl(2) with a struct flock: the open file description locks of lease files (ffi/lock.ts).
  fcntl_lock: { name: "fcntl", parameters: [I32, "i32", "buffer"], result: "i32" },
  getrlimit: { parameters: [I32, "buffer"], result: "i32" },
  memfd_create: { parameters: ["buffer", U32], result: "i32" },
  getdents64: { parameters: [I32, "buffer", "usize"], result: "i32" },
  // pidfd_send_signal(2), through `syscall` as openat2 is: glibc wraps it only since 2.36.
  syscall_pidfd_send_signal: {
    name: "syscall",
    parameters: [I64, "i32", "i32", "pointer", "u32"],
    result: "i32",
  },
  // The Landlock ABI probe (ffi/landlock.ts). glibc has no Landlock wrappers, so `syscall` is
  // declared with this call's argument shape: it is variadic, but on x86_64 and aarch64 Linux its
  // integer and pointer arguments travel in the same registers as fixed ones.
  syscall_landlock_create_ruleset: {
    name: "syscall",
    parameters: [I64, "buffer", "usize", "u32"],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;

// Each group is bound on first use, and a plain `ww run` needs only the first group.
let library: Symbols<typeof symbols> | undefined;
let fileLibrary: Symbols<typeof fileSymbols> | undefined;
let jailLibrary: Symbols<typeof jailSymbols> | undefined;
/**
 * errno of the thread ww calls libc on, as memory: a cell of its own until libc's first group is
 * bound, then errno itself.
 */
let errnoCell: Int32Array = new Int32Array(1);
/** errno as each synchronous call left it, copied by its wrapper (lastErrno). */
let errnoAfterCall = 0;

/** A parameter declared as a struct of one field: see openLibrary. */
type OneField = { readonly struct: readonly [Deno.NativeType] };

/** A parameter as a wrapper of openLibrary takes it: a struct of one field, as that field. */
type Unwrapped<T> = T extends OneField ? T["struct"][0] : T;

/** The parameters a wrapper takes: each as Unwrapped, without a trailing NO_ARG. */
type WrapperParameters<P extends readonly Deno.NativeType[]> = Extract<
  P extends readonly [...infer Given, typeof NO_ARG] ? { [I in keyof Given]: Unwrapped<Given[I]> }
    : { [I in keyof P]: Unwrapped<P[I]> },
  readonly Deno.NativeType[]
>;

/** The functions of a group of symbols, as openLibrary wraps them. */
export type Symbols<S extends Deno.ForeignLibraryInterface> = {
  [K in keyof S]: S[K] extends Deno.ForeignFunction ? (
      ...args: Deno.ToNativeParameterTypes<WrapperParameters<S[K]["parameters"]>>
    ) => Deno.StaticForeignSymbolReturnType<S[K]>
    : never;
};

/** A JS function as dlopen makes it, for the wrappers of openLibrary. */
type Call = (...args: unknown[]) => unknown;

/**
 * Opens `symbols` of `path` (libc by default) without a fast-call trampoline for any: Deno compiles one per
 * synchronous symbol when the library is opened (its "turbocall", with Cranelift), ~1.7 ms to
 * start the compiler and ~0.2 ms a symbol, 5-6 ms for the first group on every run, for calls
 * ww makes a few times each. Deno compiles none for a symbol that takes a struct, so each
 * synchronous symbol declares its first integer or pointer parameter as a struct of that one
 * field (I32, U32, I64, U64, USIZE, POINTER), which the C calling convention passes exactly as
 * the field alone, in the same register, on x86_64 and aarch64; the wrapper puts the argument in
 * it. A symbol with no such parameter (only buffers, or none) declares an extra struct after its
 * own, NO_ARG, which the function ignores: the caller passes and removes arguments on both, and
 * the wrapper takes no argument for it. A call then costs ~1 µs more. The wrappers take the
 * fields' own types (Symbols), so callers see no difference.
 *
 * The declarations are written so, not derived from plain ones here: deriving them was ~0.9 ms of
 * every run's start, the code being cold (issue 13). A synchronous symbol declared with no struct
 * gets its trampoline, which ffi/libc_test.ts finds, and a TypeError when its group is opened. Every
 * library ww opens is opened this way (ffi/tty.ts, ffi/pty.ts, ffi/socket.ts, ffi/sha.ts too).
 *
 * Buffers stay dlopen's own `buffer` parameters: made into a struct, a buffer would need its
 * address, and a fresh buffer whose address was taken (Deno.UnsafePointer.of) survives V8's next
 * young-generation collection (measured: a third of what such calls allocate), which grows that
 * generation in a service (issue 16).
 *
 * @example
 * const { getpid } = openLibrary({ getpid: { parameters: [NO_ARG], result: "i32" } });
 * getpid(); // Deno.pid
 */
export function openLibrary<S extends Deno.ForeignLibraryInterface>(
  symbols: S,
  path = "libc.so.6",
): Symbols<S> {
  // First: the wrappers copy errno from errnoCell, which points at errno once libc is bound.
  libc();
  return openWithoutTrampolines(symbols, path);
}

/** openLibrary's work, for libc's first group too. */
function openWithoutTrampolines<S extends Deno.ForeignLibraryInterface>(
  symbols: S,
  path: string,
): Symbols<S> {
  const opened = Deno.dlopen(path, symbols).symbols as Record<string, Call>;
  const out: Record<string, Call> = {};
  for (const key in symbols) {
    const def = symbols[key] as Deno.ForeignFunction;
    // A nonblocking symbol is called on a worker thread: no trampoline either.
    out[key] = def.nonblocking ? opened[key] : wrap(opened[key], def);
  }
  return out as unknown as Symbols<S>;
}

/**
 * The results a synchronous symbol may declare. Deno makes a 64-bit integer result (i64, u64,
 * isize, usize) a BigInt, allocated on V8's heap after the call returns and before ww can copy
 * errno. An allocation can start a garbage collection, which runs on this thread and makes system
 * calls of its own (and finalizers' closes): errno is then theirs. A read(2) of a stage's report
 * and one of a guest's socket each failed as ENOENT, which read(2) never returns. So read, write
 * and the like declare their ssize_t result i32: Linux moves at most MAX_RW_COUNT (0x7ffff000)
 * bytes a call, and both ABIs return the long in one register whose low half an i32 result reads,
 * -1 included. Not u32 either: one at 2^31 or more, (unsigned)-1 among them, is a heap number.
 * Pointers stay: every pointer-returning symbol ww declares fails with NULL, which is no
 * allocation (a non-NULL pointer is an object, so a symbol failing with MAP_FAILED could not).
 */
const SYNCHRONOUS_RESULTS: readonly Deno.NativeResultType[] = [
  "void",
  "bool",
  "u8",
  "i8",
  "u16",
  "i16",
  "i32",
  "pointer",
];

/** `call`, a symbol dlopen made with `def`, as its callers call it (openLibrary). */
function wrap(call: Call, def: Deno.ForeignFunction): Call {
  const { parameters, result } = def;
  if (!SYNCHRONOUS_RESULTS.includes(result)) {
    throw new TypeError(
      `openLibrary: a synchronous symbol returns ${
        JSON.stringify(result)
      }, after which errno is not kept (see SYNCHRONOUS_RESULTS)`,
    );
  }
  const slot = parameters.findIndex((p) => typeof p === "object");
  if (slot === -1) {
    throw new TypeError("openLibrary: a synchronous symbol declares no struct (see openLibrary)");
  }
  const struct = parameters[slot];
  const field = (struct as OneField).struct[0];
  const put = struct === NO_ARG
    ? putNothing
    : field === "i32" || field === "u32"
    ? putInt32
    : field === "pointer"
    ? putPointer
    : putInt64;
  return withStructAt(call, slot, parameters.length, put);
}

// The one-field structs the wrappers pass: one of each kind, shared by every wrapper, since each
// call is synchronous, on ww's main thread, and Deno reads its struct during the call (a struct
// per symbol was a typed array more for each wrapper a group made).
const int32Cell = new Int32Array(1);
const int64Cell = new BigUint64Array(1);
const noArgCell = new Uint8Array(1);
/** Writes a wrapper's argument into its struct, and returns the struct. */
type Put = (v: unknown) => Uint8Array | Int32Array | BigUint64Array;
const putInt32: Put = (v) => (int32Cell[0] = v as number, int32Cell);
const putInt64: Put = (
  v,
) => (int64Cell[0] = BigInt.asUintN(64, BigInt(v as number | bigint)), int64Cell);
const putPointer: Put = (v) => (
  int64Cell[0] = BigInt(Deno.UnsafePointer.value(v as Deno.PointerValue)), int64Cell
);
const putNothing: Put = () => noArgCell;

/**
 * `call`, which takes `arity` parameters with the struct at `slot`, as a function of the
 * declared parameters: the argument at `slot` is written into the struct (`put`), which goes in
 * its place (at `slot` === arity - 1 with no argument, when it is the extra one). Written out per
 * arity: a rest parameter and a spread would make two arrays per call, most of a libc call's
 * garbage (a run makes hundreds; issue 16).
 *
 * Each copies errno right as the call returns, before anything else runs: no allocation, and no
 * function entered or returned from (where V8 runs its interrupts, a collection among them).
 */
function withStructAt(call: Call, slot: number, arity: number, put: Put): Call {
  const at = (i: number, v: unknown) => i === slot ? put(v) : v;
  switch (arity) {
    case 1:
      return (a) => {
        const r = call(at(0, a));
        errnoAfterCall = errnoCell[0];
        return r;
      };
    case 2:
      return (a, b) => {
        const r = call(at(0, a), at(1, b));
        errnoAfterCall = errnoCell[0];
        return r;
      };
    case 3:
      return (a, b, c) => {
        const r = call(at(0, a), at(1, b), at(2, c));
        errnoAfterCall = errnoCell[0];
        return r;
      };
    case 4:
      return (a, b, c, d) => {
        const r = call(at(0, a), at(1, b), at(2, c), at(3, d));
        errnoAfterCall = errnoCell[0];
        return r;
      };
    case 5:
      return (a, b, c, d, e) => {
        const r = call(at(0, a), at(1, b), at(2, c), at(3, d), at(4, e));
        errnoAfterCall = errnoCell[0];
        return r;
      };
    case 6:
      return (a, b, c, d, e, f) => {
        const r = call(at(0, a), at(1, b), at(2, c), at(3, d), at(4, e), at(5, f));
        errnoAfterCall = errnoCell[0];
        return r;
      };
    case 7:
      return (a, b, c, d, e, f, g) => {
        const r = call(at(0, a), at(1, b), at(2, c), at(3, d), at(4, e), at(5, f), at(6, g));
        errnoAfterCall = errnoCell[0];
        return r;
      };
    default:
      throw new TypeError(`openLibrary: ${arity} parameters are more than it wraps`);
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

/** The libc symbols of a jail beyond the first group: its id lease, its stage, pidfd signals. */
export function libcJail(): Symbols<typeof jailSymbols> {
  return jailLibrary ??= openLibrary(jailSymbols);
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
 * errno as ww's last synchronous libc call left it (they all run on ww's main thread): copied by
 * the call's wrapper as it returned (withStructAt), so what the runtime did on this thread since
 * (a garbage collection, a module loaded, a file Deno opened) cannot change it.
 */
export function lastErrno(): number {
  return errnoAfterCall;
}

/** errno as an Int32Array over `p`, this thread's __errno_location() (its address is fixed). */
function errnoAt(p: Deno.PointerValue): Int32Array {
  if (p === null) throw new Error("__errno_location() returned NULL");
  return new Int32Array(Deno.UnsafePointerView.getArrayBuffer(p, 4));
}

/** The size of a memory page here: 4096 on x86_64, 4-64 KiB on aarch64. */
export function pageSize(): number {
  return libcFiles().getpagesize();
}

/** Throws a SyscallError with the current errno when `result` is -1. */
export function check(syscall: string, result: number, context?: string): number {
  if (result === -1) throw new SyscallError(syscall, lastErrno(), context);
  return result;
}

/** For the posix_spawn family, which return the error number instead of setting errno. */
export function checkReturned(syscall: string, result: number, context?: string): void {
  if (result !== 0) throw new SyscallError(syscall, result, context);
}

/** Memory of the C heap, seen from JS as `buffer`, that a call on the worker pool uses by `at`. */
export interface WorkerMemory {
  readonly at: Deno.PointerObject;
  readonly buffer: ArrayBuffer;
  /** Gives it back: only once the call that uses it has returned. */
  free(): void;
}

/**
 * `size` bytes (uninitialised) for a `nonblocking` call, which runs on Deno's worker pool, to
 * read or write through a pointer (poll's pollfds, sendfile's offset, getaddrinfo's result). Not
 * V8's: Deno frees V8's buffers as it exits, even one such a call still holds, whatever
 * references it, and the call's write when it returns then lands in memory malloc has taken
 * back. A library caller that unref'd a child and returned had its process end in SIGSEGV or a
 * malloc abort, a run in 200 (tests/run/command_unref.ts). Given back with `free` once the call
 * has returned; never, when the process ends first.
 *
 * @example
 * ```ts ignore
 * const memory = workerMemory(8);
 * const pfd = new Int32Array(memory.buffer);
 * pfd[0] = fd;
 * pfd[1] = POLLIN;
 * await libc().poll(memory.at, 1n, 100);
 * const revents = pfd[1] >>> 16;
 * memory.free();
 * ```
 */
export function workerMemory(size: number): WorkerMemory {
  const at = libc().malloc(BigInt(size));
  if (at === null) throw new SyscallError("malloc", ENOMEM);
  let freed = false;
  return {
    at,
    buffer: Deno.UnsafePointerView.getArrayBuffer(at, size),
    free: () => {
      if (freed) return;
      freed = true;
      libc().free(at);
    },
  };
}

/**
 * poll(2) on a worker thread, the event loop going on meanwhile, over `entries` (each a descriptor
 * and the events asked for) for at most `timeoutMs` (-1: no limit): each one's revents, 0 for
 * none (a timeout, or EINTR).
 */
export async function pollOnWorker(
  entries: readonly (readonly [fd: number, events: number])[],
  timeoutMs: number,
): Promise<number[]> {
  const memory = workerMemory(8 * entries.length);
  // struct pollfd { int fd; short events; short revents; }: two int32s each, revents the high
  // half of the second (little-endian), 0 until poll writes it.
  const pfds = new Int32Array(memory.buffer);
  entries.forEach(([fd, events], i) => pfds.set([fd, events], 2 * i));
  try {
    await libc().poll(memory.at, BigInt(entries.length), timeoutMs);
    return entries.map((_, i) => pfds[2 * i + 1] >>> 16);
  } finally {
    memory.free();
  }
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

/**
 * The strings of the last cStringArrays call, and their address: taken once per buffer, not per
 * call (a fresh buffer whose address was taken survives V8's next young-generation collection,
 * see openLibrary; a buffer per string made each of a run's arguments and variables one such
 * survivor, issue 16).
 */
let arena: { bytes: Uint8Array; address: bigint } | undefined;

/**
 * NULL-terminated `char *[]`s, one for each of `lists` (argv and envp), to pass as `buffer`
 * parameters. Their strings are in one buffer that the next call overwrites: they are for a call
 * that has read them all by the time it returns (posix_spawn: its child has executed the program
 * or failed).
 *
 * @example
 * ```ts ignore
 * const [argv, envp] = cStringArrays([spec.argv, spec.env]);
 * libc().posix_spawn(pid, path, actions, attr, argv, envp);
 * ```
 */
export function cStringArrays(lists: readonly (readonly string[])[]): BigUint64Array[] {
  // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair, 4 for 2).
  let most = 0;
  for (const list of lists) for (let i = 0; i < list.length; i++) most += 3 * list[i].length + 1;
  if (!arena || arena.bytes.length < most) {
    const bytes = new Uint8Array(Math.max(4096, 2 * most));
    arena = { bytes, address: BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes))) };
  }
  const { bytes, address } = arena;
  let at = 0;
  return lists.map((list) => {
    const array = new BigUint64Array(list.length + 1);
    for (let i = 0; i < list.length; i++) {
      array[i] = address + BigInt(at);
      at += encoder.encodeInto(list[i], bytes.subarray(at)).written;
      bytes[at++] = 0;
    }
    return array;
  });
}
