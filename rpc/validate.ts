// rpc/validate.ts — checks every pointer of an incoming message before capnp-es reads it.
//
// capnp-es 0.0.16 trusts the sizes in pointers: a struct pointer claiming 33793 pointer fields in
// a 4-word segment makes it copy or walk far outside the message, for seconds or forever (found
// by rpc/vat_test.ts's fuzzer). The C++ reference bounds-checks on every read; here one walk over
// the whole message up front does the same: every object lies inside its segment, far pointers
// land inside theirs, nesting is at most MAX_DEPTH deep, and the words visited (counting an
// object once per pointer to it) stay under a traversal limit, so no message can amplify work.
// That walk knows no schema; listFieldProblem checks, where a list field is read, that the list
// is the one the schema has. plainRelease reads the one message a guest can send in bulk for
// nothing (a Release) without capnp-es, from a message the walk accepted.

import * as capnp from "npm:capnp-es@0.0.16";

/**
 * Why `frame` (one stream-framed message, or a view of one) is not a well-formed message, or
 * undefined.
 */
export function messageProblem(
  frame: ArrayBuffer | Uint8Array<ArrayBuffer>,
  traversalLimitWords: number,
): string | undefined {
  const view = frame instanceof ArrayBuffer
    ? new DataView(frame)
    : new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const count = view.getUint32(0, true) + 1;
  const segments: { start: number; words: number }[] = [];
  let offset = 4 * (1 + count) + (count % 2 === 0 ? 4 : 0);
  for (let i = 0; i < count; i++) {
    const words = view.getUint32(4 + 4 * i, true);
    segments.push({ start: offset, words });
    offset += words * 8;
  }
  if (offset !== frame.byteLength || segments[0].words === 0) return "a malformed segment table";
  let budget = traversalLimitWords;
  const MAX_DEPTH = 64;

  const word = (seg: number, index: number) => segments[seg].start + index * 8;

  // Checks the pointer at word `at` of segment `seg`.
  const pointer = (seg: number, at: number, depth: number): string | undefined => {
    const p = word(seg, at);
    const lo = view.getUint32(p, true);
    const hi = view.getUint32(p + 4, true);
    if (lo === 0 && hi === 0) return undefined;
    if (depth > MAX_DEPTH) return `pointers nested deeper than ${MAX_DEPTH}`;
    const kind = lo & 3;
    if (kind === 3) return undefined; // a capability: its index is checked against the cap table
    if (kind === 2) return far(lo, hi, depth);
    return object(seg, at + 1 + ((lo | 0) >> 2), lo, hi, depth);
  };

  // A struct or list whose pointer (its kind in lo, its sizes in hi) says it starts at `target`.
  const object = (
    seg: number,
    target: number,
    lo: number,
    hi: number,
    depth: number,
  ): string | undefined => {
    const inside = (words: number) => target >= 0 && target + words <= segments[seg].words;
    if ((lo & 3) === 0) {
      const dataWords = hi & 0xffff;
      const pointers = hi >>> 16;
      if (!inside(dataWords + pointers)) return "a struct pointer points outside its segment";
      if ((budget -= Math.max(1, dataWords + pointers)) < 0) return "the traversal limit";
      for (let i = 0; i < pointers; i++) {
        const problem = pointer(seg, target + dataWords + i, depth + 1);
        if (problem) return problem;
      }
      return undefined;
    }
    const size = hi & 7;
    const length = hi >>> 3;
    if (size === 7) {
      if (!inside(1 + length)) return "a list points outside its segment";
      const tag = word(seg, target);
      const tagLo = view.getUint32(tag, true);
      const tagHi = view.getUint32(tag + 4, true);
      if ((tagLo & 3) !== 0) return "a composite list tag that is not a struct";
      const elements = tagLo >>> 2;
      const dataWords = tagHi & 0xffff;
      const pointers = tagHi >>> 16;
      if (elements * (dataWords + pointers) > length) {
        return "a composite list larger than its words";
      }
      if ((budget -= Math.max(elements, length)) < 0) return "the traversal limit";
      for (let e = 0; e < elements; e++) {
        const base = target + 1 + e * (dataWords + pointers) + dataWords;
        for (let i = 0; i < pointers; i++) {
          const problem = pointer(seg, base + i, depth + 1);
          if (problem) return problem;
        }
      }
      return undefined;
    }
    const bits = [0, 1, 8, 16, 32, 64, 64][size];
    const words = Math.ceil((length * bits) / 64);
    if (!inside(words)) return "a list points outside its segment";
    // Void lists cost nothing to store but are still walked per element by readers.
    if ((budget -= Math.max(words, size === 0 ? length / 8 : 0)) < 0) return "the traversal limit";
    if (size === 6) {
      for (let i = 0; i < length; i++) {
        const problem = pointer(seg, target + i, depth + 1);
        if (problem) return problem;
      }
    }
    return undefined;
  };

  const far = (lo: number, hi: number, depth: number): string | undefined => {
    const doubleFar = (lo & 4) !== 0;
    const padAt = lo >>> 3;
    const padSeg = hi;
    if (padSeg >= segments.length || padAt + (doubleFar ? 2 : 1) > segments[padSeg].words) {
      return "a far pointer lands outside the message";
    }
    if (!doubleFar) {
      const pLo = view.getUint32(word(padSeg, padAt), true);
      if ((pLo & 3) === 2) return "a far pointer lands on another far pointer";
      return pointer(padSeg, padAt, depth + 1);
    }
    const pad = word(padSeg, padAt);
    const farLo = view.getUint32(pad, true);
    const farHi = view.getUint32(pad + 4, true);
    const tagLo = view.getUint32(pad + 8, true);
    const tagHi = view.getUint32(pad + 12, true);
    if ((farLo & 7) !== 2) return "a double-far landing pad without a far pointer";
    if ((tagLo & 3) === 2 || (tagLo & 3) === 3 || tagLo >> 2 !== 0) {
      return "a double-far landing pad with a bad tag";
    }
    if (farHi >= segments.length) return "a far pointer lands outside the message";
    return object(farHi, farLo >>> 3, tagLo, tagHi, depth + 1);
  };

  return pointer(0, 0, 0);
}

