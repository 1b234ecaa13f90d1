// Escapes a hostile program tries from inside `ww run`'s default jail (issue 3). Each one must
// fail there. Each also runs unjailed (--jail=none, as root) as a control: it must succeed there,
// which proves the probe can see an escape, so its jailed test can fail. Where even root cannot
// succeed on this machine, the control says why and checks exactly that reason.

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  greeting,
  type Host,
  type HostileRun,
  i386EntryMissing,
  outcome,
  runHostile,
  setUpHost,
} from "./hostile.ts";
import { exists } from "../support/procs.ts";

const host = await setUpHost();
globalThis.addEventListener("unload", () => host.close());

const noI386Entry = await i386EntryMissing();
if (noI386Entry) {
  console.error(
    "escape_test: this machine has no i386 syscall entry (int 0x80 gets SIGSEGV without any " +
      "filter), so the i386 escape cannot be tried here; jail/seccomp_test.ts checks the " +
      "filter's architecture check on the BPF model",
  );
}

interface Escape {
  /** The hostile.c probe. */
  readonly probe: string;
  /** What the program tries, completing "a program cannot ...". */
  readonly does: string;
  /** `ww run` flags the probe needs jailed (its fixtures must be visible). */
  readonly flags?: (host: Host) => string[];
  /** A host path the probe creates when it escapes: it must not exist after the jailed run. */
  readonly leaves?: (host: Host, marker: string) => string;
  /** Checks on the control's detail, beyond escaped == true. */
  readonly controlDetail?: RegExp;
  /** Why the control cannot escape on this machine, and the detail that shows it; or undefined. */
  readonly cannot?: () => { why: string; detail: RegExp } | undefined;
}

