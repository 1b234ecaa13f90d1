// run/stderr.ts — the lines ww writes to its stderr while a program runs (its console lines, RPC
// failures, ww's own notes), queued in a bounded buffer and written without blocking
// (ffi/stderr.ts). When the queue is full a line is dropped and counted, and the count is the
// last line ww writes. A guest that floods the console, or a caller that never reads ww's
// stderr, then costs at most the queue's bytes, and never stops the timeout, signals or RPC.

import type { NonblockingOut } from "../ffi/stderr.ts";
import { oneLine } from "../core/escape.ts";

/** Bytes of lines waiting to be written, at most. */
export const STDERR_QUEUE_BYTES = 1 << 20;

/** How long ww waits, at its end, for queued lines to drain before it exits anyway. */
export const STDERR_DRAIN_MS = 2000;

/** At its end, ww stops waiting once this long passes with nothing written. */
export const STALL_MS = 200;

const encoder = new TextEncoder();

/**
 * A bounded queue of lines for a NonblockingOut, opened on the first line (most runs write none).
 *
 * @example
 * const err = new StderrQueue(openStderr);
 * err.line("ww: app timed out after 3s");
 * await err.finish(); // the dropped-lines count, if any, and a bounded wait for the rest
 */
export class StderrQueue {
  #out: NonblockingOut | undefined;
  #chunks: Uint8Array[] = [];
  #queued = 0;
  #dropped = 0;
  #pump: Promise<void> | undefined;

  constructor(
    readonly open: () => NonblockingOut,
    readonly maxBytes: number = STDERR_QUEUE_BYTES,
  ) {}

  /** Lines dropped so far because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Bytes queued and not yet written. */
  get queued(): number {
    return this.#queued;
  }

  /**
   * Queues `text` and a newline, or drops and counts it when the queue has no room for it. It
   * stays one line whatever it quotes (a program's name, a bind's path): see oneLine.
   */
  line(text: string): void {
    const bytes = encoder.encode(`${oneLine(text)}\n`);
    if (this.#queued + bytes.length > this.maxBytes) {
      this.#dropped++;
      return;
    }
    this.#push(bytes);
  }

  /**
   * Adds the count of dropped lines (past the bound: it is the last line), and waits at most
   * `waitMs` for the queue to drain, and no longer than STALL_MS once nothing is written. What
   * is still queued then is lost.
   */
  async finish(waitMs: number = STDERR_DRAIN_MS): Promise<void> {
    if (this.#dropped > 0) {
      this.#push(encoder.encode(
        `ww: ${this.#dropped} console lines dropped (ww's stderr was not read as fast as they came)\n`,
      ));
      this.#dropped = 0;
    }
    // Wait while the reader makes progress; one that reads nothing costs one short step.
    const end = performance.now() + waitMs;
    while (this.#queued > 0 && this.#pump && performance.now() < end) {
      const before = this.#queued;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const step = Math.min(STALL_MS, end - performance.now());
      await Promise.race([this.#pump, new Promise((r) => (timer = setTimeout(r, step)))]);
      clearTimeout(timer);
      if (this.#queued === before) break;
    }
  }

  #push(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#queued += bytes.length;
    this.#write();
    if (this.#queued > 0) this.#pump ??= this.#drain();
  }

  /** Writes what fits now; false when the reader is gone (the queue is then discarded). */
  #write(): boolean {
    this.#out ??= this.open();
    while (this.#chunks.length > 0) {
      const chunk = this.#chunks[0];
      const n = this.#out.write(chunk);
      if (n < 0) {
        this.#chunks = [];
        this.#queued = 0;
        return false;
      }
      this.#queued -= n;
      if (n < chunk.length) {
        // A line is never cut: the rest of it stays first in the queue.
        this.#chunks[0] = chunk.subarray(n);
        return true;
      }
      this.#chunks.shift();
    }
    return true;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queued > 0) {
        await this.#out!.writable();
        if (!this.#write()) break;
      }
    } finally {
      this.#pump = undefined;
    }
  }
}
