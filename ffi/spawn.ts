// ffi/spawn.ts — starts a process with posix_spawn(3), executing an fd plan as file actions.
//
// posix_spawn is glibc's clone(CLONE_VM|CLONE_VFORK) + exec, which is safe in a multi-threaded
// process (fork is not), reports exec failures as its return value, and runs the file actions in
// the child only: the caller's descriptors are never touched. It must be called on the main JS
// thread: a death signal set later by bubblewrap is tied to the thread that created the process.

import type { FdStep } from "../fd/plan.ts";
import { check, checkReturned, cString, cStringArrays, libc } from "./libc.ts";
import { addOpenAction } from "./tty.ts";

// glibc <spawn.h>
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
// Larger than glibc's posix_spawn_file_actions_t (80 bytes) and posix_spawnattr_t (336 bytes) on
// x86_64 and aarch64, and sigset_t (128 bytes).
const OPAQUE_SIZE = 512;

/** What to start, and how its descriptors and session are set up. */
export interface SpawnSpec {
  /** The program, as execve(2) takes it (no PATH search here). */
  readonly path: string;
  readonly argv: readonly string[];
  /** `KEY=VALUE` strings; nothing else is passed. */
  readonly env: readonly string[];
  readonly cwd: string;
  readonly fdSteps: readonly FdStep[];
  /** setsid(2) in the child, so it cannot reach the caller's terminal through job control. */
  readonly newSession: boolean;
  /**
   * A terminal's path (with `newSession`), opened as fd 0 after the fd steps: a session leader
   * with no controlling terminal that opens one gets it as its controlling terminal, and
   * posix_spawn has no TIOCSCTTY of its own (glibc calls setsid before the file actions).
   */
  readonly controllingTerminal?: string;
  /**
   * Signals the child keeps ignored, as ww's caller ignored them (`nohup ww run …`): every other
   * disposition is reset to default.
   */
  readonly keepIgnored?: readonly number[];
}

/**
 * Starts the process and returns its pid. Signal dispositions are reset to default (but for
 * `keepIgnored`) and the signal mask emptied in the child: Deno ignores SIGPIPE, and an ignored
 * signal survives exec.
 * Throws SyscallError("posix_spawn", errno) when the program cannot be started.
 */
export function spawn(spec: SpawnSpec): number {
  const c = libc();
  // Passed as themselves (`buffer` parameters), never as pointers taken once: glibc writes into
  // them until posix_spawn, and only a reference keeps their memory alive (see ptr).
  const actions = new Uint8Array(OPAQUE_SIZE);
  const attr = new Uint8Array(OPAQUE_SIZE);
  checkReturned("posix_spawn_file_actions_init", c.posix_spawn_file_actions_init(actions));
  try {
    checkReturned("posix_spawnattr_init", c.posix_spawnattr_init(attr));
    try {
      for (const step of spec.fdSteps) {
        if (step.op === "dup2") {
          checkReturned(
            "posix_spawn_file_actions_adddup2",
            c.posix_spawn_file_actions_adddup2(actions, step.from, step.to),
            `fd ${step.from} -> ${step.to}`,
          );
        } else {
          checkReturned(
            "posix_spawn_file_actions_addclosefrom_np",
            c.posix_spawn_file_actions_addclosefrom_np(actions, step.from),
          );
        }
      }
      const terminal = spec.controllingTerminal === undefined
        ? undefined
        : cString(spec.controllingTerminal);
      if (terminal) addOpenAction(actions, 0, terminal);
      const cwd = cString(spec.cwd);
      checkReturned(
        "posix_spawn_file_actions_addchdir_np",
        c.posix_spawn_file_actions_addchdir_np(actions, cwd),
      );

      const all = new Uint8Array(OPAQUE_SIZE);
      const none = new Uint8Array(OPAQUE_SIZE);
      check("sigfillset", c.sigfillset(all));
      // glibc's sigset_t holds signal N at bit N-1 of its words, little-endian on every arch ww
      // runs on: bit (N-1)%8 of byte (N-1)/8.
      const bit = (sig: number) => [(sig - 1) >> 3, 1 << ((sig - 1) & 7)];
      // sigfillset leaves out glibc's own signals, 32 and 33, which posix_spawn then sets to
      // SIG_IGN in the child (an ignored signal survives exec): a program that uses them found
      // them ignored. Set here by bit, their dispositions are SIG_DFL like the rest.
      for (const sig of [32, 33]) {
        const [byte, mask] = bit(sig);
        all[byte] |= mask;
      }
      for (const sig of spec.keepIgnored ?? []) {
        const [byte, mask] = bit(sig);
        all[byte] &= ~mask;
      }
      check("sigemptyset", c.sigemptyset(none));
      checkReturned(
        "posix_spawnattr_setsigdefault",
        c.posix_spawnattr_setsigdefault(attr, all),
      );
      checkReturned("posix_spawnattr_setsigmask", c.posix_spawnattr_setsigmask(attr, none));
      const flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
        (spec.newSession ? POSIX_SPAWN_SETSID : 0);
      checkReturned("posix_spawnattr_setflags", c.posix_spawnattr_setflags(attr, flags));

      const pid = new Int32Array(1);
      const path = cString(spec.path);
      const [argv, envp] = cStringArrays([spec.argv, spec.env]);
      checkReturned(
        "posix_spawn",
        c.posix_spawn(pid, path, actions, attr, argv, envp),
        spec.path,
      );
      return pid[0];
    } finally {
      c.posix_spawnattr_destroy(attr);
    }
  } finally {
    c.posix_spawn_file_actions_destroy(actions);
  }
}
