// rpc/sink.ts — hands ww's own lines about a guest's connection to a caller's sink
// (HostServices.stderr), which may be any function: one that throws or rejects loses the line, and
// nothing else (the run goes on, and no rejection is left unhandled to end Deno).

/**
 * Gives `line` to `sink` without waiting for it; whatever the sink throws or rejects with is
 * dropped with the line.
 *
 * @example
 * sendLine((line) => Promise.reject(new Error(line)), "ww: app: lost"); // no rejection escapes
 */
export function sendLine(sink: (line: string) => unknown, line: string): void {
  try {
    Promise.resolve(sink(line)).catch(() => {});
  } catch { /* lost with the sink */ }
}
