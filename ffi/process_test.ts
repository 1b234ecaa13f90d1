// ffi/process_test.ts — a held process is signalled through its pidfd: once it has ended, a signal
// reaches nobody, not the process that took its pid (made to take it with ns_last_pid, as root).

import assert from "node:assert/strict";
import { HeldProcess, holdChild, waitPid } from "./process.ts";
import { spawn } from "./spawn.ts";

const SIGKILL = 9;

/** Whether `pid` is a live process (not gone, not a zombie). */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/**
 * A process that ended and was reaped while held, and a new process that took its pid: the kernel
 * gives the next pid after ns_last_pid. Other processes starting at the same moment (tests run in
 * parallel) may take it first, so it is tried until the new one has it.
 */
async function pidTakenOver(): Promise<{ held: HeldProcess; taker: Deno.ChildProcess }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const first = new Deno.Command("/bin/sleep", { args: ["0.05"] }).spawn();
    const held = HeldProcess.open(first.pid);
    assert(held, "the process is alive while Deno has not reaped it");
    await first.status;
    Deno.writeTextFileSync("/proc/sys/kernel/ns_last_pid", String(first.pid - 1));
    const taker = new Deno.Command("/bin/sleep", { args: ["30"] }).spawn();
    if (taker.pid === first.pid) return { held, taker };
    held.close();
    taker.kill("SIGKILL");
    await taker.status;
  }
  throw new Error("no new process took the pid in 100 tries");
}

// Needs root, as the whole suite does: ns_last_pid is written as root only.
Deno.test("HeldProcess: a signal after the process ended reaches nobody, not the one with its pid", async () => {
  const { held, taker } = await pidTakenOver();
  try {
    assert.equal(held.pid, taker.pid);
    assert(held.ended);
    assert.equal(held.signal(SIGKILL), false);
    await new Promise((r) => setTimeout(r, 100));
    assert(alive(taker.pid), "the process that took the pid was killed");
  } finally {
    held.close();
    taker.kill("SIGKILL");
    await taker.status;
  }
});

Deno.test("holdChild and waitPid: signals reach the child until it is reaped, then nobody", async () => {
  const pid = spawn({
    path: "/bin/sleep",
    argv: ["sleep", "30"],
    env: [],
    cwd: "/",
    fdSteps: [{ op: "closefrom", from: 3 }],
    newSession: false,
  });
  const child = holdChild(pid);
  assert.deepEqual(child.ended, false);
  const ended = waitPid(child);
  assert.deepEqual(child.signal(SIGKILL), true);
  assert.deepEqual(await ended, { exited: false, signal: SIGKILL });
  assert.deepEqual(child.fd, -1, "waitPid closed the pidfd with the reap");
  assert.deepEqual(child.signal(SIGKILL), false);
  assert(child.ended);
});

Deno.test("HeldProcess.open: no such pid is undefined", () => {
  const pidMax = Number(Deno.readTextFileSync("/proc/sys/kernel/pid_max"));
  for (let pid = pidMax - 1; pid > pidMax - 100; pid--) {
    if (alive(pid)) continue;
    const held = HeldProcess.open(pid);
    if (held === undefined) return;
    held.close(); // a process started there meanwhile
  }
  throw new Error("every pid tried was taken");
});
