import assert from "node:assert/strict";
import { closeFd, pipe, readAvailable, readFileText, writeAll } from "./fd.ts";

Deno.test("readAvailable takes what a pipe holds now, up to a limit, and never waits", () => {
  const [read, write] = pipe();
  try {
    // Empty, with its writer still open: nothing, at once (a blocking read would hang here).
    assert.deepEqual(readAvailable(read, 100), new Uint8Array());
    writeAll(write, new TextEncoder().encode("hello world"));
    assert.equal(new TextDecoder().decode(readAvailable(read, 5)), "hello");
    assert.equal(new TextDecoder().decode(readAvailable(read, 100)), " world");
    // More than one read's worth.
    writeAll(write, new Uint8Array(10_000).fill(7));
    closeFd(write);
    const all = readAvailable(read, 1_000_000);
    assert.equal(all.length, 10_000);
    assert.ok(all.every((b) => b === 7));
    // At its end: nothing.
    assert.deepEqual(readAvailable(read, 100), new Uint8Array());
  } finally {
    closeFd(read);
    closeFd(write);
  }
});

Deno.test("readFileText reads a file whole as Deno.readTextFileSync does, or says it cannot", () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-readfiletext-" });
  try {
    // More than one read's worth, with bytes that are not UTF-8 (each becomes U+FFFD).
    const bytes = new Uint8Array(40_000).map((_, i) => i % 7 === 0 ? 0xff : 0x61 + (i % 26));
    const file = `${dir}/f`;
    Deno.writeFileSync(file, bytes);
    assert.equal(readFileText(file), Deno.readTextFileSync(file));
    Deno.writeFileSync(`${dir}/empty`, new Uint8Array());
    assert.equal(readFileText(`${dir}/empty`), "");
    // A file of /proc, whose size stat says is 0.
    assert.equal(readFileText("/proc/self/uid_map"), Deno.readTextFileSync("/proc/self/uid_map"));
    assert.equal(readFileText(`${dir}/absent`), undefined);
    assert.equal(readFileText(dir), undefined); // a directory: read(2) says EISDIR
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
