// `ww run --jail=native` of programs from IPFS, through the real command line and a real js-ipfs
// node: the stage executes the verified descriptor itself (execveat), cold (a sealed memfd) and
// warm (the cached file, whose run needs no node), and the program gets the same descriptors,
// environment and jail as the same program from a local path. A #! script is the one difference:
// its interpreter reads the script as /dev/fd/N, so it holds that descriptor (its $0).
//
// ww runs as root here, so the program runs as a leased uid: the local fixtures are opened to
// everyone.

import assert from "node:assert/strict";
import { join } from "node:path";
import { buildC } from "../support/build.ts";
import { reportFds } from "../support/children.ts";
import { comparableReport, fdNumbers, parseReport } from "../support/report.ts";
import { runWw, type WwOptions } from "../support/ww.ts";
import { startIpfsd } from "./ipfsd.ts";
import { refusedPort } from "../support/listeners.ts";
import { HIDE_BWRAP_BEFORE, NO_BWRAP_PATH } from "../support/hide_bwrap.ts";

const ipfsd = await startIpfsd();
const tmp = await Deno.makeTempDir({ prefix: "wwtest-ipfs-native-" });
await Deno.chmod(tmp, 0o755);
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));

const text = (s: string) => new TextEncoder().encode(s);
const reporterPath = await reportFds();
const printArgvPath = await buildC(new URL("./print_argv.c", import.meta.url));

// What the jail looks like from inside a script: $0 (and what it links to) on its own line, then
// everything else.
const PROBE = `#!/bin/sh
case "$0" in
  /dev/fd/*) how=" flags $(sed -n 's/^flags:[[:space:]]*//p' /proc/$$/fdinfo/\${0#/dev/fd/})" ;;
  *) how="" ;;
esac
echo "zero: $0 -> $(readlink "$0")$how"
echo "args: $*"
echo "ids: $(id -u) $(id -g)"
grep -E '^(NoNewPrivs|Seccomp|CapEff|CapBnd):' /proc/self/status
echo "nofile: $(ulimit -n) nproc: $(ulimit -u)"
# The shell's own descriptors, by a glob it expands itself (a command substitution would race
# with the shell for the pipe it opens).
fds=""; for f in /proc/$$/fd/*; do fds="$fds \${f##*/}"; done; echo "fds:$fds"
echo "env: $(env | grep -v '^PWD=' | sort | tr '\\n' ' ')"
`;
const probePath = join(tmp, "probe.sh");
await Deno.writeTextFile(probePath, PROBE, { mode: 0o755 });
// An interpreter on the host but outside the jail's Landlock rules.
const hostShell = join(tmp, "sh");
await Deno.copyFile("/bin/sh", hostShell);
await Deno.chmod(hostShell, 0o755);

const dir = await ipfsd.addTree({
  "bin/report": await Deno.readFile(reporterPath),
  "bin/tool": await Deno.readFile(printArgvPath),
  "bin/probe.sh": text(PROBE),
  "bin/outside.sh": text(`#!${hostShell}\necho escaped\n`),
  "bin/nowhere.sh": text("#!/nonexistent/sh\necho escaped\n"),
});

// Deno keeps its own cache under XDG_CACHE_HOME unless DENO_DIR says otherwise: pin it, so that
// the private ww caches below do not make every `deno run main.ts` fetch its packages again.
const DENO_DIR = JSON.parse(
  new TextDecoder().decode(
    (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output()).stdout,
  ),
).denoDir;

const NATIVE = ["--jail=native"];

/** A fresh private ww cache directory (XDG_CACHE_HOME). */
function freshCache(): string {
  return Deno.makeTempDirSync({ dir: tmp, prefix: "xdg-" });
}

/**
 * `ww run` with the cache `cache` and the node as --ipfs; with `offline`, a node address nothing
 * listens on, so that only a cached program can run.
 */
function ww(
  args: string[],
  cache: string,
  options: WwOptions & { offline?: boolean } = {},
) {
  const api = options.offline ? `/ip4/127.0.0.1/tcp/${refusedPort()}/http` : ipfsd.api;
  return runWw(["run", "--ipfs", api, ...args], {
    ...options,
    env: { XDG_CACHE_HOME: cache, DENO_DIR, ...options.env },
  });
}

/** A cold run (fresh cache), then a warm one of the same command with no node to reach. */
async function coldAndWarm(args: string[], options: WwOptions = {}) {
  const cache = freshCache();
  const cold = await ww(args, cache, options);
  const warm = await ww(args, cache, { ...options, offline: true });
  return { cold, warm, cache };
}

Deno.test("--jail=native runs an IPFS program cold and warm with the descriptors and environment of the local program", async () => {
  const options: WwOptions = { fds: { 7: { read: "/etc/hostname" }, 9: { pipe: "piped\n" } } };
  const flags = [...NATIVE, "--with-fd", "host=7", "--with-fd", "pipe=9", "--env", "A=1"];
  const local = await ww([...flags, reporterPath, "read=5"], freshCache(), options);
  assert.equal(local.code, 0, local.stderr);
  const { cold, warm } = await coldAndWarm(
    [...flags, `/ipfs/${dir}/bin/report`, "read=5"],
    options,
  );
  for (const remote of [cold, warm]) {
    assert.equal(remote.code, 0, remote.stderr);
    const report = parseReport(remote.stdout);
    assert.deepEqual(fdNumbers(report), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(comparableReport(report), comparableReport(parseReport(local.stdout)));
    assert.deepEqual(report.lines, { "5": "piped" });
  }
});

Deno.test("--jail=native: argv[0] of an IPFS program is the path's last segment, cold and warm", async () => {
  const { cold, warm } = await coldAndWarm([...NATIVE, `/ipfs/${dir}/bin/tool`, "a", "b c"]);
  for (const r of [cold, warm]) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "tool\na\nb c\n");
  }
});

