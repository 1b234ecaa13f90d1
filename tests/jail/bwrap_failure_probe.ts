// tests/jail/bwrap_failure_probe.ts — a program (not a test) run by bwrap_failure_test.ts under
// deny.c: runs /bin/true through Command under bwrap, and prints how it ended as one JSON line:
// the error's class, message, fields and command line when spawn or status failed.
//
//   deno run -A tests/jail/bwrap_failure_probe.ts

import { Command, JailError, type WwError } from "../../mod.ts";

let error: unknown;
try {
  const child = await new Command("/bin/true", { jail: { backend: "bwrap" } }).spawn();
  const status = await child.status;
  error = status.error;
  if (error === undefined) console.log(JSON.stringify({ code: status.code }));
} catch (e) {
  error = e;
}
if (error !== undefined) {
  const e = error as WwError;
  console.log(JSON.stringify({
    name: e.name,
    jailError: e instanceof JailError,
    message: e.message,
    commandLine: e.commandLine,
    exitCode: e.exitCode,
    ...(e instanceof JailError ? { backend: e.backend, reason: e.reason } : {}),
  }));
}
