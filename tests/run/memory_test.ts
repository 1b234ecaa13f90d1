// A service that runs many programs in the native jail (issue 16): each run's garbage is small
// (V8's young generation grows with it, and a service's RSS with that), and runs keep nothing
// once done. Measured in a process of its own (memory_probe.ts): `deno test` runs every test
// module in one process.

import assert from "node:assert/strict";
import { REPO } from "../support/ww.ts";

const MORE = 300;

Deno.test("runs in the native jail allocate under 190 KiB each, and 300 more runs keep under 1 MiB of heap", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      `${REPO}tests/run/memory_probe.ts`,
      "100",
      "100",
      String(MORE),
    ],
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const { allocatedPerRun, keptBefore, keptAfter } = JSON.parse(
    new TextDecoder().decode(out.stdout).trim().split("\n").pop()!,
  );
  // ~140 KiB as root (which leases a uid per run, reading /etc/passwd and /etc/group); 254 KiB
  // before the plan's encoder, the passwd parser, the limits table and the path kinds (ffi/stat.ts)
  // stopped making garbage.
  assert.ok(allocatedPerRun < 190 * 1024, `${Math.round(allocatedPerRun / 1024)} KiB a run`);
  // ~1 KiB a run here, falling to ~0.1 KiB after 500 runs (feedback and code V8 keeps while it
  // warms up); a run that kept its plan (~5 KiB with its seccomp program), streams or listeners
  // would keep more.
  const kept = keptAfter - keptBefore;
  assert.ok(kept < 1024 * 1024, `${MORE} runs kept ${Math.round(kept / 1024)} KiB`);
});
