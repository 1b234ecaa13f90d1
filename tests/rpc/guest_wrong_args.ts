// tests/rpc/guest_wrong_args.ts — a Deno guest (run by tests/rpc/ts_guest_test.ts under `ww run
// --deno`) that calls the guest library with arguments of the wrong type, as plain JavaScript
// may, and never calls close(): it prints how each call ended, then its script ends, and so must
// it.
import { connect } from "../../rpc/guest.ts";

const host = await connect();
const outcome = async (f: () => Promise<unknown>) => {
  try {
    await f();
    return "ok";
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
};
const report = {
  log: await outcome(() => host.console().log(42 as never)),
  startArgs: await outcome(() =>
    host.executor().start("/bin/true", { args: "-x" as never }).wait()
  ),
  startFds: await outcome(() => host.executor().start("/bin/true", { fds: [7] as never }).wait()),
  startMisspelt: await outcome(() =>
    host.executor().start("/bin/echo", { arg: ["hi"] } as never).wait()
  ),
  cat: await outcome(() => host.ipfs().cat(new URL("file:///x") as never)),
  after: await outcome(() => host.console().log("still connected")),
};
console.log(JSON.stringify(report));
