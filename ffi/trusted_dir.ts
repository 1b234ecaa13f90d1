// ffi/trusted_dir.ts — whether a directory that ww keeps files in between runs (its cache under
// XDG_CACHE_HOME or HOME) is one that no one but ww's user and root can change, along every step
// the kernel takes to reach it. Run as root with another user's HOME (sudo -E), a check of the
// last component alone, or of the path with its links resolved once, let that user, who may
// rename entries in their own directories, swap a directory or a link for another between the
// check and the use: root then read an answer the user chose, or wrote where the user chose.

import { fileOwner, readLink } from "./stat.ts";

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_ISVTX = 0o1000;
/** Linux follows at most 40 links on a path (path_resolution(7)). */
const MAX_LINKS = 40;

/**
 * Why `dir` (absolute) is not a directory only ww's user and root can change, or undefined when it
 * is. The path is walked as the kernel would, from /, its links followed where they lead: every
 * directory a name is looked up in is owned by ww's user or root and writable by no group or
 * others unless sticky (as /tmp: only an entry's owner may rename it there, so an entry the walk
 * takes there must be ww's user's or root's too). Then no one else can change what the path leads
 * to until ww is done with it. A part of the path that does not exist yet ends the walk: it will
 * be made in a directory that passed. A failure to look is the problem.
 *
 * @example
 * dirTrustProblem("/root/.cache/ww"); // undefined (as root)
 * dirTrustProblem("/tmp/shared/ww");  // "/tmp/shared belongs to uid 65534, not to ww's user or root"
 */
export function dirTrustProblem(dir: string): string | undefined {
  const me = Deno.uid();
  const trusted = (uid: number) => uid === me || uid === 0;
  const rest = dir.split("/").filter((p) => p !== "" && p !== ".");
  let at: string[] = [];
  let sticky = false;
  let links = 0;
  const rootProblem = problemOf("/", fileOwner("/", false), trusted);
  if (rootProblem !== undefined) return rootProblem;
  while (rest.length > 0) {
    const name = rest.shift()!;
    if (name === "..") {
      at = at.slice(0, -1);
      continue;
    }
    const path = `/${[...at, name].join("/")}`;
    const info = fileOwner(path, false);
    if (info === undefined) return undefined; // not there yet (or unreadable: the use will fail)
    if ((info.mode & S_IFMT) === S_IFLNK) {
      if (sticky && !trusted(info.uid)) {
        return `${path} is a link of uid ${info.uid}'s in a directory others may write`;
      }
      if (++links > MAX_LINKS) return `${dir}: too many levels of links`;
      const target = readLink(path);
      if (target.startsWith("/")) at = [];
      rest.unshift(...target.split("/").filter((p) => p !== "" && p !== "."));
      continue;
    }
    const problem = problemOf(path, info, trusted);
    if (problem !== undefined) return problem;
    sticky = (info.mode & S_ISVTX) !== 0;
    at.push(name);
  }
  return undefined;
}

/** Why the directory at `path` (`info`, not followed) may be changed by someone else. */
function problemOf(
  path: string,
  info: { isDirectory: boolean; mode: number; uid: number } | undefined,
  trusted: (uid: number) => boolean,
): string | undefined {
  if (info === undefined) return `cannot look at ${path}`;
  if (!info.isDirectory) return `${path} is not a directory`;
  if (!trusted(info.uid)) return `${path} belongs to uid ${info.uid}, not to ww's user or root`;
  if ((info.mode & 0o022) !== 0 && (info.mode & S_ISVTX) === 0) {
    const who = (info.mode & 0o002) !== 0 ? "others" : "its group";
    return `${path} is writable by ${who} (mode ${(info.mode & 0o7777).toString(8)})`;
  }
  return undefined;
}
