// examples/guest/fdmap.ts — for programs started by ww: which descriptors they were given, by name.
// The same rules as wetware's Go `util.GetFDMap()`, so guests in either language agree. Plain
// erasable TypeScript with no imports: runs under Deno and under Node (type stripping or a bundle).

/**
 * The prefix of the variables through which ww names the descriptors it grants.
 *
 * @example
 * ```ts ignore
 * Object.keys(Deno.env.toObject()).filter((k) => k.startsWith(FD_ENV_PREFIX)); // ["WW_FD_DB"]
 * ```
 */
export const FD_ENV_PREFIX = "WW_FD_";

/**
 * The descriptors granted by `ww run --with-fd`: for each variable `WW_FD_<NAME>=<fd>`, `name`
 * (the rest of the variable name, lower-cased) maps to the fd number. As in Go, a value that is
 * not a decimal integer (an optional sign, then digits) is skipped, and an empty name is kept.
 * Unlike Go, a value beyond Number.MAX_SAFE_INTEGER is skipped too, since it has no exact number.
 *
 * @example
 * getFdMap({ WW_FD_DB: "4", WW_FD_CACHE: "5", HOME: "/root" }); // { db: 4, cache: 5 }
 * getFdMap(); // from the current process's environment (Node or Deno)
 */
export function getFdMap(env: Readonly<Record<string, string | undefined>> = processEnv()): Record<
  string,
  number
> {
  const map: Record<string, number> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(FD_ENV_PREFIX) || value === undefined) continue;
    // strconv.Atoi: sign and decimal digits only, no spaces, no "0x".
    if (!/^[+-]?[0-9]+$/.test(value)) continue;
    const fd = Number(value);
    if (!Number.isSafeInteger(fd)) continue;
    // "-0" is 0 in Go; keep it from becoming JavaScript's -0.
    map[goToLower(key.slice(FD_ENV_PREFIX.length))] = fd === 0 ? 0 : fd;
  }
  return map;
}

/**
 * Go's strings.ToLower: each code point by its simple mapping, never by context or into two.
 * JavaScript's toLowerCase gave "ς" for a final "Σ" ("WW_FD_ΑΣ": "ας", Go's "ασ") and "i̇" (two code
 * points) for "İ" (Go's "i"), so a guest in either language saw another name.
 */
function goToLower(name: string): string {
  let lower = "";
  for (const c of name) lower += c === "\u0130" ? "i" : c.toLowerCase();
  return lower;
}

/**
 * The descriptor of ww's host socket: WW_HOST_FD when ww set it (`ww run --socket-activation`
 * puts the listening sockets on fd 3, 4, … and the host socket after them), else 3. A value that
 * is not a decimal descriptor number is an error: the guest must not guess.
 *
 * @example
 * getHostFd({ WW_HOST_FD: "5" }); // 5
 * getHostFd({}); // 3
 */
export function getHostFd(
  env: Readonly<Record<string, string | undefined>> = processEnv(),
): number {
  const value = env.WW_HOST_FD;
  if (value === undefined) return 3;
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new Error(`getHostFd: WW_HOST_FD=${value} is not a descriptor number`);
  }
  return Number(value);
}

interface Runtimes {
  process?: { env: Record<string, string | undefined> };
  Deno?: { env: { toObject(): Record<string, string> } };
}

/** The environment of this process: Node's `process.env`, else Deno's. */
function processEnv(): Record<string, string | undefined> {
  const g = globalThis as Runtimes;
  if (g.process?.env) return g.process.env;
  if (g.Deno) return g.Deno.env.toObject();
  throw new Error("getFdMap: no process.env or Deno.env in this runtime; pass the environment");
}
