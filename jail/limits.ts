/**
 * Whether a run's resource limits (--memory, --cpu, --nofile, --nproc) can work at all, decided
 * before anything starts, and the one line that names the limit and a value that works. A limit
 * too low for the jail's own launcher (bwrap, the dynamic loader) would otherwise fail inside it
 * with a message about a shared library or an eventfd, or with none at all. Pure: the caller
 * gathers the host's hard limits (run/limits.ts).
 *
 * The minimums were measured on this project's machines (Debian 12, bwrap 0.8.0, x86_64) with
 * `/bin/sh -c 'echo hi'`: below 256 KiB of RLIMIT_DATA the loader cannot allocate the initial
 * thread's TLS or bwrap runs out of memory; bwrap needs RLIMIT_NPROC 3 for a uid with no other
 * process (itself, the jail's pid 1, the program) and 6 free descriptors above the ones it is
 * started with (eventfd, pipes, /proc/<pid>/ns/*); a program's loader needs 1 free descriptor
 * above the program's own (`--jail=native --nofile 5` runs `/bin/sh`, 4 does not).
 *
 * @module
 */

import { DEFAULT_LIMITS, formatSize, LIMIT_FLAGS, type Limits } from "./policy.ts";
import type { StageLimit } from "../stage/plan.ts";

/** The smallest --memory ww accepts: 4 times what bwrap and the loader were measured to need. */
export const MIN_MEMORY_BYTES = 2 ** 20;
/** The smallest --nproc that lets bwrap start: bwrap, the jail's pid 1 and the program. */
export const BWRAP_MIN_PROCESSES = 3;
/** Free descriptors bwrap needs above those it is started with (measured). */
export const BWRAP_SPARE_FDS = 6;
/** Free descriptors the program's dynamic loader needs above the program's own (measured). */
export const LOADER_SPARE_FDS = 1;

/** The hard limits ww itself runs under, and whether it may raise them. */
export interface LimitFacts {
  /** Hard limits of ww's process; undefined is unlimited. */
  readonly hard: {
    readonly data?: number;
    readonly cpu?: number;
    readonly nofile?: number;
    readonly nproc?: number;
  };
  /** fs.nr_open: no process may set RLIMIT_NOFILE above it, root included. */
  readonly nrOpen: number;
  /** ww holds CAP_SYS_RESOURCE, so it may raise a hard limit (RLIMIT_NOFILE up to nr_open). */
  readonly canRaise: boolean;
}

/** What the jail starts with, as far as the limits care. */
export interface LaunchShape {
  readonly backend: "bwrap" | "native";
  /**
   * The highest descriptor number the limits must leave room for: the one bwrap is started with
   * (after the program's 0-3 and grants, its control descriptors), or, under native, the
   * program's own highest (the native stage sets the limits right before execve).
   */
  readonly highestFd: number;
}

/** Whom a limit's message is for: `ww run`'s flags (--nproc 5) or a Command's options. */
export type LimitWording = "commandLine" | "library";

/** The limits limitsFailure checks (the in-memory file systems' size is bwrap's to refuse). */
export type CheckedLimit = Exclude<keyof Limits, "tmpBytes">;

/** A limit that cannot work: which one (its key in Limits), the value asked for, and why. */
export interface LimitFailure {
  readonly limit: CheckedLimit;
  readonly value: number;
  /** One line naming the limit, what is wrong and a value that works. */
  readonly line: string;
}

/** A limit with a value, as `words` spells it: `--memory 1M` or `jail.limits.memoryBytes 1048576`. */
function spell(limit: CheckedLimit, value: number, words: LimitWording): string {
  if (words === "library") return `jail.limits.${limit} ${value}`;
  return `${LIMIT_FLAGS[limit]} ${limit === "memoryBytes" ? formatSize(value) : value}`;
}

