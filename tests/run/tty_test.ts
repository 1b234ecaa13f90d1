// A terminal of its own (--tty, issue 14), under every backend, with a real terminal: `script`
// (util-linux) runs a bash caller on a pseudo-terminal of its own, this test types into it and
// reads what the terminal shows. The caller starts ww, and checks its terminal's mode (stty -g)
// and ww's exit status afterwards.

import assert from "node:assert/strict";
import { REPO, runWw, wwCommand } from "../support/ww.ts";
import { reportFds } from "../support/children.ts";
import { cpuTicks, processesWithArg, processState } from "../support/procs.ts";

const BACKENDS = ["none", "native", "bwrap"] as const;
type Backend = typeof BACKENDS[number];

/** `s` as one bash word. */
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * A bash caller on a terminal of its own (script -qec): `ww` in `body` is ww's command line, and
 * `$T` a private directory the test and the caller share.
 */
/**
 * Whether `pid` is ww (deno) and its fd 0, the caller's terminal, is in raw mode (stty: no
 * canonical input).
 */
function callerTerminalRaw(pid: number): boolean {
  try {
    if (Deno.readTextFileSync(`/proc/${pid}/comm`).trim() !== "deno") return false;
    const out = new Deno.Command("stty", {
      args: ["-F", `/proc/${pid}/fd/0`, "-a"],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    return out.success && /(^|\s)-icanon(\s|$)/.test(new TextDecoder().decode(out.stdout));
  } catch {
    return false; // gone meanwhile
  }
}

class Session {
  readonly dir = Deno.makeTempDirSync({ prefix: "ww-tty-test-" });
  #process: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #text = "";
  #reading: Promise<void>;

  /** `interactive`: bash -i, which hands the terminal to the jobs it runs (set -m alone does not). */
  constructor(body: string, interactive = false) {
    const script = `${this.dir}/caller.sh`;
    Deno.writeTextFileSync(
      script,
      [
        `export T=${quote(this.dir)}`,
        `ww() { ${wwCommand().map(quote).join(" ")} "$@"; }`,
        body,
      ].join("\n"),
    );
    const process = new Deno.Command("script", {
      args: ["-qec", `bash ${interactive ? "-i " : ""}${script}`, "/dev/null"],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      env: { TERM: "xterm" },
    }).spawn();
    this.#process = process;
    this.#writer = process.stdin.getWriter();
    this.#reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of process.stdout) {
        this.#text += decoder.decode(chunk, { stream: true });
      }
    })();
  }

  /** Everything the terminal has shown so far, with "\r\n" as "\n". */
  get text(): string {
    return this.#text.replaceAll("\r\n", "\n");
  }

  /** Types `keys`. */
  async send(keys: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(keys));
  }

  /** Waits until the terminal has shown a match for `pattern` after `from` characters. */
  async expect(pattern: RegExp, timeoutMs = 60_000, from = 0): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.text.slice(from))) {
      if (Date.now() > deadline) {
        throw new Error(`the terminal never showed ${pattern}; it shows:\n${this.text}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Ends the caller and everything on its terminal (a caller that cannot write never ends). */
  kill(): void {
    this.#process.kill("SIGKILL");
  }

  /** The caller's exit status, once it has ended; the directory is removed. */
  async end(): Promise<number> {
    await this.#writer.close().catch(() => {});
    const { code } = await this.#process.status;
    await this.#reading;
    Deno.removeSync(this.dir, { recursive: true });
    return code;
  }
}

/**
 * `ww run --tty --timeout 1s <program>` under `backend`, its stdout a FIFO that its caller holds
 * open for reading and never reads (full after 64 KiB): ww's exit code and how long it ran, in ms.
 */
async function timedOutUnread(backend: Backend, program: string[]) {
  const tmp = Deno.makeTempDirSync({ prefix: "wwtest-tty-" });
  try {
    const r = await runWw(["run", "--tty", `--jail=${backend}`, "--timeout", "1s", ...program], {
      ww: [
        "/bin/bash",
        "-c",
        `mkfifo "$T/out" && exec 3<>"$T/out" && start=$(date +%s%N) &&
         timeout -s KILL 30 "$@" </dev/null >"$T/out"; code=$?
         echo "ww $code $(( ($(date +%s%N) - start) / 1000000 ))"`,
        "caller",
        ...wwCommand(),
      ],
      env: { T: tmp },
    });
    assert.equal(r.code, 0, r.stderr);
    const [, code, ms] = r.stdout.trim().split(" ");
    return { code, ms };
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
}

/** Whether the caller's terminal is in the mode it had before ww ran: a line the caller prints. */
const SAME_MODE = `[ "$(stty -g)" = "$before" ] && echo MODE-SAME || echo MODE-CHANGED`;

Deno.test("--explain says which fd 0-2 the program would get", async () => {
  const line = async (flag: string) =>
    (await runWw(["run", "--explain", flag, "/bin/true"])).stdout.split("\n")
      .find((l) => l.trim().startsWith("0-2"));
  assert.match((await line("--tty"))!, /a pseudo-terminal of its own/);
  assert.match((await line("--no-tty"))!, /ww's stdin, stdout, stderr/);
});

Deno.test("--explain --tty shows bwrap's command as a run with a terminal has it: the stage's exec-tty", async () => {
  const command = async (flag: string) =>
    (await runWw(["run", "--jail=bwrap", "--explain", flag, "/bin/true"])).stdout.split("\n")
      .find((l) => l.trim().startsWith("command:"));
  // (-report <fd>: the program's stderr, which bwrap passes on to the stage; issue 16.)
  assert.match(
    (await command("--tty"))!,
    /\/\.ww-stage exec-tmpfs-tty-report-landlock-offline \d+ \d+ \/bin\/true /,
  );
  assert.match(
    (await command("--no-tty"))!,
    /\/\.ww-stage exec-tmpfs-report-landlock-offline \d+ \d+ \/bin\/true /,
  );
});

// A program given the caller's own terminal (stdin a terminal, stdout a file: no terminal of its
// own) left it raw, without echo, after ww ended: the jail cannot refuse it the ioctl.
for (const backend of BACKENDS) {
  Deno.test(`[jail=${backend}] the caller's terminal, shared with the program, has its mode back when ww ends`, async () => {
    const s = new Session(
      `before=$(stty -g)\nww run --jail=${backend} /bin/sh -c 'stty raw -echo; echo changed' >"$T/out"\necho "RC=$?"\n${SAME_MODE}`,
    );
    try {
      await s.expect(/MODE-(SAME|CHANGED)/);
      assert.match(s.text, /RC=0/);
      assert.equal(Deno.readTextFileSync(`${s.dir}/out`), "changed\n");
      assert.match(s.text, /MODE-SAME/);
    } finally {
      await s.end();
    }
  });
}

