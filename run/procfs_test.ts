// run/procfs_test.ts — holdInTree holds a process only while /proc shows it in the given tree, and
// programInJail finds the first child of a jail's parent process once it has executed, or nothing
// once the parent has ended; untilSignalsArrive waits for signals sent to a stopped process to be
// pending (or ignored) there.

import assert from "node:assert/strict";
import { holdChild, waitPid } from "../ffi/process.ts";
import { spawn } from "../ffi/spawn.ts";
import { holdInTree, programInJail, signalsArrived, untilSignalsArrive } from "./procfs.ts";
import { parseStatPlace } from "./process_group.ts";

/** A child of this process running `script` in sh, held: root of a tree of its own. */
function shell(script: string) {
  const pid = spawn({
    path: "/bin/sh",
    argv: ["sh", "-c", script],
    env: ["PATH=/usr/bin:/bin"],
    cwd: "/",
    fdSteps: [{ op: "closefrom", from: 3 }],
    newSession: true,
  });
  const held = holdChild(pid);
  const ended = waitPid(held);
  // Its session's every process (the shell's pid names its group until it is reaped), and then
  // the shell itself, reaped.
  const end = async () => {
    Deno.kill(-pid, "SIGKILL");
    await ended;
  };
  return { held, ended, end };
}

/** The children of `pid`, once it has `count` (the shell forks them as it runs). */
async function childrenOnce(pid: number, count: number): Promise<number[]> {
  for (let i = 0; i < 500; i++) {
    const text = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim();
    const children = text === "" ? [] : text.split(" ").map(Number);
    if (children.length >= count) return children;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`pid ${pid} did not fork ${count} children in 5 s`);
}

Deno.test("holdInTree: a descendant within the depth is held, others are not", async () => {
  // root -> sh -> sleep: a grandchild, as the jail's pid 1 is the stage's under bwrap.
  const root = shell("sh -c 'sleep 30; :' & wait");
  try {
    const [middle] = await childrenOnce(root.held.pid, 1);
    const [grandchild] = await childrenOnce(middle, 1);
    const held = holdInTree(root.held, grandchild, 2);
    assert(held, "the grandchild is in the tree two generations down");
    assert.equal(held.pid, grandchild);
    held.close();
    assert.equal(holdInTree(root.held, grandchild, 1), undefined, "deeper than 1");
    assert.equal(holdInTree(root.held, Deno.pid, 3), undefined, "ww is not in the tree");
    const self = holdInTree(root.held, root.held.pid, 0);
    assert(self, "the root is in its own tree");
    self.close();
  } finally {
    await root.end();
  }
});

Deno.test("holdInTree: nothing is held in the tree of a root that has ended", async () => {
  const root = shell("sleep 30 & wait");
  const [child] = await childrenOnce(root.held.pid, 1);
  root.held.signal(9);
  await root.ended;
  // The sleep lives on (reparented): alive, but no longer in the ended root's tree.
  try {
    assert.equal(holdInTree(root.held, child, 1), undefined);
  } finally {
    Deno.kill(child, "SIGKILL");
  }
});

Deno.test("programInJail: the parent's first child, held; nothing once the parent has ended", async () => {
  const parent = shell("sleep 30 & sleep 31 & wait");
  try {
    const [first] = await childrenOnce(parent.held.pid, 2);
    const program = await programInJail(parent.held, parent.ended);
    assert(program);
    assert.equal(program.pid, first);
    assert.equal(program.signal(9), true);
    program.close();
  } finally {
    await parent.end();
  }
  assert.equal(await programInJail(parent.held, parent.ended), undefined);
});

Deno.test("programInJail: the first child only once it has executed a program of its own", async () => {
  // The first child is a fork of the shell (as the program is of the stage until its execve) for
  // 0.3 s, then executes sleep.
  const parent = shell("(sleep 0.3; exec sleep 30) & wait");
  try {
    const [first] = await childrenOnce(parent.held.pid, 1);
    const program = await programInJail(parent.held, parent.ended);
    assert(program);
    assert.equal(program.pid, first);
    const exe = (pid: number) => Deno.realPathSync(`/proc/${pid}/exe`);
    assert.equal(exe(first), Deno.realPathSync("/bin/sleep"), "it has executed sleep");
    assert.notEqual(exe(first), exe(parent.held.pid));
    program.close();
  } finally {
    await parent.end();
  }
});

Deno.test("signalsArrived: pending to the thread or its group, or ignored; unknown counts as arrived", () => {
  const status = (own: string, shared: string, ignored: string) =>
    `Name:\tsh\nSigQ:\t0/1\nSigPnd:\t${own}\nShdPnd:\t${shared}\nSigBlk:\t0000000000000000\n` +
    `SigIgn:\t${ignored}\nSigCgt:\t0000000000000000\n`;
  const none = "0000000000000000";
  // SIGINT (2) is bit 1, SIGQUIT (3) bit 2, SIGRTMIN+30 (64) the top bit.
  assert.equal(signalsArrived(status(none, "0000000000000002", none), [2]), true);
  assert.equal(signalsArrived(status("0000000000000002", none, none), [2]), true);
  assert.equal(signalsArrived(status(none, none, "0000000000000002"), [2]), true);
  assert.equal(signalsArrived(status(none, none, none), [2]), false);
  assert.equal(signalsArrived(status(none, "0000000000000002", none), [2, 3]), false);
  assert.equal(signalsArrived(status(none, "0000000000000002", "0000000000000004"), [2, 3]), true);
  assert.equal(signalsArrived(status(none, "8000000000000000", none), [64]), true);
  assert.equal(signalsArrived(status(none, "8000000000000000", none), [63]), false);
  // SIGCHLD (17) pending says nothing of SIGINT.
  assert.equal(signalsArrived(status(none, "0000000000010000", none), [2]), false);
  assert.equal(signalsArrived("Name:\tsh\n", [2]), true);
});

Deno.test("untilSignalsArrive: waits for a stopped process's signal, not for one it ignores, and gives up in time", async () => {
  // A shell that ignores SIGQUIT and stops itself.
  const stopped = shell("trap '' QUIT; kill -STOP $$; exit 7");
  try {
    for (let i = 0; i < 500; i++) {
      const stat = Deno.readTextFileSync(`/proc/${stopped.held.pid}/stat`);
      if (parseStatPlace(stat)?.state === "T") break;
      await new Promise((r) => setTimeout(r, 10));
    }
    // SIGINT, sent 150 ms from now: the wait ends once it is pending, not before.
    let started = performance.now();
    setTimeout(() => Deno.kill(stopped.held.pid, "SIGINT"), 150);
    await untilSignalsArrive(stopped.held, [2], 5_000);
    const waited = performance.now() - started;
    assert.ok(waited >= 140, `returned after ${waited} ms, before the signal was sent`);
    assert.ok(waited < 4_000, `returned after ${waited} ms: the signal was not seen`);
    // Ignored: arrived at once, though the kernel dropped it.
    started = performance.now();
    await untilSignalsArrive(stopped.held, [3], 5_000);
    assert.ok(performance.now() - started < 1_000);
    // Never sent: the wait ends at its bound.
    started = performance.now();
    await untilSignalsArrive(stopped.held, [2, 15], 300);
    const bounded = performance.now() - started;
    assert.ok(bounded >= 290 && bounded < 3_000, `gave up after ${bounded} ms`);
    // Continued, it ends by the SIGINT that was pending.
    Deno.kill(stopped.held.pid, "SIGCONT");
    const end = await stopped.ended;
    assert.equal(end.exited ? "exited" : end.signal, 2);
  } finally {
    await stopped.end().catch(() => {});
  }
});
