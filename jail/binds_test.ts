// jail/binds.ts's own helpers; the mounts made of binds are tested in jail/bind_mounts_test.ts.
import assert from "node:assert/strict";
import { cleanDest } from "./binds.ts";

Deno.test("a destination is cleaned of repeated slashes, '.' and a trailing slash; '..' is refused", () => {
  assert.equal(cleanDest("//a/./b/"), "/a/b");
  assert.deepEqual(cleanDest("/d/../etc"), {
    error: "the destination must not contain .. (name the directory itself)",
  });
  assert.deepEqual(cleanDest("d"), { error: "the destination must be an absolute path" });
});
