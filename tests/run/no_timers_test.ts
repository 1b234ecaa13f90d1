// A run of a program that never speaks on fd 3 never reads Deno's timer globals, under any
// backend, --timeout or not: the first read loads Deno 2.9's node:timers module, ~4 ms on the path
// of every run (issue 13). ww's timers are the runtime's own (ffi/ops.ts). tests/run/timer_trap.ts,
// preloaded into ww, reports any read.

import assert from "node:assert/strict";
import { REPO, runWw } from "../support/ww.ts";

const trap = `${REPO}tests/run/timer_trap.ts`;
const ww = [Deno.execPath(), "run", "-A", "--preload", trap, `${REPO}main.ts`];

for (const jail of ["none", "bwrap", "native"] as const) {
  for (const flags of [[], ["--timeout=60s"]]) {
    Deno.test(`${[`--jail=${jail}`, ...flags].join(" ")}: a run reads no timer global`, async () => {
      const r = await runWw(["run", `--jail=${jail}`, ...flags, "/bin/true"], { ww });
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /timer-trap/, r.stderr);
    });
  }
}

Deno.test("the trap itself reports a read of setTimeout", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-timer-trap-" });
  try {
    const script = `${dir}/uses_timer.ts`;
    Deno.writeTextFileSync(script, "clearTimeout(setTimeout(() => {}, 1));\n");
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--preload", trap, script],
      stdin: "null",
    }).output();
    assert.equal(r.code, 0);
    assert.match(new TextDecoder().decode(r.stderr), /^timer-trap: setTimeout$/m);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