/** The union tag of rpc.capnp's Message that says it is a Release. */
const RELEASE = 6;

/**
 * The Release that `frame` (a message messageProblem accepted) is, when it is one in the plain
 * layout every implementation writes (one segment, near struct pointers, sizes at least the
 * schema's); undefined for anything else, which capnp-es then reads. A flood of Releases is the
 * cheapest thing a guest can send (40 bytes, no reply), and reading each with capnp-es (a
 * message, an arena, a segment and three structs, and a copy of its bytes) cost ww ~100 times
 * what writing it cost the guest.
 *
 * @example
 * plainRelease(releaseFrame); // { id: 999999, referenceCount: 1 }
 */
export function plainRelease(
  frame: Uint8Array<ArrayBuffer>,
): { id: number; referenceCount: number } | undefined {
  if (frame.byteLength < 32) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint32(0, true) !== 0) return undefined;
  // The root pointer (word 0 of the segment, at byte 8): a near struct of at least one data word
  // (the union tag) and one pointer (the Release).
  const rootLo = view.getUint32(8, true);
  const rootHi = view.getUint32(12, true);
  if ((rootLo & 3) !== 0 || (rootHi & 0xffff) === 0 || rootHi >>> 16 === 0) return undefined;
  const root = 8 + 8 * (1 + (rootLo >> 2));
  if (view.getUint16(root, true) !== RELEASE) return undefined;
  const at = root + 8 * (rootHi & 0xffff);
  const lo = view.getUint32(at, true);
  const hi = view.getUint32(at + 4, true);
  if ((lo & 3) !== 0 || (lo === 0 && hi === 0) || (hi & 0xffff) === 0) return undefined;
  const release = at + 8 * (1 + (lo >> 2));
  return { id: view.getUint32(release, true), referenceCount: view.getUint32(release + 4, true) };
}

/** What each element size of a list pointer holds, in a message. */
const ELEMENTS = ["void", "bits", "bytes", "16-bit values", "32-bit values", "64-bit values"]
  .concat(["pointers", "structs"]);

/**
 * The element count that list field `index` of `s` declares (0 when null or absent), read from
 * its pointer: capnp-es's getter first copies a list of smaller structs into one of the schema's
 * size, so a count checked through it was paid for already (8M empty structs, 64 MiB). The field
 * must have passed listFieldProblem.
 *
 * @example
 * if (declaredLength(promisedAnswer, 0) > MAX_PATH) refuse();
 */
export function declaredLength(s: capnp.Struct, index: number): number {
  const p = fieldPointer(s, index);
  return p === undefined ? 0 : capnp.utils.getTargetListLength(p);
}

/**
 * Pointer field `index` of `s`, or undefined when it is null or past the struct's pointers (a
 * struct sent with fewer than the schema's holds none there).
 */
function fieldPointer(s: capnp.Struct, index: number): capnp.Pointer | undefined {
  if (index >= capnp.utils.getSize(s).pointerLength) return undefined;
  const p = capnp.utils.getPointer(index, s);
  return capnp.utils.isNull(p) ? undefined : p;
}

/**
 * The bytes of the texts of List(Text) field `index` of `s`, as their pointers declare them, read
 * without building a string: their sum and the longest. A message may point at one text from
 * many places (the traversal limit allows each word read 8 times), so its strings can come to
 * more than its size: 8 pointers to one 7 MB text made 56 MB of strings. An element that is no
 * list of bytes counts nothing (reading it then fails as a malformed message). The field must have
 * passed listFieldProblem.
 *
 * @example
 * const { total, longest } = textListBytes(startParams, 1);
 */
export function textListBytes(
  s: capnp.Struct,
  index: number,
): { total: number; longest: number } {
  let total = 0;
  let longest = 0;
  someElement(s, index, (element) => {
    if (element === undefined) return;
    if (capnp.utils.getTargetPointerType(element) !== capnp.PointerType.LIST) return;
    if (capnp.utils.getTargetListElementSize(element) !== capnp.ListElementSize.BYTE) return;
    const bytes = capnp.utils.getTargetListLength(element);
    total += bytes;
    if (bytes > longest) longest = bytes;
  });
  return { total, longest };
}

