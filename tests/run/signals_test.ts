// Signals sent to `ww run` reach the program, and ww exits with the program's status only after
// the program has ended and been reaped.

import assert from "node:assert/strict";
import { join } from "node:path";
import { buildC } from "../support/build.ts";
import { reportFds } from "../support/children.ts";
import { childrenOf, processesWithArg, processState } from "../support/procs.ts";
import { JAIL_MODES, jailFlags, quote, runWw, startWw, wwCommand } from "../support/ww.ts";

const child = await reportFds();

for (const jail of JAIL_MODES) {
  for (const [signal, number] of [["SIGTERM", 15], ["SIGINT", 2]] as const) {
    Deno.test(`[jail=${jail}] ${signal} sent to ww is forwarded, and ww exits after the program is reaped`, async () => {
      const tag = `tag=${crypto.randomUUID()}`;
      const [cmd, ...args] = wwCommand();
      const ww = new Deno.Command(cmd, {
        args: [...args, "run", ...jailFlags(jail), child, tag, "wait-signal"],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(ww.stderr).text();
      const lines = ww.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = "";
      while (!out.includes('{"ready":')) {
        const { value, done } = await lines.read();
        if (done) throw new Error(`ww ended before the program was ready: ${await stderr}`);
        out += value;
      }
      // ww installs its signal handlers right after starting the program; give it a moment.
      await new Promise((r) => setTimeout(r, 200));
      const sent = performance.now();
      ww.kill(signal);
      const status = await ww.status;
      const waited = performance.now() - sent;
      // Exactly when ww has exited, nothing of the program may be left, not even a zombie.
      const left = processesWithArg(tag);
      for (let r = await lines.read(); !r.done; r = await lines.read()) out += r.value;

      assert.deepEqual(left, [], "the program outlived ww");
      assert.equal(status.code, 100 + number, await stderr);
      assert.match(out, new RegExp(`\\{"signal":${number}\\}`));
      assert.ok(waited >= 300, `ww exited ${waited} ms after ${signal}, before the program did`);
    });
  }
}

// Deno 2.9.2+ opens its V8 inspector (a debugger without a password, running code as ww) on
// 127.0.0.1:9229 when a `deno run` process gets SIGUSR1 after its first 500 ms; ww forwards
// SIGUSR1 to the program, so the signal must do only that.
/**
 * Sends SIGUSR1 to a ww running a program that traps it, once Deno listens for it (and at least
 * `minWaitMs` after `ready`, which runs once the program is up); whether anything listens on
 * Deno's inspector port then, and how ww ended.
 */
async function usr1ToWw(flags: string[], ready = () => {}, minWaitMs = 0) {
  const started = performance.now();
  const ww = startWw(
    [
      ...flags,
      "/bin/sh",
      "-c",
      'trap "echo usr1; sleep 1; exit 7" USR1; echo ready; while :; do sleep 0.05; done',
    ],
    {},
    "stdout",
  );
  await ww.until(/ready/);
  ready();
  // Deno listens for SIGUSR1 once the process has run for 500 ms.
  const wait = Math.max(minWaitMs, 900 - (performance.now() - started));
  await new Promise((r) => setTimeout(r, wait));
  ww.proc.kill("SIGUSR1");
  await ww.until(/usr1/);
  // The program is alive for another second, and ww with it: time for Deno to act on it.
  await new Promise((r) => setTimeout(r, 300));
  const inspector = await inspectorListening();
  return { inspector, ...await ww.end() };
}

/** "listening" when something listens on Deno's inspector port, "refused" when nothing does. */
function inspectorListening(): Promise<string> {
  return Deno.connect({ hostname: "127.0.0.1", port: 9229 }).then(
    (conn) => (conn.close(), "listening"),
    (e) => e instanceof Deno.errors.ConnectionRefused ? "refused" : String(e),
  );
}

for (const jail of JAIL_MODES) {
  Deno.test(`[jail=${jail}] SIGUSR1 sent to ww reaches the program and opens no inspector in ww`, async () => {
    const { inspector, code, stderr } = await usr1ToWw(jailFlags(jail));
    assert.equal(inspector, "refused", `something listens on 127.0.0.1:9229: ${stderr}`);
    assert.equal(code, 7, stderr);
    assert.doesNotMatch(stderr, /Debugger listening/);
  });
}

// ww holds Deno's inspector port at its start; when something else held it then (another Deno's
// inspector) and let it go while ww ran, a SIGUSR1 opened ww's inspector (seen in CI, a debugger
// listening as ww). ww now takes the port as soon as it is free.
Deno.test("[jail=none] the inspector port, held by another when ww starts, is ww's once free: SIGUSR1 opens nothing", async () => {
  // Every ww of the parallel suite holds the port while it runs: taken here once one lets it go.
  let other: Deno.Listener | undefined;
  for (let tries = 0; other === undefined; tries++) {
    try {
      other = Deno.listen({ hostname: "127.0.0.1", port: 9229 });
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrInUse) || tries === 600) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const { inspector, code, stderr } = await usr1ToWw(["--jail=none"], () => other.close(), 400);
  assert.equal(inspector, "refused", stderr);
  assert.equal(code, 7, stderr);
  assert.doesNotMatch(stderr, /Debugger listening/);
});

// While ww bundled a --deno guest, before any program existed, a SIGUSR1 opened Deno's inspector
// in ww: ww held the port only once the program was about to start. The guest here imports a
// FIFO, so that its bundling lasts until the test writes the module.
Deno.test("[jail=none] SIGUSR1 while a --deno guest is being bundled opens no inspector", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wwtest-usr1-bundling-" });
  try {
    const slow = join(dir, "slow.ts");
    assert.ok((await new Deno.Command("mkfifo", { args: [slow] }).output()).success);
    const guest = join(dir, "guest.ts");
    await Deno.writeTextFile(guest, 'import "./slow.ts";\nconsole.log("guest ran");\n');
    const started = performance.now();
    const ww = startWw(["--jail=none", "--deno", guest], {}, "stdout");
    // Deno listens for SIGUSR1 once the process has run for 500 ms.
    await new Promise((r) => setTimeout(r, Math.max(0, 900 - (performance.now() - started))));
    ww.proc.kill("SIGUSR1");
    await new Promise((r) => setTimeout(r, 300));
    const inspector = await inspectorListening();
    // The bundling goes on: the guest runs, and ww ends with it. Were ww gone without reading
    // the FIFO, the write would wait for a reader for ever: the test's own lets it through.
    const written = Deno.writeTextFile(slow, "export {};\n");
    if (await Promise.race([written.then(() => false), ww.proc.status.then(() => true)])) {
      const reader = await Deno.open(slow, { read: true });
      await written;
      reader.close();
    }
    const { code, stdout, stderr } = await ww.end();
    assert.equal(inspector, "refused", `something listens on 127.0.0.1:9229: ${stderr}`);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /guest ran/, stderr);
    assert.doesNotMatch(stderr, /Debugger listening/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// A program that is a `deno run` itself opens Deno's inspector on the SIGUSR1 ww forwards to it,
// on the host's loopback when it shares the host's network: a debugger into the guest, and its
// capabilities, for any local user. ww holds the port, compiled or not (with WW_BIN set to a
// compiled ww, this runs against it).
for (const jail of [["--jail=none"], ["--jail=bwrap", "--net"]]) {
  Deno.test(`[${jail.join(" ")}] a --deno guest on the host's network opens no inspector on a forwarded SIGUSR1`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "wwtest-usr1-guest-" });
    try {
      const guest = join(dir, "guest.ts");
      await Deno.writeTextFile(
        guest,
        [
          'Deno.addSignalListener("SIGUSR1", () => console.log("usr1"));',
          'Deno.addSignalListener("SIGTERM", () => Deno.exit(7));',
          'console.log("ready");',
          "setInterval(() => {}, 1000);",
        ].join("\n"),
      );
      await Deno.chmod(dir, 0o755);
      await Deno.chmod(guest, 0o644);
      const ww = startWw([...jail, "--deno", guest], {}, "stdout");
      await ww.until(/ready/);
      // The guest's Deno listens for SIGUSR1 once it has run for 500 ms.
      await new Promise((r) => setTimeout(r, 900));
      ww.proc.kill("SIGUSR1");
      await ww.until(/usr1/);
      await new Promise((r) => setTimeout(r, 300));
      const inspector = await inspectorListening();
      ww.proc.kill("SIGTERM");
      const { code, stderr } = await ww.end();
      assert.equal(inspector, "refused", `something listens on 127.0.0.1:9229: ${stderr}`);
      assert.equal(code, 7, stderr);
      assert.doesNotMatch(stderr, /Debugger listening/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

/**
 * The pid of the process with `arg` among its arguments once it is stopped (state T), looked for
 * every `everyMs` at most `tries` times; else an Error with ww's `stderr`.
 */
async function stoppedWithArg(
  arg: string,
  stderr: Promise<string>,
  tries: number,
  everyMs: number,
): Promise<number> {
  for (let i = 0; i < tries; i++) {
    const pid = processesWithArg(arg).find((p) => processState(p) === "T");
    if (pid !== undefined) return pid;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`the program never stopped: ${await stderr}`);
}

/** ww's exit status after `sig`, SIGKILLed when it outlives 10 s. */
async function statusAfter(ww: Deno.ChildProcess, sig: Deno.Signal): Promise<Deno.CommandStatus> {
  ww.kill(sig);
  const timer = setTimeout(() => ww.kill("SIGKILL"), 10_000);
  try {
    return await ww.status;
  } finally {
    clearTimeout(timer);
  }
}

// A signal forwarded to a stopped program stayed pending: ww outlived SIGTERM and SIGINT, and only
// SIGKILL ended it (under --jail=none leaving the stopped program behind). One that asks the
// program to end wakes it too, and so does --timeout's.
for (const jail of ["none", "native", "bwrap"]) {
  Deno.test(`[jail=${jail}] a program that stopped itself still ends by SIGTERM to ww, and by --timeout`, async () => {
    const tag = `tag=${crypto.randomUUID()}`;
    const [cmd, ...args] = wwCommand();
    // It says TERM when SIGTERM reaches it running; stopped, it would say nothing until SIGKILL.
    const stopped = [
      "/bin/sh",
      "-c",
      'trap "echo TERM; exit 7" TERM; kill -STOP $$; sleep 30 & wait',
      tag,
    ];
    const start = (flags: string[]) =>
      new Deno.Command(cmd, {
        args: [...args, "run", `--jail=${jail}`, ...flags, ...stopped],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    const ww = start([]);
    const stderr = new Response(ww.stderr).text();
    const stdout = new Response(ww.stdout).text();
    // Signalled only once the program has stopped itself (state T).
    await stoppedWithArg(tag, stderr, 200, 50);
    const status = await statusAfter(ww, "SIGTERM");
    assert.equal(status.code, 7, await stderr);
    assert.equal(await stdout, "TERM\n");
    assert.deepEqual(processesWithArg(tag), [], "the stopped program outlived ww");

    // --timeout's SIGTERM reaches it too, not only the SIGKILL 2 s later.
    const timed = await start(["--timeout", "1s"]).output();
    assert.equal(timed.code, 124, new TextDecoder().decode(timed.stderr));
    assert.equal(new TextDecoder().decode(timed.stdout), "TERM\n");
  });
}

// Under native the SIGCONT that follows went to the program directly while the SIGTERM went through
// the stage's supervisor: a stopped program was sometimes woken first and ran on, here to its own
// exit 8 (in 6 of 30 tries), before the SIGTERM reached it. Each try stops the program, then ends it.
for (const jail of ["none", "native", "bwrap"]) {
  Deno.test(`[jail=${jail}] a stopped program woken by SIGTERM to ww never runs on before the SIGTERM`, async () => {
    const [cmd, ...args] = wwCommand();
    const stopSelf = await buildC(new URL("./stop_self.c", import.meta.url));
    for (let attempt = 0; attempt < 12; attempt++) {
      const tag = `tag=${crypto.randomUUID()}`;
      const ww = new Deno.Command(cmd, {
        args: [...args, "run", `--jail=${jail}`, stopSelf, tag],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(ww.stderr).text();
      await stoppedWithArg(tag, stderr, 400, 10);
      const status = await statusAfter(ww, "SIGTERM");
      assert.equal(status.code, 143, `try ${attempt}: ${await stderr}`);
    }
  });
}

/** SIGCONT to `pid`, which may be gone already (ww's own SIGCONT woke it, as it must). */
function continueIfThere(pid: number): void {
  try {
    Deno.kill(pid, "SIGCONT");
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

// The same, made certain: the native jail's supervisor, which passes SIGTERM on, is held stopped
// until ww's SIGCONT comes. The SIGCONT ww sent the program directly woke it first every time.
Deno.test("[jail=native] a stopped program's SIGCONT follows the ending signal however late the supervisor passes it on", async () => {
  const [cmd, ...args] = wwCommand();
  const stopSelf = await buildC(new URL("./stop_self.c", import.meta.url));
  const tag = `tag=${crypto.randomUUID()}`;
  const ww = new Deno.Command(cmd, {
    args: [...args, "run", "--jail=native", stopSelf, tag],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(ww.stderr).text();
  const program = await stoppedWithArg(tag, stderr, 400, 10);
  const supervisor = Number(
    /^PPid:\s*(\d+)$/m.exec(Deno.readTextFileSync(`/proc/${program}/status`))![1],
  );
  Deno.kill(supervisor, "SIGSTOP");
  let status: Promise<Deno.CommandStatus>;
  try {
    for (let i = 0; processState(supervisor) !== "T"; i++) {
      if (i === 400) throw new Error("the supervisor never stopped");
      await new Promise((r) => setTimeout(r, 10));
    }
    status = statusAfter(ww, "SIGTERM");
    // Long enough for a SIGCONT sent to the program directly to have woken it.
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    continueIfThere(supervisor);
  }
  assert.equal((await status).code, 143, await stderr);
});

// Ctrl-Z stopped only ww: a jailed program leads a session of its own, which the terminal's
// SIGTSTP does not reach, and a forwarded SIGTSTP is discarded in its orphaned process group. It
// went on running while the shell said "Stopped".
/**
 * ww running a shell tagged `tag` that runs another tagged `tag`-child in its process group, as a
 * job of a shell with job control (a group of its own, whose parent is in another group of the
 * session: not orphaned), or alone in a session of its own (orphaned).
 */
function startJob(flags: string[], tag: string, orphaned: boolean) {
  const loop = "while :; do sleep 0.05; done";
  const program = ["/bin/sh", "-c", `/bin/sh -c '${loop}' ${tag}-child & ${loop}`, tag];
  const ww = [...wwCommand(), "run", ...flags, ...program];
  // The shell prints ww's pid, and exits with ww's status once ww has ended (a stopped ww only
  // makes wait return early).
  const job = 'set -m; "$@" </dev/null >/dev/null & pid=$!; echo $pid; ' +
    "while :; do wait $pid; code=$?; kill -0 $pid 2>/dev/null || exit $code; sleep 0.05; done";
  const command = orphaned ? ["setsid", "-w", ...ww] : ["bash", "-c", job, "bash", ...ww];
  return new Deno.Command(command[0], {
    args: command.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** The shells ww runs as the program (ww's argv holds the tag too, and so does bwrap's). */
function programOf(tag: string): number[] {
  return [...processesWithArg(tag), ...processesWithArg(`${tag}-child`)].filter((pid) => {
    try {
      return Deno.readTextFileSync(`/proc/${pid}/cmdline`).startsWith("/bin/sh\0");
    } catch {
      return false;
    }
  });
}

/**
 * Whether ww (`pid`) and its program's two shells (or its first, unless `group`) are all in a state
 * `want` takes within `seconds` (a loaded machine takes long to start ww and its jail).
 */
async function allIn(
  pid: number,
  tag: string,
  want: (state: string) => boolean,
  group = true,
  seconds = 15,
) {
  for (let i = 0; i < seconds * 20; i++) {
    const program = programOf(tag);
    const first = processesWithArg(tag).filter((p) => program.includes(p));
    const now = [processState(pid), ...(group ? program : first).map(processState)];
    if (program.length === 2 && now.every(want)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

for (
  const flags of [["--jail=none"], ["--jail=native"], ["--jail=bwrap"], ["--jail=none", "--tty"]]
) {
  Deno.test(`[${flags.join(" ")}] SIGTSTP to ww stops the program's group and then ww; SIGCONT continues them`, async () => {
    const tag = `tag=${crypto.randomUUID()}`;
    const shell = startJob(flags, tag, false);
    const timer = setTimeout(() => shell.kill("SIGKILL"), 60_000);
    const lines = shell.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const stderr = new Response(shell.stderr).text();
    try {
      const pid = Number((await lines.read()).value?.trim());
      assert.ok(await allIn(pid, tag, (s) => s !== "T"), "the program never ran");
      // A SIGTSTP that comes before ww holds the program (it takes a moment more on a loaded
      // machine) stops ww alone, and is passed on once SIGCONT has come too: tried again then.
      // Unjailed, the program shares ww's process group, which a terminal's Ctrl-Z reaches whole;
      // a SIGTSTP sent to ww alone is passed on to the program alone.
      const group = flags.join(" ") !== "--jail=none";
      let stopped = false;
      for (let attempt = 0; attempt < 5 && !stopped; attempt++) {
        await new Promise((r) => setTimeout(r, 200));
        Deno.kill(pid, "SIGTSTP");
        stopped = await allIn(pid, tag, (s) => s === "T", group, 3);
        if (!stopped) Deno.kill(pid, "SIGCONT");
      }
      assert.ok(stopped, `ww and its program's group never all stopped`);
      Deno.kill(pid, "SIGCONT");
      assert.ok(await allIn(pid, tag, (s) => s !== "T"), "not all continued");
      Deno.kill(pid, "SIGTERM");
      const status = await shell.status;
      // Unjailed, what the program started outlives ww (no jail ends it), holding stderr's pipe.
      const left = programOf(tag);
      for (const p of left) Deno.kill(p, "SIGKILL");
      assert.equal(status.code, 143, await stderr);
      if (flags[0] !== "--jail=none") assert.deepEqual(left, [], "the program outlived ww");
    } finally {
      clearTimeout(timer);
      // Unjailed, a program ww left behind would hold the test's pipes.
      for (const pid of programOf(tag)) Deno.kill(pid, "SIGKILL");
    }
  });
}

// A Ctrl-Z that came as the jail started (its first process spawned, not yet known to ww) stopped
// ww at once and was held for the program, which ran on while the shell said "Stopped" (an
// interactive job could also read the terminal then): ww now stops with it. A race: the old code
// failed one try in about five, so each test tries five times.
for (const jail of ["bwrap", "native"]) {
  Deno.test(`[jail=${jail}] a SIGTSTP as the jail starts stops the program with ww, not ww alone`, async () => {
    const atSpawn = await buildC(new URL("./tstp_at_spawn.c", import.meta.url));
    for (let attempt = 0; attempt < 5; attempt++) {
      const tag = `tag=${crypto.randomUUID()}`;
      const shell = startJob([`--jail=${jail}`], tag, false);
      const timer = setTimeout(() => shell.kill("SIGKILL"), 60_000);
      const lines = shell.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const stderr = new Response(shell.stderr).text();
      try {
        const pid = Number((await lines.read()).value?.trim());
        const sent = await new Deno.Command(atSpawn, { args: [String(pid)] }).output();
        assert.equal(sent.code, 0, "ww spawned nothing");
        for (let i = 0; i < 100 && processState(pid) !== "T"; i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(processState(pid), "T", "ww never stopped");
        await new Promise((r) => setTimeout(r, 300));
        // Stopped early, the program's shell may not have started its child yet; one whose
        // vfork child was stopped before it executed waits for it in D: as stopped.
        const program = programOf(tag);
        assert.ok(program.length > 0, "no program");
        assert.deepEqual(
          program.map((p) => processState(p) === "D" ? "T" : processState(p)),
          program.map(() => "T"),
          `try ${attempt}: ww stopped, its program not`,
        );
        Deno.kill(pid, "SIGCONT");
        assert.ok(await allIn(pid, tag, (s) => s !== "T"), "not all continued");
        Deno.kill(pid, "SIGTERM");
        assert.equal((await shell.status).code, 143, await stderr);
        assert.deepEqual(programOf(tag), [], "the program outlived ww");
      } finally {
        clearTimeout(timer);
        for (const p of programOf(tag)) Deno.kill(p, "SIGKILL");
      }
    }
  });
}

// In an orphaned process group the kernel discards a SIGTSTP that would stop a process, since no
// shell could continue it: ww, which catches SIGTSTP, did not, and stopped for good.
Deno.test("[jail=native] SIGTSTP to a ww whose process group is orphaned stops nothing", async () => {
  const tag = `tag=${crypto.randomUUID()}`;
  const ww = startJob(["--jail=native"], tag, true);
  const timer = setTimeout(() => ww.kill("SIGKILL"), 30_000);
  const stderr = new Response(ww.stderr).text();
  try {
    // ww (setsid -w forks it); never 0, which would signal the test's own process group.
    const pid = () => {
      const found = processesWithArg(tag).find((p) => !programOf(tag).includes(p));
      if (found === undefined) throw new Error("ww is gone");
      return found;
    };
    assert.ok(await allIn(ww.pid, tag, (s) => s !== "T"), "the program never ran");
    await new Promise((r) => setTimeout(r, 200));
    Deno.kill(pid(), "SIGTSTP");
    await new Promise((r) => setTimeout(r, 500));
    assert.notEqual(processState(pid()), "T", "ww stopped");
    assert.ok(programOf(tag).every((p) => processState(p) !== "T"), "the program stopped");
    Deno.kill(pid(), "SIGTERM");
    assert.equal((await ww.status).code, 143, await stderr);
  } finally {
    clearTimeout(timer);
    for (const pid of processesWithArg(tag)) Deno.kill(pid, "SIGKILL");
    await ww.stdout.cancel().catch(() => {});
  }
});

// posix_spawn set glibc's own signals, 32 and 33, to SIG_IGN in an unjailed program (sigfillset
// leaves them out of the set reset to default), and an ignored signal survives exec.
for (const jail of ["none", "native", "bwrap"]) {
  Deno.test(`[jail=${jail}] the program starts with signals 32 and 33 at their default`, async () => {
    const r = await runWw(["run", `--jail=${jail}`, "/bin/grep", "SigIgn", "/proc/self/status"]);
    assert.equal(r.code, 0, r.stderr);
    // Bits 31 and 32 of SigIgn (whatever else the test's own caller may have ignored).
    const mask = BigInt(`0x${/^SigIgn:\s*([0-9a-f]+)$/m.exec(r.stdout)![1]}`);
    assert.equal(mask & (3n << 31n), 0n, r.stdout);
  });
}

// `nohup ww run …` died of SIGHUP: Deno catches SIGHUP and SIGINT as soon as any signal listener
// is added, ww forwarded what its caller had ignored, and an unjailed program started with it
// back at its default. What the caller ignored stays ignored, by ww and by the program.
for (const jail of ["none", "native", "bwrap"]) {
  Deno.test(`[jail=${jail}] signals ww's caller ignored (nohup) stay ignored: SIGHUP neither ends ww nor reaches the program`, async () => {
    const script = [
      "trap '' HUP INT",
      `${wwCommand().map(quote).join(" ")} run --jail=${jail} /bin/sh -c ` +
      `'grep SigIgn /proc/self/status; sleep 1.5; echo survived' &`,
      "ww=$!",
      "sleep 0.8",
      "kill -HUP $ww; kill -INT $ww",
      "wait $ww",
      'echo "exit $?"',
    ].join("\n");
    const out = await new Deno.Command("/bin/bash", {
      args: ["-c", script],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.match(stdout, /survived\nexit 0\n$/, new TextDecoder().decode(out.stderr));
    if (jail === "none") {
      // Unjailed, the program shares ww's process group, which a hangup reaches too: it starts
      // with them ignored (SIGHUP bit 0, SIGINT bit 1 of SigIgn), as a child of nohup does.
      const mask = BigInt(`0x${/SigIgn:\s*([0-9a-f]+)/.exec(stdout)![1]}`);
      assert.equal(mask & 3n, 3n, stdout);
    }
  });
}

// Under bwrap a SIGTERM that reached ww between the jail's fork of the program and its execve
// went to the stage, still running in that fork, which died of it: exit 143, and the program had
// never run. strace holds the fork in the stage's last step before the execve (Landlock's
// restrict_self, under both jails) for 3 s while ww gets SIGTERM: the signal must wait for the
// execve and reach the program.
for (const jail of ["bwrap", "native"]) {
  Deno.test(`[jail=${jail}] a signal that reaches ww just before the program's execve waits for it`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "wwtest-preexec-" });
    const log = `${dir}/trace`;
    try {
      const strace = new Deno.Command("strace", {
        args: [
          "-f",
          // Only the traced calls stop: the others of Deno's threads run at full speed.
          "--seccomp-bpf",
          "-q",
          "-o",
          log,
          "-e",
          "trace=landlock_restrict_self,execve,execveat",
          "-e",
          "inject=landlock_restrict_self:delay_exit=3000000",
          ...wwCommand(),
          "run",
          `--jail=${jail}`,
          "/bin/sleep",
          "30",
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(strace.stderr).text();
      void strace.stdout.cancel();
      // The fork, held in restrict_self (strace writes the line as the delay starts).
      let held: string | undefined;
      for (let i = 0; held === undefined; i++) {
        if (i === 2400) throw new Error(`the stage never reached Landlock: ${await stderr}`);
        await new Promise((r) => setTimeout(r, 25));
        const text = await Deno.readTextFile(log).catch(() => "");
        held = /^(\d+) +landlock_restrict_self\(/m.exec(text)?.[1];
      }
      const [ww] = childrenOf(strace.pid);
      Deno.kill(ww[0], "SIGTERM");
      const status = await strace.status;
      const trace = await Deno.readTextFile(log);
      const own = trace.split("\n").filter((l) => l.startsWith(`${held} `)).join("\n");
      assert.match(own, /execve(at)?\(.* = 0$/m, `the program was never executed:\n${own}`);
      assert.match(own, /\+\+\+ killed by SIGTERM \+\+\+/, own);
      assert.equal(status.code, 143, await stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

// A caller that left SIGTERM and SIGINT blocked (a supervisor's signal mask, inherited through
// exec): they waited unseen in ww, so `kill -TERM` ended neither ww nor the program, which ran to
// its end (exit 0), though its mask is emptied as it starts.
for (const jail of ["none", "native", "bwrap"]) {
  Deno.test(`[jail=${jail}] signals ww's caller left blocked are forwarded all the same: SIGTERM ends the program`, async () => {
    const tag = `tag=${crypto.randomUUID()}`;
    const block = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_BLOCK, " +
      "[signal.SIGTERM, signal.SIGINT]); os.execvp(sys.argv[1], sys.argv[1:])";
    const script = [
      `python3 -c ${quote(block)} ${wwCommand().map(quote).join(" ")} run --jail=${jail} ` +
      `/bin/sh -c 'exec sleep 4' ${tag} &`,
      "ww=$!",
      "sleep 1",
      "kill -TERM $ww",
      "wait $ww",
      'echo "exit $?"',
    ].join("\n");
    const started = performance.now();
    const out = await new Deno.Command("/bin/bash", {
      args: ["-c", script],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(stdout, "exit 143\n", new TextDecoder().decode(out.stderr));
    assert.ok(performance.now() - started < 3500, "ww waited for the program's own end");
    assert.deepEqual(processesWithArg(tag), []);
  });
}
