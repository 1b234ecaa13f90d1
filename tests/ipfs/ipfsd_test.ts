// tests/ipfs/ipfsd_test.ts — the test node of tests/ipfs/ipfsd.ts leaves nothing behind, even when
// the test that started it fails before it stops it.

import assert from "node:assert/strict";
import { processState } from "../support/procs.ts";
import { REPO, withinDeadline } from "../support/ww.ts";

Deno.test("a test node its test never stops goes when the test file ends, its repository too", async () => {
  const tmp = Deno.makeTempDirSync({ prefix: "wwtest-ipfsd-unload-" });
  try {
    const file = `${tmp}/leaves_its_node_test.ts`;
    Deno.writeTextFileSync(
      file,
      [
        `import { startIpfsd } from ${JSON.stringify(`${REPO}tests/ipfs/ipfsd.ts`)};`,
        'Deno.test("fails before it stops its node", async () => {',
        "  const node = await startIpfsd();",
        "  console.log(`PID=${node.pid}`);",
        '  throw new Error("as it should");',
        "});",
      ].join("\n"),
    );
    // Its node's repository goes in TMPDIR: this test's own directory.
    const proc = new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--no-check", file],
      env: { TMPDIR: tmp, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const out = await withinDeadline(proc.output(), "deno test", () => proc.kill("SIGKILL"));
    const stdout = new TextDecoder().decode(out.stdout);
    assert.notEqual(out.code, 0, stdout);
    const pid = /PID=(\d+)/.exec(stdout)?.[1];
    assert.ok(pid, `the node never started:\n${stdout}${new TextDecoder().decode(out.stderr)}`);
    // Killed as the test's process ended; gone a moment later (reaped by init), or a zombie.
    const running = () => !["gone", "Z"].includes(processState(Number(pid)));
    for (let i = 0; i < 100 && running(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(running(), false, `the node (pid ${pid}) runs on`);
    assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), ["leaves_its_node_test.ts"]);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});
