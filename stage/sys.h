/*
 * stage/sys.h — the stage's only door to the kernel: raw system calls through inline assembly,
 * for x86_64 and aarch64, with no libc (the stage is built -nostdlib -ffreestanding, see
 * stage/build.ts). Constants come from the kernel's own UAPI headers, which gcc finds for each
 * target (linux-libc-dev, linux-libc-dev-arm64-cross), so the numbers are the target's.
 *
 * A call returns the kernel's raw result: -errno (-4095..-1) on failure.
 */
#ifndef WW_STAGE_SYS_H
#define WW_STAGE_SYS_H

#include <asm/unistd.h>
#include <linux/capability.h>
#include <linux/fcntl.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/mount.h>
#include <linux/nsfs.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>

typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned char u8;

static inline long sys6(long n, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0"
                   : "+r"(x0)
                   : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory");
  return x0;
#else
#error "the stage supports x86_64 and aarch64"
#endif
}

#define SYS0(n) sys6(__NR_##n, 0, 0, 0, 0, 0, 0)
#define SYS1(n, a) sys6(__NR_##n, (long)(a), 0, 0, 0, 0, 0)
#define SYS2(n, a, b) sys6(__NR_##n, (long)(a), (long)(b), 0, 0, 0, 0)
#define SYS3(n, a, b, c) sys6(__NR_##n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SYS4(n, a, b, c, d) sys6(__NR_##n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SYS5(n, a, b, c, d, e) \
  sys6(__NR_##n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define SYS6(n, a, b, c, d, e, f) \
  sys6(__NR_##n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* Signal numbers and the rest: the same on x86_64 and aarch64 (asm-generic). */
#define CLONE_NEWNS 0x00020000
#define CLONE_NEWUSER 0x10000000
#define CLONE_NEWNET 0x40000000
#define SIGKILL 9
#define SIGCHLD 17
#define SIGCONT 18
#define SIGSTOP 19
#define SIGRTMAX 64
/*
 * "ww died, or asks for the end of everything": a real-time signal ww never forwards. Not
 * SIGRTMAX itself: qemu-user cannot deliver the top two, and the aarch64 build is tested there.
 */
#define SIGEND (SIGRTMAX - 2)
#define SIG_BLOCK 0
#define SIG_SETMASK 2
#define WNOHANG 1
#define WALL 0x40000000
#define EPERM 1
#define ENOENT 2
#define EINTR 4
#define EACCES 13
#define ECHILD 10
#define EAGAIN 11
#define EISDIR 21
#define ENOSYS 38
#define ENOTEMPTY 39
#define EBADFD 77
#define ENAMETOOLONG 36
#define ELOOP 40
#define EOPNOTSUPP 95
#define RLIMIT_CORE 4
#define RLIMIT_NPROC 6
#define RLIM_INFINITY (~0UL)
#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_PRIVATE 2
#define MAP_ANONYMOUS 0x20
#define MAP_NORESERVE 0x4000
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#define RENAME_NOREPLACE 1
#define DT_UNKNOWN 0
#define DT_DIR 4
#define SEEK_SET 0
#define SEEK_CUR 1
#define TIOCSCTTY 0x540E
/* linux/socket.h (not in the UAPI headers): a descriptor passed in a unix socket's message. */
#define SOL_SOCKET 1
#define SCM_RIGHTS 1
#define MSG_CMSG_CLOEXEC 0x40000000
#define EPIPE 32

#endif
