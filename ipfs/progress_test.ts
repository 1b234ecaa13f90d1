import assert from "node:assert/strict";
import { formatBytes, renderProgress } from "./progress.ts";

Deno.test("sizes are shown in binary units with one decimal", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(32 * 2 ** 20), "32.0 MiB");
});

Deno.test("the progress line shows a bar, bytes so far, the total and the rate", () => {
  assert.equal(
    renderProgress("app", 8 * 2 ** 20, 32 * 2 ** 20, 500),
    "app  [#####...............]  8.0 MiB / 32.0 MiB  16.0 MiB/s",
  );
  assert.equal(
    renderProgress("app", 32 * 2 ** 20, 32 * 2 ** 20, 1000),
    "app  [####################]  32.0 MiB / 32.0 MiB  32.0 MiB/s",
  );
});
