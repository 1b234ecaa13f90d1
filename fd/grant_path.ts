// fd/grant_path.ts — the path a grant's file is opened by (`--open`): the caller's path with
// every symbolic link on it resolved, following only links that their owner could not have
// planted for someone else. ww opens a grant with its caller's rights, often root's, and hands
// the descriptor to a jail; a jail that can write a bound directory could leave a link there
// (`log -> /etc/shadow`) for a later run's `--open log=DIR/log:w` to follow. Which owners are
// trusted is the caller's rule (run/trusted_path.ts). Links under /proc are the kernel's own
// (/proc/self/fd/N), which no jail can make: from there the kernel resolves the rest. Where the
// path asks a directory of what is none (`file/`, `file/..`, `missing/..`), the rest is kept as
// written, for the open to fail there as the kernel does. Pure: the file system is asked through
// `host`.

/** What the resolver asks of the file system about a path, without following a final link. */
export interface PathHost {
  /**
   * The owner of `path`, and whether it is a symlink or a directory; undefined when it cannot be
   * told.
   */
  lstat(
    path: string,
  ): { readonly symlink: boolean; readonly directory: boolean; readonly uid: number } | undefined;
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
 * A component that cannot be told (absent, not searchable) is kept as written, and so is the rest
 * of the path after one that must be a directory and is not (or cannot be told): the open says
 * why it fails.
 *
 * @example
 * const host = {
 *   lstat: (p: string) => ({ symlink: p === "/data/log", directory: p === "/data", uid: 70000 }),
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
  // What `done` names is a directory, as far as the names so far tell (the root is one).
  let inDirectory = true;
  const asWritten = (rest: readonly string[]) => ({
    path: `/${[...done, ...rest].join("/")}`,
    kernelLinks: false,
  });
  while (todo.length > 0) {
    const name = todo.shift()!;
    if (done.length === 1 && done[0] === "proc") {
      return { path: `/${[...done, name, ...todo].join("/")}`, kernelLinks: true };
    }
    // ".", "..", a trailing slash ("" last) and any further name look in a directory.
    if (!inDirectory) return asWritten([name, ...todo]);
    if (name === "." || name === "") continue;
    if (name === "..") {
      done.pop();
      continue;
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
    inDirectory = info?.directory === true;
  }
  return { path: `/${done.join("/")}`, kernelLinks: false };
}

/**
 * The names of a path, without empty ones but a last one (a trailing slash, which asks for a
 * directory).
 */
function components(path: string): string[] {
  const names = path.split("/");
  return names.filter((c, i) => c !== "" || (i === names.length - 1 && i > 0));
}

/** A symlink ww did not follow: where, whose, and whether that owner is the user ww runs as. */
export interface UntrustedLink {
  readonly link: string;
  readonly uid: number;
  readonly ownUser: boolean;
}

/**
 * Why ww did not follow `link` (`where`: on what kind of path, as "in a grant's path "), in the
 * words of the rule that only root's links are followed.
 *
 * @example
 * untrustedLinkWhy({ link: "/srv/log", uid: 70000, ownUser: false });
 * // "/srv/log is a symbolic link owned by uid 70000: ww follows only links owned by root, as a jail could have planted any other (give the path it points to)"
 */
export function untrustedLinkWhy(link: UntrustedLink, where = ""): string {
  return link.ownUser
    ? `${link.link} is a symbolic link owned by uid ${link.uid}, the user ww runs as: ${where}ww follows only links owned by root, as a jail of a user other than root writes its files as that user, and could have planted this one (give the path it points to)`
    : `${link.link} is a symbolic link owned by uid ${link.uid}: ${where}ww follows only links owned by root, as a jail could have planted any other (give the path it points to)`;
}
