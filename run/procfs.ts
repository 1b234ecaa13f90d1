// run/procfs.ts — finds a jail's processes from the host, by /proc/<pid>/task/<pid>/children, and
// holds each it finds by a pidfd (ffi/process.ts HeldProcess), taken only once the process is
// seen in the jail's tree while the pidfd is open: a pid read from /proc, or from bwrap's status,
// may be another process's by the time ww signals it (pids come round). And reads from a
// process's status whether signals sent to it have arrived.

import { HeldProcess } from "../ffi/process.ts";
import { fileIdentity, sameFile } from "../ffi/stat.ts";
import { sleep } from "../ffi/ops.ts";

/**
 * The children of `pid`, of every thread of it (/proc/<pid>/task/<tid>/children: a child is
 * listed under the thread that forked it, so a Go or JVM program's jobs are under its others), or
 * [] when it has none or is gone.
 */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
        if (text !== "") children.push(...text.split(" ").map(Number));
      } catch { /* the thread ended meanwhile */ }
    }
  } catch { /* gone */ }
  return children;
}

/** The line of descent from `root` to `pid` at most `depth` generations down, root first. */
function lineTo(root: number, pid: number, depth: number): number[] | undefined {
  if (root === pid) return [root];
  if (depth === 0) return undefined;
  for (const child of childrenOf(root)) {
    const line = lineTo(child, pid, depth - 1);
    if (line) return [root, ...line];
  }
  return undefined;
}

/**
 * `pid`, held, when it is `root` or a descendant of it at most `depth` generations down; else
 * undefined (it is not in that tree, or has ended). `root` is held and must stay unreaped while
 * this runs (ww's own child, or a process that one holds). The pidfd is opened first, and the
 * line of descent read from /proc twice after it, each time ending with `root` still running: a
 * pidfd taken of a pid that named another process then names one that has ended since, so a
 * signal through it reaches nobody.
 *
 * @example
 * // the jail's pid 1, which bwrap reported: bwrap's child, bwrap being the stage's
 * const init = holdInTree(stage, reportedPid, 2);
 */
export function holdInTree(root: HeldProcess, pid: number, depth: number): HeldProcess | undefined {
  const held = HeldProcess.open(pid);
  if (held === undefined) return undefined;
  const first = lineTo(root.pid, pid, depth);
  const seen = first !== undefined && !root.ended &&
    first.every((p, i) => i === 0 || childrenOf(first[i - 1]).includes(p)) && !root.ended;
  if (seen) return held;
  held.close();
  return undefined;
}

/**
 * Whether `child` has executed a program of its own: its /proc/<pid>/exe is no longer the file
 * of `parent`, whose fork it is (the stage, which forks the program and executes it). True when
 * either cannot be read (gone, or not ww's to look at): nothing is gained by waiting then.
 */
function hasExecuted(parent: number, child: number): boolean {
  const own = fileIdentity(`/proc/${child}/exe`);
  const forkedFrom = fileIdentity(`/proc/${parent}/exe`);
  return own === undefined || forkedFrom === undefined || !sameFile(own, forkedFrom);
}

/**
 * The program in a jail, held, once it has executed, or undefined once the jail is gone: the
 * first child of `parent` (the jail's pid 1 under bwrap, the native jail's supervisor), which
 * forks the program first; orphans it reaps are listed after it. Until its execve that child is
 * still the stage, which a signal meant for the program would end, so that nothing ran and ww
 * took the stage's death for the program's. Polls briefly: `parent` forks the program once the
 * jail is set up, and the fork executes it once its own steps are done.
 */
export async function programInJail(
  parent: HeldProcess,
  jailGone: Promise<unknown>,
): Promise<HeldProcess | undefined> {
  let gone = false;
  const end = () => gone = true;
  jailGone.then(end, end);
  for (let delay = 1; !gone && !parent.ended; delay = Math.min(delay * 2, 50)) {
    const [first] = childrenOf(parent.pid);
    if (first !== undefined && hasExecuted(parent.pid, first)) {
      return holdInTree(parent, first, 1);
    }
    await sleep(delay);
  }
  return undefined;
}

/**
 * Whether each of `signals` has arrived at the process whose /proc/<pid>/status is `status`: it
 * is pending (SigPnd, its own; ShdPnd, its thread group's), or ignored, which the kernel drops as
 * it is sent (SigIgn). True when the status lacks any of these sets: nothing is known to wait for.
 *
 * @example
 * signalsArrived("ShdPnd:\t0000000000000002\nSigIgn:\t0000000000000000\n", [2]); // true: SIGINT
 */
export function signalsArrived(status: string, signals: readonly number[]): boolean {
  const set = (name: string) => {
    const hex = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, "m").exec(status)?.[1];
    return hex === undefined ? undefined : BigInt(`0x${hex}`);
  };
  const [own, group, ignored] = [set("SigPnd"), set("ShdPnd"), set("SigIgn")];
  if (own === undefined || group === undefined || ignored === undefined) return true;
  const arrived = own | group | ignored;
  return signals.every((sig) => (arrived & (1n << BigInt(sig - 1))) !== 0n);
}

/**
 * Resolves once each of `signals` has arrived at `process` (signalsArrived), it has ended, or
 * `timeoutMs` have passed. A terminal's key sends its signal a moment after the byte is written
 * to the master: the line discipline reads the byte on a kernel worker, which under load runs
 * later than the writer's next step.
 */
export async function untilSignalsArrive(
  process: HeldProcess,
  signals: readonly number[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; !process.ended && Date.now() < deadline; delay = Math.min(delay * 2, 20)) {
    try {
      if (signalsArrived(Deno.readTextFileSync(`/proc/${process.pid}/status`), signals)) return;
    } catch {
      return; // gone, or not ww's to read
    }
    await sleep(delay);
  }
}