const ESCAPES: Escape[] = [
  { probe: "read_shadow", does: "read /etc/shadow" },
  { probe: "read_cwd_file", does: "read a file in the caller's working directory" },
  { probe: "read_home_file", does: "read a file in the caller's $HOME" },
  {
    probe: "write_usr",
    does: "create a file under /usr",
    leaves: (_, m) => `/usr/ww-escape-${m}`,
  },
  {
    probe: "write_host_dir",
    does: "create a file in a host directory outside its work directory",
    leaves: (h, m) => join(h.hostDir, `ww-escape-${m}`),
  },
  {
    probe: "write_workdir_parent",
    does: "create a file in the host directory that holds its work directory (..)",
    leaves: (h, m) => join(h.tmpDir, `ww-escape-${m}`),
  },
  { probe: "see_host_pid", does: "see a host process (the test's own pid)" },
  { probe: "count_processes", does: "list host processes in /proc" },
  { probe: "signal_ww", does: "signal ww (kill(ww's pid, 0))" },
  { probe: "ptrace_ww", does: "ptrace-attach to ww" },
  { probe: "pidfd_ww", does: "open a pidfd for ww" },
  { probe: "proc_root_ww", does: "open ww's root directory via /proc/<ww's pid>/root" },
  { probe: "vm_read_ww", does: "read ww's memory with process_vm_readv" },
  {
    probe: "tcp_connect",
    does: "connect to a TCP listener on the host's 127.0.0.1",
    controlDetail: new RegExp(greeting("tcp")),
  },
  {
    probe: "abstract_connect",
    does: "connect to a host abstract unix socket",
    controlDetail: new RegExp(greeting("abstract")),
  },
  {
    probe: "path_connect",
    does: "connect to a host unix socket by path (as an ssh-agent's or D-Bus's)",
    controlDetail: new RegExp(greeting("path")),
  },
  { probe: "raw_socket", does: "open a raw packet socket" },
  {
    probe: "mptcp_connect",
    does: "connect to a TCP listener on the host's 127.0.0.1 over MPTCP",
    controlDetail: new RegExp(greeting("tcp")),
    cannot: () =>
      readSysctl("net/mptcp/enabled") === "1"
        ? undefined
        : { why: "MPTCP is off or missing (net.mptcp.enabled)", detail: /ENOPROTOOPT|EPROTONOSUP/ },
  },
  {
    probe: "vsock_socket",
    does: "open an AF_VSOCK socket (the host's and hypervisor's vsock ports)",
    cannot: () =>
      exists("/dev/vsock") ? undefined : { why: "no vsock here (/dev/vsock)", detail: /EAFNOSUP/ },
  },
  {
    probe: "setuid_own",
    does: "leave a setuid or setgid file of its own id (open, chmod, fchmod, fchmodat)",
  },
  {
    probe: "io_uring",
    does: "set up an io_uring, which opens files and sockets where seccomp cannot see",
    cannot: () =>
      (readSysctl("kernel/io_uring_disabled") ?? "0") === "0"
        ? undefined
        : { why: "io_uring is disabled (kernel.io_uring_disabled)", detail: /EPERM|ENOSYS/ },
  },
  { probe: "mount", does: "mount a tmpfs" },
  { probe: "fsopen", does: "start a mount with the new mount API (fsopen)" },
  { probe: "unshare_user", does: "create a user namespace with unshare" },
  { probe: "unshare_mount", does: "create a mount namespace with unshare" },
  { probe: "clone_newuser", does: "create a user namespace with clone(CLONE_NEWUSER)" },
  { probe: "clone3_newuser", does: "create a user namespace with clone3(CLONE_NEWUSER)" },
  { probe: "chroot", does: "chroot" },
  {
    probe: "chroot_i386",
    does: "chroot through the i386 syscall entry (int 0x80), around an x86_64-only filter",
    cannot: () =>
      Deno.build.arch !== "x86_64"
        ? { why: "not x86_64: no i386 entry point", detail: /not x86_64/ }
        : noI386Entry
        ? { why: "int 0x80 gets SIGSEGV on this machine", detail: /killed by signal 11 / }
        : undefined,
  },
  {
    probe: "setuid_exec",
    does: "regain root (euid 0 or capabilities) by running a setuid-root binary",
    flags: (h) => ["--ro-bind", h.setuidDir],
    controlDetail: /euid=0 /,
  },
  {
    probe: "load_module",
    does: "get past the permission check of init_module/finit_module",
    cannot: () =>
      exists("/proc/modules")
        ? undefined
        : { why: "the kernel has no module support", detail: /init_module: ENOSYS/ },
  },
  { probe: "keyctl", does: "use the kernel keyrings (keyctl, add_key)" },
  { probe: "bpf", does: "create a BPF map" },
  { probe: "perf_event_open", does: "open a perf event" },
  {
    probe: "open_by_handle",
    does: "open the host's root directory by a hand-made file handle (Shocker)",
    controlDetail: / etc /,
  },
  {
    probe: "host_disk",
    does: "read the host's disk device",
    // This VM refuses raw access to its disk even to root (EPERM from open).
    cannot: () => machineRefusesDisk(),
  },
  {
    probe: "mknod_disk",
    does: "make and read a device node for the host's disk",
    cannot: () => machineRefusesDisk(),
  },
  { probe: "write_sysctl", does: "write a host sysctl (kernel.core_pattern, its own value back)" },
  {
    probe: "sysrq",
    does: "open /proc/sysrq-trigger for writing",
    cannot: () =>
      exists("/proc/sysrq-trigger")
        ? undefined
        : { why: "the kernel has no magic SysRq", detail: /ENOENT/ },
  },
];

