// The escapes of escape_test.ts, the grants of grants_test.ts and the limits of limits_test.ts,
// run under --jail=native (Landlock + seccomp + no_new_privs + rlimits, no namespaces), with the
// same hostile program (hostile.c). Every escape those mechanisms can stop must be stopped; each
// test names the mechanism that stops it, by the errno it produces. The two escapes only a
// namespace (or cgroup) can stop are stated as such (see README-native.md).
//
// ww runs as root here, so the program runs as nobody: the host fixtures are opened to everyone,
// so that Landlock, not file permissions, is what must stop each file escape.

import assert from "node:assert/strict";
import { join } from "node:path";
import { reportFds } from "../support/children.ts";
import { exists, processesWithArg } from "../support/procs.ts";
import { fdNumbers, parseReport as parseFdReport } from "../support/report.ts";
import { buildC } from "../support/build.ts";
import { runWw, runWwAsUser, startWw, type WwResult } from "../support/ww.ts";
import { runUnder } from "./deny.ts";
import {
  greeting,
  type Host,
  type HostileRun,
  i386EntryMissing,
  killMarked,
  outcome,
  parseReport,
  runHostile,
  setUpHost,
  spawnHostile,
  waitFor,
} from "./hostile.ts";

const NATIVE = ["--jail=native"];

/**
 * What python3 `-c script` does in the native jail run by the unprivileged uid 4242 (HOME of its
 * own), once with each of `flagSets`.
 */
