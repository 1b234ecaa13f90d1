// ffi/nonblocking_out.ts: ww's stdout written without blocking, in a process of its own whose
// fd 1 is a FIFO nobody reads: a write takes what fits and returns, where a blocking write(2) of
// more than the room left waited for the reader (and stopped ww's event loop).

import assert from "node:assert/strict";

const MODULE = new URL("./nonblocking_out.ts", import.meta.url).href;

Deno.test("openNonblockingOut(1): a pipe with one page of room takes one page of a larger write, then none", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-nonblocking-" });
  try {
    const code = `import { openNonblockingOut } from "${MODULE}";
// 15 of the pipe's 16 pages, written as any program would.
Deno.stdout.writeSync(new Uint8Array(15 * 4096));
const out = openNonblockingOut(1);
const first = out.write(new Uint8Array(16384));
const second = out.write(new Uint8Array(16384));
const room = await out.writable();
out.close();
console.error(JSON.stringify({ first, second, room, after: out.write(new Uint8Array(1)) }));`;
    const r = await new Deno.Command("/bin/bash", {
      args: [
        "-c",
        // A FIFO of the default 16 pages that this shell holds open and never reads.
        'mkfifo "$D/out" && exec 3<>"$D/out" && exec "$DENO" eval "$CODE" >"$D/out"',
      ],
      env: { D: dir, DENO: Deno.execPath(), CODE: code },
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(r.stderr).trim();
    assert.equal(r.code, 0, text);
    assert.deepEqual(JSON.parse(text), { first: 4096, second: 0, room: false, after: -1 });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
