// run/auto_try.ts — `--jail=auto`'s real try of bwrap, made the way a real bwrap run starts bwrap
// (run/launch_bwrap.ts): by the stage (stage/stage.c) from the plan jail/bwrap.ts bwrapStagePlan
// makes, and, when ww is root, as a host uid leased for it (run/ids.ts) with no groups and no
// capabilities. So the answer auto remembers is about what runs will do: the same program drops
// root the same way, to the kind of uid a run gets (a per-uid limit on user namespaces counts
// against it as against a run's), and needs no tool a run does not need. Loaded only when a try
// is due (run/auto.ts): the stage's bytes are not read by a run with a remembered answer.

import { planFdSteps } from "../fd/plan.ts";
import { closeFd, pipe } from "../ffi/fd.ts";
import { openReadOnly } from "../ffi/memfd.ts";
import { holdChild, waitPid } from "../ffi/process.ts";
import { FdStream, readAllText } from "../ffi/stream.ts";
import { SetupError } from "../core/errors.ts";
import type { BwrapTry } from "../jail/auto.ts";
import { bwrapStagePlan, namespaceArgs } from "../jail/bwrap.ts";
import { jailHostIds } from "../jail/ids.ts";
import { encodeStagePlan } from "../stage/plan.ts";
import { leaseJailId } from "./ids.ts";
import { newCleanups, spawnMapped } from "./launch.ts";
import { outOfDescriptors } from "./out_of_descriptors.ts";
import {
  outOfProcesses,
  planDescriptor,
  readStageReports,
  stageExecutable,
  stageFailure,
} from "./stage.ts";

/** The stage's plan and status descriptors in the try: right after bwrap's stdio. */
const PLAN_FD = 3;
const STATUS_FD = 4;

/**
 * Runs `bwrap` with the jail's namespaces around /bin/true, started as a run starts it: as
 * `identity` (the host ids of a run whose bwrap just failed, still leased by it), or else as a
 * run without --uid/--gid would be (a leased id when ww is root, from the top of the range, held
 * for the try only). The
 * first line of bwrap's error (or the stage's) says why it failed. ww that cannot start the try
 * at all (its spawn of the stage fails, or, for want of processes (EAGAIN), the stage's fork
 * or execve of bwrap or bwrap's own fork) throws a SetupError: that is this moment's, not an answer about bwrap, and
 * auto remembered it, so that every later run went native.
 *
 * @example
 * await tryBwrap("/usr/bin/bwrap"); // { ok: true, detail: "" }
 */
export async function tryBwrap(
  bwrap: string,
  identity?: { readonly uid: number; readonly gid: number },
): Promise<BwrapTry> {
  const cleanups = newCleanups();
  // From the top of the range, where runs lease from the bottom: the kernel frees the try's
  // namespaces some time after bwrap has exited, and until then they count against its uid's
  // max_user_namespaces, so a run that leased the same uid right after could find none left
  // (seen in a container allowing 2). Outside the try's catch: no id to lease (WW_JAIL_IDS
  // malformed, none free now) is ww's setting or this moment's, thrown, not an answer about
  // bwrap that auto would remember (every later auto run went native).
  let dropTo: { readonly uid: number; readonly gid: number } | undefined;
  try {
    dropTo = identity ??
      jailHostIds({}, Deno.uid() === 0, leaseJailId({}, cleanups, "descending")?.id);
  } catch (e) {
    cleanups.run();
    throw e;
  }
  try {
    const argv = [bwrap, "--ro-bind", "/", "/", ...namespaceArgs(false), "--", "/bin/true"];
    const plan = planDescriptor(encodeStagePlan(bwrapStagePlan({
      limits: {},
      dropTo,
      bwrapArgv: argv,
      env: [],
      parentPid: Deno.pid,
      closeOnExecFrom: PLAN_FD,
    })));
    cleanups.add(() => closeFd(plan));
    const devNull = openReadOnly("/dev/null");
    cleanups.add(() => closeFd(devNull));
    const [errRead, errWrite] = pipe();
    const errStream = new FdStream(errRead);
    cleanups.add(() => errStream.close());
    const closeErrWrite = cleanups.add(() => closeFd(errWrite));
    const [statusRead, statusWrite] = pipe();
    const statusStream = new FdStream(statusRead);
    cleanups.add(() => statusStream.close());
    const closeStatusWrite = cleanups.add(() => closeFd(statusWrite));
    const pid = spawnMapped({
      path: stageExecutable(),
      argv: ["ww-stage", "launch", String(PLAN_FD), String(STATUS_FD)],
      env: [],
      cwd: "/",
      fdSteps: planFdSteps([devNull, devNull, errWrite, plan, statusWrite], 0),
      newSession: true,
    });
    closeErrWrite();
    closeStatusWrite();
    const [reports, stderr, ended] = await Promise.all([
      readStageReports(statusStream),
      readAllText(errStream),
      waitPid(holdChild(pid)),
    ]);
    const failure = stageFailure(reports, bwrap, "bwrap", ended);
    if (failure && outOfProcesses(reports, true)) throw cannotTry(failure.message);
    if (failure) return { ok: false, detail: failure.message };
    if (ended.exited && ended.code === 0) return { ok: true, detail: "" };
    const how = ended.exited ? `exited ${ended.code}` : `was killed by signal ${ended.signal}`;
    const said = stderr.trim().split("\n")[0];
    // bwrap's fork or clone for want of processes (EAGAIN): this moment's, not the machine's.
    if (said.endsWith(": Resource temporarily unavailable")) throw cannotTry(said);
    return { ok: false, detail: said || `bwrap ${how}` };
  } catch (e) {
    if (e instanceof CannotTry) throw e;
    // Out of descriptors is ww's own limit, not this moment's processes: said as everywhere else.
    throw outOfDescriptors(e) ?? cannotTry(e instanceof Error ? e.message : String(e));
  } finally {
    cleanups.run();
  }
}

/** ww could not make the try (not an answer about bwrap: run/auto.ts remembers none). */
class CannotTry extends SetupError {}

function cannotTry(why: string): SetupError {
  return new CannotTry(
    `--jail=auto could not try bubblewrap: ${why}; nothing was run (try again, e.g. once fewer processes run, or choose --jail=bwrap or --jail=native)`,
  );
}
