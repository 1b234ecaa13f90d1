// run/explain.ts — `ww run --explain`: the descriptors, environment and jail a run would get,
// as text, computed from the same plans the run executes. Pure.

import { type FdSlot, hostSocketFd, socketActivated } from "../fd/layout.ts";
import type { BackendChoice } from "../jail/auto.ts";
import {
  type BwrapMounts,
  JAIL_GID,
  JAIL_HOSTNAME,
  JAIL_UID,
  ownEtcFiles,
  STAGE_PATH,
  tmpfsFiles,
} from "../jail/bwrap.ts";
import type { HostFiles } from "../jail/system_files.ts";
import { formatIdRange, type IdRange, JAIL_IDS_ENV } from "../jail/ids.ts";
import { type NativePlanResult, PROC_SELF_NETWORK, PROC_SELF_PATHS } from "../jail/native.ts";
import { limitScopeLines } from "../jail/limits.ts";
import type { ProcessLimits } from "../ffi/rlimit.ts";
import { TIMEOUT_GRACE_MS } from "../jail/policy.ts";
import { deniedSyscalls, NEWEST_SYSCALL, type SeccompJail } from "../jail/seccomp.ts";
import type { RunConfig } from "../core/config.ts";

export interface ExplainInput {
  readonly config: RunConfig;
  /** The resolved program path. */
  readonly path: string;
  /** `what` describes a grant ww opens itself (fd/grants.ts describeOwnGrant). */
  readonly slots: readonly (FdSlot & { readonly what?: string })[];
  readonly env: readonly string[];
  /** The backend the run gets and why (`--jail=auto` decides here). */
  readonly choice: BackendChoice;
  /**
   * For the bwrap backend: the host facts, the full bwrap command line, where the binds and the
   * work directory go (jail/bwrap.ts planBwrapMounts), the host identity the stage runs bwrap
   * as (when ww is root), and how a held program enters the jail.
   */
  readonly bwrap?: {
    readonly host: HostFiles;
    readonly argv: readonly string[];
    readonly mounts?: BwrapMounts;
    readonly dropTo?: { readonly uid: number; readonly gid: number };
    readonly held?: { readonly fd: number; readonly how: "exec" | "copy" | "bind" };
  };
  /** The host id a run would lease now (ww is root), and the range it comes from. */
  readonly hostIds?: {
    readonly leased: number;
    readonly range: IdRange;
    readonly fromEnv: boolean;
  };
  /** For no jail: what ww spawns and what it cannot enforce (plan/direct.ts DirectRunPlan). */
  readonly direct?: {
    readonly unenforcedFlags: readonly string[];
    readonly exec: { readonly path?: string; readonly argv: readonly string[] };
  };
  /** For the native backend: its plan and what this machine does and does not enforce. */
  readonly native?: NativePlanResult;
  /** The host uid the jail's processes run as, whose processes RLIMIT_NPROC counts. */
  readonly limitUid: number;
  /** ww's own soft limits (ffi/rlimit.ts softLimitsNow), which a limit left unset keeps. */
  readonly ownLimits: ProcessLimits;
}

