// ipfs/multipart.ts — the request body of Kubo's `add`: one file as multipart/form-data
// (RFC 7578), under a boundary that does not occur in the file. Pure.

import type { RequestBody } from "./http.ts";

/** A random boundary: 24 hex digits after "ww-", far from anything a file holds by chance. */
export function randomBoundary(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `ww-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * `data` as the one file of a multipart/form-data body (field "file", named "file"). A boundary
 * from `boundary` that the file holds is drawn again, so the body always parses back to `data`.
 *
 * @example
 * const body = multipartFile(new TextEncoder().encode("hi"), () => "B");
 * body.type; // "multipart/form-data; boundary=B"
 * new TextDecoder().decode(body.bytes);
 * // '--B\r\nContent-Disposition: form-data; name="file"; filename="file"\r\n' +
 * // 'Content-Type: application/octet-stream\r\n\r\nhi\r\n--B--\r\n'
 */
export function multipartFile(
  data: Uint8Array,
  boundary: () => string = randomBoundary,
): RequestBody {
  const encoder = new TextEncoder();
  let chosen = boundary();
  while (includesBytes(data, encoder.encode(`--${chosen}`))) chosen = boundary();
  const head = encoder.encode(
    `--${chosen}\r\nContent-Disposition: form-data; name="file"; filename="file"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = encoder.encode(`\r\n--${chosen}--\r\n`);
  const bytes = new Uint8Array(head.length + data.length + tail.length);
  bytes.set(head);
  bytes.set(data, head.length);
  bytes.set(tail, head.length + data.length);
  return { type: `multipart/form-data; boundary=${chosen}`, bytes };
}

/** Whether `needle` (not empty) occurs in `haystack`. */
function includesBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  const first = needle[0];
  const last = haystack.length - needle.length;
  for (let i = haystack.indexOf(first); i !== -1 && i <= last; i = haystack.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return true;
  }
  return false;
}
