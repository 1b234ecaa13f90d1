// run/launch_direct.ts — `--jail=none`: the program runs as ww's direct child, unjailed. Under
// socket activation the stage (stage/stage.c, exec mode) executes it, in the same process, to
// set LISTEN_PID to the pid the program gets.

import { childFdSources } from "../fd/layout.ts";
import { planChildFds } from "../fd/plan.ts";
import { spawnHeld, waitPid } from "../ffi/process.ts";
import { planDirectRun } from "../plan/direct.ts";
import { directFacts } from "./facts.ts";
import {
  hostWorkdir,
  type Launched,
  type LaunchRequest,
  spawnMapped,
  withWorkdirLeft,
} from "./launch.ts";
import { callerIgnoredSignals, signalName, SIGNALS } from "./signals.ts";
import { CwdError } from "../core/errors.ts";
import { accessible, X_OK } from "../ffi/stat.ts";
import { cwdProblem } from "./directory.ts";
import { lazyImport } from "../core/lazy.ts";
import { removeTree } from "../ffi/dir.ts";
import type { OpGroup } from "../ffi/ops.ts";

/**
 * Refuses a --chdir that is not a directory on this machine, or one ww's caller cannot enter, as
 * a run and --explain both do (a jail's plan and the jail's user's checks refuse them for a jailed
 * run). The program was blamed for one it could not enter: "cannot execute: EACCES" (126).
 */
export function checkDirectChdir(chdir: string | undefined): void {
  if (chdir === undefined) return;
  checkChdirExists(chdir);
  if (!accessible(chdir, X_OK)) {
    throw CwdError.because(chdir, "ww's caller may not enter it (EACCES)");
  }
}

/**
 * Refuses a --chdir that is no directory on this machine (missing, a file, a loop), in the same
 * words under none and the native jail, whose paths are the host's, a run and --explain alike:
 * the native stage's chdir said "the program cannot enter it (ENOENT)", and --explain nothing.
 */
export function checkChdirExists(chdir: string | undefined): void {
  if (chdir === undefined) return;
  const why = cwdProblem(chdir);
  if (why) throw CwdError.because(chdir, why);
}

/**
 * Removes the work directory `dir` of a program that ran with no jail: with rmdir when it left
 * nothing there, Deno's recursive removal when it did, and the stage's walk (stage/stage.c
 * `remove`) when that failed. Deno's removal left behind a tree under a directory the program
 * made read-only (for a caller who is not root), and one nested deeper than ww's descriptors (it
 * holds one a level); the stage's walk makes its way into the first and holds at most 128
 * directories. Whether `dir` is gone is for withWorkdirLeft to see, as for the native jail.
 */
async function removeWorkdir(dir: string, ops: OpGroup | undefined): Promise<void> {
  try {
    removeTree(dir);
    return;
  } catch {
    // On to the stage's walk.
  }
  const { stageExecutable } = await lazyImport<typeof import("./stage.ts")>("run/stage.ts");
  const { child } = spawnHeld(() =>
    spawnMapped({
      path: stageExecutable(),
      argv: ["ww-stage", "remove", dir],
      env: [],
      cwd: "/",
      fdSteps: planChildFds([undefined, undefined, undefined], []),
      newSession: false,
    })
  );
  await waitPid(child, ops);
}

/** Runs the program with no jail at all. */
export async function launchDirect(request: LaunchRequest): Promise<Launched> {
  const { config, program, fds: childFds, cleanups, ops, terminal, beforeStart, beforeSpawn } =
    request;
  // Planned first: a bind it cannot honour leaves nothing behind (no work directory yet).
  const plan = planDirectRun(config, program, directFacts());
  const { chdir } = config.jail;
  checkDirectChdir(chdir);
  const { path: workdir, handOver, release, sweepOthers } = hostWorkdir(cleanups);
  const { exec } = plan;
  // The stage (its machine code with it) is loaded only for socket activation: every other
  // unjailed run must not pay for it.
  const path = exec.path ??
    (await lazyImport<typeof import("./stage.ts")>("run/stage.ts")).stageExecutable();
  // Nothing makes a --ro-bind read-only, or sets an identity or a limit, without a jail: the
  // caller is told (Child.jail).
  const { notEnforced } = plan;
  beforeStart?.(notEnforced);
  beforeSpawn?.();
  const { pid, child } = spawnHeld(() =>
    spawnMapped({
      path,
      argv: exec.argv,
      env: plan.env,
      // Only the cwd moves with --chdir: the work directory is made all the same.
      cwd: chdir ?? workdir,
      fdSteps: planChildFds(childFds.stdio, childFdSources(plan.slots, childFds.host)),
      // Unjailed, the program shares ww's session and terminal, unless it has a terminal of its own.
      newSession: terminal?.controlling === true,
      ...(terminal?.controlling ? { controllingTerminal: terminal.name } : {}),
      // Unjailed, it shares ww's process group too: a hangup (or a shell's SIGINT to its
      // background job) reaches it as well as ww, so what ww's caller ignored it ignores.
      keepIgnored: callerIgnoredSignals().map((sig) => SIGNALS[sig]),
    })
  );
  // Once the program is on its way: TMPDIR's names are read on a worker thread meanwhile.
  const swept = sweepOthers();
  return {
    pid,
    notEnforced,
    signal: (sig) => void child.signal(sig),
    // A session of its own only with a terminal of its own; else it is in ww's process group,
    // which a terminal's Ctrl-Z reaches whole, and a SIGTSTP sent on to it stops it.
    ...(terminal?.controlling
      ? {
        signalJob: (stop: boolean) => {
          child.signalGroup(stop ? SIGNALS.SIGSTOP : SIGNALS.SIGCONT);
          return Promise.resolve();
        },
      }
      : {}),
    killAll: () => void child.signal(SIGNALS.SIGKILL),
    root: child,
    exited: () => child.ended,
    // Unjailed, ww removes the work directory itself: a jail's supervisor removes its own.
    ended: waitPid(child, ops).then(async (w) => {
      handOver();
      await removeWorkdir(workdir, ops);
      release();
      await swept;
      return withWorkdirLeft(
        w.exited ? { code: w.code } : { code: 128 + w.signal, signal: signalName(w.signal) },
        workdir,
      );
    }),
  };
}
