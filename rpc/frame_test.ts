import assert from "node:assert/strict";
import { FrameError, frameLength } from "./frame.ts";

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
