// What a SIGKILLed ww leaves in TMPDIR goes with a later run: a --jail=none run's work directory
// (its program outlives ww, and keeps it while it works there) and a --deno guest's bundle
// directory (every backend). Each is held by a lock that dies with ww (ffi/dir.ts); a later run
// of its kind removes those whose lock is free, and never one a live run holds. (Before, both
// stayed for good: nothing of the jail's removes them.)

import assert from "node:assert/strict";
import { privateTmp, wwDirs } from "../support/procs.ts";
import { runWw, wwCommand } from "../support/ww.ts";

/** A --jail=none run's work directory's name (ww-none-…; ww-… before such runs were swept). */
const WORKDIR = /^ww-(?!deno-)/;

/** Starts `ww run <args>` with TMPDIR `tmp`, its output discarded. */
function startRun(args: readonly string[], tmp: string, cwd?: string): Deno.ChildProcess {
  const [cmd, ...pre] = wwCommand();
  return new Deno.Command(cmd, {
    args: [...pre, "run", ...args],
    env: { TMPDIR: tmp },
    cwd,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** Waits (at most 60 s) until `tmp` holds directories whose names `pattern` matches; them. */
async function untilDirs(tmp: string, pattern: RegExp): Promise<string[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = wwDirs(tmp).filter((n) => pattern.test(n));
    if (found.length > 0) return found;
    if (Date.now() > deadline) throw new Error(`no ${pattern} in ${tmp}: ${wwDirs(tmp)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Pids of the processes whose cwd is `dir` or below it. */
function workingIn(dir: string): number[] {
  const pids: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^[0-9]+$/.test(e.name)) continue;
    try {
      const cwd = Deno.readLinkSync(`/proc/${e.name}/cwd`);
      if (cwd === dir || cwd.startsWith(`${dir}/`)) pids.push(Number(e.name));
    } catch { /* gone */ }
  }
  return pids;
}

async function killWw(child: Deno.ChildProcess): Promise<void> {
  child.kill("SIGKILL");
  assert.equal((await child.status).signal, "SIGKILL");
}

Deno.test("--jail=none, ww SIGKILLed mid-run: its work directory stays while its program works there, and the next run removes it after", async () => {
  const tmp = privateTmp();
  try {
    const ww = startRun(["--jail=none", "/bin/sh", "-c", "echo x > left; exec sleep 30"], tmp);
    const [dir] = await untilDirs(tmp, WORKDIR);
    const path = `${tmp}/${dir}`;
    // The program has started in it (it wrote there) before ww is killed.
    for (let i = 0; workingIn(path).length === 0 || !existsFile(`${path}/left`); i++) {
      assert.ok(i < 600, "the program never started");
      await new Promise((r) => setTimeout(r, 50));
    }
    await killWw(ww);
    const orphans = workingIn(path);
    assert.ok(orphans.length > 0);
    // The program outlived ww (no jail): a run now leaves its directory alone.
    let r = await runWw(["run", "--jail=none", "/bin/true"], { env: { TMPDIR: tmp } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(wwDirs(tmp), [dir]);
    for (const pid of orphans) Deno.kill(pid, "SIGKILL");
    while (workingIn(path).length > 0) await new Promise((r) => setTimeout(r, 20));
    r = await runWw(["run", "--jail=none", "/bin/true"], { env: { TMPDIR: tmp } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(wwDirs(tmp), []);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

for (const jail of ["none", "default"] as const) {
  Deno.test(`--deno${jail === "none" ? " --jail=none" : ""}, ww SIGKILLed while its guest sleeps: the next --deno run removes the bundle's directory`, async () => {
    const tmp = privateTmp();
    try {
      Deno.writeTextFileSync(
        `${tmp}/sleepy.ts`,
        "await new Promise((r) => setTimeout(r, 30_000));\n",
      );
      Deno.writeTextFileSync(`${tmp}/hello.ts`, "console.log('hello');\n");
      const flags = jail === "none" ? ["--jail=none"] : [];
      const ww = startRun([...flags, "--deno", "sleepy.ts"], tmp, tmp);
      // The bundle is there once deno bundle is done with it; ww runs the guest then.
      const [bundleDir] = await untilDirs(tmp, /^ww-deno-/);
      for (let i = 0; !existsFile(`${tmp}/${bundleDir}/guest.js`) || i < 20; i++) {
        assert.ok(i < 1200, "never bundled");
        await new Promise((r) => setTimeout(r, 50));
      }
      await killWw(ww);
      assert.ok(wwDirs(tmp).includes(bundleDir));
      const r = await runWw(["run", ...flags, "--deno", `${tmp}/hello.ts`], {
        env: { TMPDIR: tmp },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "hello\n");
      assert.ok(!wwDirs(tmp).includes(bundleDir), `${bundleDir} is left: ${wwDirs(tmp)}`);
      // An unjailed guest outlives ww, in its work directory: ended here.
      for (const d of wwDirs(tmp)) {
        for (const pid of workingIn(`${tmp}/${d}`)) Deno.kill(pid, "SIGKILL");
      }
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  });
}

Deno.test("a live run's directories are never swept by runs beside it (--jail=none, --deno)", async () => {
  const tmp = privateTmp();
  // The live runs' programs wait for this file (at most 120 s), not for a time: on a slow machine
  // the runs beside them may take longer than any sleep.
  const go = `${tmp}/go`;
  try {
    Deno.writeTextFileSync(
      `${tmp}/slow.ts`,
      [
        "for (let i = 0; i < 2400; i++) {",
        `  try { Deno.statSync(${JSON.stringify(go)}); break; } catch { /* not yet */ }`,
        "  await new Promise((r) => setTimeout(r, 50));",
        "}",
        "console.log('slept');",
      ].join("\n"),
    );
    Deno.writeTextFileSync(`${tmp}/hello.ts`, "console.log('hello');\n");
    // A live run whose program writes in its work directory, waits while others run, and reads.
    const wait = `i=0; while [ ! -e '${go}' ] && [ $i -lt 2400 ]; do sleep 0.05; i=$((i+1)); done`;
    const workdirRun = runWw(
      ["run", "--jail=none", "/bin/sh", "-c", `echo kept > mine; ${wait}; cat mine`],
      { env: { TMPDIR: tmp } },
    );
    const [workdir] = await untilDirs(tmp, WORKDIR);
    // And a live --deno run, whose guest is running from its bundle.
    const guestRun = runWw(["run", "--jail=none", "--deno", `${tmp}/slow.ts`], {
      env: { TMPDIR: tmp },
    });
    const [bundleDir] = await untilDirs(tmp, /^ww-deno-/);
    await untilDirs(tmp, new RegExp(`^ww-(?!deno-|${workdir.slice(3)}$)`));
    assert.ok(wwDirs(tmp).includes(workdir), `${workdir} was swept`);
    const others = [];
    for (let i = 0; i < 3; i++) {
      others.push(runWw(["run", "--jail=none", "/bin/true"], { env: { TMPDIR: tmp } }));
    }
    others.push(runWw(["run", "--deno", `${tmp}/hello.ts`], { env: { TMPDIR: tmp } }));
    for (const r of await Promise.all(others)) assert.equal(r.code, 0, r.stderr);
    assert.ok(wwDirs(tmp).includes(workdir), `${workdir} was swept`);
    assert.ok(wwDirs(tmp).includes(bundleDir), `${bundleDir} was swept`);
    Deno.writeTextFileSync(go, "");
    const [w, g] = await Promise.all([workdirRun, guestRun]);
    assert.deepEqual([w.code, w.stdout], [0, "kept\n"], w.stderr);
    assert.deepEqual([g.code, g.stdout], [0, "slept\n"], g.stderr);
    assert.deepEqual(wwDirs(tmp), []);
  } finally {
    Deno.writeTextFileSync(go, ""); // a failed test's live runs end too
    Deno.removeSync(tmp, { recursive: true });
  }
});

function existsFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
