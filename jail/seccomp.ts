/**
 * The jail's seccomp policy: which syscalls a jailed program may not make, and the compiled
 * classic-BPF program that enforces it, as the bytes `bwrap --seccomp FD` reads.
 *
 * The policy is data ({@linkcode DENIED_SYSCALLS}, also printed by `ww run --explain`); the
 * compiler below is mechanical. Pure: it imports only `seccomp_bpf.ts`, never Deno or FFI. The
 * caller maps the host architecture to a {@linkcode SeccompArch}.
 *
 * What the program does, in order (seccomp(2), "Filter return values" and the arch caveats):
 * 1. `seccomp_data.arch` is not this arch's AUDIT_ARCH → SECCOMP_RET_KILL_PROCESS. Syscall numbers
 *    mean different things per ABI (i386 `int 0x80` on x86_64, for one), so a filter written for
 *    one table must not judge another.
 * 2. x86_64 only: a number >= 0x40000000 (__X32_SYSCALL_BIT) → EPERM. x32 syscalls report
 *    AUDIT_ARCH_X86_64 but carry that bit, so they would slip past every number below; numbers
 *    that high are otherwise invalid. EPERM rather than kill keeps a probing program alive.
 * 3. A number past {@linkcode NEWEST_SYSCALL} → ENOSYS, as on a kernel that lacks it. The policy is
 *    a denylist: a syscall added to Linux after it was written (statmount and listmount, say,
 *    which list the host's mounts) would otherwise be allowed before anyone judged it.
 * 4. A denied syscall → SECCOMP_RET_ERRNO with its entry's errno: mostly EPERM; ENOSYS where
 *    programs should fall back as on a kernel without the call (clone3, openat2, io_uring, kernel
 *    AIO's io_setup, and the native jail's SysV IPC, message queues, inotify and fanotify);
 *    EAFNOSUPPORT and EPROTONOSUPPORT for socket families and protocols, as on a kernel built
 *    without them. An entry with argument rules denies only when all of them hold; a syscall's
 *    entries are tried in order.
 * 5. Everything else → SECCOMP_RET_ALLOW.
 *
 * @module
 */

import { type AsmInsn, assemble, encode, NEXT } from "./seccomp_bpf.ts";

/** The architectures ww builds seccomp programs for (little-endian only). */
export type SeccompArch = "x86_64" | "aarch64";

/**
 * `AUDIT_ARCH_*` from linux/audit.h: EM_* machine | __AUDIT_ARCH_64BIT (0x80000000) |
 * __AUDIT_ARCH_LE (0x40000000). Big-endian aarch64 reports the value without the LE bit and is
 * therefore killed, which is right: the argument word offsets below assume little-endian.
 */
export const AUDIT_ARCH: Readonly<Record<SeccompArch, number>> = {
  x86_64: 0xc000003e, // EM_X86_64 = 62
  aarch64: 0xc00000b7, // EM_AARCH64 = 183
};

/**
 * Syscall numbers for every name the policy mentions, from arch/x86/entry/syscalls/syscall_64.tbl
 * and, for aarch64, the generic table (include/uapi/asm-generic/unistd.h, scripts/syscall.tbl).
 * A name missing from an arch does not exist there (iopl and ioperm are x86-only) and its
 * policy entry is skipped for that arch. `stime` is in neither table: x86_64 never had it and the
 * generic table dropped it, so it is not listed at all. Neither has the multiplexed `ipc` call
 * (i386, s390, ...): on x86_64 the i386 entry that has it is killed by the arch check.
 */
