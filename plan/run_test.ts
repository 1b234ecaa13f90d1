// One plan per run, as data: whole plans per backend from plain facts.
import assert from "node:assert/strict";
import { STAGE_PATH } from "../jail/bwrap.ts";
import type { NativeFacts } from "../jail/native.ts";
import { DEFAULT_LIMITS, DEFAULT_POLICY, type JailPolicy } from "../jail/policy.ts";
import type { ProcessIdentity } from "../jail/proc_status.ts";
import type { RunConfig } from "../core/config.ts";
import type { LaidOutGrant } from "../fd/layout.ts";
import { BindError, CwdError } from "../core/errors.ts";
import { type BwrapFacts, planRun, type RunFacts } from "./run.ts";

const USER: ProcessIdentity = {
  uid: 1000,
  euid: 1000,
  gid: 1000,
  egid: 1000,
  capEffective: 0n,
  capPermitted: 0n,
};

const BWRAP: BwrapFacts = {
  path: "/usr/bin/bwrap",
  host: {
    system: [{ path: "/usr", kind: "dir" }, { path: "/bin", kind: "symlink", target: "usr/bin" }],
    etc: ["/etc/ld.so.cache"],
  },
  realOf: (p) => (/^\/(tmp\/)?missing/.test(p) ? undefined : p),
  linksOn: (p) => (/^\/(tmp\/)?missing/.test(p) ? undefined : []),
  dirProblem: (p) =>
    /^\/(tmp\/)?missing/.test(p)
      ? "no such directory on this machine"
      : p === "/usr/bin/true" || p === "/tmp/notes.txt"
      ? "not a directory"
      : undefined,
  whyAbsent: (p) => `${p} is absent`,
  bindSource: (p) =>
    p === "/srv/planted"
      ? { why: "/srv/planted is a symbolic link owned by uid 70000" }
      : /^\/(tmp\/)?missing/.test(p)
      ? undefined
      : p,
};

const NATIVE: NativeFacts = {
  landlockAbi: 7,
  seccomp: true,
  arch: "x86_64",
  identity: USER,
  capLastCap: 40,
  pathKinds: { "/usr": "dir", "/etc/ld.so.cache": "file", "/dev/null": "file", "/data": "dir" },
  whyAbsent: (p) => `${p} is absent`,
  parentPid: 4321,
};

function config(jail: Partial<JailPolicy> = {}): RunConfig {
  return {
    program: "true",
    args: ["-v"],
    fds: [{ name: "db", source: 9 }],
    env: { A: "b" },
    ipfsApi: "/ip4/127.0.0.1/tcp/5001",
    jail: { ...DEFAULT_POLICY, ...jail },
  };
}

function facts(over: Partial<RunFacts> = {}): RunFacts {
  return {
    config: config(),
    choice: { backend: "bwrap", reason: "--jail=bwrap" },
    program: { path: "/usr/bin/true", argv0: "true", source: "/usr/bin/true" },
    wwUid: 1000,
    wwPid: 4321,
    workdir: "/tmp/ww-1",
    controllingTerminal: false,
    bwrap: BWRAP,
    native: NATIVE,
    direct: { exists: (p) => !p.startsWith("/missing"), whyAbsent: (p) => `${p} is absent` },
    ...over,
  };
}

/** A held program from IPFS, as the launcher has it. */
const IPFS = { path: "/ipfs/bafy/bin/app", argv0: "app" };

