import assert from "node:assert/strict";
import {
  AUDIT_ARCH,
  DENIED_SYSCALLS,
  type DeniedSyscall,
  deniedSyscalls,
  NATIVE_DENIED_SYSCALLS,
  type SeccompArch,
  type SeccompJail,
  seccompProgram,
  SYSCALL_NUMBERS,
} from "./seccomp.ts";
import { BPF_MAXINSNS, decode } from "./seccomp_bpf.ts";
import { checkSeccompFilter, runSeccompFilter, seccompData } from "./bpf_model.ts";

// Expected values are written out here from the kernel headers rather than imported, so a wrong
// constant in seccomp.ts cannot agree with itself.
const RET_ALLOW = 0x7fff0000; // linux/seccomp.h SECCOMP_RET_ALLOW
const RET_KILL_PROCESS = 0x80000000; // SECCOMP_RET_KILL_PROCESS
const RET_EPERM = 0x00050000 | 1; // SECCOMP_RET_ERRNO | EPERM
const RET_EACCES = 0x00050000 | 13;
const RET_ENOSYS = 0x00050000 | 38; // SECCOMP_RET_ERRNO | ENOSYS
const RET_EPROTONOSUPPORT = 0x00050000 | 93;
const RET_EAFNOSUPPORT = 0x00050000 | 97;
const RET_ERRNO = {
  EPERM: RET_EPERM,
  EACCES: RET_EACCES,
  ENOSYS: RET_ENOSYS,
  EPROTONOSUPPORT: RET_EPROTONOSUPPORT,
  EAFNOSUPPORT: RET_EAFNOSUPPORT,
} as const;
const ARCHES: readonly SeccompArch[] = ["x86_64", "aarch64"];
const ARCH_VALUE = { x86_64: 0xc000003e, aarch64: 0xc00000b7 }; // linux/audit.h

// Syscalls the tests call by name, per arch (syscall_64.tbl; asm-generic/unistd.h).
const NR = {
  x86_64: {
    read: 0,
    write: 1,
    mmap: 9,
    ioctl: 16,
    getpid: 39,
    clone: 56,
    fork: 57,
    vfork: 58,
    execve: 59,
    personality: 135,
    futex: 202,
    exit_group: 231,
    openat: 257,
    clone3: 435,
  },
  aarch64: {
    ioctl: 29,
    openat: 56,
    read: 63,
    write: 64,
    personality: 92,
    exit_group: 94,
    futex: 98,
    getpid: 172,
    clone: 220,
    execve: 221,
    mmap: 222,
    clone3: 435,
  },
} as const;

// linux/sched.h
const CLONE_NAMESPACE_FLAGS = {
  CLONE_NEWNS: 0x00020000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
  CLONE_NEWTIME: 0x00000080,
} as const;
const SIGCHLD = 17;
const CLONE_THREAD_FLAGS = 0x00000100 | // CLONE_VM
  0x00000200 | // CLONE_FS
  0x00000400 | // CLONE_FILES
  0x00000800 | // CLONE_SIGHAND
  0x00010000 | // CLONE_THREAD
  0x00040000 | // CLONE_SYSVSEM
  0x00080000 | // CLONE_SETTLS
  0x00100000 | // CLONE_PARENT_SETTID
  0x00200000; // CLONE_CHILD_CLEARTID
const CLONE_VFORK_FLAGS = 0x00000100 | 0x00004000 | SIGCHLD; // CLONE_VM | CLONE_VFORK
const TIOCSTI = 0x5412n;
const TIOCLINUX = 0x541cn;
const TCGETS = 0x5401n;

const programs = Object.fromEntries(
  ARCHES.map((arch) => [arch, decode(seccompProgram(arch))]),
) as Record<SeccompArch, ReturnType<typeof decode>>;

function verdict(
  arch: SeccompArch,
  nr: number,
  args: readonly bigint[] = [],
  archValue = ARCH_VALUE[arch],
): number {
  return runSeccompFilter(programs[arch], seccompData({ nr, arch: archValue, args }));
}

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

function assertVerdict(
  arch: SeccompArch,
  what: string,
  nr: number,
  args: readonly bigint[],
  expected: number,
) {
  const got = verdict(arch, nr, args);
  assert.equal(hex(got), hex(expected), `${what} on ${arch}`);
}

// --- Shape of the program ------------------------------------------------------------------

Deno.test("the AUDIT_ARCH constants match linux/audit.h", () => {
  assert.deepEqual({ ...AUDIT_ARCH }, ARCH_VALUE);
});

for (const arch of ARCHES) {
  Deno.test(`the ${arch} program passes the kernel's checks: legal opcodes, jumps inside`, () => {
    assert.equal(checkSeccompFilter(programs[arch]), undefined);
    for (const [pc, insn] of programs[arch].entries()) {
      const isJump = (insn.code & 0x07) === 0x05;
      if (!isJump) continue;
      const targets = insn.code === 0x05 ? [insn.k] : [insn.jt, insn.jf];
      for (const offset of targets) {
        assert.ok(pc + 1 + offset < programs[arch].length, `jump at ${pc} leaves the program`);
      }
    }
  });

  Deno.test(`the ${arch} program is compact, far below BPF_MAXINSNS`, () => {
    const length = programs[arch].length;
    assert.ok(length <= 128, `${length} instructions`);
    assert.ok(length < BPF_MAXINSNS);
    assert.equal(seccompProgram(arch).length, length * 8);
  });

  Deno.test(`the ${arch} program starts by loading seccomp_data.arch`, () => {
    assert.deepEqual(programs[arch][0], { code: 0x20, jt: 0, jf: 0, k: 4 });
    assert.deepEqual([...seccompProgram(arch).subarray(0, 8)], [0x20, 0, 0, 0, 4, 0, 0, 0]);
  });
}

Deno.test("seccompProgram is deterministic and returns a fresh array", () => {
  const a = seccompProgram("x86_64");
  const b = seccompProgram("x86_64");
  assert.deepEqual(a, b);
  assert.notEqual(a, b);
  assert.notDeepEqual(seccompProgram("aarch64"), a);
});

Deno.test("an unknown arch is an error, not an empty filter", () => {
  assert.throws(() => seccompProgram("riscv64" as SeccompArch), /unsupported arch "riscv64"/);
});

// --- The denylist as data ------------------------------------------------------------------

Deno.test("DENIED_SYSCALLS names are unique and each has a one-line reason", () => {
  const names = DENIED_SYSCALLS.map((entry) => entry.name);
  assert.equal(new Set(names).size, names.length);
  for (const entry of DENIED_SYSCALLS) {
    assert.ok(entry.reason.length > 0 && entry.reason.length <= 90, entry.name);
    assert.ok(!entry.reason.includes("\n"), entry.name);
  }
});

