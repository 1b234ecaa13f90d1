// The native jail's plan: rules, identity, limits, and what a kernel cannot enforce.
import assert from "node:assert/strict";
import { FS } from "./landlock.ts";
import { bindRequests } from "./binds.ts";
import { nativeBindRules } from "./bind_mounts.ts";
import {
  DEVICES,
  type NativeFacts,
  type NativeInput,
  nativePathCandidates,
  nativePlan,
  type NativePlanResult,
  PROC_SELF_NETWORK,
  PROC_SELF_PATHS,
  TERMINAL,
} from "./native.ts";
import { nativeStagePlan, planSeccompBytes } from "./native_stage.ts";
import { parseGroups, parseProcStatus, type ProcessIdentity } from "./proc_status.ts";
import { DEFAULT_POLICY, type JailPolicy } from "./policy.ts";
import { seccompProgram } from "./seccomp.ts";

const ROOT: ProcessIdentity = {
  uid: 0,
  euid: 0,
  gid: 0,
  egid: 0,
  capEffective: 0x1ffffffffffn,
  capPermitted: 0x1ffffffffffn,
};
const USER: ProcessIdentity = {
  uid: 1000,
  euid: 1000,
  gid: 1000,
  egid: 1000,
  capEffective: 0n,
  capPermitted: 0n,
};

function facts(over: Partial<NativeFacts> = {}): NativeFacts {
  const pathKinds: Record<string, "dir" | "file"> = {
    "/usr": "dir",
    "/bin": "dir",
    "/lib": "dir",
    "/etc/ld.so.cache": "file",
    "/etc/ld.so.conf.d": "dir",
    "/dev/null": "file",
    "/dev/urandom": "file",
    "/dev/tty": "file",
    "/home/u/app": "file",
    "/data": "dir",
    "/out": "dir",
    "/link": "dir",
  };
  return {
    landlockAbi: 7,
    seccomp: true,
    arch: "x86_64",
    identity: USER,
    capLastCap: 40,
    pathKinds,
    whyAbsent: (p) => `${p} is absent`,
    parentPid: 4321,
    ...over,
  };
}

/** Where input() numbers the binds' descriptors from (NativeInput.bindFds). */
const FIRST_BIND_FD = 20;
/** The descriptor input() gives the program's file (NativeInput.programFd). */
const PROGRAM_FD = 19;

function input(policy: Partial<JailPolicy> = {}, f: Partial<NativeFacts> = {}): NativeInput {
  const full: JailPolicy = { ...DEFAULT_POLICY, backend: "native", ...policy };
  return {
    policy: full,
    bindFds: nativeBindRules(bindRequests(full, (s) => f.realPaths?.[s] ?? s)).map((_, i) =>
      FIRST_BIND_FD + i
    ),
    programFd: PROGRAM_FD,
    programPath: "/home/u/app",
    programSource: "/home/u/app",
    argv: ["app", "-x"],
    env: ["A=1", "WW_FD_DB=4"],
    workdir: "/tmp/ww-1",
    facts: facts(f),
    statusFd: 6,
    closeOnExecFrom: 5,
    // run/ids.ts leases a host id when ww is root.
    ...(f.identity?.euid === 0 ? { leasedId: 70000 } : {}),
  };
}

function plan(policy: Partial<JailPolicy> = {}, f: Partial<NativeFacts> = {}): NativePlanResult {
  const r = nativePlan(input(policy, f));
  if ("error" in r) throw new Error(r.error);
  return r;
}

function error(policy: Partial<JailPolicy> = {}, f: Partial<NativeFacts> = {}): string {
  const r = nativePlan(input(policy, f));
  assert.ok("error" in r, "expected an error");
  return r.error;
}

/** The access of the rule on `path`, or on the descriptor ww opened as `path` (a bind's). */
const access = (r: NativePlanResult, path: string) =>
  r.plan.landlock?.rules.find((rule) => (rule.shows ?? rule.path) === path)?.access;

Deno.test("the plan executes the resolved program with exactly the given argv and env", () => {
  const { plan: p } = plan();
  assert.equal(p.path, "/home/u/app");
  assert.deepEqual(p.argv, ["app", "-x"]);
  assert.deepEqual(p.env, ["A=1", "WW_FD_DB=4"]);
  assert.equal(p.parentPid, 4321);
  assert.equal(p.statusFd, 6);
  assert.equal(p.closeOnExecFrom, 5);
});

