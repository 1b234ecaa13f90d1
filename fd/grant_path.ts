// fd/grant_path.ts — the path a grant's file is opened by (`--open`): the caller's path with
// every symbolic link on it resolved, following only links that their owner could not have
// planted for someone else. ww opens a grant with its caller's rights, often root's, and hands
// the descriptor to a jail; a jail that can write a bound directory could leave a link there
// (`log -> /etc/shadow`) for a later run's `--open log=DIR/log:w` to follow. A link is followed
// when root or the caller owns it; one of any other user (a jail's leased uid) is refused. Links
// under /proc are the kernel's own (/proc/self/fd/N), which no jail can make: from there the
// kernel resolves the rest. Pure: the file system is asked through `host`.

/** What the resolver asks of the file system about a path, without following a final link. */
export interface PathHost {
  /** The owner of `path` and whether it is a symlink; undefined when it cannot be told. */
  lstat(path: string): { readonly symlink: boolean; readonly uid: number } | undefined;
  /** The target of the symlink at `path`. */
  readlink(path: string): string;
}

/** How resolving a grant's path ended. */
export type GrantPath =
  /** `path`: absolute, with no symlink left on it (unless `kernelLinks`: from /proc on). */
  | { readonly path: string; readonly kernelLinks: boolean }
  /** A symlink whose owner ww does not follow. */
  | { readonly untrusted: { readonly link: string; readonly uid: number } }
  /** More links than the kernel follows (40): a loop. */
  | { readonly loop: true };

/** The most symlinks one path resolution follows (the kernel's MAXSYMLINKS). */
const MAX_LINKS = 40;

/**
 * Resolves absolute `path` as the kernel would, following a symlink only when `trusted(owner)`.
 * A component that cannot be told (absent, not a directory, not searchable) is kept as written:
 * the open says why it fails.
 *
 * @example
 * const host = {
 *   lstat: (p: string) => p === "/data/log" ? { symlink: true, uid: 70000 } : undefined,
 *   readlink: () => "/etc/shadow",
 * };
 * resolveGrantPath("/data/./log", host, (uid) => uid === 0);
 * // { untrusted: { link: "/data/log", uid: 70000 } }
 */
export function resolveGrantPath(
  path: string,
  host: PathHost,
  trusted: (uid: number) => boolean,
): GrantPath {
  const todo = components(path);
  let done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const name = todo.shift()!;
    if (name === "..") {
      done.pop();
      continue;
    }
    if (done.length === 1 && done[0] === "proc") {
      return { path: `/${[...done, name, ...todo].join("/")}`, kernelLinks: true };
    }
    const at = `/${[...done, name].join("/")}`;
    const info = host.lstat(at);
    if (info?.symlink) {
      if (!trusted(info.uid)) return { untrusted: { link: at, uid: info.uid } };
      if (++links > MAX_LINKS) return { loop: true };
      const target = host.readlink(at);
      if (target.startsWith("/")) done = [];
      todo.unshift(...components(target));
      continue;
    }
    done.push(name);
  }
  return { path: `/${done.join("/")}`, kernelLinks: false };
}

/** The names of a path, without empty ones and ".". */
function components(path: string): string[] {
  return path.split("/").filter((c) => c !== "" && c !== ".");
}
