/**
 * The native jail: what an unprivileged process can get from the kernel without namespaces
 * (Landlock, seccomp, no_new_privs, rlimits, a new session, a death signal, and, when ww has
 * privileges, an unprivileged identity with no capabilities). This module turns a JailPolicy and
 * facts about the host into a {@linkcode NativePlan}: plain data that jail/native_stage.ts turns
 * into the stage's plan (stage/stage.c), which executes it right before execve; --explain prints
 * it (run/explain.ts). Pure: no Deno APIs, no FFI.
 *
 * @module
 */

import { ETC_FILES, NET_ETC_FILES, SYSTEM_DIRS } from "./system_files.ts";
import {
  type LandlockPathRule,
  landlockProtections,
  type LandlockRuleset,
  landlockRuleset,
  pathRule,
  type PathUse,
  rulesetAttrSize,
} from "./landlock.ts";
import {
  bindProblem,
  type BindRequest,
  bindRequests,
  bindText,
  isWithin,
  ownPartProblem,
} from "./binds.ts";
import { nativeBindRules, nativeBindsProblem } from "./bind_mounts.ts";
import { type HeldProgram, placeHeld } from "./held.ts";
import type { JailPolicy } from "./policy.ts";
import { isPrivileged, type ProcessIdentity } from "./proc_status.ts";
import type { StageLimit } from "../stage/plan.ts";
import { stageLimits } from "./limits.ts";
import type { SeccompArch } from "./seccomp.ts";
import { SECCOMP_BASE64 } from "./seccomp_table.ts";

/** The device nodes the jail may read and write (as bubblewrap's --dev offers them). */
export const DEVICES = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"];
/** The controlling terminal, which also needs ioctls (tcgetattr, window size). */
export const TERMINAL = "/dev/tty";
/** The program's own /proc directory, as the stage names it. */
const PROC_SELF = "/proc/self";

/**
 * The program's own /proc entries, each a rule of its own. The stage opens each by its /proc/self
 * path, so the rules cover /proc/<its pid>, which stays the program's pid across execve; its
 * children get no /proc. An entry this kernel's build leaves out the stage skips (looking for
 * each cost every run ~0.7 ms); each granted costs a native run ~12 µs (issue 13), so clear_refs
 * (write-only) and stack (CAP_SYS_ADMIN's alone) are not listed. Left out too is what shows the
 * host rather than the program: the mount tables (mounts, mountinfo, mountstats: the native jail
 * has no mount namespace), its namespaces (ns), map_files, task (each thread's directory holds all
 * of these again), the links that lead out of /proc (root, cwd, exe), which Landlock judges by
 * their targets anyway, and on the host's network PROC_SELF_NETWORK.
 */
export const PROC_SELF_PATHS: readonly string[] = [
  "arch_status",
  "attr",
  "autogroup",
  "auxv",
  "cgroup",
  "cmdline",
  "comm",
  "coredump_filter",
  "cpuset",
  "environ",
  "fd",
  "fdinfo",
  "gid_map",
  "io",
  "ksm_merging_pages",
  "ksm_stat",
  "limits",
  "loginuid",
  "maps",
  "mem",
  "numa_maps",
  "oom_adj",
  "oom_score",
  "oom_score_adj",
  "pagemap",
  "personality",
  "projid_map",
  "sched",
  "schedstat",
  "sessionid",
  "setgroups",
  "smaps",
  "smaps_rollup",
  "stat",
  "statm",
  "status",
  "syscall",
  "timens_offsets",
  "timers",
  "timerslack_ns",
  "uid_map",
  "wchan",
].map((entry) => `${PROC_SELF}/${entry}`);

/**
 * The rules for PROC_SELF_PATHS (and PROC_SELF_NETWORK unless on the host's network) under
 * `ruleset`: made once for each, as a run of a service that starts many made them anew (issue 16).
 */
function procSelfRules(ruleset: LandlockRuleset, hostNetwork: boolean): LandlockPathRule[] {
  const key = `${ruleset.handledFs} ${hostNetwork}`;
  const made = procSelfRuleCache.get(key);
  if (made) return made;
  const dir = pathRule(ruleset, PROC_SELF, "dir", "read").access;
  const file = pathRule(ruleset, PROC_SELF, "file", "read").access;
  const rules = [...PROC_SELF_PATHS, ...(hostNetwork ? [] : PROC_SELF_NETWORK)]
    .map((path) => ({ path, access: PROC_SELF_DIRS.has(path) ? dir : file }));
  procSelfRuleCache.set(key, rules);
  return rules;
}

