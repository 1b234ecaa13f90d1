// tests/rpc/guest_after_end.ts — a Deno guest (run by tests/rpc/ts_guest_test.ts) that makes
// calls once its connection has ended: after its own close(), or (`--unserved`) on an fd 3 that
// ww closed at once. It prints how they ended, and how many warnings the process had.
import process from "node:process";
import { connect } from "../../rpc/guest.ts";

let warnings = 0;
process.on("warning", () => warnings++);
const host = await connect();
if (!Deno.args.includes("--unserved")) host.close();
const errors = new Set<string>();
for (let i = 0; i < 20; i++) await host.identity().catch((e) => errors.add(e.message));
await host.console().log("x").catch((e) => errors.add(e.message));
// A warning is emitted on the next turn.
await new Promise((resolve) => setTimeout(resolve, 50));
console.log(JSON.stringify({ errors: [...errors], warnings }));
