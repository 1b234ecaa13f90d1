// run/launch_direct.ts — `--jail=none`: the program runs as ww's direct child, unjailed.

import { layoutFds } from "../fd/layout.ts";
import { killPid, waitPid } from "../ffi/process.ts";
import { childEnv } from "../core/env.ts";
import {
  type Cleanups,
  hostWorkdir,
  type Launched,
  type Program,
  programFdSteps,
  spawnMapped,
} from "./launch.ts";
import type { ProgramTerminal } from "./tty.ts";
import type { RunConfig } from "../core/config.ts";
import { signalName, SIGNALS } from "./signals.ts";
import { SetupError } from "../core/errors.ts";

/** Runs the program with no jail at all. */
export function launchDirect(
  config: RunConfig,
  program: Program,
  childEnd: number,
  cleanups: Cleanups,
  _choice?: unknown,
  terminal?: ProgramTerminal,
): Promise<Launched> {
  const { chdir } = config.jail;
  if (chdir !== undefined) {
    let isDir = false;
    try {
      isDir = Deno.statSync(chdir).isDirectory;
    } catch { /* named below */ }
    if (!isDir) throw new SetupError(`--chdir ${chdir}: no such directory on this machine`);
  }
  const workdir = hostWorkdir(cleanups);
  const slots = layoutFds(config.fds);
  const pid = spawnMapped({
    path: program.path,
    argv: [program.argv0, ...config.args],
    env: childEnv(config.env, slots),
    // Only the cwd moves with --chdir: the work directory is made all the same.
    cwd: chdir ?? workdir,
    fdSteps: programFdSteps([childEnd, ...slots.map((s) => s.source)], terminal),
    // Unjailed, the program shares ww's session and terminal, unless it has a terminal of its own.
    newSession: terminal?.controlling === true,
    ...(terminal?.controlling ? { controllingTerminal: terminal.name } : {}),
  });
  return Promise.resolve({
    pid,
    signal: (sig) => killPid(pid, sig),
    killAll: () => killPid(pid, SIGNALS.SIGKILL),
    ended: waitPid(pid).then((w) =>
      w.exited ? { code: w.code } : { code: 128 + w.signal, signal: signalName(w.signal) }
    ),
  });
}
