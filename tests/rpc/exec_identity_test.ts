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

// The native stage forks as root, which RLIMIT_NPROC does not count, and set the limit after the
// uid change, so the kernel never compared: each start ran one more process than --nproc allows
// (300 starts under --nproc 150 ran 300 sleeps). It sets RLIMIT_NPROC before it now, and the
// program's execve fails (EAGAIN) once the run's id holds its budget, as a fork would.
Deno.test({
  name: "native: a guest whose run holds its whole --nproc starts no program beyond it",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const id = crypto.getRandomValues(new Uint32Array(1))[0];
    const [busyTag, startedTag] = [`30.${id}`, `2.${id}`];
    // The guest and its 5 sleeps: the 6 processes --nproc 6 allows the run's id.
    const [cmd, ...args] = wwCommand();
    const { code, stdout, stderr } = await new Deno.Command(cmd, {
      args: [
        ...args,
        "run",
        "--jail=native",
        "--nproc",
        "6",
        "--with-exec",
        "--ro-bind",
        dirname(guest),
        "/bin/sh",
        "-c",
        `for i in 1 2 3 4 5; do /bin/sleep ${busyTag} & done; exec "$0" start /bin/sleep ${startedTag}`,
        guest,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const [out, said] = [stdout, stderr].map((b) => new TextDecoder().decode(b));
    assert.equal(code, 0, said);
    const first = JSON.parse(out.split("\n")[0]);
    assert.match(
      first.error ?? "",
      /--nproc 6: uid \d+, whose processes the limit counts, already runs \d+ processes/,
      out,
    );
    assert.deepEqual(sleeps(startedTag), []);
  },
});

// Unprivileged, the native stage forks the program as ww's own user under the stage's own limit
// (ww's): each start ran one more (250 starts under --nproc 150 ran 208 sleeps of that user). The
// stage forks it under the run's RLIMIT_NPROC now.
Deno.test({
  name: "native, unprivileged: a guest's start past the user's --nproc is refused",
  ignore: Deno.uid() !== 0, // to run ww as a user of its own
  fn: async () => {
    const uid = 4248;
    const home = Deno.makeTempDirSync({ prefix: "wwtest-exec-nproc-" });
    Deno.chownSync(home, uid, uid);
    const tag = `2.${crypto.getRandomValues(new Uint32Array(1))[0]}`;
    const asUser = [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups"];
    // Waits for its line without a fork of its own, which the full budget would refuse.
    const script = `read go; exec "$0" start /bin/sleep ${tag}`;
    const ww = new Deno.Command("setpriv", {
      args: [
        ...asUser,
        "--",
        ...wwCommand(),
        "run",
        "--jail=native",
        "--nproc",
        "100",
        "--with-exec",
        "--ro-bind",
        dirname(guest),
        "/bin/sh",
        "-c",
        script,
        guest,
      ],
      env: { HOME: home, DENO_DIR: `${home}/deno`, PATH: "/usr/bin:/bin" },
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let sleepers: Deno.ChildProcess[] = [];
    try {
      // Once the guest waits (ww's command line names the script too), 100 more processes of its user fill the run's budget.
      const until = Date.now() + 60_000;
      while (processesWithArg(script).length < 2) {
        assert.ok(Date.now() < until, "the guest never started");
        await new Promise((r) => setTimeout(r, 50));
      }
      sleepers = Array.from({ length: 100 }, () =>
        new Deno.Command("setpriv", {
          args: [...asUser, "sleep", "30"],
          stdin: "null",
          stdout: "null",
          stderr: "null",
        }).spawn());
      await new Promise((r) => setTimeout(r, 300));
      const writer = ww.stdin.getWriter();
      await writer.write(new TextEncoder().encode("go\n"));
      await writer.close();
      const { code, stdout, stderr } = await ww.output();
      const [out, said] = [stdout, stderr].map((b) => new TextDecoder().decode(b));
      assert.equal(code, 0, said);
      const first = JSON.parse(out.split("\n")[0]);
      assert.match(
        first.error ?? "",
        /--nproc 100: uid 4248, whose processes the limit counts, /,
        out,
      );
      assert.deepEqual(sleeps(tag), []);
    } finally {
      for (const s of sleepers) {
        s.kill("SIGKILL");
        await s.status;
      }
      await Deno.remove(home, { recursive: true });
    }
  },
});
