// ffi/open.ts — opening a file by a path that must be taken exactly as written: openat2(2) with
// RESOLVE_NO_SYMLINKS, so that no symlink anywhere on the path (one that appeared since the path
// was checked, say) is followed; and a name in a directory held so, for calls without openat2.

import { check, cString, lastErrno, libc } from "./libc.ts";
import { ELOOP, ENOSYS, EPERM } from "./errno.ts";
import { O_CLOEXEC, O_CREAT, O_NOCTTY, O_NONBLOCK, O_PATH, O_RDONLY } from "./flags.ts";

/** openat2's number, the same on x86_64 and aarch64 (a syscall added after the tables merged). */
export const SYS_OPENAT2 = 437n;
export const AT_FDCWD = -100;
/** <linux/openat2.h>: refuse every symlink, and the /proc magic links among them. */
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_NO_LINKS = RESOLVE_NO_MAGICLINKS | 0x04; // | RESOLVE_NO_SYMLINKS

/**
 * openat2's `struct open_how { u64 flags; u64 mode; u64 resolve; }` for an open with `flags` that
 * follows no link: mode 0666 (less the umask) when it may create the file, else none, which
 * openat2 requires (EINVAL).
 */
export function openHowNoLinks(flags: number): BigUint64Array<ArrayBuffer> {
  const mode = (flags & O_CREAT) !== 0 ? 0o666n : 0n;
  return new BigUint64Array([BigInt(flags), mode, BigInt(RESOLVE_NO_LINKS)]);
}

/**
 * Opens the file at absolute `path` read-only and close-on-exec, failing (SyscallError "openat2":
 * ELOOP) when any part of the path is a symlink. Never blocks (a FIFO opens at once) and never
 * becomes a controlling terminal: the caller checks what it opened.
 *
 * @example
 * const fd = openNoSymlinks("/usr/bin/true"); // ELOOP on a merged-/usr system's /bin/true
 */
export function openNoSymlinks(path: string): number {
  return openat2NoLinks(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
}

/**
 * An O_PATH descriptor (close-on-exec) of the file at absolute `path`, failing as openNoSymlinks
 * does when any part of the path is a symlink: it names the file (a unix socket, to connect to
 * through /proc/self/fd/N) without opening it.
 */
export function holdNoSymlinks(path: string): number {
  return openat2NoLinks(path, O_PATH | O_CLOEXEC);
}

/**
 * `name` in the directory at absolute `dir` (with no link on its path), as a path that no link
 * swapped in for the directory since redirects: /proc/self/fd/N/<name>, N a descriptor of the
 * directory (holdNoSymlinks). For calls that take a path and have no openat2 of their own, such
 * as bind(2) and unlink(2). `close` lets the directory go; the path means nothing after it.
 *
 * @example
 * const sock = nameInHeldDirectory("/run/app", "app.sock"); // "/proc/self/fd/7/app.sock"
 * sock.close();
 */
export function nameInHeldDirectory(dir: string, name: string): { path: string; close(): void } {
  const fd = holdNoSymlinks(dir);
  return { path: `/proc/self/fd/${fd}/${name}`, close: () => void libc().close(fd) };
}

/**
 * holdNoSymlinks of `name`, one component, in the directory descriptor `dir` holds: the very
 * entry of that directory, whatever its path is by now.
 */
export function holdNoSymlinksIn(dir: number, name: string): number {
  if (name === "" || name === "." || name === ".." || name.includes("/")) {
    throw new Error(`holdNoSymlinksIn: ${name} is not one component (internal)`);
  }
  return openat2NoLinks(name, O_PATH | O_CLOEXEC, dir);
}

function openat2NoLinks(path: string, flags: number, dir = AT_FDCWD): number {
  const how = openHowNoLinks(flags);
  const fd = libc().syscall_openat2(SYS_OPENAT2, dir, cString(path), how, 24n);
  return check("openat2", fd, path);
}

/** openat2's open_how for passesMagicLink, made once (no garbage a run). */
const magicLinkHow = new BigUint64Array([
  BigInt(O_PATH | O_CLOEXEC),
  0n,
  BigInt(RESOLVE_NO_MAGICLINKS),
]);

/**
 * Whether resolving `path` goes through one of /proc's magic links (/proc/<pid>/fd/N, exe, cwd,
 * root), which name whatever another process holds: /dev/stdin and /dev/fd/N lead to one. False
 * when it does not, or when the path cannot be resolved at all; undefined when openat2 cannot
 * tell (Linux < 5.6, or a seccomp filter that refuses it, as a jail's does).
 *
 * @example
 * passesMagicLink("/dev/stdin"); // true
 * passesMagicLink("/usr/bin/true"); // false
 */
export function passesMagicLink(path: string): boolean | undefined {
  const fd = libc().syscall_openat2(SYS_OPENAT2, AT_FDCWD, cString(path), magicLinkHow, 24n);
  if (fd >= 0) {
    libc().close(fd);
    return false;
  }
  const errno = lastErrno();
  if (errno === ELOOP) return true;
  return errno === ENOSYS || errno === EPERM ? undefined : false;
}
