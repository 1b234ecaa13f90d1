// The bubblewrap command line computed from a policy.
import assert from "node:assert/strict";
import {
  bwrapArgs,
  bwrapChdirProblem,
  bwrapHostPath,
  type BwrapInput,
  bwrapStagePlan,
  isVisibleInJail,
  planBwrapMounts,
  STAGE_PATH,
} from "./bwrap.ts";
import type { HostFiles } from "./system_files.ts";
import { type BindRequest, bindRequests } from "./binds.ts";
import { DEFAULT_POLICY } from "./policy.ts";
import { bwrapStderr, readBwrapStatus } from "./bwrap_status.ts";

const host: HostFiles = {
  system: [
    { path: "/usr", kind: "dir" },
    { path: "/bin", kind: "symlink", target: "usr/bin" },
    { path: "/lib64", kind: "dir" },
  ],
  etc: ["/etc/ld.so.cache"],
};
const input: BwrapInput = {
  policy: DEFAULT_POLICY,
  host,
  programPath: "/opt/app/run",
  argv0: "./run",
  programSource: "/opt/app/run",
  args: ["-v", "x y"],
  workdir: "/tmp/ww-1",
  fds: { seccomp: 5, status: 6, stage: 7, programStderr: 9, binds: [], waypoints: [] },
};

/**
 * bwrapArgs of `i`, its binds given descriptors from 20 up and then its waypoints, as
 * plan/bwrap.ts allocates them.
 */
function argsOf(i: BwrapInput): string[] {
  const mounts = i.mounts ?? planBwrapMounts(bindRequests(i.policy, (s) => s), i);
  if ("error" in mounts) throw new Error(mounts.error);
  const binds = mounts.binds.map((_, n) => 20 + n);
  const waypoints = mounts.waypoints.map((_, n) => 20 + binds.length + n);
  return bwrapArgs({ ...i, mounts, fds: { ...i.fds, binds, waypoints } });
}

/** The value after each occurrence of `flag`. */
function after(argv: string[], flag: string, n = 1): string[][] {
  return argv.flatMap((a, i) => (a === flag ? [argv.slice(i + 1, i + 1 + n)] : []));
}

Deno.test("the default profile unshares every namespace, drops caps and dies with ww", () => {
  const argv = argsOf(input);
  for (
    const f of [
      "--unshare-user",
      "--unshare-ipc",
      "--unshare-pid",
      "--unshare-uts",
      "--unshare-cgroup",
      "--unshare-net",
      "--disable-userns",
      "--new-session",
      "--die-with-parent",
    ]
  ) assert.ok(argv.includes(f), f);
  assert.deepEqual(after(argv, "--cap-drop"), [["ALL"]]);
  assert.deepEqual(after(argv, "--uid"), [["65534"]]);
  assert.deepEqual(after(argv, "--hostname"), [["ww"]]);
});

Deno.test("only system dirs, loader files and the program are mounted; the work dir is the jail's own", () => {
  const argv = argsOf(input);
  assert.deepEqual(after(argv, "--ro-bind", 2), [
    ["/usr", "/usr"],
    ["/lib64", "/lib64"],
    ["/etc/ld.so.cache", "/etc/ld.so.cache"],
    ["/proc/sys", "/proc/sys"],
    ["/opt/app/run", "/opt/app/run"],
  ]);
  assert.deepEqual(after(argv, "--symlink", 2), [["usr/bin", "/bin"]]);
  assert.deepEqual(after(argv, "--dir"), [["/tmp/ww-1"]]);
  // The work directory, then ww's stage (it replaced env(1) and the exec step: issue 13).
  assert.deepEqual(after(argv, "--perms"), [["0700"], ["0555"]]);
  assert.deepEqual(after(argv, "--bind", 2), []);
  assert.deepEqual(after(argv, "--chdir"), [["/tmp/ww-1"]]);
  // /dev/shm is a tmpfs of its own since --tmp-size (issue 11, "Memory through files").
  assert.deepEqual(after(argv, "--tmpfs"), [["/tmp"], ["/dev/shm"]]);
  assert.ok(!argv.some((a) => /^\/(home|root|etc\/shadow)/.test(a)));
});

