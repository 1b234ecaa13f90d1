/**
 * `ww doctor`: what this machine offers each jail backend, as text, and whether any jail is
 * possible. Pure: run/doctor.ts gathers the facts (and actually tries bubblewrap).
 *
 * @module
 */

import {
  bwrapObstacle,
  type BwrapTry,
  bwrapTryFix,
  bwrapUnusable,
  chooseBackend,
  type NamespaceFacts,
} from "./auto.ts";
import { formatIdRange, type IdRange, JAIL_IDS_ENV } from "./ids.ts";
import { landlockProtections } from "./landlock.ts";
import { NO_JAIL_BUDGET } from "./limits.ts";
import { isPrivileged, type ProcessIdentity } from "./proc_status.ts";

/** Everything `ww doctor` reports on. */
export interface MachineFacts {
  /** The kernel release (uname -r). */
  readonly kernel: string;
  readonly identity: ProcessIdentity;
  readonly namespaces: NamespaceFacts;
  /**
   * The result of really running bwrap with the jail's namespaces, or why it was not run (no id
   * for it to run as); absent without bwrap.
   */
  readonly bwrapTry?: BwrapTry | { readonly notTried: string };
  /** The Landlock ABI (0: none) and, when none, the errno name that said why. */
  readonly landlock: { readonly abi: number; readonly errno?: string };
  readonly seccomp: {
    /** The kernel offers seccomp filters. */
    readonly filters: boolean;
    /** ww has a filter for this architecture. */
    readonly arch?: string;
    /** The Seccomp field of /proc/self/status: 2 when ww already runs under a filter. */
    readonly mode?: number;
  };
  readonly cgroup: {
    /** Where cgroup v2 is mounted, if it is. */
    readonly mount?: string;
    /** ww's own cgroup v2 path. */
    readonly own?: string;
    /** ww may create cgroups below its own (it can write there). */
    readonly delegated: boolean;
    readonly controllers: readonly string[];
  };
  /** The directory runs make their work directories in (TMPDIR), or why none can. */
  readonly workTmpdir: { readonly dir: string } | { readonly error: string };
  /**
   * A real native jail of /bin/true, what it said when it failed (a step a filter on ww refuses,
   * say: a network namespace of the jail's own under systemd's RestrictNamespaces=); absent when
   * not tried (no jail ids, no Landlock or seccomp at all).
   */
  readonly nativeTry?: { readonly ok: true } | { readonly ok: false; readonly detail: string };
  /** The range jails lease host ids from when ww is root (WW_JAIL_IDS or the default). */
  readonly jailIds: { readonly range: IdRange; readonly fromEnv: boolean } | {
    readonly error: string;
  };
}

