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
