// ffi/flags.ts — the kernel's flag values that several ffi/ modules pass to libc (open(2),
// fcntl(2), poll(2); Linux), and the layout of the directory entries getdents64(2) fills, written
// once: the same on x86_64 and aarch64 but for two open(2)
// flags, which arm64 numbers apart (arch/arm64/include/uapi/asm/fcntl.h): openFlagsOf.

/** The open(2) flags whose values are `arch`'s own (ffi/flags_test.ts checks them against gcc's). */
export function openFlagsOf(arch: string): { O_NOFOLLOW: number; O_DIRECTORY: number } {
  return arch === "aarch64"
    ? { O_NOFOLLOW: 0o100000, O_DIRECTORY: 0o40000 }
    : { O_NOFOLLOW: 0o400000, O_DIRECTORY: 0o200000 };
}

const own = openFlagsOf(Deno.build.arch);

/** open(2) flags. */
export const O_RDONLY = 0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_ACCMODE = 0o3;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_NONBLOCK = 0o4000;
/** On aarch64 0o400000 is O_LARGEFILE: a symlink was followed. */
export const O_NOFOLLOW = own.O_NOFOLLOW;
/** On aarch64 0o200000 is O_DIRECT. */
export const O_DIRECTORY = own.O_DIRECTORY;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;

/** fcntl(2) commands and the descriptor flag. */
export const F_GETFD = 1;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const FD_CLOEXEC = 1;

/** poll(2) events. */
export const POLLIN = 0x1;
/** poll(2): the other end hung up (a terminal's, a pipe's writers all gone). */
export const POLLHUP = 0x10;
export const POLLOUT = 0x4;
/** poll(2): an error on the descriptor (a pipe's readers all gone, for its write end). */
export const POLLERR = 0x8;
/** poll(2): the descriptor is not open. */
export const POLLNVAL = 0x20;

/**
 * Where struct linux_dirent64 (getdents64(2)) has d_reclen, a u16, and d_name: after d_ino (u64),
 * d_off (s64), d_reclen and d_type (u8). The same on x86_64 and aarch64.
 */
export const DIRENT_RECLEN_OFFSET = 16;
/** See DIRENT_RECLEN_OFFSET. */
export const DIRENT_NAME_OFFSET = 19;
