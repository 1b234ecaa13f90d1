// ffi/reactor.ts — the one poll(2) that waits for every descriptor ww is waiting on: its ends of
// host sockets and pipes (ffi/stream.ts) and the pidfds of its children and jails
// (ffi/process.ts).
//
// Deno runs a nonblocking FFI call on its blocking thread pool, which has a fixed number of
// threads (32 here). A wait per descriptor, held for a program's whole life, would take one
// thread each: past 31 running programs every other nonblocking call (the next jail's start, every
// read of a served socket) would queue until one ended. So there is one call in flight at a time,
// a poll over every registered descriptor plus the read end of a pipe that wakes it when the set
// changes. When it returns, the waiters whose descriptors are ready are resolved and the next poll
// is issued over the current set; with no waiter there is no poll, and no pipe either (an idle
// ww holds no descriptor of the reactor's).
//
// Whether the call keeps Deno alive follows its waiters: it does while at least one belongs to a
// referenced OpGroup (or to none), so ChildProcess.unref() still lets Deno exit.
//
// A wait never fails. When the wake pipe cannot be made (no descriptor left: EMFILE), each call
// instead returns after WAKELESS_POLL_MS and the next takes the set as it is then.

import { libc, type WorkerMemory, workerMemory } from "./libc.ts";
import { O_CLOEXEC, O_NONBLOCK, POLLIN, POLLNVAL } from "./flags.ts";
import { onRefChange, type OpGroup, refCall } from "./ops.ts";

interface Waiter {
  readonly fd: number;
  readonly events: number;
  readonly ops?: OpGroup;
  readonly resolve: (revents: number) => void;
}

/** A registered wait: `ready` resolves to poll's revents, or to 0 once cancelled. */
export interface Waiting {
  readonly ready: Promise<number>;
  /** Stops waiting; `ready` resolves to 0 (unless it already resolved). */
  cancel(): void;
}

interface Call {
  readonly promise: Promise<number>;
  /** The waiters of this call's set, whose descriptors must stay open until it returns. */
  readonly list: readonly Waiter[];
  refed: boolean;
}

const waiters = new Set<Waiter>();
/** The wake pipe, [read end, write end], while there are waiters. */
let wakePipe: Int32Array | undefined;
let inFlight: Call | undefined;
/** How long a call waits when there is no wake pipe to cut it short (see above). */
const WAKELESS_POLL_MS = 20;
/** A byte is in the wake pipe (one is enough to wake the call). */
let woken = false;
/** A poll is due at the end of this turn (several registrations in a row share one). */
let scheduled = false;
/** Descriptors closed while the call in flight watches them: closed once it returns. */
const closeAfterCall = new Set<number>();
/** The last set was taken on the main thread, without a call (see issue). */
let tookReadyNow = false;
const byte = new Uint8Array(1);
const drainBuf = new Uint8Array(64);
/**
 * The pollfd array of the call in flight (or of the ready-now poll, made when none is), in memory
 * of the C heap (workerMemory: a call in flight as Deno exits writes into it still): one call at
 * a time uses it, so it is kept and grown, not made per call (a run issues several; issue 16).
 */
let pollMemory: WorkerMemory | undefined;
let pollfds = new Int32Array(0);

onRefChange(updateRef);

/**
 * Waits until `fd` has one of `events` (or an error or hang-up). The wait keeps Deno alive unless
 * `ops` is given and unreferenced.
 *
 * @example
 * ```ts ignore
 * const w = whenReady(fd, POLLIN);
 * const revents = await w.ready; // or w.cancel() from elsewhere: ready resolves to 0
 * ```
 */
export function whenReady(fd: number, events: number, ops?: OpGroup): Waiting {
  // A descriptor its owner closed while a call watched it is only kept open until that call
  // returns, so that its number is not reused under it: a wait on it is a use after close.
  if (closeAfterCall.has(fd)) return { ready: Promise.resolve(POLLNVAL), cancel() {} };
  let waiter!: Waiter;
  const ready = new Promise<number>((resolve) => {
    waiter = { fd, events, ops, resolve };
  });
  waiters.add(waiter);
  changed();
  return {
    ready,
    cancel() {
      if (!waiters.delete(waiter)) return;
      waiter.resolve(0);
      changed();
    },
  };
}

/**
 * Whether `fd` has any of `events` (or an error or hang-up) now: poll(2) with a timeout of 0, on
 * the main thread, so a wait that is already over costs no registration and no timer.
 */
export function readyNow(fd: number, events: number): boolean {
  return eventsNow(fd, events) !== 0;
}

/** What poll(2) says of `fd` now, asked for `events`: its revents (0 when nothing). */
export function eventsNow(fd: number, events: number): number {
  const pfd = new Int32Array([fd, events]);
  return libc().poll_now(pfd, 1n, 0) === 1 ? pfd[1] >>> 16 : 0;
}

/**
 * Closes `fd`, ending its waits (they resolve to 0). While the poll in flight watches it, the
 * close waits until that call returns, so that the number cannot be reused under it.
 */
export function closeWatched(fd: number): void {
  if (!closeDeferred(fd)) libc().close(fd);
}

/**
 * Ends `fd`'s waits, as its owner is closing it. Returns true when the poll in flight watches it:
 * the reactor then closes it once that call returns (and a second close is a no-op), so that its
 * number cannot be reused under the call, which would watch another file in its place. Returns
 * false when the caller may close it now. Every close of a descriptor ww may have watched goes
 * through here (closeWatched, ffi/fd.ts closeFd).
 */
