// run/stage.ts — ww's side of the stage (stage/stage.c): its executable for this machine, held in
// a sealed memfd written once per ww process and executed by its /proc path (never a file on
// disk that someone could swap), and the stage's reports read back as ww's errors.

import { cannotEnterCwd } from "./directory.ts";
import { E2BIG, EAGAIN, ENOENT, ENOEXEC, ENOSYS, EPERM, errnoName } from "../ffi/errno.ts";
import { closeFd, writeAll } from "../ffi/fd.ts";
import { createMemfd, reopenReadOnly, sealMemfd } from "../ffi/memfd.ts";
import { type ByteStream, readAllText } from "../ffi/stream.ts";
import { parseStageReports, type StageReport } from "../stage/plan.ts";
import { STAGE_BASE64 } from "../stage/stage_bin.ts";
import type { WaitStatus } from "../ffi/process.ts";
import {
  NOT_EXECUTABLE_ERRNOS,
  NotExecutableError,
  NotFoundError,
  osWhy,
  SetupError,
  UsageError,
  type WwError,
} from "../core/errors.ts";
import { signalName } from "./signals.ts";
import { programGone, TOO_LARGE } from "./resolve.ts";
import { unloadableWhy } from "./script.ts";
import { workdirRefused } from "./tmpdir.ts";

let memfd: number | undefined;

/**
 * The path that executes the stage: /proc/<ww's pid>/fd/<n> of a sealed memfd (a child started
 * with posix_spawn reaches it there even after its own copy of the descriptor is closed).
 * Throws a SetupError on an architecture the stage is not built for.
 */
export function stageExecutable(): string {
  if (memfd === undefined) {
    const b64 = STAGE_BASE64[Deno.build.arch];
    if (b64 === undefined) {
      const why =
        `the jail's stage is not built for ${Deno.build.arch} (only x86_64 and aarch64); use`;
      throw new SetupError(`${why} jail.backend "none"`, { commandLine: `${why} --jail=none` });
    }
    const fd = createMemfd("ww-stage");
    try {
      // fromBase64 decodes natively: a decode through atob and a JS loop costs ~5 ms a run.
      writeAll(fd, Uint8Array.fromBase64(b64));
      sealMemfd(fd);
    } catch (e) {
      // A write past the file-size limit (EFBIG): a library caller's next run makes another, and
      // each memfd left open held its bytes for the life of the process.
      closeFd(fd);
      throw e;
    }
    memfd = fd;
  }
  return `/proc/${Deno.pid}/fd/${memfd}`;
}

/**
 * A read-only descriptor (close-on-exec, at offset 0) of a memfd holding the stage's plan, for
 * the stage to read as its plan descriptor. Written whole before the stage starts, so the stage
 * never waits on ww's event loop for it, whatever its size (a pipe holds 64 KiB).
 */
export function planDescriptor(plan: Uint8Array): number {
  const fd = createMemfd("ww-stage-plan");
  try {
    writeAll(fd, plan);
    return reopenReadOnly(fd);
  } finally {
    closeFd(fd);
  }
}

/**
 * The signal that tells the stage's supervisor to end everything, as when ww dies: SIGRTMAX-2
 * (SIGEND in stage/sys.h).
 */
export const END_ALL_SIGNAL = 62;

/**
 * Reads the stage's status descriptor to its end (the supervisor closes it once the program is
 * started, or the stage failed) and returns what the stage reported.
 */
export async function readStageReports(stream: ByteStream): Promise<StageReport[]> {
  return parseStageReports(await readAllText(stream));
}

/** The stage's last step: execve, or execveat for a program from a descriptor. */
const EXEC_STEPS = new Set(["execve", "execveat"]);

/**
 * The error for a stage that did not start the program (native) or bwrap, from its reports;
 * undefined when it did. `program` is the name the user gave; `ended`, how the stage ended, when
 * it reported nothing; `programFile`, a local program's real path (the native stage opens it for
 * its Landlock rule; an ENOEXEC is worded from its first bytes).
 */
export function stageFailure(
  reports: readonly StageReport[],
  program: string,
  backend: "native" | "bwrap",
  ended?: WaitStatus,
  programFile?: string,
): WwError | undefined {
  const failed = failedStep(reports);
  if (failed?.step === "chdir") {
    const name = errnoName(failed.errno);
    return cannotEnterCwd(
      failed.detail ?? "",
      backend,
      osWhy(Object.assign(new Error(name), { code: name })),
    );
  }
  if (failed?.step === "workdir") {
    return workdirRefused(`${errnoName(failed.errno)}${failed.detail ? `: ${failed.detail}` : ""}`);
  }
  if (failed) {
    // The native stage's last steps are the program's; the bwrap jail's stage outside the jail
    // executes bwrap (its steps in the jail: inJailFailure).
    return tooLarge(failed) ??
      (backend === "native"
        ? programStepFailure(failed, program, backend, programFile)
        : undefined) ??
      stepFailed(failed, backend);
  }
  if (!reports.some((r) => "exec" in r)) {
    // It reported nothing: it died (a signal, a limit too low to start), and may or may not have
    // printed why.
    const how = ended === undefined
      ? ""
      : ended.exited
      ? ` (it exited ${ended.code})`
      : ` (it was killed by ${signalName(ended.signal) ?? `signal ${ended.signal}`})`;
    const why = `the jail's stage ended before starting the program${how}`;
    return new SetupError(`the ${backend} jail: ${why}; anything it printed is on stderr`, {
      commandLine: `--jail=${backend}: ${why}; anything it printed is above`,
    });
  }
  return undefined;
}

