// Descriptors allocated by name, and sources placed by name whatever order they come in.
import assert from "node:assert/strict";
import { allocateFds, namedSources } from "./named.ts";

Deno.test("allocateFds numbers the names from `first`, in their order", () => {
  assert.deepEqual(allocateFds(6, ["seccomp", "status", "stage", "plan"]), {
    seccomp: 6,
    status: 7,
    stage: 8,
    plan: 9,
  });
  assert.deepEqual(allocateFds(4, []), {});
  // An optional name takes a number only when present; the next ones move up to fill its place.
  const fds = (held: boolean) => allocateFds(5, [{ name: "held", present: held }, "plan"]);
  assert.deepEqual(fds(true), { held: 5, plan: 6 });
  assert.deepEqual(fds(false), { plan: 5 });
  assert.throws(() => allocateFds(4, ["plan", "plan"]), /given twice/);
});

Deno.test("namedSources puts each opened descriptor at its name's number, whatever the record's order", () => {
  const allocated = allocateFds(5, ["seccomp", "status", "held", "plan"]);
  const opened = { plan: 40, held: 30, seccomp: 10, status: 20 };
  assert.deepEqual(namedSources(allocated, opened), [10, 20, 30, 40]);
  // Every permutation of the record's keys gives the same list.
  const keys = Object.keys(opened) as (keyof typeof opened)[];
  const permutations = (xs: typeof keys): (typeof keys)[] =>
    xs.length <= 1
      ? [xs]
      : xs.flatMap((x, i) =>
        permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p])
      );
  for (const order of permutations(keys)) {
    const record = Object.fromEntries(order.map((k) => [k, opened[k]]));
    assert.deepEqual(namedSources(allocated, record), [10, 20, 30, 40], order.join());
  }
});

Deno.test("namedSources refuses a descriptor opened without a number, or a number without one", () => {
  const allocated = allocateFds(5, ["seccomp", "status"]);
  assert.throws(() => namedSources(allocated, { seccomp: 9 }), /opened for seccomp, allocated/);
  assert.throws(
    () => namedSources(allocated, { seccomp: 9, status: 10, held: 11 }),
    /opened for held, seccomp, status/,
  );
  // An optional descriptor left undefined counts as not opened.
  assert.deepEqual(namedSources(allocated, { seccomp: 9, status: 10, held: undefined }), [9, 10]);
  assert.throws(() => namedSources({ a: 5, b: 7 }, { a: 1, b: 2 }), /one run/);
});
