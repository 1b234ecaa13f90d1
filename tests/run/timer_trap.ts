// tests/run/timer_trap.ts — preloaded into ww (`deno run --preload`): the first read of a timer
// global (setTimeout, setInterval, clearTimeout, clearInterval) prints "timer-trap: NAME" and
// the reader's stack to stderr, then hands out the real one. Deno 2.9 loads its node:timers
// module on that first read, ~4 ms of CPU, which a plain run must not pay (no_timers_test.ts).

const TIMER_GLOBALS = ["setTimeout", "setInterval", "clearTimeout", "clearInterval"] as const;

for (const name of TIMER_GLOBALS) {
  const real = Object.getOwnPropertyDescriptor(globalThis, name);
  if (!real?.get) throw new Error(`timer_trap: ${name} is no longer a lazy global; redo the trap`);
  const realGet = real.get;
  Object.defineProperty(globalThis, name, {
    configurable: true,
    enumerable: real.enumerable,
    get() {
      // Once: the real global from now on.
      Object.defineProperty(globalThis, name, real);
      const stack = new Error().stack?.split("\n").slice(2, 8).join("\n") ?? "";
      console.error(`timer-trap: ${name}\n${stack}`);
      return realGet.call(globalThis);
    },
    set: real.set,
  });
}
