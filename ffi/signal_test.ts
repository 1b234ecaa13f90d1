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
