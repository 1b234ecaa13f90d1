// Nothing a jailed program starts outlives ww: a sleeper it double-forks into a new session dies
// when ww is SIGKILLed (ww cannot clean up then; the kernel and bwrap's --die-with-parent must)
// and when the program itself exits. Unjailed, the same sleeper survives both, which shows the
// test would notice a survivor.

import assert from "node:assert/strict";
import { join } from "node:path";
import { privateTmp, processesWithArg } from "../support/procs.ts";
import { killWwRepeatedly } from "./kill_ww.ts";
import { killMarked, parseReport, type RunningHostile, spawnHostile, waitFor } from "./hostile.ts";

const tmpDir = Deno.makeTempDirSync({ prefix: "wwtest-lifetime-" });
Deno.chmodSync(tmpDir, 0o755); // the beacon dirs below are bound into a jail that runs as nobody
globalThis.addEventListener("unload", () => Deno.removeSync(tmpDir, { recursive: true }));

/** The kernel has up to this long to take the jail down after ww dies. */
const GONE_WITHIN_MS = 3000;

interface Sleeper {
  readonly run: RunningHostile;
  readonly beacon: string;
  readonly marker: string;
  /** hostile's stdout so far. */
  readonly stdout: ReadableStreamDefaultReader<string>;
}

// Starts hostile with the outlive probe; resolves once its report is out and the sleeper writes.
async function startSleeper(jail: "default" | "none", hold: boolean): Promise<Sleeper> {
  const dir = Deno.makeTempDirSync({ dir: tmpDir, prefix: "beacon-" });
  Deno.chmodSync(dir, 0o777);
  const beacon = join(dir, "beacon");
  const run = await spawnHostile({
    jail,
    flags: jail === "none" ? [] : ["--bind", dir],
    probes: hold ? ["outlive", "hold"] : ["outlive"],
    params: { beacon },
    tmpDir,
  });
  const stdout = run.process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await stdout.read();
    if (done) break;
    out += value;
  }
  const report = parseReport(out);
  assert.match(report.outlive?.detail ?? "", /: running$/, out);
  return { run, beacon, marker: run.params.marker, stdout };
}

function beaconSize(path: string): number {
  return Deno.statSync(path).size;
}

// The sleeper is the only process with the bare marker as an argument.
function sleeperAlive(s: Sleeper): boolean {
  return processesWithArg(s.marker).length > 0;
}

async function drain(s: Sleeper): Promise<void> {
  while (!(await s.stdout.read()).done) { /* the rest of stdout */ }
  await s.run.process.stderr.cancel();
  await s.run.process.status;
}

Deno.test("default jail: a double-forked sleeper dies within 3 s of ww being SIGKILLed", async () => {
  const s = await startSleeper("default", true);
  try {
    const before = beaconSize(s.beacon);
    assert.ok(
      await waitFor(() => beaconSize(s.beacon) > before, 1000),
      "the sleeper is not writing",
    );
    s.run.process.kill("SIGKILL");
    const status = await s.run.process.status;
    assert.equal(status.signal, "SIGKILL");
    const gone = await waitFor(() => !sleeperAlive(s), GONE_WITHIN_MS);
    assert.ok(gone, `the sleeper outlived ww: pids ${processesWithArg(s.marker)}`);
    // The program and bwrap (their argv holds marker=...) go the same way.
    const all = await waitFor(() => processesWithArg(`marker=${s.marker}`).length === 0, 1000);
    assert.ok(all, `the jail outlived ww: pids ${processesWithArg(`marker=${s.marker}`)}`);
    const size = beaconSize(s.beacon);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(beaconSize(s.beacon), size, "something still writes the beacon");
  } finally {
    killMarked(s.marker);
    await drain(s);
  }
});

Deno.test("--jail=none control: the sleeper survives ww being SIGKILLed", async () => {
  const s = await startSleeper("none", true);
  try {
    s.run.process.kill("SIGKILL");
    await s.run.process.status;
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(sleeperAlive(s), "the unjailed sleeper died too: the test cannot see a survivor");
    const size = beaconSize(s.beacon);
    assert.ok(await waitFor(() => beaconSize(s.beacon) > size, 1000), "it stopped writing");
  } finally {
    killMarked(`marker=${s.marker}`);
    killMarked(s.marker);
  }
  await drain(s);
});

Deno.test("default jail: a double-forked sleeper dies when the program exits", async () => {
  const s = await startSleeper("default", false);
  try {
    const status = await s.run.process.status;
    assert.equal(status.code, 0);
    // Not necessarily at the moment ww exits: bwrap's monitor reports the exit status without
    // waiting for its pid 1 to finish killing the pid namespace, and in about 1 run in 4 the
    // sleeper is still running, for a few milliseconds, when ww has returned.
    const gone = await waitFor(() => !sleeperAlive(s), GONE_WITHIN_MS);
    assert.ok(gone, `the sleeper outlived the program: pids ${processesWithArg(s.marker)}`);
  } finally {
    killMarked(s.marker);
  }
  await drain(s);
});

Deno.test("--jail=none control: the sleeper survives the program's exit", async () => {
  const s = await startSleeper("none", false);
  try {
    assert.equal((await s.run.process.status).code, 0);
    assert.ok(sleeperAlive(s), "the unjailed sleeper died: the test cannot see a survivor");
  } finally {
    killMarked(s.marker);
  }
  await drain(s);
});

Deno.test({
  name:
    "default jail: SIGKILL of ww at 100 random instants of its start (its first 1000 ms, 10 runs at once) leaves no stage, bwrap, jail process or holder of its stdout",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const tmp = privateTmp();
    try {
      // Every process of the run (the stage, bwrap, the jail's pid 1, the program and its
      // children) has the marker in its environment.
      const leftovers = await killWwRepeatedly(
        [],
        ["/bin/sh", "-c", "sleep 30 & setsid sleep 30 & echo up; sleep 30"],
        { tries: 100, batch: 10, windowMs: 1000, tmp },
      );
      assert.deepEqual(leftovers, []);
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  },
});
