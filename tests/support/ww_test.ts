// tests/support/ww_test.ts — the suite's bound on one run: a process that does not end within it
// is killed and its test fails, naming it; one that ends in time leaves no timer behind.

import assert from "node:assert/strict";
import { withinDeadline } from "./ww.ts";

Deno.test("withinDeadline: a process that does not end in time is killed, and the error names it", async () => {
  const proc = new Deno.Command("/bin/sleep", { args: ["30"] }).spawn();
  const started = performance.now();
  await assert.rejects(
    withinDeadline(proc.status, "sleep 30", () => proc.kill("SIGKILL"), 200),
    /^Error: sleep 30: did not end within 0\.2 s; killed$/,
  );
  const status = await proc.status;
  assert.equal(status.signal, "SIGKILL");
  assert.ok(performance.now() - started < 10_000, "the deadline did not cut the wait short");
});

Deno.test("withinDeadline: what ends in time is its value, and stop is not called", async () => {
  let stopped = false;
  const proc = new Deno.Command("/bin/true").spawn();
  const status = await withinDeadline(proc.status, "true", () => (stopped = true), 60_000);
  assert.equal(status.code, 0);
  assert.equal(stopped, false);
});
