// ffi/ops.ts — whether one run's pending waits keep Deno alive. ww waits in the reactor's poll (a
// nonblocking FFI call on a worker thread, ffi/reactor.ts) and on timers; like any pending
// operation, each keeps the process running. An OpGroup collects a run's, so that
// ChildProcess.unref() can let Deno exit while the program still runs, as
// Deno.ChildProcess.unref() does: the reactor's call keeps Deno alive only while one of its
// waiters' groups is referenced.
//
// Deno has no public way to unref an FFI call: the runtime's own ref/unrefOpPromise (what
// Deno.ChildProcess uses) is reached through Deno[Deno.internal].core. Where it is missing, a
// group still unrefs its timers, and its calls keep Deno alive as before.
//
// ww's timers are the runtime's own too (core.createTimer, what setTimeout is built on): Deno 2.9
// loads its node:timers module on the first read of the setTimeout global, ~4 ms of a run's CPU
// (every run with a --timeout paid it). Where they are missing, timers are setTimeouts.

interface OpCore {
  refOpPromise(promise: Promise<unknown>): void;
  unrefOpPromise(promise: Promise<unknown>): void;
}

/** The runtime's timers: setTimeout's, without the module Deno 2.9 loads for the global. */
interface TimerCore {
  createTimer(
    callback: () => void,
    ms: number,
    args: undefined,
    repeat: boolean,
    refed: boolean,
    system: boolean,
  ): Timer;
  cancelTimer(timer: Timer): void;
  refTimer(timer: Timer): void;
  unrefTimer(timer: Timer): void;
}

const internalCore: Record<string, unknown> | undefined =
  (Deno as unknown as Record<symbol, { core?: Record<string, unknown> } | undefined>)[
    (Deno as unknown as { internal: symbol }).internal
  ]?.core;

const has = <T>(names: readonly string[]): T | undefined =>
  names.every((n) => typeof internalCore?.[n] === "function") ? internalCore as T : undefined;

const core = has<OpCore>(["refOpPromise", "unrefOpPromise"]);
const timerCore = has<TimerCore>(["createTimer", "cancelTimer", "refTimer", "unrefTimer"]);

/** A pending timer of startTimer (the runtime's timer object, or setTimeout's). */
export type Timer = object | number;

/**
 * Calls `fn` once, `ms` from now, as setTimeout does (NaN, less than 1 and more than 2^31-1 ms
 * are 1 ms); the timer keeps Deno alive while `ref`.
 */
export function startTimer(fn: () => void, ms: number, ref = true): Timer {
  if (timerCore) return timerCore.createTimer(fn, ms, undefined, false, ref, false);
  const timer = setTimeout(fn, ms);
  if (!ref) refSetTimeout(timer, false);
  return timer;
}

/** Stops `timer` (it never fires). */
export function cancelTimer(timer: Timer): void {
  if (timerCore) timerCore.cancelTimer(timer);
  else clearTimeout(timer as ReturnType<typeof setTimeout>);
}

/** Makes `timer` keep Deno alive, or not. */
export function refTimer(timer: Timer, ref: boolean): void {
  if (timerCore) {
    if (ref) timerCore.refTimer(timer);
    else timerCore.unrefTimer(timer);
  } else refSetTimeout(timer as ReturnType<typeof setTimeout>, ref);
}

/** Resolves `ms` from now (a timer that keeps Deno alive). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => startTimer(resolve, ms));
}

/** Makes the pending call whose promise is `promise` keep Deno alive, or not. */
export function refCall(promise: Promise<unknown>, ref: boolean): void {
  if (ref) core?.refOpPromise(promise);
  else core?.unrefOpPromise(promise);
}

/** Called whenever some OpGroup is ref'd or unref'd (ffi/reactor.ts, whose one call is shared). */
let refChanged: (() => void) | undefined;

/** Sets the one function told when a group is ref'd or unref'd. */
export function onRefChange(fn: () => void): void {
  refChanged = fn;
}

/**
 * Deno 2.9's setTimeout returns an object with ref()/unref() (Deno.unrefTimer takes the number
 * older versions returned, and ignores the object's).
 */
function refSetTimeout(timer: ReturnType<typeof setTimeout>, ref: boolean): void {
  const t = timer as unknown as { ref?: () => void; unref?: () => void };
  if (typeof t.unref === "function" && typeof t.ref === "function") {
    if (ref) t.ref();
    else t.unref();
  } else if (ref) Deno.refTimer(timer as unknown as number);
  else Deno.unrefTimer(timer as unknown as number);
}

/**
 * One run's pending calls and timers, referenced (keeping Deno alive) or not, together.
 *
 * @example
 * const ops = new OpGroup();
 * const child = await startProgram({ program: "/bin/sleep", args: ["3"] }, { ops });
 * ops.unref(); // Deno may exit before the program ends
 */
export class OpGroup {
  // Its methods only pass its state on: see ffi/stream.ts FdStream (every run makes a group).
  readonly #s: GroupState = { refed: true, timers: new Set() };

  /** Whether the group keeps Deno alive. */
  get refed(): boolean {
    return this.#s.refed;
  }

  /** setTimeout, in the group; what it returns cancels this one timer. */
  setTimeout(fn: () => void, ms: number): () => void {
    return groupTimeout(this.#s, fn, ms);
  }

  /** Clears every timer of the group. */
  clearTimers(): void {
    clearGroupTimers(this.#s);
  }

  /** Makes the group keep Deno alive again. */
  ref(): void {
    refGroup(this.#s, true);
  }

  /** Lets Deno exit while the group's calls and timers are pending. */
  unref(): void {
    refGroup(this.#s, false);
  }
}

/** An OpGroup's state: whether it keeps Deno alive, and its pending timers. */
interface GroupState {
  refed: boolean;
  readonly timers: Set<Timer>;
}

function groupTimeout(s: GroupState, fn: () => void, ms: number): () => void {
  // Called later, a non-function would throw out of the timer and end Deno.
  if (typeof fn !== "function") {
    throw new TypeError(`OpGroup.setTimeout: ${typeof fn} is not a function`);
  }
  const timer = startTimer(
    () => {
      s.timers.delete(timer);
      fn();
    },
    ms,
    s.refed,
  );
  s.timers.add(timer);
  return () => {
    if (s.timers.delete(timer)) cancelTimer(timer);
  };
}

function clearGroupTimers(s: GroupState): void {
  for (const timer of s.timers) cancelTimer(timer);
  s.timers.clear();
}

function refGroup(s: GroupState, ref: boolean): void {
  if (s.refed === ref) return;
  s.refed = ref;
  for (const timer of s.timers) refTimer(timer, ref);
  refChanged?.();
}