Deno.test("/proc/sys and /proc/sysrq-trigger are read-only, over the jail's own /proc", () => {
  const argv = argsOf(input);
  const proc = argv.indexOf("--proc");
  const sys = argv.findIndex((a, i) => a === "--ro-bind" && argv[i + 1] === "/proc/sys");
  const sysrq = argv.indexOf("--ro-bind-try");
  assert.ok(proc >= 0 && sys > proc && sysrq > proc, "mounted after /proc");
  assert.deepEqual(argv.slice(sys, sys + 3), ["--ro-bind", "/proc/sys", "/proc/sys"]);
  assert.deepEqual(argv.slice(sysrq, sysrq + 3), [
    "--ro-bind-try",
    "/proc/sysrq-trigger",
    "/proc/sysrq-trigger",
  ]);
});

Deno.test("a program under /usr is not bound again", () => {
  const argv = argsOf({ ...input, programPath: "/bin/true", programSource: "/usr/bin/true" });
  assert.ok(!after(argv, "--ro-bind", 2).some(([s]) => s === "/usr/bin/true"));
  assert.equal(isVisibleInJail("/usr/bin/true", host), true);
  assert.equal(isVisibleInJail("/usrx/true", host), false);
  assert.equal(isVisibleInJail("/bin/true", host), false, "a symlinked dir is not a mount");
});

Deno.test("--net keeps the host network; binds are added in order", () => {
  const argv = argsOf({
    ...input,
    policy: {
      ...DEFAULT_POLICY,
      net: true,
      readOnlyBinds: [{ source: "/data", dest: "/in" }],
      writableBinds: [{ source: "/out", dest: "/out" }],
    },
  });
  assert.ok(!argv.includes("--unshare-net"));
  // Each bind by the descriptor ww opens its source as (argsOf: /data's 20, /out's 21), which the
  // stage in the jail checks each destination against before the program starts.
  assert.deepEqual(after(argv, "--ro-bind", 2).filter(([, d]) => d === "/in"), [[
    "/proc/self/fd/20",
    "/in",
  ]]);
  assert.deepEqual(after(argv, "--bind", 2), [["/proc/self/fd/21", "/out"]]);
  assert.ok(!argv.includes("/data"), "no source by path");
  const stage = argv.slice(argv.indexOf("--") + 1);
  // Each bind's destination, its source's descriptor, and whether it must be read-only.
  assert.deepEqual(stage.slice(0, 10), [
    STAGE_PATH,
    "exec-report-pinned-landlock",
    "9",
    "2",
    "/in",
    "20",
    "ro",
    "/out",
    "21",
    "rw",
  ]);
});

// A --ro-bind inside a --bind is mounted at a path through directories of the outer bind, which
// a jail that can write it could rename while this one is set up: the stage finds each of them,
// by the descriptor ww opened it as, on the way to the inner bind.
Deno.test("the directories between a bind and the bind it is in go to the stage as waypoints", () => {
  const argv = argsOf({
    ...input,
    policy: {
      ...DEFAULT_POLICY,
      writableBinds: [{ source: "/p", dest: "/data" }],
      readOnlyBinds: [{ source: "/p/a/b/s", dest: "/data/a/b/s" }],
    },
  });
  assert.deepEqual(after(argv, "--bind", 2), [["/proc/self/fd/20", "/data"]]);
  assert.deepEqual(after(argv, "--ro-bind", 2).filter(([, d]) => d.startsWith("/data")), [
    ["/proc/self/fd/21", "/data/a/b/s"],
  ]);
  const stage = argv.slice(argv.indexOf("--") + 1);
  assert.deepEqual(stage.slice(0, 16), [
    STAGE_PATH,
    "exec-report-pinned-landlock-offline",
    "9",
    "4",
    "/data",
    "20",
    "rw",
    "/data/a/b/s",
    "21",
    "ro",
    "/data/a",
    "22",
    "dir",
    "/data/a/b",
    "23",
    "dir",
  ]);
});