export const SYSCALL_NUMBERS: Readonly<Record<SeccompArch, Readonly<Record<string, number>>>> = {
  x86_64: {
    open: 2,
    ioctl: 16,
    shmget: 29,
    shmat: 30,
    shmctl: 31,
    socket: 41,
    connect: 42,
    bind: 49,
    socketpair: 53,
    clone: 56,
    semget: 64,
    semop: 65,
    semctl: 66,
    shmdt: 67,
    msgget: 68,
    msgsnd: 69,
    msgrcv: 70,
    msgctl: 71,
    creat: 85,
    chmod: 90,
    fchmod: 91,
    ptrace: 101,
    syslog: 103,
    mknod: 133,
    personality: 135,
    setpriority: 141,
    vhangup: 153,
    pivot_root: 155,
    adjtimex: 159,
    chroot: 161,
    acct: 163,
    settimeofday: 164,
    mount: 165,
    umount2: 166,
    swapon: 167,
    swapoff: 168,
    reboot: 169,
    iopl: 172,
    ioperm: 173,
    init_module: 175,
    delete_module: 176,
    quotactl: 179,
    io_setup: 206,
    lookup_dcookie: 212,
    semtimedop: 220,
    clock_settime: 227,
    mq_open: 240,
    mq_unlink: 241,
    mq_timedsend: 242,
    mq_timedreceive: 243,
    mq_notify: 244,
    mq_getsetattr: 245,
    kexec_load: 246,
    add_key: 248,
    request_key: 249,
    keyctl: 250,
    ioprio_set: 251,
    inotify_init: 253,
    inotify_add_watch: 254,
    inotify_rm_watch: 255,
    openat: 257,
    mknodat: 259,
    fchmodat: 268,
    unshare: 272,
    inotify_init1: 294,
    perf_event_open: 298,
    fanotify_init: 300,
    fanotify_mark: 301,
    prlimit64: 302,
    name_to_handle_at: 303,
    open_by_handle_at: 304,
    clock_adjtime: 305,
    setns: 308,
    process_vm_readv: 310,
    process_vm_writev: 311,
    finit_module: 313,
    kexec_file_load: 320,
    bpf: 321,
    userfaultfd: 323,
    io_uring_setup: 425,
    io_uring_enter: 426,
    io_uring_register: 427,
    open_tree: 428,
    move_mount: 429,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    clone3: 435,
    openat2: 437,
    pidfd_getfd: 438,
    mount_setattr: 442,
    quotactl_fd: 443,
    fchmodat2: 452,
    statmount: 457,
    listmount: 458,
    open_tree_attr: 467,
  },
  aarch64: {
    io_setup: 0,
    lookup_dcookie: 18,
    inotify_init1: 26,
    inotify_add_watch: 27,
    inotify_rm_watch: 28,
    ioctl: 29,
    ioprio_set: 30,
    mknodat: 33,
    umount2: 39,
    mount: 40,
    pivot_root: 41,
    chroot: 51,
    fchmod: 52,
    fchmodat: 53,
    openat: 56,
    vhangup: 58,
    quotactl: 60,
    acct: 89,
    personality: 92,
    unshare: 97,
    kexec_load: 104,
    init_module: 105,
    delete_module: 106,
    clock_settime: 112,
    syslog: 116,
    ptrace: 117,
    setpriority: 140,
    reboot: 142,
    settimeofday: 170,
    adjtimex: 171,
    mq_open: 180,
    mq_unlink: 181,
    mq_timedsend: 182,
    mq_timedreceive: 183,
    mq_notify: 184,
    mq_getsetattr: 185,
    msgget: 186,
    msgctl: 187,
    msgrcv: 188,
    msgsnd: 189,
    semget: 190,
    semctl: 191,
    semtimedop: 192,
    semop: 193,
    shmget: 194,
    shmctl: 195,
    shmat: 196,
    shmdt: 197,
    socket: 198,
    connect: 203,
    bind: 200,
    socketpair: 199,
    add_key: 217,
    request_key: 218,
    keyctl: 219,
    clone: 220,
    swapon: 224,
    swapoff: 225,
    perf_event_open: 241,
    prlimit64: 261,
    fanotify_init: 262,
    fanotify_mark: 263,
    name_to_handle_at: 264,
    open_by_handle_at: 265,
    clock_adjtime: 266,
    setns: 268,
    process_vm_readv: 270,
    process_vm_writev: 271,
    finit_module: 273,
    bpf: 280,
    userfaultfd: 282,
    kexec_file_load: 294,
    io_uring_setup: 425,
    io_uring_enter: 426,
    io_uring_register: 427,
    open_tree: 428,
    move_mount: 429,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    clone3: 435,
    openat2: 437,
    pidfd_getfd: 438,
    mount_setattr: 442,
    quotactl_fd: 443,
    fchmodat2: 452,
    statmount: 457,
    listmount: 458,
    open_tree_attr: 467,
  },
};

/**
 * The newest syscall this policy was written against, on both arches (the tables share numbers
 * from 424 on): file_setattr, Linux 6.17. Every number past it is denied (ENOSYS) until it has
 * been judged and this is raised.
 */
export const NEWEST_SYSCALL = 469;

/**
 * A condition on one syscall argument; the syscall is denied only when it holds. Only the low 32
 * bits of the argument are compared, because that is all the kernel looks at for every argument
 * used here: ioctl's `cmd` and personality's argument are `unsigned int`, and clone() takes
 * `lower_32_bits(clone_flags)` (kernel/fork.c). Comparing 64 bits would let junk in the high
 * word slip a request past the filter.
 */
export type ArgRule =
  /** Denied when any of these bits is set. */
  | { readonly arg: number; readonly anyBitOf: number }
  /** Denied when the value is one of these. */
  | { readonly arg: number; readonly oneOf: readonly number[] }
  /** Denied unless the value is one of these. */
  | { readonly arg: number; readonly noneOf: readonly number[] };

/** The errors a denied syscall returns; x86_64 and aarch64 share their numbers. */
export type DeniedErrno = "EPERM" | "EACCES" | "ENOSYS" | "EAFNOSUPPORT" | "EPROTONOSUPPORT";

