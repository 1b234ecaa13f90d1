// tests/run/command_probe.ts — a program (not a test) run by command_test.ts in a process of its
// own, so that nothing else opens descriptors or starts children in it: it runs a program through
// mod.ts's Command, `sequential` times one after another and then `concurrent` at once, each with
// piped stdout and stderr, and prints as JSON on its last line its descriptors, ww- work
// directories, child processes, threads and RSS before and after (once idle worker threads have
// ended), and how long the sequential runs took.
//
//   TMPDIR=<dir> deno run -A tests/run/command_probe.ts <bwrap|native|none> <sequential> <concurrent>

import { Command, type JailBackend } from "../../mod.ts";
import { childrenOf, wwDirs } from "../support/procs.ts";

const [backend, seqText, concText] = Deno.args;
const tmp = Deno.env.get("TMPDIR");
if (!tmp || !["bwrap", "native", "none"].includes(backend)) {
  throw new Error(
    "usage: TMPDIR=<dir> command_probe.ts <bwrap|native|none> <sequential> <concurrent>",
  );
}

function threads(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/^Threads:\s+(\d+)/m.exec(status)![1]);
}

function snapshot() {
  return {
    fds: [...Deno.readDirSync("/proc/self/fd")].map((e) => {
      try {
        return `${e.name} ${Deno.readLinkSync(`/proc/self/fd/${e.name}`)}`;
      } catch {
        return e.name; // the directory's own descriptor, closed by now
      }
    }).sort(),
    dirs: wwDirs(tmp!),
    children: childrenOf(Deno.pid),
    threads: threads(),
    rssMiB: Math.round(Deno.memoryUsage().rss / 2 ** 20),
  };
}

const command = new Command("/bin/sh", {
  args: ["-c", "echo out; echo err >&2"],
  jail: { backend: backend as JailBackend },
});

async function once(): Promise<void> {
  const out = await command.output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (out.code !== 0 || text !== "out\nerr\n") {
    throw new Error(`unexpected run: ${out.code} ${JSON.stringify(text)} ${out.error}`);
  }
}

// Runs for a second first, so that what is made once is in `before`: the stage, the launcher,
// and a socket pair Deno itself opens about 0.5 s after its first call on a worker thread (a
// loop of plain nonblocking FFI calls, without ww, shows it too).
const warming = performance.now();
for (let i = 0; i < 20 || performance.now() - warming < 1000; i++) await once();
const before = snapshot();
const started = performance.now();
for (let i = 0; i < Number(seqText); i++) await once();
const sequentialMs = performance.now() - started;
const afterSequential = snapshot();
await Promise.all(Array.from({ length: Number(concText) }, once));
const concurrentDone = snapshot();
// Deno's pool of worker threads (for waitpid and poll) keeps an idle thread for 10 s: wait until
// they have gone, or 15 s.
const settling = performance.now();
while (threads() > before.threads && performance.now() - settling < 15_000) {
  await new Promise((r) => setTimeout(r, 250));
}
const after = { ...snapshot(), settledMs: Math.round(performance.now() - settling) };
console.log(JSON.stringify({ before, afterSequential, concurrentDone, after, sequentialMs }));