Deno.test("without a descriptor for each bind there are no arguments", () => {
  const policy = { ...DEFAULT_POLICY, writableBinds: [{ source: "/out", dest: "/out" }] };
  const mounts = planBwrapMounts([req("--bind", "/out")], input);
  if ("error" in mounts) throw new Error(mounts.error);
  assert.throws(() => bwrapArgs({ ...input, policy, mounts }), /a descriptor for each bind/);
});

// Issue 13: the stage's exec mode replaced `/usr/bin/env -u PWD --` (and the exec step).
// argv[0] is the program's name as the caller gave it, as under native and none (and a shell):
// bwrap's jail gave the absolute path.
Deno.test("control fds are passed by number and the program runs through the stage, without PWD", () => {
  const argv = argsOf(input);
  assert.deepEqual(after(argv, "--seccomp"), [["5"]]);
  assert.deepEqual(after(argv, "--json-status-fd"), [["6"]]);
  assert.deepEqual(after(argv, "--ro-bind-data", 2), [["7", STAGE_PATH]]);
  assert.ok(!argv.includes("--block-fd"));
  const cmd = argv.slice(argv.indexOf("--") + 1);
  assert.deepEqual(cmd, [
    STAGE_PATH,
    "exec-report-landlock-offline",
    "9",
    "/opt/app/run",
    "-",
    "./run",
    "-v",
    "x y",
  ]);
});

Deno.test("a PWD the user set is restored after bwrap overwrites it", () => {
  const argv = argsOf({ ...input, userPwd: "/x" });
  const cmd = argv.slice(argv.indexOf("--") + 1);
  assert.deepEqual(cmd.slice(0, 6), [
    STAGE_PATH,
    "exec-report-landlock-offline",
    "9",
    "/opt/app/run",
    "=/x",
    "./run",
  ]);
});

Deno.test("with a terminal of its own, the stage's exec-tty makes it the program's controlling terminal, in bwrap's new session", () => {
  const argv = argsOf({ ...input, tty: true });
  assert.ok(argv.includes("--new-session"));
  const cmd = argv.slice(argv.indexOf("--") + 1);
  assert.deepEqual(cmd.slice(0, 6), [
    STAGE_PATH,
    "exec-tty-report-landlock-offline",
    "9",
    "/opt/app/run",
    "-",
    "./run",
  ]);
});

Deno.test("a program path with '=' runs as it is (env(1) read it as an assignment)", () => {
  const argv = argsOf({
    ...input,
    programPath: "/opt/a=b/run",
    programSource: "/opt/a=b/run",
    argv0: "/opt/a=b/run",
  });
  const cmd = argv.slice(argv.indexOf("--") + 1);
  assert.deepEqual(cmd.slice(0, 6), [
    STAGE_PATH,
    "exec-report-landlock-offline",
    "9",
    "/opt/a=b/run",
    "-",
    "/opt/a=b/run",
  ]);
});

Deno.test("bwrap status: child-pid, then exit-code; partial lines wait for the rest", () => {
  let r = readBwrapStatus({}, '{ "child-pid": 42, "pid-namespace": 1 }\n{ "exit-');
  assert.deepEqual(r.status, { childPid: 42 });
  r = readBwrapStatus(r.status, r.rest + 'code": 3 }\n');
  assert.deepEqual(r.status, { childPid: 42, exitCode: 3 });
  assert.equal(r.rest, "");
});

Deno.test("bwrap status: no exit-code means the jail failed", () => {
  const r = readBwrapStatus({}, '{ "child-pid": 7 }\n');
  assert.equal(r.status.exitCode, undefined);
});

const STAGE = {
  bwrapArgv: ["/usr/bin/bwrap", "--x"],
  env: ["A=b"],
  parentPid: 7,
  closeOnExecFrom: 6,
};

