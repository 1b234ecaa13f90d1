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

// A large message's last 4 KiB, trickled in, made each read copy the whole buffer into a new one
// 4 KiB larger (an 8 MiB message: ~1.7 s of CPU and twice the memory).
Deno.test("a large message trickled in is read into one buffer, not a new one per read", async () => {
  const words = 128 * 1024; // a 1 MiB segment
  const message = new Uint8Array(8 + 8 * words);
  new DataView(message.buffer).setUint32(4, words, true);
  const buffers = new Set<ArrayBufferLike>();
  let at = 0;
  const stream = {
    read(p: Uint8Array): Promise<number | null> {
      if (at === message.length) return Promise.resolve(null);
      buffers.add(p.buffer);
      // The first part at once, then the last 8 KiB a byte at a time.
      const n = Math.min(p.length, at < message.length - 8192 ? message.length - 8192 - at : 1);
      p.set(message.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
    write: (p: Uint8Array) => Promise.resolve(p.length),
    close: () => {},
  };
  const frames: ArrayBuffer[] = [];
  for await (const f of readFrames(stream, { maxSegments: 4, maxBytes: 2 << 20 })) frames.push(f);
  assert.equal(frames.length, 1);
  assert.equal(frames[0].byteLength, message.length);
  assert.ok(buffers.size <= 3, `${buffers.size} buffers`);
});
