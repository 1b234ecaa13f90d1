// Signals sent to `ww run` reach the program, and ww exits with the program's status only after
// the program has ended and been reaped.

import assert from "node:assert/strict";
import { reportFds } from "../support/children.ts";
import { processesWithArg } from "../support/procs.ts";
import { JAIL_MODES, jailFlags, wwCommand } from "../support/ww.ts";

const child = await reportFds();

for (const jail of JAIL_MODES) {
  for (const [signal, number] of [["SIGTERM", 15], ["SIGINT", 2]] as const) {
    Deno.test(`[jail=${jail}] ${signal} sent to ww is forwarded, and ww exits after the program is reaped`, async () => {
      const tag = `tag=${crypto.randomUUID()}`;
      const [cmd, ...args] = wwCommand();
      const ww = new Deno.Command(cmd, {
        args: [...args, "run", ...jailFlags(jail), child, tag, "wait-signal"],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(ww.stderr).text();
      const lines = ww.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = "";
      while (!out.includes('{"ready":')) {
        const { value, done } = await lines.read();
        if (done) throw new Error(`ww ended before the program was ready: ${await stderr}`);
        out += value;
      }
      // ww installs its signal handlers right after starting the program; give it a moment.
      await new Promise((r) => setTimeout(r, 200));
      const sent = performance.now();
      ww.kill(signal);
      const status = await ww.status;
      const waited = performance.now() - sent;
      // Exactly when ww has exited, nothing of the program may be left, not even a zombie.
      const left = processesWithArg(tag);
      for (let r = await lines.read(); !r.done; r = await lines.read()) out += r.value;

      assert.deepEqual(left, [], "the program outlived ww");
      assert.equal(status.code, 100 + number, await stderr);
      assert.match(out, new RegExp(`\\{"signal":${number}\\}`));
      assert.ok(waited >= 300, `ww exited ${waited} ms after ${signal}, before the program did`);
    });
  }
}
