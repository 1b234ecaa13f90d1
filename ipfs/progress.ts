// ipfs/progress.ts — the progress line on stderr while a program is fetched: bytes so far, total,
// rate. Shown only on a terminal and only once a fetch has taken more than a moment, so quick and
// scripted runs print nothing.

import { escapeText } from "../core/escape.ts";

/** How long a fetch runs before the line appears. */
const DELAY_MS = 500;
/** How often the line is redrawn. */
const REDRAW_MS = 100;

/**
 * One progress line, e.g. `app  [#####.....]  12.0 MiB / 32.0 MiB  40.1 MiB/s`. Pure.
 *
 * @example
 * renderProgress("app", 12 * 2 ** 20, 32 * 2 ** 20, 300); // "app  [######..." + "  40.0 MiB/s"
 */
export function renderProgress(
  label: string,
  done: number,
  total: number,
  elapsedMs: number,
): string {
  const width = 20;
  const filled = total > 0 ? Math.min(width, Math.floor((done / total) * width)) : 0;
  const rate = elapsedMs > 0 ? (done / elapsedMs) * 1000 : 0;
  return `${label}  [${"#".repeat(filled)}${".".repeat(width - filled)}]  ${formatBytes(done)} / ${
    formatBytes(total)
  }  ${formatBytes(rate)}/s`;
}

/** 1536 -> "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(n)} B` : `${n.toFixed(1)} ${units[i]}`;
}

/**
 * Where ww's lines about a fetch go while a program runs (one a guest starts): ww's queue of
 * lines, which never blocks; no progress line is drawn then, on the program's terminal.
 */
export type Notices = (line: string) => void;

/**
 * Writes `line` (escaped: it may hold a path from a guest) on stderr when stderr is a terminal, in
 * place of any progress line, or to `notices` when given; nothing otherwise, so scripted runs
 * print nothing.
 */
export function stderrNotice(line: string, notices?: Notices): void {
  if (!Deno.stderr.isTerminal()) return;
  if (notices) return notices(escapeText(line));
  Deno.stderr.writeSync(new TextEncoder().encode(`\r\x1b[K${escapeText(line)}\n`));
}

/** A progress line for one fetch; `update` as bytes arrive, `done` at the end. */
export interface Progress {
  update(done: number): void;
  done(): void;
}

/**
 * A Progress drawn on stderr when it is a terminal and no program runs there (`quiet`: a fetch a
 * guest started, whose program has the terminal), and one that does nothing otherwise.
 */
export function stderrProgress(label: string, total: number, quiet = false): Progress {
  if (quiet || !Deno.stderr.isTerminal()) return { update() {}, done() {} };
  const start = performance.now();
  const encoder = new TextEncoder();
  let last = 0;
  let shown = false;
  // The label is a path that may come from a guest (Executor.start): escaped, it cannot draw.
  const safe = escapeText(label);
  const draw = (text: string) => Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${text}`));
  return {
    update(done) {
      const now = performance.now();
      if (now - start < DELAY_MS || now - last < REDRAW_MS) return;
      last = now;
      shown = true;
      draw(renderProgress(safe, done, total, now - start));
    },
    done() {
      if (shown) draw("");
    },
  };
}
