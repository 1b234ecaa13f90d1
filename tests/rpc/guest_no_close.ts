// tests/rpc/guest_no_close.ts — a Deno guest (run by tests/rpc/ts_guest_test.ts under `ww run
// --deno`) that never calls close(): it prints its grants, logs a line, and leaves one call
// unawaited, whose answer it prints when it comes; then its script ends, and so must it.
import { connect } from "../../rpc/guest.ts";

const host = await connect();
console.log(JSON.stringify((await host.identity()).grants));
await host.console().log("logged, and never closed", "info");
void host.identity().then((id) => console.log(`answered after the end: ${id.grants.length}`));