/** The report, and whether some backend can jail a program here with all its protections. */
export function doctorReport(f: MachineFacts): { lines: string[]; jailPossible: boolean } {
  const out: string[] = [];
  const yes = (b: boolean) => (b ? "yes" : "no");
  out.push(`kernel: ${f.kernel}`);
  const privileged = isPrivileged(f.identity);
  out.push(
    `ww runs as: uid ${f.identity.euid}, gid ${f.identity.egid}, ${
      privileged ? "with capabilities" : "no capabilities"
    }`,
  );

  const ns = f.namespaces;
  out.push(
    `bubblewrap: ${ns.bwrapPath ?? "not in PATH (apt-get install bubblewrap)"}${
      ns.bwrapSetuid ? " (setuid root)" : ""
    }`,
  );
  out.push(`  user.max_user_namespaces: ${ns.maxUserNamespaces ?? "absent (no user namespaces)"}`);
  out.push(
    `  kernel.apparmor_restrict_unprivileged_userns: ${ns.apparmorRestrictsUserns ?? "absent"}`,
  );
  out.push(`  kernel.unprivileged_userns_clone: ${ns.unprivilegedUsernsClone ?? "absent"}`);
  out.push(`  CAP_SYS_ADMIN (exempt from the two sysctls above): ${yes(ns.capSysAdmin)}`);
  const cheap = bwrapUnusable(ns);
  const tried = f.bwrapTry && "ok" in f.bwrapTry ? f.bwrapTry : undefined;
  const notTried = f.bwrapTry && "notTried" in f.bwrapTry ? f.bwrapTry.notTried : undefined;
  if (tried) {
    out.push(
      `  creates the jail's namespaces: ${
        tried.ok ? "yes" : `no: ${tried.detail}`
      } (tried: bwrap with the jail's namespaces)`,
    );
  } else if (notTried !== undefined) {
    out.push(`  creates the jail's namespaces: not tried (${notTried})`);
  }
  // As root, every jail runs as a leased id, unless --uid and --gid name one.
  const ids = f.jailIds;
  const idsProblem = f.identity.euid === 0 && "error" in ids ? ids.error : undefined;
  const bwrapOk = !idsProblem && (tried?.ok ?? false);

  const abi = f.landlock.abi;
  out.push(
    `landlock: ${abi > 0 ? `ABI ${abi}` : `none (${landlockAbsence(f.landlock.errno)})`}`,
  );
  out.push(
    `seccomp: filters ${yes(f.seccomp.filters)}; ww's filter for this architecture: ${
      f.seccomp.arch ?? "none"
    }${f.seccomp.mode === 2 ? "; ww itself already runs under a seccomp filter" : ""}`,
  );
  out.push(
    f.cgroup.mount
      ? `cgroups: v2 at ${f.cgroup.mount}, ww's cgroup ${f.cgroup.own ?? "?"}, delegated to ww: ${
        yes(f.cgroup.delegated)
      }, controllers: ${f.cgroup.controllers.join(" ") || "none"} (no backend uses cgroups yet)`
      : "cgroups: no cgroup v2 mount (no backend uses cgroups yet)",
  );
  out.push("limits (bwrap and native; --jail=none sets none):");
  out.push(
    "  per process: --memory (RLIMIT_DATA), --cpu (RLIMIT_CPU), --nofile (RLIMIT_NOFILE); each process of a jail has the whole amount",
  );
  out.push(
    "  per uid: --nproc (RLIMIT_NPROC) counts every process and thread of the jail's host uid, so jails that run as one uid share it",
  );
  out.push(`  per jail: ${NO_JAIL_BUDGET}`);

  out.push("backends:");
  out.push(
    `  bwrap: ${
      bwrapOk
        ? "usable"
        : `NOT usable: ${
          idsProblem ?? notTried ?? tried?.detail ?? cheap ?? "bwrap is not in PATH"
        }`
    }`,
  );
  // What fixes it, where the ids (whose line names its fix) or the try's refusal do not say.
  // A sysctl that rules bwrap out is the cause of the try's failure too.
  const fix = bwrapOk || idsProblem || notTried !== undefined
    ? undefined
    : bwrapObstacle(ns)?.fix ?? (tried ? bwrapTryFix(tried.detail) : undefined);
  if (fix !== undefined) out.push(`    fix: ${fix}; then \`ww doctor\` tries bwrap again`);
  out.push(
    "    enforces user, mount, pid, ipc, uts, cgroup and network namespaces, seccomp, no capabilities, no_new_privs, limits",
  );
  out.push(
    "    in-memory file systems: /tmp, /dev/shm and the work directory each bounded by --tmp-size (per mount); / and /dev read-only",
  );
  const protections = landlockProtections(abi, false);
  const seccompOk = f.seccomp.filters && f.seccomp.arch !== undefined;
  const enforced = [
    ...protections.enforced.map((p) => p.name),
    ...(seccompOk ? ["seccomp"] : []),
  ];
  const missing = [...protections.missing.map((p) => p.name), ...(seccompOk ? [] : ["seccomp"])];
  const nativeFailed = f.nativeTry && !f.nativeTry.ok ? f.nativeTry.detail : undefined;
  const nativeOk = !idsProblem && nativeFailed === undefined && missing.length === 0;
  out.push(
    `  native: ${
      idsProblem
        ? `NOT usable: ${idsProblem}`
        : nativeFailed !== undefined
        ? `NOT usable: ${nativeFailed} (tried: a native jail of /bin/true)`
        : missing.length === 0
        ? "usable"
        : "usable only with --allow-weaker-jail"
    }`,
  );
  out.push(
    `    enforces ${
      [...enforced, "no_new_privs", "limits", "new session", "death signal"].join(", ")
    }${privileged ? "; runs programs as a leased uid (below) without capabilities" : ""}`,
  );
  if (missing.length > 0) out.push(`    not enforced here: ${missing.join(", ")}`);
  out.push("    work directory: on the host's TMPDIR, NOT bounded by --tmp-size");
  out.push(
    "error" in ids
      ? `jail ids: ${ids.error}`
      : `jail ids: ${
        f.identity.euid === 0 ? "" : "when ww runs as root, "
      }each jail leases a host uid and gid of its own from ${formatIdRange(ids.range)} (${
        ids.fromEnv ? JAIL_IDS_ENV : `the default; ${JAIL_IDS_ENV}=FIRST-LAST overrides it`
      }), held until the jail ends${
        f.identity.euid === 0 ? "" : "; as uid " + f.identity.euid + ", jails run as ww's own ids"
      }`,
  );
  // The same decision runs make, from the same real try (which they remember).
  if (idsProblem === undefined) {
    const auto = chooseBackend("auto", () => ns, tried && (() => tried));
    out.push(`  auto picks: ${auto.backend} (${auto.reason})`);
  }
  const tmp = f.workTmpdir;
  out.push(
    "error" in tmp ? `work directories: ${tmp.error}` : `work directories: in ${tmp.dir} (TMPDIR)`,
  );
  const tmpProblem = "error" in tmp ? tmp.error : undefined;
  const jailPossible = tmpProblem === undefined && (bwrapOk || nativeOk);
  out.push(
    tmpProblem
      ? `verdict: no run starts with this TMPDIR: ${tmpProblem}`
      : jailPossible
      ? `verdict: a jail is possible (${
        [bwrapOk ? "bwrap" : "", nativeOk ? "native" : ""].filter(Boolean).join(", ")
      })`
      : idsProblem
      ? `verdict: no jail runs here as root, even with --uid and --gid, until the jails' ids are fixed: ${idsProblem}`
      : nativeFailed !== undefined
      ? `verdict: no jail runs here: bubblewrap cannot, and the native jail fails (${nativeFailed})`
      : "verdict: no complete jail on this machine: install bubblewrap or allow user namespaces, or use a kernel with Landlock ABI 6+ (or run with --allow-weaker-jail)",
  );
  return { lines: out, jailPossible };
}