const procSelfRuleCache = new Map<string, LandlockPathRule[]>();

/**
 * The program's network as /proc shows it, its sockets and routes (net: /proc/net, which ifconfig,
 * netstat and Java read). Not granted on the host's network (ww not root, no --net), where it is
 * the host's every TCP and unix socket, as NETLINK_SOCK_DIAG, which seccomp refuses there, would
 * list them; a network of the jail's own, or one --net shares, shows nothing more than the
 * program can see otherwise. (task is never granted: each thread's directory there holds the
 * mount tables and ns again.)
 */
export const PROC_SELF_NETWORK: readonly string[] = [`${PROC_SELF}/net`];

/** The directories among PROC_SELF_PATHS and PROC_SELF_NETWORK; the rest are files. */
const PROC_SELF_DIRS: ReadonlySet<string> = new Set(
  ["attr", "fd", "fdinfo", "net"].map((entry) => `${PROC_SELF}/${entry}`),
);

/** What the planner needs to know about the host; run/native.ts gathers it. */
export interface NativeFacts {
  /** landlock_create_ruleset(LANDLOCK_CREATE_RULESET_VERSION); 0 when the kernel has none. */
  readonly landlockAbi: number;
  /** Whether the kernel offers seccomp filters (/proc/sys/kernel/seccomp/actions_avail). */
  readonly seccomp: boolean;
  /** The seccomp architecture, or undefined when ww has no filter for this one. */
  readonly arch?: SeccompArch;
  readonly identity: ProcessIdentity;
  /** /proc/sys/kernel/cap_last_cap. */
  readonly capLastCap: number;
  /** The kind of each path from nativePathCandidates that exists, symlinks followed. */
  readonly pathKinds: Readonly<Record<string, "dir" | "file">>;
  /** Why a path pathKinds lacks is absent (run/host.ts whyAbsent). */
  readonly whyAbsent: (hostPath: string) => string;
  /** Each bind source's real path (symlinks resolved); a source missing here is taken as is. */
  readonly realPaths?: Readonly<Record<string, string>>;
  /** Why a bind source is refused (a link ww does not follow: run/facts.ts bindSourceReal). */
  readonly bindProblems?: Readonly<Record<string, string>>;
  /** ww's pid: the stage exits instead of exec'ing when its parent is no longer ww. */
  readonly parentPid: number;
}

/** The identity change the stage makes when ww has privileges. */
export interface IdentityPlan {
  readonly uid: number;
  readonly gid: number;
  /** setgroups(0, NULL) (needs CAP_SETGID). */
  readonly clearGroups: boolean;
  /** PR_CAPBSET_DROP for capabilities 0..this (needs CAP_SETPCAP); null to leave the set. */
  readonly dropBoundingUpTo: number | null;
}

/** Everything the stage does, in the order it does it (see stage/stage.c). */
export interface NativePlan {
  /** The program, as execve(2) takes it; for a held program, its name for messages. */
  readonly path: string;
  /**
   * A held program: execute this descriptor (execveat AT_EMPTY_PATH) instead of `path`. It is
   * close-on-exec unless `keepOpen` (a script, whose interpreter opens /dev/fd/<fd>).
   */
  readonly held?: { readonly fd: number; readonly keepOpen: boolean };
  readonly argv: readonly string[];
  /** `KEY=VALUE` strings: the program's whole environment. */
  readonly env: readonly string[];
  readonly parentPid: number;
  /** Where the stage reports progress and failure (see StageReport in stage/plan.ts). */
  readonly statusFd: number;
  /** Descriptors from this number up are the stage's own and must not reach the program. */
  readonly closeOnExecFrom: number;
  /** The limits the policy sets (jail/limits.ts stageLimits); the others are left as ww has them. */
  readonly limits: readonly StageLimit[];
  readonly identity?: IdentityPlan;
  readonly landlock?: {
    readonly abi: number;
    readonly ruleset: LandlockRuleset;
    /** sizeof(struct landlock_ruleset_attr) for this ABI. */
    readonly attrSize: number;
    readonly rules: readonly LandlockPathRule[];
  };
  /** The struct sock_filter array of jail/seccomp.ts, base64. */
  readonly seccomp?: string;
  /** The program's cwd (--chdir); the work directory when absent. */
  readonly cwd?: string;
  /**
   * A network namespace of the program's own, with only its loopback up (no --net, and ww holds
   * CAP_SYS_ADMIN to make one): it closes what Landlock's TCP rights leave open on the host's
   * network, UDP, a listen() on a socket never bound, abstract unix socket names.
   */
  readonly privateNetwork?: boolean;
}