Deno.test("only the system, the loader files, devices, the program and the work dir are ruled", () => {
  const r = plan();
  assert.deepEqual(r.plan.landlock?.rules.map((rule) => rule.shows ?? rule.path), [
    "/usr",
    "/bin",
    "/lib",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf.d",
    "/dev/null",
    "/dev/urandom",
    "/dev/tty",
    ...PROC_SELF_PATHS,
    "/home/u/app",
    "/tmp/ww-1",
  ]);
  // The program's file by the descriptor ww opened it as (a link swapped in for it widened the
  // rule the stage made by path); one in the system's directories needs none.
  assert.equal(
    r.plan.landlock?.rules[8 + PROC_SELF_PATHS.length].path,
    `/proc/self/fd/${PROGRAM_FD}`,
  );
  const system = nativePlan({ ...input(), programSource: "/usr/bin/app", programFd: undefined });
  assert.ok(!("error" in system) && !system.plan.landlock?.rules.some((x) => x.shows));
  assert.throws(
    () => nativePlan({ ...input(), programFd: undefined }),
    /a descriptor for the program's file/,
  );
});

Deno.test("system paths are read-only; the work directory is fully writable", () => {
  const r = plan();
  const ro = FS.EXECUTE | FS.READ_FILE | FS.READ_DIR;
  assert.equal(access(r, "/usr"), ro);
  assert.equal(access(r, "/etc/ld.so.cache"), FS.EXECUTE | FS.READ_FILE);
  assert.equal(access(r, "/home/u/app"), FS.EXECUTE | FS.READ_FILE);
  assert.equal(access(r, "/tmp/ww-1"), r.plan.landlock?.ruleset.handledFs);
  assert.equal((access(r, "/dev/null") ?? 0) & FS.WRITE_FILE, FS.WRITE_FILE);
  assert.equal((access(r, TERMINAL) ?? 0) & FS.IOCTL_DEV, FS.IOCTL_DEV);
  assert.equal(access(r, "/proc/self/fd"), FS.EXECUTE | FS.READ_FILE | FS.READ_DIR);
  assert.equal(access(r, "/proc/self/status"), FS.EXECUTE | FS.READ_FILE);
});

// /proc/self whole showed the host through the program's own entries: net (every TCP and unix
// socket of the host's network, as NETLINK_SOCK_DIAG, which seccomp refuses, would), mountinfo
// (the host's mounts), and each thread's net again under task.
Deno.test("the program reads its own /proc entries, not those that show the host", () => {
  // Every entry of PROC_SELF_PATHS, read-only, a directory's listing too: the stage skips one
  // this kernel's build leaves out.
  const r = plan();
  const proc = r.plan.landlock!.rules.filter((x) => x.path.startsWith("/proc/self/"));
  assert.deepEqual(proc.map((x) => x.path), [...PROC_SELF_PATHS, `/proc/self/fd/${PROGRAM_FD}`]);
  assert.equal(access(r, "/proc/self/fd"), FS.EXECUTE | FS.READ_FILE | FS.READ_DIR);
  assert.equal(access(r, "/proc/self/attr"), FS.EXECUTE | FS.READ_FILE | FS.READ_DIR);
  assert.equal(access(r, "/proc/self/maps"), FS.EXECUTE | FS.READ_FILE);
  // None of those that show the host (task: each thread's directory holds them all again).
  const hostly = /\/(net|task|ns|mounts|mountinfo|mountstats|map_files|root|cwd|exe)$/;
  assert.deepEqual(PROC_SELF_PATHS.filter((p) => hostly.test(p)), []);
  assert.ok(
    PROC_SELF_PATHS.includes("/proc/self/fd") && PROC_SELF_PATHS.includes("/proc/self/status"),
  );
  // net only where the network is not the host's: as root (a network of the jail's own), or with
  // --net (shared, as the program's sockets see it anyway).
  const network = (r: NativePlanResult) =>
    r.plan.landlock!.rules.filter((x) => PROC_SELF_NETWORK.includes(x.path)).map((x) => x.path);
  assert.deepEqual(network(plan()), []);
  assert.deepEqual(network(plan({ net: true })), ["/proc/self/net"]);
  assert.deepEqual(network(plan({}, { identity: ROOT })), ["/proc/self/net"]);
  assert.equal(
    access(plan({ net: true }), "/proc/self/net"),
    FS.EXECUTE | FS.READ_FILE | FS.READ_DIR,
  );
});

