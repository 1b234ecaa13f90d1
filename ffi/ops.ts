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
export function refTimer(timer: Timer, ref: boolean): void {
  const t = timer as unknown as { ref?: () => void; unref?: () => void };
  if (typeof t.unref === "function" && typeof t.ref === "function") {
    if (ref) t.ref();
    else t.unref();
  } else if (ref) Deno.refTimer(timer as unknown as number);
  else Deno.unrefTimer(timer as unknown as number);
}

/**
 * A timer of a group: `cancel` stops it. While the group is referenced it is an
 * AbortSignal.timeout, which costs a run ~0.3 ms where Deno 2.9's first setTimeout loads its
 * node:timers module (~4 ms: every run with a --timeout paid it); an unreferenced group's is a
 * setTimeout, the one timer Deno lets a caller unref.
 */
interface GroupTimer {
  /** When it fires, in performance.now() time. */
  readonly due: number;
  readonly fire: () => void;
  cancel: () => void;
  /** The setTimeout, once the timer is one. */
  timer?: Timer;
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
  readonly #timers = new Set<GroupTimer>();

  /** Whether the group keeps Deno alive. */
  get refed(): boolean {
    return this.#refed;
  }

  /** setTimeout, in the group. */
  setTimeout(fn: () => void, ms: number): void {
    // Called later, a non-function would throw out of the timer and end Deno.
    if (typeof fn !== "function") {
      throw new TypeError(`OpGroup.setTimeout: ${typeof fn} is not a function`);
    }
    // As setTimeout takes them: NaN, and less than 0, are 0 (AbortSignal.timeout throws).
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const t: GroupTimer = {
      due: performance.now() + delay,
      fire: () => {
        this.#timers.delete(t);
        fn();
      },
      cancel: () => {},
    };
    this.#timers.add(t);
    if (this.#refed) {
      // The listener is what keeps Deno alive: removed, the timer holds nothing.
      const signal = AbortSignal.timeout(delay);
      signal.addEventListener("abort", t.fire, { once: true });
      t.cancel = () => signal.removeEventListener("abort", t.fire);
    } else {
      unrefTimer(t);
    }
  }

  /** Clears every timer of the group. */
  clearTimers(): void {
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
  }

  /** Makes the group keep Deno alive again. */
  ref(): void {
    if (this.#refed) return;
    this.#refed = true;
    for (const t of this.#timers) if (t.timer !== undefined) refTimer(t.timer, true);
    refChanged?.();
  }

  /** Lets Deno exit while the group's calls and timers are pending. */
  unref(): void {
    if (!this.#refed) return;
    this.#refed = false;
    for (const t of this.#timers) {
      if (t.timer !== undefined) refTimer(t.timer, false);
      else {
        t.cancel();
        unrefTimer(t);
      }
    }
    refChanged?.();
  }
}

/** Makes `t` an unreferenced setTimeout for the rest of its time. */
function unrefTimer(t: GroupTimer): void {
  const timer = setTimeout(t.fire, Math.max(0, t.due - performance.now()));
  refTimer(timer, false);
  t.timer = timer;
  t.cancel = () => clearTimeout(timer);
}
