// 200 runs in a row through the library leave nothing behind: no descriptor, no work directory,
// no child process or zombie. The runs happen in a process of their own (leak_probe.ts), since
// `deno test` runs every test module in one process.

import assert from "node:assert/strict";
import { reportFds } from "../support/children.ts";
import { privateTmp } from "../support/procs.ts";
import { JAIL_MODES, REPO } from "../support/ww.ts";

const child = await reportFds();
const RUNS = 200;

for (const jail of JAIL_MODES) {
  for (const grants of [false, true]) {
    const withGrants = grants ? " with --listen, --connect and --open grants" : "";
    Deno.test(`[jail=${jail}] ${RUNS} runs${withGrants} leave no descriptor, work directory or zombie behind`, async () => {
      const tmp = privateTmp();
      try {
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", `${REPO}tests/run/leak_probe.ts`, child, String(RUNS), jail],
          env: { TMPDIR: tmp, ...(grants ? { WW_PROBE_GRANTS: "1" } : {}) },
          stdin: "null",
        }).output();
        const stderr = new TextDecoder().decode(out.stderr);
        assert.equal(out.code, 0, stderr);
        const { before, after, outcomes } = JSON.parse(
          new TextDecoder().decode(out.stdout).trim().split("\n").pop()!,
        );
        const expected: Record<string, number> = {};
        for (let i = 0; i < RUNS; i += 4) expected[`exit ${i % 256}`] = 1;
        expected[`killed ${128 + 9}`] = RUNS / 4;
        // A grant that cannot be handed over: a descriptor that is not open, or (with ww's own
        // grants) one ww cannot open; each a SetupError of its own kind (issue 16).
        expected[grants ? "refused GrantError" : "refused ClosedFdError"] = RUNS / 4;
        expected["refused NotFoundError"] = RUNS / 4;
        assert.deepEqual(outcomes, expected);
        assert.deepEqual(after.fds, before.fds, "descriptors leaked");
        assert.deepEqual(after.dirs, [], "work directories left behind");
        assert.deepEqual(after.children, [], "child processes or zombies left behind");
        assert.deepEqual(before.children, []);
      } finally {
        Deno.removeSync(tmp, { recursive: true });
      }
    });
  }
}
