// core/lazy.ts — import() for code that only some runs need. Deno, when it starts, walks every
// `import("literal")` of the module graph and loads what it finds, even if the call never runs:
// the IPFS client alone adds ~10 ms to every `ww run` that way. A computed URL is not walked.
// `deno task compile` names these modules with --include, since the compiler cannot see them
// either.

/**
 * Imports `url` (made with `new URL("../x.ts", import.meta.url)`) when called, and not before.
 *
 * @example
 * const { fetchProgram } = await lazyImport<typeof import("../ipfs/fetch.ts")>(
 *   new URL("../ipfs/fetch.ts", import.meta.url),
 * );
 */
export function lazyImport<T>(url: URL): Promise<T> {
  return import(url.href);
}
