// ww short of file descriptors (a low `ulimit -n`): under every backend, whichever of its own calls
// meets the limit, the run ends with one line that says so and how to fix it, exit 125, and leaves
// nothing behind. (Before: "internal error: socketpair: EMFILE", an uncaught stack trace from the
// reactor's wake pipe with exit 1, a work directory left in TMPDIR, and a program ww had started
// but could not hold running on unwaited.) Where the reactor has no descriptor for its wake pipe,
// it polls instead (ffi/reactor_test.ts), and the run goes on.

import assert from "node:assert/strict";
import { stripVTControlCharacters as stripAnsi } from "node:util";
import { privateTmp, processesWithArg, wwDirs } from "../support/procs.ts";
import { errorLines, REPO, runWw, wwCommand } from "../support/ww.ts";

/**
 * Whether Deno failed on its own, before ww could say anything. Deno itself needs ~20-24
 * descriptors, a number that differs between machines, and without them it panics (its signal
 * handling, where ww adds a listener) or fails to load ww's main module or deno.lock, each an
 * "error:" of Deno's, exit 1. ww's own failures are "ww:" lines, and its unhandled ones "Uncaught".
 */
function denoFailedAlone(r: { code: number; stderr: string }): boolean {
  const text = stripAnsi(r.stderr);
  return r.code === 1 && (/Deno has panicked/.test(text) ||
    (/^error: /m.test(text) && !/^ww:/m.test(text) && !/Uncaught/.test(text)));
}

/**
 * ww's lines of `stderr` (errorLines), without a warning Deno itself prints when it is short of
 * descriptors and goes on: with NODE_EXTRA_CA_CERTS set (as on some machines), "Warning:
 * Ignoring extra certs from …, load failed: Too many open files (os error 24)".
 */
function wwLines(stderr: string): string[] {
  return errorLines(stripAnsi(stderr)).filter((l) => !/^Warning: .*\(os error 2[34]\)$/.test(l));
}

const SHORTAGE =
  /^ww: out of file descriptors \(.*EMFILE\): raise ww's open-file limit \(ulimit -n\)$/;

/** Asserts that `r` is ww's one line for a shortage of descriptors, exit 125. */
function assertShortage(r: { code: number; stderr: string }, label: string): void {
  assert.equal(r.code, 125, `${label}: ${r.stderr}`);
  const lines = wwLines(r.stderr);
  assert.equal(lines.length, 1, `${label}: ${r.stderr}`);
  assert.match(lines[0], SHORTAGE, label);
}

/** Deno's cache directory (`deno info --json`), for runs whose XDG_CACHE_HOME would move it. */
async function denoCacheDir(): Promise<string> {
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  return JSON.parse(new TextDecoder().decode(info.stdout)).denoDir;
}

