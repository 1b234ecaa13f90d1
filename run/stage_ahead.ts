// run/stage_ahead.ts — ww's side of `stage ahead` (stage/stage.c): what a jailed run as root
// needs of the kernel before its plan, done by a stage of its own while ww loads the launcher and
// plans (issue 13): the owners of every process, which the jails' id lease avoids (run/ids.ts),
// and a network namespace with its loopback up for a native jail's program (~1 ms of the kernel's
// work that the stage's child did on the launch's path).

import { closeFd, pipe } from "../ffi/fd.ts";
import { cString, lastErrno, libc } from "../ffi/libc.ts";
import { EINTR } from "../ffi/errno.ts";
import { O_CLOEXEC, O_RDONLY } from "../ffi/flags.ts";
import { reapIfEnded, reapKilled } from "../ffi/process.ts";
import { spawn } from "../ffi/spawn.ts";
import { planChildFds } from "../fd/plan.ts";
import type { Cleanups } from "./launch.ts";
import { stageExecutable } from "./stage.ts";
import { ownStatus } from "./host.ts";
import type { RunConfig } from "../core/config.ts";
import { needsLease } from "../jail/ids.ts";
import { parseProcStatus, privateNetworkWanted } from "../jail/proc_status.ts";

/** What `stage ahead` answers, each read when first asked (waiting for it then). */
export interface StageAhead {
  /**
   * The owner (effective uid, then gid) of every /proc/<pid>, as ffi/proc.ts processOwnerIds
   * reads them; undefined when the stage could not tell (ww then scans /proc itself).
   */
  owners(): Uint32Array | undefined;
  /**
   * A descriptor (close-on-exec) of the network namespace the stage made, for the program to join;
   * undefined when it was not asked for one, or could not make it (the native stage then makes
   * one itself, and says why it cannot). The stage lets go of it once this is taken.
   */
  network(): number | undefined;
  /**
   * Reaps the stage when it has ended, as it does once nothing more will be asked of it: a
   * launcher calls this once it has spawned its own stage, so that ww's only child is the jail's.
   * (Cleanups reap it otherwise.)
   */
  settle(): void;
}

/** The word that ends the owners' list: no process has uid 4294967295 (the invalid id). */
const OWNERS_END = 0xffffffff;

/**
 * Starts `stage ahead` for a jailed run of `config` by ww as root, ended and reaped by
 * `cleanups`: when ww leases the jail's id (not for a jail that shares its starter's lease), and
 * with a network namespace when the native jail gives the program one. Undefined when the run
 * needs neither, or the stage cannot be started (ww then does that work itself).
 */
export function startStageAhead(
  config: RunConfig,
  backend: "bwrap" | "native",
  sharedLease: boolean,
  cleanups: Cleanups,
): StageAhead | undefined {
  const lease = !sharedLease && needsLease(config.jail, true);
  const network = backend === "native" &&
    privateNetworkWanted(config.jail, parseProcStatus(ownStatus()));
  if (!lease && !network) return undefined;
  const [holdRead, holdWrite] = pipe();
  const [answerRead, answerWrite] = pipe();
  let pid: number;
  try {
    pid = spawn({
      path: stageExecutable(),
      argv: ["ww-stage", "ahead", ...(network ? ["network"] : [])],
      env: [],
      cwd: "/",
      // fd 2 is the answer's pipe too (the stage writes nothing there): not ww's stderr, which a
      // caller's $(…) would wait on.
      fdSteps: planChildFds([holdRead, answerWrite, answerWrite], []),
      newSession: true,
    });
  } catch {
    closeFd(holdWrite);
    closeFd(answerRead);
    return undefined;
  } finally {
    closeFd(holdRead);
    closeFd(answerWrite);
  }
  let held = true;
  const letGo = () => {
    if (held) closeFd(holdWrite);
    held = false;
  };
  let reaped = false;
  cleanups.add(() => {
    letGo();
    closeFd(answerRead);
    if (!reaped) reapKilled(pid);
  });
  const answer = new AnswerReader(answerRead);
  let owners: Uint32Array | undefined | null = null;
  const readOwners = () => {
    if (owners !== null) return owners;
    owners = answer.owners();
    if (!network) letGo();
    return owners;
  };
  let taken = false;
  return {
    owners: readOwners,
    network: () => {
      if (!network || taken) return undefined;
      taken = true;
      const made = readOwners() === undefined ? undefined : answer.word();
      const fd = made === 0
        ? libc().open(cString(`/proc/${pid}/ns/net`), O_RDONLY | O_CLOEXEC, 0)
        : -1;
      letGo();
      return fd >= 0 ? fd : undefined;
    },
    settle: () => {
      if (!reaped && !held) reaped = reapIfEnded(pid);
    },
  };
}

/** Reads the stage's answer, little-endian u32 words, from a blocking pipe. */
class AnswerReader {
  #buf = new Uint8Array(16384);
  #view = new DataView(this.#buf.buffer);
  #start = 0;
  #end = 0;
  #ended = false;
  constructor(readonly fd: number) {}

  /** The owners' list, up to its end word; undefined when the answer ended before it. */
  owners(): Uint32Array | undefined {
    const words: number[] = [];
    for (;;) {
      const w = this.word();
      if (w === undefined) return undefined;
      if (w === OWNERS_END && words.length % 2 === 0) return Uint32Array.from(words);
      words.push(w);
    }
  }

  /** The next word, or undefined at the answer's end. */
  word(): number | undefined {
    while (this.#end - this.#start < 4) {
      if (this.#ended || !this.#fill()) return undefined;
    }
    const w = this.#view.getUint32(this.#start, true);
    this.#start += 4;
    return w;
  }

  #fill(): boolean {
    this.#buf.copyWithin(0, this.#start, this.#end);
    this.#end -= this.#start;
    this.#start = 0;
    for (;;) {
      const room = this.#buf.subarray(this.#end);
      const n = libc().read(this.fd, room, BigInt(room.length));
      if (n === -1 && lastErrno() === EINTR) continue;
      if (n <= 0) {
        this.#ended = true;
        return false;
      }
      this.#end += n;
      return true;
    }
  }
}
