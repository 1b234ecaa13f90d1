// The jail's host identity when ww runs as root (issue 11, "Identity"): never host root, and
// each live jail a uid and gid of its own, leased from WW_JAIL_IDS's range (default
// 70000-79999) by a lock file in /run/ww/ids that the kernel releases once ww and the stage's
// supervisor, which ends the jail when ww dies, have let go of it.

import assert from "node:assert/strict";
import { join } from "node:path";
import { isLockHeld } from "../../ffi/lock.ts";
import { DEFAULT_JAIL_IDS } from "../../jail/ids.ts";
import { unwrapDoctorLines } from "../../jail/doctor.ts";
import { LEASE_DIR } from "../../run/ids.ts";
import { hostileBinary, killMarked, outcome, runHostile, setUpHost, waitFor } from "./hostile.ts";
import { childrenOf, processesWithArg } from "../support/procs.ts";
import { REPO, runWw, wwCommand } from "../support/ww.ts";

const host = await setUpHost();
globalThis.addEventListener("unload", () => host.close());

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

const inRange = (id: number) => id >= DEFAULT_JAIL_IDS.first && id <= DEFAULT_JAIL_IDS.last;

type Backend = "bwrap" | "native";
const BACKENDS: readonly Backend[] = ["bwrap", "native"];

/** A directory under the host fixtures that anyone may write (a fresh jail uid must). */
function openDir(prefix: string): string {
  const dir = Deno.makeTempDirSync({ dir: host.hostDir, prefix });
  Deno.chmodSync(dir, 0o777);
  return dir;
}

/**
 * Starts `ww run --jail=<backend> hostile sleeper <marker> /dev/null`: a program that runs until
 * signalled, with the marker in its argv (a shell would exec its last command and lose it).
 */