Deno.test("bwrap, ww not root: the stage's descriptors by name after the grant, bwrap as ww's own user", () => {
  const plan = planRun(facts());
  assert.equal(plan.backend, "bwrap");
  if (plan.backend !== "bwrap") return;
  // fd 3 host socket, fd 4 the grant; then the stage's own, by name.
  assert.deepEqual(plan.fds, {
    seccomp: 5,
    status: 6,
    stage: 7,
    programStderr: 8,
    tmpfs: 9,
    plan: 10,
    stageStatus: 11,
    tmpfsBounder: 12,
  });
  assert.deepEqual(plan.slots.map((s) => [s.name, s.target]), [["db", 4]]);
  assert.deepEqual(plan.env, ["A=b", "WW_FD_DB=4"]);
  assert.equal(plan.highestFd, 9, "the stage's plan and status are closed on exec");
  assert.equal(plan.dropTo, undefined);
  assert.equal(plan.held, undefined);
  const { argv } = plan;
  assert.equal(argv[0], "/usr/bin/bwrap");
  const at = (flag: string) => argv.slice(argv.indexOf(flag), argv.indexOf(flag) + 3);
  assert.deepEqual(at("--seccomp"), ["--seccomp", "5", "--json-status-fd"]);
  assert.deepEqual(at("--json-status-fd"), ["--json-status-fd", "6", "--"]);
  assert.deepEqual(argv.slice(argv.indexOf(STAGE_PATH) - 2, argv.indexOf(STAGE_PATH) + 1), [
    "--ro-bind-data",
    "7",
    STAGE_PATH,
  ]);
  assert.deepEqual(argv.slice(argv.lastIndexOf("--") + 1), [
    STAGE_PATH,
    "exec-tmpfs-report-landlock-offline",
    "9",
    "8",
    "/usr/bin/true",
    "-",
    "true",
    "-v",
  ]);
  assert.equal(plan.mounts.workdir, "/tmp/ww-1");
  // The stage: limits, then bwrap with exactly this argv and env; its own fds from `plan` up.
  assert.deepEqual(plan.stage.argv, argv);
  assert.equal(plan.stage.path, "/usr/bin/bwrap");
  assert.deepEqual(plan.stage.env, plan.env);
  assert.equal(plan.stage.supervise, "bwrap");
  assert.equal(plan.stage.closeOnExecFrom, 10);
  assert.equal(plan.stage.parentPid, 4321);
  assert.equal(plan.stage.identity, undefined);
  assert.equal(plan.stage.leaseFd, undefined);
  // The bounder, the supervisor's, bounds the files of the jail's tmpfs mounts: one a KiB.
  assert.deepEqual(plan.stage.tmpfs, { fd: 12, files: 524288, paths: ["/dev/shm", "/tmp"] });
});

// A tmpfs bounded by size alone held GBs of the host's memory in empty files and xattrs.
Deno.test("bwrap: with --tmp-size the stage in the jail asks the bounder, and the work directory's own tmpfs is bounded too", () => {
  const away = planRun(facts({ workdir: "/var/tmp/ww-1" }));
  if (away.backend !== "bwrap") throw new Error(away.backend);
  assert.deepEqual(away.stage.tmpfs?.paths, ["/dev/shm", "/tmp", "/var/tmp/ww-1"]);
  const small = planRun(
    facts({ config: config({ limits: { ...DEFAULT_POLICY.limits, tmpBytes: 1024 } }) }),
  );
  if (small.backend !== "bwrap") throw new Error(small.backend);
  assert.equal(small.stage.tmpfs?.files, 4096, "at least 4096 files, for the jail's own");
  // Unlimited: no bound, no socket, no bounder.
  const free = planRun(
    facts({ config: config({ limits: { ...DEFAULT_POLICY.limits, tmpBytes: undefined } }) }),
  );
  if (free.backend !== "bwrap") throw new Error(free.backend);
  assert.equal(free.stage.tmpfs, undefined);
  assert.equal(free.fds.tmpfs, undefined);
  assert.equal(free.argv[free.argv.lastIndexOf("--") + 2], "exec-report-landlock-offline");
});

