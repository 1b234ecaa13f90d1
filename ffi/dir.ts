// ffi/dir.ts — a directory made with a fresh name and removed when empty, through libc: a
// --jail=none run's work directory (run/launch.ts hostWorkdir).

import { EEXIST, ENOTDIR, ENOTEMPTY } from "./errno.ts";
import { cString, lastErrno, libc, SyscallError } from "./libc.ts";

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