Deno.test("a program under a system directory needs no rule of its own", () => {
  const r = nativePlan({ ...input(), programPath: "/usr/bin/ls", programSource: "/usr/bin/ls" });
  assert.ok(!("error" in r));
  assert.equal(r.plan.landlock?.rules.some((rule) => rule.path === "/usr/bin/ls"), false);
});

/** A program from IPFS: no source path, executed from fd 5 of the stage. */
function held(sealed: boolean, script: boolean): NativePlanResult {
  const r = nativePlan({
    ...input(),
    programPath: "/ipfs/bafy/bin/app",
    programSource: undefined,
    held: { fd: 5, sealed, script },
    statusFd: 7,
    closeOnExecFrom: 5,
  });
  if ("error" in r) throw new Error(r.error);
  return r;
}

Deno.test("a program from a descriptor is executed from it, closed on exec unless a script", () => {
  assert.deepEqual(held(true, false).plan.held, { fd: 5, keepOpen: false });
  assert.deepEqual(held(false, true).plan.held, { fd: 5, keepOpen: true });
  assert.equal(plan().plan.held, undefined);
});

Deno.test("a memfd needs no Landlock rule; the cached file gets one by its descriptor", () => {
  const rules = (r: NativePlanResult) => r.plan.landlock?.rules.map((rule) => rule.path) ?? [];
  const memfd = held(true, false);
  assert.equal(rules(memfd).some((p) => p.startsWith("/proc/self/fd/")), false);
  assert.equal(rules(memfd).includes("/home/u/app"), false);
  const cached = held(false, false);
  assert.equal(access(cached, "/proc/self/fd/5"), FS.EXECUTE | FS.READ_FILE);
  assert.equal(rules(cached).filter((p) => p.startsWith("/proc/self/fd/")).length, 1);
});

Deno.test("--ro-bind is read-only and --bind is writable, at the same path", () => {
  const r = plan({
    readOnlyBinds: [{ source: "/data", dest: "/data" }],
    writableBinds: [{ source: "/out", dest: "/out" }],
  });
  assert.equal(access(r, "/data"), FS.EXECUTE | FS.READ_FILE | FS.READ_DIR);
  assert.equal(access(r, "/out"), r.plan.landlock?.ruleset.handledFs);
});

// By path, the stage's rule followed a symbolic link swapped in for a part of a bind's source since
// ww checked it: a jail that could write the bind's parent gave another jail the host's /etc.
Deno.test("a bind's rule is on the descriptor ww opened its source as, each source once", () => {
  const r = plan({
    readOnlyBinds: [{ source: "/data", dest: "/data" }, { source: "/link", dest: "/link" }],
    writableBinds: [{ source: "/out", dest: "/out" }],
  }, { realPaths: { "/link": "/data" } });
  const pinned = r.plan.landlock!.rules.filter((rule) => rule.shows?.startsWith("/home") === false);
  assert.deepEqual(pinned.map((rule) => [rule.path, rule.shows]), [
    ["/proc/self/fd/20", "/data"],
    ["/proc/self/fd/21", "/out"],
  ]);
  assert.ok(!r.plan.landlock!.rules.some((rule) => ["/data", "/out", "/link"].includes(rule.path)));
  assert.deepEqual(
    nativeBindRules(
      bindRequests(
        { readOnlyBinds: [{ source: "/link", dest: "/link" }], writableBinds: [] },
        (s) => ({ "/link": "/data" } as Record<string, string>)[s] ?? s,
      ),
    ),
    [{ path: "/data", source: "/link", writable: false }],
  );
  assert.throws(
    () =>
      nativePlan({
        ...input({ readOnlyBinds: [{ source: "/data", dest: "/data" }] }),
        bindFds: [],
      }),
    /a descriptor for each bind/,
  );
});

Deno.test("a bind to another place cannot be expressed without mounts, and says so", () => {
  assert.match(
    error({ readOnlyBinds: [{ source: "/data", dest: "/mnt" }] }),
    /^--ro-bind \/data:\/mnt: the native jail cannot show a path at another place .*--jail=bwrap/,
  );
});

Deno.test("a bind of a missing path is an error naming it, with the host's reason", () => {
  assert.equal(
    error({ writableBinds: [{ source: "/nope", dest: "/nope" }] }),
    "--bind /nope: /nope is absent",
  );
});

