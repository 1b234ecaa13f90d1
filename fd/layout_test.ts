// The child's descriptor numbering for --with-fd grants.
import assert from "node:assert/strict";
import { fdEnv, fdEnvVar, layoutFds } from "./layout.ts";

Deno.test("grants start at fd 4, ordered by source fd", () => {
  const slots = layoutFds([{ name: "b", source: 9 }, { name: "a", source: 7 }]);
  assert.deepEqual(slots.map((s) => [s.name, s.target]), [["a", 4], ["b", 5]]);
});

Deno.test("flag order does not change fd numbers", () => {
  const one = layoutFds([{ name: "db", source: 3 }, { name: "cache", source: 4 }]);
  const two = layoutFds([{ name: "cache", source: 4 }, { name: "db", source: 3 }]);
  assert.deepEqual(one, two);
  assert.deepEqual(fdEnv(one), { WW_FD_DB: "4", WW_FD_CACHE: "5" });
});

Deno.test("one source under two names is ordered by upper-cased name", () => {
  const slots = layoutFds([{ name: "zeta", source: 5 }, { name: "Alpha", source: 5 }]);
  assert.deepEqual(slots.map((s) => [s.envVar, s.target]), [["WW_FD_ALPHA", 4], [
    "WW_FD_ZETA",
    5,
  ]]);
});

Deno.test("the variable name is the grant name upper-cased", () => {
  assert.equal(fdEnvVar("my_Db2"), "WW_FD_MY_DB2");
});

Deno.test("ww's own grants follow the caller's, by upper-cased name, whatever their fds", () => {
  const grants = [
    { name: "zeta", source: 20, own: true },
    { name: "db", source: 7 },
    { name: "Alpha", source: 30, own: true },
    { name: "http", source: 5, own: true },
    { name: "cache", source: 3 },
  ];
  const expected = [["cache", 4], ["db", 5], ["Alpha", 6], ["http", 7], ["zeta", 8]];
  for (
    const order of [grants, [...grants].reverse(), [
      grants[2],
      grants[0],
      ...grants.slice(3),
      grants[1],
    ]]
  ) {
    assert.deepEqual(layoutFds(order).map((s) => [s.name, s.target]), expected);
  }
});
