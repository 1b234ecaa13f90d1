// ffi/signal.ts against a process's own dispositions: a child Deno of its own, since a
// disposition is the whole process's.
import assert from "node:assert/strict";
import { isIgnored } from "./signal.ts";

Deno.test("isIgnored tells SIG_IGN from the rest; ignoreSignal sets it", async () => {
  assert.equal(isIgnored(13), true); // SIGPIPE: Deno's runtime ignores it
  const module = new URL("./signal.ts", import.meta.url).href;
  const code = `import { ignoreSignal, isIgnored } from "${module}";
const before = isIgnored(12);
ignoreSignal(12);
const mask = /^SigIgn:\\s*([0-9a-f]+)$/m.exec(Deno.readTextFileSync("/proc/self/status"))[1];
console.log(JSON.stringify([before, isIgnored(12), (parseInt(mask.slice(-8), 16) >> 11) & 1]));`;
  const out = await new Deno.Command(Deno.execPath(), { args: ["eval", code], stderr: "inherit" })
    .output();
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), [false, true, 1]);
});

Deno.test("unblockSignals takes signals out of the calling thread's mask, a caller's blocked one too", async () => {
  const module = new URL("./signal.ts", import.meta.url).href;
  const code = `import { unblockSignals } from "${module}";
const blocked = () => BigInt("0x" + /^SigBlk:\\s*([0-9a-f]+)$/m.exec(Deno.readTextFileSync("/proc/thread-self/status"))[1]);
const before = blocked();
unblockSignals([12, 15]);
console.log(JSON.stringify([String(before), String(blocked())]));`;
  // The caller blocks SIGUSR1, SIGUSR2 and SIGTERM; Deno's main thread inherits its mask.
  const block = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_BLOCK, [10, 12, 15]); " +
    "os.execv(sys.argv[1], sys.argv[1:])";
  const out = await new Deno.Command("python3", {
    args: ["-c", block, Deno.execPath(), "eval", code],
    stderr: "inherit",
  }).output();
  const bit = (sig: number) => String(1n << BigInt(sig - 1));
  const [before, after] = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(BigInt(before), BigInt(bit(10)) | BigInt(bit(12)) | BigInt(bit(15)));
  assert.equal(after, bit(10)); // SIGUSR1 stays blocked: it was not asked
});