/**
 * The first limit that cannot work for `launch` on this machine, as one line naming the flag and
 * a value that works; undefined when they all can.
 *
 * @example
 * limitsProblem({ memoryBytes: 1024 }, { backend: "bwrap", highestFd: 5 },
 *   { hard: {}, nrOpen: 1048576, canRaise: true });
 * // "--memory 1024: below the minimum, 1M: ..."
 */
export function limitsProblem(
  limits: Limits,
  launch: LaunchShape,
  facts: LimitFacts,
): string | undefined {
  return limitsFailure(limits, launch, facts, "commandLine")?.line;
}

/**
 * Why `memoryBytes` is too little for any jail, on any machine, or undefined: a fact of the value
 * alone, so --memory checks every value it is given (a later one does not hide it), and
 * limitsFailure a library caller's. `backend`, when known, names who needs the memory.
 *
 * @example
 * memoryMinimumProblem(1024, "commandLine");
 * // "below the minimum, 1M (RLIMIT_DATA; the dynamic loader and bwrap or libc need about 256K
 * // before the program runs); use --memory 1M or more"
 */
export function memoryMinimumProblem(
  memoryBytes: number,
  words: LimitWording,
  backend?: LaunchShape["backend"],
): string | undefined {
  if (memoryBytes >= MIN_MEMORY_BYTES) return undefined;
  const who = backend === undefined ? "bwrap or libc" : backend === "bwrap" ? "bwrap" : "libc";
  return `below the minimum, 1M (RLIMIT_DATA; the dynamic loader and ${who} need about 256K before the program runs); use ${
    spell("memoryBytes", MIN_MEMORY_BYTES, words)
  } or more`;
}

/**
 * The first limit that cannot work for `launch` on this machine (see limitsProblem), with its key
 * and value, worded for `words`; undefined when they all can.
 *
 * @example
 * limitsFailure({ processes: 1 }, { backend: "bwrap", highestFd: 5 }, facts, "library");
 * // { limit: "processes", value: 1, line: "jail.limits.processes 1: below the minimum ..." }
 */