/**
 * One denylist entry; `reason` is the single line `ww run --explain` prints. A syscall may have
 * several conditional entries, checked in order (the first that holds decides the errno); an
 * unconditional entry is the only one for its syscall.
 */
export interface DeniedSyscall {
  readonly name: string;
  readonly errno: DeniedErrno;
  readonly reason: string;
  /** Absent: always denied. Several rules: denied when all of them hold. */
  readonly when?: ArgRule | readonly ArgRule[];
}

/** The rules of an entry's condition, all of which must hold (none: always denied). */
export function entryRules(entry: DeniedSyscall): readonly ArgRule[] {
  return entry.when === undefined ? [] : "arg" in entry.when ? [entry.when] : entry.when;
}

// linux/sched.h. CLONE_NEWTIME (0x80) overlaps CSIGNAL, the exit-signal byte of clone(); the
// kernel cannot see it there, but no valid signal number has bit 7 set, so masking it costs
// nothing and keeps the list identical to unshare(2)'s.
const CLONE_NAMESPACE_FLAGS = 0x00020000 | // CLONE_NEWNS
  0x02000000 | // CLONE_NEWCGROUP
  0x04000000 | // CLONE_NEWUTS
  0x08000000 | // CLONE_NEWIPC
  0x10000000 | // CLONE_NEWUSER
  0x20000000 | // CLONE_NEWPID
  0x40000000 | // CLONE_NEWNET
  0x00000080; // CLONE_NEWTIME

// linux/socket.h and netinet/in.h (linux/in.h for IPPROTO_MPTCP); linux/net.h for the type.
const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;
// linux/netlink.h: the protocol of glibc's getifaddrs and if_nameindex.
const NETLINK_ROUTE = 0;
const AF_VSOCK = 40;
const IPPROTO_SCTP = 132;
const IPPROTO_MPTCP = 262;
const SOCK_STREAM = 1;
const SOCK_SEQPACKET = 5;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;

// asm-generic/ioctls.h, shared by x86_64 and aarch64.
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;
const TIOCSETD = 0x5423;

// linux/personality.h: the personas Docker's default profile also allows, plus the query value.
const PER_LINUX = 0x0000;
const PER_LINUX32 = 0x0008;
const UNAME26 = 0x0020000;
const PERSONALITY_QUERY = 0xffffffff;

// sys/stat.h: the mode bits that make a file run as its owner or group.
const S_ISUID_ISGID = 0o6000;
// asm-generic/fcntl.h: the open flags with which the kernel reads the mode argument. __O_TMPFILE
// is O_TMPFILE without O_DIRECTORY, whose value differs between x86_64 and aarch64.
const O_CREAT = 0o100;
const O_TMPFILE_BIT = 0o20000000;

/** Denied when a call would give a file the setuid or setgid bit. */
function setsMode(modeArg: number): ArgRule {
  return { arg: modeArg, anyBitOf: S_ISUID_ISGID };
}
const SUID_REASON = "only setuid/setgid bits: the file would run as the jail's id for anyone";

/**
 * The denylist. Conditional entries come first so the syscalls that must run the argument check
 * (openat, ioctl and clone are frequent) are matched after the fewest comparisons; for all other
 * syscalls the verdict depends only on the number, which lets the kernel's seccomp action cache
 * (kernel/seccomp.c, Linux 5.11+) skip the filter for them entirely.
 */
