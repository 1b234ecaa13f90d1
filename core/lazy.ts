// core/lazy.ts — import() for code that only some runs need, and the one list of the modules ww
// imports that way. Deno, when it starts, walks every `import("literal")` of the module graph and
// loads what it finds, even if the call never runs: the IPFS client alone adds ~10 ms to every
// `ww run` that way. A computed URL is not walked, and neither `deno bundle` nor `deno compile`
// can see it: `deno task bundle` (scripts/bundle.ts) passes LAZY_MODULES to deno bundle as entry
// points, each written to `<module>.js` beside the bundle's main.js, and `deno task compile`
// (scripts/compile.ts) passes those files to deno compile as its --include list.
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
  "run/stage.ts",
  "run/tty.ts",
  "run/doctor.ts",
  "run/deno_guest.ts",
  "run/auto_try.ts",
  "run/explain_program.ts",
  "run/view.ts",
  "run/guest_program.ts",
  "run/own_grants.ts",
] as const;

/** A module of LAZY_MODULES. */
export type LazyModule = typeof LAZY_MODULES[number];

/**
 * Where the bundle keeps `module`: its path with `.js` for `.ts`, relative to the bundle's
 * directory, where deno bundle writes main.js and every chunk (core/lazy.ts among them).
 *
 * @example
 * bundledPath("ipfs/fetch.ts");
 * // "ipfs/fetch.js"
 */
export function bundledPath(module: LazyModule): string {
  return `${module.slice(0, -".ts".length)}.js`;
}

/** This module's place in the sources: how lazyUrl knows that it runs from them. */
const SOURCE_SELF = "/core/lazy.ts";

/**
 * The URL that imports `module` from code at `here` (this module's own URL): beside the other
 * sources when `here` is core/lazy.ts itself, else in the bundle that `here` is a chunk of, so a
 * lazy module of the bundle shares the bundle's one copy of every module (core/errors.ts and its
 * classes among them) instead of loading a second one from the sources.
 *
 * @example
 * lazyUrl("rpc/host.ts", "file:///ww/core/lazy.ts");
 * // "file:///ww/rpc/host.ts"
 * lazyUrl("rpc/host.ts", "file:///ww/dist/main-chunks.js");
 * // "file:///ww/dist/rpc/host.js"
 */
export function lazyUrl(module: LazyModule, here: string): string {
  // By hand, not with URL, whose first use cost a jailed run ~0.1 ms (issue 13): a module's path
  // is plain ASCII segments (LAZY_MODULES), and `here` a file: URL.
  return here.endsWith(SOURCE_SELF)
    ? `${here.slice(0, here.length - SOURCE_SELF.length)}/${module}`
    : `${here.slice(0, here.lastIndexOf("/") + 1)}${bundledPath(module)}`;
}

/**
 * Imports `module` (a path of LAZY_MODULES) when called, and not before. `T` is its type, written
 * as `typeof import()` of the same module relative to the caller.
 *
 * @example
 * const { fetchProgram } = await lazyImport<typeof import("../ipfs/fetch.ts")>("ipfs/fetch.ts");
 */
export function lazyImport<T>(module: LazyModule): Promise<T> {
  return import(lazyUrl(module, import.meta.url));
}
