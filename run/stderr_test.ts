import assert from "node:assert/strict";
import type { NonblockingOut } from "../ffi/nonblocking_out.ts";
import { OWN_RESERVE_BYTES, stderrQueue } from "./stderr.ts";

/** A reader with `room` bytes of buffer that reads only when told to. */
function modelOut(room: number) {
  const written: number[] = [];
  let free = room;
  let gone = false;
  const out: NonblockingOut = {
    write(bytes) {
      if (gone) return -1;
      const n = Math.min(free, bytes.length);
      written.push(...bytes.subarray(0, n));
      free -= n;
      return n;
    },
    writable: () => new Promise((r) => setTimeout(() => r(free > 0), 1)),
    close: () => {},
  };
  return {
    out,
    text: () => new TextDecoder().decode(new Uint8Array(written)),
    read(n: number) {
      free += n;
    },
    close() {
      gone = true;
    },
  };
}

Deno.test("lines are written at once while there is room, and the queue opens on the first", () => {
  let opened = 0;
  const m = modelOut(1000);
  const q = stderrQueue(() => (opened++, m.out), 100);
  assert.equal(opened, 0);
  q.line("one");
  q.line("two");
  assert.equal(opened, 1);
  assert.equal(m.text(), "one\ntwo\n");
  assert.equal(q.queued, 0);
});

Deno.test("a full reader queues up to the bound, then drops whole lines and counts them", async () => {
  const m = modelOut(5);
  const q = stderrQueue(() => m.out, 20);
  for (let i = 0; i < 10; i++) q.guestLine(`line${i}`); // 6 bytes each
  // 5 bytes went out; the rest of line0 and line1..line3 wait (19 bytes); line4 would make 25.
  assert.equal(m.text(), "line0");
  assert.equal(q.queued, 1 + 6 + 6 + 6);
  assert.equal(q.dropped, 6);
  m.read(1000);
  await q.finish(1000);
  const lines = m.text().split("\n");
  assert.deepEqual(lines.slice(0, 4), ["line0", "line1", "line2", "line3"]);
  assert.match(lines[4], /^ww: 6 console lines dropped/);
  assert.equal(q.queued, 0);
});

Deno.test("a line is never cut: its rest goes out first once there is room", async () => {
  const m = modelOut(3);
  const q = stderrQueue(() => m.out, 100);
  q.line("abcdef");
  q.line("gh");
  assert.equal(m.text(), "abc");
  m.read(100);
  await q.finish(1000);
  assert.equal(m.text(), "abcdef\ngh\n");
});

Deno.test("finish gives up soon on a reader that reads nothing, and at once on one that is gone", async () => {
  const m = modelOut(0);
  const q = stderrQueue(() => m.out, 100);
  q.line("stuck");
  const t0 = performance.now();
  await q.finish(5000);
  assert.ok(performance.now() - t0 < 1000, `${performance.now() - t0} ms`);
  assert.equal(q.queued, 6);
  m.close();
  q.line("after");
  assert.equal(q.queued, 0);
  await q.finish(5000);
});

// A guest's console flood filled the queue, and ww's own last lines (a timeout, the count of
// dropped lines) were dropped with the guest's: ww's lines have a reserve past the bound.
Deno.test("ww's own lines are queued past a guest's flood, into a reserve of their own", async () => {
  const m = modelOut(0);
  const q = stderrQueue(() => m.out, 20);
  for (let i = 0; i < 10; i++) q.guestLine(`guest${i}`); // 7 bytes each: two fit
  assert.equal(q.dropped, 8);
  q.line("ww: app timed out after 3s");
  assert.equal(q.dropped, 8);
  assert.equal(q.queued, 14 + 27);
  q.line("x".repeat(OWN_RESERVE_BYTES)); // beyond the reserve too: dropped
  assert.equal(q.dropped, 9);
  m.read(1000);
  await q.finish(1000);
  assert.deepEqual(m.text().split("\n").slice(0, 4), [
    "guest0",
    "guest1",
    "ww: app timed out after 3s",
    "ww: 9 console lines dropped (ww's stderr was not read as fast as they came)",
  ]);
});
