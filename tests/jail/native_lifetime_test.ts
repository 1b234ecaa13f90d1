// Under --jail=native nothing outlives the program or ww (issue 11, "Lifetime"): the stage's
// supervisor is a subreaper that SIGKILLs every descendant when the program ends or ww dies, and
// removes the work directory. Processes are found by a marker in their environment, which every
// descendant inherits.

import assert from "node:assert/strict";
import { privateTmp, processesWithEnv, wwDirs } from "../support/procs.ts";
import { wwCommand } from "../support/ww.ts";
import { buildC } from "../support/build.ts";
import { killWwRepeatedly } from "./kill_ww.ts";

const tmp = privateTmp();
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));

/** `ww run --jail=native --env <marker> /bin/sh -c <script> | cat`: its output, time and code. */
async function runPiped(script: string, marker: string, flags: string[] = []) {
  const started = Date.now();
  const out = await new Deno.Command("/bin/sh", {
    args: [
      "-c",
      '"$@" | cat',
      "sh",
      ...wwCommand(),
      "run",
      "--jail=native",
      "--env",
      marker,
      ...flags,
      "/bin/sh",
      "-c",
      script,
    ],
    env: { TMPDIR: tmp },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
    ms: Date.now() - started,
  };
}

Deno.test("--jail=native: a background child ends with the program, and `| cat` gets EOF at once", async () => {
  const marker = `WWMARK=${crypto.randomUUID()}`;
  const r = await runPiped("sleep 6 & echo started", marker);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "started\n");
  assert.ok(r.ms < 4000, `ww and cat took ${r.ms} ms: something held the pipe`);
  assert.deepEqual(processesWithEnv(marker), []);
  assert.deepEqual(wwDirs(tmp), []);
});

Deno.test("--jail=native: a double-forked daemon in its own session dies with the program", async () => {
  const marker = `WWMARK=${crypto.randomUUID()}`;
  const r = await runPiped(
    "setsid /bin/sh -c 'sleep 6 </dev/null >/dev/null 2>&1 &' & wait; echo forked",
    marker,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "forked\n");
  assert.ok(r.ms < 4000, `took ${r.ms} ms`);
  assert.deepEqual(processesWithEnv(marker), []);
  assert.deepEqual(wwDirs(tmp), []);
});

Deno.test("--jail=native: the work directory goes, even when the program made it hard to remove", async () => {
  // Removed as the jail's user (when ww is root), the walk makes its own way in: a directory
  // closed inside, the work directory itself read-only, a read-only chain past the 128 levels a
  // walk holds (one it moves up must be writable).
  for (
    const script of [
      "mkdir -p a/b/c && touch a/b/c/f a/x && chmod 0 a/b/c a/b && echo made",
      "mkdir -p a/b && touch f a/b/c && chmod a-w . && echo made",
      "p=t; for i in $(seq 200); do p=$p/d; done; mkdir -p $p && touch $p/f && chmod -R a-w t . && echo made",
    ]
  ) {
    const marker = `WWMARK=${crypto.randomUUID()}`;
    const r = await runPiped(script, marker);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "made\n");
    assert.deepEqual(wwDirs(tmp), [], script);
  }
});

Deno.test({
  name:
    "--jail=native: SIGKILL of ww at 100 random instants of its start (its first 1000 ms, 10 runs at once) leaves no process, work directory or holder of its stdout",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const leftovers = await killWwRepeatedly(
      ["--jail=native"],
      ["/bin/sh", "-c", "sleep 30 & setsid sleep 30 & echo up; sleep 30"],
      { tries: 100, batch: 10, windowMs: 1000, tmp },
    );
    assert.deepEqual(leftovers, []);
  },
});

