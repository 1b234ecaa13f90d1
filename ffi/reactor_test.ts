// ffi/reactor_test.ts — the reactor with real pipes: many waits share one poll, each resolves on
// its own descriptor, and an idle reactor holds nothing.

import assert from "node:assert/strict";
import { closeFd, pipe } from "./fd.ts";
import { POLLIN, POLLOUT } from "./flags.ts";
import { libc, pollOnWorker } from "./libc.ts";
import { closeWatched, reactorDescriptors, readyNow, whenReady } from "./reactor.ts";

const WAITS = 100; // far more than Deno's 32 blocking threads

/** What `fds` are ("pipe:[inode]"), to find them again whatever numbers they get. */
function identities(fds: readonly number[]): Set<string> {
  return new Set(fds.map((fd) => Deno.readLinkSync(`/proc/self/fd/${fd}`)));
}

/**
 * The descriptors of this process that still are one of `ids` once closes have settled (the
 * reactor defers a close to the end of the poll in flight, which lands a moment later on a loaded
 * machine), or as they are after 3 s. Identities, not counts: every test module of a parallel run
 * shares this process, and its descriptors.
 */
async function stillOpen(ids: Set<string>): Promise<string[]> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const open = [...Deno.readDirSync("/proc/self/fd")].flatMap((e) => {
      try {
        const id = Deno.readLinkSync(`/proc/self/fd/${e.name}`);
        return ids.has(id) ? [`${e.name} -> ${id}`] : [];
      } catch {
        return []; // closed meanwhile
      }
    });
    if (open.length === 0 || Date.now() > deadline) return open;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The reactor's own descriptors, once it has gone idle (or after 3 s). */
