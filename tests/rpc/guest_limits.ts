// tests/rpc/guest_limits.ts — a Deno guest (run by tests/rpc/ts_guest_test.ts under `ww run
// --deno`) that asks more than ww takes and uses its connection after it ended; prints what each
// call gave, as JSON, on its last line. A call that does not settle within 20 s is "pending": a
// hang, not slowness (3000 calls take ~1 s here alone, and took over 3 s on a loaded machine).
import { connect } from "../../rpc/guest.ts";

const settled = async (p: Promise<unknown>): Promise<string> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Promise<string>((r) => (timer = setTimeout(() => r("pending"), 20_000)));
  try {
    return await Promise.race([p.then(() => "ok", (e) => `rejected: ${e.message}`), pending]);
  } finally {
    clearTimeout(timer);
  }
};

const host = await connect();
const out: Record<string, string> = {};
out.connectTwice = await settled(connect());
out.longLine = await settled(host.console().log("z".repeat(20 << 20)));
// More calls at once than ww lets be outstanding (1024): the rest wait their turn.
const con = host.console();
out.manyCalls = await settled(
  Promise.all(Array.from({ length: 3000 }, (_, i) => con.log(`call ${i}`, "debug"))),
);
// Calls pipelined on answers that came back while they waited their turn: they hung for good,
// each answer held unfinished for a call that could not go out.
const consoles = Array.from({ length: 1100 }, () => host.console());
out.pipelinedWaiting = await settled(Promise.all(consoles.map((c) => c.log("p", "debug"))));
out.hugeArgs = await settled(
  host.executor().start("/bin/true", { args: ["a".repeat(10 << 20)] }).wait(),
);
out.identityAfter = await settled(host.identity());
host.close();
out.identityAfterClose = await settled(host.identity());
out.connectAgain = await settled(connect());
console.log(JSON.stringify(out));
