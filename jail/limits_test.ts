// The limits a jail can start with, as a specification.
import assert from "node:assert/strict";
import {
  BWRAP_MIN_PROCESSES,
  CPU_GRACE_SECONDS,
  JAIL_CORE_BYTES,
  type LimitFacts,
  limitScopeLines,
  limitsProblem,
  MIN_MEMORY_BYTES,
  nprocShortfall,
  nprocSpent,
  spawnWithoutProcesses,
  stageLimits,
} from "./limits.ts";
import { DEFAULT_LIMITS } from "./policy.ts";

const root: LimitFacts = { hard: {}, nrOpen: 1048576, canRaise: true };
const user: LimitFacts = {
  hard: { nofile: 4096, nproc: 1000, cpu: 60, data: 2 ** 30 },
  nrOpen: 1048576,
  canRaise: false,
};
const bwrap = { backend: "bwrap", highestFd: 5 } as const;
const native = { backend: "native", highestFd: 3 } as const;

Deno.test("the default limits work under both backends, for root and for a user", () => {
  for (const facts of [root, { ...user, hard: { nofile: 4096 } }]) {
    assert.equal(limitsProblem(DEFAULT_LIMITS, bwrap, facts), undefined);
    assert.equal(limitsProblem(DEFAULT_LIMITS, native, facts), undefined);
  }
});

Deno.test("--memory below 1M is refused, naming the flag and the minimum", () => {
  for (const memoryBytes of [1, 1024, MIN_MEMORY_BYTES - 1]) {
    const problem = limitsProblem({ memoryBytes }, bwrap, root);
    assert.match(problem ?? "", /^--memory \S+: below the minimum, 1M .*use --memory 1M or more$/);
  }
  assert.match(limitsProblem({ memoryBytes: 1024 }, native, root) ?? "", /^--memory 1K: /);
  assert.equal(limitsProblem({ memoryBytes: MIN_MEMORY_BYTES }, bwrap, root), undefined);
});

Deno.test("--nofile must leave bwrap 6 free descriptors above the ones it starts with", () => {
  assert.equal(limitsProblem({ openFiles: 12 }, bwrap, root), undefined);
  assert.equal(
    limitsProblem({ openFiles: 11 }, bwrap, root),
    "--nofile 11: too low for this run (RLIMIT_NOFILE; bwrap is started with descriptors up to 5 and needs 6 more free); use --nofile 12 or more",
  );
  // 1100 grants under the default --nofile.
  assert.equal(
    limitsProblem(DEFAULT_LIMITS, { backend: "bwrap", highestFd: 1105 }, root),
    "--nofile 1024 (the default): too low for this run (RLIMIT_NOFILE; bwrap is started with descriptors up to 1105 and needs 6 more free); use --nofile 1112 or more",
  );
});

Deno.test("--nofile must leave the program's loader 1 free descriptor under native", () => {
  assert.equal(limitsProblem({ openFiles: 5 }, native, root), undefined);
  assert.equal(
    limitsProblem({ openFiles: 4 }, native, root),
    "--nofile 4: too low for this run (RLIMIT_NOFILE; the program holds descriptors up to 3 and its loader needs 1 more free); use --nofile 5 or more",
  );
});

Deno.test("--nofile above fs.nr_open, or above the hard limit without CAP_SYS_RESOURCE, is refused", () => {
  assert.equal(
    limitsProblem({ openFiles: 99999999 }, bwrap, root),
    "--nofile 99999999: more than this machine allows, 1048576 (fs.nr_open); use --nofile 1048576 or less",
  );
  assert.equal(limitsProblem({ openFiles: 1048576 }, bwrap, root), undefined);
  assert.equal(
    limitsProblem({ openFiles: 4097 }, native, user),
    "--nofile 4097: more than this machine allows, 4096 (ww's hard limit, ulimit -Hn); use --nofile 4096 or less",
  );
  assert.equal(limitsProblem({ openFiles: 4096 }, native, user), undefined);
  // A default the caller never typed is named as one.
  assert.equal(
    limitsProblem(DEFAULT_LIMITS, native, { ...user, hard: { nofile: 30 } }),
    "--nofile 1024 (the default): more than this machine allows, 30 (ww's hard limit, ulimit -Hn); use --nofile 30 or less",
  );
});