export const DENIED_SYSCALLS: readonly DeniedSyscall[] = [
  {
    name: "openat",
    errno: "EPERM",
    when: [{ arg: 2, anyBitOf: O_CREAT | O_TMPFILE_BIT }, setsMode(3)],
    reason: SUID_REASON,
  },
  {
    name: "open",
    errno: "EPERM",
    when: [{ arg: 1, anyBitOf: O_CREAT | O_TMPFILE_BIT }, setsMode(2)],
    reason: SUID_REASON,
  },
  {
    name: "ioctl",
    errno: "EPERM",
    when: { arg: 1, oneOf: [TIOCSTI, TIOCLINUX, TIOCSETD] },
    // TIOCSETD: N_NULL on the caller's terminal made it deaf; other disciplines load n_gsm or
    // n_hdlc, modules with a history of kernel bugs.
    reason: "only TIOCSTI/TIOCLINUX/TIOCSETD: keystrokes into, control or line discipline of a tty",
  },
  {
    name: "clone",
    errno: "EPERM",
    when: { arg: 0, anyBitOf: CLONE_NAMESPACE_FLAGS },
    reason: "only with CLONE_NEW* flags: new namespaces are unshare by another name",
  },
  {
    name: "personality",
    errno: "EPERM",
    when: {
      arg: 0,
      noneOf: [PER_LINUX, PER_LINUX32, UNAME26, PER_LINUX32 | UNAME26, PERSONALITY_QUERY],
    },
    reason: "except plain personas and queries: ADDR_NO_RANDOMIZE etc. weaken mitigations",
  },
  { name: "fchmodat", errno: "EPERM", when: setsMode(2), reason: SUID_REASON },
  { name: "fchmod", errno: "EPERM", when: setsMode(1), reason: SUID_REASON },
  { name: "chmod", errno: "EPERM", when: setsMode(1), reason: SUID_REASON },
  { name: "fchmodat2", errno: "EPERM", when: setsMode(2), reason: SUID_REASON },
  { name: "creat", errno: "EPERM", when: setsMode(1), reason: SUID_REASON },
  { name: "mknodat", errno: "EPERM", when: setsMode(2), reason: SUID_REASON },
  { name: "mknod", errno: "EPERM", when: setsMode(1), reason: SUID_REASON },
  {
    name: "socket",
    errno: "EAFNOSUPPORT",
    when: { arg: 0, oneOf: [AF_VSOCK] },
    reason: "AF_VSOCK: the host's and hypervisor's vsock ports, which no namespace separates",
  },
  {
    name: "openat2",
    errno: "ENOSYS",
    // Its flags and mode sit in a struct in memory, as clone3's do.
    reason: "flags and mode are in memory BPF cannot read; ENOSYS makes callers use openat",
  },
  ...["io_uring_setup", "io_uring_enter", "io_uring_register"].map((name): DeniedSyscall => ({
    name,
    errno: "ENOSYS",
    reason: "io_uring opens files and sockets where this filter cannot see them",
  })),
  {
    name: "io_setup",
    errno: "ENOSYS",
    // fs/aio.c: every context reserves its events from fs.aio-max-nr, which nothing divides per
    // user or namespace. ENOSYS, as on a kernel built without CONFIG_AIO: glibc's POSIX AIO uses
    // threads, and libaio's users fall back; io_submit and the rest need a context.
    reason: "AIO contexts come from one pool for the whole machine (fs.aio-max-nr)",
  },
  {
    name: "clone3",
    errno: "ENOSYS",
    // seccomp(2): BPF cannot dereference pointers, and clone3's flags sit in a struct in memory.
    reason: "flags are in memory BPF cannot read; ENOSYS makes glibc fall back to clone",
  },
  { name: "ptrace", errno: "EPERM", reason: "reads and rewrites other processes" },
  { name: "process_vm_readv", errno: "EPERM", reason: "reads another process's memory" },
  { name: "process_vm_writev", errno: "EPERM", reason: "writes another process's memory" },
  { name: "pidfd_getfd", errno: "EPERM", reason: "steals a file descriptor from another process" },
  { name: "mount", errno: "EPERM", reason: "changes the jail's filesystem view" },
  { name: "umount2", errno: "EPERM", reason: "can uncover what the jail's mounts hide" },
  { name: "pivot_root", errno: "EPERM", reason: "replaces the jail's root filesystem" },
  { name: "move_mount", errno: "EPERM", reason: "mount API: attaches or moves a mount" },
  { name: "open_tree", errno: "EPERM", reason: "mount API: clones a mount tree" },
  { name: "open_tree_attr", errno: "EPERM", reason: "mount API: clones a tree with new attrs" },
  { name: "fsopen", errno: "EPERM", reason: "mount API: starts creating a filesystem" },
  { name: "fsconfig", errno: "EPERM", reason: "mount API: configures a filesystem" },
  { name: "fsmount", errno: "EPERM", reason: "mount API: turns a filesystem into a mount" },
  { name: "fspick", errno: "EPERM", reason: "mount API: reconfigures an existing mount" },
  { name: "mount_setattr", errno: "EPERM", reason: "mount API: changes mount flags" },
  { name: "unshare", errno: "EPERM", reason: "new namespaces widen the kernel attack surface" },
  { name: "setns", errno: "EPERM", reason: "joins another, possibly outer, namespace" },
  { name: "keyctl", errno: "EPERM", reason: "kernel keyrings are not namespaced" },
  { name: "add_key", errno: "EPERM", reason: "kernel keyrings are not namespaced" },
  { name: "request_key", errno: "EPERM", reason: "kernel keyrings are not namespaced" },
  { name: "bpf", errno: "EPERM", reason: "loads eBPF into the kernel" },
  { name: "perf_event_open", errno: "EPERM", reason: "large attack surface, observes others" },
  // EPERM is the kernel's own answer under kernel.dmesg_restrict=1; at 0 (the kernel's default)
  // any user reads the log, which no namespace makes the jail's own.
  { name: "syslog", errno: "EPERM", reason: "reads the host's kernel log (dmesg)" },
  { name: "kexec_load", errno: "EPERM", reason: "boots another kernel" },
  { name: "kexec_file_load", errno: "EPERM", reason: "boots another kernel" },
  { name: "init_module", errno: "EPERM", reason: "loads a kernel module" },
  { name: "finit_module", errno: "EPERM", reason: "loads a kernel module" },
  { name: "delete_module", errno: "EPERM", reason: "unloads a kernel module" },
  { name: "reboot", errno: "EPERM", reason: "reboots or halts the machine" },
  { name: "swapon", errno: "EPERM", reason: "changes the host's swap" },
  { name: "swapoff", errno: "EPERM", reason: "changes the host's swap" },
  { name: "userfaultfd", errno: "EPERM", reason: "stalls kernel page faults, an exploit aid" },
  { name: "open_by_handle_at", errno: "EPERM", reason: "opens files around the mount namespace" },
  { name: "name_to_handle_at", errno: "EPERM", reason: "makes handles for open_by_handle_at" },
  { name: "acct", errno: "EPERM", reason: "switches host-wide process accounting" },
  { name: "quotactl", errno: "EPERM", reason: "changes host filesystem quotas" },
  { name: "quotactl_fd", errno: "EPERM", reason: "changes host filesystem quotas" },
  { name: "settimeofday", errno: "EPERM", reason: "sets the host clock" },
  { name: "clock_settime", errno: "EPERM", reason: "sets the host clock" },
  { name: "clock_adjtime", errno: "EPERM", reason: "adjusts the host clock" },
  { name: "adjtimex", errno: "EPERM", reason: "adjusts the host clock" },
  { name: "chroot", errno: "EPERM", reason: "changes the root directory" },
  { name: "lookup_dcookie", errno: "EPERM", reason: "obsolete profiling call exposing paths" },
  { name: "vhangup", errno: "EPERM", reason: "hangs up the controlling terminal" },
  { name: "iopl", errno: "EPERM", reason: "grants raw I/O port access" },
  { name: "ioperm", errno: "EPERM", reason: "grants raw I/O port access" },
];