Deno.test("the stage starts bwrap with soft = hard for every set limit but --cpu, no others, and no core dumps", () => {
  const p = bwrapStagePlan({ ...STAGE, limits: { memoryBytes: 64, openFiles: 10, processes: 5 } });
  assert.deepEqual(p.limits, [
    { resource: "data", soft: 64, hard: 64 },
    { resource: "nofile", soft: 10, hard: 10 },
    { resource: "nproc", soft: 5, hard: 5 },
    { resource: "core", soft: 1, hard: 1, lowerOnly: true },
  ]);
  assert.equal(p.identity, undefined);
  assert.equal(p.supervise, "bwrap");
  assert.equal(p.noNewPrivs, false);
  assert.equal(p.path, "/usr/bin/bwrap");
  assert.deepEqual(p.argv, ["/usr/bin/bwrap", "--x"]);
  assert.deepEqual(p.env, ["A=b"]);
});

Deno.test("when ww is root, the stage runs bwrap as the jail's host uid, with no groups", () => {
  const p = bwrapStagePlan({
    ...STAGE,
    limits: { cpuSeconds: 3 },
    dropTo: { uid: 65534, gid: 65534 },
  });
  assert.deepEqual(p.limits, [
    { resource: "cpu", soft: 3, hard: 4 },
    { resource: "core", soft: 1, hard: 1, lowerOnly: true },
  ]);
  assert.deepEqual(p.identity, {
    uid: 65534,
    gid: 65534,
    clearGroups: true,
    dropBoundingUpTo: null,
  });
});

Deno.test("a program from IPFS: run from its descriptor by the stage, or copied or bound and run by path", () => {
  const ipfs = { ...input, programPath: "/ipfs/bafy/bin/app", programSource: "", argv0: "app" };
  const tail = (argv: string[]) => argv.slice(argv.lastIndexOf("--") + 1);
  const exec = argsOf({ ...ipfs, held: { fd: 8, how: "exec" } });
  assert.deepEqual(after(exec, "--ro-bind-data", 2), [["7", STAGE_PATH]]);
  assert.ok(!exec.includes("/ipfs/bafy/bin/app"), "nothing is shown at the program's path");
  assert.deepEqual(tail(exec), [
    STAGE_PATH,
    "exec-report-landlock-offline",
    "9",
    "8",
    "-",
    "app",
    "-v",
    "x y",
  ]);
  const copy = argsOf({ ...ipfs, held: { fd: 8, how: "copy" } });
  assert.deepEqual(after(copy, "--ro-bind-data", 2), [["7", STAGE_PATH], [
    "8",
    "/ipfs/bafy/bin/app",
  ]]);
  assert.deepEqual(tail(copy), [
    STAGE_PATH,
    "exec-report-landlock-offline",
    "9",
    "/ipfs/bafy/bin/app",
    "-",
    "app",
    "-v",
    "x y",
  ]);
  const bind = argsOf({ ...ipfs, held: { fd: 8, how: "bind" } });
  assert.deepEqual(after(bind, "--ro-bind-fd", 2), [["8", "/ipfs/bafy/bin/app"]]);
  assert.deepEqual(tail(bind), [
    STAGE_PATH,
    "exec-report-landlock-offline",
    "9",
    "/ipfs/bafy/bin/app",
    "-",
    "app",
    "-v",
    "x y",
  ]);
  assert.ok(!copy.includes(""), "no bind of an empty source");
});

