import assert from "node:assert/strict";
import { afterReap, TRIM_EVERY } from "./malloc.ts";

Deno.test("afterReap trims on exactly one reap in every TRIM_EVERY, whatever the count so far", () => {
  for (let round = 0; round < 3; round++) {
    let trims = 0;
    for (let i = 0; i < TRIM_EVERY; i++) if (afterReap()) trims++;
    assert.equal(trims, 1);
  }
});
