import assert from "node:assert/strict";
import { sendLine } from "./sink.ts";

Deno.test("sendLine gives the line to the sink, and a sink that throws or rejects loses only it", async () => {
  const got: string[] = [];
  sendLine((l) => got.push(l), "ww: a: one");
  assert.deepEqual(got, ["ww: a: one"]);
  sendLine(() => {
    throw new Error("sink down");
  }, "lost");
  // A rejection left unhandled would fail this test (Deno's sanitizer ends it).
  sendLine(() => Promise.reject(new Error("sink down")), "lost");
  await new Promise((r) => setTimeout(r, 0));
});