// A name with no number is left out of the arch's program without a word (bind was, once).
Deno.test("every denied syscall of every jail exists on x86_64; aarch64 lacks iopl, ioperm, and open, chmod, creat, mknod, inotify_init", () => {
  const names = [...new Set(deniedSyscalls("native-offline").map((entry) => entry.name))];
  const missing = (arch: SeccompArch) =>
    names.filter((name) => SYSCALL_NUMBERS[arch][name] === undefined);
  assert.deepEqual(missing("x86_64"), []);
  // The old path-based calls: aarch64 has only their *at forms (inotify_init1 for inotify_init).
  assert.deepEqual(missing("aarch64"), [
    "open",
    "chmod",
    "creat",
    "mknod",
    "iopl",
    "ioperm",
    "inotify_init",
  ]);
});

Deno.test("the required syscalls are all on the denylist", () => {
  const required = [
    ...["ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root"],
    ...["move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr"],
    ...["unshare", "setns", "clone", "clone3", "keyctl", "add_key", "request_key", "bpf"],
    ...["perf_event_open", "kexec_load", "kexec_file_load", "init_module", "finit_module"],
    ...["delete_module", "reboot", "swapon", "swapoff", "userfaultfd", "open_by_handle_at"],
    ...["name_to_handle_at", "acct", "quotactl", "quotactl_fd", "settimeofday"],
    ...["clock_settime", "clock_adjtime", "adjtimex", "chroot", "ioctl", "lookup_dcookie"],
    ...["vhangup", "iopl", "ioperm"],
  ];
  const listed = new Set(DENIED_SYSCALLS.map((entry) => entry.name));
  assert.deepEqual(required.filter((name) => !listed.has(name)), []);
});

Deno.test("syscall numbers agree with the installed kernel headers", async () => {
  // Debian/Ubuntu keep the x86_64 table under the multiarch directory.
  const x86 = await readFirst([
    "/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
    "/usr/include/asm/unistd_64.h",
  ]);
  const generic = await readFirst(["/usr/include/asm-generic/unistd.h"]);
  const tables = { x86_64: parseUnistd(x86), aarch64: parseUnistd(generic) };
  // Newer than the headers a distro may ship (linux-libc-dev 6.1 on Debian 12).
  const newerThanHeaders = new Set(["open_tree_attr", "fchmodat2", "statmount", "listmount"]);
  for (const arch of ARCHES) {
    const ours = { ...SYSCALL_NUMBERS[arch], ...NR[arch] };
    for (const [name, nr] of Object.entries(ours)) {
      const header = tables[arch].get(name);
      if (header === undefined && newerThanHeaders.has(name)) continue;
      assert.equal(nr, header, `${name} on ${arch}`);
    }
  }
  // And what we left out of aarch64 really is absent from the generic table.
  for (const name of Object.keys(SYSCALL_NUMBERS.x86_64)) {
    if (SYSCALL_NUMBERS.aarch64[name] === undefined) {
      assert.equal(tables.aarch64.get(name), undefined, `${name} exists on aarch64`);
    }
  }
  assert.equal(tables.x86_64.get("stime"), undefined);
  assert.equal(tables.aarch64.get("stime"), undefined);
});