async function reactorSettled(): Promise<number[]> {
  const deadline = Date.now() + 3000;
  while (reactorDescriptors().length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return reactorDescriptors();
}

Deno.test(`${WAITS} waits at once hold one worker thread: each resolves when its fd is ready`, async () => {
  const pipes = Array.from({ length: WAITS }, () => pipe());
  const ids = identities(pipes.flat());
  const resolved: number[] = [];
  const waits = pipes.map(([r], i) =>
    whenReady(r, POLLIN).ready.then((ev) => resolved.push(i) && ev)
  );
  // Another nonblocking call still gets a thread while all of them wait.
  assert.deepEqual(await pollOnWorker([[pipes[0][1], POLLOUT]], 0), [POLLOUT]);
  // Ready in reverse order: each wait resolves when its own pipe is written, not before.
  for (let i = WAITS - 1; i >= 0; i--) {
    libc().write(pipes[i][1], new Uint8Array([1]), 1n);
    await waits[i];
    assert.equal(resolved.at(-1), i);
  }
  assert.equal(resolved.length, WAITS);
  for (const ev of await Promise.all(waits)) assert.ok(ev & POLLIN);
  for (const [r, w] of pipes) {
    closeWatched(r);
    libc().close(w);
  }
  assert.deepEqual(await stillOpen(ids), []);
  assert.deepEqual(await reactorSettled(), [], "the reactor holds no descriptor once idle");
});

Deno.test("closeWatched ends the fd's waits and closes it; cancel ends one wait", async () => {
  const [r1, w1] = pipe();
  const [r2, w2] = pipe();
  const ids = identities([r1, w1, r2, w2]);
  const a = whenReady(r1, POLLIN);
  const b = whenReady(r2, POLLIN);
  await new Promise((resolve) => setTimeout(resolve, 10)); // the poll is in flight over both
  closeWatched(r1);
  assert.equal(await a.ready, 0);
  b.cancel();
  assert.equal(await b.ready, 0);
  closeWatched(r2);
  libc().close(w1);
  libc().close(w2);
  assert.deepEqual(await stillOpen(ids), []);
});

Deno.test("a watched fd closed by closeFd during a poll: its wait ends, its number is not reused under the poll", async () => {
  const [r1, w1] = pipe();
  const ids = identities([r1, w1]);
  const old = whenReady(r1, POLLIN);
  await new Promise((resolve) => setTimeout(resolve, 10)); // the poll is in flight over r1
  closeFd(r1);
  // Were r1 closed now, the next pipe would get its number, and a poll still running over r1
  // would watch that pipe in the old wait's place (or report the old wait's descriptor invalid).
  const [r2, w2] = pipe();
  for (const id of identities([r2, w2])) ids.add(id);
  assert.notEqual(r2, r1, "the number of a descriptor a poll watches was reused under it");
  const fresh = whenReady(r2, POLLIN);
  closeFd(r1); // a second close is no close of whatever has the number next
  assert.equal(await old.ready, 0, "the closed descriptor's wait ends, not as ready or invalid");
  libc().write(w2, new Uint8Array([1]), 1n);
  assert.ok(await fresh.ready & POLLIN);
  // Once the poll has returned, the number is free again: the next pipe may take it, and a wait
  // on it is that pipe's, resolved by that pipe's data alone.
  const [r3, w3] = pipe();
  for (const id of identities([r3, w3])) ids.add(id);
  const third = whenReady(r3, POLLIN);
  const early = await Promise.race([
    third.ready,
    new Promise((resolve) => setTimeout(() => resolve("pending"), 50)),
  ]);
  assert.equal(early, "pending");
  libc().write(w3, new Uint8Array([1]), 1n);
  assert.ok(await third.ready & POLLIN);
  for (const fd of [r2, r3]) closeWatched(fd);
  for (const fd of [w1, w2, w3]) closeFd(fd);
  assert.deepEqual(await stillOpen(ids), []);
});

Deno.test("readyNow answers at once: an empty pipe is not readable, one with a byte or no writer is", () => {
  const [read, write] = pipe();
  try {
    assert.equal(readyNow(read, POLLIN), false);
    assert.equal(libc().write(write, new Uint8Array([1]), 1n), 1);
    assert.equal(readyNow(read, POLLIN), true);
  } finally {
    closeFd(write);
  }
  const [read2, write2] = pipe();
  closeFd(write2);
  assert.equal(readyNow(read2, POLLIN), true, "hung up");
  closeFd(read);
  closeFd(read2);
});

Deno.test("a wait whose descriptor is ready already resolves without a call on the blocking pool", async () => {
  assert.deepEqual(await reactorSettled(), []);
  const [read, write] = pipe();
  try {
    assert.equal(libc().write(write, new Uint8Array([1]), 1n), 1);
    assert.equal((await whenReady(read, POLLIN).ready) & POLLIN, POLLIN);
    // A call would have needed the wake pipe, which stays until the next round sees no waiter.
    assert.deepEqual(reactorDescriptors(), [], "a call on the blocking pool was made");
  } finally {
    closeFd(read);
    closeFd(write);
  }
});

Deno.test("a descriptor that stays ready does not keep timers from running", async () => {
  const [read, write] = pipe();
  try {
    assert.equal(libc().write(write, new Uint8Array([1]), 1n), 1);
    let fired = false;
    const timer = setTimeout(() => (fired = true), 0);
    let rounds = 0;
    // Never drained: every wait is over at once, as with a guest that floods the console.
    while (!fired && rounds < 10_000) {
      await whenReady(read, POLLIN).ready;
      rounds++;
    }
    clearTimeout(timer);
    assert.ok(fired, `the timer did not run in ${rounds} rounds`);
  } finally {
    closeFd(read);
    closeFd(write);
  }
  assert.deepEqual(await reactorSettled(), []);
});

// The wake pipe was made with check(): out of descriptors, its EMFILE was thrown in a microtask,
// uncaught, and ended ww (a stack trace, exit 1). Now the reactor goes on without one.
Deno.test("with no descriptor left for its wake pipe, waits still end, a new one within a poll's period", async () => {
  const probe = new URL("./reactor_wakeless_probe.ts", import.meta.url).pathname;
  const out = await new Deno.Command("bash", {
    args: ["-c", `ulimit -n 64 && exec "${Deno.execPath()}" run -A "${probe}"`],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const seen = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.ok(seen.held > 0, "the probe took no descriptor");
  assert.equal(seen.wakePipe, 0, "a wake pipe was made after all");
  assert.equal(seen.first, POLLIN);
  assert.equal(seen.second, POLLIN);
  assert.ok(seen.secondMs < 2000, `the second wait ended ${seen.secondMs} ms after its data`);
});
