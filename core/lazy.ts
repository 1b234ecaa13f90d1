// core/lazy.ts — import() for code that only some runs need, and the one list of the modules ww
// imports that way. Deno, when it starts, walks every `import("literal")` of the module graph and
// loads what it finds, even if the call never runs: the IPFS client alone adds ~10 ms to every
// `ww run` that way. A computed URL is not walked, and `deno compile` cannot see it either:
// `deno task compile` (scripts/compile.ts) passes LAZY_MODULES to it as its --include list.
// core/lazy_test.ts checks, from the source, that every lazyImport names its module as its type
// does and that no module is imported lazily any other way.
//
// To import a module lazily, add its path (from the repository root) here, then call
// `lazyImport<typeof import("../x/y.ts")>("x/y.ts")`; the type checker refuses a name not listed.

/** Every module ww imports lazily, by its path from the repository root. */
export const LAZY_MODULES = [
  "ipfs/fetch.ts",
  "ipfs/download.ts",
  "ipfs/ipns.ts",
  "ipfs/ipns_record.ts",
  "ipfs/cache_command.ts",
  "rpc/ipfs_service.ts",
  "rpc/host.ts",
  "run/launch_bwrap.ts",
  "run/launch_native.ts",
  "run/launch_direct.ts",
  "run/stage.ts",
  "run/tty.ts",
  "run/doctor.ts",
  "run/deno_guest.ts",
  "run/auto_try.ts",
  "run/explain_program.ts",
  "run/view.ts",
  "run/resolve.ts",
] as const;

/** A module of LAZY_MODULES. */
export type LazyModule = typeof LAZY_MODULES[number];

/**
 * Imports `module` (a path of LAZY_MODULES) when called, and not before. `T` is its type, written
 * as `typeof import()` of the same module relative to the caller.
 *
 * @example
 * const { fetchProgram } = await lazyImport<typeof import("../ipfs/fetch.ts")>("ipfs/fetch.ts");
 */
export function lazyImport<T>(module: LazyModule): Promise<T> {
  return import(new URL(`../${module}`, import.meta.url).href);
}
