// Values of the jail flags.
import assert from "node:assert/strict";
import { parseBind, parseCount, parseDuration, parseSize } from "./policy.ts";

Deno.test("sizes use binary units and accept unlimited", () => {
  assert.equal(parseSize("512"), 512);
  assert.equal(parseSize("64K"), 64 * 1024);
  assert.equal(parseSize("64M"), 64 * 2 ** 20);
  assert.equal(parseSize("2g"), 2 * 2 ** 30);
  assert.equal(parseSize("1GiB"), 2 ** 30);
  assert.equal(parseSize("unlimited"), undefined);
  for (const bad of ["", "M", "-1", "1.5G", "12X", "0"]) {
    assert.equal(typeof parseSize(bad), "object", bad);
  }
});

Deno.test("durations take ms, s, m, h or bare seconds", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("2"), 2000);
  assert.equal(parseDuration("1.5m"), 90_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  for (const bad of ["", "s", "0", "0s", "-1s", "1d", "soon"]) {
    assert.equal(typeof parseDuration(bad), "object", bad);
  }
});

Deno.test("counts are positive whole numbers or unlimited", () => {
  assert.equal(parseCount("20"), 20);
  assert.equal(parseCount("unlimited"), undefined);
  for (const bad of ["0", "-3", "2.5", "", "many"]) assert.equal(typeof parseCount(bad), "object");
});

Deno.test("a bind is src or src:dst with an absolute destination", () => {
  assert.deepEqual(parseBind("/data"), { source: "/data", dest: undefined });
  assert.deepEqual(parseBind("data:/in"), { source: "data", dest: "/in" });
  for (const bad of ["", ":/x", "/a:b", "/a:/"]) assert.ok("error" in parseBind(bad), bad);
});
