// A Deno program that uses ww as a library may exit (Deno.exit) while a program it started still
// runs: that run's cleanups never come, and the caller's descriptor states the program changed
// must still be given back, by the exit hooks (run/exit_hooks.ts). The command line runs them
// itself before its own exit, and adds no "unload" listener.

import assert from "node:assert/strict";
import { join } from "node:path";
import { DENO, reportFds } from "../support/children.ts";
import { REPO, runWw } from "../support/ww.ts";

const child = await reportFds();
const O_NONBLOCK = 0o4000;

/** A library user: starts report_fds, which makes the shared stdout nonblocking, then exits. */
const LIBRARY_USER = `
import { Command } from ${JSON.stringify(`${REPO}mod.ts`)};
const [program, backend, pidFile] = Deno.args;
const child = await new Command(program, {
  args: ["setfl=1:${O_NONBLOCK.toString(8)}", "stdout=2", "wait-signal"],
  stdout: "inherit",
  stderr: "piped",
  jail: { backend },
}).spawn();
const reader = child.stderr.getReader();
let seen = "";
while (!seen.includes("ready")) {
  const { value, done } = await reader.read();
  if (done) throw new Error("the program ended before it was ready: " + seen);
  seen += new TextDecoder().decode(value);
}
// Unjailed, nothing ends the program when this process exits: the test does.
Deno.writeTextFileSync(pidFile, String(child.pid));
Deno.exit(0);
`;

/**
 * Ends the unjailed program whose pid the library user wrote: it waits for a signal, so the pid is
 * still its own. (A jail's program ends with ww: the pid written, its stage's, may be another's by
 * now.)
 */
function endProgram(pidFile: string): void {
  let pid: number;
  try {
    pid = Number(Deno.readTextFileSync(pidFile));
  } catch {
    return; // the library user failed before it wrote it
  }
  Deno.kill(pid, "SIGKILL");
}

for (const backend of ["none", "bwrap", "native"] as const) {
  Deno.test(`[jail=${backend}] a library user's Deno.exit during a run gives the caller's stdout its flags back`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-exit-hooks-" });
    try {
      const script = join(dir, "user.ts");
      const pidFile = join(dir, "pid");
      Deno.writeTextFileSync(script, LIBRARY_USER);
      const r = await runWw([child, backend, pidFile], {
        ww: [DENO, "run", "-A", "--no-config", script],
        // The run's work directory too, then: unjailed, nothing removes it once the user exited.
        env: { TMPDIR: dir },
        then: `sed -n 's/^flags:\\t*/fd1 /p' /proc/$$/fdinfo/1; exit $ww`,
      });
      assert.equal(r.code, 0, r.stderr);
      const m = /^fd1 ([0-7]+)$/m.exec(r.stdout);
      assert.ok(m, `no flags of fd 1: ${r.stdout}`);
      assert.equal(parseInt(m[1], 8) & O_NONBLOCK, 0, "stdout left nonblocking");
    } finally {
      if (backend === "none") endProgram(join(dir, "pid"));
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

Deno.test("ww run adds no unload listener: Deno dispatches no unload event at its exit", async () => {
  const log = join(Deno.makeTempDirSync({ prefix: "wwtest-exit-hooks-" }), "v8.log");
  try {
    // V8's log names each function compiled on its first call: dispatching "unload" compiles
    // Deno's event path (ext:deno_web/02_event.js), which a run then paid for.
    const r = await runWw(["run", "--jail=none", child, "stdout=2"], {
      ww: [
        DENO,
        "run",
        "-A",
        `--v8-flags=--log-function-events,--logfile=${log},--no-logfile-per-isolate`,
        `${REPO}main.ts`,
      ],
    });
    assert.equal(r.code, 0, r.stderr);
    const lines = Deno.readTextFileSync(log).split("\n").map((l) => l.split(","));
    const eventScript = lines.find((l) =>
      l[0] === "script-details" && l[2]?.endsWith("02_event.js")
    )
      ?.[1];
    assert.ok(lines.some((l) => l[1] === "parse-function"), "V8's log names no compiled function");
    const compiled = lines.filter((l) =>
      l[0] === "function" && l[1] === "parse-function" && l[2] === eventScript
    ).map((l) => l.at(-1));
    assert.ok(!compiled.includes("dispatch"), `unload was dispatched (compiled: ${compiled})`);
  } finally {
    Deno.removeSync(join(log, ".."), { recursive: true });
  }
});
