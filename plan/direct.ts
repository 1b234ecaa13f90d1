// plan/direct.ts — the plan of a run with no jail (plan/run.ts): the grants' slots, the
// environment, and whether the stage must execute the program (socket activation). Pure, and light:
// an unjailed run loads no jail's planning code.

import { HOST_SOCKET_FD, layoutFds, socketActivated } from "../fd/layout.ts";
import type { RunConfig } from "../core/config.ts";
import { childEnv } from "../core/env.ts";
import type { PlanBase } from "./run.ts";

/** A run with no jail: the program is ww's child (through the stage under socket activation). */
export interface DirectRunPlan extends PlanBase {
  readonly backend: "none";
  /** Socket activation: the stage executes the program to set LISTEN_PID. */
  readonly listenPid: boolean;
}

/** The plan of a run with no jail (see planRun): it needs no host facts. */
export function planDirectRun(config: Pick<RunConfig, "fds" | "env">): DirectRunPlan {
  const slots = layoutFds(config.fds);
  return {
    backend: "none",
    slots,
    env: childEnv(config.env, slots),
    highestFd: HOST_SOCKET_FD + slots.length,
    listenPid: socketActivated(slots),
  };
}