/** The explanation, one line per fact. */
export function explainRun(input: ExplainInput): string[] {
  const { config, slots, env } = input;
  const out: string[] = [];
  out.push(`program: ${input.path}${config.args.length ? ` ${JSON.stringify(config.args)}` : ""}`);
  out.push("descriptors:");
  out.push(
    config.tty
      ? "  0-2  a pseudo-terminal of its own, its controlling terminal, proxied to and from ww's stdin and stdout (--tty)"
      : "  0-2  ww's stdin, stdout, stderr",
  );
  const hostFd = hostSocketFd(slots);
  const host = `  ${hostFd}    host socket (AF_UNIX stream; Cap'n Proto RPC)${
    socketActivated(slots) ? ` WW_HOST_FD=${hostFd}` : ""
  }`;
  for (const s of slots) {
    if (s.target === hostFd + 1) out.push(host);
    const what = "what" in s && s.what ? s.what : `caller's fd ${s.source}`;
    const activated = s.activated ? ", socket activation" : "";
    out.push(`  ${s.target}    ${s.name} (${what}${activated}) ${s.envVar}=${s.target}`);
  }
  if (!slots.some((s) => s.target === hostFd + 1)) out.push(host);
  out.push("  every other descriptor is closed");
  // Socket activation: the stage adds LISTEN_PID.
  const listenPid = socketActivated(slots);
  const count = env.length + (listenPid ? 1 : 0);
  out.push(`environment (${count} variable${count === 1 ? "" : "s"}, nothing inherited):`);
  for (const e of env) out.push(`  ${e}`);
  if (listenPid) {
    out.push("  LISTEN_PID=<the program's own pid, set by ww's stage as it executes the program>");
  }
  out.push("work directory: a fresh private temporary directory, removed afterwards");
  if (config.jail.chdir !== undefined) out.push(`starts in: ${config.jail.chdir} (--chdir)`);
  const jail = config.jail;
  if (input.choice.backend === "none") {
    out.push("jail: none (the program runs with ww's own privileges, files and network)");
    // Binds only pass the plan's check here: the host's paths are there as they are.
    for (const b of jail.readOnlyBinds) {
      out.push(`  ${b.source} as it is, NOT read-only (--ro-bind needs a jail)`);
    }
    for (const b of jail.writableBinds) out.push(`  ${b.source} as it is`);
    const flags = input.direct?.unenforcedFlags ?? [];
    if (flags.length > 0) {
      out.push(`  NOT enforced: ${flags.join(", ")} (the program runs as ww, with ww's limits)`);
    }
    if (input.direct) out.push(...describeDirectExec(input.direct.exec, input.path));
    if (jail.timeoutMs !== undefined) out.push(`timeout: ${timeoutText(jail.timeoutMs)}`);
    return out;
  }
  if (input.native) {
    out.push(`jail: native (Landlock, seccomp, limits; no namespaces) (${reason(input.choice)})`);
    out.push(...describeNativePlan(input.native));
    out.push(
      "  work directory: on the host's TMPDIR; not bounded by --tmp-size (the native jail mounts nothing)",
    );
    if (jail.uid === undefined || jail.gid === undefined) out.push(...leaseLines(input.hostIds));
    out.push(...seccompLines("native"));
    out.push(
      "  limits:",
      ...limitScopeLines(jail.limits, input.limitUid, input.ownLimits).map((l) => `    ${l}`),
    );
    if (jail.timeoutMs !== undefined) out.push(`  timeout: ${timeoutText(jail.timeoutMs)}`);
    out.push(...describeNativeCommand(input.native));
    return out;
  }
  out.push(`jail: bwrap (bubblewrap) (${reason(input.choice)})`);
  out.push(
    `  namespaces: user, mount, pid, ipc, uts (hostname ${JAIL_HOSTNAME}), cgroup${
      jail.net ? "; network shared with the host (--net)" : ", network (no network)"
    }`,
  );
  out.push(
    `  identity: uid ${jail.uid ?? JAIL_UID}, gid ${
      jail.gid ?? JAIL_GID
    }, no capabilities, no_new_privs, new session, no nested user namespaces`,
  );
  const dropTo = input.bwrap?.dropTo;
  out.push(
    dropTo
      ? `  host identity: uid ${dropTo.uid}, gid ${dropTo.gid} (ww is root; the jail's ids are mapped to these, never to host root)`
      : "  host identity: ww's own uid, gid and supplementary groups (the jail's ids, 0 included, are mapped to them)",
  );
  out.push(...leaseLines(input.hostIds));
  out.push("  dies with ww: yes (SIGKILL to the whole jail)");
  out.push("  file system (root is an empty tmpfs, read-only once set up):");
  for (const e of input.bwrap?.host.system ?? []) {
    out.push(e.kind === "dir" ? `    ${e.path} read-only` : `    ${e.path} -> ${e.target}`);
  }
  const mounts = input.bwrap?.mounts;
  const bwrapHost = input.bwrap?.host;
  const etc = bwrapHost ? (mounts ? ownEtcFiles(bwrapHost, mounts) : bwrapHost.etc) : [];
  for (const p of etc) out.push(`    ${p} read-only`);
  const { tmpBytes } = jail.limits;
  const tmpfs = `tmpfs of at most ${sizeText(tmpBytes)}${
    tmpBytes === undefined ? "" : ` and ${tmpfsFiles(tmpBytes)} files`
  }`;
  out.push(
    "    /proc (this pid namespace), /dev (null zero full random urandom tty; read-only; and pts, ptmx: a devpts of the jail's own)",
  );
  out.push(`    /dev/shm read-write (${tmpfs})`);
  if (!mounts?.tmpBound) out.push(`    /tmp read-write (${tmpfs})`);
  out.push(
    `    the work directory${mounts ? ` ${mounts.workdir}` : ""} read-write (${
      !mounts || mounts.workdirInTmp ? "in /tmp" : tmpfs
    })`,
  );
  out.push(
    "    every other place of the root (a tmpfs) is read-only; --tmp-size bounds each in-memory file system, not their sum",
  );
  if (input.bwrap) {
    const { held } = input.bwrap;
    out.push(
      `    ${STAGE_PATH} read-only: ww's stage, the jail's pid 1, which sets the program's environment and starts it${
        held?.how === "exec" ? ` from its descriptor (fd ${held.fd})` : ""
      }`,
    );
  }
  if (mounts) {
    for (const b of mounts.binds) {
      out.push(`    ${b.dest} ${b.writable ? "read-write" : "read-only"} from ${b.source}`);
    }
    if (mounts.programAt !== undefined) out.push(`    ${mounts.programAt} read-only: the program`);
  } else {
    for (const b of jail.readOnlyBinds) out.push(`    ${b.dest} read-only from ${b.source}`);
    for (const b of jail.writableBinds) out.push(`    ${b.dest} read-write from ${b.source}`);
  }
  out.push(...seccompLines("bwrap"));
  out.push(
    "  limits:",
    ...limitScopeLines(jail.limits, input.limitUid, input.ownLimits).map((l) => `    ${l}`),
  );
  if (jail.timeoutMs !== undefined) out.push(`  timeout: ${timeoutText(jail.timeoutMs)}`);
  if (input.bwrap) {
    const drop = input.bwrap.dropTo;
    out.push(
      `  started by ww's stage: it sets the limits on itself${
        drop ? `, takes host uid ${drop.uid}, gid ${drop.gid} and no groups (ww is root)` : ""
      }, executes bwrap and stays as its supervisor (when bwrap ends or ww dies, it kills whatever is left)`,
    );
    out.push(`  command: ${input.bwrap.argv.map(shellQuote).join(" ")}`);
  }
  return out;
}

