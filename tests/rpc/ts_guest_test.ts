// tests/rpc/ts_guest_test.ts — the TypeScript guest library (rpc/guest.ts) through the example in
// examples/rpc-guest, as a real child of `ww run`, under Deno and (bundled) under Node.

import assert from "node:assert/strict";
import { join } from "node:path";
import { BUILD_DIR } from "../support/build.ts";
import { REPO, runWw } from "../support/ww.ts";

const EXAMPLE = `${REPO}examples/rpc-guest/main.ts`;
// The child's environment is empty but for --env: deno needs HOME for its cache, both need PATH.
const ENV = ["--env", "HOME", "--env", "PATH"];

function report(stdout: string) {
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

Deno.test("a Deno guest gets a typed client: identity, console, exec", async () => {
  const deno = ["deno", "run", "-A", "--config", `${REPO}deno.json`, EXAMPLE];
  const r = await runWw(["run", "--jail=none", "--with-console", "--with-exec", ...ENV, ...deno]);
  assert.equal(r.code, 0, r.stderr);
  const got = report(r.stdout);
  assert.deepEqual(got.identity.grants, ["console", "exec"]);
  assert.deepEqual(got.exec, { code: 3, signal: "" });
  assert.match(r.stderr, /^deno: info: hello from TypeScript$/m);
  assert.match(r.stderr, /^deno: warn: second line$/m);
});

Deno.test("a Deno guest without grants learns which flag it lacks", async () => {
  const deno = ["deno", "run", "-A", "--config", `${REPO}deno.json`, EXAMPLE];
  const r = await runWw(["run", "--jail=none", ...ENV, ...deno]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(report(r.stdout).console, /console is not granted: run ww with --with-console/);
});

Deno.test("the same guest, bundled for Node, works under node", async () => {
  const bundle = join(BUILD_DIR, `rpc-guest-${crypto.randomUUID()}.mjs`);
  await Deno.mkdir(BUILD_DIR, { recursive: true });
  const built = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--platform", "node", "--config", `${REPO}deno.json`, "-o", bundle, EXAMPLE],
  }).output();
  assert.ok(built.success, new TextDecoder().decode(built.stderr));
  try {
    const r = await runWw(["run", "--jail=none", "--with-console", ...ENV, "node", bundle]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(report(r.stdout).identity.grants, ["console"]);
    assert.match(r.stderr, /^node: info: hello from TypeScript$/m);
  } finally {
    await Deno.remove(bundle);
  }
});
