// plan/native.ts — the plan of a run in the native jail (plan/run.ts): the stage's descriptors by
// name, the native jail's plan (jail/native.ts) with its errors in ww's words, and the stage's
// plan. Pure.

import { HOST_SOCKET_FD, layoutFds, socketActivated } from "../fd/layout.ts";
import { allocateFds } from "../fd/named.ts";
import { nativePlan, type NativePlanResult, programRuleNeeded } from "../jail/native.ts";
import { type BindRequest, bindRequests } from "../jail/binds.ts";
import { nativeBindRules } from "../jail/bind_mounts.ts";
import { nativeStagePlan } from "../jail/native_stage.ts";
import type { StagePlan } from "../stage/plan.ts";
import { childEnv } from "../core/env.ts";
import { BindError, CwdError, SetupError } from "../core/errors.ts";
import type { PlanBase, RunFacts } from "./run.ts";

/** A run in the native jail: the stage confines its child, which executes the program. */
export interface NativeRunPlan extends PlanBase {
  readonly backend: "native";
  readonly fds: ReturnType<typeof nativeFds>;
  /** The host path of each `bind<i>` descriptor ww opens (jail/bind_mounts.ts nativeBindRules). */
  readonly binds: readonly { readonly source: string; readonly dest: string }[];
  /** The user's binds, each source resolved once (its real path, facts.native.realPaths). */
  readonly bindRequests: readonly BindRequest[];
  /** The program's file that `fds.programFile` is to hold (its real path), when it has one. */
  readonly programFile?: string;
  readonly native: NativePlanResult;
  readonly stage: StagePlan;
}

/**
 * The native stage's descriptors after the program's (0-3, the grants), by name: the held program
 * when there is one, then the plan, the status pipe, the program's file when it needs a rule of
 * its own (`programFile`: see NativeInput.programFd), the source of each of the `binds` Landlock
 * rules (`bind<i>`: see NativeInput.bindFds), and the jail's id lease when ww leased one
 * (StagePlan.leaseFd). The program's comes first so that a #! script, which keeps it, has it right
 * after its grants; the stage closes the others on exec.
 *
 * @example
 * nativeFds(0, false, false, 2); // { plan: 4, status: 5, bind0: 6, bind1: 7 }
 */
export function nativeFds(
  grants: number,
  held: boolean,
  leased: boolean,
  binds: number,
  programFile = false,
) {
  return allocateFds(HOST_SOCKET_FD + 1 + grants, [
    { name: "held", present: held },
    "plan",
    "status",
    { name: "programFile", present: programFile },
    ...Array.from({ length: binds }, (_, i) => `bind${i}` as const),
    { name: "lease", present: leased },
  ]);
}

/** The plan of a run in the native jail (see planRun). */
export function planNativeRun(facts: RunFacts): NativeRunPlan {
  const { config, program } = facts;
  const slots = layoutFds(config.fds);
  const env = childEnv(config.env, slots);
  if (!facts.native) throw new Error("planRun: the native jail's facts are missing (internal)");
  const requests = bindRequests(config.jail, (s) => facts.native!.realPaths?.[s] ?? s);
  const binds = nativeBindRules(requests);
  const programSource = program.held ? undefined : program.source;
  const fds = nativeFds(
    slots.length,
    program.held !== undefined,
    facts.leased !== undefined,
    binds.length,
    programSource !== undefined && programRuleNeeded(programSource),
  );
  const result = nativePlan({
    policy: config.jail,
    programPath: program.path,
    programSource,
    ...(fds.programFile !== undefined ? { programFd: fds.programFile } : {}),
    ...(program.held
      ? {
        // Allocated exactly when there is a held program.
        held: { fd: fds.held!, sealed: program.held.sealed, script: program.held.script },
      }
      : {}),
    argv: [program.argv0, ...config.args],
    env,
    workdir: facts.workdir,
    facts: facts.native,
    statusFd: fds.status,
    bindFds: binds.map((_, i) => fds[`bind${i}`]),
    closeOnExecFrom: HOST_SOCKET_FD + 1 + slots.length,
    leasedId: facts.leased,
  });
  if ("error" in result) {
    // Under --jail=auto the user did not ask for the native jail: say why it was chosen.
    const auto = (line: string) =>
      config.jail.backend === "auto" ? `${line} (${facts.choice.reason})` : line;
    const options = { commandLine: auto(result.error) };
    const library = auto(result.library ?? result.error);
    if (result.cwd !== undefined) throw new CwdError(result.cwd, library, options);
    if (result.bind !== undefined) throw new BindError(result.bind, library, options);
    throw new SetupError(library, options);
  }
  const listenPid = socketActivated(slots);
  return {
    backend: "native",
    slots,
    env,
    // A held #! script keeps its descriptor, the first after the grants.
    highestFd: HOST_SOCKET_FD + slots.length + (program.held?.script ? 1 : 0),
    fds,
    binds: binds.map((b) => ({ source: b.path, dest: b.source })),
    ...(fds.programFile !== undefined ? { programFile: programSource } : {}),
    bindRequests: requests,
    native: result,
    stage: {
      ...nativeStagePlan(result.plan, facts.workdir),
      // Socket activation: the stage sets LISTEN_PID as it executes the program.
      ...(listenPid ? { listenPid } : {}),
      ...(facts.controllingTerminal ? { controllingTerminal: true } : {}),
      ...(fds.lease !== undefined ? { leaseFd: fds.lease } : {}),
    },
  };
}
