// examples/fd-demo under `ww run`, in Deno and in Node: a TypeScript guest sees the same fd 3, the
// same grants by name (through examples/guest/fdmap.ts) and the same clean environment as the C
// reporter does.

import assert from "node:assert/strict";
import { join } from "node:path";
import type { DemoReport } from "../../examples/fd-demo/main.ts";
import { DENO, FD_DEMO, fdDemoForNode, which } from "../support/children.ts";
import { fdOf, identity, pathIdentity } from "../support/report.ts";
import { JAIL_MODES, jailFlags, type JailMode, REPO, runWw } from "../support/ww.ts";

const dir = Deno.makeTempDirSync({ prefix: "wwtest-demo-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const stray = join(dir, "stray.txt");
Deno.writeTextFileSync(stray, "not for the child\n");
const node = which("node");
const nodeDemo = await fdDemoForNode();

/** What the demo needs beyond the system directories when jailed. */
function jailExtras(jail: JailMode, paths: string[]): string[] {
  if (jail === "none") return [];
  return paths.flatMap((p) => ["--ro-bind", p]);
}

async function demo(jail: JailMode, runtime: string[], extra: string[]): Promise<DemoReport> {
  const r = await runWw(
    [
      "run",
      ...jailFlags(jail),
      ...extra,
      ...["--with-fd", "db=7", "--env", "GREETING=hello"],
      ...runtime,
      "--read",
      "db",
    ],
    { fds: { 7: { pipe: "through the db fd\nmore\n" }, 1500: { read: stray } } },
  );
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

function assertSeesGrants(report: DemoReport, extraEnv: Record<string, string>): void {
  assert.deepEqual(report.fdMap, { db: 4 });
  assert.deepEqual(report.env, { GREETING: "hello", WW_FD_DB: "4", ...extraEnv });
  assert.deepEqual(report.lines, { db: "through the db fd" });
  assert.equal(fdOf(report, 3).kind, "socket");
  assert.equal(fdOf(report, 4).kind, "pipe");
  assert.match(report.cwd, /\/ww-[^/]+$/);
  // The runtime opens descriptors of its own, but none of them is the caller's stray file.
  const strayId = pathIdentity(stray);
  assert.deepEqual(report.fds.filter((f) => identity(f) === strayId), []);
}

for (const jail of JAIL_MODES) {
  const t = (name: string, fn: () => Promise<void>) => Deno.test(`[jail=${jail}] ${name}`, fn);

  t("the demo under Deno sees fd 3, its grant by name, and reads a line through it", async () => {
    // Jailed, the nobody user has no home for Deno's cache; the jail's /tmp is private.
    const cache: Record<string, string> = jail === "none" ? {} : { DENO_DIR: "/tmp/deno" };
    const report = await demo(jail, [DENO, "run", "-A", FD_DEMO], [
      ...jailExtras(jail, [`${REPO}examples`]),
      ...Object.entries(cache).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
    ]);
    assert.equal(report.runtime, "deno");
    assertSeesGrants(report, cache);
  });

  t("the demo under Node sees the same", async () => {
    const report = await demo(jail, [node, nodeDemo], jailExtras(jail, [nodeDemo]));
    assert.equal(report.runtime, "node");
    assertSeesGrants(report, {});
  });
}

Deno.test("[jail=none] the demo runs as a #! script when PATH is passed on", async () => {
  const denoDir = DENO.slice(0, DENO.lastIndexOf("/"));
  const r = await runWw(
    ["run", "--jail=none", "--env", `PATH=${denoDir}:/usr/bin:/bin`, FD_DEMO],
    {},
  );
  assert.equal(r.code, 0, r.stderr);
  const report: DemoReport = JSON.parse(r.stdout);
  assert.equal(report.runtime, "deno");
  assert.deepEqual(report.env, { PATH: `${denoDir}:/usr/bin:/bin` });
  assert.deepEqual(report.fdMap, {});
});