async function pythonAsUser(script: string, flagSets: string[][]): Promise<WwResult[]> {
  const home = Deno.makeTempDirSync({ prefix: "wwtest-user-home-" });
  Deno.chmodSync(home, 0o777);
  try {
    const results: WwResult[] = [];
    for (const flags of flagSets) {
      const args = ["run", ...NATIVE, ...flags, "/usr/bin/python3", "-c", script];
      results.push(await runWwAsUser(4242, args, home));
    }
    return results;
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
}
const host = await setUpHost();
const noI386Entry = await i386EntryMissing();
globalThis.addEventListener("unload", () => host.close());
Deno.chmodSync(host.callerCwd, 0o755);
Deno.chmodSync(host.cwdFile, 0o644);
Deno.chmodSync(host.hostDir, 0o777);
Deno.chmodSync(host.tmpDir, 0o1777);

const test = (name: string, fn: () => Promise<void>) =>
  // The host's listeners accept in the background, across tests.
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

function run(probes: string[], flags: string[] = [], params = host.params): Promise<HostileRun> {
  return runHostile({
    flags: [...NATIVE, ...flags],
    probes,
    params,
    cwd: host.callerCwd,
    tmpDir: host.tmpDir,
  });
}

interface Blocked {
  readonly probe: string;
  /** Completes "a program cannot ...". */
  readonly does: string;
  /** The mechanism that stops it. */
  readonly by: string;
  /** The detail that shows that mechanism decided (its errno). */
  readonly detail: RegExp;
  readonly flags?: (host: Host) => string[];
  readonly leaves?: (host: Host, marker: string) => string;
}

const BLOCKED: Blocked[] = [
  { probe: "read_shadow", does: "read /etc/shadow", by: "Landlock", detail: /EACCES/ },
  {
    probe: "read_cwd_file",
    does: "read a world-readable file in the caller's working directory",
    by: "Landlock",
    detail: /open .*caller-secret\.txt: EACCES/,
  },
  { probe: "read_home_file", does: "read a file in $HOME", by: "Landlock", detail: /EACCES/ },
  {
    probe: "write_usr",
    does: "create a file under /usr",
    by: "Landlock",
    detail: /EACCES/,
    leaves: (_, m) => `/usr/ww-escape-${m}`,
  },
  {
    probe: "write_host_dir",
    does: "create a file in a world-writable host directory",
    by: "Landlock",
    detail: /create .*: EACCES/,
    leaves: (h, m) => join(h.hostDir, `ww-escape-${m}`),
  },
  {
    probe: "write_workdir_parent",
    does: "create a file in the world-writable TMPDIR that holds its work directory",
    by: "Landlock",
    detail: /create \.\.\/ww-escape-.*: EACCES/,
    leaves: (h, m) => join(h.tmpDir, `ww-escape-${m}`),
  },
  {
    probe: "see_host_pid",
    does: "signal or read /proc of a host process",
    by: "Landlock (signal scope, no /proc)",
    detail: /kill\(\d+, 0\): EPERM; open \/proc\/\d+\/cmdline: EACCES/,
  },
  {
    probe: "count_processes",
    does: "list host processes in /proc",
    by: "Landlock",
    detail: /opendir \/proc: EACCES/,
  },
  {
    probe: "signal_ww",
    does: "signal ww",
    by: "Landlock signal scope",
    detail: /kill\(\d+, 0\): EPERM/,
  },
  { probe: "ptrace_ww", does: "ptrace-attach to ww", by: "seccomp", detail: /EPERM/ },
  {
    probe: "proc_root_ww",
    does: "open ww's root directory via /proc/<pid>/root",
    by: "Landlock",
    detail: /EACCES/,
  },
  { probe: "vm_read_ww", does: "read ww's memory", by: "seccomp", detail: /EPERM/ },
  {
    probe: "tcp_connect",
    does: "connect to a TCP listener on 127.0.0.1",
    by: "Landlock TCP rights",
    detail: /connect 127\.0\.0\.1:\d+: EACCES/,
  },
  {
    probe: "abstract_connect",
    does: "connect to a host abstract unix socket",
    // Without --net it has no unix socket of its own to connect with (with --net, the network
    // namespace as root, else Landlock's scope: below).
    by: "seccomp: no unix socket of its own without --net",
    detail: /socket\(AF_UNIX\): EACCES/,
  },
  {
    probe: "path_connect",
    does: "connect to a host unix socket by path (as an ssh-agent's or D-Bus's)",
    // Landlock checks no connect by path, and there is no mount namespace to hide the socket.
    by: "seccomp: no unix socket of its own without --net",
    detail: /socket\(AF_UNIX\): EACCES/,
  },
  {
    probe: "raw_socket",
    does: "open a raw packet socket",
    by: "seccomp: unix, IP and netlink sockets only; no capabilities either",
    detail: /socket\(AF_PACKET, SOCK_RAW\): EAFNOSUPPORT/,
  },
  {
    probe: "mptcp_connect",
    does: "connect to a TCP listener on 127.0.0.1 over MPTCP",
    by: "seccomp: Landlock's TCP rights miss MPTCP",
    detail: /IPPROTO_MPTCP\): EPROTONOSUPPORT/,
  },
  {
    probe: "vsock_socket",
    does: "open an AF_VSOCK socket",
    by: "seccomp",
    detail: /socket\(AF_VSOCK\): EAFNOSUPPORT/,
  },
  {
    probe: "setuid_own",
    does: "leave a setuid or setgid file of its own id",
    by: "seccomp",
    detail:
      /open\(O_CREAT, 06755\): EPERM; .*fchmod 4755: EPERM; chmod 2755: EPERM; fchmodat 6755: EPERM/,
  },
  { probe: "io_uring", does: "set up an io_uring", by: "seccomp", detail: /ENOSYS/ },
  { probe: "mount", does: "mount a tmpfs", by: "seccomp", detail: /EPERM/ },
  { probe: "fsopen", does: "start a mount with fsopen", by: "seccomp", detail: /EPERM/ },
  { probe: "unshare_user", does: "unshare a user namespace", by: "seccomp", detail: /EPERM/ },
  { probe: "unshare_mount", does: "unshare a mount namespace", by: "seccomp", detail: /EPERM/ },
  {
    probe: "clone_newuser",
    does: "clone into a user namespace",
    by: "seccomp",
    detail: /EPERM/,
  },
  {
    probe: "clone3_newuser",
    does: "clone3 into a user namespace",
    by: "seccomp",
    detail: /ENOSYS/,
  },
  { probe: "chroot", does: "chroot", by: "seccomp", detail: /EPERM/ },
  {
    probe: "chroot_i386",
    does: "chroot through the i386 syscall entry",
    by: "seccomp's arch check",
    detail: Deno.build.arch !== "x86_64"
      ? /not x86_64/
      // Where the machine itself gives int 0x80 SIGSEGV (escape_test says so), seccomp never sees it.
      : noI386Entry
      ? /killed by signal 11 /
      : /killed by signal 31/,
  },
  {
    probe: "load_module",
    does: "load a kernel module",
    by: "seccomp",
    detail: /init_module: EPERM; finit_module: EPERM/,
  },
  { probe: "keyctl", does: "use the kernel keyrings", by: "seccomp", detail: /EPERM.*EPERM/ },
  { probe: "bpf", does: "create a BPF map", by: "seccomp", detail: /EPERM/ },
  { probe: "perf_event_open", does: "open a perf event", by: "seccomp", detail: /EPERM/ },
  {
    probe: "open_by_handle",
    does: "open the host's root by a file handle",
    by: "seccomp",
    detail: /EPERM/,
  },
  { probe: "host_disk", does: "read the host's disk", by: "Landlock", detail: /EACCES/ },
  {
    probe: "mknod_disk",
    does: "make a device node for the host's disk",
    by: "no capabilities",
    detail: /mknod .*: EPERM/,
  },
  {
    probe: "write_sysctl",
    does: "open a host sysctl",
    by: "Landlock",
    detail: /open \/proc\/sys\/kernel\/core_pattern: EACCES/,
  },
  {
    probe: "sysrq",
    does: "open /proc/sysrq-trigger for writing",
    by: "Landlock",
    // Landlock decides after the lookup: a kernel without magic SysRq has no such file.
    detail: exists("/proc/sysrq-trigger") ? /EACCES/ : /ENOENT/,
  },
];