async function readFirst(paths: string[]): Promise<string> {
  for (const path of paths) {
    try {
      return await Deno.readTextFile(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  throw new Error(
    `none of ${paths.join(", ")} exists; install the kernel headers (linux-libc-dev)`,
  );
}

function parseUnistd(text: string): Map<string, number> {
  const table = new Map<string, number>();
  for (const match of text.matchAll(/^#define __NR(?:3264)?_(\w+)\s+(\d+)\s*$/gm)) {
    table.set(match[1], Number(match[2]));
  }
  return table;
}

// --- Verdicts, run through the BPF model ----------------------------------------------------

Deno.test("a foreign seccomp_data.arch is killed with SECCOMP_RET_KILL_PROCESS", () => {
  const foreign = [
    0x40000003, // AUDIT_ARCH_I386: int 0x80 on x86_64
    0x40000028, // AUDIT_ARCH_ARM: compat tasks on arm64
    0x800000b7, // AUDIT_ARCH_AARCH64 without __AUDIT_ARCH_LE: big-endian
    0,
    0xffffffff,
  ];
  for (const arch of ARCHES) {
    const other = arch === "x86_64" ? ARCH_VALUE.aarch64 : ARCH_VALUE.x86_64;
    for (const archValue of [other, ...foreign]) {
      for (const nr of [NR[arch].getpid, NR[arch].read, SYSCALL_NUMBERS[arch].ptrace]) {
        assert.equal(
          hex(verdict(arch, nr, [], archValue)),
          hex(RET_KILL_PROCESS),
          `nr ${nr} with arch ${hex(archValue)} on ${arch}`,
        );
      }
    }
  }
});

Deno.test("every unconditionally denied syscall fails with EPERM on both arches (ENOSYS: clone3, openat2, io_uring, io_setup)", () => {
  const nosys = [
    "clone3",
    "openat2",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "io_setup",
  ];
  for (const arch of ARCHES) {
    for (const entry of DENIED_SYSCALLS) {
      const nr = SYSCALL_NUMBERS[arch][entry.name];
      if (nr === undefined || entry.when !== undefined) continue;
      const errno = nosys.includes(entry.name) ? "ENOSYS" : "EPERM";
      assert.equal(entry.errno, errno, entry.name);
      assertVerdict(arch, entry.name, nr, [], RET_ERRNO[errno]);
      // Arguments do not matter for these.
      assertVerdict(arch, entry.name, nr, [0n, ~0n, 1n << 63n, 0x5412n, 0n, 7n], RET_ERRNO[errno]);
    }
  }
});

Deno.test("unshare and setns fail with EPERM whatever their flags", () => {
  for (const arch of ARCHES) {
    for (const flags of [0n, 0x10000000n, 0x200n]) {
      assertVerdict(arch, `unshare(${flags})`, SYSCALL_NUMBERS[arch].unshare, [flags], RET_EPERM);
      assertVerdict(arch, `setns(${flags})`, SYSCALL_NUMBERS[arch].setns, [3n, flags], RET_EPERM);
    }
  }
});

Deno.test("clone3 fails with ENOSYS so that glibc falls back to clone", () => {
  for (const arch of ARCHES) {
    assertVerdict(arch, "clone3", NR[arch].clone3, [], RET_ENOSYS);
    assertVerdict(arch, "clone3", NR[arch].clone3, [0x7fff0000n, 88n], RET_ENOSYS);
  }
});

Deno.test("ordinary syscalls are allowed", () => {
  for (const arch of ARCHES) {
    const calls: [string, number, bigint[]][] = [
      ["read", NR[arch].read, [0n, 0x7ffd0000n, 4096n]],
      ["write", NR[arch].write, [1n, 0x7ffd0000n, 12n]],
      ["openat", NR[arch].openat, [0xffffff9cn, 0x7ffd0000n, 0x80000n]],
      ["mmap", NR[arch].mmap, [0n, 4096n, 3n, 0x22n, ~0n, 0n]],
      ["execve", NR[arch].execve, [0x7ffd0000n, 0x7ffd0100n, 0x7ffd0200n]],
      ["exit_group", NR[arch].exit_group, [0n]],
      ["futex", NR[arch].futex, [0x7ffd0000n, 0x81n, 1n]],
      ["getpid", NR[arch].getpid, []],
      ["personality(0xffffffff)", NR[arch].personality, [0xffffffffn]],
      ["personality(PER_LINUX)", NR[arch].personality, [0n]],
    ];
    if (arch === "x86_64") {
      calls.push(["fork", NR.x86_64.fork, []], ["vfork", NR.x86_64.vfork, []]);
    }
    for (const [what, nr, args] of calls) assertVerdict(arch, what, nr, args, RET_ALLOW);
  }
});

Deno.test("clone with thread flags (as pthread_create uses) is allowed", () => {
  for (const arch of ARCHES) {
    const args = [BigInt(CLONE_THREAD_FLAGS), 0x7f0000001000n, 0x7f0000002000n, 0n, 0n];
    assertVerdict(arch, "thread clone", NR[arch].clone, args, RET_ALLOW);
  }
});

Deno.test("fork-style clone with SIGCHLD, and vfork-style clone, are allowed", () => {
  for (const arch of ARCHES) {
    assertVerdict(arch, "fork clone", NR[arch].clone, [BigInt(SIGCHLD)], RET_ALLOW);
    // glibc's fork(): CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD
    assertVerdict(arch, "glibc fork", NR[arch].clone, [0x01200000n | 17n], RET_ALLOW);
    assertVerdict(arch, "vfork clone", NR[arch].clone, [BigInt(CLONE_VFORK_FLAGS)], RET_ALLOW);
  }
});

for (const [flag, bit] of Object.entries(CLONE_NAMESPACE_FLAGS)) {
  Deno.test(`clone with ${flag} fails with EPERM`, () => {
    for (const arch of ARCHES) {
      const nr = NR[arch].clone;
      assertVerdict(arch, flag, nr, [BigInt(bit)], RET_EPERM);
      assertVerdict(arch, `${flag}|SIGCHLD`, nr, [BigInt(bit | SIGCHLD)], RET_EPERM);
      assertVerdict(
        arch,
        `${flag}|thread flags`,
        nr,
        [BigInt(bit | CLONE_THREAD_FLAGS)],
        RET_EPERM,
      );
      // Junk in the (ignored) high word does not hide the flag.
      assertVerdict(
        arch,
        `${flag} with high bits`,
        nr,
        [0xffffffff00000000n | BigInt(bit)],
        RET_EPERM,
      );
    }
  });
}

Deno.test("clone looks only at the low 32 bits of flags, as the kernel does", () => {
  // kernel/fork.c passes lower_32_bits(clone_flags) on; a namespace bit in the high word is
  // invisible to the kernel and so harmless.
  for (const arch of ARCHES) {
    const highOnly = BigInt(CLONE_NAMESPACE_FLAGS.CLONE_NEWUSER) << 32n | BigInt(SIGCHLD);
    assertVerdict(arch, "CLONE_NEWUSER in the high word", NR[arch].clone, [highOnly], RET_ALLOW);
  }
});

Deno.test("ioctl TIOCSTI and TIOCLINUX fail with EPERM, whatever the high 32 bits hold", () => {
  for (const arch of ARCHES) {
    const nr = NR[arch].ioctl;
    for (const request of [TIOCSTI, TIOCLINUX]) {
      for (const high of [0n, 1n, 0xdeadbeefn, 0xffffffffn]) {
        const cmd = high << 32n | request;
        assertVerdict(arch, `ioctl(${cmd.toString(16)})`, nr, [0n, cmd, 0x7ffd0000n], RET_EPERM);
      }
    }
  }
});

Deno.test("ioctl TCGETS, and 0x5412 in the high word only, are allowed", () => {
  for (const arch of ARCHES) {
    const nr = NR[arch].ioctl;
    assertVerdict(arch, "ioctl(TCGETS)", nr, [0n, TCGETS, 0x7ffd0000n], RET_ALLOW);
    assertVerdict(arch, "ioctl(0x5412 << 32)", nr, [0n, TIOCSTI << 32n, 0n], RET_ALLOW);
    assertVerdict(
      arch,
      "ioctl(0x5412 << 32 | TCGETS)",
      nr,
      [0n, TIOCSTI << 32n | TCGETS],
      RET_ALLOW,
    );
    // The request is arg1: TIOCSTI as the fd number means nothing.
    assertVerdict(arch, "ioctl(fd 0x5412, TCGETS)", nr, [TIOCSTI, TCGETS], RET_ALLOW);
  }
});

Deno.test("personality changes that weaken mitigations fail with EPERM", () => {
  for (const arch of ARCHES) {
    const nr = NR[arch].personality;
    for (const persona of [0x0008n, 0x0020000n, 0x0020008n]) {
      assertVerdict(arch, `personality(${persona})`, nr, [persona], RET_ALLOW);
    }
    assertVerdict(arch, "ADDR_NO_RANDOMIZE", nr, [0x0040000n], RET_EPERM);
    assertVerdict(arch, "READ_IMPLIES_EXEC", nr, [0x0400000n], RET_EPERM);
  }
});

// file_setattr (Linux 6.17): the newest syscall on both arches when the policy was written.
const FILE_SETATTR_NR = 469;

Deno.test("a syscall newer than the policy fails with ENOSYS, under every jail and arch", () => {
  for (const arch of ARCHES) {
    for (const jail of ["bwrap", "native", "native-netns", "native-offline"] as const) {
      const programs = programsOf(jail);
      // file_setattr itself is judged (allowed); what comes after it is not yet.
      assert.equal(hex(verdictOf(programs, arch, FILE_SETATTR_NR)), hex(RET_ALLOW), jail);
      for (const nr of [FILE_SETATTR_NR + 1, 471, 600, 1023, 0x3fffffff]) {
        assert.equal(hex(verdictOf(programs, arch, nr)), hex(RET_ENOSYS), `${nr} ${jail} ${arch}`);
      }
    }
  }
});

Deno.test("x32 syscall numbers fail with EPERM on x86_64", () => {
  const X32 = 0x40000000;
  for (const nr of [NR.x86_64.getpid, SYSCALL_NUMBERS.x86_64.unshare, 512, 547]) {
    assertVerdict("x86_64", `x32 ${nr}`, X32 | nr, [], RET_EPERM);
  }
  // Numbers above the x32 range, and -1, are invalid anyway; they get EPERM too.
  assertVerdict("x86_64", "0x80000000", 0x80000000, [], RET_EPERM);
  assertVerdict("x86_64", "-1", -1, [], RET_EPERM);
});

Deno.test("the compiled program agrees with a direct reading of DENIED_SYSCALLS", () => {
  // A deterministic random walk over numbers and arguments, biased towards interesting values.
  let seed = 0x5ecc;
  const random = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const word = () => BigInt(Math.floor(random() * 2 ** 32));
  const interesting = [0n, 0x5412n, 0x541cn, 0x5401n, 0x80n, 0x10000000n, 17n, 0xffffffffn];
  const low = () =>
    random() < 0.5 ? interesting[Math.floor(random() * interesting.length)] : word();
  for (const arch of ARCHES) {
    const numbers = Object.values(SYSCALL_NUMBERS[arch]);
    for (let i = 0; i < 20000; i++) {
      const nr = random() < 0.5
        ? numbers[Math.floor(random() * numbers.length)]
        : Math.floor(random() * 600) | (random() < 0.05 ? 0x40000000 : 0);
      const args = Array.from({ length: 6 }, () => (random() < 0.5 ? 0n : word()) << 32n | low());
      assertVerdict(arch, `nr ${nr} args ${args}`, nr, args, reference(arch, nr, args));
    }
  }
});

function reference(
  arch: SeccompArch,
  nr: number,
  args: readonly bigint[],
  list: readonly DeniedSyscall[] = DENIED_SYSCALLS,
): number {
  if (arch === "x86_64" && nr >>> 0 >= 0x40000000) return RET_EPERM;
  if (nr >>> 0 > FILE_SETATTR_NR) return RET_ENOSYS;
  // A syscall's entries in order; the first whose rules all hold decides.
  for (const entry of list.filter((entry) => SYSCALL_NUMBERS[arch][entry.name] === nr)) {
    const rules = entry.when === undefined ? [] : "arg" in entry.when ? [entry.when] : entry.when;
    const holds = rules.every((rule) => {
      const value = Number(BigInt.asUintN(32, args[rule.arg]));
      if ("anyBitOf" in rule) return (value & rule.anyBitOf) !== 0;
      if ("oneOf" in rule) return rule.oneOf.includes(value);
      return !rule.noneOf.includes(value);
    });
    if (holds) return RET_ERRNO[entry.errno];
  }
  return RET_ALLOW;
}

// --- Setuid files and sockets -----------------------------------------------------------------

// Numbers from the kernel headers, written out so a wrong table entry cannot agree with itself.
// Each: the syscall's number and the index of its mode argument.
const MODE_CALLS = {
  x86_64: {
    chmod: [90, 1],
    fchmod: [91, 1],
    fchmodat: [268, 2],
    fchmodat2: [452, 2],
    creat: [85, 1],
    mknod: [133, 1],
    mknodat: [259, 2],
  },
  aarch64: { fchmod: [52, 1], fchmodat: [53, 2], fchmodat2: [452, 2], mknodat: [33, 2] },
} as const;
const SOCKET_NR = { x86_64: 41, aarch64: 198 } as const;
const OPENAT_NR = { x86_64: 257, aarch64: 56 } as const;

const modeArgs = (at: number, mode: number) =>
  Array.from({ length: 6 }, (_, i) => (i === at ? BigInt(mode) : 0n));

Deno.test("chmod, creat and mknod and their kin fail with EPERM only when they set setuid or setgid", () => {
  for (const arch of ARCHES) {
    for (const [name, [nr, at]] of Object.entries(MODE_CALLS[arch])) {
      for (const mode of [0o4755, 0o2755, 0o6000, 0o104755, 0o2000]) {
        assertVerdict(arch, `${name} ${mode.toString(8)}`, nr, modeArgs(at, mode), RET_EPERM);
        assert.equal(hex(nativeVerdict(arch, nr, modeArgs(at, mode))), hex(RET_EPERM), name);
      }
      for (const mode of [0o755, 0o1777, 0o100644, 0]) {
        assertVerdict(arch, `${name} ${mode.toString(8)}`, nr, modeArgs(at, mode), RET_ALLOW);
      }
      // Only the low 32 bits count, as the kernel's mode_t does.
      assertVerdict(arch, `${name} high`, nr, modeArgs(at, 0o4000 * 2 ** 32), RET_ALLOW);
    }
  }
});

Deno.test("open and openat fail with EPERM only when they create a file with setuid or setgid", () => {
  const O_CREAT = 0o100;
  const O_TMPFILE_X86 = 0o20200000; // with x86_64's O_DIRECTORY
  const O_TMPFILE_ARM = 0o20040000; // with aarch64's O_DIRECTORY
  const calls = { x86_64: [["open", 2, 1], ["openat", 257, 2]], aarch64: [["openat", 56, 2]] };
  for (const arch of ARCHES) {
    const tmpfile = arch === "x86_64" ? O_TMPFILE_X86 : O_TMPFILE_ARM;
    for (const [name, nr, flagsAt] of calls[arch] as [string, number, number][]) {
      const args = (flags: number, mode: number) =>
        Array.from(
          { length: 6 },
          (_, i) => i === flagsAt ? BigInt(flags) : i === flagsAt + 1 ? BigInt(mode) : 0n,
        );
      for (const flags of [O_CREAT, O_CREAT | 0o1 | 0o1000, tmpfile | 0o2]) {
        for (const mode of [0o4755, 0o2644]) {
          assertVerdict(
            arch,
            `${name} ${flags.toString(8)} ${mode.toString(8)}`,
            nr,
            args(flags, mode),
            RET_EPERM,
          );
        }
        assertVerdict(arch, `${name} ${flags.toString(8)} 644`, nr, args(flags, 0o644), RET_ALLOW);
      }
      // Without O_CREAT or O_TMPFILE the kernel ignores the mode: junk there is no reason to deny.
      for (const flags of [0, 0o2, 0o2000000 | 0o200000]) {
        assertVerdict(
          arch,
          `${name} ${flags.toString(8)} junk`,
          nr,
          args(flags, 0o7777),
          RET_ALLOW,
        );
      }
    }
  }
});

Deno.test("socket: AF_VSOCK fails with EAFNOSUPPORT under both jails; the other families are bwrap's", () => {
  const AF_VSOCK = 40n;
  for (const arch of ARCHES) {
    const nr = SOCKET_NR[arch];
    for (const type of [1n, 2n, 5n, 0x80001n]) {
      assertVerdict(arch, "vsock", nr, [AF_VSOCK, type, 0n], RET_EAFNOSUPPORT);
      assert.equal(hex(nativeVerdict(arch, nr, [AF_VSOCK, type, 0n])), hex(RET_EAFNOSUPPORT));
    }
    // bwrap's network namespace separates every other family, MPTCP and SCTP included.
    for (
      const [family, type, protocol] of [[1n, 1n, 0n], [2n, 1n, 262n], [10n, 5n, 132n], [
        17n,
        3n,
        0n,
      ], [31n, 1n, 0n]]
    ) {
      assertVerdict(
        arch,
        `socket ${family} ${type} ${protocol}`,
        nr,
        [family, type, protocol],
        RET_ALLOW,
      );
    }
  }
});

Deno.test("native jail: socket allows unix, IP and netlink only, and no MPTCP or SCTP", () => {
  for (const arch of ARCHES) {
    const nr = SOCKET_NR[arch];
    const is = (args: bigint[], expected: number) =>
      assert.equal(hex(nativeVerdict(arch, nr, args)), hex(expected), `socket ${args} on ${arch}`);
    // AF_PACKET, AF_BLUETOOTH, AF_ALG, AF_TIPC, AF_RDS, AF_CAN: none is separated from the host.
    for (const family of [17n, 31n, 38n, 30n, 21n, 29n, 0n, 3n]) {
      is([family, 1n, 0n], RET_EAFNOSUPPORT);
    }
    for (const family of [1n, 2n, 10n, 16n]) is([family, 1n, 0n], RET_ALLOW);
    is([2n, 2n, 17n], RET_ALLOW); // UDP
    is([10n, 1n, 6n], RET_ALLOW); // TCP, which Landlock checks
    is([1n, 5n, 0n], RET_ALLOW); // a unix SOCK_SEQPACKET
    for (const family of [2n, 10n]) {
      is([family, 1n, 262n], RET_EPROTONOSUPPORT); // IPPROTO_MPTCP
      is([family, 1n, 132n], RET_EPROTONOSUPPORT); // IPPROTO_SCTP
      is([family, 5n, 132n], RET_EPROTONOSUPPORT);
      for (const type of [5n, 0x805n, 0x80005n, 0x80805n]) {
        is([family, type, 0n], RET_EPROTONOSUPPORT);
      }
    }
  }
});

Deno.test("openat2 and io_uring fail with ENOSYS under both jails, so programs fall back", () => {
  const numbers = {
    openat2: 437,
    io_uring_setup: 425,
    io_uring_enter: 426,
    io_uring_register: 427,
  };
  for (const arch of ARCHES) {
    for (const [name, nr] of Object.entries(numbers)) {
      assertVerdict(arch, name, nr, [], RET_ENOSYS);
      assert.equal(hex(nativeVerdict(arch, nr)), hex(RET_ENOSYS), name);
    }
    assertVerdict(arch, "openat", OPENAT_NR[arch], [0n, 0n, 0n, 0n], RET_ALLOW);
  }
});

// --- The native jail's additions ------------------------------------------------------------

const nativePrograms = Object.fromEntries(
  ARCHES.map((arch) => [arch, decode(seccompProgram(arch, "native"))]),
) as Record<SeccompArch, ReturnType<typeof decode>>;

function nativeVerdict(arch: SeccompArch, nr: number, args: readonly bigint[] = []): number {
  return runSeccompFilter(nativePrograms[arch], seccompData({ nr, arch: ARCH_VALUE[arch], args }));
}

// Numbers from the kernel headers, written out so a wrong table entry cannot agree with itself.
const IPC_AND_WATCH_NR = {
  x86_64: {
    shmget: 29,
    shmat: 30,
    shmctl: 31,
    shmdt: 67,
    semget: 64,
    semop: 65,
    semctl: 66,
    semtimedop: 220,
    msgget: 68,
    msgsnd: 69,
    msgrcv: 70,
    msgctl: 71,
    mq_open: 240,
    mq_unlink: 241,
    mq_timedsend: 242,
    mq_timedreceive: 243,
    mq_notify: 244,
    mq_getsetattr: 245,
    inotify_init: 253,
    inotify_add_watch: 254,
    inotify_rm_watch: 255,
    inotify_init1: 294,
    fanotify_init: 300,
    fanotify_mark: 301,
  },
  aarch64: {
    inotify_init1: 26,
    inotify_add_watch: 27,
    inotify_rm_watch: 28,
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
    fanotify_init: 262,
    fanotify_mark: 263,
  },
};

Deno.test("native jail: SysV IPC, message queues, inotify and fanotify fail with ENOSYS", () => {
  for (const arch of ARCHES) {
    for (const [name, nr] of Object.entries(IPC_AND_WATCH_NR[arch])) {
      assert.equal(hex(nativeVerdict(arch, nr)), hex(RET_ENOSYS), `${name} on ${arch}`);
      assert.equal(hex(nativeVerdict(arch, nr, [~0n, 0n, 7n])), hex(RET_ENOSYS), name);
      // bwrap's IPC namespace and mount namespace make these private: its program allows them.
      assert.equal(hex(verdict(arch, nr)), hex(RET_ALLOW), `${name} under bwrap on ${arch}`);
    }
  }
});

/** The calls that read the mount table without a path, per arch (the tables share them). */
const MOUNT_TABLE_NR = {
  x86_64: { statmount: 457, listmount: 458 },
  aarch64: { statmount: 457, listmount: 458 },
};

Deno.test("native jail: statmount and listmount fail with ENOSYS; bwrap's own mounts are its", () => {
  for (const arch of ARCHES) {
    for (const [name, nr] of Object.entries(MOUNT_TABLE_NR[arch])) {
      assert.equal(hex(nativeVerdict(arch, nr, [0n, 0n, 16n])), hex(RET_ENOSYS), `${name} ${arch}`);
      // bwrap's mount namespace holds the jail's mounts alone.
      assert.equal(hex(verdict(arch, nr, [0n, 0n, 16n])), hex(RET_ALLOW), `${name} ${arch}`);
    }
  }
});

/** The calls that name another process (or user) by an argument, per arch (syscall tables). */
const OTHERS_NR = {
  x86_64: { setpriority: 141, ioprio_set: 251, prlimit64: 302 },
  aarch64: { ioprio_set: 30, setpriority: 140, prlimit64: 261 },
};

Deno.test("native jail: limits of the caller itself only, and never a whole user's or group's priority", () => {
  const PRIO_PROCESS = 0n, PRIO_PGRP = 1n, PRIO_USER = 2n;
  const IOPRIO_WHO_PGRP = 2n;
  for (const arch of ARCHES) {
    const nr = OTHERS_NR[arch];
    assert.equal(hex(nativeVerdict(arch, nr.prlimit64, [0n, 7n])), hex(RET_ALLOW), arch);
    assert.equal(hex(nativeVerdict(arch, nr.prlimit64, [1234n, 7n])), hex(RET_EPERM), arch);
    // bwrap's pid namespace hides every process but the jail's: its program allows them.
    assert.equal(hex(verdict(arch, nr.prlimit64, [1234n, 7n])), hex(RET_ALLOW), arch);
    for (const [set, user] of [[nr.setpriority, PRIO_USER], [nr.ioprio_set, 3n]] as const) {
      // A thread or process named by id stays allowed: libraries name their own threads so.
      assert.equal(
        hex(
          nativeVerdict(arch, set, [PRIO_PROCESS + (set === nr.ioprio_set ? 1n : 0n), 1234n, 10n]),
        ),
        hex(RET_ALLOW),
        `${set}`,
      );
      assert.equal(hex(nativeVerdict(arch, set, [user, 0n, 10n])), hex(RET_EPERM), `${set}`);
      assert.equal(hex(verdict(arch, set, [user, 0n, 10n])), hex(RET_ALLOW), `${set} (bwrap)`);
      // A process group: getpgid names any host process's, the supervisor's and ww's included;
      // 0, the caller's own, is in the jail's session.
      const group = set === nr.ioprio_set ? IOPRIO_WHO_PGRP : PRIO_PGRP;
      assert.equal(hex(nativeVerdict(arch, set, [group, 1234n, 10n])), hex(RET_EPERM), `${set}`);
      assert.equal(hex(nativeVerdict(arch, set, [group, 0n, 10n])), hex(RET_ALLOW), `${set}`);
      assert.equal(hex(verdict(arch, set, [group, 1234n, 10n])), hex(RET_ALLOW), `${set} (bwrap)`);
    }
  }
});

Deno.test("native jail: the additions are exactly those, every one exists, an unconditional one is alone", () => {
  const names = NATIVE_DENIED_SYSCALLS.map((e) => e.name);
  assert.deepEqual(
    [...names].sort(),
    [
      ...Object.keys(IPC_AND_WATCH_NR.x86_64),
      ...Object.keys(MOUNT_TABLE_NR.x86_64),
      ...Object.keys(OTHERS_NR.x86_64),
      // A user's and another process group's priority, each an entry of its own.
      "setpriority",
      "ioprio_set",
      "socket",
      "socket",
      "socket",
    ].sort(),
  );
  const all = deniedSyscalls("native");
  for (const e of all.filter((e) => e.when === undefined)) {
    assert.equal(all.filter((other) => other.name === e.name).length, 1, e.name);
  }
  assert.deepEqual(deniedSyscalls("bwrap"), DENIED_SYSCALLS);
  for (const e of NATIVE_DENIED_SYSCALLS) {
    assert.ok(e.reason.length > 0 && e.reason.length <= 90, e.name);
    if (e.name === "socket") continue;
    for (const arch of ARCHES) {
      const expected = {
        ...IPC_AND_WATCH_NR[arch],
        ...MOUNT_TABLE_NR[arch],
        ...OTHERS_NR[arch],
      } as Record<string, number>;
      assert.equal(SYSCALL_NUMBERS[arch][e.name], expected[e.name], `${e.name} on ${arch}`);
    }
  }
});

// --- A native jail without --net ---------------------------------------------------------------

const programsOf = (jail: SeccompJail) =>
  Object.fromEntries(ARCHES.map((arch) => [arch, decode(seccompProgram(arch, jail))])) as Record<
    SeccompArch,
    ReturnType<typeof decode>
  >;
const netnsPrograms = programsOf("native-netns");
const offlinePrograms = programsOf("native-offline");

function verdictOf(
  programs: Record<SeccompArch, ReturnType<typeof decode>>,
  arch: SeccompArch,
  nr: number,
  args: readonly bigint[] = [],
): number {
  return runSeccompFilter(programs[arch], seccompData({ nr, arch: ARCH_VALUE[arch], args }));
}

Deno.test("without --net: unix sockets fail with EACCES, and IP ones too on the host's network; netlink is route alone", () => {
  const [AF_UNIX, AF_INET, AF_INET6, AF_NETLINK] = [1n, 2n, 10n, 16n];
  for (const arch of ARCHES) {
    const nr = SOCKET_NR[arch];
    const netns = (args: bigint[]) => hex(verdictOf(netnsPrograms, arch, nr, args));
    const offline = (args: bigint[]) => hex(verdictOf(offlinePrograms, arch, nr, args));
    // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, with and without flags.
    for (const type of [1n, 2n, 5n, 1n | 0o4000n | 0o2000000n]) {
      const args = [AF_UNIX, type, 0n];
      assert.equal(netns(args), hex(RET_EACCES), `${args} ${arch}`);
      assert.equal(offline(args), hex(RET_EACCES), `${args} ${arch}`);
      // With --net the native program allows them.
      assert.equal(hex(nativeVerdict(arch, nr, args)), hex(RET_ALLOW), `${args} ${arch}`);
    }
    for (const family of [AF_INET, AF_INET6]) {
      // SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, with and without flags; ICMP's ping sockets.
      for (const type of [1n, 2n, 3n, 2n | 0o4000n | 0o2000000n]) {
        for (const protocol of [0n, 1n, 6n, 17n, 58n]) {
          const args = [family, type, protocol];
          assert.equal(offline(args), hex(RET_EACCES), `${args} ${arch}`);
          // In a network namespace of its own, or with --net, IP sockets are allowed.
          assert.equal(netns(args), hex(RET_ALLOW), `${args} ${arch}`);
          assert.equal(hex(nativeVerdict(arch, nr, args)), hex(RET_ALLOW), `${args} ${arch}`);
        }
      }
      // Only the low 32 bits are the family: junk above them changes nothing.
      assert.equal(offline([family | (1n << 40n), 1n, 0n]), hex(RET_EACCES));
    }
    assert.equal(offline([AF_UNIX | (1n << 40n), 1n, 0n]), hex(RET_EACCES));
    // NETLINK_ROUTE (getifaddrs) stays; USERSOCK (2) was a channel to host processes and other
    // jails, SOCK_DIAG (4) listed the host's sockets, KOBJECT_UEVENT (15) heard its devices.
    for (const type of [2n, 3n, 3n | 0o2000000n]) {
      assert.equal(offline([AF_NETLINK, type, 0n]), hex(RET_ALLOW));
      assert.equal(netns([AF_NETLINK, type, 0n]), hex(RET_ALLOW));
      for (const protocol of [2n, 4n, 15n, 16n, 31n]) {
        assert.equal(offline([AF_NETLINK, type, protocol]), hex(RET_EACCES), `${protocol}`);
        assert.equal(netns([AF_NETLINK, type, protocol]), hex(RET_EACCES), `${protocol}`);
        assert.equal(hex(nativeVerdict(arch, nr, [AF_NETLINK, type, protocol])), hex(RET_ALLOW));
      }
    }
    // The native program's other denials hold in them too: vsock, and a SysV IPC call.
    assert.equal(offline([40n, 1n, 0n]), hex(RET_EAFNOSUPPORT));
    assert.equal(netns([40n, 1n, 0n]), hex(RET_EAFNOSUPPORT));
    const msgget = IPC_AND_WATCH_NR[arch].msgget;
    assert.equal(hex(verdictOf(offlinePrograms, arch, msgget)), hex(RET_ENOSYS));
    assert.equal(hex(verdictOf(netnsPrograms, arch, msgget)), hex(RET_ENOSYS));
    // socketpair(2) makes no socket anyone else can reach: allowed.
    const socketpair = arch === "x86_64" ? 53 : 199;
    assert.equal(
      hex(verdictOf(offlinePrograms, arch, socketpair, [AF_UNIX, 1n, 0n])),
      hex(RET_ALLOW),
    );
    // On the host's network a pair's end took an abstract name of the host's (a service's): bind
    // keeps an autobind's length (2) and a netlink address's (12, getifaddrs), nothing longer.
    const bind = SYSCALL_NUMBERS[arch].bind;
    for (const length of [2n, 12n, 12n | (1n << 40n)]) {
      assert.equal(hex(verdictOf(offlinePrograms, arch, bind, [4n, 0n, length])), hex(RET_ALLOW));
    }
    for (const length of [3n, 16n, 28n, 110n, 1n << 32n]) {
      assert.equal(hex(verdictOf(offlinePrograms, arch, bind, [4n, 0n, length])), hex(RET_EACCES));
      // A network of the jail's own keeps its names to itself.
      assert.equal(hex(verdictOf(netnsPrograms, arch, bind, [4n, 0n, length])), hex(RET_ALLOW));
    }
  }
});

Deno.test("without --net: the native list plus the socket families, and each program agrees with its list", () => {
  const native = deniedSyscalls("native");
  const netns = deniedSyscalls("native-netns");
  const offline = deniedSyscalls("native-offline");
  assert.deepEqual(netns.slice(0, native.length), native);
  assert.deepEqual(offline.slice(0, netns.length), netns);
  assert.deepEqual(netns.slice(native.length).map((e) => e.name), [
    "socket",
    "connect",
    "socketpair",
    "socket",
  ]);
  assert.deepEqual(offline.slice(netns.length).map((e) => e.name), ["socket", "bind"]);
  for (const e of offline.slice(native.length)) assert.ok(e.reason.length <= 100, e.reason);
  let seed = 0x0ff1;
  const random = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  for (const [programs, list] of [[netnsPrograms, netns], [offlinePrograms, offline]] as const) {
    for (const arch of ARCHES) {
      assert.equal(checkSeccompFilter(programs[arch]), undefined);
      for (let i = 0; i < 20000; i++) {
        // One call in four is socket(2), with a family among the first 48.
        const isSocket = random() < 0.25;
        const nr = isSocket ? SOCKET_NR[arch] : Math.floor(random() * 600);
        const args = Array.from({ length: 6 }, () => BigInt(Math.floor(random() * 2 ** 32)));
        if (isSocket) args[0] = BigInt(Math.floor(random() * 48));
        assert.equal(
          hex(verdictOf(programs, arch, nr, args)),
          hex(reference(arch, nr, args, list)),
          `nr ${nr} ${args} on ${arch}`,
        );
      }
    }
  }
});

for (const arch of ARCHES) {
  Deno.test(`the native ${arch} program passes the kernel's checks and stays compact`, () => {
    assert.equal(checkSeccompFilter(nativePrograms[arch]), undefined);
    // The socket rules (families, MPTCP and SCTP) take ~20 instructions of their own, the rules
    // on other processes' limits and a user's or another group's priority ~14.
    assert.ok(nativePrograms[arch].length <= 180, `${nativePrograms[arch].length} instructions`);
  });
}

Deno.test("the native program agrees with a direct reading of its denylist", () => {
  let seed = 0x11a7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const list = deniedSyscalls("native");
  for (const arch of ARCHES) {
    for (let i = 0; i < 20000; i++) {
      const nr = Math.floor(random() * 600) | (random() < 0.05 ? 0x40000000 : 0);
      const args = Array.from({ length: 6 }, () => BigInt(Math.floor(random() * 2 ** 32)));
      assert.equal(
        hex(nativeVerdict(arch, nr, args)),
        hex(reference(arch, nr, args, list)),
        `nr ${nr} on ${arch}`,
      );
    }
  }
});

// --- The real kernel -----------------------------------------------------------------------

// Installs the filter itself (argv[1], if given) with prctl(PR_SET_NO_NEW_PRIVS) and
// seccomp(SECCOMP_SET_MODE_FILTER), as seccomp(2) requires of an unprivileged caller, then tries
// each call and prints {"call": "OK" | errno name}. Calls are chosen so the kernel's own answer
// without the filter is never EPERM/ENOSYS (missing paths, pid 0x3fffffff, fd -1, /dev/null).
const PROBE_C = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

static int first = 1;
static void put(const char *name, const char *value) {
  printf("%s\"%s\":\"%s\"", first ? "{" : ",", name, value);
  first = 0;
}
static void result(const char *name, long ret) {
  const char *e = ret == -1 ? strerrorname_np(errno) : "OK";
  put(name, e ? e : "unknown errno");
}
#define TRY(name, call) do { errno = 0; result(name, (long)(call)); } while (0)

/* Waits for a child and describes how it ended. */
static void reap(const char *name, pid_t pid) {
  int status;
  char buf[64];
  if (pid < 0) { result(name, -1); return; }
  if (waitpid(pid, &status, __WALL) < 0) { result(name, -1); return; }
  if (WIFSIGNALED(status)) snprintf(buf, sizeof buf, "SIG%s", sigabbrev_np(WTERMSIG(status)));
  else snprintf(buf, sizeof buf, WEXITSTATUS(status) == 0 ? "OK" : "exit %d", WEXITSTATUS(status));
  put(name, buf);
}

/* Raw clone: a child that does get created exits at once. */
static void try_clone(const char *name, unsigned long flags) {
  errno = 0;
  long pid = syscall(SYS_clone, flags, 0, 0, 0, 0);
  if (pid == 0) _exit(0);
  reap(name, pid);
}

static void *thread_main(void *arg) { return arg; }

static void seccomp_mode(void) {
  char line[256];
  FILE *f = fopen("/proc/self/status", "r");
  while (f && fgets(line, sizeof line, f)) {
    if (strncmp(line, "Seccomp:", 8) == 0) {
      line[strcspn(line, "\n")] = 0;
      put("seccomp_mode", line + 8 + strspn(line + 8, " \t"));
    }
  }
  if (f) fclose(f);
}

int main(int argc, char **argv) {
  if (argc == 2) {
    static unsigned char buf[65536];
    int fd = open(argv[1], O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
    if (n <= 0 || n % 8 != 0) { perror("read filter"); return 2; }
    close(fd);
    struct sock_fprog prog = { .len = (unsigned short)(n / 8), .filter = (struct sock_filter *)buf };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { perror("prctl"); return 2; }
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) { perror("seccomp"); return 2; }
  }
  seccomp_mode();

  int null = open("/dev/null", O_RDWR);
  char c = 'x';
  char tio[64];
  int word = 0;
  TRY("getpid", syscall(SYS_getpid));
  TRY("read", read(null, &c, 1));
  TRY("write", write(null, &c, 1));
  TRY("openat", syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC));
  void *map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  TRY("mmap", map == MAP_FAILED ? -1 : 0);
  TRY("futex", syscall(SYS_futex, &word, FUTEX_WAKE, 1, NULL, NULL, 0));

  pid_t pid = fork();
  if (pid == 0) _exit(0);
  reap("fork", pid);
  pid = fork();
  if (pid == 0) { execl("/bin/true", "true", (char *)NULL); _exit(127); }
  reap("execve", pid);
  pthread_t thread;
  int rc = pthread_create(&thread, NULL, thread_main, NULL);
  if (rc == 0) pthread_join(thread, NULL);
  put("pthread_create", rc == 0 ? "OK" : strerrorname_np(rc));
  try_clone("clone(SIGCHLD)", SIGCHLD);
  try_clone("clone(CLONE_NEWNS)", CLONE_NEWNS | SIGCHLD);
  try_clone("clone(CLONE_NEWCGROUP)", CLONE_NEWCGROUP | SIGCHLD);
  try_clone("clone(CLONE_NEWUTS)", CLONE_NEWUTS | SIGCHLD);
  try_clone("clone(CLONE_NEWIPC)", CLONE_NEWIPC | SIGCHLD);
  try_clone("clone(CLONE_NEWUSER)", CLONE_NEWUSER | SIGCHLD);
  try_clone("clone(CLONE_NEWPID)", CLONE_NEWPID | SIGCHLD);
  try_clone("clone(CLONE_NEWNET)", CLONE_NEWNET | SIGCHLD);
  TRY("clone3", syscall(SYS_clone3, NULL, 0));

  TRY("ioctl(TCGETS)", ioctl(null, TCGETS, tio));
  TRY("ioctl(0x5412 << 32 | TCGETS)", syscall(SYS_ioctl, null, 0x0000541200005401UL, tio));
  TRY("ioctl(TIOCSTI)", ioctl(null, TIOCSTI, &c));
  TRY("ioctl(0xdead << 32 | TIOCSTI)", syscall(SYS_ioctl, null, 0x0000dead00005412UL, &c));
  TRY("ioctl(TIOCLINUX)", ioctl(null, TIOCLINUX, &c));

  TRY("mount", mount("none", "/nonexistent-ww-seccomp", "tmpfs", 0, NULL));
  TRY("umount2", umount2("/nonexistent-ww-seccomp", 0));
  TRY("chroot", chroot("/nonexistent-ww-seccomp"));
  TRY("setns", setns(-1, 0));
  TRY("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0));
  TRY("ptrace", syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, 0x3fffffff, 0, 0));
  TRY("process_vm_readv", syscall(SYS_process_vm_readv, 0x3fffffff, NULL, 0, NULL, 0, 0));
  TRY("bpf", syscall(SYS_bpf, 0xffff, NULL, 0));
  TRY("personality(0xffffffff)", syscall(SYS_personality, 0xffffffffUL));
#ifdef __x86_64__
  TRY("x32 getpid", syscall(0x40000000 | SYS_getpid));
  /* i386 getpid through int 0x80: seccomp_data.arch is AUDIT_ARCH_I386. */
  pid = fork();
  if (pid == 0) {
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* no core file from the SIGSYS */
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
    _exit(r > 0 ? 0 : 1);
  }
  reap("int 0x80 getpid", pid);
#endif
  /* Last: without a filter these really change the process. */
  TRY("unshare(0)", unshare(0));
  TRY("unshare(CLONE_NEWUSER)", unshare(CLONE_NEWUSER));
  printf("}\n");
  return 0;
}
`;

const hostArch = Deno.build.arch as SeccompArch;

/**
 * What the probe's calls get under the filter. `i386Entry`: whether this machine executes i386
 * system calls at all (some hypervisors give int 0x80 SIGSEGV before any filter sees it).
 */
function expectedUnderFilter(i386Entry: boolean): Record<string, string> {
  const expected: Record<string, string> = {
    seccomp_mode: "2",
    getpid: "OK",
    read: "OK",
    write: "OK",
    openat: "OK",
    mmap: "OK",
    futex: "OK",
    fork: "OK",
    execve: "OK",
    pthread_create: "OK",
    "clone(SIGCHLD)": "OK",
    "clone(CLONE_NEWNS)": "EPERM",
    "clone(CLONE_NEWCGROUP)": "EPERM",
    "clone(CLONE_NEWUTS)": "EPERM",
    "clone(CLONE_NEWIPC)": "EPERM",
    "clone(CLONE_NEWUSER)": "EPERM",
    "clone(CLONE_NEWPID)": "EPERM",
    "clone(CLONE_NEWNET)": "EPERM",
    clone3: "ENOSYS",
    // ENOTTY is the kernel's own answer for /dev/null: the call got through.
    "ioctl(TCGETS)": "ENOTTY",
    "ioctl(0x5412 << 32 | TCGETS)": "ENOTTY",
    "ioctl(TIOCSTI)": "EPERM",
    "ioctl(0xdead << 32 | TIOCSTI)": "EPERM",
    "ioctl(TIOCLINUX)": "EPERM",
    mount: "EPERM",
    umount2: "EPERM",
    chroot: "EPERM",
    setns: "EPERM",
    keyctl: "EPERM",
    ptrace: "EPERM",
    process_vm_readv: "EPERM",
    bpf: "EPERM",
    "personality(0xffffffff)": "OK",
    "unshare(0)": "EPERM",
    "unshare(CLONE_NEWUSER)": "EPERM",
  };
  if (hostArch === "x86_64") {
    expected["x32 getpid"] = "EPERM";
    expected["int 0x80 getpid"] = i386Entry ? "SIGSYS" : "SIGSEGV";
  }
  return expected;
}

async function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string }> {
  let output;
  try {
    output = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`${cmd} is required by the real-kernel seccomp test but is not installed`);
    }
    throw error;
  }
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  if (output.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${output.code}\n${stdout}\n${stderr}`);
  }
  return { code: output.code, stdout };
}