/**
 * What the native jail denies on top of DENIED_SYSCALLS: kernel objects that bwrap's
 * namespaces make private and the native jail, which has none, would share with the host. SysV
 * IPC and POSIX message queues live in the IPC namespace: a native jail could attach to a host
 * segment (mode 0666) and leave segments behind that outlive it and count against no limit of
 * its own. inotify and fanotify watch any inode the jail can look up, and Landlock checks no
 * watch: a jail that may not list /tmp learns the names of files others open there. ENOSYS, as
 * on a kernel built without them, lets programs fall back (tail -f polls, glib's file monitor
 * polls, a program that needs shared memory says SysV IPC is missing). statmount and listmount
 * read the host's mount table, which the jail's Landlock rules hide from /proc: ENOSYS, so that
 * libmount falls back to those files. Setting another process's limits, or the priority of a
 * whole user or process group, is refused: the jail's uid may be a host process's too.
 */
// sys/resource.h and linux/ioprio.h: the "which" that names every process of a process group, and
// of a user.
const PRIO_PGRP = 1;
const PRIO_USER = 2;
const IOPRIO_WHO_PGRP = 2;
const IOPRIO_WHO_USER = 3;
const OTHERS_REASON =
  "another process's limits: the jail's uid may run outside it, or be its supervisor's";
const USER_REASON = "every process of a user: the jail's uid may have some outside it";
const GROUP_REASON = "every process of another group: a host one's (getpgid names any)";

