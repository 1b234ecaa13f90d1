// run/procfs_test.ts — holdInTree holds a process only while /proc shows it in the given tree, and
// programInJail finds the first child of a jail's parent process once it has executed, or nothing
// once the parent has ended.

import assert from "node:assert/strict";
import { holdChild, waitPid } from "../ffi/process.ts";
import { spawn } from "../ffi/spawn.ts";
import { holdInTree, programInJail } from "./procfs.ts";

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