export function limitsFailure(
  limits: Limits,
  launch: LaunchShape,
  facts: LimitFacts,
  words: LimitWording,
): LimitFailure | undefined {
  const { memoryBytes, cpuSeconds, openFiles, processes } = limits;
  // A value that is the default is named as one: the caller may never have written it.
  const spellGiven = (limit: CheckedLimit, value: number) =>
    `${spell(limit, value, words)}${value === DEFAULT_LIMITS[limit] ? " (the default)" : ""}`;
  const fail = (limit: CheckedLimit, value: number, why: string): LimitFailure => ({
    limit,
    value,
    line: `${spellGiven(limit, value)}: ${why}`,
  });
  const low = memoryBytes === undefined
    ? undefined
    : memoryMinimumProblem(memoryBytes, words, launch.backend);
  if (low) return fail("memoryBytes", memoryBytes!, low);
  if (openFiles !== undefined) {
    const spare = launch.backend === "bwrap" ? BWRAP_SPARE_FDS : LOADER_SPARE_FDS;
    const least = launch.highestFd + 1 + spare;
    if (openFiles < least) {
      const who = launch.backend === "bwrap"
        ? `bwrap is started with descriptors up to ${launch.highestFd} and needs ${spare} more free`
        : `the program holds descriptors up to ${launch.highestFd} and its loader needs ${spare} more free`;
      return {
        limit: "openFiles",
        value: openFiles,
        line: `${
          spellGiven("openFiles", openFiles)
        }: too low for this run (RLIMIT_NOFILE; ${who}); use ${
          spell("openFiles", least, words)
        } or more`,
      };
    }
    const most = facts.canRaise
      ? facts.nrOpen
      : Math.min(facts.hard.nofile ?? Infinity, facts.nrOpen);
    if (openFiles > most) {
      return fail(
        "openFiles",
        openFiles,
        `more than this machine allows, ${most} (${
          facts.canRaise || most === facts.nrOpen ? "fs.nr_open" : "ww's hard limit, ulimit -Hn"
        }); use ${spell("openFiles", most, words)} or less`,
      );
    }
  }
  if (processes !== undefined && launch.backend === "bwrap" && processes < BWRAP_MIN_PROCESSES) {
    return fail(
      "processes",
      processes,
      `below the minimum for the bwrap jail, ${BWRAP_MIN_PROCESSES} (RLIMIT_NPROC counts bwrap, the jail's pid 1 and the program, and every other process of the jail's uid); use ${
        spell("processes", BWRAP_MIN_PROCESSES, words)
      } or more`,
    );
  }
  if (!facts.canRaise) {
    // `grace`: what the stage adds for the hard limit (--cpu N's is N + CPU_GRACE_SECONDS).
    const above = (
      limit: CheckedLimit,
      v: number | undefined,
      hard: number | undefined,
      shell: string,
      grace = 0,
    ) => {
      if (v === undefined || hard === undefined || v + grace <= hard) return undefined;
      const what = grace === 0
        ? "more than"
        : `its hard limit, ${v + grace} (SIGKILL ${grace} s after SIGXCPU), is more than`;
      const fits = hard - grace >= 1
        ? `use ${spell(limit, hard - grace, words)} or less`
        : `no value fits under it: raise it, or leave ${
          words === "library" ? `jail.limits.${limit}` : LIMIT_FLAGS[limit]
        } unset`;
      return fail(
        limit,
        v,
        `${what} ww's hard limit, ${hard} (${shell}), which only a process with CAP_SYS_RESOURCE may raise; ${fits}`,
      );
    };
    return above("cpuSeconds", cpuSeconds, facts.hard.cpu, "ulimit -Ht", CPU_GRACE_SECONDS) ??
      above("processes", processes, facts.hard.nproc, "ulimit -Hu") ??
      (memoryBytes !== undefined && facts.hard.data !== undefined && memoryBytes > facts.hard.data
        ? fail(
          "memoryBytes",
          memoryBytes,
          `more than ww's hard limit, ${
            formatSize(facts.hard.data)
          } (ulimit -Hd), which only a process with CAP_SYS_RESOURCE may raise; use a smaller ${
            words === "library" ? "jail.limits.memoryBytes" : "--memory"
          }`,
        )
        : undefined);
  }
  return undefined;
}

/**
 * Why a bwrap jail that failed before its pid 1 existed may have failed for want of processes:
 * RLIMIT_NPROC counts every process and thread of the jail's host uid, and `running` of them
 * already exist. Undefined when --nproc leaves room for bwrap's own.
 *
 * @example
 * nprocShortfall(10, 65534, 9);
 * // "--nproc 10: uid 65534 already runs 9 processes or threads, ..."
 */
export function nprocShortfall(
  processes: number | undefined,
  uid: number,
  running: number,
  words: LimitWording = "commandLine",
  hard?: number,
): string | undefined {
  if (processes === undefined || running + BWRAP_MIN_PROCESSES <= processes) return undefined;
  return `${
    spell("processes", processes, words)
  }: uid ${uid}, whose processes the limit counts, already runs ${running} processes or threads, leaving too few for bwrap, the jail's pid 1 and the program (RLIMIT_NPROC); ${
    nprocFix(running + BWRAP_MIN_PROCESSES, words, hard)
  }`;
}

/**
 * The fix for a --nproc that `least` processes would need: that many or more, unless ww's own hard
 * limit (`hard`, when ww may not raise it) allows no such --nproc, which only ending some leaves.
 */
function nprocFix(least: number, words: LimitWording, hard: number | undefined): string {
  if (hard !== undefined && least > hard) {
    return `end some of them (ww's hard limit, ${hard} (ulimit -Hu), allows no ${
      spell("processes", least, words)
    })`;
  }
  return `use ${spell("processes", least, words)} or more, or end some of them`;
}