async function startWw(backend: Backend, marker: string, env: Record<string, string> = {}) {
  const [cmd, ...args] = wwCommand();
  const hostile = await hostileBinary();
  return new Deno.Command(cmd, {
    args: [...args, "run", `--jail=${backend}`, hostile, "sleeper", marker, "/dev/null"],
    env: { TMPDIR: host.tmpDir, ...env },
    // Not piped: a jail that outlived ww would hold the pipes, and the test would wait forever.
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** The host uids of the jailed processes whose argv holds `marker` (ww itself is root's). */
function jailUids(marker: string): Set<number> {
  const uids = new Set<number>();
  for (const pid of processesWithArg(marker)) {
    try {
      const uid = Deno.statSync(`/proc/${pid}`).uid as number;
      if (uid !== 0) uids.add(uid);
    } catch { /* ended */ }
  }
  return uids;
}

/** Whether the program itself (the hostile binary, not bwrap or the stage) runs with `marker`. */
function programRuns(marker: string): boolean {
  return processesWithArg(marker).some((pid) => {
    try {
      return Deno.readTextFileSync(`/proc/${pid}/comm`).startsWith("hostile");
    } catch {
      return false; // ended
    }
  });
}

/**
 * Waits until the program runs in its jail (bwrap's and the stage's argv hold the marker too,
 * before the jail is up: a ww killed then takes the jail's set-up with it), and the jail's
 * processes have exactly one host uid; returns it.
 */
async function jailUid(marker: string): Promise<number> {
  let uids = new Set<number>();
  await waitFor(() => programRuns(marker) && (uids = jailUids(marker)).size > 0, 10_000);
  assert.equal(uids.size, 1, `uids of ${marker}: ${[...uids]}`);
  return [...uids][0];
}

// Were --uid 0 host uid 0 (a user namespace made by root maps 0 to host root), the file would be
// a setuid-root binary on the host.
test("bwrap jail: --uid 0 --gid 0 is root inside only: no setuid-root file in a --bind dir", async () => {
  const dir = openDir("suid0-");
  const r = await runHostile({
    flags: ["--uid", "0", "--gid", "0", "--bind", dir],
    probes: ["plant_setuid"],
    params: { rwdir: dir },
    tmpDir: host.tmpDir,
  });
  const o = outcome(r, "plant_setuid");
  const planted = Deno.statSync(join(dir, `ww-suid-${r.params.marker}`));
  // seccomp refuses the bit itself (a setuid file of the leased id is a way in too): the file is
  // there, the jail's own, and plain.
  assert.match(o.detail, /fchmod 4755: EPERM/);
  assert.equal(planted.mode! & 0o6000, 0, `the file has setuid or setgid: ${o.detail}`);
  assert.notEqual(planted.uid, 0, `a root-owned file is on the host: ${o.detail}`);
  assert.ok(inRange(planted.uid!), `owner ${planted.uid}: not a leased id`);
  assert.ok(inRange(planted.gid!), `group ${planted.gid}: not a leased id`);
  // Inside, the program was uid 0 (of its namespace).
  assert.match(o.detail, /owner 0 here/);
});

test("bwrap jail: the shell recipe of the issue leaves nothing owned by host root", async () => {
  const dir = openDir("suid0sh-");
  const r = await runWw([
    "run",
    "--uid",
    "0",
    "--gid",
    "0",
    "--bind",
    dir,
    "/bin/sh",
    "-c",
    `cp /bin/id ${dir}/x && { chmod 4755 ${dir}/x; id -u; }`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "0");
  assert.match(r.stderr, /chmod: .*Operation not permitted/);
  const x = Deno.statSync(join(dir, "x"));
  assert.ok(x.uid !== 0 && x.gid !== 0 && inRange(x.uid!), `x is ${x.uid}:${x.gid}`);
  assert.equal(x.mode! & 0o6000, 0, `x is mode ${x.mode!.toString(8)}`);
});

// Host uid 0 is exempt from RLIMIT_NPROC: a --uid 0 jail made by root ignored --nproc.
test("bwrap jail: --uid 0 --gid 0 is held to --nproc 50 like any other jail", async () => {
  const r = await runHostile({
    flags: ["--uid", "0", "--gid", "0", "--nproc", "50"],
    probes: ["fork_bomb"],
    params: { nproc: "50" },
    tmpDir: host.tmpDir,
  });
  const o = outcome(r, "fork_bomb");
  assert.equal(o.escaped, false, o.detail);
  assert.match(o.detail, /EAGAIN/);
});

test("ww doctor names the range jails lease host ids from", async () => {
  const r = await runWw(["doctor"]);
  // Its lines as the report has them, before they were wrapped to 100 columns.
  const stdout = unwrapDoctorLines(r.stdout.split("\n")).join("\n");
  assert.match(
    stdout,
    /^jail ids: each jail leases a host uid and gid of its own from 70000-79999 \(the default; WW_JAIL_IDS=FIRST-LAST overrides it\), held until the jail ends$/m,
  );
});

test("native jail: --uid 0 and --gid 0 are refused in one line that names bwrap, exit 125", async () => {
  for (const flag of ["--uid", "--gid"]) {
    const r = await runWw(["run", "--jail=native", flag, "0", "/bin/true"]);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, new RegExp(`^ww: ${flag} 0: .*host root.*--jail=bwrap.*\\n$`));
  }
});

test("--explain says --uid 0 is mapped (bwrap) and that a host id is leased per run", async () => {
  const r = await runWw(["run", "--jail=bwrap", "--uid", "0", "--explain", "/bin/true"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /identity: uid 0, gid 65534/);
  assert.match(
    r.stdout,
    /host identity: uid 7\d{4}, gid 7\d{4} \(ww is root; .*never to host root\)/,
  );
  assert.match(r.stdout, /host id leased per run from 70000-79999/);
  const n = await runWw(["run", "--jail=native", "--explain", "/bin/true"]);
  assert.match(n.stdout, /identity: uid 7\d{4}, gid 7\d{4}/);
  assert.match(n.stdout, /host id leased per run from 70000-79999/);
});

for (const backend of BACKENDS) {
  test(`${backend} jail: two jails at once run as two different leased host uids`, async () => {
    const [a, b] = [crypto.randomUUID(), crypto.randomUUID()];
    const wwA = await startWw(backend, a);
    const wwB = await startWw(backend, b);
    try {
      const [uidA, uidB] = [await jailUid(a), await jailUid(b)];
      assert.notEqual(uidA, uidB);
      assert.ok(inRange(uidA) && inRange(uidB), `${uidA} ${uidB}`);
      assert.equal(isLockHeld(`${LEASE_DIR}/${uidA}`), true);
      assert.equal(isLockHeld(`${LEASE_DIR}/${uidB}`), true);
    } finally {
      wwA.kill("SIGTERM");
      wwB.kill("SIGTERM");
      await wwA.status;
      await wwB.status;
      killMarked(a);
      killMarked(b);
    }
  });

  // Landlock scopes signals, and bwrap hides other pids, but prlimit and setpriority need only
  // the same uid: with one shared uid a jail could read and change another's limits and priority.
  test(`${backend} jail: a program cannot signal, prlimit or renice another jail's process`, async () => {
    const other = crypto.randomUUID();
    const victim = await startWw("native", other);
    try {
      await jailUid(other);
      const pid = processesWithArg(other).find((p) => Deno.statSync(`/proc/${p}`).uid !== 0);
      const r = await runHostile({
        flags: [`--jail=${backend}`],
        probes: ["touch_pid"],
        params: { otherpid: String(pid) },
        tmpDir: host.tmpDir,
      });
      const o = outcome(r, "touch_pid");
      assert.equal(o.escaped, false, o.detail);
    } finally {
      victim.kill("SIGTERM");
      await victim.status;
      killMarked(other);
    }
  });
}

test("--jail=none control: root can signal, prlimit and renice a jail's process", async () => {
  const other = crypto.randomUUID();
  const victim = await startWw("native", other);
  try {
    await jailUid(other);
    const pid = processesWithArg(other).find((p) => Deno.statSync(`/proc/${p}`).uid !== 0);
    const r = await runHostile({
      jail: "none",
      probes: ["touch_pid"],
      params: { otherpid: String(pid) },
      tmpDir: host.tmpDir,
    });
    const o = outcome(r, "touch_pid");
    assert.equal(o.escaped, true, o.detail);
    assert.match(o.detail, /setpriority\(\d+\): OK/);
  } finally {
    victim.kill("SIGTERM");
    await victim.status;
    killMarked(other);
  }
});

for (const backend of BACKENDS) {
  test(`${backend} jail: the lease is held while the jail runs and released when it ends`, async () => {
    const marker = crypto.randomUUID();
    // A range of this test's own: in the default one, a neighbour test's jail could lease the id
    // the moment this jail frees it, and the lock would be held again.
    const ww = await startWw(backend, marker, {
      WW_JAIL_IDS: backend === "bwrap" ? "200100-200109" : "200110-200119",
    });
    const uid = await jailUid(marker);
    assert.equal(isLockHeld(`${LEASE_DIR}/${uid}`), true);
    ww.kill("SIGTERM"); // forwarded to the program, which dies of it: the jail ends
    const { code } = await ww.status;
    killMarked(marker);
    assert.equal(code, 128 + 15);
    assert.equal(isLockHeld(`${LEASE_DIR}/${uid}`), false);
  });

  test(`${backend} jail: the lease of a ww killed with SIGKILL is free again`, async () => {
    const marker = crypto.randomUUID();
    const ww = await startWw(backend, marker);
    const uid = await jailUid(marker);
    assert.equal(isLockHeld(`${LEASE_DIR}/${uid}`), true);
    ww.kill("SIGKILL");
    await ww.status;
    try {
      // The kernel closed ww's descriptors as it died, and the stage's supervisor its copy of the
      // lease's once it had ended the jail.
      assert.ok(await waitFor(() => !isLockHeld(`${LEASE_DIR}/${uid}`), 5000), "still leased");
      // The jail follows ww (die-with-parent, death signal). Where it does not (issue 11,
      // "Lifetime", seen for bwrap), the scan of live processes still keeps its uid from the next
      // jail: a new jail gets a free id either way.
      const survived = !(await waitFor(() => jailUids(marker).size === 0, 5000));
      const again = await runWw(["run", "--jail=native", "/bin/sh", "-c", "id -u"]);
      assert.equal(again.code, 0, again.stderr);
      const next = Number(again.stdout.trim());
      assert.ok(inRange(next), String(next));
      if (survived) assert.notEqual(next, uid, "a new jail shares the uid of a live one");
    } finally {
      killMarked(marker);
    }
  });

  test(`${backend} jail: a run that finds every id of the range leased is one line, exit 125`, async () => {
    // A range of two ids of this test's own, both leased by live jails.
    const first = backend === "bwrap" ? 200120 : 200122;
    const range = `${first}-${first + 1}`;
    const env = { WW_JAIL_IDS: range };
    const markers = [crypto.randomUUID(), crypto.randomUUID()];
    const jails = [];
    for (const marker of markers) jails.push(await startWw(backend, marker, env));
    const tmp = Deno.makeTempDirSync({ dir: host.tmpDir, prefix: "full-" });
    try {
      const uids = new Set([await jailUid(markers[0]), await jailUid(markers[1])]);
      assert.deepEqual([...uids].sort(), [first, first + 1]);
      const line = new RegExp(
        `^ww: no free host id for the jail in ${range} \\(every one is in use or leased by a running jail\\); wait for jails to end, or set WW_JAIL_IDS=FIRST-LAST to a larger range\\n$`,
      );
      for (const explain of [[], ["--explain"]]) {
        const full = await runWw(["run", `--jail=${backend}`, ...explain, "/bin/true"], {
          env: { ...env, TMPDIR: tmp },
        });
        assert.equal(full.code, 125, full.stderr);
        assert.match(full.stderr, line);
        assert.equal(full.stdout, "");
      }
      // Nothing left: the jails' leases are theirs alone, and the refused runs made no file.
      assert.deepEqual([...Deno.readDirSync(tmp)], []);
      for (const uid of uids) assert.equal(isLockHeld(`${LEASE_DIR}/${uid}`), true);
    } finally {
      for (const ww of jails) ww.kill("SIGTERM");
      for (const ww of jails) await ww.status;
      markers.forEach(killMarked);
    }
    for (const uid of [first, first + 1]) assert.equal(isLockHeld(`${LEASE_DIR}/${uid}`), false);
    // The range is free again once the jails have ended.
    const again = await runWw(["run", `--jail=${backend}`, "/bin/true"], { env });
    assert.equal(again.code, 0, again.stderr);
  });

  // The lease avoids the ids that live processes run as (run/ids.ts idExclusions: the owners of
  // every /proc/<pid>), not only those of accounts and other jails.
  test(`${backend} jail: an id that a live process runs as is not leased`, async () => {
    const first = backend === "bwrap" ? 200140 : 200142;
    const squatter = new Deno.Command("/usr/bin/setpriv", {
      args: [`--reuid=${first}`, `--regid=${first}`, "--clear-groups", "/bin/sleep", "30"],
    }).spawn();
    try {
      assert.ok(
        await waitFor(() => {
          try {
            return Deno.statSync(`/proc/${squatter.pid}`).uid === first;
          } catch {
            return false;
          }
        }, 5000),
        "the squatter never ran as its id",
      );
      const marker = crypto.randomUUID();
      const ww = await startWw(backend, marker, { WW_JAIL_IDS: `${first}-${first + 1}` });
      try {
        assert.equal(await jailUid(marker), first + 1);
      } finally {
        ww.kill("SIGTERM");
        await ww.status;
        killMarked(marker);
      }
    } finally {
      squatter.kill("SIGKILL");
      await squatter.status;
    }
  });

  test(`${backend} jail: --explain's look at the leases beside runs from a one-id range never makes a run fail`, async () => {
    // A one-id range of this test's own. --explain asks of each id whether it is leased
    // (peekJailId: isLockHeld), here in a tight loop; asking took the lock for an instant, and a
    // run leasing then found its only id taken (exit 125).
    const id = backend === "bwrap" ? 200130 : 200131;
    const env = { WW_JAIL_IDS: `${id}-${id}` };
    const peek = `import { isLockHeld } from "${REPO}ffi/lock.ts";\n` +
      'console.log("looking");\n' +
      `for (;;) isLockHeld("${LEASE_DIR}/${id}");\n`;
    const looker = new Deno.Command(Deno.execPath(), {
      args: ["eval", peek],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    try {
      const reader = looker.stdout.getReader();
      const first = await reader.read();
      assert.equal(new TextDecoder().decode(first.value), "looking\n");
      reader.releaseLock();
      for (let i = 0; i < 20; i++) {
        const r = await runWw(["run", `--jail=${backend}`, "/bin/true"], { env });
        assert.equal(r.code, 0, `run ${i}: ${r.stderr}`);
      }
    } finally {
      looker.kill("SIGKILL");
      await looker.status;
      await looker.stdout.cancel();
    }
  });

  test(`${backend} jail: the lease outlives a SIGKILLed ww for as long as the jail does`, async () => {
    const marker = crypto.randomUUID();
    const ww = await startWw(backend, marker);
    const uid = await jailUid(marker);
    // The stage's supervisor, ww's one child: stopped, it cannot end the jail when ww dies.
    const children = childrenOf(ww.pid);
    assert.equal(children.length, 1, JSON.stringify(children));
    const [[supervisor]] = children;
    Deno.kill(supervisor, "SIGSTOP");
    try {
      ww.kill("SIGKILL");
      await ww.status;
      assert.ok(jailUids(marker).has(uid), "the jail is still there");
      // ww is gone: only the supervisor's copy holds the lock, so no new jail takes this uid.
      assert.equal(isLockHeld(`${LEASE_DIR}/${uid}`), true);
    } finally {
      Deno.kill(supervisor, "SIGCONT"); // its death signal is pending: it ends the jail, and exits
    }
    assert.ok(await waitFor(() => jailUids(marker).size === 0, 5000), "the jail outlived ww");
    assert.ok(await waitFor(() => !isLockHeld(`${LEASE_DIR}/${uid}`), 5000), "still leased");
    killMarked(marker);
  });

  // The read-only one wins (README): the run was refused for the write the --bind no longer
  // allows, and told to add the --ro-bind it had.
  test(`${backend} jail: a --bind of a dir the jail's uid cannot write, and a --ro-bind of it, runs read-only`, async () => {
    const dir = Deno.makeTempDirSync({ dir: host.hostDir, prefix: "ro-wins-" });
    Deno.chmodSync(dir, 0o755);
    for (const order of [["--bind", dir, "--ro-bind", dir], ["--ro-bind", dir, "--bind", dir]]) {
      const r = await runWw([
        "run",
        `--jail=${backend}`,
        ...order,
        "/bin/sh",
        "-c",
        `ls ${dir} && ! touch ${dir}/f 2>/dev/null`,
      ]);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  });

  test(`${backend} jail: a --bind dir the jail's uid cannot write is one line naming the fix`, async () => {
    const dir = Deno.makeTempDirSync({ dir: host.hostDir, prefix: "ro-owner-" });
    Deno.chmodSync(dir, 0o755); // root's; a leased uid may enter but not write
    const r = await runWw(["run", `--jail=${backend}`, "--bind", dir, "/bin/true"]);
    assert.equal(r.code, 125, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0],
      new RegExp(
        `^ww: --bind ${dir}: the jail runs as a uid of its own \\(7\\d{4}, gid 7\\d{4}; leased per run\\), which cannot write it \\(owner 0:0, mode 0755\\); .*chgrp G ${dir} && chmod g\\+rwx ${dir}, then --gid G\\)`,
      ),
    );
    // The fix it names works: a group that may write it, given with --gid.
    Deno.chownSync(dir, 0, 4242);
    Deno.chmodSync(dir, 0o775);
    const fixed = await runWw([
      "run",
      `--jail=${backend}`,
      "--gid",
      "4242",
      "--bind",
      dir,
      "/bin/sh",
      "-c",
      `echo ok > ${dir}/f`,
    ]);
    assert.equal(fixed.code, 0, fixed.stderr);
    const f = Deno.statSync(join(dir, "f"));
    assert.ok(inRange(f.uid!), `f belongs to ${f.uid}`);
    assert.equal(f.gid, 4242);
  });
}

test("WW_JAIL_IDS chooses the range; a range with root in it is refused in one line", async () => {
  const marker = crypto.randomUUID();
  const [cmd, ...args] = wwCommand();
  const ww = new Deno.Command(cmd, {
    args: [...args, "run", "--jail=native", "/bin/sh", "-c", "id -u", marker],
    env: { TMPDIR: host.tmpDir, WW_JAIL_IDS: "200000-200009" },
    stdout: "piped",
    stderr: "piped",
  });
  const out = await ww.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const uid = Number(new TextDecoder().decode(out.stdout).trim());
  assert.ok(uid >= 200000 && uid <= 200009, String(uid));
  // An explicit id inside the range could be another live jail's.
  for (const backend of BACKENDS) {
    const inside = await runWw(["run", `--jail=${backend}`, "--uid", "70005", "/bin/true"]);
    assert.equal(inside.code, 125, inside.stderr);
    assert.match(inside.stderr, /^ww: --uid 70005: ww leases 70000-79999 to jails, .*\n$/);
  }
  const bad = await runWw(["run", "/bin/true"], { env: { WW_JAIL_IDS: "0-100" } });
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /^ww: WW_JAIL_IDS=0-100: the range includes root .*\n$/);
});
