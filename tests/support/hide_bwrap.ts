// tests/support/hide_bwrap.ts — this machine without bubblewrap: a command runs in a private mount
// namespace (ww's tests run as root) where each bwrap that ww's rule for finding tools could reach
// (run/host.ts: PATH, then TOOL_DIRS) is covered by /dev/null, which is not a regular file. A PATH
// without bwrap is no longer enough, since ww also looks in the standard directories.

import { findTool, TOOL_DIRS } from "../../run/host.ts";

/** A PATH with no bwrap in it (nor anything else). */
export const NO_BWRAP_PATH = "/nonexistent";

const UNSHARE = findTool("unshare") ?? "unshare";
const MOUNT = findTool("mount") ?? "mount";

const HIDE = `for f in ${
  TOOL_DIRS.map((d) => `${d}/bwrap`).join(" ")
}; do if [ -f "$f" ]; then ${MOUNT} --bind /dev/null "$f" || exit 125; fi; done; exec "$@"`;

/**
 * `argv` made to run where no bwrap can be found.
 *
 * @example
 * withoutBwrap(["/usr/bin/ls", "/usr/bin/bwrap"])[0]; // "/usr/bin/unshare"
 */
export function withoutBwrap(argv: readonly string[]): string[] {
  return [
    UNSHARE,
    "--mount",
    "--propagation",
    "private",
    "--",
    "/bin/sh",
    "-c",
    HIDE,
    "sh",
    ...argv,
  ];
}

/** For runWw's `before`: the caller becomes ww ("$@") where no bwrap can be found. */
export const HIDE_BWRAP_BEFORE = `exec ${withoutBwrap([]).map((a) => `'${a}'`).join(" ")} "$@"`;