Deno.test("every writable in-memory file system has --tmp-size; / and /dev end read-only", () => {
  const argv = argsOf({
    ...input,
    policy: { ...DEFAULT_POLICY, limits: { ...DEFAULT_POLICY.limits, tmpBytes: 8 << 20 } },
  });
  const sized = argv.flatMap((a, i) =>
    a === "--tmpfs" ? [[argv[i - 2], argv[i - 1], argv[i + 1]]] : []
  );
  assert.deepEqual(sized, [["--size", "8388608", "/tmp"], ["--size", "8388608", "/dev/shm"]]);
  const ro = argv.indexOf("--remount-ro");
  assert.deepEqual(argv.slice(ro, ro + 4), ["--remount-ro", "/dev", "--remount-ro", "/"]);
  assert.ok(argv.lastIndexOf("--ro-bind") < ro, "after every mount");
  assert.ok(argv.indexOf("/dev/shm") > argv.indexOf("--dev"), "/dev/shm after /dev");
  const unlimited = argsOf({
    ...input,
    policy: { ...DEFAULT_POLICY, limits: { ...DEFAULT_POLICY.limits, tmpBytes: undefined } },
  });
  assert.ok(!unlimited.includes("--size"));
});

Deno.test("the default --tmp-size is 512 MiB per mount", () => {
  assert.deepEqual(after(argsOf(input), "--size"), [["536870912"], ["536870912"]]);
});

const req = (flag: "--bind" | "--ro-bind", source: string, dest = source): BindRequest => ({
  flag,
  source,
  real: source,
  dest,
});

Deno.test("a read-only bind inside a writable one is mounted after it, whatever the flag order", () => {
  const policy = {
    ...DEFAULT_POLICY,
    readOnlyBinds: [{ source: "/p/secrets", dest: "/p/secrets" }],
    writableBinds: [{ source: "/p", dest: "/p" }],
  };
  const argv = argsOf({ ...input, policy });
  const bindAt = argv.findIndex((a, i) => a === "--bind" && argv[i + 2] === "/p");
  const roAt = argv.findIndex((a, i) => a === "--ro-bind" && argv[i + 2] === "/p/secrets");
  assert.ok(bindAt >= 0 && roAt > bindAt, argv.join(" "));
});

Deno.test("--bind DIR:/tmp replaces the jail's /tmp, and the work directory moves to /", () => {
  const m = planBwrapMounts([req("--bind", "/srv/d", "/tmp")], input);
  assert.deepEqual(m, {
    binds: [{ source: "/srv/d", dest: "/tmp", writable: true }],
    waypoints: [],
    tmpBound: true,
    workdir: "/ww-1",
    workdirInTmp: false,
    programAt: "/opt/app/run",
  });
  const argv = argsOf({ ...input, mounts: m as Exclude<typeof m, { error: string }> });
  assert.deepEqual(after(argv, "--tmpfs"), [["/ww-1"], ["/dev/shm"]]);
  assert.deepEqual(after(argv, "--chdir"), [["/ww-1"]]);
  assert.ok(!argv.includes("--dir"), "nothing is made inside the user's directory");
});

Deno.test("a work directory outside /tmp is a sized tmpfs of its own", () => {
  const m = planBwrapMounts([], { ...input, workdir: "/var/tmp/ww-1" });
  assert.ok(!("error" in m) && !m.workdirInTmp && m.workdir === "/var/tmp/ww-1");
  const moved = planBwrapMounts([req("--bind", "/var", "/var")], {
    ...input,
    workdir: "/var/tmp/ww-1",
  });
  assert.ok(!("error" in moved) && moved.workdir === "/ww-1", "never made inside a bind");
});