Deno.test("bwrap, ww root: bwrap runs as the leased id, and a sealed program runs from its descriptor", () => {
  const plan = planRun(
    facts({ wwUid: 0, leased: 70000, program: { ...IPFS, held: { sealed: true, script: false } } }),
  );
  if (plan.backend !== "bwrap") throw new Error(plan.backend);
  assert.deepEqual(plan.fds, {
    seccomp: 5,
    status: 6,
    stage: 7,
    held: 8,
    programStderr: 9,
    tmpfs: 10,
    plan: 11,
    stageStatus: 12,
    lease: 13,
    tmpfsBounder: 14,
  });
  // The supervisor keeps the lease's lock until the jail has ended; bwrap does not get it.
  assert.equal(plan.stage.leaseFd, 13);
  assert.ok(plan.stage.closeOnExecFrom <= 13);
  assert.deepEqual(plan.dropTo, { uid: 70000, gid: 70000 });
  assert.deepEqual(plan.stage.identity, {
    uid: 70000,
    gid: 70000,
    clearGroups: true,
    dropBoundingUpTo: null,
  });
  assert.deepEqual(plan.held, { fd: 8, how: "exec" });
  assert.deepEqual(plan.argv.slice(plan.argv.lastIndexOf("--") + 1), [
    STAGE_PATH,
    "exec-tmpfs-report-landlock-offline",
    "10",
    "9",
    "8",
    "-",
    "app",
    "-v",
  ]);
  assert.equal(plan.highestFd, 10);
  assert.ok(!plan.argv.includes("/ipfs/bafy/bin/app"), "nothing shown at the program's path");
});

Deno.test("bwrap: the held program's way in follows placeHeld with the identity the plan chose", () => {
  const cached = (wwUid: number) =>
    planRun(facts({
      wwUid,
      ...(wwUid === 0 ? { leased: 70000 } : {}),
      program: { ...IPFS, held: { sealed: false, script: false } },
    }));
  const own = cached(1000);
  if (own.backend !== "bwrap") throw new Error(own.backend);
  // ww's own user owns the cached file: bound read-only, run by its path.
  assert.equal(own.held?.how, "bind");
  const i = own.argv.indexOf("--ro-bind-fd");
  assert.deepEqual(own.argv.slice(i, i + 3), ["--ro-bind-fd", "8", "/ipfs/bafy/bin/app"]);
  const root = cached(0);
  if (root.backend !== "bwrap") throw new Error(root.backend);
  assert.equal(root.held?.how, "exec");
});

Deno.test("bwrap: a bind whose source is missing, or a --chdir the host lacks, is refused by the plan", () => {
  const missing = config({ readOnlyBinds: [{ source: "/missing/x", dest: "/missing/x" }] });
  assert.throws(
    () => planRun(facts({ config: missing })),
    (e) =>
      e instanceof BindError && e.commandLine === "--ro-bind /missing/x: /missing/x is absent" &&
      e.message === "jail.readOnlyBinds /missing/x: /missing/x is absent",
  );
  // A link ww does not follow (another user's, which a jail could have planted): refused.
  assert.throws(
    () =>
      planRun(facts({
        config: config({ readOnlyBinds: [{ source: "/srv/planted", dest: "/srv/planted" }] }),
      })),
    (e) =>
      e instanceof BindError &&
      e.commandLine ===
        "--ro-bind /srv/planted: /srv/planted is a symbolic link owned by uid 70000",
  );
  // A file is not a directory (it was "no such directory"); a path that is nowhere needs no bind.
  assert.throws(
    () => planRun(facts({ config: config({ chdir: "/usr/bin/true" }) })),
    (e) => e instanceof CwdError && e.message === "cwd /usr/bin/true: not a directory",
  );
  assert.throws(
    () => planRun(facts({ config: config({ chdir: "/missing/dir" }) })),
    (e) =>
      e instanceof CwdError && e.message === "cwd /missing/dir: no such directory on this machine",
  );
  // In the jail's /tmp, which starts empty: a path missing here gets that advice, a file does not
  // (it was told to bind a directory there, and binding it met "not a directory").
  assert.throws(
    () => planRun(facts({ config: config({ chdir: "/tmp/missing-dir" }) })),
    (e) => e instanceof CwdError && /whose \/tmp and work directory start empty/.test(e.message),
  );
  assert.throws(
    () => planRun(facts({ config: config({ chdir: "/tmp/notes.txt" }) })),
    (e) => e instanceof CwdError && e.message === "cwd /tmp/notes.txt: not a directory",
  );
});

