// The environment and working directory of a child of `ww run`: only what --env and the grants
// put there, and a fresh private directory that is gone after the run.

import assert from "node:assert/strict";
import { reportFds } from "../support/children.ts";
import { privateTmp, wwDirs } from "../support/procs.ts";
import { type ChildReport, parseReport } from "../support/report.ts";
import { errorLines, JAIL_MODES, jailFlags, runWw, type WwOptions } from "../support/ww.ts";

const child = await reportFds();

for (const jail of JAIL_MODES) {
  const t = (name: string, fn: () => Promise<void>) => Deno.test(`[jail=${jail}] ${name}`, fn);
  const report = async (args: string[], options: WwOptions = {}): Promise<ChildReport> => {
    const r = await runWw(["run", ...jailFlags(jail), ...args, child], options);
    assert.equal(r.code, 0, `ww failed: ${r.stderr}`);
    return parseReport(r.stdout);
  };

  t("the environment is only the --env entries and the WW_FD_ variables", async () => {
    const r = await report(
      ["--env", "A=1", "--env", "EMPTY=", "--env", "SPACED=x=y  z\tw", "--with-fd", "db=7"],
      { fds: { 7: { read: "/dev/null" } }, env: { WWTEST_CALLER_ONLY: "leak" } },
    );
    assert.deepEqual(r.env, { A: "1", EMPTY: "", SPACED: "x=y  z\tw", WW_FD_DB: "4" });
  });

  // The bwrap jail gave the program's absolute path instead.
  t("argv[0] is the program's name as the caller gave it", async () => {
    const r = await runWw(["run", ...jailFlags(jail), "/bin/sh", "-c", 'echo "$0"']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "/bin/sh\n");
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-argv0-" });
    Deno.chmodSync(dir, 0o755);
    Deno.copyFileSync("/bin/sh", `${dir}/named-sh`);
    Deno.chmodSync(`${dir}/named-sh`, 0o755);
    try {
      const named = await runWw(["run", ...jailFlags(jail), "./named-sh", "-c", 'echo "$0"'], {
        before: `cd ${dir}`,
      });
      assert.equal(named.code, 0, named.stderr);
      assert.equal(named.stdout, "./named-sh\n");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });

  // Under bwrap a PWD the user set came last (bwrap sets its own; the stage put the user's back at
  // the end): the same entries, in another order than the other backends gave.
  t("the environment comes sorted by key, a PWD set with --env among the rest", async () => {
    const r = await runWw([
      "run",
      ...jailFlags(jail),
      ...["--env", "SHLVL=9", "--env", "PWD=/custom", "--env", "A=1", "--env", "PWA=3"],
      ...["--env", "PWDX=4", "/usr/bin/env"],
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "A=1\nPWA=3\nPWD=/custom\nPWDX=4\nSHLVL=9\n");
  });

  t("without flags the environment is empty: no PATH, no HOME, no PWD", async () => {
    const r = await report([], { env: { HOME: "/root", PWD: "/" } });
    assert.deepEqual(r.env, {});
  });

  // A name was looked up in the caller's PATH whatever PATH the program was given; env(1) and
  // Deno.Command look in the new one.
  t("a program's name is looked up in the PATH --env gives it, else in the caller's", async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-path-" });
    Deno.chmodSync(dir, 0o755);
    Deno.writeTextFileSync(`${dir}/ww-path-probe`, "#!/bin/sh\necho found in $PATH\n");
    Deno.chmodSync(`${dir}/ww-path-probe`, 0o755);
    try {
      const binds = jail === "none" ? [] : ["--ro-bind", dir];
      const found = await runWw([
        "run",
        ...jailFlags(jail),
        ...binds,
        "--env",
        `PATH=${dir}:/usr/bin:/bin`,
        "ww-path-probe",
      ]);
      assert.equal(found.code, 0, found.stderr);
      assert.equal(found.stdout, `found in ${dir}:/usr/bin:/bin\n`);
      // The caller's PATH (/usr/bin:/bin) has no such name; nor has a program's PATH without dir.
      const missing = await runWw(["run", ...jailFlags(jail), ...binds, "ww-path-probe"]);
      assert.equal(missing.code, 127);
      const elsewhere = await runWw([
        "run",
        ...jailFlags(jail),
        "--env",
        "PATH=/usr/bin",
        "sh",
        "-c",
        "echo $PATH",
      ]);
      assert.equal(elsewhere.stdout, "/usr/bin\n", elsewhere.stderr);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });

  t("--env KEY passes the caller's value, and nothing when the caller has none", async () => {
    const r = await report(["--env", "WWTEST_PASSED", "--env", "WWTEST_ABSENT"], {
      env: { WWTEST_PASSED: "from the caller" },
    });
    assert.deepEqual(r.env, { WWTEST_PASSED: "from the caller" });
  });

  t("--env PATH passes the caller's PATH like any other variable", async () => {
    const r = await report(["--env", "PATH"], { env: { PATH: "/usr/bin:/bin" } });
    assert.deepEqual(r.env, { PATH: "/usr/bin:/bin" });
  });

  t("--env-file sets a docker env file's variables, and -e is --env", async () => {
    const dir = await Deno.makeTempDir({ prefix: "wwtest-env-file-" });
    try {
      await Deno.writeTextFile(
        `${dir}/app.env`,
        "# settings\nA=from the file\n\nWWTEST_PASSED\nB= kept  as is \n",
      );
      const r = await report(["--env-file", `${dir}/app.env`, "-e", "A=flag"], {
        env: { WWTEST_PASSED: "from the caller" },
      });
      assert.deepEqual(r.env, { A: "flag", B: " kept  as is ", WWTEST_PASSED: "from the caller" });
      await Deno.writeTextFile(`${dir}/bad.env`, "A=1\nNOT VALID\n");
      const bad = await runWw(["run", ...jailFlags(jail), "--env-file", `${dir}/bad.env`, child]);
      assert.equal(bad.code, 125);
      assert.equal(
        bad.stderr,
        `ww: --env-file ${dir}/bad.env:2: the variable name "NOT VALID" contains whitespace (expected KEY=VALUE, KEY or # comment)\n`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  t("a later --env for the same key wins", async () => {
    const r = await report(["--env", "K=first", "--env", "K=second"]);
    assert.deepEqual(r.env, { K: "second" });
  });

  t("WW_FD_ variables win over a conflicting --env", async () => {
    const r = await report(["--env", "WW_FD_DB=99", "--with-fd", "db=7", "--env", "WW_FD_DB=98"], {
      fds: { 7: { read: "/dev/null" } },
    });
    assert.deepEqual(r.env, { WW_FD_DB: "4" });
  });

  t("the cwd is a fresh private ww- directory in TMPDIR that is gone after the run", async () => {
    const tmp = privateTmp();
    try {
      const first = await report([], { env: { TMPDIR: tmp } });
      const second = await report([], { env: { TMPDIR: tmp } });
      for (const r of [first, second]) {
        assert.match(r.cwd, new RegExp(`^${tmp}/ww-[^/]+$`));
        assert.equal(r.cwdMode, 0o700);
      }
      assert.notEqual(first.cwd, second.cwd);
      assert.deepEqual(wwDirs(tmp), []);
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  });

  t("a TMPDIR that only the caller may enter (mode 0700) works as well", async () => {
    const tmp = privateTmp(0o700);
    try {
      const r = await report([], { env: { TMPDIR: tmp } });
      assert.match(r.cwd, new RegExp(`^${tmp}/ww-[^/]+$`));
      assert.deepEqual(wwDirs(tmp), []);
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  });
}

// bwrap refused --chdir /bin (the system's link to /usr/bin, which the jail shows); a file was
// "no such directory", a directory that exists nowhere "not shown (bind it ...)"; the native jail's
// run said "cannot enter it (ENOENT)" where its --explain said nothing.
for (const backend of ["none", "bwrap", "native"]) {
  Deno.test(`[jail=${backend}] --chdir through the system's links works; one that is no directory says what it is, run and --explain alike`, async () => {
    const linked = await runWw(["run", `--jail=${backend}`, "--chdir", "/bin", "/bin/pwd", "-P"]);
    assert.equal(linked.code, 0, linked.stderr);
    // /bin is the system's link to /usr/bin on merged-/usr hosts (Debian's, these machines').
    assert.equal(linked.stdout, `${Deno.realPathSync("/bin")}\n`);
    for (
      const [dir, why] of [
        [
          "/nonexistent-wwtest",
          "no such directory on this machine (make it first, or give one that exists)",
        ],
        ["/usr/bin/env", "not a directory; give the directory the program is to start in"],
      ]
    ) {
      for (const explain of [[], ["--explain"]]) {
        const r = await runWw([
          "run",
          `--jail=${backend}`,
          ...explain,
          "--chdir",
          dir,
          "/bin/true",
        ]);
        assert.equal(r.code, 125, `${dir} ${explain}: ${r.stderr}`);
        assert.deepEqual(errorLines(r.stderr), [`ww: --chdir ${dir}: ${why}`], `${dir} ${explain}`);
      }
    }
  });
}

for (const backend of ["none", "bwrap", "native"]) {
  Deno.test(`[jail=${backend}] --chdir DIR: the program starts in DIR; one line when the jail does not show it`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-chdir-" });
    Deno.chmodSync(dir, 0o755); // the jail's user reads it
    try {
      const r = await runWw(["run", `--jail=${backend}`, "--ro-bind", dir, "--chdir", dir, child]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(parseReport(r.stdout).cwd, dir);
      const usr = await runWw(["run", `--jail=${backend}`, "--chdir", "/usr/share", child]);
      assert.equal(usr.code, 0, usr.stderr);
      assert.equal(parseReport(usr.stdout).cwd, "/usr/share");
      const explain = await runWw([
        "run",
        `--jail=${backend}`,
        "--explain",
        "--ro-bind",
        dir,
        "--chdir",
        dir,
        child,
      ]);
      assert.match(explain.stdout, new RegExp(`^starts in: ${dir} \\(--chdir\\)$`, "m"));
      const missing = await runWw(["run", `--jail=${backend}`, "--chdir", `${dir}/nope`, child]);
      assert.equal(missing.code, 125);
      const lines = missing.stderr.split("\n").filter((l) => !l.includes("runs NOT jailed"));
      assert.equal(lines.length, 2, missing.stderr); // one line and the final newline
      assert.match(lines[0], new RegExp(`^ww: --chdir ${dir}/nope: `));
      if (backend !== "none") {
        // Shown by no bind: the jail does not show it, whatever the host has there.
        const hidden = await runWw(["run", `--jail=${backend}`, "--chdir", dir, child]);
        assert.equal(hidden.code, 125);
        assert.match(
          hidden.stderr,
          new RegExp(`^ww: --chdir ${dir}: .*(jail does not|not in the jail).*\\n$`),
        );
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

Deno.test("an environment too large for the kernel is one line saying so, exit 125, under every backend", async () => {
  const file = Deno.makeTempFileSync({ prefix: "wwtest-env-" });
  try {
    // 1 MB from a file and 1.2 MB from the caller: more than execve's 2 MiB in all.
    Deno.writeTextFileSync(
      file,
      Array.from({ length: 10 }, (_, i) => `F${i}=${"y".repeat(100_000)}\n`).join(""),
    );
    const keys = Array.from({ length: 12 }, (_, i) => `K${i}`);
    const env = Object.fromEntries(keys.map((k) => [k, "x".repeat(100_000)]));
    for (const jail of ["none", "bwrap", "native"]) {
      const r = await runWw([
        "run",
        `--jail=${jail}`,
        "--env-file",
        file,
        ...keys.flatMap((k) => ["-e", k]),
        "/bin/true",
      ], { env });
      assert.equal(r.code, 125, r.stderr);
      assert.deepEqual(errorLines(r.stderr), [
        "ww: the program's arguments and environment are too large to start it (E2BIG: the kernel takes at most 128 KiB in one string, and about a quarter of the stack limit, 2 MiB by default, in all)",
      ], jail);
    }
  } finally {
    Deno.removeSync(file);
  }
});

// bwrap's own words for it ("Can't chdir to ...") ended in "ww doctor tells what this machine
// offers", as if the machine were at fault.
Deno.test("--chdir into a directory the jail's user cannot enter: one line naming it, under bwrap as under native", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wwtest-chdir-" });
  try {
    await Deno.chmod(dir, 0o755);
    await Deno.mkdir(`${dir}/closed`, { mode: 0o700 });
    // --explain refuses it alike (it said nothing), and a run says it before anything else: a
    // --listen on port 0 had already said where it listened.
    for (const jail of ["bwrap", "native"]) {
      for (const explain of [[], ["--explain"]]) {
        const r = await runWw([
          "run",
          ...explain,
          `--jail=${jail}`,
          "--ro-bind",
          dir,
          "--listen",
          "web=tcp:127.0.0.1:0",
          "--chdir",
          `${dir}/closed`,
          "/bin/pwd",
        ]);
        assert.equal(r.code, 125, r.stderr);
        assert.match(
          r.stderr,
          new RegExp(
            // The same words under both jails: it was "(EACCES;" under native, "(Permission
            // denied;" under bwrap.
            `^ww: --chdir ${dir}/closed: the program cannot enter it in the ${jail} jail \\(permission denied; `,
          ),
        );
        assert.match(r.stderr, /choose a directory the jail's user can enter\)\n$/);
        assert.equal(r.stderr.split("\n").length, 2, r.stderr);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--explain counts the environment's variables in words: 0 variables, 1 variable, 2 variables", async () => {
  for (
    const [env, words] of [[[], "0 variables"], [["A=1"], "1 variable"], [
      ["A=1", "B=2"],
      "2 variables",
    ]] as const
  ) {
    const r = await runWw([
      "run",
      "--jail=none",
      ...env.flatMap((e) => ["--env", e]),
      "--explain",
      "/bin/true",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^environment \\(${words}, nothing inherited\\):$`, "m"));
  }
});
