// tests/rpc/cpp_guest_test.ts — a C++ guest (capnp::TwoPartyClient on fd 3) uses the host
// capability of the real `ww run`: every check of tests/rpc/guest.c++, grants and their absence.

import assert from "node:assert/strict";
import { runWw } from "../support/ww.ts";
import { buildGuest } from "./build.ts";

interface Check {
  check: string;
  ok: boolean;
  [key: string]: unknown;
}

function checks(stdout: string): Map<string, Check> {
  const lines = stdout.split("\n").filter((l) => l.startsWith("{"));
  return new Map(lines.map((l) => JSON.parse(l) as Check).map((c) => [c.check, c]));
}

Deno.test("a C++ guest passes every check with --with-console --with-exec", async () => {
  const guest = await buildGuest();
  const r = await runWw(["run", "--with-console", "--with-exec", guest, "checks"]);
  assert.equal(r.code, 0, r.stderr);
  const got = checks(r.stdout);
  const expected = [
    "identity",
    "several calls on one pipelined capability",
    "exceptions name the flag",
    "many concurrent calls",
    "capabilities dropped",
    "large message",
    "exec pipelined: start, wait",
    "exec passes a granted capability on",
    "exec refuses a guest-hosted capability",
    "exec refuses an fd the program was not granted",
    "exec kill",
  ];
  assert.deepEqual([...got.keys()], expected);
  for (const c of got.values()) assert.ok(c.ok, JSON.stringify(c));
  assert.deepEqual(got.get("identity")!.grants, ["console", "exec"]);
  assert.equal(got.get("identity")!.protocolVersion, 1);
});

Deno.test("console lines reach ww's stderr, one per call, prefixed with the program", async () => {
  const guest = await buildGuest();
  const r = await runWw(["run", "--with-console", guest, "log", "hello\nforged line"]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stderr.includes(`${guest}: debug: hello\\nforged line\n`), r.stderr);
});

Deno.test("a grandchild started through exec logs under its own name", async () => {
  const guest = await buildGuest();
  const r = await runWw(["run", "--with-all", guest, "checks"]);
  assert.ok(r.stderr.includes(`${guest}: debug: hello from the grandchild`), r.stderr);
});

Deno.test("without grants, identity still answers and every capability names its flag", async () => {
  const guest = await buildGuest();
  const r = await runWw(["run", guest, "checks"]);
  assert.equal(r.code, 0, r.stderr);
  const got = checks(r.stdout);
  assert.ok(got.get("identity")!.ok);
  assert.deepEqual(got.get("identity")!.grants, []);
  const pipelined = got.get("several calls on one pipelined capability")!;
  assert.match(String(pipelined.error), /console is not granted: run ww with --with-console/);
  const exec = got.get("exec pipelined: start, wait")!;
  assert.match(String(exec.error), /exec is not granted: run ww with --with-exec/);
});

Deno.test("--with-all grants console, ipfs and exec", async () => {
  const guest = await buildGuest();
  const r = await runWw(["run", "--with-all", guest, "checks"]);
  assert.deepEqual(checks(r.stdout).get("identity")!.grants, ["console", "ipfs", "exec"]);
});

Deno.test("a C++ guest passes the executor on, resolved and pipelined (issue 17, item 7)", async () => {
  const guest = await buildGuest();
  const r = await runWw(["run", "--with-exec", guest, "pass-caps"]);
  assert.equal(r.code, 0, r.stderr);
  const got = checks(r.stdout);
  assert.deepEqual([...got.keys()], [
    "exec passes a resolved executor on",
    "exec passes a pipelined executor on",
  ]);
  for (const c of got.values()) assert.ok(c.ok, JSON.stringify(c));
});