// A program given the caller's terminal could also leave it in exclusive mode (TIOCEXCL: no one
// but root could open it, a sudo prompt among them), with a line discipline that drops everything
// (N_NULL) and its output suspended (tcflow TCOOFF: the caller's next line never showed): ww gives
// them back, as it gives the mode back. (A jail refuses the line discipline itself: below.)
for (const backend of BACKENDS) {
  Deno.test(`[jail=${backend}] the caller's terminal, shared with the program, is neither exclusive, silenced nor stopped when ww ends`, async () => {
    const child = await reportFds();
    // N_NULL (27): everything written to the terminal is dropped.
    const ldisc = backend === "none" ? " ldisc=0:27" : "";
    const s = new Session(
      [
        `ww run --jail=${backend} ${quote(child)} excl=0 flow-off=0${ldisc} >"$T/out"`,
        `echo "RC=$?"`,
        `setpriv --reuid=65534 --regid=65534 --clear-groups -- sh -c 'exec 3</dev/tty' && echo OPENS || echo REFUSED`,
      ].join("\n"),
    );
    try {
      // Output left suspended, the caller blocks on its next line.
      await s.expect(/OPENS|REFUSED/, 20_000).catch((e) => {
        s.kill();
        throw e;
      });
      assert.match(s.text, /RC=0/);
      assert.match(s.text, /OPENS/);
    } finally {
      await s.end();
    }
  });
}

// ww's stdin a terminal that is not ww's controlling terminal (another session's: ww started by
// setsid, or by a supervisor with a pty): ww asked whether it was in that terminal's foreground,
// which only a controlling terminal can answer, and so gave nothing back: a program's N_NULL line
// discipline left it deaf after ww ended.
Deno.test("[jail=none] a terminal that is not ww's controlling terminal gets its line discipline back", async () => {
  const child = await reportFds();
  const ww = wwCommand().map(quote).join(" ");
  const s = new Session(
    [
      `setsid -w ${ww} run --jail=none ${quote(child)} ldisc=0:27 >"$T/out" 2>"$T/err"`,
      `echo "RC=$?"`,
      `echo still-heard`,
    ].join("\n"),
  );
  try {
    await s.expect(/still-heard/, 20_000).catch((e) => {
      s.kill();
      throw e;
    });
    assert.match(s.text, /RC=0/);
  } finally {
    await s.end();
  }
});