/** A protection the native jail wants and what it stops. */
export interface NativeProtection {
  readonly name: string;
  readonly what: string;
}

/** The result of planning: the plan and what this host cannot enforce (allowed by the policy). */
export interface NativePlanResult {
  readonly plan: NativePlan;
  readonly enforced: readonly NativeProtection[];
  readonly missing: readonly NativeProtection[];
}

const NETWORK_PROTECTION: NativeProtection = {
  name: "network-namespace",
  what:
    "a network namespace of its own, when ww may make one (no --net): no UDP, listening or abstract unix names on the host's",
};

const NO_UNIX_PROTECTION: NativeProtection = {
  name: "no-unix-sockets",
  what:
    "no unix socket of its own without --net (seccomp, EACCES): Landlock does not check a connect by path (an ssh-agent, D-Bus, X11); granted sockets and socketpair work",
};

const NO_IP_PROTECTION: NativeProtection = {
  name: "no-ip-sockets",
  what:
    "no IP socket of its own, on the host's network without --net (seccomp, EACCES): no UDP, no listening, no abstract unix name; granted sockets work",
};

const SECCOMP_PROTECTION: NativeProtection = {
  name: "seccomp",
  what:
    "the syscall denylist of the bwrap jail (every syscall newer than it included), plus SysV IPC, POSIX message queues, inotify, fanotify and statmount/listmount (jail/seccomp.ts)",
};

/** The paths whose kinds NativeFacts.pathKinds must report. */
export function nativePathCandidates(policy: JailPolicy, programSource?: string): string[] {
  return [
    ...SYSTEM_DIRS,
    ...ETC_FILES,
    ...(policy.net ? NET_ETC_FILES : []),
    ...DEVICES,
    TERMINAL,
    ...(programSource === undefined ? [] : [programSource]),
    ...policy.readOnlyBinds.map((b) => b.source),
    ...policy.writableBinds.map((b) => b.source),
  ];
}

export interface NativeInput {
  readonly policy: JailPolicy;
  /** The resolved program path, executed as is (for a held program, only named in messages). */
  readonly programPath: string;
  /** Its real path on the host, which the Landlock rule must name; absent with `held`. */
  readonly programSource?: string;
  /**
   * A held program, executed from its descriptor (numbered as the stage has it) instead of by
   * path: execveat(fd, "", AT_EMPTY_PATH) runs exactly the bytes ww verified, and nothing in the
   * jail has to reach ww's own /proc/<pid>/fd.
   */
  readonly held?: HeldProgram;
  /** argv[0] and the arguments. */
  readonly argv: readonly string[];
  readonly env: readonly string[];
  /** The private work directory (read-write; the stage's and the program's cwd). */
  readonly workdir: string;
  readonly facts: NativeFacts;
  readonly statusFd: number;
  /**
   * For each of jail/bind_mounts.ts nativeBindRules' rules for the policy's binds (their sources
   * resolved by `facts.realPaths`), in order, the descriptor (numbered as the stage has it) that
   * ww opened its source as, refusing every symbolic link on the way: the stage makes
   * the rule on /proc/self/fd/N, exactly that directory or file. By path, the stage followed a
   * symbolic link swapped in for a part of it since ww checked it (a jail that could write a
   * bind's parent gave another jail the host's /etc).
   */
  readonly bindFds: readonly number[];
  /**
   * The descriptor (numbered as the stage has it) ww opened the program's file as, at
   * `programSource`, refusing any link on the way, when it needs a rule (programRuleNeeded).
   */
  readonly programFd?: number;
  readonly closeOnExecFrom: number;
  /**
   * The host id leased for this jail (jail/ids.ts) when ww runs as root: the program's uid and
   * gid unless --uid/--gid say otherwise. Absent when ww is not root.
   */
  readonly leasedId?: number;
}