Deno.test("--jail=native: a #! script from IPFS runs in the jail of a local one, and holds its script at fd 4 as $0", async () => {
  const local = await ww([...NATIVE, "--env", "B=2", probePath, "x", "y z"], freshCache());
  assert.equal(local.code, 0, local.stderr);
  const { cold, warm, cache } = await coldAndWarm([
    ...NATIVE,
    "--env",
    "B=2",
    `/ipfs/${dir}/bin/probe.sh`,
    "x",
    "y z",
  ]);
  const lines = (stdout: string) => stdout.trimEnd().split("\n");
  const [localZero, ...localRest] = lines(local.stdout);
  assert.equal(localZero, `zero: ${probePath} -> `);
  // Cold, the script is the sealed memfd; warm, the cached file.
  // Both read-only: the memfd was made read-write, and the script gets a reopen of it.
  assert.match(cold.stdout, /^zero: \/dev\/fd\/4 -> \/memfd:probe\.sh \(deleted\) flags \d+$/m);
  assert.match(
    warm.stdout,
    new RegExp(`^zero: /dev/fd/4 -> ${cache}/ww/ipfs/\\S+ flags \\d+$`, "m"),
  );
  for (const remote of [cold, warm]) {
    const flags = parseInt(remote.stdout.match(/^zero: .* flags (\d+)$/m)![1], 8);
    assert.equal(flags & 3, 0, `fd 4 is opened read-only (flags ${flags.toString(8)})`);
  }
  for (const remote of [cold, warm]) {
    assert.equal(remote.code, 0, remote.stderr);
    const [, ...rest] = lines(remote.stdout);
    // The same lines but the descriptors: fd 4 is the script ww handed over, which the shell
    // reopened (as /dev/fd/4) at 10, where the local shell has its script; the glob's directory
    // takes the lowest free number.
    const fds = (ls: string[]) => ls.find((l) => l.startsWith("fds:"));
    assert.equal(fds(localRest), "fds: 0 1 10 2 3 4");
    assert.equal(fds(rest), "fds: 0 1 10 2 3 4 5");
    // Each run leases its own host id (ww is root), so the ids are compared by pattern below.
    const others = (ls: string[]) =>
      ls.filter((l) => !l.startsWith("fds:") && !l.startsWith("ids:"));
    assert.deepEqual(others(rest), others(localRest));
    assert.match(remote.stdout, /^args: x y z$/m);
    assert.match(remote.stdout, /^ids: (7\d{4}) \1$/m); // the leased id: ww is root
    assert.match(local.stdout, /^ids: (7\d{4}) \1$/m);
  }
});

Deno.test("--jail=native: a #! script from IPFS whose interpreter is outside the jail is refused", async () => {
  // Checked before the jail is built, as a local script is: it was the stage's execve that
  // failed (126, EACCES), in other words than a local script's.
  const outside = await ww([...NATIVE, `/ipfs/${dir}/bin/outside.sh`], freshCache());
  assert.equal(outside.code, 127, outside.stderr);
  assert.equal(outside.stdout, "");
  assert.equal(
    outside.stderr,
    `ww: /ipfs/${dir}/bin/outside.sh: its interpreter ${hostShell} (from the #! line) exists on this machine but not in the jail, which shows the system directories and the binds (show it with --ro-bind ${hostShell})\n`,
  );
  const nowhere = await ww([...NATIVE, `/ipfs/${dir}/bin/nowhere.sh`], freshCache());
  assert.equal(nowhere.code, 127, nowhere.stderr);
  // Issue 11: the message names the missing interpreter (it said "the file or its interpreter").
  assert.match(
    nowhere.stderr,
    /: its interpreter \/nonexistent\/sh \(from the #! line\) does not exist \(install it, or fix the #! line\)\n$/,
  );
});

Deno.test("--jail=auto falls back to the native jail for an IPFS program where bwrap is not in PATH", async () => {
  const r = await ww(["--debug", `/ipfs/${dir}/bin/tool`, "a"], freshCache(), {
    env: { PATH: NO_BWRAP_PATH },
    before: HIDE_BWRAP_BEFORE,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^ww: jail: native \(auto: bwrap is not in PATH\)$/m);
  assert.equal(r.stdout, "tool\na\n");
});

Deno.test("--jail=native --explain shows an IPFS program executed from its descriptor", async () => {
  const r = await ww([...NATIVE, "--explain", `/ipfs/${dir}/bin/tool`], freshCache());
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^program: /ipfs/${dir}/bin/tool$`, "m"));
  assert.match(
    r.stdout,
    /^ {2}program: executed from fd 4 \(execveat AT_EMPTY_PATH\), closed on exec$/m,
  );
});
