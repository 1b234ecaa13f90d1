// jail/bwrap_status.ts — reads what bubblewrap writes to --json-status-fd: one JSON object per
// line, `{"child-pid": N, ...}` right after it cloned the sandbox's pid 1, and `{"exit-code": N}`
// when the program has ended. Bubblewrap writes no exit-code when it fails to set up the jail or to
// exec the program, which is how ww tells its own failure from the program's exit status. Also
// what bubblewrap says on its stderr when it fails, as one line for ww's error. Pure.

export interface BwrapStatus {
  /** Host pid of the sandbox's pid 1 (ww's stage, run by bwrap --as-pid-1). */
  readonly childPid?: number;
  /** The program's exit status (128+N for signal N). */
  readonly exitCode?: number;
}

/** Folds the complete lines of `text` into `status`; returns the new status and the unread rest. */
export function readBwrapStatus(
  status: BwrapStatus,
  text: string,
): { status: BwrapStatus; rest: string } {
  const lines = text.split("\n");
  const rest = lines.pop() ?? "";
  let next = status;
  for (const line of lines) {
    if (line.trim() === "") continue;
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof doc["child-pid"] === "number") next = { ...next, childPid: doc["child-pid"] };
    if (typeof doc["exit-code"] === "number") next = { ...next, exitCode: doc["exit-code"] };
  }
  return { status: next, rest };
}

/** How the program ended, as the stage (the jail's pid 1) saw it: bwrap's exit code cannot tell. */
export type ProgramEnd = { readonly code: number } | { readonly signal: number };

/**
 * What came through bwrap's stderr: whether the stage in the jail wrote its NUL byte (bwrap's
 * set-up is done, and what ends now is the program's); bwrap's own words before it as one line:
 * its lines joined by "; ", control characters (a terminal's escapes among them) shown as `?`;
 * how the program ended, from the line the stage, the jail's pid 1, writes after a \x01 byte
 * ("exit N" or "signal N"; absent when the jail was killed); and, when the program never ran
 * (its execve, or a step the stage takes after bwrap's set-up, failed), the stage's reports of
 * it, its lines marked with a \x02 byte, as the stage's JSON lines (stage/plan.ts
 * parseStageReports). Pure.
 *
 * @example
 * bwrapStderr(new TextEncoder().encode("bwrap: Can't chdir to /x: No such file or directory\n"));
 * // { started: false, reason: "bwrap: Can't chdir to /x: No such file or directory" }
 * bwrapStderr(new TextEncoder().encode("\0\x01signal 11\n"));
 * // { started: true, reason: "", ended: { signal: 11 } }
 * bwrapStderr(new TextEncoder().encode('\0\x02{"step":"execve","errno":8}\n\x01exit 126\n'));
 * // { started: true, reason: "", ended: { code: 126 }, unstarted: '{"step":"execve","errno":8}' }
 */
export function bwrapStderr(
  bytes: Uint8Array,
): { started: boolean; reason: string; ended?: ProgramEnd; unstarted?: string } {
  const text = new TextDecoder().decode(bytes);
  const nul = text.indexOf("\0");
  const mark = text.indexOf("\x01");
  const words = [nul, mark].filter((i) => i !== -1);
  const reason = text.slice(0, Math.min(text.length, ...words))
    .split("\n").map((l) =>
      // deno-lint-ignore no-control-regex
      l.replace(/[\x00-\x1f\x7f]/g, "?").trim()
    ).filter((l) => l !== "").join("; ");
  const end = mark === -1 ? null : /^(exit|signal) (\d{1,3})\n/.exec(text.slice(mark + 1));
  const ended = end === null
    ? undefined
    : end[1] === "exit"
    ? { code: Number(end[2]) }
    : { signal: Number(end[2]) };
  // Only between the NUL and the \x01 line: bwrap's own words come before, and nothing after.
  const unstarted = nul === -1 ? [] : text.slice(nul + 1, mark === -1 ? undefined : mark)
    .split("\n").filter((l) => l.startsWith("\x02")).map((l) => l.slice(1));
  return {
    started: nul !== -1,
    reason,
    ...(ended ? { ended } : {}),
    ...(unstarted.length > 0 ? { unstarted: unstarted.join("\n") } : {}),
  };
}