/** What the seccomp program of `jail` denies: each entry, and every syscall newer than it knows. */
function seccompLines(jail: SeccompJail): string[] {
  return [
    "  seccomp denies:",
    ...deniedSyscalls(jail).map((d) => `    ${d.name} (${d.errno}): ${d.reason}`),
    `    every syscall numbered past ${NEWEST_SYSCALL} (ENOSYS): newer than this policy, not yet judged`,
  ];
}

/** Why the jail is what it is, in the command line's words (--explain prints them). */
function reason(choice: BackendChoice): string {
  return choice.commandLine ?? choice.reason;
}

function sizeText(bytes: number | undefined): string {
  if (bytes === undefined) return "half of RAM (--tmp-size unlimited: the kernel's default)";
  if (bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20} MiB`;
  // tmpfs counts whole pages: a bound of 1 byte let a 2048-byte write through.
  return `${bytes} bytes, rounded up to whole pages (4 KiB each on x86_64)`;
}

function leaseLines(hostIds: ExplainInput["hostIds"]): string[] {
  if (!hostIds) return [];
  return [
    `  host id leased per run from ${formatIdRange(hostIds.range)} (${
      hostIds.fromEnv ? JAIL_IDS_ENV : `the default; ${JAIL_IDS_ENV} overrides it`
    }), held until the jail ends: no other jail shares it (${hostIds.leased} is the one free now)`,
  ];
}

function timeoutText(ms: number): string {
  return `${ms / 1000}s wall clock, then SIGTERM, SIGKILL ${
    TIMEOUT_GRACE_MS / 1000
  }s later (exit 124)`;
}

/**
 * `s` as a shell word. One with a control or format character (a newline, an escape sequence, a
 * bidi override) is ANSI-C quoted (`$'...'`, as bash, zsh and POSIX 2024 sh read it), so that the
 * command stays one line and the terminal shows those characters instead of obeying them.
 */
function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_\/.=:,+@-]+$/.test(s)) return s;
  const unsafe = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
  if (!unsafe.test(s)) return `'${s.replaceAll("'", `'\\''`)}'`;
  return `$'${s.replace(/[\\'\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ansiEscape)}'`;
}

const ANSI_SHORT: Record<string, string> = {
  "\\": "\\\\",
  "'": "\\'",
  "\n": "\\n",
  "\t": "\\t",
  "\r": "\\r",
};

/**
 * One character as `$'...'` writes it: each byte of its UTF-8, the bytes the program gets, as
 * \xHH (two digits, so a digit after it stays a digit). bash decodes \uHHHH by the reader's
 * locale: in C or POSIX's it stays the six characters, and the argument read back was another.
 */
function ansiEscape(c: string): string {
  const short = ANSI_SHORT[c];
  if (short !== undefined) return short;
  return Array.from(
    new TextEncoder().encode(c),
    (b) => `\\x${b.toString(16).padStart(2, "0")}`,
  ).join("");
}

/**
 * `ww run --explain` lines for what a run with no jail spawns (after the `jail:` line): the
 * program, or, under socket activation, ww's stage executing it (`exec.path` undefined), with the
 * argv the plan gives; the descriptors and the environment are the lines above.
 */