/**
 * The error for the stage in the bwrap jail that did not start the program, from its reports
 * (jail/bwrap_status.ts: marked lines on bwrap's stderr): its execve, or a step after bwrap's
 * set-up, failed. Undefined when they hold no failure.
 */
export function inJailFailure(
  reports: readonly StageReport[],
  program: string,
  programFile?: string,
): WwError | undefined {
  const failed = failedStep(reports);
  if (!failed) return undefined;
  return tooLarge(failed) ?? programStepFailure(failed, program, "bwrap", programFile) ??
    stepFailed(failed, "bwrap");
}

type FailedStep = Extract<StageReport, { step: string }>;

/** The stage's report of the step that failed, if one did. */
function failedStep(reports: readonly StageReport[]): FailedStep | undefined {
  return reports.find((r): r is FailedStep => "step" in r);
}

/**
 * Whether the stage could not start the program for want of processes (EAGAIN): its execve after
 * it took the jail's id (which marks a user that already runs that many), or, when it took none
 * (`ownId`: the jail runs as ww's own user), the supervisor's fork of it under the run's
 * RLIMIT_NPROC. See stage/stage.c mark_nproc_exceeded and limit_nproc_for_fork.
 */
export function outOfProcesses(reports: readonly StageReport[], ownId: boolean): boolean {
  const failed = failedStep(reports);
  return failed !== undefined && failed.errno === EAGAIN &&
    (EXEC_STEPS.has(failed.step) || (ownId && failed.step === "fork"));
}

/** An exec step's E2BIG: too large for any backend, the run's, not the jail's (as under none). */
function tooLarge(failed: FailedStep): UsageError | undefined {
  return EXEC_STEPS.has(failed.step) && failed.errno === E2BIG
    ? new UsageError(TOO_LARGE)
    : undefined;
}

/**
 * The error for a failed step that is the program's own (its execve, its interpreter, its file's
 * Landlock rule), or undefined for a step of the jail's.
 */
function programStepFailure(
  failed: FailedStep,
  program: string,
  backend: "native" | "bwrap",
  programFile: string | undefined,
): WwError | undefined {
  const error = `${failed.step}: ${errnoName(failed.errno)}`;
  if (failed.step.endsWith("-interpreter")) {
    return new NotFoundError(
      `${program}: its interpreter ${failed.detail} is not in the jail (${
        errnoName(failed.errno)
      })`,
    );
  }
  // The program's file, gone or replaced (by a directory, say) since ww found it.
  if (failed.step === "landlock" && programFile !== undefined && failed.detail === programFile) {
    return programGone(program, errnoName(failed.errno));
  }
  if (EXEC_STEPS.has(failed.step) && failed.errno === ENOENT) {
    return new NotFoundError(`${program}: ${error} (the file or its interpreter is missing)`);
  }
  if (EXEC_STEPS.has(failed.step) && NOT_EXECUTABLE_ERRNOS.has(failed.errno)) {
    return new NotExecutableError(
      `${program}: cannot execute in the ${backend} jail: ${error}${
        failed.errno === ENOEXEC ? ` (${unloadableWhy(programFile)})` : ""
      }`,
    );
  }
  return undefined;
}

/** The error for a step of the jail's own that failed. */
function stepFailed(failed: FailedStep, backend: "native" | "bwrap"): SetupError {
  // As root the native jail gets a network namespace of its own (without --net): a filter on ww
  // (systemd's RestrictNamespaces=, a container's profile) may refuse one while ww holds
  // CAP_SYS_ADMIN, and "try another --jail" left only none.
  if (failed.step === "network" && (failed.errno === EPERM || failed.errno === ENOSYS)) {
    const why = `the jail's own network namespace cannot be made here (${
      errnoName(failed.errno)
    }: a filter on ww refuses it, as systemd's RestrictNamespaces= does, or a security module)`;
    return new SetupError(
      `the ${backend} jail: ${why}; give the program the host's network (jail.net), or run ww without that filter`,
      {
        commandLine:
          `--jail=${backend}: ${why}; give the program the host's network with --net, or run ww without that filter`,
      },
    );
  }
  const why = `the stage's ${failed.step} step failed: ${errnoName(failed.errno)}${
    failed.detail ? ` (${failed.detail})` : ""
  }`;
  return new SetupError(
    `the ${backend} jail: ${why} (try another jail.backend, or see ww doctor)`,
    { commandLine: `--jail=${backend}: ${why} (try another --jail, or see ww doctor)` },
  );
}
