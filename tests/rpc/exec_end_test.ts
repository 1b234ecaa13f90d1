// tests/rpc/exec_end_test.ts — a program a guest starts through Executor.start and that is still
// being started when the guest's connection ends is stopped like any other it started (README:
// "get SIGTERM"), not left running for as long as ww lives (or longer: --jail=none has no
// supervisor to end it), and ww waits for it to end.

import assert from "node:assert/strict";
import { dirname } from "node:path";
import { processesWithArg } from "../support/procs.ts";
import { startWw } from "../support/ww.ts";
import { buildGuest } from "./build.ts";

const guest = await buildGuest();

for (const jail of ["none", "bwrap", "native"]) {
  Deno.test(`${jail}: a start in flight when its guest exits is stopped, and ww waits for it`, async () => {
    const tmp = await Deno.makeTempDir({ prefix: "ww-exec-end-" });
    // A number no other process has on its command line.
    const tag = `300.${crypto.getRandomValues(new Uint32Array(1))[0]}`;
    // The guest A starts guest B (with the executor), which starts sleep and exits at once, while
    // sleep is still being started; A then exits, and its shell keeps ww alive 3 s more.
    const ww = startWw(
      [
        `--jail=${jail}`,
        "--with-exec",
        ...(jail === "none" ? [] : ["--ro-bind", dirname(guest)]),
        "/bin/sh",
        "-c",
        `"$0" start-exec "$0" start-then-exit /bin/sleep ${tag}; sleep 3`,
        guest,
      ],
      { TMPDIR: tmp },
      "stdout",
    );
    try {
      const out = await ww.until(/"alive":true/);
      await new Promise((r) => setTimeout(r, 500));
      const running = processesWithArg(tag);
      const { code, stderr } = await ww.end();
      const left = processesWithArg(tag);
      for (const pid of left) Deno.kill(pid, "SIGKILL");
      assert.equal(code, 0, stderr);
      assert.match(out, /\{"code":0\}/, "B exited 0");
      assert.deepEqual(running, [], `B's program runs on after B's end: ${stderr}`);
      assert.deepEqual(left, [], "B's program outlived ww");
      assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), [], "left in TMPDIR");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}

// B's own connection was served from a promise nobody awaited: when B ended, ww stopped what B had
// started (SIGTERM, SIGKILL 2 s later) but did not wait for it, so a program that ignores SIGTERM
// outlived ww under --jail=none (where no supervisor or death signal ends it either).
for (const jail of ["none", "bwrap", "native"]) {
  Deno.test(`${jail}: what a started program started is stopped before ww ends, even if it ignores SIGTERM`, async () => {
    const tmp = await Deno.makeTempDir({ prefix: "ww-exec-end-" });
    const tag = `301.${crypto.getRandomValues(new Uint32Array(1))[0]}`;
    // A starts B with the executor; B starts a sleep that ignores SIGTERM, and exits once it has
    // had time to ignore it; so does A.
    const ww = startWw(
      [
        `--jail=${jail}`,
        "--with-exec",
        ...(jail === "none" ? [] : ["--ro-bind", dirname(guest)]),
        guest,
        "start-exec",
        guest,
        "start-pause-exit",
        "300",
        "/bin/sh",
        "-c",
        `trap '' TERM; exec /bin/sleep ${tag} >/dev/null 2>&1`,
      ],
      { TMPDIR: tmp },
      "stdout",
    );
    try {
      const { code, stderr } = await ww.end();
      const left = processesWithArg(tag);
      for (const pid of left) Deno.kill(pid, "SIGKILL");
      assert.equal(code, 0, stderr);
      assert.deepEqual(left, [], "the sleep outlived ww");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}

// Starts still looking up their grants when the guest's connection ended were missed: ww neither
// stopped nor waited for them, and under --jail=none the last of five starts a guest sent as it
// exited ran on after ww, its work directory left in TMPDIR.
for (const jail of ["none", "bwrap", "native"]) {
  Deno.test(`${jail}: starts that arrive with the guest's end are stopped, and ww waits for them`, async () => {
    const tmp = await Deno.makeTempDir({ prefix: "ww-exec-end-" });
    const tag = `302.${crypto.getRandomValues(new Uint32Array(1))[0]}`;
    const ww = startWw(
      [
        `--jail=${jail}`,
        "--with-exec",
        ...(jail === "none" ? [] : ["--ro-bind", dirname(guest)]),
        guest,
        "starts-then-exit",
        "5",
        "/bin/sh",
        "-c",
        // The tag is sleep's own argument (sleep adds it up): a survivor is found by it, and
        // does not hold ww's stdout open.
        `trap '' TERM; exec /bin/sleep 30 "$0" >/dev/null 2>&1`,
        tag,
      ],
      { TMPDIR: tmp },
      "stdout",
    );
    try {
      const { code, stderr } = await ww.end();
      const left = processesWithArg(tag);
      for (const pid of left) Deno.kill(pid, "SIGKILL");
      assert.equal(code, 0, stderr);
      assert.deepEqual(left, [], `a start outlived ww: ${stderr}`);
      assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), [], "left in TMPDIR");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}

// A hostile review: each program ignored SIGTERM, started the next with the executor it was given,
// and exited soon after. Stopping one generation at a time, each given 2 s, let it start the next
// meanwhile, so the run never ended (not by --timeout, SIGTERM or SIGINT) and ww's memory grew. A
// program being ended now starts nothing, and all it started is ended at once, at every depth.
for (const jail of ["none", "bwrap", "native"]) {
  Deno.test(`${jail}: a chain of programs that each start the next as they end cannot outlive the run`, async () => {
    const tmp = await Deno.makeTempDir({ prefix: "ww-exec-end-" });
    const tag = `302.${crypto.getRandomValues(new Uint32Array(1))[0]}`;
    const ww = startWw(
      [
        `--jail=${jail}`,
        "--with-exec",
        ...(jail === "none" ? [] : ["--ro-bind", dirname(guest)]),
        guest,
        "worm",
        guest,
        tag,
        "0",
      ],
      { TMPDIR: tmp },
      "stdout",
    );
    // Without the fix the run never ends: killed here, it fails below.
    const timer = setTimeout(() => ww.proc.kill("SIGKILL"), 30_000);
    try {
      const started = performance.now();
      const { code, stdout, stderr } = await ww.end();
      const seconds = (performance.now() - started) / 1000;
      const left = processesWithArg(tag);
      for (const pid of left) Deno.kill(pid, "SIGKILL");
      const generations = stdout.match(/"gen"/g)?.length ?? 0;
      assert.equal(code, 0, stderr);
      assert.ok(seconds < 15, `the run took ${seconds.toFixed(1)} s, ${generations} generations`);
      assert.match(stdout, /"refused"/, "no generation was refused a start");
      assert.deepEqual(left, [], "a generation outlived ww");
      assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), [], "left in TMPDIR");
    } finally {
      clearTimeout(timer);
      await Deno.remove(tmp, { recursive: true });
    }
  });
}
