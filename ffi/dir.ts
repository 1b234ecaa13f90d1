// ffi/dir.ts — an unjailed run's work directory on the host: made with mkdtemp(3) (mode 0700, a
// name no other process can have taken) and removed with rmdir(2) when the program left it empty.

import { check, cString, lastErrno, libcDirs, SyscallError } from "./libc.ts";

/** The length of mkdtemp's random suffix, the template's trailing "XXXXXX". */
const SUFFIX = "XXXXXX";

/**
 * Makes a new directory `<parent>/<prefix>XXXXXX` (mode 0700) and returns its path; a
 * SyscallError ("mkdtemp") when it cannot.
 *
 * @example
 * const dir = makeTempDir("/tmp", "ww-"); // "/tmp/ww-a1B2c3"
 * removeEmptyDir(dir); // true
 */
export function makeTempDir(parent: string, prefix: string): string {
  const template = cString(`${parent}/${prefix}${SUFFIX}`);
  if (libcDirs().mkdtemp(template) === null) {
    throw new SyscallError("mkdtemp", lastErrno(), parent);
  }
  return new TextDecoder().decode(template.subarray(0, template.length - 1));
}

/**
 * Removes the directory `path` when it is empty: true once it is gone, false when it holds
 * something (ENOTEMPTY, EEXIST); a SyscallError ("rmdir") for any other failure.
 */
export function removeEmptyDir(path: string): boolean {
  try {
    check("rmdir", libcDirs().rmdir(cString(path)), path);
    return true;
  } catch (e) {
    if (e instanceof SyscallError && (e.code === "ENOTEMPTY" || e.code === "EEXIST")) return false;
    throw e;
  }
}
