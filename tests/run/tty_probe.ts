// tests/run/tty_probe.ts — a program (not a test) run by tty_test.ts in a process of its own, with
// stdin from /dev/null: it starts programs with a terminal of their own (RunConfig.tty) through
// the library, a few times each way (they end, are killed, fail to start once the terminal is
// open), and prints on its last line, as JSON, what each run saw and its descriptors and child
// processes before and after; then what a program given another run's terminal saw.
//
//   deno run -A tests/run/tty_probe.ts <none|native|bwrap>

import { DEFAULT_POLICY, type JailBackend, type RunConfig, startProgram } from "../../mod.ts";
import { childrenOf } from "../support/procs.ts";
import { openPty, readSome } from "../../ffi/pty.ts";

const backend = Deno.args[0] as JailBackend;
const base: RunConfig = {
  program: "/bin/sh",
  args: [],
  fds: [],
  env: { PATH: "/usr/bin:/bin" },
  ipfsApi: "",
  jail: { ...DEFAULT_POLICY, backend },
  tty: true,
};

async function once(i: number): Promise<string> {
  switch (i % 3) {
    case 0: {
      const p = await startProgram({
        ...base,
        args: ["-c", "test -t 0 && test -t 1 && test -t 2 && exit 7; exit 1"],
      });
      return `exit ${(await p.status).code}`;
    }
    case 1: {
      const p = await startProgram({ ...base, args: ["-c", "echo up >&3; exec sleep 60"] });
      await p.hostSocket.read(new Uint8Array(16));
      p.kill("SIGKILL");
      return `killed ${(await p.status).code}`;
    }
    default:
      // Refused after the terminal is open: the jail cannot enter the directory.
      return await startProgram({ ...base, jail: { ...base.jail, chdir: "/nonexistent/dir" } })
        .then(() => "started?", (e) => `refused ${e.name}`);
  }
}

function openFds(): string[] {
  const fds: string[] = [];
  for (const { name } of [...Deno.readDirSync("/proc/self/fd")]) {
    try {
      fds.push(`${name} -> ${Deno.readLinkSync(`/proc/self/fd/${name}`)}`);
    } catch { /* the directory listing's own descriptor */ }
  }
  return fds.sort();
}

// Warm up (libc, worker threads, Deno's own late socket pair), as leak_probe.ts does.
for (let i = 0; i < 3; i++) await once(i);
await new Promise((r) => setTimeout(r, Math.max(0, 1500 - performance.now())));
const before = { fds: openFds(), children: childrenOf(Deno.pid) };
const outcomes: string[] = [];
for (let i = 0; i < 6; i++) outcomes.push(await once(i));
const after = { fds: openFds(), children: childrenOf(Deno.pid) };

// A program started by a run with a terminal (--with-exec) shares it as fd 0-2, and not as its
// controlling terminal: /dev/tty opens only for the unjailed one, which shares ww's session.
const pty = openPty();
const shared = await startProgram({
  ...base,
  tty: false,
  args: ["-c", "test -t 0 && test -t 1 && test -t 2 && echo SHARED-PTY; exec 3</dev/tty && exit 9"],
}, { terminal: pty.name });
const sharedCode = (await shared.status).code;
await new Promise((r) => setTimeout(r, 200));
const buf = new Uint8Array(4096);
const n = readSome(pty.master, buf);
const sharedText = new TextDecoder().decode(buf.subarray(0, Math.max(0, n)));
console.log(JSON.stringify({ before, after, outcomes, sharedCode, sharedText }));
