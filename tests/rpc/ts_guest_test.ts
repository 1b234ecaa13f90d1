// tests/rpc/ts_guest_test.ts — the TypeScript guest library (rpc/guest.ts) through the example in
// examples/rpc-guest, as a real child of `ww run`, under Deno and (bundled) under Node.

import assert from "node:assert/strict";
import { join } from "node:path";
import { Command } from "../../mod.ts";
import { BUILD_DIR } from "../support/build.ts";
import { REPO, runWw } from "../support/ww.ts";

const EXAMPLE = `${REPO}examples/rpc-guest/main.ts`;
// The child's environment is empty but for --env: deno needs HOME for its cache, both need PATH.
const ENV = ["--env", "HOME", "--env", "PATH"];

function report(stdout: string) {
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

Deno.test("a Deno guest gets a typed client: identity, console, exec", async () => {
  const deno = ["deno", "run", "-A", "--config", `${REPO}deno.json`, EXAMPLE];
  const r = await runWw(["run", "--jail=none", "--with-console", "--with-exec", ...ENV, ...deno]);
  assert.equal(r.code, 0, r.stderr);
  const got = report(r.stdout);
  assert.deepEqual(got.identity.grants, ["console", "exec"]);
  assert.deepEqual(got.exec, { code: 3, signal: "" });
  assert.match(r.stderr, /^deno: info: hello from TypeScript$/m);
  assert.match(r.stderr, /^deno: warn: second line$/m);
});

Deno.test("a Deno guest without grants learns which flag it lacks", async () => {
  const deno = ["deno", "run", "-A", "--config", `${REPO}deno.json`, EXAMPLE];
  const r = await runWw(["run", "--jail=none", ...ENV, ...deno]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(report(r.stdout).console, /console is not granted: run ww with --with-console/);
});

// A 20 MiB console line made ww end the connection (its messages are at most 8 MiB): the guest
// saw "write EPIPE" on that call and every later one; a call after close() never settled; and a
// second connect() wrapped whatever descriptor had taken fd 3's number since (a guest doing so
// hung, and ignored SIGTERM); one while the first was open said "open EEXIST". And 2000 calls at
// once ended the connection: ww takes 1024 outstanding.
Deno.test("a Deno guest's long line is cut, a call too large is refused alone, and a closed connection says so", async () => {
  const r = await runWw([
    "run",
    "--jail=none",
    "--timeout=150s",
    "--with-console",
    "--with-exec",
    "--deno",
    `${REPO}tests/rpc/guest_limits.ts`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const { hugeArgs, ...rest } = report(r.stdout);
  assert.match(
    hugeArgs,
    /^rejected: this call is a 104\d{5}-byte message, and ww takes at most 8388608 bytes in one \(the connection stays open\)$/,
  );
  assert.deepEqual(rest, {
    connectTwice:
      "rejected: fd 3: this program is connected to ww already; a run has one connection to ww (share the WwHost connect() gave)",
    longLine: "ok",
    manyCalls: "ok",
    pipelinedWaiting: "ok",
    identityAfter: "ok",
    identityAfterClose: "rejected: the connection to ww was closed",
    connectAgain:
      "rejected: fd 3: the connection to ww was closed; a run has one connection to ww, and its descriptor went with it",
  });
  // Cut as ww cuts a console line: 65536 characters, with the count of those left out.
  const line = r.stderr.split("\n").find((l) => l.includes(": info: zzz"))!;
  assert.match(line, /guest_limits\.ts: info: z+… \(\d+ more characters\)$/);
  assert.equal(line.length - line.indexOf(": info: ") - ": info: ".length, 65536);
});

// A start refused for a guest of `ww run` was worded for a library caller: "use
// jail.limits.processes 513 or more", "use jail.backend \"native\"", "Command grants.fds". And a
// program it started had the guest's own DENO_DIR.
Deno.test("a start ww refuses is worded for whoever ran `ww run`: its flags, not a library's options", async () => {
  const r = await runWw([
    "run",
    "--jail=bwrap",
    "--timeout=60s",
    "--with-exec",
    "--with-fd",
    "db=0",
    "--env",
    "X=1",
    "--deno",
    `${REPO}tests/rpc/guest_exec_words.ts`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const got = report(r.stdout);
  // The guest had DENO_DIR=.deno, which --deno sets for it alone; a program it starts had it too.
  assert.equal(got.env, "started");
  assert.deepEqual(r.stdout.trim().split("\n").slice(0, -1), ["X=1"]);
  // Its own grant's message had named a flag nobody typed, and ww's own copy of the descriptor:
  // "--with-fd DB=25: the name is already granted as db".
  assert.equal(
    got.twice,
    "fd DB is asked for twice (first as db; names are compared ignoring case, as their WW_FD_DB variable)",
  );
  assert.equal(
    got.fd,
    "fd nope is not one of this program's descriptor grants, --with-fd (it has: db)",
  );
  // The grant db, named as its WW_FD_ variable: it was refused, "(it has: db)".
  assert.equal(got.upper, "started");
  assert.match(got.args, /--jail=native/);
  assert.doesNotMatch(`${got.fd} ${got.args}`, /jail\.backend|Command|jail\.limits/);
});

// The host socket's read kept a guest that never called close() alive for good: its script ended,
// and the run waited until --timeout (124).
Deno.test("a Deno guest that never calls close() ends with its script, once its calls are answered", async () => {
  const r = await runWw([
    "run",
    "--jail=none",
    "--timeout=30s",
    "--with-console",
    "--deno",
    `${REPO}tests/rpc/guest_no_close.ts`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ['["console"]', "answered after the end: 1"]);
  assert.match(r.stderr, /: info: logged, and never closed$/m);
});

Deno.test("the same guest, bundled for Node, works under node", async () => {
  const bundle = join(BUILD_DIR, `rpc-guest-${crypto.randomUUID()}.mjs`);
  await Deno.mkdir(BUILD_DIR, { recursive: true });
  const built = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--platform", "node", "--config", `${REPO}deno.json`, "-o", bundle, EXAMPLE],
  }).output();
  assert.ok(built.success, new TextDecoder().decode(built.stderr));
  try {
    const r = await runWw(["run", "--jail=none", "--with-console", ...ENV, "node", bundle]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(report(r.stdout).identity.grants, ["console"]);
    assert.match(r.stderr, /^node: info: hello from TypeScript$/m);
  } finally {
    await Deno.remove(bundle);
  }
});

// log(42) failed inside the message's encoding ("text.slice is not a function"), and start()
// with `args: "-x"` likewise ("options.args?.forEach is not a function"); the call's question
// was never settled, so the guest's process waited for it after its script ended, until
// --timeout (124).
Deno.test("a Deno guest's call with an argument of the wrong type is a TypeError naming it, and the guest still ends", async () => {
  const r = await runWw([
    "run",
    "--jail=none",
    "--timeout=30s",
    "--with-console",
    "--with-exec",
    "--deno",
    `${REPO}tests/rpc/guest_wrong_args.ts`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(report(r.stdout), {
    log: "TypeError: log: line must be a string, not number",
    startArgs: "TypeError: start: options.args must be an array of strings, not string",
    startFds: "TypeError: start: options.fds[0] must be a string, not number",
    startMisspelt:
      "TypeError: start: options.arg: no such option (known: args, fds, console, ipfs, executor)",
    cat: "TypeError: cat: path must be a string, not an object",
    after: "ok",
  });
  assert.match(r.stderr, /: info: still connected$/m);
});

// node:net's ref() and unref() on the destroyed socket each waited for a "connect" that never
// came: every call after the end added two listeners for good, and the eleventh printed a
// MaxListenersExceededWarning on the guest's stderr.
Deno.test("a Deno guest's calls after close() reject, and leave nothing behind", async () => {
  const r = await runWw([
    "run",
    "--jail=none",
    "--timeout=30s",
    "--with-console",
    "--deno",
    `${REPO}tests/rpc/guest_after_end.ts`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(report(r.stdout), {
    errors: ["the connection to ww was closed"],
    warnings: 0,
  });
  assert.doesNotMatch(r.stderr, /MaxListeners/);
});

// A Command without `host` closes ww's end of fd 3 at once: every call of the guest's then said
// "write EPIPE", and a second connect() "fd 3: write EPIPE; a run has one connection to ww".
Deno.test("a Deno guest of a Command without host is told ww closed fd 3, and how to serve it", async () => {
  const guest = `${REPO}tests/rpc/guest_after_end.ts`;
  const out = await new Command(Deno.execPath(), {
    args: ["run", "-A", "--config", `${REPO}deno.json`, guest, "--unserved"],
    env: { HOME: Deno.env.get("HOME")!, PATH: Deno.env.get("PATH")! },
    jail: { backend: "none", timeoutMs: 30_000 },
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const got = report(new TextDecoder().decode(out.stdout));
  assert.equal(got.errors.length, 1, JSON.stringify(got.errors));
  assert.match(
    got.errors[0],
    /^ww closed the connection( \(write EPIPE\))?; a Command run without its host option serves nothing on fd 3$/,
  );
});
