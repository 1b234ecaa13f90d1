// `ww run --deno guest.ts`: a Deno guest runs jailed with nothing spelt out by hand (no deno
// binary bound, no DENO_DIR, no absolute paths), under bwrap, native and none, and talks to the
// host on fd 3. Its bundle is gone after the run; a missing or broken guest is one line.

import assert from "node:assert/strict";
import { privateTmp, wwDirs } from "../support/procs.ts";
import { errorLines, REPO, runWw } from "../support/ww.ts";

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

Deno.test("--deno with a guest that does not bundle exits 125 in one line naming it", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-deno-" });
  try {
    Deno.writeTextFileSync(`${dir}/bad.ts`, 'import "./missing.ts";\n');
    const r = await run(["--deno", `${dir}/bad.ts`]);
    assert.equal(r.code, 125, r.stderr);
    const lines = errorLines(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], new RegExp(`^ww: --deno ${dir}/bad.ts: deno bundle: .*missing\\.ts`));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