/**
 * Calls `each` with the pointer of every element of pointer-list field `index` of `s` (undefined
 * for a null one) and its index, one pointer moved along the list, until `each` returns a value:
 * that value, or undefined. The field must have passed listFieldProblem.
 */
function someElement<T>(
  s: capnp.Struct,
  index: number,
  each: (element: capnp.Pointer | undefined, i: number) => T | undefined,
): T | undefined {
  const list = fieldPointer(s, index);
  const count = list === undefined ? 0 : capnp.utils.getTargetListLength(list);
  if (list === undefined || count === 0) return undefined;
  const element = capnp.utils.getContent(list);
  const first = element.byteOffset;
  for (let i = 0; i < count; i++) {
    element.byteOffset = first + 8 * i;
    const found = each(capnp.utils.isNull(element) ? undefined : element, i);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Why text field `index` of `s` (of a peer's message, checked by messageProblem) is not a Cap'n
 * Proto text, a list of bytes whose last is NUL, or undefined (null is the empty text). capnp-es
 * reads a text as every byte but the last, whatever that byte is: "SIGTERMX" sent without its NUL
 * was read as SIGTERM. The C++ reference refuses such a text, as this does.
 *
 * @example
 * textProblem(killParams, 0); // "a text without its NUL terminator", for "SIGTERMX" sent so
 */
export function textProblem(s: capnp.Struct, index: number): string | undefined {
  return textPointerProblem(fieldPointer(s, index));
}

/**
 * Why an element of List(Text) field `index` of `s` is not a text (see textProblem), naming the
 * first such element, or undefined. The field must have passed listFieldProblem.
 *
 * @example
 * textListProblem(startParams, 1); // "element 2: a text without its NUL terminator" (the third)
 */
export function textListProblem(s: capnp.Struct, index: number): string | undefined {
  return someElement(s, index, (element, i) => {
    const problem = textPointerProblem(element);
    return problem === undefined ? undefined : `element ${i}: ${problem}`;
  });
}

/** textProblem of the text pointer `p` (undefined: null). */
function textPointerProblem(p: capnp.Pointer | undefined): string | undefined {
  if (p === undefined) return undefined;
  if (
    capnp.utils.getTargetPointerType(p) !== capnp.PointerType.LIST ||
    capnp.utils.getTargetListElementSize(p) !== capnp.ListElementSize.BYTE
  ) {
    return "not a list of bytes where the schema has a text";
  }
  const length = capnp.utils.getTargetListLength(p);
  const content = capnp.utils.getContent(p);
  return length > 0 && content.segment.getUint8(content.byteOffset + length - 1) === 0
    ? undefined
    : "a text without its NUL terminator";
}

/**
 * The cap-table index that pointer `p` (not null) holds, or why it holds none. capnp-es reads the
 * second word of any pointer as the index: a struct or list pointer sent where the schema has an
 * interface passed on a capability the guest held (a struct of one data word, index 1). As the
 * C++ reference does, a capability is only a capability pointer itself (first word 3: kind
 * "other", capability), never reached through a far pointer.
 *
 * @example
 * capabilityIndex(p); // 0, or { error: "not a capability where the schema has an interface" }
 */
export function capabilityIndex(p: capnp.Pointer): number | { error: string } {
  if (p.segment.getUint32(p.byteOffset) !== 3) {
    return { error: "not a capability where the schema has an interface" };
  }
  return p.segment.getUint32(p.byteOffset + 4);
}

/**
 * Why pointer field `index` of struct `s` (of a peer's message, checked by messageProblem) is
 * neither null nor a list of `size` elements, the schema's, or undefined. capnp-es reads a list
 * field by its type's element size, whatever the pointer says: a List(Text) sent as a List(Void)
 * had the words after it, which messageProblem took for nothing, read as text pointers, and one
 * 8 MiB message made ww hold gigabytes of text; sent as a long List(Void), a JavaScript array of
 * its length.
 *
 * @example
 * listFieldProblem(params, 1, capnp.ListElementSize.POINTER);
 * // "a list of void where the schema has a list of pointers" (for args sent as a List(Void))
 */
export function listFieldProblem(
  s: capnp.Struct,
  index: number,
  size: capnp.ListElementSize,
): string | undefined {
  // A struct sent with fewer pointers than the schema's holds none there: capnp-es's getter
  // refuses it.
  const p = fieldPointer(s, index);
  if (p === undefined) return undefined;
  if (capnp.utils.getTargetPointerType(p) !== capnp.PointerType.LIST) {
    return `not a list where the schema has a list of ${ELEMENTS[size]}`;
  }
  const got = capnp.utils.getTargetListElementSize(p);
  return got === size
    ? undefined
    : `a list of ${ELEMENTS[got]} where the schema has a list of ${ELEMENTS[size]}`;
}