export const NATIVE_DENIED_SYSCALLS: readonly DeniedSyscall[] = [
  ...[
    "shmget",
    "shmat",
    "shmdt",
    "shmctl",
    "semget",
    "semop",
    "semtimedop",
    "semctl",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
  ].map((name): DeniedSyscall => ({
    name,
    errno: "ENOSYS",
    reason: "SysV IPC is the host's without an IPC namespace, and outlives the jail",
  })),
  ...[
    "mq_open",
    "mq_unlink",
    "mq_timedsend",
    "mq_timedreceive",
    "mq_notify",
    "mq_getsetattr",
  ].map((name): DeniedSyscall => ({
    name,
    errno: "ENOSYS",
    reason: "POSIX message queues are the host's without an IPC namespace",
  })),
  ...["inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch"].map((
    name,
  ): DeniedSyscall => ({
    name,
    errno: "ENOSYS",
    reason: "watches see past Landlock: names of files others use in any directory",
  })),
  ...["statmount", "listmount"].map((name): DeniedSyscall => ({
    name,
    errno: "ENOSYS",
    reason: "the host's mount table (sources, options), without a mount namespace of its own",
  })),
  ...["fanotify_init", "fanotify_mark"].map((name): DeniedSyscall => ({
    name,
    errno: "ENOSYS",
    reason: "watches see past Landlock: files others use anywhere on a mount",
  })),
  // A process of the jail's uid outside the jail (ww not root, or --uid of an account), and the
  // jail's supervisor when ww is not root, are the jail's to lower the limits of: Landlock scopes
  // signals, not prlimit, and there is no pid namespace to hide them (a supervisor whose file limit
  // went to 0 could not end the jail). So prlimit names the caller only (pid 0: glibc's
  // setrlimit), and setpriority and ioprio_set never a whole user or process group (a host pid's
  // group is getpgid's answer, the supervisor's and ww's included). Naming another process or
  // thread for priority or CPUs stays allowed: libraries name their own threads by tid
  // (pthread_setaffinity_np, pthread_setschedparam), which a filter cannot tell from another's.
  { name: "prlimit64", errno: "EPERM", when: { arg: 0, noneOf: [0] }, reason: OTHERS_REASON },
  {
    name: "setpriority",
    errno: "EPERM",
    when: { arg: 0, oneOf: [PRIO_USER] },
    reason: USER_REASON,
  },
  // Who 0 is the caller's own process group, which the jail's new session holds: allowed.
  {
    name: "setpriority",
    errno: "EPERM",
    when: [{ arg: 0, oneOf: [PRIO_PGRP] }, { arg: 1, noneOf: [0] }],
    reason: GROUP_REASON,
  },
  {
    name: "ioprio_set",
    errno: "EPERM",
    when: { arg: 0, oneOf: [IOPRIO_WHO_USER] },
    reason: USER_REASON,
  },
  {
    name: "ioprio_set",
    errno: "EPERM",
    when: [{ arg: 0, oneOf: [IOPRIO_WHO_PGRP] }, { arg: 1, noneOf: [0] }],
    reason: GROUP_REASON,
  },
  {
    name: "socket",
    errno: "EAFNOSUPPORT",
    when: { arg: 0, noneOf: [AF_UNIX, AF_INET, AF_INET6, AF_NETLINK] },
    reason: "families but unix, IP and netlink: the host's, in a jail without a network namespace",
  },
  {
    name: "socket",
    errno: "EPROTONOSUPPORT",
    when: { arg: 2, oneOf: [IPPROTO_MPTCP, IPPROTO_SCTP] },
    reason: "MPTCP and SCTP: connections Landlock's TCP rights do not cover",
  },
  {
    name: "socket",
    errno: "EPROTONOSUPPORT",
    when: [
      { arg: 0, oneOf: [AF_INET, AF_INET6] },
      {
        arg: 1,
        oneOf: [0, SOCK_NONBLOCK, SOCK_CLOEXEC, SOCK_NONBLOCK | SOCK_CLOEXEC].map((f) =>
          SOCK_SEQPACKET | f
        ),
      },
    ],
    reason: "IP SOCK_SEQPACKET: SCTP by its default protocol",
  },
];

/**
 * What a native jail without `--net` denies beyond NATIVE_DENIED_SYSCALLS: unix sockets of its
 * own, and connecting any socket. Landlock checks no connect to a unix socket by path, and there
 * is no mount namespace to hide one: a native jail reached the caller's ssh-agent, and the user's
 * D-Bus, whose systemd starts any command outside the jail; and so did an unconnected unix socket
 * the caller granted (--with-fd), and a datagram one from socketpair(2), which sendto addresses to
 * any path. Sockets ww grants (--listen, --connect) come connected or listening, and stream and
 * seqpacket pairs stay (their sends take no address); a jail without --net has no peer of its
 * own to connect to (Landlock denies every TCP connect already).
 */
export const NO_UNIX_DENIED_SYSCALLS: readonly DeniedSyscall[] = [
  {
    name: "socket",
    errno: "EACCES",
    when: { arg: 0, oneOf: [AF_UNIX] },
    reason: "unix sockets: Landlock does not check a connect by path (agents, buses), not granted",
  },
  {
    name: "connect",
    errno: "EACCES",
    reason:
      "a granted socket connected anew: to any host unix socket by path, unchecked by Landlock",
  },
  {
    name: "socketpair",
    errno: "EACCES",
    when: {
      arg: 1,
      noneOf: [SOCK_STREAM, SOCK_SEQPACKET].flatMap((type) =>
        [0, SOCK_NONBLOCK, SOCK_CLOEXEC, SOCK_NONBLOCK | SOCK_CLOEXEC].map((f) => type | f)
      ),
    },
    reason:
      "unix datagram pairs: sendto reaches any host unix socket by path, unchecked by Landlock",
  },
];

/**
 * What a native jail without `--net` denies of netlink beyond NO_UNIX_DENIED_SYSCALLS: every
 * protocol but NETLINK_ROUTE (glibc's getifaddrs). On the host's network (ww not root),
 * NETLINK_USERSOCK was a datagram channel to host processes and other jails, to any port id,
 * and NETLINK_SOCK_DIAG listed every TCP and unix socket of the host; and a network namespace of
 * the jail's own, which the initial user namespace owns, still heard the host's device events
 * (NETLINK_KOBJECT_UEVENT).
 */