/** A /proc/sys value, or undefined when the kernel has no such knob. */
function readSysctl(name: string): string | undefined {
  try {
    return Deno.readTextFileSync(`/proc/sys/${name}`).trim();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

function machineRefusesDisk(): { why: string; detail: RegExp } | undefined {
  try {
    Deno.openSync(host.disk, { read: true }).close();
    return undefined;
  } catch (e) {
    if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
    return { why: `the machine refuses root raw access to ${host.disk}`, detail: /EPERM/ };
  }
}

function run(probe: string, jail: "default" | "none", flags: string[] = []): Promise<HostileRun> {
  return runHostile({
    jail,
    flags,
    probes: [probe],
    params: host.params,
    cwd: host.callerCwd,
    tmpDir: host.tmpDir,
  });
}

const test = (name: string, fn: () => Promise<void>) =>
  // The host's listeners accept in the background, across tests.
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

for (const e of ESCAPES) {
  test(`default jail: a program cannot ${e.does}`, async () => {
    const r = await run(e.probe, "default", e.flags?.(host));
    const o = outcome(r, e.probe);
    assert.equal(o.escaped, false, `${e.probe} escaped: ${o.detail}`);
    const left = e.leaves?.(host, r.params.marker);
    if (left) assert.equal(exists(left), false, `${left} exists on the host`);
  });

  const cannot = e.cannot?.();
  const control = cannot
    ? `--jail=none control: even root cannot ${e.does} here (${cannot.why})`
    : `--jail=none control: root can ${e.does}, so the probe sees an escape`;
  test(control, async () => {
    const r = await run(e.probe, "none");
    const o = outcome(r, e.probe);
    const left = e.leaves?.(host, r.params.marker);
    try {
      if (cannot) {
        assert.equal(o.escaped, false, o.detail);
        assert.match(o.detail, cannot.detail);
        return;
      }
      assert.equal(o.escaped, true, o.detail);
      if (e.controlDetail) assert.match(o.detail, e.controlDetail);
      if (left) assert.equal(exists(left), true, `${left} is not on the host`);
    } finally {
      if (left && exists(left)) Deno.removeSync(left);
    }
  });
}

// The keystrokes would land in ww's terminal; script(1) gives ww a pseudo-terminal for this.
test("default jail: a program cannot inject keystrokes (TIOCSTI) into ww's terminal", async () => {
  const r = await runHostile({ probes: ["tiocsti"], tty: true, tmpDir: host.tmpDir });
  const o = outcome(r, "tiocsti");
  assert.match(o.detail, /fd 0 is a terminal/, "the probe needs a terminal on fd 0");
  assert.equal(o.escaped, false, o.detail);
});

test("--jail=none control: root can inject keystrokes (TIOCSTI) into its terminal", async () => {
  const r = await runHostile({
    jail: "none",
    probes: ["tiocsti"],
    tty: true,
    tmpDir: host.tmpDir,
  });
  const o = outcome(r, "tiocsti");
  assert.match(o.detail, /fd 0 is a terminal/);
  assert.equal(o.escaped, true, o.detail);
});

// The caller holds fd 9 without granting it; the program must find only 0-3.
const HOLD_FD_9 = "exec 9</etc/hostname";

test("default jail: a program finds no descriptor it was not granted", async () => {
  const r = await runHostile({ probes: ["list_fds"], params: host.params, before: HOLD_FD_9 });
  const o = outcome(r, "list_fds");
  assert.equal(o.escaped, false, o.detail);
  assert.match(o.detail, /granted fd 3 -> socket:/);
});

test("--jail=none: ww closes the caller's ungranted descriptors too", async () => {
  const r = await runHostile({
    jail: "none",
    probes: ["list_fds"],
    params: host.params,
    before: HOLD_FD_9,
  });
  assert.equal(outcome(r, "list_fds").escaped, false, outcome(r, "list_fds").detail);
});

test("control: run without ww, the probe does find the caller's fd 9", async () => {
  const r = await runHostile({
    direct: true,
    probes: ["list_fds"],
    params: host.params,
    before: HOLD_FD_9,
  });
  const o = outcome(r, "list_fds");
  assert.equal(o.escaped, true, o.detail);
  assert.match(o.detail, /NOT GRANTED fd 9 -> \/etc\/hostname/);
});
