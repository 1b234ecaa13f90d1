// jail/native_stage.ts — the native jail's plan (jail/native.ts) as the stage's plan
// (stage/plan.ts encodes it for stage/stage.c): the same steps, plus the work directory the stage
// makes and, as supervisor, removes. Pure.

import type { NativePlan } from "./native.ts";
import type { StagePlan } from "../stage/plan.ts";

/** The seccomp program bytes of a plan. */
export function planSeccompBytes(plan: NativePlan): Uint8Array | undefined {
  if (plan.seccomp === undefined) return undefined;
  return Uint8Array.fromBase64(plan.seccomp);
}

/**
 * What the stage does for a native plan: the plan's steps, in the work directory that the stage
 * makes and, as supervisor, removes (so that it never outlives the run, even when ww is killed).
 */
export function nativeStagePlan(plan: NativePlan, workdir: string): StagePlan {
  const l = plan.landlock;
  return {
    supervise: "program",
    parentPid: plan.parentPid,
    closeOnExecFrom: plan.closeOnExecFrom,
    limits: plan.limits,
    ...(plan.identity ? { identity: plan.identity } : {}),
    noNewPrivs: true,
    ...(l
      ? {
        landlock: {
          attrSize: l.attrSize,
          handledFs: l.ruleset.handledFs,
          handledNet: l.ruleset.handledNet,
          scoped: l.ruleset.scoped,
          rules: l.rules,
        },
      }
      : {}),
    ...(plan.seccomp ? { seccomp: planSeccompBytes(plan) } : {}),
    ...(plan.held ? { held: plan.held } : {}),
    path: plan.path,
    argv: plan.argv,
    env: plan.env,
    workdir,
    ...(plan.cwd !== undefined ? { cwd: plan.cwd } : {}),
    ...(plan.privateNetwork ? { privateNetwork: true } : {}),
  };
}