/**
 * Why the native jail cannot be planned: `error` in the command line's words; for a failure of
 * one bind or of the working directory, which one (`bind`, its source; `cwd`) and the line in a
 * library caller's words (`library`).
 */
export interface NativePlanError {
  readonly error: string;
  readonly bind?: string;
  readonly cwd?: string;
  readonly library?: string;
}

/**
 * Plans a native jail, or says in one line why it cannot: a bind the native jail cannot express,
 * an identity it cannot take, or protections this kernel lacks that the policy did not agree to
 * go without (--allow-weaker-jail).
 *
 * @example
 * const r = nativePlan({ policy: DEFAULT_POLICY, programPath: "/usr/bin/true", ... });
 * if ("error" in r) throw new Error(r.error);
 * r.plan.landlock?.rules; // [{ path: "/usr", access: 13 }, ...]
 */
export function nativePlan(input: NativeInput): NativePlanResult | NativePlanError {
  const { policy, facts } = input;
  const requests = bindRequests(policy, (s) => facts.realPaths?.[s] ?? s);
  for (const b of requests) {
    if (b.dest !== b.source) {
      const why =
        `the native jail cannot show a path at another place (bind it at ${b.source}, or use`;
      return {
        error: `${bindText(b)}: ${why} --jail=bwrap)`,
        bind: b.source,
        library: `${bindText(b, "library")}: ${why} jail.backend "bwrap")`,
      };
    }
    const refused = facts.bindProblems?.[b.source];
    if (refused !== undefined) return bindProblem(b, refused);
    if (facts.pathKinds[b.source] === undefined) return bindProblem(b, facts.whyAbsent(b.source));
  }
  for (const r of requests) {
    // The same refusals as under bwrap (jail/bwrap.ts planBwrapMounts), though nothing is mounted
    // here: the jail's /proc and /dev are ww's to grant (its own /proc entries, a few devices).
    const own = (["/proc", "/dev"] as const).find((p) =>
      isWithin(r.real, p) || isWithin(r.dest, p)
    );
    if (own) return bindProblem(r, ownPartProblem(own));
  }
  const bindsProblem = nativeBindsProblem(requests);
  if (bindsProblem) return bindsProblem;

  const identity = identityPlan(policy, facts, input.leasedId);
  if ("error" in identity) return identity;

  const landlock = landlockProtections(facts.landlockAbi, policy.net);
  const missing: NativeProtection[] = [...landlock.missing];
  const enforced: NativeProtection[] = [...landlock.enforced];
  // unshare(CLONE_NEWNET) needs CAP_SYS_ADMIN, and its loopback CAP_NET_ADMIN (docker's
  // --cap-add SYS_ADMIN gives the one without the other).
  const privateNetwork = !policy.net && hasCapability(facts.identity, CAP_SYS_ADMIN) &&
    hasCapability(facts.identity, CAP_NET_ADMIN);
  // Without --net, seccomp refuses unix sockets, and IP ones on the host's network
  // (jail/seccomp.ts). Compiled once, at build time (jail/seccomp_table.ts).
  const jail = policy.net ? "native" : privateNetwork ? "native-netns" : "native-offline";
  const seccomp = facts.seccomp && facts.arch ? SECCOMP_BASE64[facts.arch][jail] : undefined;
  (seccomp ? enforced : missing).push(SECCOMP_PROTECTION);
  if (privateNetwork) enforced.push(NETWORK_PROTECTION);
  // Parts of seccomp: without seccomp filters, "seccomp" is what is missing.
  if (seccomp && jail !== "native") enforced.push(NO_UNIX_PROTECTION);
  if (seccomp && jail === "native-offline") enforced.push(NO_IP_PROTECTION);
  if (missing.length > 0 && !policy.allowWeakerJail) {
    const why = `this machine cannot enforce ${missing.map((p) => p.name).join(", ")} (${
      abiText(facts.landlockAbi)
    }${seccomp ? "" : ", no seccomp filters"})`;
    return {
      error:
        `--jail=native: ${why}; use --jail=bwrap or a newer kernel, or accept a weaker jail with --allow-weaker-jail`,
      library:
        `the native jail: ${why}; use jail.backend "bwrap" or a newer kernel, or accept a weaker jail with jail.allowWeakerJail`,
    };
  }

  const landlockRules = facts.landlockAbi >= 1
    ? landlockPlan(input, requests, jail === "native-offline")
    : undefined;
  const chdirProblem = policy.chdir === undefined || landlockRules === undefined
    ? undefined
    : nativeChdirProblem(policy.chdir, landlockRules.rules, input);
  if (chdirProblem && policy.chdir !== undefined) {
    return {
      error: chdirProblem,
      cwd: policy.chdir,
      library: nativeChdirProblem(policy.chdir, landlockRules!.rules, input, "library"),
    };
  }
  const plan: NativePlan = {
    path: input.programPath,
    ...(input.held
      ? { held: { fd: input.held.fd, keepOpen: placeHeld("native", input.held, false).keepOpen } }
      : {}),
    argv: input.argv,
    env: input.env,
    parentPid: facts.parentPid,
    statusFd: input.statusFd,
    closeOnExecFrom: input.closeOnExecFrom,
    // As under bwrap: a limit left unset is not touched (RLIM_INFINITY failed with EPERM).
    limits: stageLimits(policy.limits),
    ...(identity.plan ? { identity: identity.plan } : {}),
    ...(landlockRules ? { landlock: landlockRules } : {}),
    ...(seccomp ? { seccomp } : {}),
    ...(policy.chdir !== undefined ? { cwd: policy.chdir } : {}),
    ...(privateNetwork ? { privateNetwork } : {}),
  };
  return { plan, enforced, missing };
}