// A jailed program set the caller's terminal's line discipline (TIOCSETD): N_NULL made it deaf,
// and other disciplines load n_gsm or n_hdlc, modules with a history of kernel bugs. The jails'
// seccomp refuses it, as it refuses TIOCSTI.
for (const backend of ["native", "bwrap"] as const) {
  Deno.test(`[jail=${backend}] a program cannot change a terminal's line discipline`, async () => {
    const child = await reportFds();
    const s = new Session(
      `ww run --jail=${backend} ${quote(child)} ldisc=0:27 >"$T/out" 2>"$T/err"\necho "RC=$?"`,
    );
    try {
      await s.expect(/RC=\d+/, 20_000);
      assert.match(s.text, /RC=3/);
      assert.match(Deno.readTextFileSync(`${s.dir}/err`), /ldisc=0:27: Operation not permitted/);
    } finally {
      await s.end();
    }
  });
}

// `ww run prog &` at a prompt took a terminal of its own by default (stdin and stdout are
// terminals), so setting the caller's terminal raw stopped it (SIGTTOU) until `fg`; a background
// job now shares the caller's terminal, as any background command does.
for (const backend of BACKENDS) {
  Deno.test(`[jail=${backend}] a ww started in the background runs to its end, sharing the terminal`, async () => {
    const s = new Session(
      `set -m\nww run --jail=${backend} /bin/sh -c 'echo bg-done' &\nwait $!\necho "RC=$?"`,
    );
    try {
      await s.expect(/RC=\d+/, 30_000);
      assert.match(s.text, /bg-done/);
      assert.match(s.text, /RC=0/);
    } finally {
      await s.end();
    }
  });
}

// Runs of one ww (a library's, or --with-exec's) each gave their saved mode back at their own end:
// a later run restored what an earlier run's program left (the terminal stayed raw). And a ww in
// a background job was stopped by SIGTTOU at its end, setting a mode it had no need to set.
Deno.test("the caller's terminal: overlapping runs give its mode back once, and a background ww is not stopped", async () => {
  const overlap = `
    import { startProgram } from ${JSON.stringify(`${REPO}mod.ts`)};
    const a = await startProgram({ program: "/bin/sh", args: ["-c", "stty raw -echo; sleep 1"], jail: { backend: "none" } });
    await new Promise((r) => setTimeout(r, 400));
    const b = await startProgram({ program: "/bin/sleep", args: ["2"], jail: { backend: "none" } });
    await a.status;
    await b.status;
  `;
  const s = new Session(
    [
      `cat >"$T/overlap.ts" <<'EOF'\n${overlap}\nEOF`,
      `before=$(stty -g)`,
      `${quote(Deno.execPath())} run -A "$T/overlap.ts" >"$T/out" 2>&1`,
      SAME_MODE,
      `set -m`,
      `ww run --jail=none /bin/true >"$T/c" &`,
      `sleep 3`,
      `jobs -l | grep -q Stopped && echo BG-STOPPED || echo BG-DONE`,
      `kill -9 %1 2>/dev/null`,
    ].join("\n"),
  );
  try {
    await s.expect(/BG-(STOPPED|DONE)/);
    assert.match(s.text, /MODE-SAME/, Deno.readTextFileSync(`${s.dir}/out`));
    assert.match(s.text, /BG-DONE/);
  } finally {
    await s.end();
  }
});

