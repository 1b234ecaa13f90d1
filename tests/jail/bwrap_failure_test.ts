// A bwrap jail that bubblewrap cannot set up fails in one line that carries bubblewrap's own
// reason, as a JailError (backend, reason) for a library caller: bwrap's stderr is a pipe to ww,
// and the stage in the jail gives the program its real stderr once bwrap's set-up is done. Made
// to fail with deny.c: mount(2) refused (bwrap fails after the jail's pid 1 exists), and user
// namespaces refused (bwrap fails before).

import assert from "node:assert/strict";
import { buildC } from "../support/build.ts";
import { runUnder } from "./deny.ts";

const REASON = /^bwrap: [^\n;]*Operation not permitted$/;

Deno.test("mount refused: one line with bwrap's reason, exit 125, and nothing of the program ran", async () => {
  const r = await runUnder("mount", [
    "run",
    "--jail=bwrap",
    "/bin/sh",
    "-c",
    "echo ran; echo ran >&2",
  ]);
  assert.equal(r.code, 125, r.stderr);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0],
    /^ww: bubblewrap could not set up the jail \(--jail=bwrap\): bwrap: [^;]*Operation not permitted; ww doctor tells what this machine offers$/,
  );
});

Deno.test("user namespaces refused: bwrap's reason is in ww's one line", async () => {
  const r = await runUnder("userns", ["run", "--jail=bwrap", "/bin/true"]);
  assert.equal(r.code, 125, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^ww: bubblewrap could not set up the jail \(--jail=bwrap\): bwrap: /);
});

Deno.test("Command: a jail bwrap cannot set up is a JailError with bwrap's reason, in a library caller's words", async () => {
  const deny = await buildC(new URL("./deny.c", import.meta.url));
  const out = await new Deno.Command(deny, {
    args: [
      "mount",
      Deno.execPath(),
      "run",
      "-A",
      new URL("./bwrap_failure_probe.ts", import.meta.url).pathname,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  // Nothing of bwrap's reaches the caller's stderr: it is in the error.
  assert.equal(stderr, "");
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(r.name, "JailError", JSON.stringify(r));
  assert.equal(r.jailError, true);
  assert.equal(r.backend, "bwrap");
  assert.match(r.reason, REASON);
  assert.equal(r.exitCode, 125);
  assert.equal(
    r.message,
    `bubblewrap could not set up the jail (jail.backend "bwrap"): ${r.reason}; ww doctor tells what this machine offers`,
  );
  assert.doesNotMatch(r.message, /--/);
  assert.equal(
    r.commandLine,
    `bubblewrap could not set up the jail (--jail=bwrap): ${r.reason}; ww doctor tells what this machine offers`,
  );
});

Deno.test("a program's own stderr still reaches the caller under bwrap, and its exit code is its own", async () => {
  const r = await runUnder(undefined, [
    "run",
    "--jail=bwrap",
    "/bin/sh",
    "-c",
    "echo to-stderr >&2; exit 1",
  ]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "to-stderr\n");
});
