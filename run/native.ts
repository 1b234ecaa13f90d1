// run/native.ts — ww's side of the native jail: gathers the host facts jail/native.ts plans from,
// names the stage command (ww itself, `ww __native-stage <plan-fd>`), and reads what the stage
// reports before it becomes the program. run/start.ts launches it; run/native_stage.ts is the
// stage.

import {
  EACCES,
  EISDIR,
  ELOOP,
  ENAMETOOLONG,
  ENOENT,
  ENOEXEC,
  ENOTDIR,
  ETXTBSY,
} from "../ffi/errno.ts";
import { landlockAbi } from "../ffi/landlock.ts";
import {
  type NativeFacts,
  nativePathCandidates,
  type NativeStageReport,
  parseProcStatus,
} from "../jail/native.ts";
import type { JailPolicy } from "../jail/policy.ts";
import type { SeccompArch } from "../jail/seccomp.ts";
import type { ByteStream } from "../ffi/stream.ts";
import { NotExecutableError, NotFoundError, SetupError, type WwError } from "./errors.ts";
import { NATIVE_STAGE_COMMAND } from "./stage_command.ts";
import { exists } from "./host.ts";
import type { WaitStatus } from "../ffi/process.ts";
import { signalName } from "./signals.ts";

/**
 * What this host offers the native jail, for a run of `programSource` (none for a program from
 * a descriptor) under `policy`.
 */
export function nativeFacts(policy: JailPolicy, programSource?: string): NativeFacts {
  const pathKinds: Record<string, "dir" | "file"> = {};
  for (const path of nativePathCandidates(policy, programSource)) {
    try {
      pathKinds[path] = Deno.statSync(path).isDirectory ? "dir" : "file";
    } catch { /* absent: no rule */ }
  }
  const realPaths: Record<string, string> = {};
  for (const b of [...policy.readOnlyBinds, ...policy.writableBinds]) {
    try {
      realPaths[b.source] = Deno.realPathSync(b.source);
    } catch { /* absent: nativePlan says so */ }
  }
  return {
    landlockAbi: landlockAbi().abi,
    seccomp: exists("/proc/sys/kernel/seccomp/actions_avail"),
    arch: seccompArchOrUndefined(),
    identity: parseProcStatus(Deno.readTextFileSync("/proc/self/status")),
    capLastCap: Number(Deno.readTextFileSync("/proc/sys/kernel/cap_last_cap").trim()),
    pathKinds,
    realPaths,
    parentPid: Deno.pid,
  };
}

/** The seccomp arch of this process, when ww has a filter for it. */
export function seccompArchOrUndefined(): SeccompArch | undefined {
  const arch = Deno.build.arch;
  return arch === "x86_64" || arch === "aarch64" ? arch : undefined;
}

/**
 * The command that runs the stage: the compiled ww binary itself, or, when ww runs from source,
 * `deno run -A` on this repository's main.ts with its deno.json (the stage's cwd is the work
 * directory, where Deno would find no configuration). `Deno.build.standalone` is Deno's own
 * answer to "am I a `deno compile` binary", so no guessing from paths or argv is needed.
 */
export function stageCommand(planFd: number): { path: string; argv: string[] } {
  const tail = [NATIVE_STAGE_COMMAND, String(planFd)];
  if (Deno.build.standalone) return { path: Deno.execPath(), argv: ["ww", ...tail] };
  const main = new URL("../main.ts", import.meta.url);
  const config = main.protocol === "file:"
    ? ["--config", decodeURIComponent(new URL("../deno.json", import.meta.url).pathname)]
    : [];
  return {
    path: Deno.execPath(),
    argv: ["deno", "run", "-A", "--quiet", ...config, main.href, ...tail],
  };
}

/**
 * Reads the stage's status descriptor to its end (it closes when the stage execs or exits) and
 * returns what the stage reported: "exec" just before execve, or the step that failed.
 */
export async function readStageReports(stream: ByteStream): Promise<NativeStageReport[]> {
  const decoder = new TextDecoder();
  const buf = new Uint8Array(4096);
  let text = "";
  for (;;) {
    const n = await stream.read(buf);
    if (n === null) break;
    text += decoder.decode(buf.subarray(0, n), { stream: true });
  }
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}

/** The stage's last step: execve, or execveat for a program from a descriptor. */
const EXEC_STEPS = new Set(["execve", "execveat"]);
// errno values execve reports for a file that exists but cannot be executed.
const NOT_EXECUTABLE = new Set([EACCES, ENOEXEC, EISDIR, ETXTBSY, ELOOP, ENOTDIR, ENAMETOOLONG]);

/**
 * The error for a stage that did not exec the program, from its reports; undefined when it did.
 * `program` is the name the user gave; `ended`, how the stage ended, when it reported nothing.
 */
export function stageFailure(
  reports: readonly NativeStageReport[],
  program: string,
  ended?: WaitStatus,
): WwError | undefined {
  const failed = reports.find((r) => "error" in r);
  if (failed && "error" in failed) {
    if (EXEC_STEPS.has(failed.step) && failed.errno === ENOENT) {
      return new NotFoundError(
        `${program}: ${failed.error} (the file or its interpreter is missing)`,
      );
    }
    if (EXEC_STEPS.has(failed.step) && NOT_EXECUTABLE.has(failed.errno ?? -1)) {
      return new NotExecutableError(
        `${program}: cannot execute in the native jail: ${failed.error}`,
      );
    }
    return new SetupError(
      `--jail=native: ${failed.step} failed: ${failed.error} (try --jail=bwrap, or see ww doctor)`,
    );
  }
  if (!reports.some((r) => "exec" in r)) {
    // It reported nothing: it died (a signal, the runtime's own fatal error), and may or may not
    // have printed why.
    const how = ended === undefined
      ? ""
      : ended.exited
      ? ` (it exited ${ended.code})`
      : ` (it was killed by ${signalName(ended.signal) ?? `signal ${ended.signal}`})`;
    return new SetupError(
      `--jail=native: the jail stage (ww __native-stage) ended before starting the program${how}; anything it printed is above`,
    );
  }
  return undefined;
}
