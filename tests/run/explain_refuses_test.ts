// `--explain` prints what a run would do, so it refuses what the run would refuse before starting
// anything: the same one line on stderr and the same exit code (125; 126 for a program the jail
// cannot execute). It printed the plan and
// exited 0 for a grant of a closed descriptor, a limit the jail cannot start under, a program the
// jail's user cannot reach, and an /ipfs/ root that is no CID.

import assert from "node:assert/strict";
import { runWw } from "../support/ww.ts";

const tmp = await Deno.makeTempDir({ prefix: "wwtest-explain-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
// A program only root can reach: ww is root here, and its jails run as a leased uid.
await Deno.chmod(tmp, 0o700);
await Deno.copyFile("/bin/true", `${tmp}/prog`);

const CASES: Record<string, readonly string[]> = {
  "a grant of a descriptor the caller has not open": ["--with-fd", "db=900", "/bin/true"],
  "--nproc below the bwrap jail's minimum": ["--jail=bwrap", "--nproc", "1", "/bin/true"],
  "--nofile too low for the native jail's run": ["--jail=native", "--nofile", "3", "/bin/true"],
  "a program the jail's user cannot reach (bwrap)": ["--jail=bwrap", `${tmp}/prog`],
  "a program the jail's user cannot reach (native)": ["--jail=native", `${tmp}/prog`],
  "an /ipfs/ path whose root is no CID": ["/ipfs/QmNotACid"],
  "a --uid larger than bwrap takes": ["--uid", "2147483648", "/bin/true"],
  // --explain printed "starts in: /nonexistent" and exited 0 under --jail=none.
  "a --chdir that is no directory (none)": [
    "--jail=none",
    "--chdir",
    "/nonexistent-ww",
    "/bin/true",
  ],
  "a --chdir that is a file (none)": ["--jail=none", "--chdir", "/etc/hostname", "/bin/true"],
};

for (const [what, args] of Object.entries(CASES)) {
  Deno.test(`--explain refuses what the run refuses: ${what}`, async () => {
    const run = await runWw(["run", ...args]);
    const explained = await runWw(["run", "--explain", ...args]);
    assert.equal(run.code, what.startsWith("a program the jail's user") ? 126 : 125, run.stderr);
    assert.match(run.stderr, /^ww: [^\n]+\n$/);
    assert.equal(explained.code, run.code, explained.stdout);
    // The jail's leased uid is the first free one at each start: tests running beside this one
    // may hold another at one moment than at the next.
    const anyUid = (line: string) => line.replace(/\buid \d+/g, "uid N");
    assert.equal(anyUid(explained.stderr), anyUid(run.stderr));
    assert.equal(explained.stdout, "");
  });
}

Deno.test("--explain of a run that starts still prints its plan and exits 0", async () => {
  const r = await runWw(["run", "--explain", "--jail=native", "--nproc", "1", "/bin/true"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^program: \/bin\/true$/m);
});