export const NO_NETLINK_DENIED_SYSCALLS: readonly DeniedSyscall[] = [
  {
    name: "socket",
    errno: "EACCES",
    when: [{ arg: 0, oneOf: [AF_NETLINK] }, { arg: 2, noneOf: [NETLINK_ROUTE] }],
    reason: "netlink but route: a channel to host processes, their sockets, device events",
  },
];

/**
 * What a native jail with neither `--net` nor a network namespace of its own (ww not root) denies
 * beyond NO_UNIX_DENIED_SYSCALLS: IP sockets. Landlock's TCP rights see bind and connect only, so
 * such a jail sent UDP to any host and took connections from the network through a listen() on a
 * socket it never bound. Without --net it may not use the network at all (Landlock already denies
 * every TCP bind and connect, loopback included), so it opens no IP socket: EACCES, as Landlock
 * says it. Sockets ww grants (--listen, --connect) are made by ww and stay usable.
 */
export const NO_IP_DENIED_SYSCALLS: readonly DeniedSyscall[] = [
  {
    name: "socket",
    errno: "EACCES",
    when: { arg: 0, oneOf: [AF_INET, AF_INET6] },
    reason:
      "IP sockets: the host's network, not granted (--net), in a jail without a network namespace",
  },
];

// sizeof(sa_family_t), a unix socket's autobind (a name the kernel picks), and sizeof(struct
// sockaddr_nl), the netlink address glibc's getifaddrs and if_nameindex bind.
const AUTOBIND_ADDRESS_LENGTH = 2;
const NETLINK_ADDRESS_LENGTH = 12;

/**
 * What a native jail on the host's network (ww not root, no --net) denies beyond
 * NO_IP_DENIED_SYSCALLS: a name of its choosing for a socket. Abstract unix names live in a
 * network namespace, here the host's: a stream socketpair's end, bound to one, took it before the
 * host service that owns it (X11's, D-Bus's) started, and served the host clients that connected
 * there. bind sees no address family, only the address's length: what stays open is an autobind
 * and a netlink address's length, which also fits an abstract name of at most 9 bytes.
 */
export const HOST_NETWORK_DENIED_SYSCALLS: readonly DeniedSyscall[] = [
  {
    name: "bind",
    errno: "EACCES",
    when: { arg: 2, noneOf: [AUTOBIND_ADDRESS_LENGTH, NETLINK_ADDRESS_LENGTH] },
    reason: "a name in the host's abstract unix namespace (a service's), or a host port",
  },
];

/**
 * The jail a seccomp program is for: the native jail denies NATIVE_DENIED_SYSCALLS too; without
 * --net, "native-netns" (a network namespace of its own) NO_UNIX_DENIED_SYSCALLS and
 * NO_NETLINK_DENIED_SYSCALLS as well, and "native-offline" (on the host's network) those,
 * NO_IP_DENIED_SYSCALLS and HOST_NETWORK_DENIED_SYSCALLS.
 */
export type SeccompJail = "bwrap" | "native" | "native-netns" | "native-offline";

/** Every syscall the program for `jail` denies, in the order it checks them. */
export function deniedSyscalls(jail: SeccompJail): readonly DeniedSyscall[] {
  if (jail === "bwrap") return DENIED_SYSCALLS;
  const native = [...DENIED_SYSCALLS, ...NATIVE_DENIED_SYSCALLS];
  if (jail === "native") return native;
  const offline = [...native, ...NO_UNIX_DENIED_SYSCALLS, ...NO_NETLINK_DENIED_SYSCALLS];
  return jail === "native-netns"
    ? offline
    : [...offline, ...NO_IP_DENIED_SYSCALLS, ...HOST_NETWORK_DENIED_SYSCALLS];
}

// Return values from linux/seccomp.h.
const SECCOMP_RET_KILL_PROCESS = 0x80000000;
const SECCOMP_RET_ERRNO = 0x00050000;
const SECCOMP_RET_ALLOW = 0x7fff0000;
// asm-generic/errno-base.h and errno.h; x86_64 and aarch64 share these numbers.
const ERRNO: Readonly<Record<DeniedErrno, number>> = {
  EPERM: 1,
  EACCES: 13,
  ENOSYS: 38,
  EPROTONOSUPPORT: 93,
  EAFNOSUPPORT: 97,
};

// struct seccomp_data offsets (linux/seccomp.h); args are u64 in host order, so on these
// little-endian arches the low 32 bits of args[i] are at 16 + 8*i.
const NR_OFFSET = 0;
const ARCH_OFFSET = 4;
const argLowOffset = (arg: number) => 16 + 8 * arg;

const X32_SYSCALL_BIT = 0x40000000; // arch/x86/include/uapi/asm/unistd.h