Deno.test("binds that collide with what ww mounts are refused in one line naming the collision", () => {
  const cases: [BindRequest, RegExp][] = [
    [req("--bind", "/srv/d", "/proc"), /^--bind \/srv\/d:\/proc: the jail has its own \/proc/],
    [req("--bind", "/srv/d", "/proc/sys"), /own \/proc/],
    [req("--ro-bind", "/srv/d", "/dev/shm"), /own \/dev/],
    [req("--bind", "/srv/d", STAGE_PATH), /ww's stage in the jail/],
    [req("--bind", "/srv/d", "/usr"), /host's \/usr there/],
    [req("--bind", "/srv/d", "/usr/local/x"), /host's \/usr there/],
    [req("--bind", "/srv/d", "/bin/x"), /\/bin is a symlink to usr\/bin/],
    [req("--bind", "/srv/d", "/etc"), /\/etc\/ld.so.cache/],
    [req("--bind", "/srv/d", "/etc/ld.so.cache"), /\/etc\/ld.so.cache/],
    [req("--bind", "/srv/d", "/opt"), /ww shows the program at \/opt\/app\/run/],
    [req("--bind", "/srv/d", "/"), /root/],
  ];
  for (const [r, message] of cases) {
    const m = planBwrapMounts([r], input);
    assert.ok("error" in m, JSON.stringify(r));
    assert.match(m.error, message);
    assert.ok(!m.error.includes("\n"));
  }
});

Deno.test("a bind that shows the program's own file at the program's path is allowed", () => {
  // The executor starts a guest's program at the path its jail shows, from the host file there.
  const shown = { ...input, programPath: "/data/prog", programSource: "/srv/d/prog" };
  assert.ok(!("error" in planBwrapMounts([req("--ro-bind", "/srv/d", "/data")], shown)));
  const other = { ...shown, programSource: "/srv/other/prog" };
  const m = planBwrapMounts([req("--ro-bind", "/srv/d", "/data")], other);
  assert.ok("error" in m && /ww shows the program at \/data\/prog/.test(m.error));
});

Deno.test("a bind shows a program reached through the host's symlinks, and ww mounts the real file only where the jail shows nothing", () => {
  // /srv/d/bin/cli -> ../lib/cli.js (a node_modules/.bin), -> /srv/e/real, -> /usr/bin/true.
  const links: Record<string, string> = {
    "/srv/d/bin/cli": "/srv/d/lib/cli.js",
    "/srv/d/bin/out": "/srv/e/real",
    "/srv/d/bin/tru": "/usr/bin/true",
    "/srv/d/bin/sys": "/bin/true",
  };
  const realOf = (p: string) => (p === "/srv/d/bin/sys" ? "/usr/bin/true" : links[p] ?? p);
  // Each link here is one hop, and /bin the host's system symlink.
  const linksOn = (p: string) =>
    p in links ? [p, ...(links[p].startsWith("/bin/") ? ["/bin"] : [])] : [];
  const run = (programPath: string, ...binds: BindRequest[]) => {
    const shown = { ...input, programPath, programSource: realOf(programPath), realOf, linksOn };
    const m = planBwrapMounts(binds, shown);
    if ("error" in m) return m.error;
    return after(argsOf({ ...shown, mounts: m }), "--ro-bind", 2)
      .filter(([source]) => source === shown.programSource).map(([, at]) => at);
  };
  const d = req("--ro-bind", "/srv/d");
  assert.deepEqual(run("/srv/d/bin/cli", d), []);
  assert.deepEqual(run("/srv/d/lib/cli.js", d), []);
  assert.deepEqual(run("/srv/d/bin/out", d), ["/srv/e/real"]);
  assert.deepEqual(run("/srv/d/bin/out", d, req("--ro-bind", "/srv/e")), []);
  assert.deepEqual(run("/srv/d/bin/tru", d), []);
  assert.deepEqual(run("/srv/d/bin/sys", d), []);
  // Where the real path shows another host file, the program cannot be shown.
  assert.match(
    String(run("/srv/d/bin/out", d, req("--ro-bind", "/srv/x", "/srv/e"))),
    /^--ro-bind \/srv\/x:\/srv\/e: the program \/srv\/d\/bin\/out is a symlink to \/srv\/e\/real, which this bind shows from \/srv\/x\/real/,
  );
  // A bind that shows another host directory at the program's path shows another file.
  assert.match(
    String(run("/srv/d/bin/cli", req("--ro-bind", "/srv/x", "/srv/d"))),
    /ww shows the program/,
  );
  // A link on the way that the jail does not show at its own path would lead the jail elsewhere.
  const chained = {
    ...input,
    programPath: "/srv/d/bin/via",
    programSource: "/srv/e/real",
    realOf: () => "/srv/e/real",
    linksOn: () => ["/srv/d/bin/via", "/srv/mid/real"],
  };
  const refused = planBwrapMounts([d], chained);
  assert.ok("error" in refused);
  assert.match(
    refused.error,
    /^--ro-bind \/srv\/d: the program \/srv\/d\/bin\/via is reached through the symbolic link \/srv\/mid\/real, which the jail does not show at its own path/,
  );
  assert.ok(!("error" in planBwrapMounts([d, req("--ro-bind", "/srv/mid")], chained)));
  // With no bind at the program's path, ww mounts it there, whatever its real path.
  assert.deepEqual(run("/srv/d/bin/out"), ["/srv/d/bin/out"]);
});

Deno.test("the same host path may be bound inside a system directory or over /etc", () => {
  for (
    const r of [req("--bind", "/usr/local/x"), req("--ro-bind", "/etc"), req("--bind", "/opt")]
  ) {
    const m = planBwrapMounts([r], input);
    assert.ok(!("error" in m), JSON.stringify(m));
  }
});

Deno.test("--chdir moves only the cwd: the work directory is made all the same", () => {
  const argv = argsOf({ ...input, policy: { ...DEFAULT_POLICY, chdir: "/usr/share" } });
  assert.deepEqual(after(argv, "--chdir"), [["/usr/share"]]);
  assert.ok(argv.join(" ").includes("--perms 0700 --dir /tmp/ww-1"), argv.join(" "));
  assert.deepEqual(after(argsOf(input), "--chdir"), [["/tmp/ww-1"]]);
});

Deno.test("--chdir must name a place the bwrap jail shows", () => {
  const mounts = {
    binds: [
      { source: "/home/u/src", dest: "/src", writable: false },
      { source: "/srv/out", dest: "/src/out", writable: true },
    ],
    waypoints: [],
    tmpBound: false,
    workdir: "/tmp/ww-1",
    workdirInTmp: true,
  };
  for (
    const dir of [
      "/",
      "/usr",
      "/usr/share/doc",
      "/src",
      "/src/a/b",
      "/tmp",
      "/tmp/ww-1",
      "/proc/self",
      "/dev",
    ]
  ) {
    assert.equal(bwrapChdirProblem(dir, host, mounts), undefined, dir);
  }
  assert.deepEqual(bwrapChdirProblem("/srv", host, mounts), {
    reason: "notShown",
    commandLine:
      "--chdir /srv: the jail does not show it (bind it with --ro-bind or --bind, or choose a directory the jail shows)",
    library:
      "cwd /srv: the jail does not show it (bind it with jail.readOnlyBinds or jail.writableBinds, or choose a directory the jail shows)",
  });
  // /bin is a symlink in the jail, not a directory of its own.
  assert.equal(bwrapChdirProblem("/bin", host, mounts)?.reason, "notShown");
  for (const dir of ["/tmp/x", "/tmp/ww-1/x"]) {
    const problem = bwrapChdirProblem(dir, host, mounts);
    assert.equal(problem?.reason, "startsEmpty", dir);
    assert.match(
      problem?.commandLine ?? "",
      /^--chdir \/tmp\/\S+: not in the jail, .*start empty/,
      dir,
    );
    assert.match(problem?.library ?? "", /^cwd \/tmp\/\S+: not in the jail, .*start empty/, dir);
  }
  // The work directory's own parents below /tmp (a TMPDIR of the caller's, which may be its cwd)
  // are there only as the way to it, empty: they are no place of the caller's either.
  const deeper = { ...mounts, workdir: "/tmp/u/ww-1", workdirInTmp: true };
  assert.equal(bwrapChdirProblem("/tmp/u/ww-1", host, deeper), undefined);
  assert.equal(bwrapChdirProblem("/tmp/u", host, deeper)?.reason, "startsEmpty");
  assert.equal(bwrapChdirProblem("/tmp", host, deeper), undefined);
  // The host paths the caller checks: the innermost bind's source, or the system path itself.
  assert.equal(bwrapHostPath("/src/a", host, mounts), "/home/u/src/a");
  assert.equal(bwrapHostPath("/src/out/x", host, mounts), "/srv/out/x");
  assert.equal(bwrapHostPath("/usr/share", host, mounts), "/usr/share");
  assert.equal(bwrapHostPath("/tmp", host, mounts), undefined);
});

Deno.test("bwrap's stderr: its words as one line (blank lines dropped, control characters shown as ?) before the stage's NUL, which says the jail was set up", () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  // The stage in the jail did not start the program: its reports, marked, between the two.
  assert.deepEqual(
    bwrapStderr(bytes('\0\x02{"step":"execve","errno":8}\n\x01exit 126\n')),
    { started: true, reason: "", ended: { code: 126 }, unstarted: '{"step":"execve","errno":8}' },
  );
  // Not before the NUL, which is bwrap's own stderr.
  assert.deepEqual(bwrapStderr(bytes("\x02x\n")), { started: false, reason: "?x" });
  assert.deepEqual(bwrapStderr(bytes("")), { started: false, reason: "" });
  assert.deepEqual(
    bwrapStderr(bytes("bwrap: Can't mount proc on /newroot/proc: Operation not permitted\n")),
    {
      started: false,
      reason: "bwrap: Can't mount proc on /newroot/proc: Operation not permitted",
    },
  );
  assert.deepEqual(bwrapStderr(bytes("first\n\n  second  \n")), {
    started: false,
    reason: "first; second",
  });
  assert.deepEqual(bwrapStderr(bytes("bwrap: \x1b[31mred\x07\r\n")), {
    started: false,
    reason: "bwrap: ?[31mred??",
  });
  assert.deepEqual(bwrapStderr(bytes("\0")), { started: true, reason: "" });
  assert.deepEqual(bwrapStderr(bytes("bwrap: a warning\n\0after")), {
    started: true,
    reason: "bwrap: a warning",
  });
  // The stage, the jail's pid 1, says how the program ended after a \x01 byte.
  assert.deepEqual(bwrapStderr(bytes("\0\x01exit 143\n")), {
    started: true,
    reason: "",
    ended: { code: 143 },
  });
  assert.deepEqual(bwrapStderr(bytes("\0\x01signal 15\n")), {
    started: true,
    reason: "",
    ended: { signal: 15 },
  });
  // A program that never started (the stage's terminal step failed): its words, then its end.
  assert.deepEqual(
    bwrapStderr(bytes("ww: the jail could not give the program its terminal\n\x01exit 125\n")),
    {
      started: false,
      reason: "ww: the jail could not give the program its terminal",
      ended: { code: 125 },
    },
  );
  for (
    const torn of ["\0\x01", "\0\x01exit", "\0\x01exit 1", "\0\x01core 3\n", "\0\x01exit 1234\n"]
  ) {
    assert.equal(bwrapStderr(bytes(torn)).ended, undefined, JSON.stringify(torn));
  }
});

Deno.test("a bind of the same host path over /etc shows the loader's files: ww mounts none of them on it", () => {
  const withEtc = { ...host, etc: ["/etc/ld.so.cache", "/etc/localtime", "/etc/ssl/openssl.cnf"] };
  const binds = (...rs: BindRequest[]) => {
    const mounts = planBwrapMounts(rs, { ...input, host: withEtc });
    assert.ok(!("error" in mounts), JSON.stringify(mounts));
    return after(argsOf({ ...input, host: withEtc, mounts }), "--ro-bind", 2)
      .map(([s]) => s).filter((s) => withEtc.etc.includes(s));
  };
  assert.deepEqual(binds(), ["/etc/ld.so.cache", "/etc/localtime", "/etc/ssl/openssl.cnf"]);
  assert.deepEqual(binds(req("--ro-bind", "/etc")), []);
  assert.deepEqual(binds(req("--ro-bind", "/etc/ssl")), ["/etc/ld.so.cache", "/etc/localtime"]);
});
