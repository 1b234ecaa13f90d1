// run/exit_hooks.ts — what must be given back when the process exits while a run is still on
// (the caller's descriptor states, run/caller_fds.ts; a terminal's mode, run/tty.ts): a library
// user's Deno.exit ends no run first, so these run on Deno's "unload" event. The command line
// exits only through main.ts, which runs them itself right before its Deno.exit: it adds no
// listener, since once one has been added Deno dispatches "unload" through its whole event path
// at exit, and compiling that path cost a `ww run` ~0.4 ms (issue 13).

/** The hooks of the runs still on, each run until it is removed. */
const hooks = new Set<() => void>();

/** Whether Deno's "unload" event runs the hooks: added once, when the first hook is. */
let listening = false;

/** Whether the program exits only through its own exit, which runs the hooks (main.ts). */
let exitRunsHooks = false;

/**
 * Has `hook` run when the process exits, unless the returned function was called first; a hook
 * that throws keeps none of the others from running.
 *
 * @example
 * const remove = onExit(() => restore(fd));
 * // … the run ends and gives `fd` back itself:
 * remove();
 */
export function onExit(hook: () => void): () => void {
  hooks.add(hook);
  if (!exitRunsHooks && !listening) {
    globalThis.addEventListener("unload", runExitHooks);
    listening = true;
  }
  return () => void hooks.delete(hook);
}

/** Runs every hook not removed yet, once each. */
export function runExitHooks(): void {
  for (const hook of [...hooks]) {
    hooks.delete(hook);
    try {
      hook();
    } catch { /* the others still run */ }
  }
}

/**
 * Says that this program exits only through its own exit, which calls runExitHooks before
 * Deno.exit (main.ts): no "unload" listener is needed. Called before any run starts.
 */
export function exitingThroughOwnExit(): void {
  exitRunsHooks = true;
}