function landlockAbsence(errno: string | undefined): string {
  if (errno === "EOPNOTSUPP") {
    return "built in but not enabled: add landlock to the lsm= boot parameter";
  }
  if (errno === "ENOSYS") return "not built into this kernel (CONFIG_SECURITY_LANDLOCK)";
  return errno ?? "unknown";
}

/** The widest line `ww doctor` prints, in columns. */
export const DOCTOR_WIDTH = 100;

/**
 * The report's `lines` as printed: each no wider than `width` (DOCTOR_WIDTH), a longer one broken
 * at spaces into lines that hang past its label ("per uid: ") or first word ("enforces "), at
 * least 4 columns past its own indent, where a nested line is only 2 past its parent's: nothing is cut, and unwrapDoctorLines
 * gives the lines back. A word too long for a line of its own is split.
 *
 * @example
 * wrapDoctorLines(["  per uid: one two three four five six"], 30);
 * // ["  per uid: one two three four", "           five six"]
 */
export function wrapDoctorLines(lines: readonly string[], width = DOCTOR_WIDTH): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (line.length <= width) {
      out.push(line);
      continue;
    }
    const indent = line.length - line.trimStart().length;
    // Past "label: ", or else past the first word ("enforces ").
    const colon = line.indexOf(": ", indent);
    const after = colon >= 0 && colon + 2 <= width / 2 ? colon + 2 : line.indexOf(" ", indent) + 1;
    const hang = after >= indent + 4 && after <= width / 2 ? after : indent + 4;
    let current = line.slice(0, indent);
    let fresh = true;
    for (let word of line.slice(indent).split(" ")) {
      if (!fresh && current.length + 1 + word.length <= width) {
        current += ` ${word}`;
        continue;
      }
      if (!fresh) {
        out.push(current);
        current = " ".repeat(hang);
      }
      while (current.length + word.length > width) {
        const room = width - current.length;
        out.push(current + word.slice(0, room));
        word = word.slice(room);
        current = " ".repeat(hang);
      }
      current += word;
      fresh = false;
    }
    out.push(current);
  }
  return out;
}

/**
 * The report's lines from what `ww doctor` printed (wrapDoctorLines undone): a line indented 4 or
 * more columns past the line before it continues that line.
 *
 * @example
 * unwrapDoctorLines(["a: b", "    c", "  d: e"]); // ["a: b c", "  d: e"]
 */
export function unwrapDoctorLines(printed: readonly string[]): string[] {
  const out: string[] = [];
  let indent = 0;
  for (const line of printed) {
    const own = line.length - line.trimStart().length;
    if (out.length > 0 && own >= indent + 4) {
      out[out.length - 1] += ` ${line.trimStart()}`;
    } else {
      out.push(line);
      indent = own;
    }
  }
  return out;
}
