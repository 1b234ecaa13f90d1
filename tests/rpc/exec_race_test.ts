// tests/rpc/exec_race_test.ts — a hostile guest races Executor.start (the exec capability): while
// it asks ww to start a program in its writable bind, a child of its own swaps that name with a
// symlink to a host file its jail does not show, as fast as the kernel allows. ww checks the
// program where the guest's view shows it (run/view.ts); the file it starts must be the one it
// checked, so the hidden program (a copy of false: exit 1) must never run.

import assert from "node:assert/strict";
import { runWw } from "../support/ww.ts";
import { buildGuest } from "./build.ts";

/** Starts per run: each start has about even odds of being checked and started across a swap. */
const STARTS = 30;

/** The guest's outcomes, one per start. */
function outcomes(stdout: string): Record<string, unknown>[] {
  return stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

/** A shared (guest-writable) directory and a hidden one holding `evil`, a copy of false. */
async function dirs(): Promise<{ shared: string; hidden: string; evil: string }> {
  const shared = await Deno.makeTempDir({ prefix: "ww-race-shared-" });
  const hidden = await Deno.makeTempDir({ prefix: "ww-race-hidden-" });
  // The guest runs as a leased uid of its own when ww is root: it must be able to rename here.
  await Deno.chmod(shared, 0o777);
  await Deno.chmod(hidden, 0o755);
  const evil = `${hidden}/evil`;
  await Deno.copyFile("/usr/bin/false", evil);
  await Deno.chmod(evil, 0o755);
  return { shared, hidden, evil };
}

/** Asserts the hidden program never ran, and that the race left ww able to start the real one. */
function assertNeverEvil(r: { code: number; stdout: string; stderr: string }): void {
  assert.equal(r.code, 0, r.stderr);
  const all = outcomes(r.stdout);
  assert.equal(all.length, STARTS + 1, r.stdout);
  const racing = all.filter((o) => !o.after);
  const evil = racing.filter((o) => o.code === 1);
  assert.deepEqual(evil, [], `the hidden program ran ${evil.length} of ${STARTS} times`);
  // Each start across the swaps found the real program or was refused, not lost.
  for (const o of racing) {
    assert.ok(o.code === 5 || typeof o.error === "string", JSON.stringify(o));
  }
  // Not vacuous: once the swapping stops, the same start runs the real program. (How many
  // racing starts get through depends on the machine's load: under a full parallel run, none.)
  assert.deepEqual(all.at(-1), { code: 5, after: true }, r.stdout);
}

Deno.test("native: a guest swapping its program for a symlink out of its view never runs the hidden file", async () => {
  const { shared, hidden, evil } = await dirs();
  try {
    await Deno.writeTextFile(`${shared}/prog`, "#!/bin/sh\nexit 5\n");
    await Deno.chmod(`${shared}/prog`, 0o755);
    await Deno.symlink(evil, `${shared}/other`);
    const guest = await buildGuest();
    const prog = `${shared}/prog`;
    const r = await runWw([
      "run",
      "--jail=native",
      "--bind",
      shared,
      "--with-exec",
      guest,
      "race",
      String(STARTS),
      prog,
      `${shared}/other`,
      prog,
    ]);
    assertNeverEvil(r);
  } finally {
    await Deno.remove(shared, { recursive: true });
    await Deno.remove(hidden, { recursive: true });
  }
});

// Under bwrap the program a guest starts is executed inside the new jail, where a symlink is
// followed in the jail's own view; but a program the view shows by a mount of its own (the
// guest's own program) is bound into the new jail from its host path. A guest whose own program
// sits in its writable bind, shown there under another name, swaps that host file.
Deno.test("bwrap: a guest swapping its own program's host file for a symlink never runs the hidden file", async () => {
  const { shared, hidden, evil } = await dirs();
  try {
    const guest = `${shared}/guest`;
    await Deno.copyFile(await buildGuest(), guest);
    await Deno.chmod(guest, 0o755);
    await Deno.symlink(evil, `${shared}/other`);
    const r = await runWw([
      "run",
      "--jail=bwrap",
      "--bind",
      `${shared}:/data`,
      "--with-exec",
      guest,
      "race",
      String(STARTS),
      "/data/guest",
      "/data/other",
      guest,
      "exit",
      "5",
    ]);
    assertNeverEvil(r);
  } finally {
    await Deno.remove(shared, { recursive: true });
    await Deno.remove(hidden, { recursive: true });
  }
});
