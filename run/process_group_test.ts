import assert from "node:assert/strict";
import { isOrphanedGroup, parseStatPlace, type ProcessPlace } from "./process_group.ts";

const p = (pid: number, ppid: number, pgrp: number, session: number): ProcessPlace => ({
  pid,
  ppid,
  pgrp,
  session,
});

Deno.test("a group is orphaned unless a member's parent is in another group of its session", () => {
  const init = p(1, 0, 1, 1);
  const shell = p(10, 1, 10, 10);
  const job = [p(20, 10, 20, 10), p(21, 20, 20, 10)];
  assert.equal(isOrphanedGroup(20, 10, [init, shell, ...job]), false);
  // Its shell gone (init adopted the leader): nobody in the session can continue it.
  assert.equal(isOrphanedGroup(20, 10, [init, p(20, 1, 20, 10), p(21, 20, 20, 10)]), true);
  // A parent in the same group (a script without job control) does not count...
  assert.equal(isOrphanedGroup(10, 10, [init, p(10, 1, 10, 10), p(11, 10, 10, 10)]), true);
  // ...nor does one in another session (setsid, a jail's program).
  assert.equal(isOrphanedGroup(30, 30, [init, shell, p(30, 10, 30, 30)]), true);
  // One member with such a parent is enough.
  assert.equal(isOrphanedGroup(20, 10, [init, shell, p(20, 1, 20, 10), p(21, 10, 20, 10)]), false);
});

Deno.test("what cannot be told from /proc is not orphaned: a group or parent outside the pid namespace", () => {
  // unshare -p: the group and session are led from outside (0), the first process's parent too.
  assert.equal(isOrphanedGroup(0, 0, [p(1, 0, 0, 0), p(2, 1, 0, 0)]), false);
  // A parent /proc does not show (hidepid=): it may be the shell.
  assert.equal(isOrphanedGroup(20, 10, [p(20, 15, 20, 10)]), false);
});

Deno.test("a parent outside the pid namespace is in another session: docker exec, a container's pid 1", () => {
  // The session is led from inside (it reads non-zero), so the parent outside is not in it.
  assert.equal(isOrphanedGroup(20, 10, [p(10, 0, 10, 10), p(20, 0, 20, 10)]), true);
  assert.equal(isOrphanedGroup(1, 1, [p(1, 0, 1, 1)]), true);
  // But a shell inside the namespace, in the session and another group, still holds its job.
  assert.equal(isOrphanedGroup(20, 10, [p(10, 0, 10, 10), p(20, 10, 20, 10)]), false);
});

Deno.test("a stat line's place and state are read after the name's last parenthesis", () => {
  assert.deepEqual(parseStatPlace("42 (a) b) S 1 42 40 0 -1"), { ...p(42, 1, 42, 40), state: "S" });
  assert.deepEqual(parseStatPlace("7 (sh) R 6 7 7 34816"), { ...p(7, 6, 7, 7), state: "R" });
  assert.equal(parseStatPlace("garbage"), undefined);
  assert.equal(parseStatPlace("9 (x) S"), undefined);
  // Stopped (run/tty.ts continues such a program after a Ctrl-C): a name may hold ") T".
  assert.equal(parseStatPlace("42 (sh) T 1 42 42 0")?.state, "T");
  assert.equal(parseStatPlace("42 (a) T b) R 1 42 42 0")?.state, "R");
  assert.equal(parseStatPlace("42 (a) R b) T 1 42 42 0")?.state, "T");
});