Deno.test("--jail=native: SIGTERM to ww reaches the program through the supervisor, which ends as it did", async () => {
  const marker = `WWMARK=${crypto.randomUUID()}`;
  const [cmd, ...args] = wwCommand();
  const ww = new Deno.Command(cmd, {
    args: [
      ...args,
      "run",
      "--jail=native",
      "--env",
      marker,
      "/bin/sh",
      "-c",
      "trap 'echo got TERM; exit 7' TERM; echo ready; sleep 30 & wait",
    ],
    env: { TMPDIR: tmp },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = ww.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("ready\n")) out += (await reader.read()).value ?? "";
  ww.kill("SIGTERM");
  const status = await ww.status;
  // Exactly when ww has exited, nothing of the jail is left.
  const left = processesWithEnv(marker);
  const dirs = wwDirs(tmp);
  for (const pid of left) Deno.kill(pid, "SIGKILL");
  for (let r = await reader.read(); !r.done; r = await reader.read()) out += r.value;
  await ww.stderr.cancel();
  assert.equal(out, "ready\ngot TERM\n");
  assert.equal(status.code, 7);
  assert.deepEqual(left, [], "the background sleep outlived the program");
  assert.deepEqual(dirs, []);
});

Deno.test("--jail=native: --timeout ends a program that ignores SIGTERM, and every descendant, even in its own session", async () => {
  const marker = `WWMARK=${crypto.randomUUID()}`;
  const [cmd, ...args] = wwCommand();
  const ww = new Deno.Command(cmd, {
    args: [
      ...args,
      "run",
      "--jail=native",
      "--timeout",
      "1s",
      "--env",
      marker,
      "/bin/sh",
      "-c",
      "trap '' TERM; setsid sleep 30 & sleep 30",
    ],
    env: { TMPDIR: tmp },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const status = await ww.status;
  const left = processesWithEnv(marker);
  for (const pid of left) Deno.kill(pid, "SIGKILL");
  const stderr = await new Response(ww.stderr).text();
  assert.equal(status.code, 124, stderr);
  assert.deepEqual(left, [], "a sleeper outlived the timeout");
  assert.deepEqual(wwDirs(tmp), []);
});

// The supervisor used to start over from the top for each level: 2000 nested directories held
// ww for 26 s, 4000 for 104 s, past any --timeout.
Deno.test("--jail=native: a work directory nested 3000 deep goes in one walk, not one per level", async () => {
  const marker = `WWMARK=${crypto.randomUUID()}`;
  const nest = await buildC(new URL("./nest.c", import.meta.url));
  // Run from the work directory, where the jail may write; bound read-only for the jail.
  const r = await runPiped(`${nest} 3000`, marker, ["--ro-bind", nest]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "made\n");
  assert.deepEqual(wwDirs(tmp), []);
  assert.ok(r.ms < 30_000, `${r.ms} ms`);
});

// The removal gave up after 256 walks: a chain 100000 deep (a jail makes one in seconds) stayed in
// TMPDIR, with ww exiting 0 and saying nothing.
Deno.test("--jail=native: a work directory nested 100000 deep is removed, past 256 walks", async () => {
  const marker = `WWMARK=${crypto.randomUUID()}`;
  const chain = await buildC(new URL("./deep_chain.c", import.meta.url));
  const r = await runPiped(`${chain} 100000`, marker, ["--ro-bind", chain]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "made\n");
  assert.deepEqual(wwDirs(tmp), []);
});

// The supervisor removed the work directory as root: a jail that moved a directory from a --bind
// into it (a group's shared directory, holding a directory only root may enter) had root remove
// what the jail itself could not.
Deno.test({
  name:
    "--jail=native as root: the work directory is removed as the jail's user, and one left holding what it may not remove is named",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    // As root, and as a root that keeps its capabilities across a change of uid (the walk must
    // drop those that override permissions itself).
    for (const launcher of [[], ["setpriv", "--securebits", "+no_setuid_fixup", "--"]]) {
      const marker = `WWMARK=${crypto.randomUUID()}`;
      const shared = Deno.makeTempDirSync({ prefix: "wwtest-shared-" });
      const mine = privateTmp(0o1777);
      try {
        // A group's directory (setgid, group-writable), and in it root's own, mode 0700.
        Deno.mkdirSync(`${shared}/team/root-only`, { recursive: true });
        Deno.writeTextFileSync(`${shared}/team/root-only/key`, "KEY");
        Deno.chownSync(shared, 0, 5555);
        Deno.chownSync(`${shared}/team`, 0, 5555);
        Deno.chmodSync(shared, 0o2775);
        Deno.chmodSync(`${shared}/team`, 0o2775);
        Deno.chmodSync(`${shared}/team/root-only`, 0o700);
        const [cmd, ...args] = [...launcher, ...wwCommand()];
        const out = await new Deno.Command(cmd, {
          args: [
            ...args,
            "run",
            "--jail=native",
            "--env",
            marker,
            "--gid",
            "5555",
            "--bind",
            shared,
            "/bin/sh",
            "-c",
            `rm -rf ${shared}/team/root-only 2>/dev/null; mv ${shared}/team "$PWD/" && echo moved`,
          ],
          env: { TMPDIR: mine },
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stderr = new TextDecoder().decode(out.stderr);
        assert.equal(out.code, 0, stderr);
        assert.equal(new TextDecoder().decode(out.stdout), "moved\n");
        const [left] = wwDirs(mine);
        assert.ok(left, `the work directory was removed, and root's key with it (${launcher})`);
        assert.equal(Deno.readTextFileSync(`${mine}/${left}/team/root-only/key`), "KEY");
        assert.match(
          stderr,
          new RegExp(`ww: warning: /bin/sh's work directory ${mine}/${left} is left behind`),
        );
        assert.deepEqual(processesWithEnv(marker), []);
      } finally {
        Deno.removeSync(shared, { recursive: true });
        Deno.removeSync(mine, { recursive: true });
      }
    }
  },
});

// Walked as the jail's user, the work directory under a directory only root may enter (TMPDIR in
// root's home, say) was opened by its path, which that user cannot reach: it stayed, every time.
Deno.test({
  name: "--jail=native as root: a work directory under root's own 0700 directory goes too",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const closed = Deno.makeTempDirSync({ prefix: "wwtest-rootonly-" });
    try {
      Deno.chmodSync(closed, 0o700);
      Deno.mkdirSync(`${closed}/tmp`);
      Deno.chmodSync(`${closed}/tmp`, 0o1777);
      const [cmd, ...args] = wwCommand();
      const out = await new Deno.Command(cmd, {
        args: [...args, "run", "--jail=native", "/bin/sh", "-c", "echo hi > f && mkdir d"],
        env: { TMPDIR: `${closed}/tmp` },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.deepEqual(wwDirs(`${closed}/tmp`), []);
    } finally {
      Deno.removeSync(closed, { recursive: true });
    }
  },
});

// The supervisor (root, when ww is) removed the work directory climbing back up by "..": a racer
// that moved a directory out of the tree while the walk was inside it sent the walk, from there,
// into the directories above it, whose files it removed. A jail may open its work directory to
// every user (chmod 0777), and TMPDIR is /tmp by default. Here the racer is the test itself.
Deno.test("--jail=native: a directory moved out during the work directory's removal leads the walk nowhere else", async () => {
  const base = privateTmp();
  // As root, the jail runs as a user of its own, as whom the supervisor removes its work
  // directory: the racer and the files the walk must not reach are that user's, and TMPDIR is
  // open to it as /tmp is.
  const root = Deno.uid() === 0;
  const jailIds = root ? ["--uid", "5678", "--gid", "5678"] : [];
  const asJail = root ? ["setpriv", "--reuid=5678", "--regid=5678", "--clear-groups"] : [];
  try {
    const tmpdir = `${base}/tmp`;
    Deno.mkdirSync(tmpdir, { mode: 0o1777 });
    Deno.chmodSync(tmpdir, 0o1777);
    const victims = [`${base}/victim`, `${tmpdir}/victim`];
    for (const v of victims) Deno.writeTextFileSync(v, "keep\n");
    Deno.mkdirSync(`${base}/victim-dir`);
    Deno.writeTextFileSync(`${base}/victim-dir/file`, "keep\n");
    if (root) {
      for (const v of [...victims, `${base}/victim-dir`, `${base}/victim-dir/file`]) {
        Deno.chownSync(v, 5678, 5678);
      }
    }
    const racer = await buildC(new URL("./cleanup_racer.c", import.meta.url));
    const [cmd, ...args] = wwCommand();
    const ww = new Deno.Command(cmd, {
      args: [
        ...args,
        "run",
        "--jail=native",
        ...jailIds,
        "/bin/sh",
        "-c",
        "pwd; while [ ! -e go ]; do sleep 0.02; done",
      ],
      env: { TMPDIR: tmpdir },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = ww.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("\n")) out += (await reader.read()).value ?? "";
    const workdir = out.trim();
    assert.ok(workdir.startsWith(`${tmpdir}/ww-`), workdir);
    const [racerCmd, ...racerArgs] = [...asJail, racer, workdir, `${tmpdir}/away`, "20000"];
    const raced = await new Deno.Command(racerCmd, { args: racerArgs }).output();
    const status = await ww.status;
    await reader.cancel();
    const stderr = await new Response(ww.stderr).text();
    assert.equal(
      new TextDecoder().decode(raced.stdout),
      "moved\n",
      new TextDecoder().decode(raced.stderr),
    );
    assert.equal(status.code, 0, stderr);
    for (const v of [...victims, `${base}/victim-dir/file`]) {
      assert.equal(Deno.readTextFileSync(v), "keep\n", `${v} was removed`);
    }
    assert.deepEqual(wwDirs(tmpdir), []);
  } finally {
    Deno.removeSync(base, { recursive: true });
  }
});