Deno.test("--nproc below 3 is refused for bwrap (bwrap, its pid 1, the program), not for native", () => {
  assert.match(
    limitsProblem({ processes: 2 }, bwrap, root) ?? "",
    /^--nproc 2: below the minimum for the bwrap jail, 3 .*use --nproc 3 or more$/,
  );
  assert.equal(limitsProblem({ processes: BWRAP_MIN_PROCESSES }, bwrap, root), undefined);
  assert.equal(limitsProblem({ processes: 1 }, native, root), undefined);
});

Deno.test("without CAP_SYS_RESOURCE no limit may exceed ww's own hard limit", () => {
  // --cpu N's hard limit is N + 1 (SIGXCPU at N, SIGKILL at N + 1).
  assert.equal(
    limitsProblem({ cpuSeconds: 60 }, native, user),
    "--cpu 60: its hard limit, 61 (SIGKILL 1 s after SIGXCPU), is more than ww's hard limit, 60 (ulimit -Ht), which only a process with CAP_SYS_RESOURCE may raise; use --cpu 59 or less",
  );
  assert.equal(limitsProblem({ cpuSeconds: 59 }, native, user), undefined);
  // Under a hard limit of 1 s, no --cpu fits: the line says so, not "use --cpu 1".
  assert.equal(
    limitsProblem({ cpuSeconds: 1 }, native, { ...user, hard: { cpu: 1 } }),
    "--cpu 1: its hard limit, 2 (SIGKILL 1 s after SIGXCPU), is more than ww's hard limit, 1 (ulimit -Ht), which only a process with CAP_SYS_RESOURCE may raise; no value fits under it: raise it, or leave --cpu unset",
  );
  assert.match(
    limitsProblem({ processes: 1001 }, bwrap, user) ?? "",
    /^--nproc 1001: more than ww's hard limit, 1000 \(ulimit -Hu\)/,
  );
  assert.match(
    limitsProblem({ memoryBytes: 2 ** 31 }, bwrap, user) ?? "",
    /^--memory 2G: more than ww's hard limit, 1G \(ulimit -Hd\)/,
  );
  assert.equal(limitsProblem({ cpuSeconds: 61, processes: 5000 }, bwrap, root), undefined);
});

Deno.test("stageLimits: the limits given, soft = hard, but --cpu's hard is a second later (SIGXCPU, then SIGKILL); no core dumps", () => {
  const noCore = {
    resource: "core",
    soft: JAIL_CORE_BYTES,
    hard: JAIL_CORE_BYTES,
    lowerOnly: true,
  };
  assert.deepEqual(stageLimits({}), [noCore]);
  assert.deepEqual(
    stageLimits({ memoryBytes: 1 << 20, cpuSeconds: 10, openFiles: 64, processes: 8 }),
    [
      { resource: "data", soft: 1 << 20, hard: 1 << 20 },
      { resource: "cpu", soft: 10, hard: 10 + CPU_GRACE_SECONDS },
      { resource: "nofile", soft: 64, hard: 64 },
      { resource: "nproc", soft: 8, hard: 8 },
      noCore,
    ],
  );
});

Deno.test("a --nproc used up by the uid's other processes is named with a value that works", () => {
  assert.equal(nprocShortfall(undefined, 65534, 10_000), undefined);
  assert.equal(nprocShortfall(10, 65534, 7), undefined);
  assert.equal(
    nprocShortfall(10, 65534, 8),
    "--nproc 10: uid 65534, whose processes the limit counts, already runs 8 processes or threads, leaving too few for bwrap, the jail's pid 1 and the program (RLIMIT_NPROC); use --nproc 11 or more, or end some of them",
  );
});

