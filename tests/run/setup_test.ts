// scripts/setup.sh and scripts/packages.sh: a light first run. The demo's set-up selects only the
// apt packages the demo runs; the tests and the benchmarks add theirs; an unknown use is refused
// in one line before anything is installed. (Read from the real scripts with bash; apt never runs.)

import assert from "node:assert/strict";
import { REPO } from "../support/ww.ts";

async function bash(script: string, args: string[] = []) {
  const out = await new Deno.Command("bash", {
    args: ["-c", script, "bash", ...args],
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

async function packages(use: string): Promise<string[]> {
  const r = await bash('. scripts/packages.sh && ww_apt_packages "$1"', [use]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split("\n");
}

/** What only the tests and benchmarks need, which made the demo's first run slow. */
const HEAVY = ["capnproto", "libcapnp-dev", "hyperfine", "strace", "gcc", "g++", "firejail"];

Deno.test("the demo's set-up selects only what the demo runs: bubblewrap and python3", async () => {
  const demo = await packages("demo");
  assert.deepEqual(demo, ["bubblewrap", "python3"]);
  assert.deepEqual(demo.filter((p) => HEAVY.includes(p)), []);
});

Deno.test("the tests add their compilers and Cap'n Proto; the benchmarks add their peers", async () => {
  const [demo, test, bench] = await Promise.all(["demo", "test", "bench"].map(packages));
  for (const p of demo) assert.ok(test.includes(p), `test lacks the demo's ${p}`);
  for (const p of test) assert.ok(bench.includes(p), `bench lacks the tests' ${p}`);
  const needed = ["capnproto", "libcapnp-dev", "pkg-config", "gcc", "g++", "strace"];
  for (const p of [...needed, "qemu-user-static"]) {
    assert.ok(test.includes(p), `test lacks ${p}`);
  }
  for (const p of ["hyperfine", "firejail"]) {
    assert.ok(!test.includes(p), `the tests install the benchmarks' ${p}`);
    assert.ok(bench.includes(p), `bench lacks ${p}`);
  }
  assert.equal(new Set(bench).size, bench.length, "a package is listed twice");
});

Deno.test("every package the tests select is a real, installed Debian package here", async () => {
  // The suite runs after `setup.sh test`, so a misspelt name would show up as not installed.
  const test = await packages("test");
  const r = await bash(
    'for p in "$@"; do dpkg-query -W -f=\'${Status}\\n\' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"; done',
    test,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "", "not installed");
});

Deno.test("setup.sh refuses an unknown use in one line, before installing anything", async () => {
  const r = await bash('bash scripts/setup.sh "$1"; echo "status $?"', ["tests"]);
  assert.equal(r.stderr, "setup: unknown use 'tests' (demo, test or bench)\n");
  assert.equal(r.stdout, "status 2\n");
});
