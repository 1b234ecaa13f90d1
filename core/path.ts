// core/path.ts — POSIX path resolution for the launch path. node:path would do, but loading Deno's
// Node compatibility layer costs ~5 ms on every `ww run`; this is the little ww needs. Pure.

/**
 * `path` made absolute against `cwd` and normalised ("." and ".." segments and repeated slashes
 * removed), without touching the file system (symlinks are not resolved).
 *
 * @example
 * absolutePath("/home/u", "../bin/./app"); // "/home/bin/app"
 */
export function absolutePath(cwd: string, path: string): string {
  const segments: string[] = [];
  for (const part of (path.startsWith("/") ? path : `${cwd}/${path}`).split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") segments.pop();
    else segments.push(part);
  }
  return `/${segments.join("/")}`;
}

/**
 * absolutePath, asking `cwd` for the current directory only when `path` is relative (ww's own
 * cannot always be named: run/caller_env.ts callerCwd).
 *
 * @example
 * absoluteFrom(() => "/home/u", "bin/app"); // "/home/u/bin/app"
 * absoluteFrom(() => { throw new Error("not asked") }, "/etc/./hosts"); // "/etc/hosts"
 */
export function absoluteFrom(cwd: () => string, path: string): string {
  return absolutePath(path.startsWith("/") ? "/" : cwd(), path);
}