/**
 * Why the native jail cannot start the program in `dir` (--chdir), or undefined: Landlock does
 * not guard chdir itself, so ww refuses a directory below no directory rule, where the program
 * could stand but read nothing.
 */
function nativeChdirProblem(
  dir: string,
  rules: readonly LandlockPathRule[],
  input: NativeInput,
  words: "commandLine" | "library" = "commandLine",
): string | undefined {
  const isDir = (path: string) => path === input.workdir || input.facts.pathKinds[path] === "dir";
  const real = input.facts.realPaths?.[dir] ?? dir;
  const dirRule = (r: LandlockPathRule) =>
    r.shows === undefined ? isDir(r.path) : input.facts.pathKinds[r.shows] === "dir";
  if (
    rules.some((r) => {
      const path = r.shows ?? r.path;
      return dirRule(r) && (isWithin(dir, path) || isWithin(real, path));
    })
  ) return undefined;
  // No bind shows more of /proc or /dev (ownPartProblem).
  const part = ["/proc", "/dev"].find((p) => isWithin(dir, p) || isWithin(real, p));
  if (part !== undefined) {
    const what = words === "library" ? `cwd ${dir}` : `--chdir ${dir}`;
    return `${what}: the native jail shows only its own part of ${part}, which no bind can widen; choose another directory`;
  }
  return words === "library"
    ? `cwd ${dir}: the native jail does not let the program read it (bind it with jail.readOnlyBinds or jail.writableBinds, or choose a directory the jail shows)`
    : `--chdir ${dir}: the native jail does not let the program read it (bind it with --ro-bind or --bind, or choose a directory the jail shows)`;
}

const CAP_SETGID = 6n;
const CAP_SETPCAP = 8n;
const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;

/** Whether `id` holds capability `cap` (its effective set). */
function hasCapability(id: ProcessIdentity, cap: bigint): boolean {
  return (id.capEffective >> cap & 1n) === 1n;
}

