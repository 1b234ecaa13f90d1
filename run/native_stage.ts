// run/native_stage.ts — `ww __native-stage <plan-fd>`: the short-lived process the native jail
// starts instead of the program. ww spawned it with the program's descriptors already in place
// (fd 0-3, the grants), its cwd the work directory, and in a new session; it reads its plan
// (jail/native.ts) from <plan-fd>, confines itself, and becomes the program with execve.
//
// Why a stage at all: these restrictions can only be put on the process itself, and ww cannot put
// them on itself without confining ww. Why this is sound in a multi-threaded Deno process:
// capabilities, no_new_privs, the death signal, the signal mask, the Landlock domain and the
// seccomp filter (installed without TSYNC) all belong to the calling thread; every step below runs
// on Deno's main thread, and execve from it ends all other threads of the process, so the program
// starts with exactly this thread's restrictions. The runtime's other threads keep running
// unconfined until then, but they never execute the program and die at execve.
//
// The steps, in the order the kernel needs:
// 1. read the plan, close its descriptor; mark every descriptor from the first one that is not
//    the program's close-on-exec (the runtime's own, the status pipe);
// 2. reset signal dispositions and the mask (execve keeps ignored signals; Deno ignores SIGPIPE);
// 3. raise hard resource limits the plan sets higher, while the privilege to do so is held;
// 4. build the Landlock ruleset: its paths are opened now, while ww's identity can reach them
//    (a TMPDIR only root may enter holds the work directory, for one); nothing is restricted yet;
// 5. with privileges: drop the capability bounding and ambient sets, the groups, switch gid and
//    uid, clear every capability;
// 6. the death signal, after the uid change that would clear it, then check the parent is still
//    ww (it may have died before the signal was armed);
// 7. no_new_privs (Landlock and seccomp need it without CAP_SYS_ADMIN);
// 8. restrict to the Landlock ruleset; 9. seccomp, so its denylist cannot get in the way of the
//    steps above;
// 10. the resource limits, last: a low RLIMIT_DATA would stop the runtime's own allocations;
// 11. report "exec" on the status pipe and execve; the pipe closes on exec, or carries the error.
//     A program from IPFS is executed from the descriptor ww handed over (the sealed memfd or the
//     cached file) with execveat(AT_EMPTY_PATH): what runs is exactly what ww verified, and the
//     stage needs no path to it (ww's /proc/<pid>/fd is out of the Landlock domain's reach). Step
//     1 made that descriptor close-on-exec, so the program does not hold it; a #! script does,
//     since its interpreter opens it as /dev/fd/<n>.

import { decodeNativePlan, type NativeStageReport, planSeccompBytes } from "../jail/native.ts";
import { closeFd, readAll, writeAll } from "../ffi/fd.ts";
import { buildLandlockRuleset, restrictSelf } from "../ffi/landlock.ts";
import { SyscallError } from "../ffi/libc.ts";
import {
  changeIdentity,
  closeOnExecFrom,
  execve,
  execveatFd,
  installSeccompFilter,
  raiseHardLimit,
  resetSignals,
  setDeathSignal,
  setNoNewPrivs,
} from "../ffi/privileges.ts";
import { RLIMIT, setProcessLimit } from "../ffi/process.ts";
import { EXIT } from "./errors.ts";

const SIGKILL = 9;

/**
 * Runs the stage; returns an exit code only when the program could not be started (the reason is
 * on the status descriptor). Never returns when it succeeds.
 */
export function runNativeStage(args: readonly string[]): number {
  const planFd = Number(args[0]);
  if (args.length !== 1 || !Number.isInteger(planFd) || planFd < 0) {
    console.error("ww: __native-stage is internal to ww run --jail=native");
    return EXIT.usage;
  }
  const plan = decodeNativePlan(new TextDecoder().decode(readAll(planFd)));
  closeFd(planFd);
  const report = (r: NativeStageReport) =>
    writeAll(plan.statusFd, new TextEncoder().encode(`${JSON.stringify(r)}\n`));

  let step = "close-on-exec";
  try {
    closeOnExecFrom(plan.closeOnExecFrom);
    step = "signals";
    resetSignals();
    step = "rlimits";
    for (const l of plan.limits) raiseHardLimit(RLIMIT[l.resource], l.value ?? undefined);
    step = "landlock";
    const ruleset = plan.landlock &&
      buildLandlockRuleset(plan.landlock.ruleset, plan.landlock.attrSize, plan.landlock.rules);
    if (plan.identity) {
      step = "identity";
      changeIdentity(plan.identity);
    }
    step = "death-signal";
    if (setDeathSignal(SIGKILL) !== plan.parentPid) return EXIT.usage; // ww is gone
    step = "no_new_privs";
    setNoNewPrivs();
    if (ruleset !== undefined) {
      step = "landlock";
      restrictSelf(ruleset);
    }
    const seccomp = planSeccompBytes(plan);
    if (seccomp) {
      step = "seccomp";
      installSeccompFilter(seccomp);
    }
    step = "rlimits";
    for (const l of plan.limits) setProcessLimit(0, RLIMIT[l.resource], l.value ?? undefined);
    report({ exec: true });
    if (plan.programFd) {
      step = "execveat";
      const { fd, keepOpen } = plan.programFd;
      execveatFd(fd, keepOpen, plan.argv, plan.env, plan.path);
    }
    step = "execve";
    execve(plan.path, plan.argv, plan.env);
  } catch (e) {
    const errno = e instanceof SyscallError ? e.errno : undefined;
    report({ step, error: e instanceof Error ? e.message : String(e), errno });
    return EXIT.usage;
  }
}
