// A run of a program that needs no timer (no --timeout) never reads Deno's timer globals under
// any backend: the first read loads Deno 2.9's node:timers module, ~3 ms of CPU on the path of
// every run (issue 13). tests/run/timer_trap.ts, preloaded into ww, reports any read.

import assert from "node:assert/strict";
import { REPO, runWw } from "../support/ww.ts";

const trap = `${REPO}tests/run/timer_trap.ts`;
const ww = [Deno.execPath(), "run", "-A", "--preload", trap, `${REPO}main.ts`];

for (const jail of ["none", "bwrap", "native"] as const) {
  Deno.test(`--jail=${jail}: a run without --timeout reads no timer global`, async () => {
    const r = await runWw(["run", `--jail=${jail}`, "/bin/true"], { ww });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /timer-trap/, r.stderr);
  });
}

Deno.test("the trap itself sees a run that reads a timer global (--timeout)", async () => {
  const r = await runWw(["run", "--jail=none", "--timeout=60s", "/bin/true"], { ww });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /timer-trap: setTimeout/, r.stderr);
});
