// `ww run --deno guest.ts`: a Deno guest runs jailed with nothing spelt out by hand (no deno
// binary bound, no DENO_DIR, no absolute paths), under bwrap, native and none, and talks to the
// host on fd 3. Its bundle is gone after the run; a missing or broken guest is one line.

import assert from "node:assert/strict";
import { privateTmp, processesWithArg, wwDirs } from "../support/procs.ts";
import { errorLines, REPO, runWw, wwCommand } from "../support/ww.ts";

const GUEST = "examples/rpc-guest/main.ts";

/** Runs ww from the repository with a private TMPDIR, and checks that nothing is left there. */
async function run(args: string[], stdin?: string) {
  const tmp = privateTmp();
  try {
    const r = await runWw(["run", ...args], {
      env: { TMPDIR: tmp },
      before: `cd '${REPO}'`,
      ...(stdin !== undefined ? { stdin } : {}),
    });
    assert.deepEqual(wwDirs(tmp), [], "a bundle or work directory was left behind");
    return r;
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
}

for (const jail of ["bwrap", "native", "none"]) {
  Deno.test(`--jail=${jail} --deno: a TypeScript guest by relative path talks to the host`, async () => {
    const r = await run([`--jail=${jail}`, "--with-console", "--with-exec", "--deno", GUEST]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    assert.deepEqual(report.identity.grants, ["console", "exec"]);
    assert.deepEqual(report.exec, { code: 3, signal: "" });
    // Console lines carry the guest's name, not deno's.
    assert.match(r.stderr, new RegExp(`^${GUEST}: info: hello from TypeScript$`, "m"));
  });
}

Deno.test("--deno passes the guest its arguments, descriptors and environment", async () => {
  const r = await run([
    "--with-fd",
    "db=0",
    "-e",
    "GREETING=hi",
    "--deno",
    "examples/fd-demo/main.ts",
    "--read",
    "db",
  ], "through fd 0\n");
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  assert.equal(report.runtime, "deno");
  assert.deepEqual(report.env, { DENO_DIR: ".deno", GREETING: "hi", WW_FD_DB: "4" });
  assert.deepEqual(report.fdMap, { db: 4 });
  assert.deepEqual(report.lines, { db: "through fd 0" });
});

Deno.test("--deno with a missing guest exits 127 in one line naming it", async () => {
  const r = await run(["--deno", "examples/nope.ts"]);
  assert.equal(r.code, 127, r.stderr);
  assert.deepEqual(errorLines(r.stderr), [
    "ww: --deno examples/nope.ts: no such file (the guest's entry file, e.g. main.ts)",
  ]);
});

// A directory was "no such file", and deno bundle never returned from an ELF without a .ts name.
// Both exited 125, where a directory given without --deno exits 126 (README: Exit status).
Deno.test("--deno with a directory or a binary as the guest exits 126 in one line naming it", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-deno-" });
  try {
    Deno.copyFileSync("/bin/true", `${dir}/elf`);
    for (
      const [guest, why] of [
        [dir, "not a regular file"],
        [`${dir}/elf`, "not a text file"],
      ]
    ) {
      const r = await run(["--deno", guest]);
      assert.equal(r.code, 126, r.stderr);
      assert.deepEqual(errorLines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^ww: --deno ${guest}: ${why} \\(`));
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["elf"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("--deno with a guest that does not bundle exits 125 in one line naming it", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-deno-" });
  try {
    Deno.writeTextFileSync(`${dir}/bad.ts`, 'import "./missing.ts";\n');
    const r = await run(["--deno", `${dir}/bad.ts`]);
    assert.equal(r.code, 125, r.stderr);
    const lines = errorLines(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], new RegExp(`^ww: --deno ${dir}/bad.ts: deno bundle: .*missing\\.ts`));
    // A syntax error says where it is (deno says so on a line of its own, after the message).
    Deno.writeTextFileSync(`${dir}/syntax.ts`, "const x = ;\n");
    const syntax = await run(["--deno", `${dir}/syntax.ts`]);
    assert.equal(syntax.code, 125, syntax.stderr);
    assert.deepEqual(errorLines(syntax.stderr), [
      `ww: --deno ${dir}/syntax.ts: deno bundle: SyntaxError: Expression expected (at ${dir}/syntax.ts:1:11)`,
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

// deno bundle blocks on a FIFO it imports (no writer ever comes): a bundling that never ends
// without a signal. ww used to die of SIGINT then, leaving deno bundle and its directory behind.
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`--deno: ${sig} while the guest is being bundled stops deno bundle and leaves nothing`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-deno-" });
    const tmp = privateTmp();
    const tag = crypto.randomUUID();
    try {
      const fifo = `${dir}/dep-${tag}.ts`;
      new Deno.Command("mkfifo", { args: [fifo] }).outputSync();
      Deno.writeTextFileSync(`${dir}/main.ts`, `import "./dep-${tag}.ts";\n`);
      const [cmd, ...args] = wwCommand();
      const ww = new Deno.Command(cmd, {
        args: [...args, "run", "--deno", `${dir}/main.ts`],
        env: { TMPDIR: tmp },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      // Until deno bundle waits on the FIFO (it names the entry file on its command line).
      const until = Date.now() + 20_000;
      while (processesWithArg(`${dir}/main.ts`).length < 2 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 50));
      }
      ww.kill(sig);
      const { code, stderr } = await ww.output();
      const said = new TextDecoder().decode(stderr);
      assert.equal(code, 128 + (sig === "SIGINT" ? 2 : 15), said);
      assert.deepEqual(errorLines(said), [
        `ww: --deno ${dir}/main.ts: stopped by ${sig} while being bundled; nothing was run`,
      ]);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(processesWithArg(`${dir}/main.ts`), [], "deno bundle runs on");
      assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), [], "left in TMPDIR");
    } finally {
      Deno.removeSync(dir, { recursive: true });
      Deno.removeSync(tmp, { recursive: true });
    }
  });
}

// --timeout bounds the run from the moment ww has a local program: a --deno guest's bundling too.
// An import of a FIFO no one writes (or of a server that never answers) held ww for ever.
Deno.test("--deno: --timeout ends a bundling that never ends, 124 in one line, leaving nothing", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-deno-" });
  const tmp = privateTmp();
  const tag = crypto.randomUUID();
  try {
    new Deno.Command("mkfifo", { args: [`${dir}/dep-${tag}.ts`] }).outputSync();
    Deno.writeTextFileSync(`${dir}/main.ts`, `import "./dep-${tag}.ts";\n`);
    const started = Date.now();
    const r = await runWw(["run", "--timeout", "2s", "--deno", `${dir}/main.ts`], {
      env: { TMPDIR: tmp },
      ww: ["timeout", "30", ...wwCommand()], // without the bound, ww waited for ever
    });
    assert.equal(r.code, 124, r.stderr);
    assert.ok(Date.now() - started < 15_000, `ww took ${Date.now() - started} ms`);
    assert.deepEqual(errorLines(r.stderr), [
      `ww: --deno ${dir}/main.ts: --timeout 2s expired while ww bundled it (deno bundle); nothing was run`,
    ]);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(processesWithArg(`${dir}/main.ts`), [], "deno bundle runs on");
    assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), [], "left in TMPDIR");
  } finally {
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(tmp, { recursive: true });
  }
});

// The program gets what the bundling left of --timeout: a bundling of ~2 s (the FIFO's writer
// waits that long) and a guest of 1.5 s overrun a --timeout of 3 s, which the guest alone keeps.
Deno.test("--deno: the bundling's time counts against --timeout, and the program gets the rest", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-deno-" });
  const tmp = privateTmp();
  try {
    new Deno.Command("mkfifo", { args: [`${dir}/dep.ts`] }).outputSync();
    Deno.writeTextFileSync(
      `${dir}/main.ts`,
      `import { x } from "./dep.ts";\nawait new Promise((r) => setTimeout(r, 1500));\nconsole.log(x);\n`,
    );
    const writer = new Deno.Command("sh", {
      args: ["-c", `sleep 2; echo 'export const x = 1;' > '${dir}/dep.ts'`],
    }).spawn();
    const r = await runWw(["run", "--timeout", "3s", "--deno", `${dir}/main.ts`], {
      env: { TMPDIR: tmp },
      ww: ["timeout", "30", ...wwCommand()], // without the bound, ww waited for ever
    });
    await writer.status;
    assert.equal(r.code, 124, r.stderr);
    assert.deepEqual(errorLines(r.stderr), [`ww: ${dir}/main.ts timed out after 3s`]);
    assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), [], "left in TMPDIR");
  } finally {
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(tmp, { recursive: true });
  }
});

// deno bundle reads what the guest imports whole, on the host: `import z from "/dev/zero" with
// { type: "text" }` took ~1 GiB/s of the host's memory until the OOM killer came. It now runs under
// the run's --memory (RLIMIT_DATA), at least the 768M Deno starts with. Seen on deno bundle
// itself while it waits on a FIFO the guest imports (reading /dev/zero here would, without the
// bound, take the test machine's memory).
for (const [flag, kib] of [["2G", 2 * 2 ** 20], ["64M", 768 * 2 ** 10]] as const) {
  Deno.test(`--deno --memory ${flag}: deno bundle runs under RLIMIT_DATA ${kib} KiB`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-deno-" });
    const tmp = privateTmp();
    const tag = crypto.randomUUID();
    try {
      new Deno.Command("mkfifo", { args: [`${dir}/dep-${tag}.ts`] }).outputSync();
      Deno.writeTextFileSync(`${dir}/main.ts`, `import "./dep-${tag}.ts";\n`);
      const [cmd, ...args] = wwCommand();
      // --jail=none: a 64M jail would be refused before the bundling; the bundling's floor holds.
      const ww = new Deno.Command(cmd, {
        args: [...args, "run", "--jail=none", "--memory", flag, "--deno", `${dir}/main.ts`],
        env: { TMPDIR: tmp },
        stdout: "null",
        stderr: "piped",
      }).spawn();
      let limits = "";
      try {
        const until = Date.now() + 20_000;
        let bundler: number | undefined;
        while (bundler === undefined && Date.now() < until) {
          await new Promise((r) => setTimeout(r, 50));
          bundler = processesWithArg(`${dir}/main.ts`).find((pid) =>
            Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").includes("bundle")
          );
        }
        assert.ok(bundler !== undefined, "no deno bundle seen");
        limits = Deno.readTextFileSync(`/proc/${bundler}/limits`);
      } finally {
        ww.kill("SIGTERM");
        await ww.output();
      }
      const data = limits.split("\n").find((l) => l.startsWith("Max data size"));
      assert.match(data ?? "", new RegExp(`^Max data size +${kib * 1024} `), limits);
      assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), [], "left in TMPDIR");
    } finally {
      Deno.removeSync(dir, { recursive: true });
      Deno.removeSync(tmp, { recursive: true });
    }
  });
}

// deno bundle takes a deno.json, deno.jsonc or package.json from its cwd or any directory above as
// its configuration: one another local user planted (in /tmp, say) mapped a trusted guest's import
// to that user's module, which was bundled with the caller's rights and run. It is refused now.
for (
  const [what, plant] of [
    ["that anyone may write", (path: string) => Deno.chmodSync(path, 0o666)],
    ["that another user owns", (path: string) => Deno.chownSync(path, 65534, 65534)],
  ] as const
) {
  Deno.test({
    name: `--deno refuses a deno.json above the cwd ${what}, 125 in one line naming it`,
    ignore: what === "that another user owns" && Deno.uid() !== 0,
    fn: async () => {
      const dir = Deno.makeTempDirSync({ prefix: "wwtest-deno-" });
      const tmp = privateTmp();
      try {
        Deno.chmodSync(dir, 0o755);
        Deno.mkdirSync(`${dir}/work`);
        Deno.writeTextFileSync(`${dir}/planted.ts`, `export default "planted";\n`);
        Deno.writeTextFileSync(
          `${dir}/deno.json`,
          JSON.stringify({ imports: { lib: `file://${dir}/planted.ts` } }),
        );
        Deno.writeTextFileSync(`${dir}/work/main.ts`, `import v from "lib";\nconsole.log(v);\n`);
        plant(`${dir}/deno.json`);
        const r = await runWw(["run", "--deno", "main.ts"], {
          env: { TMPDIR: tmp },
          before: `cd '${dir}/work'`,
        });
        assert.equal(r.code, 125, r.stdout + r.stderr);
        const who = what === "that anyone may write" ? "anyone may write it" : "uid 65534 owns it";
        assert.deepEqual(errorLines(r.stderr), [
          `ww: --deno main.ts: deno bundle would take ${dir}/deno.json as its configuration, and ${who} (it can change what the guest imports into the bundle, with your rights); remove it, or run ww from a directory with no one else's deno.json above it`,
        ]);
        assert.equal(r.stdout, "");
        assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), [], "left in TMPDIR");
        // The caller's own (root's) configuration applies, as the README says.
        Deno.chmodSync(`${dir}/deno.json`, 0o644);
        Deno.chownSync(`${dir}/deno.json`, Deno.uid(), Deno.gid());
        const own = await runWw(["run", "--deno", "main.ts"], {
          env: { TMPDIR: tmp },
          before: `cd '${dir}/work'`,
        });
        assert.equal(own.code, 0, own.stderr);
        assert.equal(own.stdout.trim(), "planted");
      } finally {
        Deno.removeSync(dir, { recursive: true });
        Deno.removeSync(tmp, { recursive: true });
      }
    },
  });
}

// Bundled in a TMPDIR that is no directory, the guest was "internal error: No such file or
// directory (os error 2): tmpdir"; a run without --deno said which TMPDIR, in one line.
Deno.test("--deno with a TMPDIR that is no directory says so as every run does", async () => {
  for (
    const [tmpdir, why] of [["/nonexistent-wwtest", "no such directory"], [
      "/etc/hostname",
      "not a directory",
    ]]
  ) {
    const line =
      `ww: TMPDIR=${tmpdir}: ${why} (create it, or set TMPDIR to an existing absolute directory)`;
    for (const args of [["--deno", GUEST], ["/bin/true"]]) {
      const r = await runWw(["run", "--jail=none", ...args], {
        env: { TMPDIR: tmpdir },
        before: `cd '${REPO}'`,
      });
      assert.equal(r.code, 125, r.stderr);
      assert.deepEqual(errorLines(r.stderr), [line], args.join(" "));
    }
  }
});

// A TMPDIR only its owner may enter (a `mktemp -d` one, mode 0700) holds the guest's bundle, and a
// deno in root's ~/.deno/bin is behind a 0700 directory: the jail's user reaches neither. The run
// said so about a --ro-bind the user never gave, and advised opening the private directory.
Deno.test("--deno whose bundle or deno the jail's user cannot reach says so in --deno's words", async () => {
  const tmp = privateTmp(0o700);
  const priv = Deno.makeTempDirSync({ prefix: "wwtest-priv-" }); // mode 0700
  try {
    const bundled = await runWw(["run", "--jail=native", "--deno", GUEST], {
      env: { TMPDIR: tmp },
      before: `cd '${REPO}'`,
    });
    assert.equal(bundled.code, 125, bundled.stderr);
    assert.deepEqual(errorLines(bundled.stderr), [
      `ww: --deno ${GUEST}: its bundle is in TMPDIR (${tmp}), where the jail's user cannot reach it (the jail runs as uid ${
        /uid (\d+)/.exec(bundled.stderr)?.[1]
      }, which cannot enter ${tmp} (mode 0700)); set TMPDIR to a directory others may enter, e.g. TMPDIR=/tmp`,
    ]);
    assert.deepEqual(wwDirs(tmp), [], "the bundle was left behind");
    Deno.mkdirSync(`${priv}/bin`);
    Deno.copyFileSync(Deno.execPath(), `${priv}/bin/deno`);
    Deno.chmodSync(`${priv}/bin/deno`, 0o755);
    // Under `deno run` the guest's deno is the one running ww: ww run by the hidden copy.
    const hidden = await runWw(["run", "--jail=native", "--deno", GUEST], {
      ww: [`${priv}/bin/deno`, "run", "-A", `${REPO}main.ts`],
      before: `cd '${REPO}'`,
    });
    assert.equal(hidden.code, 126, hidden.stderr);
    assert.match(
      hidden.stderr,
      new RegExp(
        `^ww: --deno ${GUEST}: the jail's user cannot run ${priv}/bin/deno \\(the jail runs as uid \\d+, which cannot enter ${priv} \\(mode 0700\\)\\); install deno where others may run it`,
      ),
    );
  } finally {
    Deno.removeSync(tmp, { recursive: true });
    Deno.removeSync(priv, { recursive: true });
  }
});

Deno.test("--deno with a --memory too low for Deno refuses before it bundles, 125 in one line", async () => {
  const r = await run(["--jail=native", "--memory", "512M", "--deno", GUEST]);
  assert.equal(r.code, 125, r.stderr);
  assert.deepEqual(errorLines(r.stderr), [
    "ww: --memory 512M: too low for a --deno guest (RLIMIT_DATA: Deno reserves about 560M of address space as it starts); use 768M or more",
  ]);
});
