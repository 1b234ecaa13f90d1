// tests/rpc/exec_end_test.ts — a program a guest starts through Executor.start and that is still
// being started when the guest's connection ends is stopped like any other it started (README:
// "get SIGTERM"), not left running for as long as ww lives (or longer: --jail=none has no
// supervisor to end it), and ww waits for it to end.

import assert from "node:assert/strict";
import { dirname } from "node:path";
import { processesWithArg } from "../support/procs.ts";
import { wwCommand } from "../support/ww.ts";
import { buildGuest } from "./build.ts";

const guest = await buildGuest();

for (const jail of ["none", "bwrap", "native"]) {
  Deno.test(`${jail}: a start in flight when its guest exits is stopped, and ww waits for it`, async () => {
    const tmp = await Deno.makeTempDir({ prefix: "ww-exec-end-" });
    // A number no other process has on its command line.
    const tag = `300.${crypto.getRandomValues(new Uint32Array(1))[0]}`;
    const [cmd, ...args] = wwCommand();
    // The guest A starts guest B (with the executor), which starts sleep and exits at once, while
    // sleep is still being started; A then exits, and its shell keeps ww alive 3 s more.
    const ww = new Deno.Command(cmd, {
      args: [
        ...args,
        "run",
        `--jail=${jail}`,
        "--with-exec",
        ...(jail === "none" ? [] : ["--ro-bind", dirname(guest)]),
        "/bin/sh",
        "-c",
        `"$0" start-exec "$0" start-then-exit /bin/sleep ${tag}; sleep 3`,
        guest,
      ],
      env: { TMPDIR: tmp },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(ww.stderr).text();
    const lines = ww.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    try {
      while (!out.includes('"alive":true')) {
        const { value, done } = await lines.read();
        if (done) throw new Error(`the guest ended early: ${out} ${await stderr}`);
        out += value;
      }
      await new Promise((r) => setTimeout(r, 500));
      const running = processesWithArg(tag);
      for (let r = await lines.read(); !r.done; r = await lines.read()) out += r.value;
      const status = await ww.status;
      const left = processesWithArg(tag);
      for (const pid of left) Deno.kill(pid, "SIGKILL");
      assert.equal(status.code, 0, await stderr);
      assert.match(out, /\{"code":0\}/, "B exited 0");
      assert.deepEqual(running, [], `B's program runs on after B's end: ${await stderr}`);
      assert.deepEqual(left, [], "B's program outlived ww");
      assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), [], "left in TMPDIR");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}
