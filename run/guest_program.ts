// run/guest_program.ts — opens the program a jailed program named through Executor.start, once
// run/view.ts found it in that program's view: once, refusing every symlink, so that ww starts
// the file the view showed and nothing by path. Imported lazily (core/lazy.ts): only a run whose
// program starts others needs it.

import { closeFd } from "../ffi/fd.ts";
import { SyscallError } from "../ffi/libc.ts";
import { openNoSymlinks } from "../ffi/open.ts";
import { guestOpenError, type ViewPath } from "./view.ts";

/**
 * A program found in a jail's view and opened: ww starts this descriptor, nothing by path.
 *
 * @example
 * ```ts ignore
 * const opened: OpenedProgram = openGuestProgram(found);
 * await startProgram({ program: "app" }, { program: opened });
 * ```
 */
export interface OpenedProgram extends ViewPath {
  /** Read-only and close-on-exec; whoever starts the program closes it when the program ends. */
  readonly fd: number;
}

/**
 * Opens the program resolveInView found, at its real path `found.source` and refusing every
 * symlink on the way, so that it is the file the view shows there now: a jailed program that
 * can write where the program lies may swap a part of the path for a symlink to a host file its
 * jail does not show, between ww's check and the start. Throws an Error for the jailed program
 * (guestOpenError) when the path changed, or leads to no regular file.
 *
 * @example
 * const opened = openGuestProgram(found); // { path: "/data/app", source: "/srv/app", fd: 17 }
 */
export function openGuestProgram(found: ViewPath): OpenedProgram {
  let fd: number;
  try {
    fd = openNoSymlinks(found.source);
  } catch (e) {
    if (e instanceof SyscallError) throw new Error(guestOpenError(found.path, e.code));
    throw e;
  }
  let isFile = false;
  try {
    // The descriptor's own file: /proc/self/fd/N cannot be swapped.
    isFile = Deno.statSync(`/proc/self/fd/${fd}`).isFile;
  } catch { /* refused below */ }
  if (!isFile) {
    closeFd(fd);
    throw new Error(guestOpenError(found.path, "not-file"));
  }
  return { ...found, fd };
}
