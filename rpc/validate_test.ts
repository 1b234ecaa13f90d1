import assert from "node:assert/strict";
import * as capnp from "capnp-es";
import * as rpc from "capnp-es/capnp/rpc";
import {
  declaredLength,
  messageProblem,
  plainRelease,
  textListBytes,
  textListProblem,
  textProblem,
} from "./validate.ts";

const LIMIT = 1 << 20;

function frame(...words: [number, number][]): ArrayBuffer {
  const header = [0, words.length];
  const out = new DataView(new ArrayBuffer(8 + words.length * 8));
  header.forEach((v, i) => out.setUint32(i * 4, v, true));
  words.forEach(([lo, hi], i) => {
    out.setUint32(8 + i * 8, lo, true);
    out.setUint32(12 + i * 8, hi, true);
  });
  return out.buffer;
}

Deno.test("messages capnp-es builds are well formed, lists and capabilities included", () => {
  const m = new capnp.Message();
  const call = m.initRoot(rpc.Message)._initCall();
  call._initTarget()._initPromisedAnswer()._initTransform(3);
  const params = call._initParams();
  params._initCapTable(2).get(1).senderHosted = 4;
  capnp.utils.setInterfacePointer(1, capnp.utils.getPointer(0, params));
  assert.equal(messageProblem(m.toArrayBuffer(), LIMIT), undefined);
});

function segments(...segs: [number, number][][]): ArrayBuffer {
  const count = segs.length;
  const header = 4 * (1 + count) + (count % 2 === 0 ? 4 : 0);
  const total = header + segs.reduce((n, s) => n + s.length * 8, 0);
  const out = new DataView(new ArrayBuffer(total));
  out.setUint32(0, count - 1, true);
  segs.forEach((s, i) => out.setUint32(4 + 4 * i, s.length, true));
  let at = header;
  for (const s of segs) {
    for (const [lo, hi] of s) {
      out.setUint32(at, lo, true);
      out.setUint32(at + 4, hi, true);
      at += 8;
    }
  }
  return out.buffer;
}

Deno.test("single and double far pointers that land inside the message are well formed", () => {
  // Root: far pointer to segment 1, word 0: a struct pointer to the 1-word struct after it.
  const single = segments([[2 | (0 << 3), 1]], [[0, 1], [42, 0]]);
  assert.equal(messageProblem(single, LIMIT), undefined);
  // Root: double far to segment 1 word 0: [far to segment 2 word 0, tag: struct of 1 data word].
  const double = segments([[2 | 4, 1]], [[2, 2], [0, 1]], [[42, 0]]);
  assert.equal(messageProblem(double, LIMIT), undefined);
});

Deno.test("a struct pointer claiming more words than its segment has is refused", () => {
  // The root claims 1 data word and 33793 pointers in a 2-word segment (found by the fuzzer).
  assert.match(
    messageProblem(frame([0, 0x8401_0001], [0, 0]), LIMIT)!,
    /struct pointer points outside its segment/,
  );
});

Deno.test("a list outside its segment, and a far pointer outside the message, are refused", () => {
  assert.match(messageProblem(frame([1, (100 << 3) | 5]), LIMIT)!, /list points outside/);
  assert.match(messageProblem(frame([2 | (5 << 3), 7]), LIMIT)!, /far pointer lands outside/);
});

Deno.test("a pointer that loops back on itself stops at the nesting or traversal limit", () => {
  // A struct of 1 pointer whose pointer points at the struct itself (offset -1).
  const self = ((-1 << 2) >>> 0) | 0;
  assert.match(
    messageProblem(frame([self >>> 0, 1 << 16]), LIMIT)!,
    /nested deeper|traversal limit|outside/,
  );
});

Deno.test("a segment table that does not match the bytes is refused", () => {
  const f = new Uint8Array(frame([0, 0]));
  assert.match(messageProblem(f.buffer.slice(0, 8) as ArrayBuffer, LIMIT) ?? "", /segment table/);
});

// capnp-es's getter copies a list of smaller structs into one of the schema's size before its
// length can be read: a PromisedAnswer's path of 8M empty structs cost a 64 MiB copy per call.
Deno.test("declaredLength reads a list's count from its pointer, without building the list", () => {
  // Built at the schema's size, these would take 4 GiB.
  const count = 2 ** 29 - 1;
  const message = new capnp.Message(
    frame(
      [0, 1 << 16], // root: a struct here, no data, one pointer
      [(0 << 2) | 1, 7 | (0 << 3)], // list pointer: to the next word, composite, 0 words
      [count << 2, 0], // tag: `count` elements of no data and no pointers
    ),
    false,
  );
  const root = message.getRoot(rpc.PromisedAnswer);
  assert.equal(declaredLength(root, 0), count);
  assert.equal(declaredLength(root, 5), 0, "a field past the struct's pointers");
});

