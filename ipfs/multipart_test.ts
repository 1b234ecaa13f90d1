// ipfs/multipart_test.ts — the add body parses back, with the Web's own multipart parser, to the
// file it carries, whatever the file holds (its boundary included).

import assert from "node:assert/strict";
import { multipartFile, randomBoundary } from "./multipart.ts";

/** The file the body carries, as a standard multipart/form-data parser reads it. */
async function parsedFile(body: { type: string; bytes: Uint8Array }): Promise<Uint8Array> {
  const form = await new Request("http://node/api/v0/add", {
    method: "POST",
    headers: { "content-type": body.type },
    body: body.bytes as Uint8Array<ArrayBuffer>,
  }).formData();
  const file = form.get("file");
  assert.ok(file instanceof File, "a file field");
  assert.equal(file.name, "file");
  return new Uint8Array(await file.arrayBuffer());
}

Deno.test("multipartFile: any bytes parse back to themselves", async () => {
  const edges = ["", "\r\n", "--", "\r\n--ww-", "--ww-0123\r\n", "\u0000\u00ff"].map((t) =>
    new TextEncoder().encode(t)
  );
  const random = Array.from({ length: 30 }, (_, i) => {
    const bytes = new Uint8Array(i * 37);
    crypto.getRandomValues(bytes);
    return bytes;
  });
  for (const data of [...edges, ...random]) {
    assert.deepEqual(await parsedFile(multipartFile(data)), data);
  }
});

Deno.test("multipartFile: a boundary the file holds is drawn again", async () => {
  const data = new TextEncoder().encode("a\r\n--first--\r\nb");
  const drawn = ["first", "second"];
  const body = multipartFile(data, () => drawn.shift()!);
  assert.equal(body.type, "multipart/form-data; boundary=second");
  assert.deepEqual(drawn, []);
  assert.deepEqual(await parsedFile(body), data);
});

Deno.test("randomBoundary: 'ww-' and 24 hex digits, a fresh one each time", () => {
  const a = randomBoundary();
  assert.match(a, /^ww-[0-9a-f]{24}$/);
  assert.notEqual(randomBoundary(), a);
});
