// Values of the jail flags.
import assert from "node:assert/strict";
import {
  backendProblem,
  DEFAULT_LIMITS,
  durationProblem,
  formatSize,
  JAIL_BACKENDS,
  limitNameProblem,
  limitValueProblem,
  MAX_DURATION_MS,
  parseBind,
  parseCount,
  parseCpuSeconds,
  parseDuration,
  parseSize,
} from "./policy.ts";

Deno.test("sizes use binary units and accept unlimited", () => {
  assert.equal(parseSize("512"), 512);
  assert.equal(parseSize("64K"), 64 * 1024);
  assert.equal(parseSize("64M"), 64 * 2 ** 20);
  assert.equal(parseSize("2g"), 2 * 2 ** 30);
  assert.equal(parseSize("1GiB"), 2 ** 30);
  assert.equal(parseSize("unlimited"), undefined);
  // A fraction of a unit, as parseDuration takes "1.5m" (it was refused), to the nearest byte.
  assert.equal(parseSize("1.5G"), 1.5 * 2 ** 30);
  assert.equal(parseSize("0.5KiB"), 512);
  assert.equal(parseSize("0.1K"), 102);
  assert.deepEqual(parseSize("1.5"), {
    error: "1.5 is not a whole number of bytes (give a unit: 1.5K)",
  });
  assert.deepEqual(parseSize("0.0001K"), {
    error: "0.0001K is not a positive size (or say unlimited)",
  });
  assert.equal(parseSize("512B"), 512);
  assert.equal(parseSize("2KB"), 2048);
  // "iB" names no unit without K, M, G or T before it: 1iB was one byte.
  for (const bad of ["", "M", "-1", "1.G", ".5G", "1,5G", "1e3", "12X", "0", "1iB", "2000000iB"]) {
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

Deno.test("a duration may be compound, its units largest first and each once: 1m30s, 1h2m3.5s", () => {
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("1h2m3.5s"), 3_723_500);
  assert.equal(parseDuration("2s500ms"), 2500);
  assert.equal(parseDuration("1m5ms"), 60_005);
  for (const bad of ["30s1m", "1m1m", "1m30", "1m 30s", "1m+30s", "m30s", "1ms30s"]) {
    assert.deepEqual(parseDuration(bad), {
      error: `${JSON.stringify(bad)} is not a duration like 30s, 500ms, 2m or 1m30s`,
    });
  }
  assert.equal(parseCpuSeconds("1m30s"), 90);
  assert.equal(parseCpuSeconds("1.5m"), 90);
  assert.equal(parseCpuSeconds("1.1m"), 66);
  assert.equal(parseCpuSeconds("2s1000ms"), 3);
  assert.equal(typeof parseCpuSeconds("1s500ms"), "object");
});

Deno.test("a duration is at most 2^31-1 ms, the longest a timer waits, and at least 1 ms", () => {
  assert.equal(parseDuration("596h"), 596 * 3_600_000);
  assert.equal(parseDuration(`${MAX_DURATION_MS}ms`), MAX_DURATION_MS);
  for (const long of ["597h", `${MAX_DURATION_MS + 1}ms`, "9999999999h", "1".repeat(400)]) {
    assert.deepEqual(parseDuration(long), {
      error: `${long} is longer than the maximum, 596h (about 24.8 days)`,
    });
  }
  assert.deepEqual(parseDuration("0.0001s"), { error: "0.0001s is shorter than the minimum, 1ms" });
  // Under 1 ms however it rounds: 0.5ms was taken as 1 ms.
  assert.deepEqual(parseDuration("0.5ms"), { error: "0.5ms is shorter than the minimum, 1ms" });
  assert.equal(parseDuration("1.4ms"), 1);
  assert.deepEqual(parseDuration("0"), { error: "0 is shorter than the minimum, 1ms" });
  for (const bad of ["-1s", "1e3", "30s ", " 30s", "30sec", "NaN", "Infinity", "1.s", ".5s"]) {
    assert.deepEqual(parseDuration(bad), {
      error: `${JSON.stringify(bad)} is not a duration like 30s, 500ms, 2m or 1m30s`,
    });
  }
  // NaN is no duration at all (it was "longer than the maximum"); Infinity is longer than any.
  assert.equal(durationProblem("t", NaN), "t: NaN is not a number of ms");
  assert.equal(
    durationProblem("t", Infinity),
    "t: Infinity ms is longer than the maximum, 596h (about 24.8 days)",
  );
  assert.equal(durationProblem("t", -5), "t: -5 ms is shorter than the minimum, 1ms");
  assert.equal(durationProblem("t", 1), undefined);
});

Deno.test("a size or count too large to hold says so, and 0 is not a size", () => {
  assert.deepEqual(parseSize("0"), { error: "0 is not a positive size (or say unlimited)" });
  assert.deepEqual(parseSize("8192T"), {
    error: "8192T is more than the largest size, 8191T (or say unlimited)",
  });
  assert.equal(parseSize("8191T"), 8191 * 2 ** 40);
  assert.deepEqual(parseCount("99999999999999999999"), {
    error:
      "99999999999999999999 is more than the largest count, 9007199254740991 (or say unlimited)",
  });
  for (const bad of ["1e3", "0x10", " 5", "5 ", "+5"]) {
    assert.equal(typeof parseCount(bad), "object", bad);
    assert.equal(typeof parseSize(bad), "object", bad);
  }
});

// --cpu 1m was refused as "not a positive whole number", where --timeout 1m is a minute.
Deno.test("a CPU time is whole seconds, with or without s, m or h, or unlimited", () => {
  assert.equal(parseCpuSeconds("90"), 90);
  assert.equal(parseCpuSeconds("90s"), 90);
  assert.equal(parseCpuSeconds("2m"), 120);
  assert.equal(parseCpuSeconds("1h"), 3600);
  assert.equal(parseCpuSeconds("unlimited"), undefined);
  for (const bad of ["0", "0s", "-3", "1.5s", "", "500ms", "1d", "s", " 5", "5 ", "1e3", "+5"]) {
    const got = parseCpuSeconds(bad);
    assert.equal(typeof got, "object", bad);
    assert.match((got as { error: string }).error, /is not a (positive )?whole number/, bad);
  }
  assert.match(
    (parseCpuSeconds("9007199254740991h") as { error: string }).error,
    /^9007199254740991h is more than the largest count of seconds/,
  );
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

Deno.test("backendProblem names a jail.backend that is no backend, whatever its type", () => {
  for (const b of JAIL_BACKENDS) assert.equal(backendProblem(b), undefined);
  assert.equal(
    backendProblem("docker"),
    'jail.backend: "docker" is not one of auto, bwrap, native, none',
  );
  assert.equal(backendProblem(7), "jail.backend: 7 is not one of auto, bwrap, native, none");
  assert.equal(
    backendProblem(undefined),
    "jail.backend: undefined is not one of auto, bwrap, native, none",
  );
});

Deno.test("a library caller's limit is a positive whole number or undefined, one rule for Command and startProgram", () => {
  for (const ok of [undefined, 1, 2 ** 53 - 1]) {
    assert.equal(limitValueProblem("openFiles", ok), undefined);
  }
  for (const bad of [0, -1, 1.5, NaN, 2 ** 64, Infinity, null]) {
    assert.equal(
      limitValueProblem("memoryBytes", bad),
      `jail.limits.memoryBytes: ${
        String(bad)
      } is not a positive whole number (or undefined for unlimited)`,
    );
  }
  // Shown as given: the string "5" and 5n were printed as the number 5.
  for (const [bad, shown] of [["5", '"5"'], [5n, "5n"], [{}, "an object"]] as const) {
    assert.equal(
      limitValueProblem("memoryBytes", bad),
      `jail.limits.memoryBytes: ${shown} is not a positive whole number (or undefined for unlimited)`,
    );
  }
});

Deno.test("a library caller's limit names one of Limits' keys, one rule for Command and startProgram", () => {
  for (const name of Object.keys(DEFAULT_LIMITS)) assert.equal(limitNameProblem(name), undefined);
  assert.equal(
    limitNameProblem("files"),
    "jail.limits.files: not a limit (known: memoryBytes, cpuSeconds, openFiles, processes, tmpBytes)",
  );
  assert.match(limitNameProblem("__proto__") ?? "", /not a limit/);
});

Deno.test("formatSize writes the shortest size parseSize reads back as the same bytes", () => {
  const cases: [number, string][] = [
    [64 * 2 ** 20, "64M"],
    [2 ** 30, "1G"],
    [512 * 1024, "512K"],
    [1.5 * 2 ** 30, "1.5G"],
    // What --memory 0.9M became: it said "--memory 943718".
    [943718, "0.9M"],
    [1000, "1000"],
    [1536, "1.5K"],
    [1537, "1537"],
  ];
  for (const [bytes, text] of cases) {
    assert.equal(formatSize(bytes), text);
    assert.equal(parseSize(text), bytes);
  }
});
