// ffi/malloc.ts — gives back to the system, now and then, the memory glibc's malloc keeps after
// it is freed (issue 16). A run allocates and frees on several threads (V8's array buffers,
// Deno's ops, the worker pool's nonblocking calls), and glibc keeps what a thread's arena freed
// for its next allocations, in holes it never returns by itself: a service that had run 1,500
// native jails held ~8 MiB more for it. malloc_trim(3) returns the free pages of every arena;
// it takes 0.3-0.9 ms, so it runs once per TRIM_EVERY children reaped, not per run.

import { openLibrary, type Symbols, USIZE } from "./libc.ts";

/** Children reaped between two trims. */
export const TRIM_EVERY = 64;

const mallocSymbols = {
  malloc_trim: { parameters: [USIZE], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

let malloc: Symbols<typeof mallocSymbols> | undefined;
let reaped = 0;

/**
 * Counts a reaped child, and trims malloc's free memory on every TRIM_EVERY-th. Returns whether it
 * trimmed.
 *
 * @example
 * ```ts ignore
 * const status = decodeWaitStatus(word); // after waitpid(2) reaped the child
 * afterReap();
 * ```
 */
export function afterReap(): boolean {
  if (++reaped % TRIM_EVERY !== 0) return false;
  // Bound on the first trim, not at start: a single run never needs it.
  (malloc ??= openLibrary(mallocSymbols)).malloc_trim(0n);
  return true;
}