for (const b of BLOCKED) {
  test(`native jail: a program cannot ${b.does} (${b.by})`, async () => {
    const r = await run([b.probe], b.flags?.(host));
    const o = outcome(r, b.probe);
    assert.equal(o.escaped, false, `${b.probe} escaped: ${o.detail}`);
    assert.match(o.detail, b.detail);
    const left = b.leaves?.(host, r.params.marker);
    if (left) assert.equal(exists(left), false, `${left} exists on the host`);
  });
}

test("native jail: a setuid-root binary runs as the jail's leased uid (no_new_privs)", async () => {
  const r = await run(["setuid_exec"], ["--ro-bind", host.setuidDir]);
  // print-creds reads its capabilities from /proc/self/status, which a child of the program
  // cannot open under Landlock, so only its euid is reported; that it is not 0 is the point.
  assert.match(outcome(r, "setuid_exec").detail, /reported: euid=7\d{4} /);
});

test("native jail: a program cannot inject keystrokes into ww's terminal (seccomp)", async () => {
  const r = await runHostile({
    flags: NATIVE,
    probes: ["tiocsti"],
    tty: true,
    tmpDir: host.tmpDir,
  });
  const o = outcome(r, "tiocsti");
  assert.match(o.detail, /fd 0 is a terminal; TIOCSTI on fd 0: EPERM/);
  assert.equal(o.escaped, false, o.detail);
});

test("native jail, no pid namespace: a program can open a pidfd for ww (an inert one)", async () => {
  // Nothing hides ww's pid; pidfd_open needs no permission. What the pidfd could do is stopped:
  // pidfd_send_signal by the Landlock signal scope, pidfd_getfd and setns by seccomp.
  const o = outcome(await run(["pidfd_ww"]), "pidfd_ww");
  assert.equal(o.escaped, true, o.detail);
});

test("native jail: the program's own identity has no capabilities, no_new_privs and seccomp", async () => {
  // dash's read builtin runs in the program itself, whose /proc/self Landlock allows.
  const script = 'while read -r l; do case "$l" in Cap*|NoNewPrivs*|Seccomp:*|Uid*|Gid*|Groups*) ' +
    'echo "$l";; esac; done < /proc/self/status';
  const r = await runWw(["run", ...NATIVE, "/bin/sh", "-c", script]);
  assert.equal(r.code, 0, r.stderr);
  const status = Object.fromEntries(
    r.stdout.trim().split("\n").map((l) => l.split(":").map((s) => s.trim())),
  );
  for (const cap of ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]) {
    assert.equal(status[cap], "0000000000000000", `${cap}: ${status[cap]}`);
  }
  assert.equal(status.NoNewPrivs, "1");
  assert.equal(status.Seccomp, "2");
  // ww is root: the program runs as the host id leased for this jail (70000-79999 by default).
  assert.match(status.Uid, /^(7\d{4})\s+\1\s+\1\s+\1$/);
  assert.match(status.Gid, /^(7\d{4})\s+\1\s+\1\s+\1$/);
  assert.equal(status.Uid, status.Gid);
  assert.equal(status.Groups, "");
});

// Landlock granted the program all of its /proc/self, and some of it shows the host: mountinfo
// (the host's mounts, and each thread's again under task), and on the host's network (ww not root,
// no --net) net, every TCP and unix socket of the host. Its own entries are granted one by one
// instead; net where the network is the jail's own (root) or shared (--net).
test("native jail: the program reads its own /proc entries, not the host's sockets or mounts", async () => {
  const script = [
    "import os",
    "def can(path):",
    "    try:",
    "        open(path).read(1); return 'read'",
    "    except OSError as e:",
    "        return os.strerror(e.errno)",
    "task = f'/proc/self/task/{os.getpid()}'",
    "print(can('/proc/self/status'), len(os.listdir('/proc/self/fd')) > 0, can('/proc/self/net/tcp'),",
    "      can('/proc/self/net/unix'), can(task + '/net/unix'), can('/proc/self/mountinfo'),",
    "      can(task + '/mountinfo'))",
  ].join("\n");
  const denied = "Permission denied";
  const own = `read True read read ${denied} ${denied} ${denied}\n`;
  const root = await runWw(["run", ...NATIVE, "/usr/bin/python3", "-c", script]);
  assert.equal(root.code, 0, root.stderr);
  assert.equal(root.stdout, own, root.stderr);
  const [offline, shared] = await pythonAsUser(script, [[], ["--net"]]);
  assert.equal(offline.code, 0, offline.stderr);
  assert.equal(offline.stdout, `read True ${denied} ${denied} ${denied} ${denied} ${denied}\n`);
  assert.equal(shared.code, 0, shared.stderr);
  assert.equal(shared.stdout, own, shared.stderr);
});

