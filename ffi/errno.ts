// ffi/errno.ts — Linux errno numbers to their symbolic names (asm-generic/errno-base.h and
// errno.h; x86_64 and aarch64 share these values).

const NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  3: "ESRCH",
  4: "EINTR",
  5: "EIO",
  6: "ENXIO",
  7: "E2BIG",
  8: "ENOEXEC",
  9: "EBADF",
  10: "ECHILD",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  16: "EBUSY",
  17: "EEXIST",
  18: "EXDEV",
  19: "ENODEV",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  25: "ENOTTY",
  26: "ETXTBSY",
  27: "EFBIG",
  28: "ENOSPC",
  29: "ESPIPE",
  30: "EROFS",
  31: "EMLINK",
  32: "EPIPE",
  34: "ERANGE",
  36: "ENAMETOOLONG",
  38: "ENOSYS",
  39: "ENOTEMPTY",
  40: "ELOOP",
  88: "ENOTSOCK",
  91: "EPROTOTYPE",
  95: "EOPNOTSUPP",
  97: "EAFNOSUPPORT",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  101: "ENETUNREACH",
  104: "ECONNRESET",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  113: "EHOSTUNREACH",
};

/** "EBADF" for 9; "errno 1234" for a number this table does not know. */
export function errnoName(errno: number): string {
  return NAMES[errno] ?? `errno ${errno}`;
}

export const EPERM = 1;
export const ENOENT = 2;
export const E2BIG = 7;
export const ESRCH = 3;
export const EINTR = 4;
export const EBADF = 9;
export const ENOMEM = 12;
export const ECHILD = 10;
export const EAGAIN = 11;
export const EPIPE = 32;
export const EACCES = 13;
export const ENOEXEC = 8;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const ETXTBSY = 26;
export const ELOOP = 40;
export const ENOSYS = 38;
export const ENAMETOOLONG = 36;
export const EINVAL = 22;
export const ENXIO = 6;
export const EINPROGRESS = 115;
export const EADDRINUSE = 98;
export const ENOTSOCK = 88;
export const EEXIST = 17;
export const ENOTEMPTY = 39;
export const ENOTTY = 25;
