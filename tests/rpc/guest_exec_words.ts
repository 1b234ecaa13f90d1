// tests/rpc/guest_exec_words.ts — a Deno guest (run by tests/rpc/ts_guest_test.ts under `ww run
// --deno --with-exec`) whose starts ww refuses; prints each refusal's text, as JSON, last line
// (after what a started `env` printed).
import { connect } from "../../rpc/guest.ts";

const host = await connect();
const exec = host.executor();
const out: Record<string, string> = {};
const refusal = (p: Promise<unknown>) => p.then(() => "started", (e) => (e as Error).message);
out.fd = await refusal(exec.start("/bin/true", { fds: ["nope"] }).wait());
// The grant db, named as its WW_FD_ variable says it: names are compared ignoring case.
out.upper = await refusal(exec.start("/bin/true", { fds: ["DB"] }).wait());
// One grant asked for twice, under two spellings of its name.
out.twice = await refusal(exec.start("/bin/true", { fds: ["db", "DB"] }).wait());
// A started program's environment, on the run's stdout: the run's --env, nothing of the guest's.
out.env = await refusal(exec.start("/usr/bin/env").wait());
out.args = await refusal(exec.start("/bin/true", { args: Array(9001).fill("a") }).wait());
host.close();
console.log(JSON.stringify(out));
