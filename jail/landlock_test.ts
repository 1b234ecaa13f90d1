// Landlock rights per ABI and per kind of path.
import assert from "node:assert/strict";
import {
  FS,
  LANDLOCK_PROTECTIONS,
  landlockProtections,
  landlockRuleset,
  NET,
  pathRule,
  rulesetAttrSize,
  SCOPE,
} from "./landlock.ts";

const ABI1_FS = 0x1fff;

Deno.test("each ABI handles exactly the rights it introduced and those before it", () => {
  assert.deepEqual(landlockRuleset(0, false), { handledFs: 0, handledNet: 0, scoped: 0 });
  assert.equal(landlockRuleset(1, false).handledFs, ABI1_FS);
  assert.equal(landlockRuleset(2, false).handledFs, ABI1_FS | FS.REFER);
  assert.equal(landlockRuleset(3, false).handledFs, ABI1_FS | FS.REFER | FS.TRUNCATE);
  assert.equal(landlockRuleset(4, false).handledFs, landlockRuleset(3, false).handledFs);
  assert.equal(landlockRuleset(5, false).handledFs, 0xffff);
  for (const abi of [6, 7, 8, 12]) assert.equal(landlockRuleset(abi, false).handledFs, 0xffff);
  for (const abi of [1, 2, 3]) assert.equal(landlockRuleset(abi, false).handledNet, 0);
  for (const abi of [4, 5, 6, 7]) {
    assert.equal(landlockRuleset(abi, false).handledNet, NET.BIND_TCP | NET.CONNECT_TCP);
  }
  for (const abi of [1, 5]) assert.equal(landlockRuleset(abi, false).scoped, 0);
  for (const abi of [6, 7]) {
    assert.equal(landlockRuleset(abi, false).scoped, SCOPE.ABSTRACT_UNIX_SOCKET | SCOPE.SIGNAL);
  }
});

Deno.test("with --net TCP and abstract unix sockets stay open (as in a shared netns); signals do not", () => {
  for (const abi of [4, 6, 7]) assert.equal(landlockRuleset(abi, true).handledNet, 0);
  assert.equal(landlockRuleset(7, true).scoped, SCOPE.SIGNAL);
});

Deno.test("the ruleset attr is as long as the fields the ABI knows (u64 each)", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(rulesetAttrSize), [8, 8, 8, 16, 16, 24, 24]);
});

Deno.test("read-only paths get read, list and execute; a file never gets directory rights", () => {
  const r = landlockRuleset(7, false);
  assert.equal(pathRule(r, "/usr", "dir", "read").access, FS.EXECUTE | FS.READ_FILE | FS.READ_DIR);
  assert.equal(pathRule(r, "/bin/x", "file", "read").access, FS.EXECUTE | FS.READ_FILE);
});

Deno.test("writable directories get every handled right; writable files only file rights", () => {
  for (const abi of [1, 3, 5, 7]) {
    const r = landlockRuleset(abi, false);
    assert.equal(pathRule(r, "/w", "dir", "write").access, r.handledFs);
    const file = pathRule(r, "/w/f", "file", "write").access;
    assert.equal(
      file & ~(FS.EXECUTE | FS.WRITE_FILE | FS.READ_FILE | FS.TRUNCATE | FS.IOCTL_DEV),
      0,
    );
    assert.equal(file & FS.WRITE_FILE, FS.WRITE_FILE);
  }
});

Deno.test("devices are read and written without ioctl; only the terminal gets ioctl", () => {
  const r = landlockRuleset(7, false);
  assert.equal(pathRule(r, "/dev/null", "file", "device").access & FS.IOCTL_DEV, 0);
  assert.equal(pathRule(r, "/dev/null", "file", "device").access & FS.TRUNCATE, FS.TRUNCATE);
  assert.equal(pathRule(r, "/dev/tty", "file", "terminal").access & FS.IOCTL_DEV, FS.IOCTL_DEV);
});

Deno.test("a rule never grants a right its ruleset does not handle (the kernel says EINVAL)", () => {
  for (let abi = 1; abi <= 7; abi++) {
    for (const net of [false, true]) {
      const r = landlockRuleset(abi, net);
      for (const use of ["read", "write", "device", "terminal"] as const) {
        for (const kind of ["dir", "file"] as const) {
          const { access } = pathRule(r, "/p", kind, use);
          assert.equal(access & ~r.handledFs, 0, `abi ${abi} ${use} ${kind}`);
          assert.ok(access !== 0, `abi ${abi} ${use} ${kind} grants nothing`);
        }
      }
    }
  }
});

Deno.test("protections missing on an ABI are exactly those introduced after it", () => {
  const names = (abi: number, net = false) =>
    landlockProtections(abi, net).missing.map((p) => p.name);
  assert.deepEqual(names(0), LANDLOCK_PROTECTIONS.map((p) => p.name));
  assert.deepEqual(names(1), ["landlock-truncate", "landlock-tcp", "landlock-scope"]);
  assert.deepEqual(names(3), ["landlock-tcp", "landlock-scope"]);
  assert.deepEqual(names(4), ["landlock-scope"]);
  assert.deepEqual(names(5), ["landlock-scope"]);
  assert.deepEqual(names(6), []);
  assert.deepEqual(names(7), []);
});

Deno.test("with --net the TCP protection is not wanted, so its absence is not missing", () => {
  assert.deepEqual(landlockProtections(3, true).missing.map((p) => p.name), ["landlock-scope"]);
  assert.ok(!landlockProtections(7, true).enforced.some((p) => p.name === "landlock-tcp"));
});