/**
 * Why a native jail's program could not start for want of processes: the stage's fork of it, or
 * its execve once it took the jail's host uid, failed with EAGAIN under the run's RLIMIT_NPROC, as
 * that uid already runs `running` processes and threads (the jails of one run share their id, so
 * the programs a guest started count too; unprivileged, ww's own do).
 *
 * @example
 * nprocSpent(150, 70000, 150);
 * // "--nproc 150: uid 70000, whose processes the limit counts, already runs 150 processes or threads, ..."
 */
export function nprocSpent(
  processes: number,
  uid: number,
  running: number,
  words: LimitWording = "commandLine",
  hard?: number,
): string {
  return `${
    spell("processes", processes, words)
  }: uid ${uid}, whose processes the limit counts, already runs ${running} processes or threads (any of that uid's count: the programs a run's programs start, and ww's own when the jail runs as ww's user), leaving none for the program (RLIMIT_NPROC); ${
    nprocFix(running + 1, words, hard)
  }`;
}

/**
 * Why ww's own posix_spawn of `program` (its argv[0]: the program, or ww's stage) failed with
 * EAGAIN: ww's user `uid` already runs `running` processes and threads, all its RLIMIT_NPROC
 * `soft` allows (the kernel counts the caller's real uid; uid 0 and a holder of CAP_SYS_RESOURCE
 * or CAP_SYS_ADMIN are `exempt`); or else a bound of the machine's or of a pids cgroup.
 *
 * @example
 * spawnWithoutProcesses("/bin/true", 1000, 100, 100, false);
 * // "/bin/true: could not start (posix_spawn: EAGAIN): uid 1000, which ww runs as, already runs 100 processes or threads, all its limit allows (RLIMIT_NPROC, ulimit -u: 100); end some of them, or raise ww's limit (ulimit -u, or nproc in /etc/security/limits.conf)"
 */
export function spawnWithoutProcesses(
  program: string,
  uid: number,
  running: number,
  soft: number | undefined,
  exempt: boolean,
): string {
  const failed = `${program}: could not start (posix_spawn: EAGAIN)`;
  if (!exempt && soft !== undefined && running >= soft) {
    return `${failed}: uid ${uid}, which ww runs as, already runs ${running} processes or threads, all its limit allows (RLIMIT_NPROC, ulimit -u: ${soft}); end some of them, or raise ww's limit (ulimit -u, or nproc in /etc/security/limits.conf)`;
  }
  const limit = exempt
    ? "which RLIMIT_NPROC does not bound"
    : `under its limit (RLIMIT_NPROC, ulimit -u: ${soft ?? "unlimited"})`;
  return `${failed}: the system made no process, though uid ${uid}, which ww runs as, runs ${running} processes or threads, ${limit}; a bound of the machine's (kernel.threads-max, kernel.pid_max) or of ww's pids cgroup (pids.max) is reached: end some processes, or raise that bound`;
}

/** Why no limit holds for a jail as a whole, for `--explain` and `ww doctor`. */
export const NO_JAIL_BUDGET =
  "none: a budget for a whole jail (memory, CPU, processes together) would need cgroup v2 with delegated controllers, which ww does not use";

/**
 * Which of `limits` hold per process and which per uid, as `--explain` shows them for a jail
 * whose processes run as host uid `uid`, with the core dumps every jail stops (stageLimits). A
 * limit the run leaves unset is ww's own, `own` (ww's soft limits; one absent there is
 * unlimited), which the program keeps.
 *
 * @example
 * limitScopeLines(DEFAULT_LIMITS, 65534, {})[1];
 * // "per uid: processes 512 (RLIMIT_NPROC, --nproc): every process and thread of host uid 65534 counts, ..."
 * limitScopeLines({}, 1000, { cpu: 100 })[0];
 * // "per process (...): memory unlimited, ww's own (RLIMIT_DATA, --memory), cpu 100s, ww's own (RLIMIT_CPU, --cpu), ..."
 */
