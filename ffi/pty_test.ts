// ffi/pty.ts's pseudo-terminal pair as a terminal: closing the master hangs the slave up, as a
// terminal that goes away does (run/tty.ts ends a program whose output nobody reads so).

import assert from "node:assert/strict";
import { closeFd } from "./fd.ts";
import { holdChild, waitPid } from "./process.ts";
import { spawn } from "./spawn.ts";
import { openPty } from "./pty.ts";

/**
 * A shell, a session leader on a new pty's slave in its foreground group (its fd 0, and 1 too),
 * that sets its `trap` for SIGHUP and then runs `work` (by default, waits); `$M` is the path `mark`.
 */
async function onPty(mark: string, trap: string, work = "while :; do sleep 0.05; done") {
  const pty = openPty();
  const pid = spawn({
    path: "/bin/sh",
    argv: [
      "sh",
      "-c",
      `exec >&0 2>/dev/null; ${trap}; : > "$M.ready"; ${work}`,
    ],
    env: [`M=${mark}`],
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

Deno.test("closing the master hangs the slave up: SIGHUP to its session, and writes fail", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-hangup-" });
  try {
    // A session leader that handles SIGHUP ends with it.
    const handling = await onPty(`${dir}/handling`, `trap 'echo hup > "$M"; exit 0' HUP`);
    closeFd(handling.pty.master);
    assert.deepEqual(await waitPid(handling.child), { exited: true, code: 0 });
    assert.equal(Deno.readTextFileSync(`${dir}/handling`), "hup\n");
    // One that ignores it, writing to a pty nobody reads (full, the write blocked), sees its write
    // fail: what run/tty.ts relies on to end such a program once ww's stdout is gone. (10 MB
    // written would be a pty that never fills.)
    const ignoring = await onPty(
      `${dir}/ignoring`,
      'trap "" HUP',
      'i=0; while [ $i -lt 10000 ] && printf %1024s; do i=$((i+1)); done; echo "$i" > "$M"; exit 3',
    );
    await new Promise((r) => setTimeout(r, 200));
    closeFd(ignoring.pty.master);
    assert.deepEqual(await waitPid(ignoring.child), { exited: true, code: 3 });
    assert.notEqual(Deno.readTextFileSync(`${dir}/ignoring`), "10000\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
