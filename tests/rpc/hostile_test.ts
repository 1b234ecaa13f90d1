// tests/rpc/hostile_test.ts — hostile bytes on fd 3 from a real child of `ww run`: ww logs one
// line, closes the RPC connection, and still reports the child's own exit status.

import assert from "node:assert/strict";
import { runWw } from "../support/ww.ts";

// A truncated frame is the program going away mid-message, not a violation: its line says the
// message was dropped, not that ww closed the connection.
const cases: [string, string, string][] = [
  ["garbage", `printf 'GET / HTTP/1.1\\r\\n\\r\\n' >&3`, "closed the RPC connection"],
  [
    "an absurd segment count",
    `printf '\\377\\377\\377\\377\\0\\0\\0\\0' >&3`,
    "closed the RPC connection",
  ],
  ["a truncated frame", `printf '\\0\\0\\0\\0\\144\\0\\0\\0abc' >&3`, "the message was dropped"],
];

for (const [what, script, says] of cases) {
  Deno.test(`${what} on fd 3: one log line, and the program's exit status is kept`, async () => {
    const r = await runWw(["run", "--with-all", "/bin/sh", "-c", `${script}; sleep 0.2; exit 3`]);
    assert.equal(r.code, 3, r.stderr);
    const lines = r.stderr.split("\n").filter((l) => l.includes(says));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^ww: \/bin\/sh: /);
  });
}

Deno.test("a program that never speaks on fd 3 gets its status and no RPC log", async () => {
  const r = await runWw(["run", "--with-all", "/bin/sh", "-c", "exit 4"]);
  assert.equal(r.code, 4);
  assert.equal(r.stderr, "");
});
