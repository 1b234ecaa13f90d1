// tests/rpc/guest_exec_words.ts — a Deno guest (run by tests/rpc/ts_guest_test.ts under `ww run
// --deno --with-exec`) whose starts ww refuses; prints each refusal's text, as JSON, last line.
import { connect } from "../../rpc/guest.ts";

const host = await connect();
const exec = host.executor();
const out: Record<string, string> = {};
const refusal = (p: Promise<unknown>) => p.then(() => "started", (e) => (e as Error).message);
out.fd = await refusal(exec.start("/bin/true", { fds: ["nope"] }).wait());
// The grant db, named as its WW_FD_ variable says it: names are compared ignoring case.
out.upper = await refusal(exec.start("/bin/true", { fds: ["DB"] }).wait());
out.args = await refusal(exec.start("/bin/true", { args: Array(9001).fill("a") }).wait());
host.close();
console.log(JSON.stringify(out));
