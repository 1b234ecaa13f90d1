// The fd plan, checked by running it on a model of a process's descriptor table.
import assert from "node:assert/strict";
import { type FdStep, planChildFds, planFdSteps } from "./plan.ts";

interface Entry {
  object: string;
  cloexec: boolean;
}
type Table = Map<number, Entry>;

/** Applies posix_spawn file actions, then exec, the way the kernel and glibc do. */
function simulate(table: Table, steps: readonly FdStep[]): Table {
  const t = new Map(table);
  for (const step of steps) {
    if (step.op === "closefrom") {
      for (const fd of [...t.keys()]) if (fd >= step.from) t.delete(fd);
      continue;
    }
    const src = t.get(step.from);
    if (!src) throw new Error(`dup2(${step.from}, ${step.to}): EBADF`);
    // dup2 never copies FD_CLOEXEC, and dup2(n, n) in a file action clears it.
    t.set(step.to, { object: src.object, cloexec: false });
  }
  for (const [fd, e] of t) if (e.cloexec) t.delete(fd);
  return t;
}

function check(sources: number[], firstTarget: number, extraOpen: number[] = [], cloexec = false) {
  const table: Table = new Map();
  for (const fd of [0, 1, 2]) table.set(fd, { object: `orig${fd}`, cloexec: false });
  for (const fd of [...extraOpen, ...sources]) {
    if (fd > 2) table.set(fd, { object: `orig${fd}`, cloexec });
  }
  const after = simulate(table, planFdSteps(sources, firstTarget));
  const expected = new Map<number, string>();
  for (const [fd, e] of table) if (fd < firstTarget && !e.cloexec) expected.set(fd, e.object);
  sources.forEach((s, i) => expected.set(firstTarget + i, `orig${s}`));
  const got = new Map([...after].map(([fd, e]) => [fd, e.object]));
  const sort = (m: Map<number, string>) => [...m].sort((a, b) => a[0] - b[0]);
  assert.deepEqual(sort(got), sort(expected), `sources ${JSON.stringify(sources)}`);
}

Deno.test("no grants closes everything from the first target up", () => {
  assert.deepEqual(planFdSteps([], 4), [{ op: "closefrom", from: 4 }]);
  check([], 3, [3, 7, 1500, 2048]);
});

Deno.test("a source equal to its own target is kept with one dup2 that clears close-on-exec", () => {
  assert.deepEqual(planFdSteps([3], 3), [
    { op: "dup2", from: 3, to: 3 },
    { op: "closefrom", from: 4 },
  ]);
  check([3], 3, [], true);
});

Deno.test("a two-cycle (a=5 b=4 on targets 4,5) is broken with a temporary", () => {
  check([5, 4], 4);
  const steps = planFdSteps([5, 4], 4);
  assert.equal(steps.filter((s) => s.op === "dup2").length, 3);
});

Deno.test("a chain that reads a target before it is written (x=4 y=3 on targets 3,4)", () => {
  check([4, 3], 3);
  check([4, 5, 6], 3);
  check([5, 3, 4], 3);
});

Deno.test("one source granted twice gives two descriptors holding the same object", () => {
  check([7, 7], 4, [1500]);
  check([4, 4, 5], 4);
});

Deno.test("stdio can be granted without being moved", () => {
  check([0, 1, 2], 3);
  check([2, 2], 4);
});

Deno.test("high stray descriptors (7, 1500, 2048) never survive", () => {
  check([9], 3, [7, 1500, 2048]);
  check([2048, 1500], 4, [7]);
});

Deno.test("temporaries are never a source or a target and never below the first target", () => {
  for (const sources of [[5, 4], [4, 5, 3], [6, 5, 4, 3]]) {
    const first = 3;
    const targets = sources.map((_, i) => first + i);
    for (const step of planFdSteps(sources, first)) {
      if (step.op !== "dup2" || targets.includes(step.to)) continue;
      assert.ok(!sources.includes(step.to) && step.to >= first, JSON.stringify(step));
    }
  }
});

Deno.test("property: any mapping of up to 8 sources over fds 0..12 lands exactly", () => {
  let seed = 0x2545f491;
  const rand = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  for (let run = 0; run < 20000; run++) {
    const n = rand(9);
    const first = 3 + rand(2);
    const sources = Array.from({ length: n }, () => rand(13));
    const strays = Array.from({ length: rand(4) }, () => 3 + rand(12));
    check(sources, first, strays, rand(2) === 0);
  }
});

Deno.test("every permutation of targets 3..7 as sources lands exactly", () => {
  const permute = (xs: number[]): number[][] =>
    xs.length <= 1
      ? [xs]
      : xs.flatMap((x, i) =>
        permute([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p])
      );
  for (const p of permute([3, 4, 5, 6, 7])) check(p, 3);
});

Deno.test("invalid descriptor numbers are rejected", () => {
  assert.throws(() => planFdSteps([-1], 3), RangeError);
  assert.throws(() => planFdSteps([1.5], 3), RangeError);
});

Deno.test("planChildFds: piped stdio lands on 0-2 without disturbing a grant of ww's own fd 1", () => {
  // ww: 0-2 its own, 7 the host end, 9 a pipe for the child's stdout; the grant is ww's fd 1.
  const table: Table = new Map();
  for (const fd of [0, 1, 2, 7, 9]) table.set(fd, { object: `orig${fd}`, cloexec: fd > 2 });
  const after = simulate(table, planChildFds([undefined, 9, undefined], [7, 1]));
  assert.deepEqual([...after].map(([fd, e]) => [fd, e.object]).sort((a, b) => +a[0] - +b[0]), [
    [0, "orig0"],
    [1, "orig9"],
    [2, "orig2"],
    [3, "orig7"],
    [4, "orig1"],
  ]);
});

Deno.test("planChildFds: an inherited fd 0-2 is left alone, even when closed", () => {
  const steps = planChildFds([undefined, undefined, undefined], [5]);
  assert.deepEqual(steps, [{ op: "dup2", from: 5, to: 3 }, { op: "closefrom", from: 4 }]);
  const table: Table = new Map([[1, { object: "orig1", cloexec: false }], [
    5,
    { object: "orig5", cloexec: true },
  ]]);
  const after = simulate(table, steps);
  assert.deepEqual([...after.keys()].sort(), [1, 3]);
});

Deno.test("planChildFds: random stdio, host and grants all land where they must", () => {
  for (let round = 0; round < 2000; round++) {
    const pick = () => Math.floor(Math.random() * 10);
    const stdio = [0, 1, 2].map(() => Math.random() < 0.5 ? undefined : pick());
    const host = pick();
    const grants = Array.from({ length: Math.floor(Math.random() * 4) }, pick);
    const table: Table = new Map();
    for (let fd = 0; fd < 10; fd++) table.set(fd, { object: `orig${fd}`, cloexec: fd > 2 });
    const after = simulate(table, planChildFds(stdio, [host, ...grants]));
    const want = [...stdio.map((s, i) => s ?? i), host, ...grants].map((s) => `orig${s}`);
    assert.deepEqual(
      [...after].sort((a, b) => a[0] - b[0]).map(([, e]) => e.object),
      want,
      JSON.stringify({ stdio, host, grants }),
    );
  }
});