for (const backend of BACKENDS) {
  Deno.test(`[jail=${backend}] sh -i has job control on a terminal of its own: bg, jobs, STOP, fg, Ctrl-C, Ctrl-Z`, async () => {
    const s = new Session(
      `before=$(stty -g)\nww run --jail=${backend} /bin/sh -i\necho "RC=$?"\n${SAME_MODE}`,
    );
    try {
      // Typed only once it computed something: before that, ww may not have made its
      // terminal raw yet, and Ctrl-C or Ctrl-Z would be for ww's caller.
      await s.send("echo R-$((40+2))\n");
      await s.expect(/R-42/);
      await s.send("sleep 30 &\n");
      await s.send("jobs\n");
      await s.expect(/\[1\] \+ Running +sleep 30/);
      await s.send("kill -STOP %1\n");
      // The shell learns of the stop from SIGCHLD, a moment later.
      for (let i = 0; i < 20 && !/Stopped \(signal\)/.test(s.text); i++) {
        await s.send("jobs\n");
        await new Promise((r) => setTimeout(r, 500));
      }
      await s.expect(/\[1\] \+ Stopped \(signal\) +sleep 30/, 5000);
      // fg runs it in the terminal's foreground: Ctrl-C is for it, not for the shell or ww.
      await s.send("fg\n");
      await new Promise((r) => setTimeout(r, 1000));
      await s.send("\x03");
      await s.send("echo after-$((1+1))\n");
      await s.expect(/after-2/);
      await s.send("sleep 40\n");
      await new Promise((r) => setTimeout(r, 1000));
      await s.send("\x1a");
      await s.expect(/\[1\] \+ Stopped +sleep 40/);
      await s.send("kill -KILL %1\n");
      await new Promise((r) => setTimeout(r, 1000));
      await s.send("exit 5\n");
      await new Promise((r) => setTimeout(r, 1000));
      // dash refuses the first exit while it has not yet seen the job die.
      if (/stopped jobs/.test(s.text)) await s.send("exit 5\n");
      await s.expect(/MODE-/);
    } finally {
      const code = await s.end();
      const text = s.text;
      assert.doesNotMatch(text, /can't access tty|job control turned off|no job control/);
      assert.match(text, /^RC=5$/m);
      assert.match(text, /^MODE-SAME$/m);
      assert.equal(code, 0);
    }
  });

  // A program that stopped itself (SIGSTOP) on a terminal of its own held the caller's terminal
  // raw for good: its Ctrl-C's SIGINT waited in the stopped program, and no key got the shell back.
  Deno.test(`[jail=${backend}] Ctrl-C for a program that stopped itself ends it, and the shell has its terminal back`, async () => {
    const tag = `tag-${crypto.randomUUID()}`;
    const s = new Session(
      `before=$(stty -g)\nww run --jail=${backend} /bin/sh -c 'kill -STOP $$; echo resumed' ${tag}\necho "RC=$?"\n${SAME_MODE}`,
    );
    try {
      let stopped = false;
      for (let i = 0; i < 600 && !stopped; i++) {
        stopped = processesWithArg(tag).some((p) => processState(p) === "T");
        if (!stopped) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(stopped, "the program never stopped itself");
      // ww makes the caller's terminal raw once its launch returns, which a loaded machine may
      // hold past the program's stop: a Ctrl-C before then is the shell's SIGINT too (this shell
      // has no job control), and it ended the session (130).
      let raw = false;
      for (let i = 0; i < 600 && !raw; i++) {
        raw = processesWithArg(tag).some((p) => callerTerminalRaw(p));
        if (!raw) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(raw, "ww never made the caller's terminal raw");
      await s.send("\x03");
      await s.expect(/MODE-/, 15_000);
    } catch (e) {
      s.kill();
      throw e;
    } finally {
      const code = await s.end();
      // After the program's terminal echoed the key: "^CRC=130".
      assert.match(s.text, /RC=130$/m);
      assert.match(s.text, /^MODE-SAME$/m);
      assert.doesNotMatch(s.text, /resumed/);
      assert.equal(code, 0);
    }
  });

  Deno.test(`[jail=${backend}] the terminal has a name, the caller's size, and follows its resize`, async () => {
    const s = new Session([
      "stty rows 30 cols 100",
      // Resized once the test asks, while ww runs: the kernel sends ww SIGWINCH.
      `( while [ ! -e "$T/resize" ]; do sleep 0.1; done; stty rows 40 cols 120; echo RESIZED ) </dev/tty &`,
      `ww run --jail=${backend} /bin/sh -i`,
      `echo "RC=$?"`,
    ].join("\n"));
    try {
      await s.send("stty size\n");
      await s.expect(/30 100/);
      // It has a name in the jail: its /dev/pts entry, or /dev/console under bwrap's own /dev.
      await s.send("tty\n");
      await s.expect(/\/dev\/(pts\/\d+|console)/);
      Deno.writeTextFileSync(`${s.dir}/resize`, "");
      await s.expect(/RESIZED/);
      // SIGWINCH reaches ww a moment later: ask until the program sees the new size.
      for (let i = 0; i < 20 && !/40 120/.test(s.text); i++) {
        await s.send("stty size\n");
        await new Promise((r) => setTimeout(r, 500));
      }
      await s.expect(/40 120/, 5000);
      await s.send("exit\n");
      await s.expect(/RC=0/);
    } finally {
      await s.end();
    }
  });

  Deno.test(`[jail=${backend}] the caller's terminal is raw while the program runs and comes back as it was, with the program's status, whatever ends it`, async () => {
    const s = new Session([
      "before=$(stty -g)",
      `ww run --jail=${backend} /bin/sh -c 'exit 3'`,
      `echo "RC1=$?"; ${SAME_MODE}`,
      `ww run --jail=${backend} /bin/sh -c 'kill -KILL $$'`,
      `echo "RC2=$?"; ${SAME_MODE}`,
      // SIGTERM, then SIGINT, to ww (which passes them on to the program), once the program has
      // started; the mode is read while it runs.
      `signal_when() { ( while [ ! -e "$T/$1" ]; do sleep 0.1; done; stty -g >"$T/during-$1"; kill -$1 "$(cat "$T/pid")" ) </dev/tty & }`,
      ...["TERM", "INT"].flatMap((sig) => [
        `signal_when ${sig}`,
        `bash -c 'echo $$ >"$T/pid"; exec "$@"' - ${
          wwCommand().map(quote).join(" ")
        } run --jail=${backend} /bin/sh -c 'echo STARTED-${sig}; exec sleep 60'`,
        `echo "RC-${sig}=$?"; ${SAME_MODE}`,
        `[ "$(cat "$T/during-${sig}")" != "$before" ] && echo RAW-WHILE-RUNNING-${sig}`,
      ]),
    ].join("\n"));
    try {
      for (const sig of ["TERM", "INT"]) {
        await s.expect(new RegExp(`^STARTED-${sig}$`, "m"));
        Deno.writeTextFileSync(`${s.dir}/${sig}`, "");
        await s.expect(new RegExp(`^RC-${sig}=`, "m"));
      }
    } finally {
      await s.end();
      const t = s.text;
      assert.match(t, /^RC1=3\nMODE-SAME$/m);
      assert.match(t, /^RC2=137\nMODE-SAME$/m);
      assert.match(t, /^RC-TERM=143\nMODE-SAME\nRAW-WHILE-RUNNING-TERM$/m);
      assert.match(t, /^RC-INT=130\nMODE-SAME\nRAW-WHILE-RUNNING-INT$/m);
    }
  });

  // Stopped by a SIGTSTP to ww and continued by `fg`, ww left the caller's terminal in the mode the
  // shell took it back in (canonical, echoing: what was typed showed twice, and Ctrl-C was the
  // caller's again), and the program kept the window size it had before the stop.
  Deno.test(`[jail=${backend}] after a stop and fg, the caller's terminal is raw again and the program has its new size`, async () => {
    const s = new Session(
      [
        "stty rows 30 cols 100",
        "before=$(stty -g)",
        `( while [ ! -e "$T/stop" ]; do sleep 0.05; done; kill -TSTP "$(cat "$T/pid")" ) </dev/null &`,
        `bash -c 'echo $$ >"$T/pid"; exec "$@"' - ${
          wwCommand().map(quote).join(" ")
        } run --jail=${backend} /bin/sh -c 'echo STARTED; read line; stty size; echo "GOT $line"'`,
        `echo "STOPPED=$?"`,
        // An interactive shell takes the terminal back in its own mode; the window changes while ww
        // is stopped (the SIGWINCH goes to the shell, in the foreground then).
        `stty "$before"; stty rows 33 cols 99`,
        `( sleep 1; stty -g >"$T/during"; echo READY ) </dev/tty &`,
        "fg >/dev/null",
        `echo "RC=$?"`,
        `[ "$(cat "$T/during")" != "$(stty rows 33 cols 99; stty -g)" ] && echo RAW-AGAIN`,
      ].join("\n"),
      true,
    );
    try {
      await s.expect(/STARTED$/m);
      Deno.writeTextFileSync(`${s.dir}/stop`, "");
      await s.expect(/^STOPPED=14[78]$/m);
      await s.expect(/^READY$/m);
      await s.send("hello\n");
      await s.expect(/^RC=/m);
    } finally {
      await s.end();
      const t = s.text;
      assert.match(t, /^33 99\nGOT hello\nRC=0$/m);
      assert.match(t, /^RAW-AGAIN$/m);
    }
  });

  // Continued in the background (`bg`), the terminal is the shell's: ww, setting its mode again,
  // stopped (SIGTTOU), and the program ran on.
  Deno.test(`[jail=${backend}] after a stop and bg, ww leaves the shell's terminal mode and runs on`, async () => {
    const s = new Session(
      [
        "before=$(stty -g)",
        `( while [ ! -e "$T/stop" ]; do sleep 0.05; done; kill -TSTP "$(cat "$T/pid")" ) </dev/null &`,
        `bash -c 'echo $$ >"$T/pid"; exec "$@"' - ${
          wwCommand().map(quote).join(" ")
        } run --jail=${backend} /bin/sh -c 'echo STARTED; sleep 60'`,
        `echo "STOPPED=$?"`,
        `stty "$before"`,
        "bg >/dev/null; sleep 1",
        `case "$(ps -o stat= -p "$(cat "$T/pid")")" in T*) echo STOPPED-IN-BG;; *) echo RAN-IN-BG;; esac`,
        `[ "$(stty -g)" = "$before" ] && echo SHELL-MODE-KEPT`,
        // Stopped again by then or not (a background job that reads the terminal gets SIGTTIN), it
        // ends in the foreground: the SIGTERM waits in a stopped process until fg continues it.
        `kill -TERM "$(cat "$T/pid")"; fg >/dev/null 2>&1; echo DONE`,
      ].join("\n"),
      true,
    );
    try {
      await s.expect(/STARTED$/m);
      Deno.writeTextFileSync(`${s.dir}/stop`, "");
      await s.expect(/^DONE$/m);
    } finally {
      await s.end();
      assert.match(s.text, /^RAN-IN-BG\nSHELL-MODE-KEPT$/m);
    }
  });

  // Typed before ww made the caller's terminal raw, an end of input (here `script`'s, once its own
  // input ended) was read as a NUL byte, and the program waited for its input's end forever; so
  // was each end of input after the first.
  Deno.test(`[jail=${backend}] lines and ends of input typed before ww starts reach the program as typed`, async () => {
    const s = new Session(
      `sleep 1; ww run --jail=${backend} /bin/sh -c ` +
        `'od -c; echo FIRST; od -c; echo SECOND; od -c; echo THIRD'; echo "RC=$?"`,
    );
    // A line, two ends of input, a line, and then the end of script's own input: all of it waits
    // in the terminal until ww reads it.
    await s.send("a\n\x04\x04b\n");
    const timer = setTimeout(() => s.kill(), 30_000);
    try {
      await s.end();
    } finally {
      clearTimeout(timer);
    }
    // What the program wrote, without the terminals' echo of the input, which comes as it may.
    const written = s.text.split("\n").filter((l) => /^(0000|FIRST|SECOND|THIRD|RC=)/.test(l));
    assert.deepEqual(written, [
      "0000000   a  \\n",
      "0000002",
      "FIRST",
      "0000000",
      "SECOND",
      "0000000   b  \\n",
      "0000002",
      "THIRD",
      "RC=0",
    ], s.text);
  });

  Deno.test(`[jail=${backend}] TIOCSTI on the program's fd 0 cannot type into ww's caller`, async () => {
    const s = new Session([
      `ww run --jail=${backend} /usr/bin/perl -e '$ok = 1; $ok &&= ioctl(STDIN, 0x5412, $_) for split //, "echo INJECTED\\n"; print $ok ? "STI-DONE\\n" : "STI-REFUSED\\n"'`,
      // Anything typed into the caller's terminal is read here.
      `read -r -t 2 line; echo "READ=[$line]"`,
    ].join("\n"));
    try {
      await s.expect(/READ=/);
    } finally {
      await s.end();
      assert.match(s.text, /^READ=\[\]$/m);
      // Unjailed it may type into its own pty (it only reaches itself); both jails' seccomp
      // refuses TIOCSTI whatever the terminal.
      assert.match(s.text, backend === "none" ? /STI-DONE/ : /STI-REFUSED/);
    }
  });

  Deno.test(`[jail=${backend}] --no-tty: the program gets ww's own terminal, as before`, async () => {
    const probe = backend === "bwrap"
      // bwrap's new session has no controlling terminal: the old message.
      ? `ww run --no-tty --jail=bwrap /bin/sh -i; echo "RC=$?"`
      : `ww run --no-tty --jail=${backend} /bin/readlink /proc/self/fd/0; echo "RC=$?"; tty`;
    const s = new Session(probe);
    try {
      if (backend === "bwrap") {
        await s.send("exit 6\n");
        await s.expect(/RC=6/);
      } else {
        await s.expect(/^RC=0\n\/dev\/pts\/\d+$/m);
      }
    } finally {
      await s.end();
      const t = s.text;
      if (backend === "bwrap") assert.match(t, /can't access tty|job control turned off/);
      else {
        const [, inner, outer] = t.match(/^(\/dev\/pts\/\d+)\nRC=0\n(\/dev\/pts\/\d+)$/m) ?? [];
        assert.ok(inner && inner === outer, t);
      }
    }
  });

  Deno.test(`[jail=${backend}] --tty with stdin and stdout not terminals: a pty all the same, fed from the pipe`, async () => {
    const { code, stdout } = await runWw(
      [
        "run",
        "--tty",
        `--jail=${backend}`,
        "/bin/sh",
        "-c",
        "test -t 0 && test -t 1 && test -t 2 && echo ALL-TTY; stty size; cat; exit 4",
      ],
      { stdin: "hello\nworld\n" },
    );
    assert.equal(code, 4);
    const text = stdout.replaceAll("\r\n", "\n");
    assert.match(text, /^ALL-TTY$/m);
    // No terminal to copy the size from: 24 rows of 80 columns, not 0 × 0.
    assert.match(text, /^24 80$/m);
    // cat's copy, after the pty's echo of the input.
    assert.equal(text.split("hello\nworld\n").length, 3, text);
  });

  // The pump stopped at EPIPE and nothing read the pty again: the program blocked writing to it,
  // and ww waited for the program, for good.
  Deno.test(`[jail=${backend}] --tty: when ww's stdout goes away, the program's terminal hangs up and ww ends`, async () => {
    // ww's stdout into `head -n 2`, which leaves after two lines; ww's own status is printed.
    const intoHead = (program: string[]) =>
      runWw(["run", "--tty", `--jail=${backend}`, ...program], {
        ww: [
          "/bin/bash",
          "-c",
          `timeout -s KILL 20 "$@" </dev/null | head -n 2 >/dev/null; echo "ww \${PIPESTATUS[0]}"`,
          "caller",
          ...wwCommand(),
        ],
      });
    const r = await intoHead(["/usr/bin/yes"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "ww 129\n", r.stderr); // SIGHUP, as from a terminal that went away
    // One that ignores the hangup writes on, each write failing (EIO) as on a terminal that went
    // away: it ends as it would.
    const ignoring = await intoHead([
      "/bin/sh",
      "-c",
      'trap "" HUP; i=0; while [ $i -lt 3000 ]; do echo "line $i"; i=$((i+1)); done; exit 3',
    ]);
    assert.equal(ignoring.stdout, "ww 3\n", ignoring.stderr);
  });

  // After the hangup ww read the pty only to drop what it read: a program that ignored SIGHUP and
  // wrote for ever kept itself and ww busy (a quarter of a core) until --timeout or a signal.
  Deno.test(`[jail=${backend}] --tty: when ww's stdout goes away, a program that ignores SIGHUP sees its writes fail, and ends`, async () => {
    const started = Date.now();
    const r = await runWw([
      "run",
      "--tty",
      `--jail=${backend}`,
      "/bin/sh",
      "-c",
      'trap "" HUP; yes',
    ], {
      ww: [
        "/bin/bash",
        "-c",
        `timeout -s KILL 15 "$@" </dev/null | head -n 1 >/dev/null; echo "ww \${PIPESTATUS[0]}"`,
        "caller",
        ...wwCommand(),
      ],
    });
    // yes's status when its write fails (EIO): 1, which its shell ends with; 137 when it never did.
    assert.equal(r.stdout, "ww 1\n", r.stderr);
    assert.ok(Date.now() - started < 10_000, `${Date.now() - started} ms`);
  });

  // Once the program had ended, what it wrote was passed on for at most 2 s in all, however slowly
  // the caller read: `| less` paused near the end lost the rest.
  Deno.test(`[jail=${backend}] --tty: a caller who reads slowly gets all the output of a program that ended`, async () => {
    const r = await runWw(["run", "--tty", `--jail=${backend}`, "seq", "1", "12000"], {
      ww: [
        "/bin/bash",
        "-c",
        `"$@" </dev/null | (sleep 3; wc -c); echo "ww \${PIPESTATUS[0]}"`,
        "caller",
        ...wwCommand(),
      ],
      env: { PATH: "/usr/bin:/bin" },
    });
    // seq's 60894 bytes, each line ending in \r\n on the terminal.
    assert.equal(r.stdout.replace(/^\s+/, ""), "72894\nww 0\n", r.stderr);
  });

  // The pump waited, with no deadline, for a stdout nobody read: ww outlived --timeout and every
  // signal but SIGKILL.
  Deno.test(`[jail=${backend}] --tty: a caller that stops reading ww's stdout cannot keep ww past --timeout`, async () => {
    const { code, ms } = await timedOutUnread(backend, ["/usr/bin/yes"]);
    assert.equal(code, "124");
    // 1 s, the 2 s grace if the program ignored SIGTERM, 2 s of draining: well under 30.
    assert.ok(Number(ms) < 10_000, `ww took ${ms} ms`);
  });

  // ww wrote a pty's output to its stdout in one blocking write(2) once poll said there was room:
  // a pipe with room for only part of it blocked ww's whole event loop, --timeout's SIGKILL
  // included, until the caller read. A program that ignores SIGTERM and writes in small pieces
  // leaves such room in the caller's pipe now and then (ffi/nonblocking_out_test.ts makes it so
  // at once).
  Deno.test(`[jail=${backend}] --tty: a caller's pipe with room for only part of the output cannot keep ww past --timeout`, async () => {
    const program = ["/bin/sh", "-c", 'trap "" TERM; while :; do echo x; done'];
    const { code, ms } = await timedOutUnread(backend, program);
    assert.equal(code, "124");
    // 1 s, the 2 s grace (the program ignores SIGTERM), 2 s of draining, ww's own start on a
    // busy machine: well under 30.
    assert.ok(Number(ms) < 15_000, `ww took ${ms} ms`);
  });

  Deno.test(`[jail=${backend}] --tty: everything the program wrote right before it ended reaches ww's stdout`, async () => {
    for (let run = 0; run < 3; run++) {
      const { code, stdout } = await runWw(
        ["run", "--tty", `--jail=${backend}`, "/bin/sh", "-c", "seq 1 20000; exit 2"],
        { stdin: "" },
      );
      assert.equal(code, 2);
      const lines = stdout.split("\r\n").filter((l) => /^\d+$/.test(l));
      assert.equal(
        lines.length,
        20000,
        `run ${run}: ${lines.length} lines, the last ${lines.at(-1)}`,
      );
      assert.equal(lines.at(-1), "20000");
    }
  });

  Deno.test(`[jail=${backend}] library: runs with tty leave no descriptor or process behind; a program given a run's terminal gets it as fd 0-2 only`, async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${REPO}tests/run/tty_probe.ts`, backend],
      stdin: "null",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const { before, after, outcomes, sharedCode, sharedText } = JSON.parse(
      new TextDecoder().decode(out.stdout).trim().split("\n").pop()!,
    );
    // The refused start is a cwd the jail cannot show: a CwdError under every backend (issue 16).
    const refused = "refused CwdError";
    assert.deepEqual(outcomes, [..."ab"].flatMap(() => ["exit 7", "killed 137", refused]));
    assert.deepEqual(after.fds, before.fds, "descriptors leaked");
    assert.deepEqual(after.children, [], "child processes or zombies left behind");
    assert.match(sharedText, /SHARED-PTY/);
    if (backend !== "none") assert.notEqual(sharedCode, 9, "the shared pty became /dev/tty");
  });
}

for (const backend of BACKENDS) {
  Deno.test(`[jail=${backend}] a terminal of its own and socket activation together: LISTEN_PID is the program's pid, and fd 0 is its controlling terminal`, async () => {
    // The program prints its pid, LISTEN_PID and whether /dev/tty (its controlling terminal)
    // opens; each line is tagged so that the echo of the command line cannot match.
    const probe =
      'echo "P=$$ L=$LISTEN_PID F=$LISTEN_FDS"; if : </dev/tty; then echo CTTY-YES; else echo CTTY-NO; fi';
    const s = new Session(
      `ww run --jail=${backend} --tty --socket-activation --listen web=tcp:127.0.0.1:0 /bin/sh -c ${
        quote(probe)
      }\necho "RC=$?"`,
    );
    let code;
    try {
      await s.expect(/RC=\d+/);
    } finally {
      code = await s.end();
    }
    const text = s.text;
    assert.match(text, /^RC=0$/m, text);
    const m = /^P=(\d+) L=(\d+) F=1$/m.exec(text);
    assert.ok(m, text);
    assert.equal(m[1], m[2], `LISTEN_PID is not the program's pid: ${text}`);
    assert.match(text, /^CTTY-YES$/m, text);
    assert.equal(code, 0);
  });
}

// ww run by another user, its stdout a pipe of root's (mode 0600), which it cannot reopen: it
// writes fd 1 itself, only once poll(2) says there is room. A full pipe whose reader left is
// POLLERR alone, never POLLOUT, and ww asked again at once, at full CPU, until --timeout (and
// for ever without one), while the program waited on its full terminal.
Deno.test("--tty: ww as another user, its stdout a full pipe of root's whose reader left, ends at once with little CPU", async () => {
  const home = Deno.makeTempDirSync({ prefix: "wwtest-user-home-" });
  Deno.chmodSync(home, 0o777);
  const ww = new Deno.Command("setpriv", {
    args: [
      "--reuid=4242",
      "--regid=4242",
      "--clear-groups",
      "--",
      ...wwCommand(),
      "run",
      "--jail=none",
      "--tty",
      "--timeout",
      "60s",
      "/usr/bin/yes",
    ],
    env: { HOME: home, DENO_DIR: `${home}/deno`, PATH: "/usr/bin:/bin" },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    // The pipe is this process's (root's). Read until yes's lines flow, let ww fill the pipe, and
    // leave: the pipe's only reader closes its end.
    const reader = ww.stdout.getReader();
    assert.equal((await reader.read()).done, false);
    await new Promise((r) => setTimeout(r, 1000));
    await reader.cancel();
    const before = cpuTicks(ww.pid) ?? 0;
    let last = before;
    const left = performance.now();
    let ended = false;
    ww.status.then(() => ended = true);
    while (!ended && performance.now() - left < 8000) {
      last = cpuTicks(ww.pid) ?? last;
      await new Promise((r) => setTimeout(r, 100));
    }
    const took = Math.round(performance.now() - left);
    assert.ok(
      ended,
      `ww still runs ${took} ms after its reader left, ${last - before} ticks of CPU`,
    );
    // A spin is ~100 ticks a second; ww's end (the program's hang-up, its own exit) a few.
    assert.ok(last - before < 50, `${last - before} ticks of CPU after the reader left`);
    // The program's terminal hung up (SIGHUP), as when a caller of root's stops reading.
    assert.equal((await ww.status).code, 129);
  } finally {
    // SIGTERM, which ww passes on: unjailed, a program of a SIGKILLed ww would run on.
    try {
      ww.kill("SIGTERM");
    } catch { /* ended */ }
    await ww.status;
    Deno.removeSync(home, { recursive: true });
  }
});