export function limitScopeLines(
  limits: Limits,
  uid: number,
  own: {
    readonly cpu?: number;
    readonly data?: number;
    readonly nproc?: number;
    readonly nofile?: number;
  },
): string[] {
  const show = (
    set: number | undefined,
    inherited: number | undefined,
    text: (v: number) => string,
  ) =>
    set !== undefined
      ? text(set)
      : `${inherited === undefined ? "unlimited" : text(inherited)}, ww's own`;
  const mem = show(limits.memoryBytes, own.data, formatSize);
  const cpu = show(limits.cpuSeconds, own.cpu, (v) => `${v}s`);
  return [
    `per process (each process of the jail has its own): memory ${mem} (RLIMIT_DATA, --memory), cpu ${cpu} (RLIMIT_CPU, --cpu${
      limits.cpuSeconds === undefined
        ? ""
        : `: SIGXCPU, then SIGKILL at ${limits.cpuSeconds + CPU_GRACE_SECONDS}s`
    }), open files ${
      show(limits.openFiles, own.nofile, String)
    } (RLIMIT_NOFILE, --nofile), no core dumps (RLIMIT_CORE ${JAIL_CORE_BYTES} byte, or ww's own when lower)`,
    `per uid: processes ${
      show(limits.processes, own.nproc, String)
    } (RLIMIT_NPROC, --nproc): every process and thread of host uid ${uid} counts, this jail's and any other's`,
    `per jail: ${NO_JAIL_BUDGET}`,
  ];
}

/**
 * Seconds of CPU time between RLIMIT_CPU's soft limit, where the kernel sends SIGXCPU, and its
 * hard limit, where it sends SIGKILL. With the two equal, the kernel sent SIGKILL alone: exit 137,
 * which says nothing of CPU time, and a program could not end cleanly (SIGXCPU's own default
 * ends it too, as 152, which names the cause).
 */
export const CPU_GRACE_SECONDS = 1;

/**
 * RLIMIT_CORE for a jail's programs: 1 byte, which stops every core dump. 0 stops a dump to a
 * file only: a piped core_pattern (systemd-coredump, apport) ignores the limit but for 1, and
 * runs its handler as root outside the jail on what the program left in its memory. A dump to a
 * file could land in a writable bind, at --memory's size; and --cpu's SIGXCPU dumps core. Never
 * raised (StageLimit.lowerOnly): under a hard limit of 0 (limits.conf, systemd's LimitCORE=0,
 * docker's --ulimit core=0) it stays 0, where raising it failed every run with EPERM.
 */
export const JAIL_CORE_BYTES = 1;

/**
 * The limits a jail's stage sets for `limits`: those given, soft = hard, but for --cpu's hard
 * limit, CPU_GRACE_SECONDS above its soft one; and no core dumps (JAIL_CORE_BYTES). A limit left
 * unset ("unlimited") is not touched: the program keeps ww's own (RLIM_INFINITY would need
 * CAP_SYS_RESOURCE above a finite hard limit, and can never hold for RLIMIT_NOFILE).
 *
 * @example
 * stageLimits({ cpuSeconds: 10, processes: 64 });
 * // [{ resource: "cpu", soft: 10, hard: 11 }, { resource: "nproc", soft: 64, hard: 64 },
 * //  { resource: "core", soft: 1, hard: 1, lowerOnly: true }]
 */
export function stageLimits(limits: Limits): StageLimit[] {
  const set = [
    ["data", limits.memoryBytes, 0],
    ["cpu", limits.cpuSeconds, CPU_GRACE_SECONDS],
    ["nofile", limits.openFiles, 0],
    ["nproc", limits.processes, 0],
  ] as const;
  return [
    ...set.flatMap(([resource, soft, grace]) =>
      soft === undefined ? [] : [{ resource, soft, hard: soft + grace }]
    ),
    { resource: "core", soft: JAIL_CORE_BYTES, hard: JAIL_CORE_BYTES, lowerOnly: true },
  ];
}