Deno.test("--net adds the name-resolution files and stops handling TCP", () => {
  const f = facts();
  const net = plan({ net: true }, {
    pathKinds: { ...f.pathKinds, "/etc/resolv.conf": "file" },
  });
  assert.ok(net.plan.landlock?.rules.some((rule) => rule.path === "/etc/resolv.conf"));
  assert.equal(net.plan.landlock?.ruleset.handledNet, 0);
  assert.ok(!plan().plan.landlock?.rules.some((rule) => rule.path === "/etc/resolv.conf"));
});

Deno.test("the limits are the policy's; an unlimited one is left as ww has it, as under bwrap", () => {
  // Was: unlimited is null (RLIM_INFINITY), which failed with EPERM for --nofile unlimited, and
  // for any limit whose hard value ww could not raise.
  const { plan: p } = plan({ limits: { memoryBytes: 1024, processes: 7 } });
  assert.deepEqual(p.limits, [
    { resource: "data", soft: 1024, hard: 1024 },
    { resource: "nproc", soft: 7, hard: 7 },
    { resource: "core", soft: 1, hard: 1, lowerOnly: true },
  ]);
});

Deno.test("the seccomp program is the bwrap jail's with the native additions, byte for byte", () => {
  const { plan: p } = plan({ net: true });
  assert.deepEqual(planSeccompBytes(p), seccompProgram("x86_64", "native"));
  assert.deepEqual(
    planSeccompBytes(plan({ net: true }, { arch: "aarch64" }).plan),
    seccompProgram("aarch64", "native"),
  );
});

Deno.test("without --net the program refuses unix sockets, and IP ones too on the host's network", () => {
  const names = (p: NativePlanResult) => "plan" in p ? p.enforced.map((e) => e.name) : [];
  // Not root: no network namespace, so the offline program.
  assert.deepEqual(planSeccompBytes(plan().plan), seccompProgram("x86_64", "native-offline"));
  assert.deepEqual(
    planSeccompBytes(plan({}, { arch: "aarch64" }).plan),
    seccompProgram("aarch64", "native-offline"),
  );
  assert.ok(names(plan()).includes("no-ip-sockets"));
  assert.ok(names(plan()).includes("no-unix-sockets"));
  // A network namespace of its own (root): IP sockets are allowed, unix ones not.
  assert.deepEqual(
    planSeccompBytes(plan({}, { identity: ROOT }).plan),
    seccompProgram("x86_64", "native-netns"),
  );
  assert.ok(!names(plan({}, { identity: ROOT })).includes("no-ip-sockets"));
  assert.ok(names(plan({}, { identity: ROOT })).includes("no-unix-sockets"));
  // --net: both.
  for (const identity of [USER, ROOT]) {
    assert.ok(!names(plan({ net: true }, { identity })).includes("no-ip-sockets"));
    assert.ok(!names(plan({ net: true }, { identity })).includes("no-unix-sockets"));
  }
  // No seccomp filters: "seccomp" is what is missing, and it says so alone.
  const weak = plan({ allowWeakerJail: true }, { seccomp: false });
  assert.ok("plan" in weak && weak.plan.seccomp === undefined);
  assert.ok(!names(weak).some((n) => n.startsWith("no-")));
  assert.ok("plan" in weak && weak.missing.some((m) => m.name === "seccomp"));
});

Deno.test("root switches to its leased id and drops every capability, bounding set included", () => {
  const { plan: p } = plan({}, { identity: ROOT });
  assert.deepEqual(p.identity, { uid: 70000, gid: 70000, clearGroups: true, dropBoundingUpTo: 40 });
  assert.deepEqual(plan({ uid: 1234 }, { identity: ROOT }).plan.identity?.gid, 70000);
  const noLease = nativePlan({ ...input({}, { identity: ROOT }), leasedId: undefined });
  assert.ok("error" in noLease && /leased no host id/.test(noLease.error));
});

Deno.test("root may choose another unprivileged uid and gid, never 0", () => {
  assert.deepEqual(plan({ uid: 1234, gid: 99 }, { identity: ROOT }).plan.identity?.uid, 1234);
  assert.deepEqual(plan({ uid: 1234, gid: 99 }, { identity: ROOT }).plan.identity?.gid, 99);
  assert.match(error({ uid: 0 }, { identity: ROOT }), /^--uid 0: .*unprivileged/);
  assert.match(error({ gid: 0 }, { identity: ROOT }), /^--gid 0: .*unprivileged/);
  // Without a user namespace 0 cannot be mapped: it is refused whoever ww is, naming bwrap.
  assert.match(error({ uid: 0 }), /^--uid 0: .*host root.*--jail=bwrap, which maps it/);
});