Deno.test("native: the held program first, then the plan and the status pipe; a script keeps its descriptor", () => {
  const plan = planRun(facts({
    choice: { backend: "native", reason: "--jail=native" },
    config: config({ backend: "native" }),
    program: { ...IPFS, held: { sealed: false, script: true } },
  }));
  if (plan.backend !== "native") throw new Error(plan.backend);
  assert.deepEqual(plan.fds, { held: 5, plan: 6, status: 7 });
  assert.equal(plan.highestFd, 5, "the script's descriptor stays open in the program");
  const p = plan.native.plan;
  assert.deepEqual(p.held, { fd: 5, keepOpen: true });
  assert.equal(p.statusFd, 7);
  assert.equal(p.closeOnExecFrom, 5);
  assert.deepEqual(p.argv, ["app", "-v"]);
  assert.deepEqual(p.env, ["A=b", "WW_FD_DB=4"]);
  // The cached file gets a read rule by the stage's descriptor.
  assert.ok(p.landlock?.rules.some((r) => r.path === "/proc/self/fd/5"));
  assert.equal(p.identity, undefined, "ww is not root: its own ids");
  assert.equal(plan.stage.supervise, "program");
  assert.deepEqual(plan.stage.held, { fd: 5, keepOpen: true });
  assert.equal(plan.stage.workdir, "/tmp/ww-1");
  assert.equal(plan.stage.listenPid, undefined);
  assert.equal(plan.stage.controllingTerminal, undefined);
});

Deno.test("native: a program by path needs no held descriptor; a terminal of its own reaches the stage", () => {
  const plan = planRun(facts({
    choice: { backend: "native", reason: "--jail=native" },
    controllingTerminal: true,
  }));
  if (plan.backend !== "native") throw new Error(plan.backend);
  assert.deepEqual(plan.fds, { plan: 5, status: 6 });
  assert.equal(plan.highestFd, 4);
  assert.equal(plan.native.plan.held, undefined);
  assert.equal(plan.native.plan.path, "/usr/bin/true");
  assert.equal(plan.stage.controllingTerminal, true);
});

Deno.test("native, ww root: the lease's lock comes last, for the supervisor alone", () => {
  const plan = planRun(facts({
    choice: { backend: "native", reason: "--jail=native" },
    wwUid: 0,
    leased: 70000,
  }));
  if (plan.backend !== "native") throw new Error(plan.backend);
  assert.deepEqual(plan.fds, { plan: 5, status: 6, lease: 7 });
  assert.equal(plan.stage.leaseFd, 7);
  assert.ok(plan.stage.closeOnExecFrom <= 7, "the program does not get it");
  assert.equal(plan.highestFd, 4);
});

Deno.test("native: what it cannot plan is the run's error, with auto's reason when auto chose it", () => {
  const moved = { readOnlyBinds: [{ source: "/data", dest: "/elsewhere" }] };
  const native = { backend: "native", reason: "bwrap cannot create namespaces here" } as const;
  assert.throws(
    () => planRun(facts({ choice: native, config: config({ ...moved, backend: "native" }) })),
    (e) => e instanceof BindError && !e.message.includes("(bwrap cannot"),
  );
  assert.throws(
    () => planRun(facts({ choice: native, config: config({ ...moved, backend: "auto" }) })),
    (e) => e instanceof BindError && e.message.endsWith("(bwrap cannot create namespaces here)"),
  );
});

/** A --listen socket under socket activation, as ww's own grants reach the planners. */
const LISTENER: LaidOutGrant = { name: "web", source: 9, own: true, activated: true };

Deno.test("none: the grants' slots and the environment, and the stage only for socket activation", () => {
  const plan = planRun(facts({ choice: { backend: "none", reason: "--jail=none" } }));
  assert.deepEqual(plan, {
    backend: "none",
    slots: [{ name: "db", source: 9, envVar: "WW_FD_DB", target: 4 }],
    env: ["A=b", "WW_FD_DB=4"],
    highestFd: 4,
    listenPid: false,
    exec: { path: "/usr/bin/true", argv: ["true", "-v"] },
    notReadOnly: [],
    unenforcedFlags: [],
    notEnforced: [],
  });
  const activated = planRun(facts({
    choice: { backend: "none", reason: "--jail=none" },
    config: { ...config(), fds: [LISTENER] },
  }));
  if (activated.backend !== "none") throw new Error(activated.backend);
  assert.equal(activated.listenPid, true);
  // The stage's exec mode executes the program, taking PWD out and setting LISTEN_PID.
  assert.deepEqual(activated.exec, {
    argv: ["ww-stage", "exec-listen-pid", "/usr/bin/true", "-", "true", "-v"],
  });
});

