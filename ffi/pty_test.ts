// ffi/pty.ts's hangup of a pty's foreground process group: only a group whose leader the caller
// finds among its own processes, since the number TIOCGPGRP gives may name a host process by then.

import assert from "node:assert/strict";
import { closeFd } from "./fd.ts";
import { HeldProcess, holdChild, waitPid } from "./process.ts";
import { spawn } from "./spawn.ts";
import { hangUp, openPty } from "./pty.ts";

/** A session leader on a new pty's slave, in its foreground group, that records a SIGHUP. */
async function onPty(mark: string) {
  const pty = openPty();
  const pid = spawn({
    path: "/bin/sh",
    argv: [
      "sh",
      "-c",
      `exec 2>/dev/null; trap 'echo hup > ${mark}; exit 0' HUP; : > ${mark}.ready; while :; do sleep 0.05; done`,
    ],
    env: [],
    cwd: "/",
    fdSteps: [],
    newSession: true,
    controllingTerminal: pty.name,
  });
  const child = holdChild(pid);
  // The shell is the foreground group once it has the terminal as its controlling one.
  for (let i = 0;; i++) {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
    const foreground = Number(stat[4]) !== 0 && Number(stat[5]) === pid; // tty_nr set, tpgid = pid
    let trapped = true;
    try {
      Deno.statSync(`${mark}.ready`);
    } catch {
      trapped = false;
    }
    if (foreground && trapped) break;
    if (i === 300) throw new Error("the shell never set its trap in the pty's foreground group");
    await new Promise((r) => setTimeout(r, 10));
  }
  return { pty, child };
}

Deno.test("hangUp signals the foreground group only when its leader is one of the caller's", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-hangup-" });
  try {
    // Its number names a process the caller does not count as its own (as one that took a gone
    // group's number would be): nothing is sent.
    const stranger = await onPty(`${dir}/stranger`);
    hangUp(stranger.pty.master, () => undefined);
    await new Promise((r) => setTimeout(r, 300));
    assert.throws(() => Deno.statSync(`${dir}/stranger`), Deno.errors.NotFound);
    stranger.child.signal(9);
    await waitPid(stranger.child);
    closeFd(stranger.pty.master);
    // Its leader is the caller's: SIGHUP reaches the group.
    const own = await onPty(`${dir}/own`);
    hangUp(own.pty.master, (pid) => HeldProcess.open(pid));
    const status = await waitPid(own.child);
    assert.deepEqual(status, { exited: true, code: 0 });
    assert.equal(Deno.readTextFileSync(`${dir}/own`), "hup\n");
    closeFd(own.pty.master);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
