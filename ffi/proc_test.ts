// The owners of /proc/<pid> as the lease reads them: the same ids Deno's own stat sees, including
// a process that runs as an id no account has, and not once that process has ended.

import assert from "node:assert/strict";
import { processOwnerIds } from "./proc.ts";

/** The same question answered with Deno's file APIs, one stat per process. */
function ownersByDeno(): Set<number> {
  const ids = new Set<number>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const info = Deno.statSync(`/proc/${entry.name}`);
      ids.add(info.uid!);
      ids.add(info.gid!);
    } catch { /* ended meanwhile */ }
  }
  return ids;
}

Deno.test("processOwnerIds sees this process's ids and those Deno's stat sees", () => {
  const ids = processOwnerIds();
  assert.ok(ids.includes(Deno.uid()!));
  assert.ok(ids.includes(Deno.gid()!));
  // Other processes come and go between the two scans; a long-lived one, pid 1, does not.
  const init = Deno.statSync("/proc/1");
  assert.ok(ids.includes(init.uid!) && ids.includes(init.gid!));
  for (const id of ids) assert.equal(typeof id, "number");
  // Every id both scans could see: the scans differ only by processes that started or ended.
  const common = [...ownersByDeno()].filter((id) => ids.includes(id));
  assert.ok(common.length >= 1);
});

Deno.test({
  name: "processOwnerIds sees a process of an unused uid and gid while it runs, and not after",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    // Ids no account, group or other test uses (the jails lease from 70000-79999).
    const uid = 61_237;
    const gid = 61_239;
    assert.equal(processOwnerIds().includes(uid), false);
    const child = new Deno.Command("setpriv", {
      args: [`--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "sleep", "30"],
      stdin: "null",
    }).spawn();
    try {
      // setpriv changes its ids before it executes sleep.
      let seen = false;
      for (let i = 0; i < 200 && !seen; i++) {
        const ids = processOwnerIds();
        seen = ids.includes(uid) && ids.includes(gid);
        if (!seen) await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(seen, "the process of uid 61237 was not seen");
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
    assert.equal(processOwnerIds().includes(uid), false);
    assert.equal(processOwnerIds().includes(gid), false);
  },
});