test("native jail: --uid and --gid choose the program's ids when ww runs as root", async () => {
  const r = await runWw(["run", ...NATIVE, "--uid", "4242", "--gid", "4343", "/usr/bin/id"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^uid=4242 gid=4343 groups=4343$/m);
});

test("native jail: --uid 0 is refused in one line", async () => {
  const r = await runWw(["run", ...NATIVE, "--uid", "0", "/usr/bin/id"]);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^ww: --uid 0: the native jail runs programs as an unprivileged user/);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
});

test("native jail: the program holds exactly fd 0-3 and its grant, whatever the caller holds", async () => {
  const child = await reportFds();
  const r = await runWw(["run", ...NATIVE, "--with-fd", "host=7", child], {
    fds: { 7: { read: "/etc/hostname" }, 9: { read: "/etc/hostname" }, 1500: { pipe: "x" } },
  });
  assert.equal(r.code, 0, r.stderr);
  const report = parseFdReport(r.stdout);
  assert.deepEqual(fdNumbers(report), [0, 1, 2, 3, 4]);
  assert.deepEqual(report.env, { WW_FD_HOST: "4" });
});

test("native jail: the work directory may sit in a TMPDIR only root can enter", async () => {
  const tmp = Deno.makeTempDirSync({ prefix: "wwtest-private-tmp-" });
  try {
    assert.equal(Deno.statSync(tmp).mode! & 0o777, 0o700);
    const r = await runWw(["run", ...NATIVE, await reportFds()], { env: { TMPDIR: tmp } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(parseFdReport(r.stdout).cwd, new RegExp(`^${tmp}/ww-`));
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

test("native jail: --with-fd, --ro-bind and --bind grant exactly what they say", async () => {
  const ro = Deno.makeTempDirSync({ dir: host.hostDir, prefix: "ro-" });
  const rw = Deno.makeTempDirSync({ dir: host.hostDir, prefix: "rw-" });
  Deno.chmodSync(ro, 0o777);
  Deno.chmodSync(rw, 0o777);
  Deno.writeTextFileSync(join(ro, "shown.txt"), "shown read-only\n");
  const granted = join(host.hostDir, `granted-${crypto.randomUUID()}.txt`);
  Deno.writeTextFileSync(granted, "from the caller\n");
  const r = await runHostile({
    flags: [...NATIVE, "--with-fd", "data=7", "--ro-bind", ro, "--bind", rw],
    probes: ["granted_fd", "read_bound_file", "write_ro_bind", "write_rw_bind"],
    params: { grantfd: "4", robindfile: join(ro, "shown.txt"), rodir: ro, rwdir: rw },
    before: `exec 7<>'${granted}'`,
    tmpDir: host.tmpDir,
  });
  assert.equal(outcome(r, "granted_fd").escaped, true, outcome(r, "granted_fd").detail);
  assert.equal(Deno.readTextFileSync(granted), "from the caller\nwritten by hostile\n");
  assert.match(outcome(r, "read_bound_file").detail, /shown read-only/);
  const roWrite = outcome(r, "write_ro_bind");
  assert.equal(roWrite.escaped, false, roWrite.detail);
  assert.match(roWrite.detail, /EACCES/);
  assert.equal(exists(join(ro, `ww-escape-${r.params.marker}`)), false);
  assert.equal(outcome(r, "write_rw_bind").escaped, true, outcome(r, "write_rw_bind").detail);
  assert.equal(exists(join(rw, `ww-escape-${r.params.marker}`)), true);
});

test("native jail: --net lets the program reach 127.0.0.1 and abstract sockets, and unix sockets by path", async () => {
  const r = await run(["tcp_connect", "abstract_connect", "path_connect"], ["--net"]);
  // Landlock checks no connect by path: with --net the host's unix sockets are open to it.
  assert.match(outcome(r, "path_connect").detail, new RegExp(greeting("path")));
  assert.match(outcome(r, "tcp_connect").detail, new RegExp(greeting("tcp")));
  assert.match(outcome(r, "abstract_connect").detail, new RegExp(greeting("abstract")));
});

test("native jail: a fork bomb stops at --nproc 50 (RLIMIT_NPROC of nobody)", async () => {
  const o = outcome(await run(["fork_bomb"], ["--nproc", "50"], { nproc: "50" }), "fork_bomb");
  assert.equal(o.escaped, false, o.detail);
  assert.match(o.detail, /then EAGAIN/);
});

test("native jail: a memory bomb stops at --memory 64M (RLIMIT_DATA)", async () => {
  const mib = 2 ** 20;
  const r = await run(["memory_bomb"], ["--memory", "64M"], { memory: String(64 * mib) });
  const o = outcome(r, "memory_bomb");
  assert.equal(o.escaped, false, o.detail);
  assert.match(o.detail, /then malloc failed/);
});

// Each probe runs in a child of hostile: when that fork fails, the report must say so, not show a
// probe that "ended before reporting" (which is how a limit test would fail for reasons of its own).
test("native jail: a probe hostile cannot fork for says why (--nproc 1: EAGAIN)", async () => {
  const r = await run(["memory_bomb"], ["--nproc", "1"], { memory: String(2 ** 20) });
  const o = outcome(r, "memory_bomb");
  assert.equal(o.detail, "fork (to run the probe): EAGAIN");
});

// Starts hostile with `probes` and "hold" under the native jail; resolves once its report is out.
async function holding(probes: string[], flags: string[], params: Record<string, string>) {
  const running = await spawnHostile({
    flags: [...NATIVE, ...flags],
    probes: [...probes, "hold"],
    params,
    tmpDir: host.tmpDir,
  });
  const stdout = running.process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await stdout.read();
    if (done) break;
    out += value;
  }
  return { running, report: parseReport(out), stdout };
}

test("native jail: the program dies within 3 s of ww being SIGKILLed (death signal)", async () => {
  const { running, stdout } = await holding(["read_shadow"], [], {});
  // ww's and the program's argv both hold it.
  const marker = `marker=${running.params.marker}`;
  try {
    assert.equal(processesWithArg(marker).length, 2, "ww and the program are not both running");
    Deno.kill(running.pid, "SIGKILL");
    assert.ok(await waitFor(() => processesWithArg(marker).length === 0, 3000), "it outlived ww");
  } finally {
    for (const pid of processesWithArg(marker)) Deno.kill(pid, "SIGKILL");
    await stdout.cancel();
    await running.process.stderr.cancel();
    await running.process.status;
  }
});

// Issue 11 ("Lifetime") changed this: the sleeper used to outlive ww (no pid namespace); the
// stage's supervisor, a subreaper, now SIGKILLs every descendant when ww dies.
test("native jail: a sleeper in a new session dies with ww (the stage's supervisor, README-native.md)", async () => {
  const dir = Deno.makeTempDirSync({ dir: host.hostDir, prefix: "beacon-" });
  Deno.chmodSync(dir, 0o777);
  const { running, report, stdout } = await holding(["outlive"], ["--bind", dir], {
    beacon: join(dir, "beacon"),
  });
  try {
    assert.match(report.outlive.detail, /: running$/);
    Deno.kill(running.pid, "SIGKILL");
    await running.process.status;
    // The sleeper's argv holds the bare marker; ww's and the program's held "marker=...".
    assert.ok(
      await waitFor(() => processesWithArg(running.params.marker).length === 0, 3000),
      "the sleeper outlived ww",
    );
  } finally {
    for (const pid of processesWithArg(`marker=${running.params.marker}`)) {
      Deno.kill(pid, "SIGKILL");
    }
    killMarked(running.params.marker);
    await stdout.cancel().catch(() => {});
    await running.process.stderr.cancel().catch(() => {});
  }
});

test("native jail on a kernel without Landlock: one line naming what is missing, exit 125", async () => {
  const r = await runUnder("landlock", ["run", ...NATIVE, "/bin/true"]);
  assert.equal(r.code, 125, r.stderr);
  assert.equal(
    r.stderr.trim(),
    "ww: --jail=native: this machine cannot enforce landlock-filesystem, landlock-truncate, landlock-tcp, landlock-scope (no Landlock); use --jail=bwrap or a newer kernel, or accept a weaker jail with --allow-weaker-jail",
  );
});

test("native jail on a kernel without Landlock: --allow-weaker-jail runs it and warns", async () => {
  const r = await runUnder("landlock", [
    "run",
    ...NATIVE,
    "--allow-weaker-jail",
    "/bin/sh",
    "-c",
    "echo program-first >&2; read -r l < /etc/hostname && echo read-host-file; mount -t tmpfs x . || echo mount-denied",
  ]);
  assert.equal(r.code, 0, r.stderr);
  // No Landlock: files are open; seccomp and the rest still hold.
  assert.match(r.stdout, /read-host-file/);
  assert.match(r.stdout, /mount-denied/);
  // ww's warning is written before the program runs: its first line, whole, before the
  // program's own (a parallel run once saw "mount: ww: warning: ..." when it came after).
  const lines = r.stderr.split("\n");
  assert.equal(
    lines[0],
    "ww: warning: /bin/sh runs in a weaker jail: not enforced: landlock-filesystem, landlock-truncate, landlock-tcp, landlock-scope (--allow-weaker-jail)",
    r.stderr,
  );
  assert.equal(lines[1], "program-first");
});

test("native jail --explain lists every Landlock rule and marks what the kernel lacks", async () => {
  const full = await runWw(["run", ...NATIVE, "--explain", "/bin/true"]);
  assert.equal(full.code, 0, full.stderr);
  assert.match(full.stdout, /^jail: native .*\(--jail=native\)$/m);
  assert.match(full.stdout, /^ {4}\/usr read,list,execute$/m);
  assert.match(full.stdout, /^ {4}\/tmp\/ww-XXXXXX read,list,execute,write,create\/delete/m);
  assert.match(full.stdout, /^ {2}enforced: landlock-scope/m);
  assert.doesNotMatch(full.stdout, /NOT enforced/);
  const weak = await runUnder("landlock", [
    "run",
    ...NATIVE,
    "--allow-weaker-jail",
    "--explain",
    "/bin/true",
  ]);
  assert.equal(weak.code, 0, weak.stderr);
  assert.match(weak.stdout, /^ {2}landlock: not available$/m);
  assert.match(weak.stdout, /^ {2}NOT enforced \(this kernel lacks it\): landlock-filesystem/m);
});

// Landlock scopes signals, not limits or priority: with the jail's uid shared by its supervisor
// (ww not root) or by a host process, a program lowered their file limit (the supervisor could then
// not end the jail, and ww hung), or reniced every process of the uid, or of a host process's
// group (getpgid names any), lasting past the run. The native filter refuses these; naming a
// process for its priority or CPUs stays allowed (libraries name their own threads).
test("native jail run by an unprivileged user: no other process's limits, no user's or group's priority", async () => {
  const probe = await buildC(new URL("./others_probe.c", import.meta.url));
  const home = Deno.makeTempDirSync({ prefix: "wwtest-user-home-" });
  Deno.chmodSync(home, 0o777);
  const uid = 4243;
  const victim = new Deno.Command("setpriv", {
    // A process group of its own, which the probe reaches through getpgid.
    args: [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "setsid", "sleep", "30"],
  }).spawn();
  try {
    const limits = () => Deno.readTextFileSync(`/proc/${victim.pid}/limits`);
    const before = limits();
    for (const target of ["ppid", String(victim.pid)]) {
      const r = await runWwAsUser(uid, ["run", ...NATIVE, probe, target], home);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "EPERM ok EPERM EPERM EPERM ok\n", `${target}: ${r.stderr}`);
    }
    assert.equal(limits(), before);
  } finally {
    victim.kill("SIGKILL");
    await victim.status;
    Deno.removeSync(home, { recursive: true });
  }
});

// Netlink of any protocol but route was open to a native jail without --net: on the host's
// network (ww not root) NETLINK_USERSOCK was a datagram channel to host processes and other jails
// (to any port id), and NETLINK_SOCK_DIAG listed every socket of the host; in the network
// namespace of its own (ww root), which the initial user namespace owns, it heard the host's
// device events (NETLINK_KOBJECT_UEVENT). With --net it shares the host's network, netlink too.
test("native jail without --net: netlink is route alone, as root and as an unprivileged user", async () => {
  const probe = await buildC(new URL("./netlink_probe.c", import.meta.url));
  const protocols = ["route", "usersock", "sock_diag", "uevent"];
  const home = Deno.makeTempDirSync({ prefix: "wwtest-user-home-" });
  Deno.chmodSync(home, 0o777);
  try {
    const asUser = await runWwAsUser(4245, ["run", ...NATIVE, probe, ...protocols], home);
    assert.equal(asUser.code, 0, asUser.stderr);
    assert.equal(asUser.stdout, "ok EACCES EACCES EACCES\n");
    const asRoot = await runWw(["run", ...NATIVE, probe, ...protocols]);
    assert.equal(asRoot.code, 0, asRoot.stderr);
    assert.equal(asRoot.stdout, "ok EACCES EACCES EACCES\n");
    const online = await runWw(["run", ...NATIVE, "--net", probe, ...protocols]);
    assert.equal(online.code, 0, online.stderr);
    assert.equal(online.stdout, "ok ok ok ok\n");
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

// The supervisor, ww's uid here, entered a 0500 directory (a Go module cache is 0555) but could
// remove nothing in it: the work directory was left behind.
test("native jail run by an unprivileged user: a read-only directory in the work directory goes too", async () => {
  const home = Deno.makeTempDirSync({ prefix: "wwtest-user-home-" });
  Deno.chmodSync(home, 0o777);
  const tmp = `${home}/tmp`;
  Deno.mkdirSync(tmp, { mode: 0o777 });
  Deno.chmodSync(tmp, 0o777);
  try {
    const script = "mkdir -p d/e && touch d/e/f && chmod 0500 d/e d && echo made";
    const r = await runWwAsUser(4244, ["run", ...NATIVE, "/bin/sh", "-c", script], home, {
      TMPDIR: tmp,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "made\n");
    assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), []);
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

test("native jail run by an unprivileged user: same uid, yet the program cannot signal ww", async () => {
  // Landlock's signal scope is what protects ww here: the uid alone would allow the kill.
  const home = Deno.makeTempDirSync({ prefix: "wwtest-user-home-" });
  Deno.chmodSync(home, 0o777);
  try {
    const script = 'id -u; kill -0 "$PPID" && echo signalled-ww || echo cannot-signal-ww';
    const r = await runWwAsUser(4242, ["run", ...NATIVE, "/bin/sh", "-c", script], home);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "4242\ncannot-signal-ww\n", r.stderr);
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

// Without privileges there is no network namespace: a native jail sent UDP anywhere and listened
// on every host address through listen() on a socket it never bound, and connected by path to
// unix sockets Landlock does not check (the caller's ssh-agent, its D-Bus). Without --net it now
// opens no IP or unix socket (seccomp, EACCES); a socket ww grants still works, and --net gives
// them back.
test("native jail run by an unprivileged user without --net: no IP or unix socket of its own; a granted one works", async () => {
  const home = Deno.makeTempDirSync({ prefix: "wwtest-user-home-" });
  Deno.chmodSync(home, 0o777);
  const script = [
    "import os, socket",
    "out = []",
    "for family, kind in [(socket.AF_INET, socket.SOCK_DGRAM), (socket.AF_INET, socket.SOCK_STREAM),",
    "                     (socket.AF_INET6, socket.SOCK_DGRAM), (socket.AF_UNIX, socket.SOCK_STREAM)]:",
    "    try:",
    "        socket.socket(family, kind).close(); out.append('made')",
    "    except OSError as e:",
    "        out.append(os.strerror(e.errno))",
    "fd = os.environ.get('WW_FD_SRV')",
    "if fd: out.append(str(socket.socket(fileno=int(fd)).getsockname()[0]))",
    "print(','.join(out))",
  ].join("\n");
  try {
    const denied = "Permission denied";
    const offline = await runWwAsUser(4242, [
      "run",
      ...NATIVE,
      "--listen",
      "srv=tcp:127.0.0.1:0",
      "/usr/bin/python3",
      "-c",
      script,
    ], home);
    assert.equal(offline.code, 0, offline.stderr);
    assert.equal(
      offline.stdout,
      `${denied},${denied},${denied},${denied},127.0.0.1\n`,
      offline.stderr,
    );
    const online = await runWwAsUser(4242, [
      "run",
      ...NATIVE,
      "--net",
      "/usr/bin/python3",
      "-c",
      script,
    ], home);
    assert.equal(online.code, 0, online.stderr);
    assert.equal(online.stdout, "made,made,made,made\n", online.stderr);
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

// Abstract unix names live in a network namespace, and an unprivileged native jail has the
// host's: a stream socketpair's end, bound to a name, took it from the host service that owns it
// and served the host clients that connected. Without --net only a name the kernel picks is left
// (and a netlink address, which getifaddrs and if_nameindex bind); --net gives names back.
test("native jail run by an unprivileged user without --net: a socketpair takes no abstract name of the host", async () => {
  const name = `wwtest-${crypto.randomUUID()}`;
  const script = [
    "import os, socket",
    "def bind(address):",
    "    a, b = socket.socketpair()",
    "    try:",
    "        a.bind(address); return 'bound'",
    "    except OSError as e:",
    "        return os.strerror(e.errno)",
    `print(bind('\\0${name}'), bind(''), len(socket.if_nameindex()) > 0, flush=True)`,
  ].join("\n");
  const [offline, online] = await pythonAsUser(script, [[], ["--net"]]);
  assert.equal(offline.code, 0, offline.stderr);
  assert.equal(offline.stdout, "Permission denied bound True\n", offline.stderr);
  assert.equal(online.code, 0, online.stderr);
  assert.equal(online.stdout, "bound bound True\n", online.stderr);
});

// Landlock's TCP rights see bind and connect only: a native jail sent UDP anywhere, listened on
// every host address through listen() on a socket it never bound, and took abstract unix names
// that host clients then reached. As root (CAP_SYS_ADMIN) it now has a network of its own.
test("native jail as root, without --net: a network of its own, with nothing on the host's", async () => {
  const name = `wwtest-${crypto.randomUUID()}`;
  const script = [
    "import socket, time",
    "t = socket.socket(); t.listen()",
    "try:",
    `    u = socket.socket(socket.AF_UNIX); u.bind('\\0${name}'); u.listen()`,
    "except PermissionError:",
    "    pass  # no unix socket of its own without --net",
    "d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
    "try:",
    "    d.sendto(b'x', ('192.0.2.1', 9)); udp = 'sent'",
    "except OSError as e:",
    "    udp = 'unsent'",
    "print(t.getsockname()[1], udp, flush=True)",
    "time.sleep(30)",
  ].join("\n");
  const ww = startWw([...NATIVE, "/usr/bin/python3", "-c", script], {}, "stdout");
  try {
    const [port, udp] = (await ww.until(/\d+ \w+\n/)).trim().split(" ");
    assert.equal(udp, "unsent");
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: Number(port) }));
    const abstract = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", `import socket; socket.socket(socket.AF_UNIX).connect('\\0${name}')`],
      stderr: "piped",
    }).output();
    assert.equal(abstract.success, false, "a host client reached the jail's abstract socket");
  } finally {
    ww.proc.kill("SIGKILL");
    await ww.end();
  }
});

// Each run's network namespace is its own (no two jails share one, nor the host's), with its
// loopback up, as the stage makes it (stage/stage.c loopback_up). The two jails live at once: a
// namespace's inode number is reused once it is freed, so two runs one after the other may show
// the same number.
test("native jail as root, without --net: each run's network is its own, its loopback up", async () => {
  const script = [
    "import fcntl, os, signal, socket, struct, sys, time",
    "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))",
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
    // SIOCGIFFLAGS of lo: IFF_UP is bit 0.
    "ifr = fcntl.ioctl(s, 0x8913, struct.pack('16sH', b'lo', 0))",
    "up = struct.unpack('16sH', ifr)[1] & 1",
    "print(os.readlink('/proc/self/ns/net'), up, socket.if_nameindex(), flush=True)",
    // Held until the test has both lines (ww passes its SIGTERM on).
    "time.sleep(120)",
  ].join("\n");
  const runs = [1, 2].map(() =>
    startWw([...NATIVE, "/usr/bin/python3", "-c", script], {}, "stdout")
  );
  const lines = await Promise.all(runs.map((r) => r.until(/\n/)));
  for (const r of runs) r.proc.kill("SIGTERM");
  for (const r of await Promise.all(runs.map((r) => r.end()))) assert.equal(r.code, 0, r.stderr);
  const host = Deno.readLinkSync("/proc/self/ns/net");
  const nets = lines.map((line) => {
    const [net, up, ...links] = line.trim().split(" ");
    assert.match(net, /^net:\[\d+\]$/);
    assert.equal(up, "1", "its loopback is down");
    assert.equal(links.join(" "), "[(1, 'lo')]");
    return net;
  });
  assert.notEqual(nets[0], nets[1], "two jails shared a network");
  for (const net of nets) assert.notEqual(net, host, "a jail had the host's network");
});

// --tmp-size bounds bwrap's in-memory file systems; the native jail's work directory is in the
// host's TMPDIR, which it cannot bound: a run that asked for it ran without a word.
Deno.test("native: an explicit --tmp-size is said not to bound the jail; the default is not", async () => {
  const asked = await runWw(["run", "--jail=native", "--tmp-size", "1M", "/bin/true"]);
  assert.equal(asked.code, 0, asked.stderr);
  assert.equal(
    asked.stderr,
    "ww: warning: --tmp-size does not bound the native jail, whose work directory is in the host's TMPDIR (it bounds bwrap's in-memory file systems)\n",
  );
  const plain = await runWw(["run", "--jail=native", "/bin/true"]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stderr, "");
});
