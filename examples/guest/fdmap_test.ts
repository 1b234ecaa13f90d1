import assert from "node:assert/strict";
import { getFdMap, getHostFd } from "./fdmap.ts";

Deno.test("getFdMap names each WW_FD_ variable by the rest of its name, lower-cased", () => {
  assert.deepEqual(getFdMap({ WW_FD_DB: "4", WW_FD_Cache: "5", WW_FD_MY_LOG_2: "6" }), {
    db: 4,
    cache: 5,
    my_log_2: 6,
  });
});

Deno.test("getFdMap ignores variables without the exact WW_FD_ prefix", () => {
  assert.deepEqual(
    getFdMap({
      HOME: "/root",
      WW_FD: "4",
      ww_fd_db: "5",
      WW_FDX: "6",
      XWW_FD_A: "7",
      WW_IPFS: "8",
    }),
    {},
  );
});

Deno.test("getFdMap skips values that strconv.Atoi rejects", () => {
  const rejected = ["", " 4", "4 ", "4.0", "0x4", "4a", "four", "--4", "+", "-", "1e3", "٤"];
  for (const value of rejected) {
    assert.deepEqual(getFdMap({ WW_FD_X: value }), {}, JSON.stringify(value));
  }
});

Deno.test("getFdMap accepts what strconv.Atoi accepts: a sign and leading zeros", () => {
  assert.deepEqual(getFdMap({ WW_FD_A: "+5", WW_FD_B: "-3", WW_FD_C: "007", WW_FD_D: "-0" }), {
    a: 5,
    b: -3,
    c: 7,
    d: 0,
  });
  assert.ok(Object.is(getFdMap({ WW_FD_D: "-0" }).d, 0));
});

Deno.test("getFdMap keeps an empty name, as Go does for WW_FD_=3", () => {
  assert.deepEqual(getFdMap({ WW_FD_: "3" }), { "": 3 });
});

Deno.test("getFdMap skips numbers that JavaScript cannot hold exactly", () => {
  assert.deepEqual(getFdMap({ WW_FD_BIG: "9007199254740993", WW_FD_OK: "9007199254740991" }), {
    ok: 9007199254740991,
  });
});

Deno.test("getFdMap lets the later of two names that lower-case alike win, as Go's loop does", () => {
  assert.deepEqual(getFdMap({ WW_FD_DB: "4", WW_FD_db: "5" }), { db: 5 });
});

Deno.test("getFdMap without an argument reads this process's environment", () => {
  Deno.env.set("WW_FD_FDMAP_TEST_SELF", "42");
  try {
    assert.equal(getFdMap().fdmap_test_self, 42);
  } finally {
    Deno.env.delete("WW_FD_FDMAP_TEST_SELF");
  }
});

Deno.test("getHostFd is WW_HOST_FD when ww sets it (socket activation), else 3", () => {
  assert.equal(getHostFd({ WW_HOST_FD: "5", WW_FD_WEB: "3" }), 5);
  assert.equal(getHostFd({ WW_FD_WEB: "4" }), 3);
  for (const bad of ["", "five", "-1", "0x5", "99999999999999999999"]) {
    assert.throws(() => getHostFd({ WW_HOST_FD: bad }), /WW_HOST_FD=.* is not a descriptor number/);
  }
});

// Go lower-cases each code point alone, by its simple mapping (unicode.ToLower).
Deno.test("getFdMap lower-cases names as Go's strings.ToLower does, beyond ASCII too", () => {
  assert.deepEqual(getFdMap({ "WW_FD_ΑΣ": "4", "WW_FD_İD": "5", "WW_FD_ÉTÉ": "6" }), {
    "ασ": 4,
    "id": 5,
    "été": 6,
  });
});
