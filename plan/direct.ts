// plan/direct.ts — the plan of a run with no jail (plan/run.ts): the grants' slots, the
// environment, and the exec: the program itself, or the stage executing it (socket activation).
// Pure, and light: an unjailed run loads no jail's planning code.

import { HOST_SOCKET_FD, layoutFds, socketActivated } from "../fd/layout.ts";
import type { RunConfig } from "../core/config.ts";
import { stageExecArgs } from "../stage/plan.ts";
import { childEnv } from "../core/env.ts";
import type { PlanBase } from "./run.ts";

/** A run with no jail: the program is ww's child (through the stage under socket activation). */
export interface DirectRunPlan extends PlanBase {
  readonly backend: "none";
  /** Socket activation: the stage executes the program to set LISTEN_PID. */
  readonly listenPid: boolean;
  /**
   * What ww spawns: the program itself (`path`), or, under socket activation, the stage (`path`
   * undefined: the launcher gives the stage's), whose exec mode executes the program.
   */
  readonly exec: { readonly path?: string; readonly argv: readonly string[] };
}

/**
 * The plan of a run with no jail (see planRun) of `program` (`path`, what execve takes): it needs
 * no host facts.
 */
export function planDirectRun(
  config: Pick<RunConfig, "fds" | "env" | "args">,
  program: { readonly path: string; readonly argv0: string },
): DirectRunPlan {
  const slots = layoutFds(config.fds);
  const listenPid = socketActivated(slots);
  const { path, argv0 } = program;
  return {
    backend: "none",
    slots,
    env: childEnv(config.env, slots),
    highestFd: HOST_SOCKET_FD + slots.length,
    listenPid,
    exec: listenPid
      ? {
        argv: [
          "ww-stage",
          ...stageExecArgs({
            target: path,
            pwd: config.env.PWD,
            argv0,
            args: config.args,
            listenPid,
          }),
        ],
      }
      : { path, argv: [argv0, ...config.args] },
  };
}
