// The smallest limits ww accepts really start a jail (jail/limits.ts measured them); a
// --nproc that the jail's uid has used up is named with a value that works; --explain and ww
// doctor say which limits hold per process, per uid and per jail. Root: the jails run
// as uids of their own (--uid), so that other tests' processes do not count against --nproc.

import assert from "node:assert/strict";
import { runWw } from "../support/ww.ts";
import { unwrapDoctorLines } from "../../jail/doctor.ts";

if (Deno.uid() !== 0) {
  throw new Error("tests/jail/limit_minimums_test.ts must run as root (jails as chosen uids)");
}

const SH = ["/bin/sh", "-c", "echo hi"];

for (
  const [backend, flags] of [
    ["bwrap", ["--memory", "1M"]],
    // 14 since bwrap also passes the program's stderr to the stage in the jail (issue 16); 15
    // since it passes the stage's socket to the bounder of its tmpfs mounts.
    ["bwrap", ["--nofile", "15"]],
    ["bwrap", ["--nproc", "3", "--uid", "65527", "--gid", "65527"]],
    ["native", ["--nofile", "5"]],
  ] as const
) {
  Deno.test(`--jail=${backend} ${flags.join(" ")}: the minimum runs the program`, async () => {
    const r = await runWw(["run", `--jail=${backend}`, ...flags, ...SH]);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "hi\n");
    assert.equal(r.code, 0);
  });
}

Deno.test("1100 grants run with the --nofile the refusal names (1115), fd 1103 included", async () => {
  const grants = Array.from({ length: 1100 }, (_, i) => `--with-fd=g${i}=1`);
  const r = await runWw([
    "run",
    "--jail=bwrap",
    "--nofile",
    "1115",
    ...grants,
    "/bin/bash", // dash takes no descriptor above 9
    "-c",
    "echo hi >&1103",
  ]);
  assert.equal(r.stderr, "");
  assert.equal(r.stdout, "hi\n");
  assert.equal(r.code, 0);
});

// Three leave bwrap's fork one process short; four are the whole budget already, and the stage's
// execve of bwrap fails (EAGAIN: it sets RLIMIT_NPROC before it takes the jail's id).
for (const running of [3, 4]) {
  Deno.test(`a --nproc that the jail's uid has used up (${running} of 4) is named, with a value that works`, async () => {
    const uid = "65526";
    const sleepers = Array.from({ length: running }, () =>
      new Deno.Command("setpriv", {
        args: [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "sleep", "30"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn());
    try {
      await new Promise((r) => setTimeout(r, 200));
      const r = await runWw([
        "run",
        "--jail=bwrap",
        "--nproc",
        "4",
        "--uid",
        uid,
        "--gid",
        uid,
        ...SH,
      ]);
      assert.equal(r.code, 125);
      assert.equal(r.stdout, "");
      const last = r.stderr.trimEnd().split("\n").at(-1) ?? "";
      assert.match(
        last,
        new RegExp(
          `^ww: --nproc 4: uid 65526, whose processes the limit counts, already runs ${running} processes or threads, .*use --nproc ${
            running + 3
          } or more`,
        ),
      );
    } finally {
      for (const s of sleepers) {
        s.kill("SIGKILL");
        await s.status;
      }
    }
  });
}

for (const backend of ["bwrap", "native"] as const) {
  Deno.test(`--jail=${backend} --explain says which limits hold per process, per uid and per jail`, async () => {
    const r = await runWw(["run", `--jail=${backend}`, "--explain", "--nproc", "40", "/bin/true"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      // --cpu's default sets nothing: the program keeps ww's own (unlimited, or the caller's ulimit).
      /^ {4}per process \(each process of the jail has its own\): memory 4G \(RLIMIT_DATA, --memory\), cpu (?:unlimited|\d+s), ww's own \(RLIMIT_CPU, --cpu\), open files 1024 \(RLIMIT_NOFILE, --nofile\), no core dumps \(RLIMIT_CORE 1 byte, or ww's own when lower\)$/m,
    );
    assert.match(
      r.stdout,
      /^ {4}per uid: processes 40 \(RLIMIT_NPROC, --nproc\): every process and thread of host uid 7\d{4} counts/m, // its leased id
    );
    assert.match(
      r.stdout,
      /^ {4}per jail: none: .*cgroup v2 with delegated controllers, which ww does not use$/m,
    );
  });
}

Deno.test("ww doctor says which limits hold per process, per uid and per jail", async () => {
  const r = await runWw(["doctor"]);
  // Its lines as the report has them, before they were wrapped to 100 columns.
  const stdout = unwrapDoctorLines(r.stdout.split("\n")).join("\n");
  assert.match(
    stdout,
    /^limits \(bwrap and native; --jail=none sets none\):\n {2}per process: --memory \(RLIMIT_DATA\)/m,
  );
  assert.match(stdout, /^ {2}per uid: --nproc \(RLIMIT_NPROC\)/m);
  assert.match(stdout, /^ {2}per jail: none: /m);
});

for (const backend of ["bwrap", "native"] as const) {
  Deno.test(`--jail=${backend}: an unlimited limit leaves ww's own, even a hard one ww cannot raise`, async () => {
    // The caller lowers its hard RLIMIT_CPU, which this root without CAP_SYS_RESOURCE (or any
    // user) cannot raise again. Under native, "unlimited" used to mean RLIM_INFINITY: EPERM.
    const r = await runWw(
      [
        "run",
        `--jail=${backend}`,
        "--nofile",
        "unlimited",
        "--nproc",
        "unlimited",
        "/bin/sh",
        "-c",
        "ulimit -t",
      ],
      { before: "ulimit -t 100000" },
    );
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "100000\n");
    assert.equal(r.code, 0);
  });
}