export function closeDeferred(fd: number): boolean {
  if (closeAfterCall.has(fd)) return true;
  let had = false;
  for (const w of waiters) {
    if (w.fd !== fd) continue;
    waiters.delete(w);
    w.resolve(0);
    had = true;
  }
  const defer = inFlight !== undefined && watches(inFlight, fd);
  if (defer) closeAfterCall.add(fd);
  if (had || defer) changed();
  return defer;
}

/** Whether `call`'s set has `fd`. */
function watches(call: Call, fd: number): boolean {
  for (let i = 0; i < call.list.length; i++) if (call.list[i].fd === fd) return true;
  return false;
}

/** The waiter set changed: the call in flight is woken to take the new set, or one is issued. */
function changed(): void {
  updateRef();
  if (inFlight) {
    // Without a wake pipe the call returns within WAKELESS_POLL_MS anyway.
    if (!woken && wakePipe) {
      woken = true;
      libc().write(wakePipe[1], byte, 1n);
    }
  } else {
    schedule();
  }
}

/** Issues the next call at the end of this turn, once the waiters just resolved have run on. */
function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    if (!inFlight) issue();
  });
}

/** Whether some waiter wants Deno kept alive. */
/**
 * The descriptors the reactor holds of its own (its wake pipe): none once no wait is pending and
 * no poll is in flight. ffi/reactor_test.ts checks an idle reactor by it, since descriptor counts
 * are shared with every other test module of the process.
 */
export function reactorDescriptors(): number[] {
  return wakePipe ? [wakePipe[0], wakePipe[1]] : [];
}

function wanted(): boolean {
  for (const w of waiters) if (!w.ops || w.ops.refed) return true;
  return false;
}

function updateRef(): void {
  if (!inFlight) return;
  const ref = wanted();
  if (ref === inFlight.refed) return;
  inFlight.refed = ref;
  refCall(inFlight.promise, ref);
}

function issue(): void {
  if (waiters.size === 0) {
    if (wakePipe) {
      libc().close(wakePipe[0]);
      libc().close(wakePipe[1]);
      wakePipe = undefined;
    }
    return;
  }
  const list = [...waiters];
  // struct pollfd { int fd; short events; short revents; }: two int32s each (little-endian: the
  // events in the low half of the second, revents in the high half). The first is the wake pipe's
  // (-1, which poll skips, until it is made below).
  if (pollfds.length < 2 * (list.length + 1)) {
    // No call is in flight here: none writes into the old array.
    const grown = workerMemory(4 * 2 * Math.max(8, 2 * (list.length + 1)));
    pollMemory?.free();
    pollMemory = grown;
    pollfds = new Int32Array(grown.buffer);
  }
  const memory = pollMemory!;
  const pfds = pollfds;
  pfds[0] = wakePipe?.[0] ?? -1;
  pfds[1] = POLLIN;
  for (let i = 0; i < list.length; i++) {
    pfds[2 * i + 2] = list[i].fd;
    pfds[2 * i + 3] = list[i].events;
  }
  // What is ready already (the end of a run: the program's pidfd, then its socket's EOF, each
  // seen just after the other) is taken here, by poll(2) with a timeout of 0 on the main thread:
  // a call on the blocking pool is a hand-off to another thread and back, 1-3 ms on a loaded
  // machine. The next set is taken at the end of this turn, as after a call. Never twice in a
  // row: those rounds run in microtasks, and a peer that keeps a descriptor ready (a guest that
  // floods the console) would otherwise keep timers and signals from ever running.
  const quick = !tookReadyNow;
  tookReadyNow = false;
  if (
    quick && libc().poll_now(pollfds, BigInt(list.length + 1), 0) > 0 &&
    resolveReady(list, pfds)
  ) {
    tookReadyNow = true;
    schedule();
    return;
  }
  if (!wakePipe) {
    const fds = new Int32Array(2);
    // This runs in a microtask, where a throw would end ww uncaught: out of descriptors, the
    // call goes without (pfds[0] stays -1, which poll skips) and returns in a while.
    if (libc().pipe2(fds, O_CLOEXEC | O_NONBLOCK) === 0) {
      wakePipe = fds;
      pfds[0] = fds[0];
    }
  }
  const promise = libc().poll(
    memory.at,
    BigInt(list.length + 1),
    wakePipe ? -1 : WAKELESS_POLL_MS,
  );
  const call: Call = { promise, list, refed: true };
  inFlight = call;
  updateRef();
  // Whatever happens to the call or to one waiter, the loop goes on: the next call is issued.
  promise.then(
    (n) => settle(call, list, pfds, n),
    () => settle(call, list, pfds, -1),
  );
}

/** The call in flight returned `n` (-1: nothing ready): resolves the ready waiters. */
function settle(call: Call, list: Waiter[], pfds: Int32Array, n: number): void {
  try {
    if (inFlight === call) inFlight = undefined;
    for (const fd of closeAfterCall) libc().close(fd);
    closeAfterCall.clear();
    if (woken) {
      while (libc().read(wakePipe![0], drainBuf, BigInt(drainBuf.length)) > 0);
    }
    woken = false;
    // n is -1 on EINTR: nothing is ready, the next call takes the same set.
    if (n > 0) resolveReady(list, pfds);
  } finally {
    schedule();
  }
}

/** Resolves the waiters of `list` that poll(2) found ready in `pfds`; whether there was one. */
function resolveReady(list: Waiter[], pfds: Int32Array): boolean {
  let any = false;
  for (let i = 0; i < list.length; i++) {
    const w = list[i];
    const revents = pfds[2 * i + 3] >>> 16;
    if (revents !== 0 && waiters.delete(w)) {
      w.resolve(revents);
      any = true;
    }
  }
  return any;
}
