// tests/rpc/vat_waits_probe.ts — run by rpc/vat_test.ts with --v8-flags=--expose-gc: a guest
// makes N calls, each finished at once and each naming 64 capabilities of an answer that never
// comes, and the probe prints how much ww's heap grew over them, measured after full collections.

import type * as capnp from "capnp-es";
import { unixSocketPair } from "../../ffi/fd.ts";
import { FdStream } from "../../ffi/stream.ts";
import { readFrames } from "../../rpc/frame.ts";
import { bootstrap, call, finish, HOST } from "../../rpc/fuzz.ts";
import { type CapServer, serveVat } from "../../rpc/vat.ts";

const calls = Number(Deno.args[0]);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");

// Method 1 never returns; method 0 returns at once.
const server: CapServer = {
  interfaceId: HOST,
  name: "Stalling",
  dispatch: (methodId) => methodId === 1 ? new Promise<void>(() => {}) : undefined,
};
const [hostFd, guestFd] = unixSocketPair();
const guest = new FdStream(guestFd);
const log: string[] = [];
const served = serveVat(new FdStream(hostFd), server, { log: (l) => log.push(l) });
const bytes = (ms: capnp.Message[]) =>
  new Uint8Array(ms.flatMap((m) => [...new Uint8Array(m.toArrayBuffer())]));

await guest.write(bytes([bootstrap(0), call(1, { answer: 0 }, HOST, 1)]));
const frames = readFrames(guest, { maxBytes: 1 << 24, maxSegments: 512 });
await frames.next(); // the bootstrap's Return: ww has read that far
gc();
const before = Deno.memoryUsage().heapUsed;
const replies = (async () => {
  for (let n = 0; n < calls; n++) await frames.next();
})();
const caps = Array(64).fill({ answer: 1 });
for (let q = 10; q < 10 + calls; q += 100) {
  const batch: capnp.Message[] = [];
  for (let i = q; i < Math.min(q + 100, 10 + calls); i++) {
    batch.push(call(i, { answer: 0 }, HOST, 0, caps), finish(i));
  }
  await guest.write(bytes(batch));
}
await replies;
gc();
const grown = Deno.memoryUsage().heapUsed - before;
guest.close();
await served;
console.log(JSON.stringify({ grownMiB: Math.round(grown / 2 ** 20), log }));