// One text pointed at from two places is two texts' worth of strings once built: the count is
// of what the pointers declare, as reading them builds (8 pointers to one 7 MB text: 56 MB).
Deno.test("textListBytes counts every pointer's text, one text pointed at twice counted twice", () => {
  const hello = new DataView(new TextEncoder().encode("hello\0\0\0").buffer);
  const message = new capnp.Message(
    frame(
      [0, 1 << 16], // root: a struct here, no data, one pointer
      [(0 << 2) | 1, 6 | (2 << 3)], // List(Text): the next word, 2 pointers
      [(1 << 2) | 1, 2 | (6 << 3)], // text: 1 word on, 6 bytes
      [(0 << 2) | 1, 2 | (6 << 3)], // the same text: right after this pointer
      [hello.getUint32(0, true), hello.getUint32(4, true)],
    ),
    false,
  );
  const root = message.getRoot(rpc.PromisedAnswer);
  assert.deepEqual(textListBytes(root, 0), { total: 12, longest: 6 });
  assert.deepEqual(textListBytes(root, 3), { total: 0, longest: 0 }, "a field past the struct's");
});

// capnp-es reads a text as all its bytes but the last, whatever that byte is: the C++ reference
// refuses a text whose last byte is not NUL, and so does ww.
Deno.test("textProblem and textListProblem refuse a text without its NUL, and only that", () => {
  const word = (text: string): [number, number] => {
    const v = new DataView(new Uint8Array(8).buffer);
    new Uint8Array(v.buffer).set(new TextEncoder().encode(text));
    return [v.getUint32(0, true), v.getUint32(4, true)];
  };
  // A struct whose one pointer is `field`, and the word after it.
  const struct = (field: [number, number], after: [number, number]) =>
    new capnp.Message(frame([0, 1 << 16], field, after), false).getRoot(rpc.PromisedAnswer);
  const text = (bytes: number): [number, number] => [(0 << 2) | 1, 2 | (bytes << 3)];
  assert.equal(textProblem(struct(text(8), word("SIGTERM\0")), 0), undefined);
  assert.equal(textProblem(struct(text(4), word("SIG\0TERM")), 0), undefined, "what follows");
  assert.equal(textProblem(struct([0, 0], [0, 0]), 0), undefined, "null is the empty text");
  assert.equal(textProblem(struct([0, 0], [0, 0]), 1), undefined, "past the struct's pointers");
  for (const [field, after] of [[text(8), word("SIGTERMX")], [text(0), word("")]] as const) {
    assert.equal(textProblem(struct(field, after), 0), "a text without its NUL terminator");
  }
  assert.equal(
    textProblem(struct([(0 << 2) | 1, 5 | (1 << 3)], word("SIGTERM\0")), 0), // a list of words
    "not a list of bytes where the schema has a text",
  );
  // List(Text): a good text, then `second`, each pointing at the last word.
  const list = (second: [number, number], last: [number, number]) =>
    new capnp.Message(
      frame(
        [0, 1 << 16],
        [(0 << 2) | 1, 6 | (2 << 3)], // List(Text): the next word, 2 pointers
        [(1 << 2) | 1, 2 | (4 << 3)], // "abc" and its NUL: 1 word on
        second, // right after this pointer
        last,
      ),
      false,
    ).getRoot(rpc.PromisedAnswer);
  assert.equal(textListProblem(list(text(8), word("abc\0TER\0")), 0), undefined);
  assert.equal(textListProblem(list([0, 0], word("abc\0")), 0), undefined);
  assert.equal(
    textListProblem(list(text(8), word("abc\0TERM")), 0),
    "element 1: a text without its NUL terminator",
  );
});

Deno.test("plainRelease reads a Release as capnp-es does, and leaves anything else to it", () => {
  const release = new capnp.Message();
  const r = release.initRoot(rpc.Message)._initRelease();
  r.id = 999999;
  r.referenceCount = 3;
  const bytes = new Uint8Array(release.toArrayBuffer());
  assert.equal(messageProblem(bytes, LIMIT), undefined);
  assert.deepEqual(plainRelease(bytes), { id: 999999, referenceCount: 3 });
  // A view into a larger buffer, as the host reads it.
  const inside = new Uint8Array(bytes.length + 16);
  inside.set(bytes, 8);
  assert.deepEqual(plainRelease(inside.subarray(8, 8 + bytes.length)), {
    id: 999999,
    referenceCount: 3,
  });
  const finish = new capnp.Message();
  finish.initRoot(rpc.Message)._initFinish().questionId = 999999;
  assert.equal(plainRelease(new Uint8Array(finish.toArrayBuffer())), undefined);
  // The same Release with its struct in a second segment (a far pointer): capnp-es reads it.
  const words = (...w: number[]) => new Uint8Array(new Uint32Array(w).buffer);
  const twoSegments = words(1, 3, 2, 0, 0, 0x10001, 6, 0, 2, 1, 0, 1, 999999, 3);
  assert.equal(messageProblem(twoSegments, LIMIT), undefined);
  assert.equal(plainRelease(twoSegments), undefined);
  const read = new capnp.Message(twoSegments, false).getRoot(rpc.Message);
  assert.deepEqual([read.release.id, read.release.referenceCount], [999999, 3]);
});
