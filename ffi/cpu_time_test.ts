import assert from "node:assert/strict";
import { processCpuMs } from "./cpu_time.ts";

Deno.test("processCpuMs counts the CPU this process spends, and never goes back", () => {
  const before = processCpuMs();
  const wall = performance.now();
  let x = 0;
  while (performance.now() - wall < 60) x += Math.sqrt(x + 1);
  const after = processCpuMs();
  assert.ok(x > 0);
  // 60 ms of a busy loop on the main thread: at least most of it is this process's CPU.
  assert.ok(after - before >= 30, `${after - before} ms`);
  assert.ok(after >= before);
});
