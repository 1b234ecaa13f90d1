// tests/rpc/exec_identity_test.ts — a program a guest starts with Executor.start runs as its
// starter's host id (ww as root leases one per run): RLIMIT_NPROC counts per uid, and a fresh id
// for each start gave each started program a whole --nproc budget of its own (3 starts under
// --nproc 40 ran 114 processes).

import assert from "node:assert/strict";
import { dirname } from "node:path";
import { processesWithArg } from "../support/procs.ts";
import { wwCommand } from "../support/ww.ts";
import { buildGuest } from "./build.ts";

const guest = await buildGuest();

/** The sleeps with `tag` (not the guest, whose own arguments name it too). */
function sleeps(tag: string): number[] {
  return processesWithArg(tag).filter((pid) => {
    try {
      return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0")[0].endsWith("sleep");
    } catch {
      return false;
    }
  });
}

/** The real host uid of process `pid`. */
function hostUid(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
}

for (const jail of ["bwrap", "native"]) {
  Deno.test({
    name: `${jail}: a program started with Executor.start runs as its starter's host id`,
    ignore: Deno.uid() !== 0,
    fn: async () => {
      const id = crypto.getRandomValues(new Uint32Array(1))[0];
      const [parentTag, childTag] = [`5.${id}`, `3.${id}`];
      const [cmd, ...args] = wwCommand();
      const ww = new Deno.Command(cmd, {
        args: [
          ...args,
          "run",
          `--jail=${jail}`,
          "--with-exec",
          "--ro-bind",
          dirname(guest),
          "/bin/sh",
          "-c",
          `/bin/sleep ${parentTag} & exec "$0" start /bin/sleep ${childTag}`,
          guest,
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      let parent: number[] = [];
      let child: number[] = [];
      const until = Date.now() + 15_000;
      while ((parent.length === 0 || child.length === 0) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 50));
        [parent, child] = [sleeps(parentTag), sleeps(childTag)];
      }
      const uids = [...parent, ...child].map(hostUid);
      const { code, stderr } = await ww.output();
      const said = new TextDecoder().decode(stderr);
      assert.equal(parent.length, 1, `the starter's sleep: ${said}`);
      assert.equal(child.length, 1, `the started sleep: ${said}`);
      assert.equal(uids[0], uids[1], `host uids ${uids}`);
      assert.ok(uids[0] >= 70000 && uids[0] <= 79999, `a leased id: ${uids[0]}`);
      assert.equal(code, 0, said);
    },
  });
}
