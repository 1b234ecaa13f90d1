// `--explain` prints what a run would do, so it refuses what the run would refuse before starting
// anything: the same one line on stderr and the same exit code (125; 126 for a program the jail
// cannot execute). It printed the plan and
// exited 0 for a grant of a closed descriptor, a limit the jail cannot start under, a program the
// jail's user cannot reach, and an /ipfs/ root that is no CID.

import assert from "node:assert/strict";
import { runWw, runWwAsUser } from "../support/ww.ts";

const tmp = await Deno.makeTempDir({ prefix: "wwtest-explain-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
// A program only root can reach: ww is root here, and its jails run as a leased uid.
await Deno.chmod(tmp, 0o700);
await Deno.copyFile("/bin/true", `${tmp}/prog`);
// One variable longer than execve takes in one string (128 KiB): the run failed with E2BIG.
await Deno.writeTextFile(`${tmp}/big.env`, `BIG=${"x".repeat(200_000)}\n`);

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
  "an --env-file value longer than execve takes in one string": [
    "--env-file",
    `${tmp}/big.env`,
    "/bin/true",
  ],
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

// Not root, a bwrap jail runs as ww's own uid, whose processes and threads (ww's own among them)
// RLIMIT_NPROC counts: a run refused --nproc 5 every time, once bwrap failed to fork, while
// --explain printed the plan and exited 0.
Deno.test("--explain refuses what the run refuses: an --nproc ww's own uid has used up (bwrap, not root)", async () => {
  const home = Deno.makeTempDirSync({ prefix: "wwtest-explain-home-" });
  Deno.chmodSync(home, 0o777);
  try {
    const args = ["run", "--jail=bwrap", "--nproc", "5", "/bin/true"];
    const env = { TMPDIR: home };
    // A uid no other test runs as: only this ww's processes count.
    const run = await runWwAsUser(4247, args, home, env);
    const explained = await runWwAsUser(4247, ["run", "--explain", ...args.slice(1)], home, env);
    assert.equal(run.code, 125, run.stderr);
    assert.match(
      run.stderr,
      /^ww: --nproc 5: uid 4247, whose processes the limit counts, already runs/,
    );
    assert.equal(explained.code, 125, explained.stdout);
    // ww's own threads at that moment: the counts may differ by a thread or two.
    const anyCount = (text: string) =>
      text.replace(/\d+ processes or threads|--nproc \d+ or more/g, "N");
    assert.equal(anyCount(explained.stderr), anyCount(run.stderr));
    assert.equal(explained.stdout, "");
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

// `unlimited` (and --cpu's default) set nothing: the program keeps ww's own limit, which --explain
// said was "unlimited" whatever it was.
Deno.test("--explain names ww's own limit where the run sets none, as the program gets it", async () => {
  const before = "ulimit -St 100";
  const args = ["--jail=bwrap", "--nofile", "unlimited", "/bin/cat", "/proc/self/limits"];
  const run = await runWw(["run", ...args], { before });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Max cpu time\s+100\s/m);
  const explained = await runWw(["run", "--explain", ...args], { before });
  assert.equal(explained.code, 0, explained.stderr);
  assert.match(explained.stdout, /cpu 100s, ww's own \(RLIMIT_CPU, --cpu\)/);
  const files = /^Max open files\s+(\d+)\s/m.exec(run.stdout)?.[1];
  assert.ok(files, run.stdout);
  assert.match(explained.stdout, new RegExp(`open files ${files}, ww's own \\(RLIMIT_NOFILE`));
});
