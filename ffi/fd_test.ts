import assert from "node:assert/strict";
import { closeFd, pipe, readAvailable, writeAll } from "./fd.ts";

Deno.test("readAvailable takes what a pipe holds now, up to a limit, and never waits", () => {
  const [read, write] = pipe();
  let writeOpen = true;
  try {
    // Empty, with its writer still open: nothing, at once (a blocking read would hang here).
    assert.deepEqual(readAvailable(read, 100), new Uint8Array());
    writeAll(write, new TextEncoder().encode("hello world"));
    assert.equal(new TextDecoder().decode(readAvailable(read, 5)), "hello");
    assert.equal(new TextDecoder().decode(readAvailable(read, 100)), " world");
    // More than one read's worth.
    writeAll(write, new Uint8Array(10_000).fill(7));
    closeFd(write);
    writeOpen = false;
    const all = readAvailable(read, 1_000_000);
    assert.equal(all.length, 10_000);
    assert.ok(all.every((b) => b === 7));
    // At its end: nothing.
    assert.deepEqual(readAvailable(read, 100), new Uint8Array());
  } finally {
    closeFd(read);
    // Once only: under deno test --parallel the number may be another module's descriptor by
    // now, whose close would take its lock or pipe away (ffi/dir_test's race test caught it).
    if (writeOpen) closeFd(write);
  }
});
