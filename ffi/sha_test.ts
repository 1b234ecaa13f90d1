import assert from "node:assert/strict";
import { shaDigest } from "./sha.ts";

Deno.test("shaDigest agrees with crypto.subtle for SHA-256 and SHA-512, at every size that matters", async () => {
  const data = new Uint8Array(262144 + 3);
  crypto.getRandomValues(data.subarray(0, 65536));
  crypto.getRandomValues(data.subarray(data.length - 65536));
  for (const algorithm of ["SHA-256", "SHA-512"] as const) {
    for (const size of [0, 1, 55, 56, 64, 127, 128, 4096, 262144, 262147]) {
      // A view at an odd offset into a larger buffer: the call must hash the view, not the buffer.
      const view = data.subarray(3, 3 + Math.min(size, data.length - 3));
      const want = new Uint8Array(await crypto.subtle.digest(algorithm, view.slice()));
      assert.deepEqual(shaDigest(algorithm, view), want, `${algorithm} of ${view.length} bytes`);
    }
  }
});

Deno.test("shaDigest of the empty input is the well-known digest", () => {
  const hex = (b?: Uint8Array) =>
    b && Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  assert.equal(
    hex(shaDigest("SHA-256", new Uint8Array(0))),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
});
