import assert from "node:assert/strict";
import { FrameError, frameLength, readFrames } from "./frame.ts";

const LIMITS = { maxSegments: 4, maxBytes: 1024 };
const bytes = (...u32: number[]) => new Uint8Array(new Uint32Array(u32).buffer);

Deno.test("the length counts the padded segment table and every segment", () => {
  assert.equal(frameLength(bytes(0, 1), LIMITS), 16);
  assert.equal(frameLength(bytes(1, 1, 2, 0), LIMITS), 12 + 4 + 24);
  assert.equal(frameLength(bytes(2, 1, 1, 1), LIMITS), 16 + 24);
});

Deno.test("a short head asks for exactly the bytes that decide the length", () => {
  assert.deepEqual(frameLength(new Uint8Array(2), LIMITS), { need: 4 });
  assert.deepEqual(frameLength(bytes(3), LIMITS), { need: 24 });
});

Deno.test("limits are checked on the table, before any segment byte arrives", () => {
  assert.throws(() => frameLength(bytes(0xffffffff), LIMITS), FrameError);
  assert.throws(() => frameLength(bytes(0, 0xffffffff), LIMITS), /larger than 1024 bytes/);
  assert.throws(() => frameLength(bytes(4), LIMITS), /5 segments \(the limit is 4\)/);
});

Deno.test("a header that claims 8 MiB costs memory only as its bytes arrive", async () => {
  // One segment of 8 MiB - 8 bytes announced, then 1 KiB per read, then the end.
  const head = bytes(0, (8 << 20) / 8 - 1);
  let sent = 0;
  let offered = 0;
  const stream = {
    read(p: Uint8Array) {
      offered = Math.max(offered, p.length);
      if (sent >= 256 << 10) return Promise.resolve(null);
      const n = Math.min(p.length, 1024);
      if (sent === 0) p.set(head);
      sent += n;
      return Promise.resolve(n);
    },
    write: (p: Uint8Array) => Promise.resolve(p.length),
    close() {},
  };
  const frames = readFrames(stream, { maxSegments: 1, maxBytes: 8 << 20 });
  await assert.rejects(frames.next(), /the stream ended inside a message/);
  // 256 KiB arrived: the buffer grew by doubling what it held, not to the 8 MiB announced.
  assert.ok(offered <= 1 << 20, `the reader offered a buffer of ${offered} bytes`);
});
