// Resource limits in the default jail: a fork bomb and a memory bomb stop at the limits, and ww
// and the host carry on. Unjailed (--jail=none, as root) the same bombs reach their caps, which
// shows the probes would notice a limit that does not hold. The bombs bound themselves (limit +
// 64 processes; twice the limit + 64 MiB), so a failing test cannot take the machine down.

import assert from "node:assert/strict";
import { processesWithArg } from "../support/procs.ts";
import { type HostileRun, outcome, runHostile } from "./hostile.ts";
import { runWw } from "../support/ww.ts";

const tmpDir = Deno.makeTempDirSync({ prefix: "wwtest-limits-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmpDir, { recursive: true }));

const MIB = 2 ** 20;

function bomb(
  probe: "fork_bomb" | "memory_bomb",
  jail: "default" | "none",
  flags: string[],
  params: Record<string, string>,
): Promise<HostileRun> {
  return runHostile({ jail, flags, probes: [probe], params, tmpDir });
}

// After a bomb: ww ended normally, nothing of the run is left, and the host can still fork.
async function assertHostUnaffected(r: HostileRun): Promise<void> {
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(processesWithArg(`marker=${r.params.marker}`), [], "bomb processes remain");
  const after = await new Deno.Command("/bin/true").output();
  assert.equal(after.success, true, "the host cannot start a process after the bomb");
}

// RLIMIT_NPROC counts every process of the jail's host uid, and the jails of the tests running
// beside this one are uid 65534 too: a bomb of their uid would leave them none to start with.
const BOMB_UID = ["--uid", "65533", "--gid", "65533"];

for (const [flags, nproc] of [[["--nproc", "50"], 50], [[], 512]] as const) {
  const how = flags.length ? "--nproc 50" : "the default process limit (512)";
  Deno.test(`default jail: a fork bomb stops at ${how}; ww and the host carry on`, async () => {
    const r = await bomb("fork_bomb", "default", [...flags, ...BOMB_UID], {
      nproc: String(nproc),
    });
    const o = outcome(r, "fork_bomb");
    assert.equal(o.escaped, false, o.detail);
    assert.match(o.detail, /then EAGAIN/);
    await assertHostUnaffected(r);
  });
}

Deno.test("--jail=none control: the fork bomb reaches its cap (no process limit)", async () => {
  const r = await bomb("fork_bomb", "none", [], { nproc: "50" });
  const o = outcome(r, "fork_bomb");
  assert.equal(o.escaped, true, o.detail);
  assert.match(o.detail, /stopped at the cap/);
  await assertHostUnaffected(r);
});

Deno.test("default jail: a memory bomb stops at --memory 64M; ww and the host carry on", async () => {
  const r = await bomb("memory_bomb", "default", ["--memory", "64M"], {
    memory: String(64 * MIB),
  });
  const o = outcome(r, "memory_bomb");
  assert.equal(o.escaped, false, o.detail);
  assert.match(o.detail, /then malloc failed/);
  await assertHostUnaffected(r);
});

Deno.test("--jail=none control: the memory bomb reaches its cap (no memory limit)", async () => {
  const r = await bomb("memory_bomb", "none", [], { memory: String(64 * MIB) });
  const o = outcome(r, "memory_bomb");
  assert.equal(o.escaped, true, o.detail);
  assert.match(o.detail, /stopped at the cap/);
  await assertHostUnaffected(r);
});

// --cpu set the soft and the hard limit equal, so the kernel sent SIGKILL alone: exit 137, which
// says nothing of CPU time, and no program could end cleanly. Now SIGXCPU comes at the limit
// (exit 152 by default, or the program's own end) and SIGKILL a second later.
for (const backend of ["bwrap", "native"]) {
  Deno.test(`--jail=${backend} --cpu 1: SIGXCPU at the limit, which a program may catch; SIGKILL a second later`, async () => {
    const spin = "while :; do :; done";
    const cases: [string, number, string][] = [
      [spin, 128 + 24, ""], // SIGXCPU's default: the program ends, and ww says so as 152
      [`trap 'echo caught; exit 7' XCPU; ${spin}`, 7, "caught\n"],
      [`trap '' XCPU; ${spin}`, 128 + 9, ""], // ignored: SIGKILL at the hard limit
    ];
    for (const [script, code, stdout] of cases) {
      const r = await runWw(["run", `--jail=${backend}`, "--cpu", "1", "/bin/sh", "-c", script]);
      assert.equal(r.code, code, `${script}: ${r.stderr}`);
      assert.equal(r.stdout, stdout, script);
    }
  });
}

// A jailed program that crashed dumped core when ww's caller allowed it: into a writable bind (at
// up to --memory's size), or, with a piped core_pattern, to a handler that runs as root outside
// the jail; and --cpu's SIGXCPU dumps core. RLIMIT_CORE is 1 byte in every jail: no dump at all.
for (const backend of ["bwrap", "native"]) {
  Deno.test(`--jail=${backend}: a crashing program dumps no core, even when ww's caller allows core dumps`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-core-" });
    Deno.chmodSync(dir, 0o777);
    try {
      // dash's ulimit counts 512-byte blocks: 1 byte is 0 (the native jail hides /proc/self/limits).
      const script = "ulimit -c; ulimit -Hc; kill -SEGV $$";
      const r = await runWw(
        ["run", `--jail=${backend}`, "--bind", dir, "--chdir", dir, "/bin/sh", "-c", script],
        { before: "ulimit -c unlimited" },
      );
      assert.equal(r.code, 128 + 11, r.stderr);
      assert.equal(r.stdout, "0\n0\n");
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), []);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

// The jails set RLIMIT_CORE to 1 byte by raising a hard limit of 0, which needs CAP_SYS_RESOURCE:
// under a caller's `ulimit -Hc 0` (limits.conf, systemd's LimitCORE=0) every run failed with
// "the stage's rlimits step failed: EPERM". It is only ever lowered now.
for (const backend of ["bwrap", "native"]) {
  Deno.test(`--jail=${backend}: a caller's hard core limit of 0 stops no run, and stays 0`, async () => {
    const r = await runWw(
      ["run", `--jail=${backend}`, "/bin/sh", "-c", "ulimit -c; ulimit -Hc"],
      { before: "ulimit -Hc 0" },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "0\n0\n");
  });
}