function identityPlan(
  policy: JailPolicy,
  facts: NativeFacts,
  leasedId: number | undefined,
): { plan?: IdentityPlan } | NativePlanError {
  const id = facts.identity;
  const root = id.euid === 0;
  // Without a user namespace the program's ids are host ids: 0 would be host root, so it is
  // refused rather than mapped (bwrap maps it inside the jail only).
  if (policy.uid === 0 || policy.gid === 0) {
    const flag = policy.uid === 0 ? "--uid 0" : "--gid 0";
    const option = policy.uid === 0 ? "jail.uid 0" : "jail.gid 0";
    const why =
      "the native jail runs programs as an unprivileged user only: without a user namespace, 0 would be host root (drop it, or use";
    return {
      error: `${flag}: ${why} --jail=bwrap, which maps it inside the jail only)`,
      library: `${option}: ${why} jail.backend "bwrap", which maps it inside the jail only)`,
    };
  }
  const own = root ? leasedId : undefined;
  const uid = policy.uid ?? own ?? (root ? undefined : id.euid);
  const gid = policy.gid ?? own ?? (root ? undefined : id.egid);
  if (uid === undefined || gid === undefined) {
    return { error: "ww runs as root but leased no host id for the native jail (internal)" };
  }
  if (!isPrivileged(id)) {
    if (uid !== id.euid || uid !== id.uid) {
      return {
        error:
          `--uid ${uid}: switching user needs root, and ww runs as uid ${id.euid} (drop --uid)`,
      };
    }
    if (gid !== id.egid || gid !== id.gid) {
      return {
        error:
          `--gid ${gid}: switching group needs root, and ww runs as gid ${id.egid} (drop --gid)`,
      };
    }
    return {};
  }
  const has = (cap: bigint) => hasCapability(id, cap);
  return {
    plan: {
      uid,
      gid,
      clearGroups: has(CAP_SETGID),
      dropBoundingUpTo: has(CAP_SETPCAP) ? facts.capLastCap : null,
    },
  };
}

function landlockPlan(
  input: NativeInput,
  requests: readonly BindRequest[],
  hostNetwork: boolean,
): NonNullable<NativePlan["landlock"]> {
  const { policy, facts } = input;
  const ruleset = landlockRuleset(facts.landlockAbi, policy.net);
  const rules: LandlockPathRule[] = [];
  const add = (path: string, use: PathUse, kind = facts.pathKinds[path]) => {
    if (kind === undefined) return;
    const rule = pathRule(ruleset, path, kind, use);
    if (!rules.some((r) => r.path === rule.path && r.access === rule.access)) rules.push(rule);
  };
  for (const path of SYSTEM_DIRS) add(path, "read");
  for (const path of [...ETC_FILES, ...(policy.net ? NET_ETC_FILES : [])]) add(path, "read");
  for (const path of DEVICES) add(path, "device");
  add(TERMINAL, "terminal");
  // Apart from the others, which no path of them overlaps: ~40 rules, the same for every run.
  rules.push(...procSelfRules(ruleset, hostNetwork));
  // The program's own file, outside the system's directories: on the descriptor ww opened it as,
  // as a bind's (a link swapped in for it as the stage opened it by path widened the rule).
  const source = input.programSource;
  if (source !== undefined && programRuleNeeded(source)) {
    if (input.programFd === undefined) {
      throw new Error("nativePlan: a descriptor for the program's file (internal)");
    }
    const pinned = pathRule(ruleset, `/proc/self/fd/${input.programFd}`, "file", "read");
    rules.push({ ...pinned, shows: source });
  }
  // A held file on disk needs a rule (placeHeld): the stage names it by its own descriptor,
  // opened before it restricts itself, so the rule is for exactly that file, wherever the cache
  // is, and no other file of the cache.
  if (input.held && placeHeld("native", input.held, false).readRule) {
    add(`/proc/self/fd/${input.held.fd}`, "read", "file");
  }
  add(input.workdir, "write", "dir");
  const binds = nativeBindRules(requests);
  if (binds.length !== input.bindFds.length) {
    throw new Error("nativePlan: a descriptor for each bind (internal)");
  }
  binds.forEach((rule, i) => {
    const kind = facts.pathKinds[rule.source];
    if (kind === undefined) return;
    const use = rule.writable ? "write" : "read";
    const pinned = pathRule(ruleset, `/proc/self/fd/${input.bindFds[i]}`, kind, use);
    rules.push({ ...pinned, shows: rule.source });
  });
  return {
    abi: facts.landlockAbi,
    ruleset,
    attrSize: rulesetAttrSize(facts.landlockAbi),
    rules,
  };
}

/**
 * Whether the program's file at `source` (its real path) needs a rule of its own: the system's
 * directories have one for everything in them.
 *
 * @example
 * programRuleNeeded("/usr/bin/true"); // false
 * programRuleNeeded("/home/u/app"); // true
 */
export function programRuleNeeded(source: string): boolean {
  return !SYSTEM_DIRS.some((d) => source.startsWith(`${d}/`));
}

function abiText(abi: number): string {
  return abi === 0 ? "no Landlock" : `Landlock ABI ${abi}`;
}
