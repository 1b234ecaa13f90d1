// tests/run/command_unref.ts — a program (not a test) run by command_test.ts: spawns `sleep 3`
// through Command with a piped stdout and an abort signal (an AbortSignal.timeout of 10 s when
// told), unrefs it (and refs it again when told), prints the program's pid and returns without
// awaiting anything.
//
//   deno run -A tests/run/command_unref.ts <bwrap|native|none> [ref-again] [timeout-signal]

import { Command, type JailBackend } from "../../mod.ts";

const [backend, ...flags] = Deno.args;
const child = await new Command("/bin/sleep", {
  args: ["3"],
  // Nothing inherited: the test reads this script's stdout and stderr to their end.
  stdin: "null",
  stdout: "piped",
  stderr: "null",
  signal: flags.includes("timeout-signal")
    ? AbortSignal.timeout(10_000)
    : new AbortController().signal,
  jail: { backend: backend as JailBackend, timeoutMs: 10_000 },
}).spawn();
child.unref();
if (flags.includes("ref-again")) child.ref();
console.log(child.pid);
