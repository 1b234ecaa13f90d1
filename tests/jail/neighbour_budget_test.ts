// Why the native memory-bomb test once failed in a full parallel run, and that it cannot again
// (issue 14). RLIMIT_NPROC counts every process of a host uid, and hostile forks each probe. When
// every jail ran as host uid 65534, a neighbour's fork bomb (limits_test.ts, 512 processes) filled
// that uid's budget: the memory-bomb probe's own fork failed with EAGAIN, hostile then reported a
// probe that "ended with status 0 before reporting", and the test failed on /then malloc failed/.
// Now, as root, each jail leases a host uid of its own (jail/ids.ts), so a full neighbour costs it
// nothing. The control pins both jails to one explicit uid and shows the old failure, so the test
// would notice the leases stop separating them.

import assert from "node:assert/strict";
import { processesOf, processesWithArg } from "../support/procs.ts";
import { wwCommand } from "../support/ww.ts";
import { hostileBinary, outcome, runHostile, spawnHostile, waitFor } from "./hostile.ts";

const NPROC = 20;
const MIB = 2 ** 20;
// Outside the lease range (70000-79999) and unused by the other tests' explicit ids.
const SHARED_UID = "65529";

const tmpDir = Deno.makeTempDirSync({ prefix: "wwtest-budget-" });
Deno.chmodSync(tmpDir, 0o1777);
globalThis.addEventListener("unload", () => Deno.removeSync(tmpDir, { recursive: true }));

/** A native jail (`identity` flags) that forks sleepers until its --nproc budget is full. */
async function fullNeighbour(identity: string[]): Promise<Deno.ChildProcess> {
  const marker = crypto.randomUUID();
  const [cmd, ...args] = wwCommand();
  const ww = new Deno.Command(cmd, {
    args: [
      ...args,
      "run",
      "--jail=native",
      "--nproc",
      String(NPROC),
      ...identity,
      await hostileBinary(),
      "fork-hold",
      marker,
    ],
    env: { TMPDIR: tmpDir },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let uid = -1;
  const full = await waitFor(() => {
    const pid = processesWithArg(marker).find((p) => p !== ww.pid);
    if (pid === undefined) return false;
    uid = Deno.statSync(`/proc/${pid}`).uid ?? -1;
    return uid > 0 && processesOf(uid) >= NPROC;
  }, 20_000);
  if (!full) await end(ww);
  assert.ok(full, `the neighbour (uid ${uid}) never reached ${NPROC} processes`);
  return ww;
}

async function end(ww: Deno.ChildProcess): Promise<void> {
  ww.kill("SIGKILL");
  await ww.status;
}

function memoryBomb(identity: string[]) {
  return runHostile({
    flags: ["--jail=native", "--nproc", String(NPROC), "--memory", "64M", ...identity],
    probes: ["memory_bomb"],
    params: { memory: String(64 * MIB) },
    tmpDir,
  });
}

Deno.test("native jail: a memory bomb beside a neighbour at its full --nproc still runs (each leases its own uid)", async () => {
  const neighbour = await fullNeighbour([]);
  try {
    const r = await memoryBomb([]);
    const o = outcome(r, "memory_bomb");
    assert.equal(o.escaped, false, o.detail);
    assert.match(o.detail, /then malloc failed/);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    await end(neighbour);
  }
});

// Before the stage set RLIMIT_NPROC ahead of the uid change, the second jail's program started
// past the budget, and only its probe's fork failed ("fork (to run the probe): EAGAIN"); now it
// does not start, as bwrap's would not (its fork is refused).
Deno.test("native jail control: two jails pinned to one uid share its budget: the second one cannot start", async () => {
  const shared = ["--uid", SHARED_UID, "--gid", SHARED_UID];
  const neighbour = await fullNeighbour(shared);
  try {
    const started = await spawnHostile({
      flags: ["--jail=native", "--nproc", String(NPROC), "--memory", "64M", ...shared],
      probes: ["memory_bomb"],
      params: { memory: String(64 * MIB) },
      tmpDir,
    });
    const r = await started.process.output();
    const stderr = new TextDecoder().decode(r.stderr);
    assert.equal(r.code, 125, stderr);
    assert.match(
      stderr,
      new RegExp(
        `^ww: --nproc ${NPROC}: uid ${SHARED_UID}, whose processes the limit counts, already runs \\d+ processes or threads`,
        "m",
      ),
    );
  } finally {
    await end(neighbour);
    // The stage's supervisor ends the neighbour's sleepers once ww is gone.
    assert.ok(
      await waitFor(() => processesOf(Number(SHARED_UID)) === 0, 10_000),
      "the neighbour's sleepers outlived it",
    );
  }
});
