// tests/jail/kill_ww.ts — SIGKILLs ww at random instants of its start and reports what outlived
// it: processes of the jail (found by a marker in their environment), work directories in its
// TMPDIR, and anything still holding the caller's stdout (the pipe does not reach EOF).

import { processesWithEnv, wwDirs } from "../support/procs.ts";
import { wwCommand } from "../support/ww.ts";

/** What one try left behind, if anything. */
export interface Leftover {
  readonly delayMs: number;
  readonly processes: number[];
  readonly workdirs: string[];
  readonly stdoutHeld: boolean;
}

/** How long the jail has to go away after ww is killed. */
const GONE_WITHIN_MS = 3000;

/**
 * Starts `ww run <flags> <program...>` with a marker in the program's environment, SIGKILLs ww
 * after a random delay below `windowMs`, and returns what is left GONE_WITHIN_MS later (or
 * undefined when nothing is). `tmp` is ww's TMPDIR, private to the caller.
 */
export async function killWwOnce(
  flags: readonly string[],
  program: readonly string[],
  tmp: string,
  windowMs: number,
): Promise<Leftover | undefined> {
  const marker = `WWKILL=${crypto.randomUUID()}`;
  // Its own TMPDIR, so that it sees only its own work directory (0755: the jail's user enters).
  tmp = Deno.makeTempDirSync({ dir: tmp, prefix: "try-" });
  Deno.chmodSync(tmp, 0o755);
  const [cmd, ...pre] = wwCommand();
  const child = new Deno.Command(cmd, {
    args: [...pre, "run", ...flags, "--env", marker, ...program],
    env: { TMPDIR: tmp },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  // Read stdout until EOF: it comes only when nothing holds the pipe's write end any more.
  const eof = (async () => {
    for await (const _ of child.stdout) { /* discard */ }
  })();
  const delayMs = Math.floor(Math.random() * windowMs);
  await new Promise((r) => setTimeout(r, delayMs));
  child.kill("SIGKILL");
  await child.status;
  const deadline = Date.now() + GONE_WITHIN_MS;
  let stdoutHeld = true;
  const eofSeen = eof.then(() => (stdoutHeld = false));
  for (;;) {
    const processes = processesWithEnv(marker);
    const workdirs = wwDirs(tmp);
    if (processes.length === 0 && workdirs.length === 0 && !stdoutHeld) {
      Deno.removeSync(tmp);
      return undefined;
    }
    if (Date.now() > deadline) {
      for (const pid of processes) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* gone */ }
      }
      await eofSeen;
      return { delayMs, processes, workdirs, stdoutHeld };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `tries` runs of killWwOnce, `batch` at a time; the leftovers of those that left any. */
export async function killWwRepeatedly(
  flags: readonly string[],
  program: readonly string[],
  options: { tries: number; batch: number; windowMs: number; tmp: string },
): Promise<Leftover[]> {
  const leftovers: Leftover[] = [];
  for (let done = 0; done < options.tries; done += options.batch) {
    const n = Math.min(options.batch, options.tries - done);
    const results = await Promise.all(
      Array.from({ length: n }, () => killWwOnce(flags, program, options.tmp, options.windowMs)),
    );
    for (const r of results) if (r) leftovers.push(r);
  }
  return leftovers;
}
