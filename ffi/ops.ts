// ffi/ops.ts — whether one run's pending calls keep Deno alive. ww waits on Deno's worker threads
// (waitpid, poll: nonblocking FFI calls) and on timers; like any pending operation, each keeps
// the process running. An OpGroup collects a run's, so that ChildProcess.unref() can let Deno
// exit while the program still runs, as Deno.ChildProcess.unref() does.
//
// Deno has no public way to unref an FFI call: the runtime's own ref/unrefOpPromise (what
// Deno.ChildProcess uses) is reached through Deno[Deno.internal].core. Where it is missing, a
// group still unrefs its timers, and its calls keep Deno alive as before.

interface OpCore {
  refOpPromise(promise: Promise<unknown>): void;
  unrefOpPromise(promise: Promise<unknown>): void;
}

const core: OpCore | undefined = (() => {
  const internal = (Deno as unknown as Record<symbol, { core?: Partial<OpCore> } | undefined>)[
    (Deno as unknown as { internal: symbol }).internal
  ];
  const c = internal?.core;
  return typeof c?.refOpPromise === "function" && typeof c?.unrefOpPromise === "function"
    ? c as OpCore
    : undefined;
})();

type Timer = ReturnType<typeof setTimeout>;

/**
 * Deno 2.9's setTimeout returns an object with ref()/unref() (Deno.unrefTimer takes the number
 * older versions returned, and ignores the object's).
 */
function refTimer(timer: Timer, ref: boolean): void {
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
  #refed = true;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #timers = new Set<Timer>();

  /** Whether the group keeps Deno alive. */
  get refed(): boolean {
    return this.#refed;
  }

  /** Adds `promise`, the promise of a pending call (as the FFI call returned it), until it settles. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.#pending.add(promise);
    if (!this.#refed) core?.unrefOpPromise(promise);
    const done = () => void this.#pending.delete(promise);
    promise.then(done, done);
    return promise;
  }

  /** setTimeout, in the group. */
  setTimeout(fn: () => void, ms: number): void {
    const timer: Timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
    if (!this.#refed) refTimer(timer, false);
  }

  /** Clears every timer of the group. */
  clearTimers(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Makes the group keep Deno alive again. */
  ref(): void {
    if (this.#refed) return;
    this.#refed = true;
    for (const p of this.#pending) core?.refOpPromise(p);
    for (const timer of this.#timers) refTimer(timer, true);
  }

  /** Lets Deno exit while the group's calls and timers are pending. */
  unref(): void {
    if (!this.#refed) return;
    this.#refed = false;
    for (const p of this.#pending) core?.unrefOpPromise(p);
    for (const timer of this.#timers) refTimer(timer, false);
  }
}
