import assert from "node:assert/strict";
import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { leafFraming } from "./assemble.ts";

Deno.test("a leaf is framed byte for byte as ipfs-unixfs and @ipld/dag-pb encode it", () => {
  for (const size of [1, 127, 128, 1000, 16383, 16384, 262144, 1048576, 2 ** 21 + 3]) {
    for (const [type, name] of [[2, "file"], [0, "raw"]] as const) {
      const data = new Uint8Array(size).fill(7);
      const expected = dagPb.encode({
        Data: new UnixFS({ type: name, data }).marshal(),
        Links: [],
      });
      const { prefix, suffix, typeAt } = leafFraming(size, type);
      const framed = new Uint8Array([...prefix, ...data, ...suffix]);
      assert.deepEqual(framed, expected, `${name} leaf of ${size} bytes`);
      assert.equal(framed[typeAt], type);
    }
  }
});
