// rpc/frame.ts — Cap'n Proto stream framing (the unpacked "segment table + segments" format) over a
// ByteStream, with limits checked on the segment table before any segment byte is buffered, so a
// peer cannot make the reader allocate more than `maxBytes` for one message.

import type { ByteStream } from "../ffi/stream.ts";

/** Bounds on one framed message. */
export interface FrameLimits {
  /** Most segments in one message. */
  readonly maxSegments: number;
  /** Most bytes in one message, segment table included. */
  readonly maxBytes: number;
}

/** A framing violation; the connection cannot continue after it. */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
  }
}

/**
 * The stream ended inside a message: the peer closed its end, or went away (exited, or was killed,
 * by ww's --timeout among others) in the middle of writing it. Not a violation of the peer's: the
 * message is lost, and nothing is left to answer.
 */
export class CutOffError extends FrameError {
  constructor(message: string) {
    super(message);
    this.name = "CutOffError";
  }
}

/**
 * The total byte length of the message whose start is `head`, or the number of bytes needed to
 * know it (as `{ need }`) when `head` is too short. Throws FrameError when a limit is exceeded.
 *
 * @example
 * frameLength(new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0]), { maxSegments: 1, maxBytes: 64 }); // 16
 */
export function frameLength(head: Uint8Array, limits: FrameLimits): number | { need: number } {
  if (head.length < 4) return { need: 4 };
  const view = new DataView(head.buffer, head.byteOffset, head.length);
  const count = view.getUint32(0, true) + 1;
  if (count > limits.maxSegments) {
    throw new FrameError(`a message has ${count} segments (the limit is ${limits.maxSegments})`);
  }
  // The table is a word count per segment after the count itself, padded to a whole word.
  const tableBytes = 4 * (1 + count) + (count % 2 === 0 ? 4 : 0);
  if (head.length < tableBytes) return { need: tableBytes };
  let total = tableBytes;
  for (let i = 0; i < count; i++) {
    total += view.getUint32(4 + 4 * i, true) * 8;
    if (total > limits.maxBytes) {
      throw new FrameError(`a message is larger than ${limits.maxBytes} bytes`);
    }
  }
  return total;
}

/**
 * Yields each whole message read from `stream`, as its own ArrayBuffer. Ends at a clean end of
 * stream; throws FrameError on a limit, CutOffError on an end of stream inside a message.
 *
 * @example
 * ```ts ignore
 * for await (const frame of readFrames(stream, { maxSegments: 512, maxBytes: 8 << 20 })) keep(frame);
 * ```
 */
export async function* readFrames(
  stream: ByteStream,
  limits: FrameLimits,
): AsyncGenerator<ArrayBuffer> {
  for await (const batch of readFrameBatches(stream, limits)) {
    for (const view of batch) yield view.slice().buffer;
  }
}

/**
 * Yields the whole messages each read from `stream` completed, as views into the read buffer,
 * valid only until the next batch is asked for: a reader that keeps a message copies what it
 * keeps, once (the host copies a message's segment, and nothing of one it only reads, such as a
 * Release). A batch, not each message, goes through a promise: a flood of small messages cost
 * more in the generator's turns than in reading them. Ends and throws as readFrames does, after
 * yielding the messages that came before the fault.
 *
 * @example
 * ```ts ignore
 * for await (const batch of readFrameBatches(stream, { maxSegments: 512, maxBytes: 8 << 20 })) {
 *   for (const view of batch) handle(view);
 * }
 * ```
 */
export async function* readFrameBatches(
  stream: ByteStream,
  limits: FrameLimits,
): AsyncGenerator<Uint8Array<ArrayBuffer>[]> {
  let buf: Uint8Array<ArrayBuffer> = new Uint8Array(64 * 1024);
  let start = 0;
  let end = 0;
  while (true) {
    const batch: Uint8Array<ArrayBuffer>[] = [];
    let length: number | { need: number };
    while (true) {
      const have = buf.subarray(start, end);
      try {
        length = frameLength(have, limits);
      } catch (e) {
        if (batch.length > 0) yield batch;
        throw e;
      }
      if (typeof length !== "number" || have.length < length) break;
      batch.push(buf.subarray(start, start + length));
      start += length;
    }
    if (batch.length > 0) yield batch;
    const need = typeof length === "number" ? length : length.need;
    // Moved or grown only when the message cannot end in the buffer as it is, or its length is not
    // known yet and little room is left: a large message's last 4 KiB, trickled in, made each read
    // copy the whole buffer into a new one 4 KiB larger.
    if (buf.length - start < need || (typeof length !== "number" && buf.length - end < 4096)) {
      // Move the partial message to the front, growing only to what it needs (at most maxBytes).
      const size = Math.max(64 * 1024, need, end - start + 4096);
      if (buf.length >= size) buf.copyWithin(0, start, end);
      else buf = grow(buf, start, end, size);
      end -= start;
      start = 0;
    }
    const n = await stream.read(buf.subarray(end));
    if (n === null) {
      if (end === start) return;
      const came = end - start;
      throw new CutOffError(
        typeof length === "number"
          ? `the connection ended inside a message (${came} of its ${length} bytes came)`
          : `the connection ended inside a message's segment table (${came} bytes came)`,
      );
    }
    end += n;
  }
}

function grow(
  buf: Uint8Array,
  start: number,
  end: number,
  size: number,
): Uint8Array<ArrayBuffer> {
  const next = new Uint8Array(size);
  next.set(buf.subarray(start, end));
  return next;
}