for (const jail of ["none", "native", "bwrap"]) {
  Deno.test(`--jail=${jail}: short of descriptors, one line naming the limit, exit 125, nothing left`, async () => {
    const tmp = privateTmp();
    let short = 0;
    try {
      // From too few for ww's first socket to enough for the run, one at a time: each of ww's
      // own calls in turn is the one that fails.
      for (let limit = 20; limit <= 44; limit += 1) {
        const tag = `tag=${crypto.randomUUID()}`;
        const nofile = jail === "none" ? [] : ["--nofile", String(limit)];
        const r = await runWw(
          ["run", `--jail=${jail}`, ...nofile, "/bin/sh", "-c", `echo ${tag}; sleep 0.2`, tag],
          { before: `ulimit -n ${limit}`, env: { TMPDIR: tmp } },
        );
        assert.deepEqual(processesWithArg(tag), [], `${limit}: a program left running`);
        assert.deepEqual(wwDirs(tmp), [], `${limit}: a work directory left`);
        if (denoFailedAlone(r)) continue;
        if (r.code === 0) {
          assert.equal(r.stdout, `${tag}\n`, `${limit}: ${r.stderr}`);
          assert.deepEqual(wwLines(r.stderr), [], `${limit}`);
        } else {
          short++;
          assertShortage(r, `${limit}`);
          // ww says it started nothing, and it did not: the program never ran (before: it ran
          // and printed, and was then killed when ww could not hold it).
          assert.equal(r.stdout, "", `${limit}: the program ran`);
        }
      }
      assert.ok(short > 0, "no limit was too low: the test saw no shortage");
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  });
}

// A bind's source opened short of descriptors said "the bind of X: it changed as ww opened it
// (...: EMFILE: a part of its path was replaced since ww resolved it)", as if the path had moved;
// and the file of a program outside the system's directories, which the native jail holds for
// its rule, "X: it changed as ww started it (EMFILE)".
for (const jail of ["native", "bwrap"]) {
  Deno.test(`--jail=${jail} binds and a program outside the system, short of descriptors: one line naming the limit`, async () => {
    const tmp = privateTmp();
    const program = `${tmp}/true`;
    Deno.copyFileSync("/bin/true", program);
    Deno.chmodSync(program, 0o755);
    let short = 0;
    try {
      for (let limit = 24; limit <= 44; limit++) {
        const r = await runWw(
          [
            "run",
            `--jail=${jail}`,
            "--nofile",
            String(limit),
            "--ro-bind",
            "/etc/hostname",
            "--ro-bind",
            "/usr/share",
            program,
          ],
          { before: `ulimit -n ${limit}`, env: { TMPDIR: tmp } },
        );
        if (denoFailedAlone(r) || r.code === 0) continue;
        short++;
        assertShortage(r, `${limit}`);
      }
      assert.ok(short > 0, "no limit was too low: the test saw no shortage");
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  });
}

// --jail=auto's try of bwrap short of descriptors said "--jail=auto could not try bubblewrap:
// pipe2: EMFILE; nothing was run (try again, e.g. once fewer processes run, ...)".
Deno.test("--jail=auto's try of bwrap short of descriptors: the same one line, naming the limit", async () => {
  const tmp = privateTmp();
  // Deno's own cache pinned where it is: XDG_CACHE_HOME would move it.
  const denoDir = await denoCacheDir();
  let short = 0;
  try {
    for (let limit = 24; limit <= 44; limit++) {
      // A cache of ww's own for each run, so that each tries bwrap anew (none is remembered).
      const cache = Deno.makeTempDirSync({ dir: tmp, prefix: "cache-" });
      const r = await runWw(["run", "--nofile", String(limit), "/bin/true"], {
        before: `ulimit -n ${limit}`,
        env: { TMPDIR: tmp, XDG_CACHE_HOME: cache, DENO_DIR: denoDir },
      });
      if (denoFailedAlone(r) || r.code === 0) continue;
      short++;
      assertShortage(r, `${limit}`);
    }
    assert.ok(short > 0, "no limit was too low: the test saw no shortage");
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

// `ww cache` short of descriptors said "cache clear: cannot use <dir> (Too many open files; set
// XDG_CACHE_HOME to a directory of your own)", as if the directory were at fault.
Deno.test("ww cache short of descriptors: one line naming the limit, not the directory", async () => {
  const cache = Deno.makeTempDirSync({ prefix: "wwtest-cache-" });
  // Deno's own cache pinned where it is: XDG_CACHE_HOME would move it.
  const denoDir = await denoCacheDir();
  let short = 0;
  try {
    for (let limit = 18; limit <= 32; limit++) {
      for (const sub of ["files", "paths", "tmp"]) {
        Deno.mkdirSync(`${cache}/ww/ipfs/${sub}`, { recursive: true });
      }
      for (const command of ["list", "clear"]) {
        const r = await runWw(["cache", command], {
          before: `ulimit -n ${limit}`,
          env: { XDG_CACHE_HOME: cache, DENO_DIR: denoDir },
        });
        if (denoFailedAlone(r) || r.code === 0) continue;
        short++;
        assertShortage(r, `${limit} ${command}`);
      }
    }
    assert.ok(short > 0, "no limit was too low: the test saw no shortage");
  } finally {
    Deno.removeSync(cache, { recursive: true });
  }
});

// A --deno guest's bundle directory: short of descriptors, deno bundle's spawn failed, and so did
// the recursive removal of its still empty directory, which was left in TMPDIR.
Deno.test("--deno short of descriptors: the bundle's directory is not left behind", async () => {
  const tmp = privateTmp();
  const guest = `${tmp}/guest.ts`;
  Deno.writeTextFileSync(guest, "console.log(Deno.args[0]);\n");
  let short = 0;
  try {
    for (let limit = 20; limit <= 34; limit++) {
      const tag = `tag=${crypto.randomUUID()}`;
      const r = await runWw(["run", "--jail=none", "--deno", guest, tag], {
        before: `ulimit -n ${limit}`,
        env: { TMPDIR: tmp },
      });
      assert.deepEqual(wwDirs(tmp), [], `${limit}: a bundle or work directory left`);
      assert.deepEqual(processesWithArg(tag), [], `${limit}: a program left running`);
      if (denoFailedAlone(r) || r.code === 0) continue;
      short++;
      assertShortage(r, `${limit}`);
    }
    assert.ok(short > 0, "no limit was too low: the test saw no shortage");
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

// A --jail=none run's pidfd was opened only after the spawn: short of descriptors there, the
// program had run (and printed, some of the time) before ww killed it and said it had started
// nothing. Now its descriptor is kept from before the spawn. strace tells for sure whether the
// program was executed at all, where its output would tell only when it won the race.
Deno.test("--jail=none: short of descriptors, the program is never started when ww says it was not", async () => {
  const tmp = privateTmp();
  let short = 0;
  try {
    for (let limit = 24; limit <= 44; limit++) {
      const log = `${tmp}/strace-${limit}`;
      const r = await runWw(["run", "--jail=none", "/bin/echo", "started"], {
        before: `ulimit -n ${limit}`,
        env: { TMPDIR: tmp },
        ww: [
          "strace",
          "-f",
          "-qq",
          "-e",
          "trace=execve",
          "-e",
          "signal=none",
          "-o",
          log,
          ...wwCommand(),
        ],
      });
      const executed = Deno.readTextFileSync(log).includes('execve("/bin/echo"');
      Deno.removeSync(log);
      if (denoFailedAlone(r)) continue;
      if (r.code === 0) {
        assert.ok(executed, `${limit}: strace saw no execve of the program that ran`);
        continue;
      }
      short++;
      assertShortage(r, `${limit}`);
      assert.ok(!executed, `${limit}: ww said ${r.stderr.trim()}, but the program was executed`);
    }
    assert.ok(short > 0, "no limit was too low: the test saw no shortage");
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

// Opening a grant (--listen, --open) short of descriptors said "--listen l=…: failed (EMFILE)", as
// if the grant were at fault.
Deno.test("--listen and --open short of descriptors: the same one line, naming the limit", async () => {
  const tmp = privateTmp();
  let short = 0;
  try {
    for (let limit = 22; limit <= 32; limit++) {
      const r = await runWw(
        [
          "run",
          "--jail=native",
          "--nofile",
          String(limit),
          "--listen",
          "l=tcp:127.0.0.1:0",
          "--open",
          `o=${tmp}/out:w`,
          "/bin/true",
        ],
        { before: `ulimit -n ${limit}`, env: { TMPDIR: tmp } },
      );
      if (denoFailedAlone(r) || r.code === 0) continue;
      short++;
      assert.equal(r.code, 125, `${limit}: ${r.stderr}`);
      const lines = wwLines(r.stderr).filter((l) => !/listening on/.test(l));
      assert.equal(lines.length, 1, `${limit}: ${r.stderr}`);
      assert.match(lines[0], SHORTAGE, `${limit}`);
    }
    assert.ok(short > 0, "no limit was too low: the test saw no shortage");
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

// A --jail=bwrap start whose descriptors ran out once bwrap had reported its pid 1 (another start
// of a library caller took them meanwhile) failed, and left the jail and its program running,
// unheld, in the caller's process, which lives on. Now that jail ends with the failed start.
Deno.test("library, --jail=bwrap: a start short of descriptors once the jail exists ends that jail", async () => {
  // A table of 256 descriptors, which the caller fills in an instant, whatever this one's limit.
  // Deno itself may need one meanwhile and panic (its signal streams: ext/signals), which ends
  // the caller, and its jail with it: then the caller is run again, up to 5 times.
  let out: Deno.CommandOutput;
  let stderr: string;
  for (let run = 1;; run++) {
    out = await new Deno.Command("/bin/sh", {
      args: [
        "-c",
        'ulimit -Sn 256 && exec "$@"',
        "sh",
        Deno.execPath(),
        ...["run", "-A", "--config", `${REPO}deno.json`, `${REPO}tests/run/jail_start_shortage.ts`],
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    stderr = new TextDecoder().decode(out.stderr);
    if (run === 5 || !/Deno has panicked/.test(stderr)) break;
  }
  assert.equal(out.code, 0, stderr);
  const result = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.match(result.error, /^SetupError: out of file descriptors \(pidfd_open/, stderr);
  assert.equal(result.left, 0, `the jail's processes still ran after the failed start: ${stderr}`);
});
