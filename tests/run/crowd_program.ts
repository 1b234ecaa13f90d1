// tests/run/crowd_program.ts — a program (not a test) run by crowd_test.ts: one process runs 40
// programs at once, checks that every one starts (or is served) while the others run and that all
// are reaped when killed with nothing left behind, and exits 1 with the failed assertion on
// stderr otherwise.
//
//   deno run -A tests/run/crowd_program.ts <native|bwrap>      40 jails of `sleep 30`
//   deno run -A tests/run/crowd_program.ts served <guest>      40 guests, one console line each
//
// It is a process of its own because its leak check reads /proc/self/fd: `deno test --parallel`
// runs test modules as workers of one process, so a test's own count would see the descriptors
// of every other module's programs running meanwhile (a pidfd, lease and status pipes of a
// command_test.ts run once made this test fail, and the reactor be suspected).

import assert from "node:assert/strict";
import process from "node:process";
import { Command, type JailBackend } from "../../mod.ts";
import { processesWithArg } from "../support/procs.ts";

const CROWD = 40;
/** Far less than the programs live (30 s), far more than 40 starts take on a loaded machine. */
const STARTED_WITHIN_MS = 20_000;

/** This process's descriptors, as "fd -> what it is". */
function openFds(): Set<string> {
  const fds = new Set<string>();
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      fds.add(`${e.name} -> ${Deno.readLinkSync(`/proc/self/fd/${e.name}`)}`);
    } catch { /* the listing's own descriptor, closed by now */ }
  }
  return fds;
}

/**
 * The descriptors opened since `before` and still open once things have settled (closes the
 * reactor defers to the end of the poll in flight land a moment later on a loaded machine), or
 * as they are after 3 s. Only new ones count: a descriptor of an earlier test's that closes
 * meanwhile (the warm-up run's) is no leak.
 */
async function newFds(before: Set<string>): Promise<string[]> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const added = [...openFds()].filter((fd) => !before.has(fd));
    if (added.length === 0 || Date.now() > deadline) return added;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A number `sleep` takes (30 s) that names this test's processes in /proc. */
function sleepMarker(): string {
  return `30.${String(Math.floor(Math.random() * 1e9)).padStart(9, "0")}1`;
}

/** Runs one program through, so that what Deno opens once per process is open before counting. */
async function warmUp(backend: JailBackend): Promise<void> {
  const status = await new Command("/bin/true", { stdin: "null", jail: { backend } }).spawn()
    .then((c) => c.status);
  assert.ok(status.success);
  // Deno opens a socket pair of its own about 500 ms after it starts.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1500 - performance.now())));
}

function killAll(children: { kill(sig: "SIGKILL"): void }[]): void {
  for (const c of children) {
    try {
      c.kill("SIGKILL");
    } catch { /* already ended */ }
  }
}

/** 40 jails of `sleep 30` start at once, and all are reaped when killed. */
async function crowd(backend: JailBackend): Promise<void> {
  await warmUp(backend);
  const fdsBefore = openFds();
  const marker = sleepMarker();
  const t0 = performance.now();
  const spawning = Array.from(
    { length: CROWD },
    () =>
      new Command("/bin/sleep", {
        args: [marker],
        stdin: "null",
        stdout: "null",
        stderr: "null",
        jail: { backend },
      }).spawn(),
  );
  const started = await Promise.allSettled(spawning);
  const children = started.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
  const elapsed = performance.now() - t0;
  try {
    assert.deepEqual(started.filter((s) => s.status === "rejected"), []);
    assert.ok(elapsed < STARTED_WITHIN_MS, `${CROWD} starts took ${elapsed.toFixed(0)} ms`);
    for (const c of children) process.kill(c.pid, 0); // throws if it is gone
    // Under bwrap, its two processes per jail carry the program's arguments too.
    assert.ok(processesWithArg(marker).length >= CROWD);
  } finally {
    killAll(children);
  }
  const statuses = await Promise.all(children.map((c) => c.status));
  assert.deepEqual(statuses.map((s) => s.signal), children.map(() => "SIGKILL"));
  assert.deepEqual(processesWithArg(marker), []);
  assert.deepEqual(await newFds(fdsBefore), [], "descriptors leaked");
}

/** 40 served programs each get a console line through while all run. */
async function served(guest: string): Promise<void> {
  await warmUp("none");
  const fdsBefore = openFds();
  const marker = `crowd-${crypto.randomUUID()}`;
  const lines = new Set<string>();
  let allLogged!: () => void;
  const logged = new Promise<void>((resolve) => allLogged = resolve);
  const ended = new Set<number>();
  const children = await Promise.all(Array.from({ length: CROWD }, async (_, i) => {
    const child = await new Command(guest, {
      args: ["log-pause", `line ${i}`, marker],
      stdin: "null",
      stdout: "null",
      stderr: "null",
      jail: { backend: "none" },
      host: {
        console: (line) => {
          lines.add(line);
          if (lines.size === CROWD) allLogged();
        },
      },
    }).spawn();
    child.status.then(() => ended.add(i));
    return child;
  }));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      logged,
      new Promise((resolve) => timer = setTimeout(resolve, STARTED_WITHIN_MS)),
    ]);
    assert.equal(lines.size, CROWD, `${lines.size} lines of ${CROWD} got through`);
    assert.deepEqual([...ended], [], "a program ended before all had logged");
    assert.equal(processesWithArg(marker).length, CROWD);
  } finally {
    clearTimeout(timer);
    killAll(children);
  }
  await Promise.all(children.map((c) => c.status));
  assert.deepEqual(processesWithArg(marker), []);
  assert.deepEqual(await newFds(fdsBefore), [], "descriptors leaked");
}

const [what, guest] = Deno.args;
if (what === "served") await served(guest);
else if (what === "native" || what === "bwrap") await crowd(what);
else throw new Error(`usage: crowd_program.ts <native|bwrap|served guest>, not ${what}`);