Deno.test("a --nproc the run's programs spent is named for a start, with a value that works", () => {
  assert.equal(
    nprocSpent(6, 70000, 6),
    "--nproc 6: uid 70000, whose processes the limit counts, already runs 6 processes or threads (any of that uid's count: the programs a run's programs start, and ww's own when the jail runs as ww's user), leaving none for the program (RLIMIT_NPROC); use --nproc 7 or more, or end some of them",
  );
  assert.match(nprocSpent(6, 70000, 6, "library"), /^jail\.limits\.processes 6: /);
  // Above ww's hard limit no --nproc can be given: ending some is the fix (it advised --nproc 12
  // under `ulimit -u 10`).
  assert.match(
    nprocShortfall(10, 4260, 9, "commandLine", 10)!,
    /; end some of them \(ww's hard limit, 10 \(ulimit -Hu\), allows no --nproc 12\)$/,
  );
  assert.match(
    nprocSpent(10, 4260, 10, "commandLine", 10),
    /; end some of them \(ww's hard limit, 10 \(ulimit -Hu\), allows no --nproc 11\)$/,
  );
  assert.match(nprocShortfall(10, 4260, 9, "commandLine", 100)!, /; use --nproc 12 or more, /);
});

Deno.test("--explain's limits say per process, per uid (naming the uid) and per jail", () => {
  assert.deepEqual(limitScopeLines({ ...DEFAULT_LIMITS, cpuSeconds: 30 }, 65534, { cpu: 9 }), [
    "per process (each process of the jail has its own): memory 4G (RLIMIT_DATA, --memory), cpu 30s (RLIMIT_CPU, --cpu: SIGXCPU, then SIGKILL at 31s), open files 1024 (RLIMIT_NOFILE, --nofile), no core dumps (RLIMIT_CORE 1 byte, or ww's own when lower)",
    "per uid: processes 512 (RLIMIT_NPROC, --nproc): every process and thread of host uid 65534 counts, this jail's and any other's",
    "per jail: none: a budget for a whole jail (memory, CPU, processes together) would need cgroup v2 with delegated controllers, which ww does not use",
  ]);
  assert.match(
    limitScopeLines({}, 1000, {})[0],
    /memory unlimited, ww's own .* cpu unlimited, ww's own .* open files unlimited, ww's own/,
  );
});

// `unlimited` (and --cpu's default) set nothing: the program keeps ww's own limit, which --explain
// said was "unlimited" whatever it was (ww run under `ulimit -t 100` gave the program 100 s).
Deno.test("--explain's limits: one the run leaves unset is ww's own, with its value", () => {
  const lines = limitScopeLines({}, 1000, {
    cpu: 100,
    data: 3 * 2 ** 30,
    nofile: 20000,
    nproc: 96367,
  });
  assert.match(lines[0], /memory 3G, ww's own \(RLIMIT_DATA, --memory\)/);
  assert.match(lines[0], /cpu 100s, ww's own \(RLIMIT_CPU, --cpu\)/);
  assert.match(lines[0], /open files 20000, ww's own \(RLIMIT_NOFILE, --nofile\)/);
  assert.match(lines[1], /^per uid: processes 96367, ww's own \(RLIMIT_NPROC, --nproc\)/);
  // What the run sets is shown as set, whatever ww's own is.
  assert.match(
    limitScopeLines({ ...DEFAULT_LIMITS, cpuSeconds: 30 }, 1000, { cpu: 100 })[0],
    /cpu 30s \(RLIMIT_CPU, --cpu: SIGXCPU/,
  );
});

Deno.test("ww's own spawn without a process names ww's RLIMIT_NPROC when it is spent, else the machine's bounds", () => {
  const spent = spawnWithoutProcesses("/bin/true", 1000, 100, 100, false);
  assert.match(spent, /^\/bin\/true: could not start \(posix_spawn: EAGAIN\): uid 1000, /);
  assert.match(spent, /RLIMIT_NPROC, ulimit -u: 100\); end some of them, or raise ww's limit/);
  const cases: [number, number | undefined, boolean][] = [
    [50, 100, false],
    [100, 100, true],
    [9, undefined, false],
  ];
  for (const [running, soft, exempt] of cases) {
    const other = spawnWithoutProcesses("ww-stage", 0, running, soft, exempt);
    assert.match(
      other,
      /kernel\.threads-max, kernel\.pid_max\) or of ww's pids cgroup \(pids\.max\)/,
    );
    assert.ok(!other.includes("already runs"), other);
  }
});
