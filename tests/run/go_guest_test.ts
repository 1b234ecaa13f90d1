// tests/run/go_guest_test.ts — a Go guest (tests/run/go_guest/main.go), built static and with cgo,
// under bwrap, native and none: it reads its grants as wetware's util.GetFDMap() does and uses
// them, and the Go runtime works in the jail (goroutines and threads, os/exec, the GC, timers,
// asynchronous preemption, signal.Notify). The limits a Go program meets are the ones README.md's
// "Go guests" says: --memory's floor, thread stacks, --nproc counting threads, SIGXCPU ignored.
// Needs go (golang-go): without it every test here fails, saying so.

import assert from "node:assert/strict";
import { buildGo, type GoLink } from "../support/build.ts";
import { errorLines, runWw, startWw } from "../support/ww.ts";

const SOURCE = new URL("./go_guest/main.go", import.meta.url);
const JAILS = ["bwrap", "native", "none"] as const;
const LINKS: readonly GoLink[] = ["static", "cgo"];

/** The JSON lines of a run's stdout. */
function lines(stdout: string): Record<string, unknown>[] {
  return stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

for (const link of LINKS) {
  for (const jail of JAILS) {
    Deno.test(`[${link}, jail=${jail}] a Go guest reads its fd map as GetFDMap does and uses each grant`, async () => {
      const guest = await buildGo(SOURCE, link);
      const ww = startWw(
        [
          `--jail=${jail}`,
          "--with-fd",
          "in=0",
          "--with-fd",
          "OUT=2",
          "--listen",
          "srv=tcp:127.0.0.1:0",
          guest,
          "grants",
        ],
        {},
        "stderr",
      );
      const port = Number(
        /srv listening on 127\.0\.0\.1:(\d+)/.exec(await ww.until(/listening on .*\n/))![1],
      );
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      const answer = await new Response(conn.readable).text();
      const { code, stdout, stderr } = await ww.end();
      assert.equal(code, 0, stderr);
      assert.equal(answer, "hello from go\n");
      const got = lines(stdout);
      // stdin is /dev/null (startWw), so "in" reads nothing; stderr is a pipe ww's caller reads.
      assert.deepEqual(got[0], { map: { in: 3 + 1, out: 3 + 2, srv: 3 + 3 } });
      assert.deepEqual(got.slice(1), [
        { in: "", err: "" },
        { out: "written", err: "" },
        { accept: "answered", err: "" },
      ]);
      assert.ok(stderr.includes("written by go\n"), stderr);
    });

    Deno.test(`[${link}, jail=${jail}] a Go guest reads a --with-fd file`, async () => {
      const guest = await buildGo(SOURCE, link);
      const file = await Deno.makeTempFile();
      try {
        await Deno.writeTextFile(file, "file data\n");
        await Deno.chmod(file, 0o644);
        const r = await runWw(["run", `--jail=${jail}`, "--with-fd", "in=7", guest, "grants"], {
          fds: { 7: { read: file } },
        });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(lines(r.stdout), [{ map: { in: 4 } }, { in: "file data\n", err: "" }]);
      } finally {
        await Deno.remove(file);
      }
    });

    Deno.test(`[${link}, jail=${jail}] the Go runtime works: goroutines, threads, os/exec, GC, timers`, async () => {
      const guest = await buildGo(SOURCE, link);
      const r = await runWw(["run", `--jail=${jail}`, guest, "exercise", "40"]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(errorLines(r.stderr), []);
      const [got] = lines(r.stdout);
      assert.equal(got.sum, 499500);
      assert.ok((got.threads as number) >= 40, JSON.stringify(got));
      assert.equal(got.self, "child ran\n", JSON.stringify(got));
      assert.equal(got.sh, "from sh\n", JSON.stringify(got));
      assert.ok((got.gcs as number) > 0, JSON.stringify(got));
      assert.ok(
        (got.timerMs as number) >= 50 && (got.timerMs as number) < 2000,
        JSON.stringify(got),
      );
      const p = lines((await runWw(["run", `--jail=${jail}`, guest, "preempt"])).stdout)[0];
      assert.ok(
        (p.preemptedMs as number) < 2000,
        `a spinning goroutine was not preempted: ${JSON.stringify(p)}`,
      );
    });

    Deno.test(`[${link}, jail=${jail}] SIGTERM sent to ww reaches signal.Notify, and ww exits with the guest's status`, async () => {
      const guest = await buildGo(SOURCE, link);
      const ww = startWw([`--jail=${jail}`, guest, "sigterm"], {}, "stdout");
      await ww.until(/"ready":true/);
      // ww installs its signal handlers right after starting the program; give it a moment.
      await new Promise((r) => setTimeout(r, 200));
      ww.proc.kill("SIGTERM");
      const { code, stdout, stderr } = await ww.end();
      assert.equal(code, 42, stderr);
      assert.deepEqual(lines(stdout).at(-1), { signal: "terminated" });
    });
  }

  for (const jail of ["bwrap", "native"] as const) {
    Deno.test(`[${link}, jail=${jail}] --timeout: the guest catches SIGTERM, ww exits 124`, async () => {
      const guest = await buildGo(SOURCE, link);
      const r = await runWw(["run", `--jail=${jail}`, "--timeout", "1s", guest, "sigterm"]);
      assert.equal(r.code, 124, r.stderr);
      assert.deepEqual(lines(r.stdout).at(-1), { signal: "terminated" });
      const plain = await runWw([
        "run",
        `--jail=${jail}`,
        "--timeout",
        "1s",
        guest,
        "sleep",
        "20s",
      ]);
      assert.equal(plain.code, 124, plain.stderr);
    });

    Deno.test(`[${link}, jail=${jail}] --nproc counts the Go runtime's threads: too few ends it as the README says`, async () => {
      const guest = await buildGo(SOURCE, link);
      const r = await runWw(["run", `--jail=${jail}`, "--nproc", "8", guest, "exercise", "20"]);
      // The runtime's own fatal error (exit 2); with cgo, libc's pthread_create fails and the
      // runtime aborts (its SIGABRT handler exits 2 too).
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        link === "static"
          ? /runtime: failed to create new OS thread .*\n.*ulimit -u/
          : /runtime\/cgo: pthread_create failed: Resource temporarily unavailable/,
      );
      const enough = await runWw([
        "run",
        `--jail=${jail}`,
        "--nproc",
        "64",
        guest,
        "exercise",
        "20",
      ]);
      assert.equal(enough.code, 0, enough.stderr);
    });
  }
}

for (const jail of ["bwrap", "native"] as const) {
  Deno.test(`[jail=${jail}] --memory: a Go program dies below its floor, starts at 64M, and runs 40 threads and the GC at 96M`, async () => {
    const guest = await buildGo(SOURCE, "static");
    const low = await runWw(["run", `--jail=${jail}`, "--memory", "32M", guest, "child"]);
    assert.equal(low.code, 2, low.stderr);
    assert.match(low.stderr, /fatal error: out of memory allocating heap arena map/);
    const floor = await runWw(["run", `--jail=${jail}`, "--memory", "64M", guest, "child"]);
    assert.equal(floor.code, 0, floor.stderr);
    assert.equal(floor.stdout, "child ran\n");
    // Its 40 threads, exec and 200 MiB of garbage need ~50-56M on a quiet machine, and more where
    // the collector lags (a loaded CI machine's 64M ran out): 96M, far below the 320M that 40 of
    // cgo's 8 MiB thread stacks would take.
    const busy = await runWw([
      "run",
      `--jail=${jail}`,
      "--memory",
      "96M",
      guest,
      "exercise",
      "40",
    ]);
    assert.equal(busy.code, 0, busy.stderr);
  });

  Deno.test(`[jail=${jail}] --memory counts each cgo thread's stack (RLIMIT_STACK), which ulimit -s lowers`, async () => {
    const guest = await buildGo(SOURCE, "cgo");
    const args = ["run", `--jail=${jail}`, "--memory", "128M", guest, "exercise", "20"];
    const big = await runWw(args, { before: "ulimit -s 8192" });
    assert.equal(big.code, 2, big.stderr);
    assert.match(big.stderr, /pthread_create failed: Resource temporarily unavailable/);
    const small = await runWw(args, { before: "ulimit -s 1024" });
    assert.equal(small.code, 0, small.stderr);
  });

  Deno.test(`[jail=${jail}] --cpu: the Go runtime ignores SIGXCPU, so SIGKILL ends it unless it asks for SIGXCPU`, async () => {
    const guest = await buildGo(SOURCE, "static");
    const spin = await runWw(["run", `--jail=${jail}`, "--cpu", "1", guest, "spin"]);
    assert.equal(spin.code, 137, spin.stderr);
    const caught = await runWw(["run", `--jail=${jail}`, "--cpu", "1", guest, "xcpu"]);
    assert.equal(caught.code, 42, caught.stderr);
    assert.deepEqual(lines(caught.stdout).at(-1), { signal: "CPU time limit exceeded" });
  });
}
