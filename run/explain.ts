// run/explain.ts — `ww run --explain`: the descriptors, environment and jail a run would get,
// as text, computed from the same plans the run executes. Pure.

import type { FdSlot } from "../fd/layout.ts";
import { HOST_SOCKET_FD } from "../fd/layout.ts";
import type { BackendChoice } from "../jail/auto.ts";
import { type HostFiles, JAIL_GID, JAIL_HOSTNAME, JAIL_UID } from "../jail/bwrap.ts";
import { EXEC_FD_PATH } from "../jail/exec_fd.ts";
import { formatIdRange, type IdRange, JAIL_IDS_ENV } from "../jail/ids.ts";
import { describeNativePlan, type NativePlanResult } from "../jail/native.ts";
import { type Limits, TIMEOUT_GRACE_MS } from "../jail/policy.ts";
import { deniedSyscalls } from "../jail/seccomp.ts";
import type { RunConfig } from "./config.ts";

export interface ExplainInput {
  readonly config: RunConfig;
  /** The resolved program path. */
  readonly path: string;
  readonly slots: readonly FdSlot[];
  readonly env: readonly string[];
  /** The backend the run gets and why (`--jail=auto` decides here). */
  readonly choice: BackendChoice;
  /**
   * For the bwrap backend: the host facts, the full bwrap command line, and the host uid/gid
   * bwrap runs as when ww is root.
   */
  readonly bwrap?: {
    readonly host: HostFiles;
    readonly argv: readonly string[];
    readonly dropTo?: { readonly uid: number; readonly gid: number };
  };
  /** The host id a run would lease now (ww is root), and the range it comes from. */
  readonly hostIds?: {
    readonly leased: number;
    readonly range: IdRange;
    readonly fromEnv: boolean;
  };
  /** For the native backend: its plan and what this machine does and does not enforce. */
  readonly native?: NativePlanResult;
}

/** The explanation, one line per fact. */
export function explainRun(input: ExplainInput): string[] {
  const { config, slots, env } = input;
  const out: string[] = [];
  out.push(`program: ${input.path}${config.args.length ? ` ${JSON.stringify(config.args)}` : ""}`);
  out.push("descriptors:");
  out.push("  0-2  ww's stdin, stdout, stderr");
  out.push(`  ${HOST_SOCKET_FD}    host socket (AF_UNIX stream; Cap'n Proto RPC)`);
  for (const s of slots) {
    out.push(`  ${s.target}    ${s.name} (caller's fd ${s.source}) ${s.envVar}=${s.target}`);
  }
  out.push("  every other descriptor is closed");
  out.push(`environment (${env.length} variables, nothing inherited):`);
  for (const e of env) out.push(`  ${e}`);
  out.push("work directory: a fresh private temporary directory, removed afterwards");
  const jail = config.jail;
  if (input.choice.backend === "none") {
    out.push("jail: none (the program runs with ww's own privileges, files and network)");
    if (jail.timeoutMs !== undefined) out.push(`timeout: ${timeoutText(jail.timeoutMs)}`);
    return out;
  }
  if (input.native) {
    out.push(`jail: native (Landlock, seccomp, limits; no namespaces) (${input.choice.reason})`);
    out.push(...describeNativePlan(input.native));
    if (jail.uid === undefined || jail.gid === undefined) out.push(...leaseLines(input.hostIds));
    out.push("  seccomp denies:");
    for (const d of deniedSyscalls("native")) out.push(`    ${d.name} (${d.errno}): ${d.reason}`);
    out.push(`  limits: ${limitsText(jail.limits)}`);
    if (jail.timeoutMs !== undefined) out.push(`  timeout: ${timeoutText(jail.timeoutMs)}`);
    return out;
  }
  out.push(`jail: bwrap (bubblewrap) (${input.choice.reason})`);
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
      : "  host identity: ww's own uid and gid (the jail's ids, 0 included, are mapped to them)",
  );
  out.push(...leaseLines(input.hostIds));
  out.push("  dies with ww: yes (SIGKILL to the whole jail)");
  out.push("  file system (root is an empty tmpfs):");
  for (const e of input.bwrap?.host.system ?? []) {
    out.push(e.kind === "dir" ? `    ${e.path} read-only` : `    ${e.path} -> ${e.target}`);
  }
  for (const p of input.bwrap?.host.etc ?? []) out.push(`    ${p} read-only`);
  out.push(
    "    /proc (this pid namespace), /dev (null zero full random urandom tty), /tmp (tmpfs)",
  );
  out.push("    the work directory read-write");
  if (input.bwrap?.argv.includes(EXEC_FD_PATH)) {
    out.push(
      `    ${EXEC_FD_PATH} read-only: ww's exec step, which runs the program from its descriptor`,
    );
  }
  for (const b of jail.readOnlyBinds) out.push(`    ${b.dest} read-only from ${b.source}`);
  for (const b of jail.writableBinds) out.push(`    ${b.dest} read-write from ${b.source}`);
  out.push("  seccomp denies:");
  for (const d of deniedSyscalls("bwrap")) out.push(`    ${d.name} (${d.errno}): ${d.reason}`);
  out.push(`  limits: ${limitsText(jail.limits)}`);
  if (jail.timeoutMs !== undefined) out.push(`  timeout: ${timeoutText(jail.timeoutMs)}`);
  if (input.bwrap) out.push(`  command: ${input.bwrap.argv.map(shellQuote).join(" ")}`);
  return out;
}

function leaseLines(hostIds: ExplainInput["hostIds"]): string[] {
  if (!hostIds) return [];
  return [
    `  host id leased per run from ${formatIdRange(hostIds.range)} (${
      hostIds.fromEnv ? JAIL_IDS_ENV : `the default; ${JAIL_IDS_ENV} overrides it`
    }), held until the jail ends: no other jail shares it (${hostIds.leased} is the one free now)`,
  ];
}

function limitsText(l: Limits): string {
  const show = (v: number | undefined, unit = "") => v === undefined ? "unlimited" : `${v}${unit}`;
  const mem = l.memoryBytes === undefined ? "unlimited" : `${l.memoryBytes / 2 ** 20} MiB`;
  return `memory ${mem} (RLIMIT_DATA), cpu ${show(l.cpuSeconds, "s")}, open files ${
    show(l.openFiles)
  }, processes ${show(l.processes)}`;
}

function timeoutText(ms: number): string {
  return `${ms / 1000}s wall clock, then SIGTERM, SIGKILL ${
    TIMEOUT_GRACE_MS / 1000
  }s later (exit 124)`;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\/.=:,+@-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}