export function describeDirectExec(
  exec: { readonly path?: string; readonly argv: readonly string[] },
  program: string,
): string[] {
  return [
    exec.path === undefined
      ? `  started by ww: its stage, which sets LISTEN_PID to its own pid and executes ${program} in the same process`
      : `  started by ww: ${exec.path}, as ww's own child (ww's user, groups and capabilities)`,
    `  command: ${exec.argv.map(shellQuote).join(" ")}`,
  ];
}

/** `ww run --explain` lines for a native plan (after the `jail:` line). */
export function describeNativePlan(result: NativePlanResult): string[] {
  const { plan, enforced, missing } = result;
  const out: string[] = [];
  const id = plan.identity;
  out.push(
    id
      ? `  identity: uid ${id.uid}, gid ${id.gid}, no supplementary groups, every capability dropped (bounding and ambient sets emptied), no_new_privs`
      : "  identity: ww's own uid, gid and supplementary groups (unprivileged), no capabilities, no_new_privs",
  );
  out.push(
    "  new session; the stage stays behind as supervisor: when the program ends or ww dies, it kills every descendant and removes the work directory",
  );
  if (plan.held) {
    const { fd, keepOpen } = plan.held;
    out.push(
      `  program: executed from fd ${fd} (execveat AT_EMPTY_PATH), ${
        keepOpen ? `left open for its interpreter as /dev/fd/${fd}` : "closed on exec"
      }`,
    );
  }
  out.push(`  landlock: ${plan.landlock ? `ABI ${plan.landlock.abi}` : "not available"}`);
  const rules = plan.landlock?.rules ?? [];
  const procSelf = rules.filter((r) =>
    PROC_SELF_PATHS.includes(r.path) || PROC_SELF_NETWORK.includes(r.path)
  );
  const network = procSelf.some((r) => PROC_SELF_NETWORK.includes(r.path));
  for (const r of rules) {
    if (r === procSelf[0]) {
      out.push(
        `    /proc/self: ${procSelf.length} of its own entries listed, read (one this kernel lacks is skipped; not ${
          network ? "" : "net (the host's network), "
        }task, ns, the mount tables or map_files, which show the host)`,
      );
    }
    if (procSelf.includes(r)) continue;
    // A bind's rule is on the descriptor ww opened its source as.
    const held = r.shows === undefined ? "" : ` (${r.shows}, opened by ww)`;
    out.push(`    ${r.path}${held} ${accessText(r.access)}`);
  }
  if (plan.landlock) {
    out.push("    everything else: no access (stat and readlink still work everywhere)");
  }
  for (const p of enforced) out.push(`  enforced: ${p.name}: ${p.what}`);
  for (const p of missing) out.push(`  NOT enforced (this kernel lacks it): ${p.name}: ${p.what}`);
  // Without --net seccomp refuses the program IP (on the host's network) and unix sockets.
  const has = (name: string) => enforced.some((p) => p.name === name);
  const open = [
    "other processes' pids (no access to their /proc entries)",
    ...(has("no-ip-sockets") || has("network-namespace") ? [] : ["UDP"]),
    ...(has("no-unix-sockets") ? [] : ["unix sockets by path"]),
    "the hostname",
    "chmod, chown, times and ACLs of files the jail's uid owns (no Landlock right covers them)",
  ];
  out.push(`  not hidden without namespaces: ${open.join(", ")}`);
  return out;
}

/**
 * `ww run --explain` lines for who starts a native jail's program and the execve it makes (the
 * last lines, as bwrap's command line and an unjailed run's program are): ww spawns the stage,
 * whose child takes the plan's steps and executes the program.
 *
 * @example
 * ```ts ignore
 * describeNativeCommand(result).at(-1); // "  command: echo hi (executing /usr/bin/echo)"
 * ```
 */
export function describeNativeCommand({ plan }: NativePlanResult): string[] {
  const executed = plan.held
    ? ` (executed from fd ${plan.held.fd})`
    : plan.path === plan.argv[0]
    ? ""
    : ` (executing ${shellQuote(plan.path)})`;
  return [
    "  started by ww's stage: its child takes the steps above and executes the program; the stage stays as its supervisor",
    `  command: ${plan.argv.map(shellQuote).join(" ")}${executed}`,
  ];
}

function accessText(access: number): string {
  const names: [number, string][] = [
    [1 << 2, "read"],
    [1 << 3, "list"],
    [1 << 0, "execute"],
    [1 << 1, "write"],
    [(1 << 4) | (1 << 5) | (1 << 7) | (1 << 8), "create/delete"],
    [1 << 14, "truncate"],
    [1 << 15, "ioctl"],
  ];
  return names.filter(([bit]) => (access & bit) !== 0).map(([, n]) => n).join(",");
}