const NONE = { backend: "none", reason: "--jail=none" } as const;

Deno.test("none: a bind at its own place is honoured, and each --ro-bind is listed as not read-only", () => {
  const plan = planRun(facts({
    choice: NONE,
    config: config({
      backend: "none",
      readOnlyBinds: [{ source: "/data", dest: "/data/" }, { source: "/etc/x", dest: "/etc/x" }],
      writableBinds: [{ source: "/out", dest: "/out" }],
    }),
  }));
  if (plan.backend !== "none") throw new Error(plan.backend);
  assert.deepEqual(plan.notReadOnly, ["/data", "/etc/x"]);
  assert.deepEqual(plan.notEnforced, ["read-only /data", "read-only /etc/x"]);
});

Deno.test("none: an identity and limits other than the defaults are listed as not enforced", () => {
  const plan = planRun(facts({
    choice: NONE,
    config: config({
      backend: "none",
      uid: 1000,
      limits: { ...DEFAULT_LIMITS, memoryBytes: 64 << 20, cpuSeconds: 5, processes: 50 },
    }),
  }));
  if (plan.backend !== "none") throw new Error(plan.backend);
  assert.deepEqual(plan.notEnforced, ["--uid", "--memory", "--cpu", "--nproc"]);
  const plain = planRun(facts({ choice: NONE, config: config({ backend: "none" }) }));
  if (plain.backend !== "none") throw new Error(plain.backend);
  assert.deepEqual(plain.notEnforced, [], "the defaults are no one's request");
  // A limit made unlimited asks nothing a jail would enforce (jail.limits: { tmpBytes } leaves
  // the others undefined): they were listed as --memory, --nofile, --nproc.
  const unlimited = planRun(facts({
    choice: NONE,
    config: config({ backend: "none", limits: { tmpBytes: 4096 } }),
  }));
  if (unlimited.backend !== "none") throw new Error(unlimited.backend);
  assert.deepEqual(unlimited.notEnforced, ["--tmp-size"]);
});

Deno.test("none: a bind at another place is refused in one line naming --jail=none and the fix", () => {
  for (const flag of ["readOnlyBinds", "writableBinds"] as const) {
    const moved = config({ backend: "none", [flag]: [{ source: "/data", dest: "/elsewhere" }] });
    assert.throws(
      () => planRun(facts({ choice: NONE, config: moved })),
      (e) =>
        e instanceof BindError && e.bind === "/data" &&
        e.commandLine ===
          `${
            flag === "readOnlyBinds" ? "--ro-bind" : "--bind"
          } /data:/elsewhere: --jail=none shows the host as it is and cannot show a path at another place (bind it at /data, or run in a jail: --jail=bwrap)` &&
        e.message ===
          `jail.${flag} /data -> /elsewhere: jail.backend "none" shows the host as it is and cannot show a path at another place (bind it at /data, or run in a jail: jail.backend "bwrap")`,
    );
  }
});

Deno.test("a bind whose source is absent is refused by every backend, with the host's reason", () => {
  const missing = { source: "/missing/x", dest: "/missing/x" };
  const backends = [
    NONE,
    { backend: "bwrap", reason: "--jail=bwrap" } as const,
    { backend: "native", reason: "--jail=native" } as const,
  ];
  for (const flag of ["readOnlyBinds", "writableBinds"] as const) {
    for (const choice of backends) {
      assert.throws(
        () =>
          planRun(
            facts({ choice, config: config({ backend: choice.backend, [flag]: [missing] }) }),
          ),
        (e) =>
          e instanceof BindError && e.bind === "/missing/x" &&
          e.commandLine ===
            `${
              flag === "readOnlyBinds" ? "--ro-bind" : "--bind"
            } /missing/x: /missing/x is absent` &&
          e.message === `jail.${flag} /missing/x: /missing/x is absent`,
      );
    }
  }
});
