// ffi/flags.ts — the kernel's flag values that several ffi/ modules pass to libc (open(2),
// fcntl(2), poll(2); Linux, x86_64 and aarch64 alike), written once.

/** open(2) flags. */
export const O_RDONLY = 0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_ACCMODE = 0o3;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_NONBLOCK = 0o4000;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;
/** The same on x86_64 and aarch64 (asm-generic), unlike O_DIRECTORY. */
export const O_PATH = 0o10000000;

/** fcntl(2) commands and the descriptor flag. */
export const F_GETFD = 1;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const FD_CLOEXEC = 1;

/** poll(2) events. */
export const POLLIN = 0x1;
export const POLLOUT = 0x4;
/** poll(2): the descriptor is not open. */
export const POLLNVAL = 0x20;