Deno.test({
  name: "on the real kernel, the program denies what it should and allows the rest",
  ignore: Deno.build.os !== "linux",
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "ww-seccomp-test-" });
    try {
      await Deno.writeTextFile(`${dir}/probe.c`, PROBE_C);
      await run("gcc", [
        "-O1",
        "-Wall",
        "-Werror",
        "-pthread",
        "-o",
        `${dir}/probe`,
        `${dir}/probe.c`,
      ]);
      const filter = `${dir}/filter.bpf`;
      await Deno.writeFile(filter, seccompProgram(hostArch));
      const probe = async (cmd: string, args: string[]) =>
        JSON.parse((await run(cmd, args)).stdout) as Record<string, string>;

      let i386Entry = true;
      await t.step(
        "without the filter, the probe's calls get the kernel's own errors",
        async () => {
          const seen = await probe(`${dir}/probe`, []);
          if (hostArch === "x86_64" && seen["int 0x80 getpid"] === "SIGSEGV") {
            i386Entry = false;
            console.error(
              "seccomp_test: this machine has no i386 syscall entry (int 0x80 gets SIGSEGV " +
                "without a filter): the filter's architecture check is tested on the model only",
            );
          }
          // None of these is EPERM/ENOSYS on its own, so the filtered answers below are the filter's.
          const expected: Record<string, string> = {
            seccomp_mode: "0",
            clone3: "EINVAL",
            "ioctl(TIOCSTI)": "ENOTTY",
            "ioctl(0xdead << 32 | TIOCSTI)": "ENOTTY",
            setns: "EBADF",
            ptrace: "ESRCH",
            chroot: "ENOENT",
            mount: "ENOENT",
          };
          if (hostArch === "x86_64") expected["int 0x80 getpid"] = i386Entry ? "OK" : "SIGSEGV";
          const subset = Object.fromEntries(Object.keys(expected).map((key) => [key, seen[key]]));
          assert.deepEqual(subset, expected);
        },
      );

      await t.step("installed with seccomp(SECCOMP_SET_MODE_FILTER)", async () => {
        assert.deepEqual(await probe(`${dir}/probe`, [filter]), expectedUnderFilter(i386Entry));
      });

      await t.step("passed to bwrap --seccomp FD", async () => {
        // bwrap reads the program from an inherited fd; a shell opens it as fd 3.
        const script = 'exec bwrap --ro-bind / / --dev /dev --proc /proc --seccomp 3 "$1" 3<"$2"';
        const seen = await probe("sh", ["-c", script, "sh", `${dir}/probe`, filter]);
        assert.deepEqual(seen, expectedUnderFilter(i386Entry));
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