/**
 * Compiles the policy of `jail` for `arch` into a raw `struct sock_filter` array (8 bytes per
 * instruction, little-endian), ready to hand to `bwrap --seccomp FD` or to
 * `seccomp(SECCOMP_SET_MODE_FILTER)` after `prctl(PR_SET_NO_NEW_PRIVS)`. The result is the
 * same for the same arch on every call.
 *
 * @example
 * ```ts
 * import { seccompProgram } from "./seccomp.ts";
 * const bytes = seccompProgram("x86_64");
 * console.log(bytes.length / 8, "instructions");
 * ```
 */
export function seccompProgram(arch: SeccompArch, jail: SeccompJail = "bwrap"): Uint8Array {
  const numbers = SYSCALL_NUMBERS[arch];
  if (numbers === undefined) {
    throw new Error(`seccomp: unsupported arch "${arch}" (expected x86_64 or aarch64)`);
  }
  // The entries of each syscall, in the order of its first entry.
  const groups = new Map<string, DeniedSyscall[]>();
  for (const entry of deniedSyscalls(jail)) {
    if (numbers[entry.name] === undefined) continue;
    const group = groups.get(entry.name) ?? [];
    group.push(entry);
    groups.set(entry.name, group);
  }
  const check = (name: string, i: number) => `check ${name} ${i}`;

  const asm: AsmInsn[] = [
    { op: "ld", offset: ARCH_OFFSET },
    { op: "jeq", k: AUDIT_ARCH[arch], jt: NEXT, jf: "kill" },
    { op: "ld", offset: NR_OFFSET },
  ];
  if (arch === "x86_64") asm.push({ op: "jge", k: X32_SYSCALL_BIT, jt: "EPERM", jf: NEXT });
  asm.push({ op: "jgt", k: NEWEST_SYSCALL, jt: "ENOSYS", jf: NEXT });
  for (const [name, [first, ...more]] of groups) {
    const always = entryRules(first).length === 0;
    if (always && more.length > 0) {
      throw new Error(`seccomp: ${name} is always denied, and has conditional entries too`);
    }
    asm.push({ op: "jeq", k: numbers[name], jt: always ? first.errno : check(name, 0), jf: NEXT });
  }
  asm.push({ op: "ret", k: SECCOMP_RET_ALLOW });

  // An entry that does not hold goes on to the syscall's next one; after its last, allowed.
  for (const [name, entries] of groups) {
    if (entryRules(entries[0]).length === 0) continue;
    entries.forEach((entry, i) => {
      const miss = i === entries.length - 1 ? "allow" : check(name, i + 1);
      asm.push(
        { op: "label", name: check(name, i) },
        ...argChecks(entryRules(entry), entry.errno, miss, check(name, i)),
      );
    });
  }

  asm.push({ op: "label", name: "allow" }, { op: "ret", k: SECCOMP_RET_ALLOW });
  for (const errno of Object.keys(ERRNO) as DeniedErrno[]) {
    asm.push({ op: "label", name: errno }, { op: "ret", k: SECCOMP_RET_ERRNO | ERRNO[errno] });
  }
  asm.push({ op: "label", name: "kill" }, { op: "ret", k: SECCOMP_RET_KILL_PROCESS });
  return encode(assemble(asm));
}

// Jumps to `deny` when every rule holds, else to `miss`; `at` names the labels between rules.
function argChecks(rules: readonly ArgRule[], deny: string, miss: string, at: string): AsmInsn[] {
  return rules.flatMap((rule, i) => {
    const hit = i === rules.length - 1 ? deny : `${at} and ${i + 1}`;
    return [
      ...(i > 0 ? [{ op: "label", name: `${at} and ${i}` } as const] : []),
      ...argCheck(rule, hit, miss),
    ];
  });
}

// Loads the low word of the argument and jumps to `hit` when the rule holds, else to `miss`.
function argCheck(rule: ArgRule, hit: string, miss: string): AsmInsn[] {
  if (!Number.isInteger(rule.arg) || rule.arg < 0 || rule.arg > 5) {
    throw new Error(`seccomp: argument index ${rule.arg} is outside 0..5`);
  }
  const load: AsmInsn = { op: "ld", offset: argLowOffset(rule.arg) };
  if ("anyBitOf" in rule) {
    return [load, { op: "jset", k: rule.anyBitOf, jt: hit, jf: miss }];
  }
  const [values, match, noMatch] = "oneOf" in rule
    ? [rule.oneOf, hit, miss]
    : [rule.noneOf, miss, hit];
  if (values.length === 0) throw new Error("seccomp: an argument rule needs at least one value");
  return [
    load,
    ...values.map((k, i): AsmInsn => ({
      op: "jeq",
      k,
      jt: match,
      jf: i === values.length - 1 ? noMatch : NEXT,
    })),
  ];
}
