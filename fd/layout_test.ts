// The child's descriptor numbering for --with-fd grants.
import assert from "node:assert/strict";
import {
  childFdSources,
  fdEnv,
  fdEnvVar,
  hostSocketFd,
  layoutFds,
  socketActivated,
} from "./layout.ts";

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

Deno.test("socket activation: listeners from fd 3 by upper-cased name, the host socket next, then the rest", () => {
  const grants = [
    { name: "zeta", source: 20, own: true },
    { name: "web", source: 21, own: true, activated: true },
    { name: "db", source: 7 },
    { name: "Admin", source: 22, own: true, activated: true },
    { name: "cache", source: 3 },
    { name: "log", source: 23, own: true },
  ];
  const expected = [
    ["Admin", 3],
    ["web", 4],
    ["cache", 6],
    ["db", 7],
    ["log", 8],
    ["zeta", 9],
  ];
  for (const order of [grants, [...grants].reverse(), [3, 0, 5, 1, 4, 2].map((i) => grants[i])]) {
    const slots = layoutFds(order);
    assert.deepEqual(slots.map((s) => [s.name, s.target]), expected);
    assert.equal(hostSocketFd(slots), 5);
    assert.equal(socketActivated(slots), true);
    // ww's end of the host socket (fd 11) lands on fd 5, between the listeners and the rest.
    assert.deepEqual(childFdSources(slots, 11), [22, 21, 11, 3, 7, 23, 20]);
    assert.deepEqual(fdEnv(slots), {
      WW_FD_ADMIN: "3",
      WW_FD_WEB: "4",
      WW_FD_CACHE: "6",
      WW_FD_DB: "7",
      WW_FD_LOG: "8",
      WW_FD_ZETA: "9",
      LISTEN_FDS: "2",
      LISTEN_FDNAMES: "Admin:web",
      WW_HOST_FD: "5",
    });
  }
});

Deno.test("without socket activation the host socket stays on fd 3 and no LISTEN_* or WW_HOST_FD is set", () => {
  const slots = layoutFds([{ name: "web", source: 21, own: true }, { name: "db", source: 7 }]);
  assert.equal(hostSocketFd(slots), 3);
  assert.equal(socketActivated(slots), false);
  assert.deepEqual(childFdSources(slots, 11), [11, 7, 21]);
  assert.deepEqual(fdEnv(slots), { WW_FD_DB: "4", WW_FD_WEB: "5" });
  assert.deepEqual(childFdSources([], 11), [11]);
});
