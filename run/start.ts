// run/start.ts — starts a program as ww's child: checks the grants against the real descriptor
// table, makes the private work directory and the host socket, plans the descriptors, spawns, and
// reaps. Everything it creates is removed when the child ends or when starting fails.

import { HOST_SOCKET_FD, layoutFds } from "../fd/layout.ts";
import { planFdSteps } from "../fd/plan.ts";
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
import { closeFd, fdState, unixSocketPair } from "../ffi/fd.ts";
import { SyscallError } from "../ffi/libc.ts";
import { killPid, waitPid } from "../ffi/process.ts";
import { spawn } from "../ffi/spawn.ts";
import { FdStream } from "../ffi/stream.ts";
import { grantProblem, type RunConfig } from "./config.ts";
import { childEnv } from "./env.ts";
import { NotExecutableError, NotFoundError, SetupError, UsageError } from "./errors.ts";
import { resolveProgram } from "./resolve.ts";
import { type SignalName, signalName, SIGNALS } from "./signals.ts";

/** How the program ended, as a shell reports it: the exit code, or 128+N for signal N. */
export interface ExitStatus {
  readonly code: number;
  /** Set when the program was killed by a signal. */
  readonly signal?: SignalName;
}

/** A running program. */
export interface Child {
  readonly pid: number;
  /** Resolves once the program has ended, been reaped, and its work directory removed. */
  readonly status: Promise<ExitStatus>;
  /** ww's end of the program's fd 3; closed when the program ends. */
  readonly hostSocket: FdStream;
  /** Sends a signal; false when the program has already ended. */
  kill(signal?: SignalName): boolean;
}

/**
 * Starts `config.program` with exactly the descriptors, environment and work directory the
 * config describes.
 *
 * @example
 * const child = startProgram({ program: "/bin/true", args: [], fds: [], env: {}, ipfsApi: "" });
 * (await child.status).code; // 0
 */
export function startProgram(config: RunConfig): Child {
  config.fds.forEach((g, i) => {
    const problem = grantProblem(g, config.fds.slice(0, i));
    if (problem) throw new UsageError(problem);
    checkInherited(g.name, g.source);
  });
  const path = resolveProgram(config.program, Deno.env.get("PATH") ?? "", Deno.cwd());
  const slots = layoutFds(config.fds);

  const cleanups: (() => void)[] = [];
  const cleanup = () => {
    for (const f of cleanups.reverse()) {
      try {
        f();
      } catch { /* best effort: the remaining clean-ups still run */ }
    }
    cleanups.length = 0;
  };
  try {
    const workdir = Deno.makeTempDirSync({ prefix: "ww-" });
    cleanups.push(() => Deno.removeSync(workdir, { recursive: true }));
    const [hostEnd, childEnd] = unixSocketPair();
    const hostSocket = new FdStream(hostEnd);
    cleanups.push(() => hostSocket.close());
    cleanups.push(() => closeFd(childEnd));

    const sources = [childEnd, ...slots.map((s) => s.source)];
    const pid = spawnMapped({
      path,
      argv: [config.program, ...config.args],
      env: childEnv(config.env, slots),
      cwd: workdir,
      fdSteps: planFdSteps(sources, HOST_SOCKET_FD),
      newSession: false,
    });
    closeFd(childEnd);
    cleanups.pop();

    let ended = false;
    const status = waitPid(pid).then((w) => {
      ended = true;
      cleanup();
      if (w.exited) return { code: w.code };
      return { code: 128 + w.signal, signal: signalName(w.signal) };
    });
    return {
      pid,
      status,
      hostSocket,
      kill: (signal = "SIGTERM") => !ended && killPid(pid, SIGNALS[signal]),
    };
  } catch (e) {
    cleanup();
    throw e;
  }
}

function checkInherited(name: string, fd: number): void {
  const state = fdState(fd);
  if (state === "closed") {
    throw new SetupError(
      `--with-fd ${name}=${fd}: fd ${fd} is not open in the calling process (open it first, e.g. \`${fd}<file ww run ...\`)`,
    );
  }
  if (state === "close-on-exec") {
    throw new SetupError(
      `--with-fd ${name}=${fd}: fd ${fd} was opened by ww itself, not inherited from the caller (grant a descriptor the caller opened)`,
    );
  }
}

function spawnMapped(spec: Parameters<typeof spawn>[0]): number {
  try {
    return spawn(spec);
  } catch (e) {
    if (!(e instanceof SyscallError) || e.syscall !== "posix_spawn") throw e;
    if (e.errno === ENOENT) {
      throw new NotFoundError(
        `${spec.argv[0]}: ${e.code} (the file or its interpreter is missing)`,
      );
    }
    if ([EACCES, ENOEXEC, EISDIR, ETXTBSY, ELOOP, ENOTDIR, ENAMETOOLONG].includes(e.errno)) {
      throw new NotExecutableError(`${spec.argv[0]}: cannot execute: ${e.code}`);
    }
    throw new SetupError(`${spec.argv[0]}: could not start: ${e.message}`);
  }
}