Deno.test("an unprivileged ww keeps its identity and cannot switch", () => {
  assert.equal(plan().plan.identity, undefined);
  assert.equal(plan({ uid: 1000, gid: 1000 }).plan.identity, undefined);
  assert.match(error({ uid: 4242 }), /^--uid 4242: switching user needs root/);
  assert.match(error({ gid: 4242 }), /^--gid 4242: switching group needs root/);
});

Deno.test("a non-root ww with capabilities keeps its uid but loses the capabilities", () => {
  const capable = { ...USER, capEffective: 1n << 13n, capPermitted: 1n << 13n }; // CAP_NET_RAW
  const { plan: p } = plan({}, { identity: capable });
  assert.deepEqual(p.identity, {
    uid: 1000,
    gid: 1000,
    clearGroups: false,
    dropBoundingUpTo: null,
  });
});

Deno.test("a kernel lacking a protection fails with one line naming each missing one", () => {
  const cases: [number, string][] = [
    [0, "landlock-filesystem, landlock-truncate, landlock-tcp, landlock-scope"],
    [2, "landlock-truncate, landlock-tcp, landlock-scope"],
    [4, "landlock-scope"],
  ];
  for (const [abi, names] of cases) {
    const e = error({}, { landlockAbi: abi });
    assert.ok(e.startsWith(`--jail=native: this machine cannot enforce ${names} (`), e);
    assert.match(e, /--allow-weaker-jail/);
    assert.ok(!e.includes("\n"));
  }
  assert.match(
    error({}, { seccomp: false }),
    /cannot enforce seccomp \(Landlock ABI 7, no seccomp/,
  );
  assert.match(error({}, { arch: undefined }), /cannot enforce seccomp/);
});

Deno.test("--allow-weaker-jail runs with what there is and lists what is not enforced", () => {
  const r = plan({ allowWeakerJail: true }, { landlockAbi: 4 });
  assert.deepEqual(r.missing.map((p) => p.name), ["landlock-scope"]);
  assert.equal(r.plan.landlock?.abi, 4);
  assert.equal(r.plan.landlock?.attrSize, 16);
  const none = plan({ allowWeakerJail: true }, { landlockAbi: 0, seccomp: false });
  assert.equal(none.plan.landlock, undefined);
  assert.equal(none.plan.seccomp, undefined);
  assert.equal(none.missing.length, 5);
  assert.deepEqual(plan().missing, []);
});

Deno.test("the stage's plan: the native plan's steps, no_new_privs, and the work directory it makes and removes", () => {
  const { plan: p } = plan({}, { identity: ROOT });
  const s = nativeStagePlan(p, "/tmp/ww-1");
  assert.equal(s.supervise, "program");
  assert.equal(s.noNewPrivs, true);
  assert.equal(s.workdir, "/tmp/ww-1");
  assert.equal(s.parentPid, 4321);
  assert.equal(s.closeOnExecFrom, 5);
  assert.deepEqual(s.identity, p.identity);
  assert.deepEqual(s.limits, p.limits);
  // Root, no --net: a network namespace of its own, and no unix sockets.
  assert.deepEqual(s.seccomp, seccompProgram("x86_64", "native-netns"));
  assert.deepEqual(s.landlock?.rules, p.landlock?.rules);
  assert.equal(s.landlock?.handledFs, p.landlock?.ruleset.handledFs);
  assert.equal(s.landlock?.scoped, p.landlock?.ruleset.scoped);
  assert.deepEqual([s.path, s.argv, s.env], [p.path, p.argv, p.env]);
  const weak = nativeStagePlan(
    plan({ allowWeakerJail: true }, { landlockAbi: 0, seccomp: false }).plan,
    "/tmp/ww-2",
  );
  assert.equal(weak.landlock, undefined);
  assert.equal(weak.seccomp, undefined);
  assert.equal(weak.noNewPrivs, true);
});

Deno.test("the candidate paths cover the system, devices, the program and every bind", () => {
  const paths = nativePathCandidates(
    {
      ...DEFAULT_POLICY,
      readOnlyBinds: [{ source: "/a", dest: "/a" }],
      writableBinds: [{ source: "/b", dest: "/b" }],
    },
    "/p",
  );
  for (const p of ["/usr", "/etc/ld.so.cache", ...DEVICES, TERMINAL, "/p", "/a", "/b"]) {
    assert.ok(paths.includes(p), p);
  }
});

Deno.test("/proc/self/status gives real and effective ids and capability masks", () => {
  const status = [
    "Name:\tww",
    "Uid:\t1000\t0\t0\t0",
    "Gid:\t100\t100\t100\t100",
    "CapPrm:\t000001ffffffffff",
    "CapEff:\t0000000000002000",
  ].join("\n");
  assert.deepEqual(parseProcStatus(status), {
    uid: 1000,
    euid: 0,
    gid: 100,
    egid: 100,
    capEffective: 0x2000n,
    capPermitted: 0x1ffffffffffn,
  });
});

Deno.test("/proc/self/status gives the supplementary groups, none when the line is empty", () => {
  assert.deepEqual(parseGroups("Gid:\t100\t100\t100\t100\nGroups:\t27 100 4243 \n"), [
    27,
    100,
    4243,
  ]);
  assert.deepEqual(parseGroups("Groups:\t\nNgid:\t0\n"), []);
  assert.throws(() => parseGroups("Uid:\t0\t0\t0\t0\n"), /no Groups line/);
});

Deno.test("--chdir: a directory under a rule is the program's cwd; one under none is refused", () => {
  assert.equal(plan({ chdir: "/usr/share" }).plan.cwd, "/usr/share");
  assert.equal(plan({ chdir: "/tmp/ww-1" }).plan.cwd, "/tmp/ww-1");
  assert.equal(
    plan({ chdir: "/data/in", readOnlyBinds: [{ source: "/data", dest: "/data" }] }).plan.cwd,
    "/data/in",
  );
  assert.equal(plan().plan.cwd, undefined);
  assert.equal(
    error({ chdir: "/data" }),
    "--chdir /data: the native jail does not let the program read it (bind it with --ro-bind or --bind, or choose a directory the jail shows)",
  );
  // A rule for a file (the program, a device) is no directory to stand in.
  assert.match(error({ chdir: "/home/u/app" }), /does not let the program read it/);
  assert.match(error({ chdir: "/tmp" }), /does not let the program read it/);
  // In /proc and /dev no bind can help (binds there are refused): the advice says so.
  for (const [dir, part] of [["/proc", "/proc"], ["/proc/1", "/proc"], ["/dev/shm", "/dev"]]) {
    assert.equal(
      error({ chdir: dir }),
      `--chdir ${dir}: the native jail shows only its own part of ${part}, which no bind can widen; choose another directory`,
    );
  }
  // Without Landlock the jail hides no directory: nothing to check.
  assert.equal(
    plan({ chdir: "/data", allowWeakerJail: true }, { landlockAbi: 0 }).plan.cwd,
    "/data",
  );
});

Deno.test("--chdir reaches the stage plan; without it the stage stays in the work directory", () => {
  assert.equal(nativeStagePlan(plan({ chdir: "/usr" }).plan, "/tmp/ww-1").cwd, "/usr");
  assert.equal(nativeStagePlan(plan().plan, "/tmp/ww-1").cwd, undefined);
});

Deno.test("a network of its own when ww may make one and bring its loopback up, and no --net", () => {
  const network = (p: NativePlanResult) => "plan" in p ? p.plan.privateNetwork === true : undefined;
  const names = (p: NativePlanResult) => "plan" in p ? p.enforced.map((e) => e.name) : [];
  assert.equal(network(plan({}, { identity: ROOT })), true);
  assert.ok(names(plan({}, { identity: ROOT })).includes("network-namespace"));
  assert.equal(network(plan({ net: true }, { identity: ROOT })), false);
  assert.equal(network(plan({}, { identity: USER })), false);
  // CAP_SYS_ADMIN without CAP_NET_ADMIN (docker --cap-add SYS_ADMIN): the loopback's ioctl would
  // fail, and so would every run.
  const noNetAdmin = { ...ROOT, capEffective: ROOT.capEffective & ~(1n << 12n) };
  assert.equal(network(plan({}, { identity: noNetAdmin })), false);
  assert.ok(!names(plan({}, { identity: noNetAdmin })).includes("network-namespace"));
});
