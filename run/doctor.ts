// run/doctor.ts — `ww doctor`: gathers what this machine offers the jail backends, including a real
// try of bubblewrap with the jail's namespaces, for jail/doctor.ts's report. Exit 0 when a jail is
// possible, 1 when not.

import { SetupError, UsageError, WwError } from "../core/errors.ts";
import { DEFAULT_POLICY } from "../jail/policy.ts";
import { startProgram } from "./start.ts";
import { workTmpdir } from "./tmpdir.ts";
import { errnoName } from "../ffi/errno.ts";
import { doctorReport, type MachineFacts, wrapDoctorLines } from "../jail/doctor.ts";
import { parseProcStatus } from "../jail/proc_status.ts";
import { retryBwrap } from "./auto.ts";
import { jailIdRange } from "./ids.ts";
import {
  landlockSupport,
  namespaceFacts,
  ownStatus,
  readText,
  seccompArchOrUndefined,
  seccompFilters,
} from "./host.ts";

/** The report's lines as printed (wrapped to DOCTOR_WIDTH columns), and the exit code. */
export async function doctor(): Promise<{ lines: string[]; code: number }> {
  const { lines, jailPossible } = doctorReport(await machineFacts());
  return { lines: wrapDoctorLines(lines), code: jailPossible ? 0 : 1 };
}

async function machineFacts(): Promise<MachineFacts> {
  const namespaces = namespaceFacts();
  // The same try --jail=auto makes, made afresh and remembered for the runs that follow; not
  // made when it has no id to run as (the jails' ids: reported below, and no answer to remember).
  let bwrapTry: MachineFacts["bwrapTry"];
  if (namespaces.bwrapPath) {
    try {
      bwrapTry = await retryBwrap(namespaces);
    } catch (e) {
      if (!(e instanceof SetupError)) throw e;
      bwrapTry = { notTried: e.message };
    }
  }
  const status = ownStatus();
  const landlock = landlockSupport();
  const ids = jailIds();
  return {
    kernel: Deno.osRelease(),
    identity: parseProcStatus(status),
    namespaces,
    bwrapTry,
    landlock: {
      abi: landlock.abi,
      ...(landlock.errno === undefined ? {} : { errno: errnoName(landlock.errno) }),
    },
    seccomp: {
      filters: seccompFilters(),
      arch: seccompArchOrUndefined(),
      mode: Number(/^Seccomp:\s*(\d+)/m.exec(status)?.[1] ?? 0),
    },
    cgroup: cgroupFacts(),
    jailIds: ids,
    workTmpdir: workTmpdirFact(),
    // As root a jail needs an id to lease: without one the ids are the report's answer.
    ...("error" in ids && Deno.uid() === 0 ? {} : await nativeTry()),
  };
}

/**
 * A real native jail of /bin/true (protections this kernel lacks allowed: those are reported on
 * their own): what the stage says when a step fails, which the facts alone do not tell (a filter
 * on ww that refuses a network namespace, as systemd's RestrictNamespaces= does, while ww as root
 * holds CAP_SYS_ADMIN). Not tried without a Landlock or seccomp to try.
 */
async function nativeTry(): Promise<Pick<MachineFacts, "nativeTry">> {
  if (landlockSupport().abi === 0 && !seccompFilters()) return {};
  try {
    const child = await startProgram({
      program: "/bin/true",
      jail: { ...DEFAULT_POLICY, backend: "native", allowWeakerJail: true },
    });
    const status = await child.status;
    return {
      nativeTry: status.code === 0
        ? { ok: true }
        : { ok: false, detail: `/bin/true ended with exit ${status.code} in the native jail` },
    };
  } catch (e) {
    if (!(e instanceof WwError)) throw e;
    return { nativeTry: { ok: false, detail: e.commandLine ?? e.message } };
  }
}

/** Where runs make their work directories, or why no run can (a bad TMPDIR). */
function workTmpdirFact(): MachineFacts["workTmpdir"] {
  try {
    return { dir: workTmpdir() };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return { error: e.message };
  }
}

function jailIds(): MachineFacts["jailIds"] {
  try {
    return jailIdRange();
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

function cgroupFacts(): MachineFacts["cgroup"] {
  const mounts = readText("/proc/self/mountinfo") ?? "";
  // mountinfo: ... <mount point> ... - <fstype> <source> <options>
  const line = mounts.split("\n").find((l) => l.split(" - ")[1]?.startsWith("cgroup2 "));
  const mount = line?.split(" ")[4];
  const own = /^0::(.*)$/m.exec(readText("/proc/self/cgroup") ?? "")?.[1];
  if (mount === undefined) return { delegated: false, controllers: [] };
  const dir = `${mount}${own === "/" || own === undefined ? "" : own}`;
  const controllers = (readText(`${dir}/cgroup.controllers`) ?? "").trim().split(/\s+/)
    .filter(Boolean);
  let delegated = false;
  try {
    const info = Deno.statSync(dir);
    delegated = Deno.uid() === 0 || info.uid === Deno.uid();
  } catch { /* unreadable: not delegated */ }
  return { mount, own, delegated, controllers };
}
