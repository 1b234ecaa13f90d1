/**
 * What a local program is, from its first bytes, and whether a `#!` script's interpreter is there
 * as the jail will see it. ww checks this before it starts a jail, so that every backend gives the
 * same answer: a missing interpreter is named (exit 127) rather than reported by env(1) or as a
 * bare ENOENT, and a file that is neither an ELF binary nor a `#!` script is refused (exit 126)
 * rather than run by a shell under one backend and refused under the other. Pure: run/script.ts
 * reads the file and stats the interpreter.
 *
 * @module
 */

import type { Bind } from "./policy.ts";
import type { SystemEntry } from "./system_files.ts";
import { topAt } from "./binds.ts";

/** The kernel reads at most this many bytes of a `#!` line (BINPRM_BUF_SIZE, linux/binfmts.h). */
export const SHEBANG_MAX = 256;

/** What the first bytes of a program say it is. */
export type ProgramHead =
  | { readonly kind: "elf" }
  | { readonly kind: "script"; readonly interpreter: string }
  | { readonly kind: "bad-script"; readonly reason: string }
  | { readonly kind: "other" };

/**
 * Classifies a program by its first bytes (at least SHEBANG_MAX of them, or the whole file), as
 * execve(2) would: ELF, a `#!` script and its interpreter, or something execve refuses (ENOEXEC).
 *
 * @example
 * parseProgramHead(new TextEncoder().encode("#!/bin/sh -e\necho hi\n"));
 * // { kind: "script", interpreter: "/bin/sh" }
 */
export function parseProgramHead(head: Uint8Array): ProgramHead {
  if (head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) {
    return { kind: "elf" };
  }
  if (head[0] !== 0x23 || head[1] !== 0x21) return { kind: "other" };
  const bytes = head.subarray(2, SHEBANG_MAX);
  const newline = bytes.indexOf(0x0a);
  // Since Linux 5.0, a #! line that does not end within the buffer is refused when the
  // interpreter's name itself is cut (fs/binfmt_script.c).
  const line = new TextDecoder().decode(newline < 0 ? bytes : bytes.subarray(0, newline));
  const interpreter = /^[ \t]*([^ \t\0]*)/.exec(line)?.[1] ?? "";
  if (interpreter === "") {
    return {
      kind: "bad-script",
      reason: "its #! line names no interpreter (write its absolute path after #!, e.g. #!/bin/sh)",
    };
  }
  if (newline < 0 && head.length >= SHEBANG_MAX && /^[ \t]*[^ \t]*$/.test(line)) {
    return {
      kind: "bad-script",
      reason:
        `its #! line is longer than the kernel reads (${SHEBANG_MAX} bytes; shorten it, e.g. with #!/usr/bin/env NAME)`,
    };
  }
  return { kind: "script", interpreter };
}

/** What the jail shows of the host's file system, as far as interpreters go. */
export interface JailView {
  /** SYSTEM_DIRS entries as the host has them (run/host.ts hostFiles). */
  readonly system: readonly SystemEntry[];
  /** The --ro-bind and --bind binds. */
  readonly binds: readonly Bind[];
}

/**
 * The host path the jail shows at `path`, or undefined when the jail shows nothing there: a bind
 * (the innermost destination wins), a system directory, or a system symlink followed (the jail
 * makes the same symlinks, e.g. /bin -> usr/bin on a merged-/usr host).
 *
 * @example
 * jailPathOnHost("/bin/sh", { system: [{ path: "/usr", kind: "dir" },
 *   { path: "/bin", kind: "symlink", target: "usr/bin" }], binds: [] });
 * // "/usr/bin/sh"
 */
export function jailPathOnHost(path: string, view: JailView, depth = 0): string | undefined {
  const under = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);
  const bind = topAt(path, view.binds);
  if (bind) return bind.source + path.slice(bind.dest.length);
  for (const e of view.system) {
    if (!under(path, e.path)) continue;
    if (e.kind === "dir") return path;
    if (depth >= 8) return undefined;
    const target = e.target.startsWith("/") ? e.target : `/${e.target}`;
    return jailPathOnHost(target + path.slice(e.path.length), view, depth + 1);
  }
  return undefined;
}

/**
 * Whether a host file (its real path, every symlink resolved) lies where the jail shows host
 * files: in a system directory or a bind's source. A symlink that leads out of them (say
 * /usr/bin/node -> /opt/node/bin/node) is dangling in the jail.
 */
export function shownOnHost(realPath: string, view: JailView): boolean {
  const under = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);
  return view.system.some((e) => e.kind === "dir" && under(realPath, e.path)) ||
    view.binds.some((b) => under(realPath, b.source));
}
