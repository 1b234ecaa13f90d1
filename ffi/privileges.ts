// ffi/privileges.ts — what the native jail's stage does to its own process right before execve:
// give up privileges and identity, set no_new_privs and the death signal, install a seccomp
// filter, hide its own descriptors and signal dispositions from the program, and execute it.
//
// Capabilities, no_new_privs, the death signal, the signal mask and seccomp filters (without
// TSYNC) belong to the calling thread; the stage calls all of this from Deno's main thread, and
// execve from that thread ends every other thread, so the program inherits exactly this thread's
// state (see run/native_stage.ts).

import type { IdentityPlan } from "../jail/native.ts";
import { check, cString, cStringArray, libc, libcStage, ptr } from "./libc.ts";

const PR_SET_PDEATHSIG = 1;
const PR_SET_SECCOMP = 22;
const PR_CAPBSET_DROP = 24;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_CLEAR_ALL = 4n;
const SECCOMP_MODE_FILTER = 2n;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;
const CLOSE_RANGE_CLOEXEC = 1 << 2;
const F_SETFD = 2;
const AT_EMPTY_PATH = 0x1000;
const SIG_SETMASK = 2;
// glibc's sigset_t is 128 bytes.
const SIGSET_SIZE = 128;

/**
 * Takes the identity in `plan` and drops every capability: the bounding set first (that needs
 * CAP_SETPCAP), the ambient set, the supplementary groups, then gid before uid (changing the gid
 * needs CAP_SETGID, which the uid change takes away), and last capset(2) clears the effective,
 * permitted and inheritable sets (a uid change from 0 clears only the first two).
 */
export function changeIdentity(plan: IdentityPlan): void {
  const c = libcStage();
  if (plan.dropBoundingUpTo !== null) {
    for (let cap = 0; cap <= plan.dropBoundingUpTo; cap++) {
      check("prctl", c.prctl(PR_CAPBSET_DROP, BigInt(cap), 0n, 0n, 0n), `PR_CAPBSET_DROP ${cap}`);
    }
  }
  check(
    "prctl",
    c.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0n, 0n, 0n),
    "PR_CAP_AMBIENT_CLEAR_ALL",
  );
  if (plan.clearGroups) check("setgroups", c.setgroups(0n, null));
  check("setresgid", c.setresgid(plan.gid, plan.gid, plan.gid), `gid ${plan.gid}`);
  check("setresuid", c.setresuid(plan.uid, plan.uid, plan.uid), `uid ${plan.uid}`);
  const header = new Uint32Array([LINUX_CAPABILITY_VERSION_3, 0]);
  const data = new Uint32Array(6); // two struct __user_cap_data_struct, all zero
  check("capset", c.capset(header, data));
}

const RLIM_INFINITY = 0xffffffffffffffffn;

/**
 * Raises the hard limit of `resource` to `value` (undefined: unlimited) when it is lower, and
 * leaves the soft limit alone. Raising needs CAP_SYS_RESOURCE, so the stage does it before giving
 * up privileges; the limit itself is set last, so that it does not bind the stage's own runtime.
 */
export function raiseHardLimit(resource: number, value: number | undefined): void {
  const c = libc();
  const old = new BigUint64Array(2);
  check("prlimit", c.prlimit(0, resource, null, ptr(old)), `resource ${resource}`);
  const wanted = value === undefined ? RLIM_INFINITY : BigInt(value);
  if (wanted <= old[1]) return;
  const raised = new BigUint64Array([old[0], wanted]);
  check("prlimit", c.prlimit(0, resource, ptr(raised), null), `resource ${resource}`);
}

/** PR_SET_NO_NEW_PRIVS: execve can never grant privileges again (setuid, file capabilities). */
export function setNoNewPrivs(): void {
  check("prctl", libcStage().prctl(PR_SET_NO_NEW_PRIVS, 1n, 0n, 0n, 0n), "PR_SET_NO_NEW_PRIVS");
}

/**
 * PR_SET_PDEATHSIG: `signal` is sent when the thread that created this process ends. Must come
 * after any uid change, which clears it (prctl(2)); returns the parent's pid as of now, so the
 * caller can tell whether the parent died before the signal was armed.
 */
export function setDeathSignal(signal: number): number {
  const c = libcStage();
  check("prctl", c.prctl(PR_SET_PDEATHSIG, BigInt(signal), 0n, 0n, 0n), "PR_SET_PDEATHSIG");
  return c.getppid();
}

/** Installs a classic-BPF seccomp filter (the bytes of a struct sock_filter array). */
export function installSeccompFilter(program: Uint8Array): void {
  const filter = new Uint8Array(program); // owned copy: its address goes into sock_fprog
  const fprog = new Uint8Array(16); // struct sock_fprog: u16 len, padding, pointer
  const view = new DataView(fprog.buffer);
  view.setUint16(0, filter.length / 8, true);
  view.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(filter))), true);
  check("prctl", libcStage().prctl_pointer(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, fprog, 0n, 0n));
}

/**
 * Marks every descriptor from `first` up close-on-exec (close_range(2)), so the runtime's own
 * descriptors keep working until execve but none of them reaches the program.
 */
export function closeOnExecFrom(first: number): void {
  check("close_range", libcStage().close_range(first, 0xffffffff, CLOSE_RANGE_CLOEXEC));
}

/**
 * Resets every signal to its default action and empties the signal mask. execve keeps ignored
 * signals ignored and the mask as it is, and Deno ignores SIGPIPE; the program must start clean.
 */
export function resetSignals(): void {
  const c = libcStage();
  for (let sig = 1; sig <= 64; sig++) {
    // SIGKILL, SIGSTOP and glibc's internal signals (32, 33) refuse; that is expected.
    c.signal(sig, null);
  }
  const empty = new Uint8Array(SIGSET_SIZE);
  check("sigemptyset", libc().sigemptyset(ptr(empty)));
  check("sigprocmask", c.sigprocmask(SIG_SETMASK, empty, null));
}

/**
 * execveat(fd, "", argv, env, AT_EMPTY_PATH): executes the file behind `fd`, so what runs is that
 * file whatever its path now holds. `keepOpen` clears close-on-exec first: a `#!` script's
 * interpreter opens the script as /dev/fd/<fd> (for a close-on-exec descriptor the kernel fails
 * a script with ENOENT). Returns only by throwing SyscallError("execveat", errno); `name` is for
 * the message.
 */
export function execveatFd(
  fd: number,
  keepOpen: boolean,
  argv: readonly string[],
  env: readonly string[],
  name: string,
): never {
  if (keepOpen) check("fcntl", libc().fcntl(fd, F_SETFD, 0), `F_SETFD on fd ${fd}`);
  const args = cStringArray(argv);
  const envp = cStringArray(env);
  check(
    "execveat",
    libcStage().execveat(fd, cString(""), args.array, envp.array, AT_EMPTY_PATH),
    `fd ${fd}, ${name}`,
  );
  throw new Error("execveat returned without an error");
}

/** execve(2). Returns only by throwing SyscallError("execve", errno). */
export function execve(path: string, argv: readonly string[], env: readonly string[]): never {
  const file = cString(path);
  const args = cStringArray(argv);
  const envp = cStringArray(env);
  check("execve", libcStage().execve(file, args.array, envp.array), path);
  throw new Error("execve returned without an error");
}
