// run/stderr.ts — the lines ww writes to its stderr while a program runs (its console lines, RPC
// failures, ww's own notes), queued in a bounded buffer and written without blocking
// (ffi/nonblocking_out.ts). When the queue is full a guest's line is dropped and counted, and the
// count is the last line ww writes. A guest that floods the console, or a caller that never reads
// ww's stderr, then costs at most the queue's bytes, and never stops the timeout, signals or RPC.
// ww's own lines (a timeout, a warning, an error) have a reserve of their own past the bound: a
// guest's flood does not drop them.

import type { NonblockingOut } from "../ffi/nonblocking_out.ts";
import { oneLine } from "../core/escape.ts";

/** Bytes of lines waiting to be written, at most. */
export const STDERR_QUEUE_BYTES = 1 << 20;

/** How long ww waits, at its end, for queued lines to drain before it exits anyway. */
export const STDERR_DRAIN_MS = 2000;

/** At its end, ww stops waiting once this long passes with nothing written. */
export const STALL_MS = 200;

/** Bytes past the bound that ww's own lines may still take (STDERR_QUEUE_BYTES is the guest's). */
export const OWN_RESERVE_BYTES = 64 << 10;

const encoder = new TextEncoder();

/** A bounded queue of lines for a NonblockingOut (stderrQueue makes one). */
export interface StderrQueue {
  /** Lines dropped so far because the queue was full. */
  readonly dropped: number;
  /** Bytes queued and not yet written. */
  readonly queued: number;
  /**
   * Queues `text`, one of ww's own lines, and a newline: past the bound too, into a reserve of
   * OWN_RESERVE_BYTES. It stays one line whatever it quotes (a program's name, a bind's path):
   * see oneLine.
   */
  line(text: string): void;
  /**
   * Queues `text`, a line from a guest (its console, what ww says of its protocol), and a
   * newline, or drops and counts it when the queue is at its bound.
   */
  guestLine(text: string): void;
  /**
   * Adds the count of dropped lines (past the bound: it is the last line), and waits at most
   * `waitMs` for the queue to drain, and no longer than STALL_MS once nothing is written. What
   * is still queued then is lost.
   */
  finish(waitMs?: number): Promise<void>;
}

/**
 * A StderrQueue for `open`'s NonblockingOut, opened on the first line (most runs write none).
 * Closures, not a class: V8 compiles a class's methods on their first call, while the bundle has
 * these compiled with their file (scripts/eager_compile.ts); every run writes through one.
 *
 * @example
 * const err = stderrQueue(() => openNonblockingOut(2));
 * err.line("ww: app timed out after 3s");
 * await err.finish(); // the dropped-lines count, if any, and a bounded wait for the rest
 */
export function stderrQueue(
  open: () => NonblockingOut,
  maxBytes: number = STDERR_QUEUE_BYTES,
): StderrQueue {
  let out: NonblockingOut | undefined;
  let chunks: Uint8Array[] = [];
  let queued = 0;
  let dropped = 0;
  let pump: Promise<void> | undefined;

  /** Writes what fits now; false when the reader is gone (the queue is then discarded). */
  const write = (): boolean => {
    out ??= open();
    while (chunks.length > 0) {
      const chunk = chunks[0];
      const n = out.write(chunk);
      if (n < 0) {
        chunks = [];
        queued = 0;
        return false;
      }
      queued -= n;
      if (n < chunk.length) {
        // A line is never cut: the rest of it stays first in the queue.
        chunks[0] = chunk.subarray(n);
        return true;
      }
      chunks.shift();
    }
    return true;
  };

  const drain = async (): Promise<void> => {
    try {
      while (queued > 0) {
        await out!.writable();
        if (!write()) break;
      }
    } finally {
      pump = undefined;
    }
  };

  /** Queues `text` and a newline unless the queue would hold more than `bound` bytes. */
  const queue = (text: string, bound: number): void => {
    const bytes = encoder.encode(`${oneLine(text)}\n`);
    if (queued + bytes.length > bound) {
      dropped++;
      return;
    }
    push(bytes);
  };

  const push = (bytes: Uint8Array): void => {
    chunks.push(bytes);
    queued += bytes.length;
    write();
    if (queued > 0) pump ??= drain();
  };

  return {
    get dropped() {
      return dropped;
    },
    get queued() {
      return queued;
    },
    line: (text) => queue(text, maxBytes + OWN_RESERVE_BYTES),
    guestLine: (text) => queue(text, maxBytes),
    finish: async (waitMs = STDERR_DRAIN_MS) => {
      if (dropped > 0) {
        push(encoder.encode(
          `ww: ${dropped} console lines dropped (ww's stderr was not read as fast as they came)\n`,
        ));
        dropped = 0;
      }
      // Wait while the reader makes progress; one that reads nothing costs one short step.
      const end = performance.now() + waitMs;
      while (queued > 0 && pump && performance.now() < end) {
        const before = queued;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const step = Math.min(STALL_MS, end - performance.now());
        await Promise.race([pump, new Promise((r) => (timer = setTimeout(r, step)))]);
        clearTimeout(timer);
        if (queued === before) break;
      }
    },
  };
}
