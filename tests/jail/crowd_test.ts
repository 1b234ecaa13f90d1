// No jail starves another (issue 11): RLIMIT_NPROC counts every process of a host uid, so when
// every jail ran as 65534 one jail holding its whole --nproc budget left the others none, and
// they failed to start (bwrap: "Creating new namespace failed: Resource temporarily
// unavailable"). With a leased uid per jail, 20 jails start beside a full one, and beside another
// that filled its in-memory /tmp (--tmp-size: a tmpfs of its own). The jails are started through
// the library (mod.ts) from this one process: 20 ww processes would cost ~1 GB.

import assert from "node:assert/strict";
import {
  type Child,
  DEFAULT_IPFS_API,
  DEFAULT_LIMITS,
  DEFAULT_POLICY,
  type RunConfig,
  startProgram,
} from "../../mod.ts";
import { hostileBinary, waitFor } from "./hostile.ts";
import { processesOf, processesWithArg } from "../support/procs.ts";

const NPROC = 50;
const CROWD = 20;

const FILL_MIB = 8;

function config(args: string[], program = "/bin/sh", tmpBytes?: number): RunConfig {
  const limits = { ...DEFAULT_LIMITS, processes: NPROC, ...(tmpBytes ? { tmpBytes } : {}) };
  return {
    program,
    args,
    fds: [],
    env: {},
    ipfsApi: DEFAULT_IPFS_API,
    jail: { ...DEFAULT_POLICY, backend: "bwrap", limits },
  };
}

Deno.test({
  name:
    `${CROWD} jails start and succeed at once while one holds its whole --nproc ${NPROC} and another filled its /tmp`,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const marker = crypto.randomUUID();
    // Sleepers until fork fails: the holder's uid then has NPROC processes.
    const holder = await startProgram(config(["fork-hold", marker], await hostileBinary()));
    // Writes until its /tmp is full (dd: ENOSPC at --tmp-size, not at 4 times it), then waits,
    // showing `filled` in its argv.
    const filled = `filled-${marker}`;
    const filler = await startProgram(config(
      [
        "-c",
        `dd if=/dev/zero of=/tmp/fill bs=1M count=${4 * FILL_MIB} 2>/dev/null; ` +
        `n=$(du -m /tmp/fill | cut -f1); [ "$n" -ge ${
          FILL_MIB - 1
        } ] && [ "$n" -le ${FILL_MIB} ] && ` +
        `exec /bin/sh -c 'sleep 60' ${filled}`,
      ],
      "/bin/sh",
      FILL_MIB * 2 ** 20,
    ));
    const crowd: Child[] = [];
    try {
      assert.ok(
        await waitFor(() => processesWithArg(filled).length > 0, 20_000),
        "the filler never filled its /tmp",
      );
      let uid = -1;
      assert.ok(
        await waitFor(() => {
          const pid = processesWithArg(marker).find((p) => Deno.statSync(`/proc/${p}`).uid !== 0);
          if (pid !== undefined) uid = Deno.statSync(`/proc/${pid}`).uid as number;
          return uid > 0 && processesOf(uid) >= NPROC;
        }, 20_000),
        `the holder's uid ${uid} never reached ${NPROC} processes (it has ${processesOf(uid)})`,
      );

      const alone = performance.now();
      const one = await startProgram(config(["-c", "exit 0"]));
      assert.equal((await one.status).code, 0);
      const aloneMs = performance.now() - alone;

      const started = performance.now();
      const starts = await Promise.allSettled(
        Array.from({ length: CROWD }, async () => {
          const t = performance.now();
          // Each writes to its own /tmp: the filler's full tmpfs is not theirs.
          const child = await startProgram(
            config(["-c", "dd if=/dev/zero of=/tmp/x bs=1M count=1 2>/dev/null && exit 7"]),
          );
          crowd.push(child);
          const status = await child.status;
          return { code: status.code, ms: performance.now() - t };
        }),
      );
      const failed = starts.filter((s) => s.status === "rejected").map((s) =>
        String((s as PromiseRejectedResult).reason)
      );
      assert.deepEqual(failed, [], `${failed.length} of ${CROWD} jails failed to start`);
      const done = starts.map((s) =>
        (s as PromiseFulfilledResult<{ code: number; ms: number }>).value
      );
      assert.deepEqual(done.map((d) => d.code), Array(CROWD).fill(7));
      // The holder's budget is still full: the crowd did not borrow from it, nor it from them.
      assert.ok(processesOf(uid) >= NPROC, `holder now has ${processesOf(uid)} processes`);
      const ms = done.map((d) => d.ms).sort((a, b) => a - b);
      console.log(
        `one jail alone: ${aloneMs.toFixed(0)} ms; ${CROWD} at once: median ${
          ms[CROWD >> 1].toFixed(0)
        } ms, worst ${ms[CROWD - 1].toFixed(0)} ms, all done in ${
          (performance.now() - started).toFixed(0)
        } ms`,
      );
    } finally {
      for (const c of crowd) c.kill("SIGKILL");
      holder.kill("SIGKILL");
      filler.kill("SIGKILL");
      await holder.status.catch(() => {});
      await filler.status.catch(() => {});
      await Promise.allSettled(crowd.map((c) => c.status));
    }
  },
});
