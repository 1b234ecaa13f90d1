// ffi/dir.ts — a directory made with a fresh name and removed when empty, through libc: a
// --jail=none run's work directory (run/launch.ts hostWorkdir), a --deno guest's bundle's
// (run/deno_guest.ts). Such a directory is held (flock) for its run's life, so that a later run
// removes it when ww died without doing so (SIGKILL): its lock went with ww.

import { EAGAIN, EEXIST, ENOTDIR, ENOTEMPTY } from "./errno.ts";
import { check, cString, lastErrno, libc, libcJail, SyscallError, workerMemory } from "./libc.ts";
import { closeFd } from "./fd.ts";
import {
  DIRENT_NAME_OFFSET,
  DIRENT_RECLEN_OFFSET,
  O_CLOEXEC,
  O_DIRECTORY,
  O_RDONLY,
} from "./flags.ts";
import { tryLockOwnDirectory } from "./lock.ts";
import { descriptorOwnerLinks } from "./stat.ts";

const decoder = new TextDecoder();

/**
 * Makes a new directory, mode 0700, in `parent`, named `prefix` and six random characters
 * (mkdtemp(3)); its path. Throws a SyscallError ("mkdtemp", with `parent`) when it cannot.
 *
 * @example
 * const dir = makeTempDir("/tmp", "ww-"); // "/tmp/ww-Xq3b9Z"
 * removeEmptyDir(dir); // true
 */
export function makeTempDir(parent: string, prefix: string): string {
  const template = cString(`${parent.replace(/\/+$/, "")}/${prefix}XXXXXX`);
  if (libc().mkdtemp(template) === null) throw new SyscallError("mkdtemp", lastErrno(), parent);
  return decoder.decode(template.subarray(0, template.length - 1));
}

/**
 * Removes the directory `path` if it is empty (rmdir(2)): true when removed, false when it was
 * not empty, or is no directory now (a program replaced it with a file). Throws a SyscallError
 * for any other failure.
 */
export function removeEmptyDir(path: string): boolean {
  if (libc().rmdir(cString(path)) === 0) return true;
  const errno = lastErrno();
  if (errno === ENOTEMPTY || errno === EEXIST || errno === ENOTDIR) return false;
  throw new SyscallError("rmdir", errno, path);
}

/**
 * Removes `path` with what is in it (a file a program put in its place included): rmdir first,
 * which takes no descriptor, so that an empty directory goes even when ww is short of them (a
 * recursive removal opens it, and failed so); then Deno's recursive removal (unlinkat, no
 * symbolic link followed). Throws what either throws.
 *
 * @example
 * removeTree(makeTempDir("/tmp", "ww-")); // gone
 */
export function removeTree(path: string): void {
  if (!removeEmptyDir(path)) Deno.removeSync(path, { recursive: true });
}

/**
 * makeTempDir's directory, with an exclusive flock on a descriptor of it (close-on-exec, so no
 * child inherits it) that the caller keeps open for as long as the directory is in use, and closes
 * once it has removed it: { path, fd }. sweepUnheld takes only a directory whose lock is free.
 * Between mkdtemp and flock a sweeper may take the new directory: then its lock is held, or the
 * directory is gone once it is free (no links), and another is made.
 *
 * @example
 * const { path, fd } = makeHeldTempDir("/tmp", "ww-none-"); // "/tmp/ww-none-Xq3b9Z", locked
 */
export function makeHeldTempDir(parent: string, prefix: string): { path: string; fd: number } {
  for (let tries = 1;; tries++) {
    const path = makeTempDir(parent, prefix);
    let fd: number | undefined;
    try {
      fd = tryLockOwnDirectory(path);
    } catch (e) {
      // Short of descriptors (EMFILE) the open fails: the directory, still empty and unheld,
      // goes again at once (rmdir takes no descriptor) rather than waiting for a later run's sweep.
      try {
        removeEmptyDir(path);
      } catch {
        // Left for a later run's sweep: its lock is free.
      }
      throw e;
    }
    if (fd !== undefined) {
      if ((descriptorOwnerLinks(fd)?.links ?? 0) > 0) return { path, fd };
      closeFd(fd);
    }
    if (tries === 8) throw new SyscallError("flock", EAGAIN, path);
  }
}

/**
 * Removes, with what is in them, the directories named `prefix`… in `parent` that makeHeldTempDir
 * made for runs whose ww died holding them: each whose lock is free, that is a directory (a
 * symbolic link is not followed, nor is one inside it), owned by this process's uid (a TMPDIR such
 * as /tmp is shared), and not `busy` (a program of --jail=none that outlived ww works in its
 * directory). Best effort: one it cannot remove is left for a later run. Costs a run with nothing
 * to remove one getdents64(2) pass over `parent`'s names, on a worker thread.
 */
export async function sweepUnheld(
  parent: string,
  prefix: string,
  busy?: (path: string) => boolean,
): Promise<void> {
  const names = await namesStartingWith(parent, prefix);
  if (names.length === 0) return;
  const uid = Deno.uid();
  for (const name of names) {
    const path = `${parent.replace(/\/+$/, "")}/${name}`;
    let fd: number | undefined;
    try {
      fd = tryLockOwnDirectory(path);
    } catch {
      continue; // not ours to open (EACCES)
    }
    if (fd === undefined) continue; // held by a live run, or no directory
    try {
      const info = descriptorOwnerLinks(fd);
      if (info?.uid !== uid || info.links === 0 || busy?.(path)) continue;
      removeTree(path);
    } catch {
      // Left for a later run.
    } finally {
      closeFd(fd);
    }
  }
}

const ENTRIES_SIZE = 32768;

/**
 * The names in the directory `parent` that begin with the ASCII `prefix`, read by getdents64(2)
 * on a worker thread (into memory of the C heap: workerMemory says why).
 */
async function namesStartingWith(parent: string, prefix: string): Promise<string[]> {
  const c = libc();
  const dir = check("open", c.open(cString(parent), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0), parent);
  const memory = workerMemory(ENTRIES_SIZE);
  const found: string[] = [];
  try {
    const buf = new Uint8Array(memory.buffer);
    const view = new DataView(memory.buffer);
    for (;;) {
      let n = Number(await c.getdents64_background(dir, memory.at, BigInt(ENTRIES_SIZE)));
      if (n === -1) {
        // Again on the main thread, for its errno.
        n = check("getdents64", libcJail().getdents64(dir, buf, BigInt(ENTRIES_SIZE)), parent);
      }
      if (n === 0) break;
      for (let at = 0; at < n; at += view.getUint16(at + DIRENT_RECLEN_OFFSET, true)) {
        const start = at + DIRENT_NAME_OFFSET;
        let i = 0;
        while (i < prefix.length && buf[start + i] === prefix.charCodeAt(i)) i++;
        if (i < prefix.length) continue;
        found.push(decoder.decode(buf.subarray(start, buf.indexOf(0, start))));
      }
    }
  } finally {
    memory.free();
    closeFd(dir);
  }
  return found;
}
