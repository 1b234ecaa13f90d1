// examples/rpc-guest/main.ts — a TypeScript guest of ww's host capability. Run it under ww, in
// the default jail (--deno: ww bundles it and runs it with its own deno, bound read-only):
//
//   ww run --with-console --with-exec --deno examples/rpc-guest/main.ts
//
// It reports what ww granted it (as one JSON line on stdout), logs through the console when it
// may, and, when it may start programs, starts `/bin/sh -c 'exit 3'` and waits for it.

import { connect } from "../../rpc/guest.ts";

const host = await connect();
const identity = await host.identity();
const report: Record<string, unknown> = { identity };

if (identity.grants.includes("console")) {
  const console = host.console();
  await Promise.all([console.log("hello from TypeScript"), console.log("second line", "warn")]);
  console.close();
} else {
  report.console = await host.console().log("refused?").catch((e) => e.message);
}

if (identity.grants.includes("exec")) {
  const process = host.executor().start("/bin/sh", { args: ["-c", "exit 3"] });
  report.exec = await process.wait();
}

console.log(JSON.stringify(report));
host.close();
