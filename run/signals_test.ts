import assert from "node:assert/strict";
import { FORWARDED_SIGNALS, jobControlSignal, SIGNALS } from "./signals.ts";

Deno.test("a jailed program's SIGTSTP is SIGSTOP, which its orphaned process group cannot discard", () => {
  for (const backend of ["bwrap", "native"]) {
    assert.equal(jobControlSignal("SIGTSTP", backend), "SIGSTOP");
  }
  assert.equal(jobControlSignal("SIGTSTP", "none"), "SIGTSTP");
  for (const sig of FORWARDED_SIGNALS.filter((s) => s !== "SIGTSTP")) {
    for (const backend of ["bwrap", "native", "none"]) {
      assert.equal(jobControlSignal(sig, backend), sig);
    }
  }
  assert.ok(FORWARDED_SIGNALS.includes("SIGTSTP") && FORWARDED_SIGNALS.includes("SIGCONT"));
  assert.equal(SIGNALS.SIGSTOP, 19);
});
