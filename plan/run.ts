// plan/run.ts — one plan per run: from a RunConfig, the program and the host's facts (gathered by
// the shell: run/facts.ts, for the launchers run/launch_*.ts and for --explain, which peeks at the
// lease instead of taking it), the one value that says everything a run does: the grants' slots,
// the environment, every extra descriptor by name, the identity, the limits, bwrap's argv and
// mounts or the native jail's plan, the stage's plan, and the exec. The launchers only open,
// spawn and wait by it; --explain prints it. One module per backend (plan/bwrap.ts, native.ts,
// direct.ts), so that a run loads only its own backend's planning code. Pure: no Deno APIs, no
// FFI.

import type { FdSlot } from "../fd/layout.ts";
import type { BackendChoice } from "../jail/auto.ts";
import type { HostFiles } from "../jail/system_files.ts";
import type { HeldProgram } from "../jail/held.ts";
import type { NativeFacts } from "../jail/native.ts";
import type { RunConfig } from "../core/config.ts";
import { type BwrapRunPlan, planBwrapRun } from "./bwrap.ts";
import { type DirectFacts, type DirectRunPlan, planDirectRun } from "./direct.ts";
import { type NativeRunPlan, planNativeRun } from "./native.ts";

export type { BwrapRunPlan, DirectFacts, DirectRunPlan, NativeRunPlan };

/** The program as the plan takes it. */
export interface PlannedProgram {
  /** Where the jail shows it and messages name it (a held program's jail path). */
  readonly path: string;
  readonly argv0: string;
  /**
   * The host file behind it, symlinks resolved, for a program run by path; for a held program a
   * jailed program started, the host file it was opened at; none for one from IPFS.
   */
  readonly source?: string;
  /** A program held by a descriptor: only its kind, since the plan numbers the descriptor. */
  readonly held?: Pick<HeldProgram, "sealed" | "script">;
}

/** What bwrap's plan needs to know about the host. */
export interface BwrapFacts {
  /** bwrap's path. */
  readonly path: string;
  readonly host: HostFiles;
  /** A host path's realpath, or undefined when it does not exist. */
  readonly realOf: (hostPath: string) => string | undefined;
  /**
   * The host paths of the symbolic links that resolving a host path follows, in order; undefined
   * when it cannot be resolved.
   */
  readonly linksOn: (hostPath: string) => readonly string[] | undefined;
  /**
   * Why a host path is no directory (symlinks followed), in the words a --chdir under every
   * backend has (run/directory.ts cwdProblem); undefined when it is one.
   */
  readonly dirProblem: (hostPath: string) => string | undefined;
  /** Why a host path realOf found absent is (run/host.ts whyAbsent). */
  readonly whyAbsent: (hostPath: string) => string;
  /**
   * A bind source's host path with its links resolved by ww's rule for links (run/facts.ts
   * bindSourceReal), why it is refused, or undefined when absent.
   */
  readonly bindSource: (source: string) => string | { readonly why: string } | undefined;
}

/** Everything planRun takes: the config and the facts the shell gathered. */
export interface RunFacts {
  /** The grants already include ww's own (fd/grants.ts). */
  readonly config: RunConfig;
  readonly choice: BackendChoice;
  readonly program: PlannedProgram;
  /** ww's uid and pid. */
  readonly wwUid: number;
  readonly wwPid: number;
  /** The host id leased (a run) or that would be (--explain) for the jail when ww is root. */
  readonly leased?: number;
  /** The run's private work directory (its name; who makes it depends on the backend). */
  readonly workdir: string;
  /** The program's fd 0 is a terminal of its own that becomes its controlling terminal. */
  readonly controllingTerminal: boolean;
  /** For --jail=bwrap. */
  readonly bwrap?: BwrapFacts;
  /** For --jail=native (run/native.ts nativeFacts). */
  readonly native?: NativeFacts;
  /** For --jail=none (run/facts.ts directFacts). */
  readonly direct?: DirectFacts;
}

/** What every backend's plan holds. */
export interface PlanBase {
  /** Where each grant lands in the program. */
  readonly slots: readonly FdSlot[];
  /** The program's whole environment, `KEY=VALUE`. */
  readonly env: readonly string[];
  /** The highest descriptor the program's jail holds: what --nofile must leave room for. */
  readonly highestFd: number;
}

/** The plan of a run in any backend. */
export type RunPlan = BwrapRunPlan | NativeRunPlan | DirectRunPlan;

/**
 * The plan of a run of `facts.config` in the backend `facts.choice` names, or the error a run
 * would fail with (a bind, a --chdir, a native jail this machine cannot give).
 *
 * @example
 * ```ts ignore
 * const plan = planRun({ config, choice, program: { path: "/usr/bin/true", argv0: "true",
 *   source: "/usr/bin/true" }, wwUid: 1000, wwPid: 42, workdir: "/tmp/ww-1",
 *   controllingTerminal: false, bwrap });
 * plan.backend === "bwrap" && plan.argv; // ["/usr/bin/bwrap", "--ro-bind", "/usr", ...]
 * ```
 */
export function planRun(facts: RunFacts): RunPlan {
  switch (facts.choice.backend) {
    case "bwrap":
      return planBwrapRun(facts);
    case "native":
      return planNativeRun(facts);
    case "none":
      if (!facts.direct) {
        throw new Error("planRun: the unjailed run's facts are missing (internal)");
      }
      return planDirectRun(facts.config, facts.program, facts.direct);
  }
}
