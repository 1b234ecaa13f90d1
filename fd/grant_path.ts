// fd/grant_path.ts — the path a grant's file is opened by (`--open`): the caller's path with
// every symbolic link on it resolved, following only links that their owner could not have
// planted for someone else. ww opens a grant with its caller's rights, often root's, and hands
// the descriptor to a jail; a jail that can write a bound directory could leave a link there
// (`log -> /etc/shadow`) for a later run's `--open log=DIR/log:w` to follow. Which owners are
// trusted is the caller's rule (run/trusted_path.ts). A process's descriptor under /proc
// (/proc/self/fd/N, /proc/<pid>/task/<tid>/fd/N, and /dev/stdin on its way there) is the kernel's
// own link, which no jail can make: that exact path is left to the kernel. Any other link in a
// process's directory (root, cwd, exe, a descriptor with more path after it) is a way the kernel
// resolves, not ww: it is refused (procLink). Where the path asks a directory of what is none (`file/`,
// `file/..`, `missing/..`), the rest is kept as written, for the open to fail there as the kernel
// does. Pure: the file system is asked through `host`.

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
  /** `path`: absolute, with no symlink left on it (unless `kernelLinks`: a descriptor's). */
  | { readonly path: string; readonly kernelLinks: boolean }
  /** A link under /proc other than a descriptor's, at `procLink`. */
  | { readonly procLink: string }
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
    // ".", "..", a trailing slash ("" last) and any further name look in a directory.
    if (!inDirectory) return asWritten([name, ...todo]);
    if (name === "." || name === "") continue;
    if (name === "..") {
      done.pop();
      continue;
    }
    if (done[0] === "proc" && isDescriptorLink([...done.slice(1), name, ...todo])) {
      return { path: `/${[...done, name, ...todo].join("/")}`, kernelLinks: true };
    }
    const at = `/${[...done, name].join("/")}`;
    const info = host.lstat(at);
    if (info?.symlink) {
      // /proc's own links (self, thread-self, mounts) are plain ones; in a process's directory
      // (root, cwd, exe, fd/N) they are the kernel's ways to wherever that process is.
      if (done[0] === "proc" && done.length > 1) return { procLink: at };
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

/** The links of /proc to a process's own directory. */
const PROC_SELF = ["self", "thread-self"];

/**
 * Whether `names`, after /proc/, are exactly a process's descriptor: P/fd/N or P/task/T/fd/N (P
 * a pid, self or thread-self; T a thread's id; N a descriptor), with nothing after it.
 */
function isDescriptorLink(names: readonly string[]): boolean {
  const number = (s: string | undefined) => s !== undefined && /^\d+$/.test(s);
  const process = (s: string) => PROC_SELF.includes(s) || number(s);
  if (!process(names[0])) return false;
  if (names.length === 3) return names[1] === "fd" && number(names[2]);
  return names.length === 5 && names[1] === "task" && number(names[2]) && names[3] === "fd" &&
    number(names[4]);
}

/**
 * The names of a path, without empty ones but a last one (a trailing slash, which asks for a
 * directory).
 */
function components(path: string): string[] {
  const names = path.split("/");
  return names.filter((c, i) => c !== "" || (i === names.length - 1 && i > 0));
}

/**
 * A symlink ww did not follow: where, and whose (and whether that owner is the user ww runs as),
 * or that it is one of /proc's own (GrantPath's procLink).
 */
export type UntrustedLink =
  | { readonly link: string; readonly uid: number; readonly ownUser: boolean }
  | { readonly link: string; readonly proc: true };

/**
 * Why ww did not follow `link` (`where`: on what kind of path, as "in a grant's path "), in the
 * words of the rule that only root's links are followed.
 *
 * @example
 * untrustedLinkWhy({ link: "/srv/log", uid: 70000, ownUser: false });
 * // "/srv/log is a symbolic link owned by uid 70000: ww follows only links owned by root, as a jail could have planted any other (give the path it points to)"
 */
export function untrustedLinkWhy(link: UntrustedLink, where = ""): string {
  if ("proc" in link) {
    return `${link.link} is a link of /proc's own (a process's root, cwd or exe, or a descriptor with a path after it), which the kernel resolves its own way: ${where}ww follows none (give the path it points to)`;
  }
  return link.ownUser
    ? `${link.link} is a symbolic link owned by uid ${link.uid}, the user ww runs as: ${where}ww follows only links owned by root, as a jail of a user other than root writes its files as that user, and could have planted this one (give the path it points to)`
    : `${link.link} is a symbolic link owned by uid ${link.uid}: ${where}ww follows only links owned by root, as a jail could have planted any other (give the path it points to)`;
}
