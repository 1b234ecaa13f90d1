// run/script.ts — ww's pre-launch check of a program (a local one, or one ww holds by a
// descriptor: from IPFS, a guest's): reads its first bytes and, for a #! script, looks its
// interpreter up as the jail will see it (jail/script.ts decides). Every backend then fails the
// same way, whichever program it is, before any jail is built: 127 naming a missing interpreter,
// 126 for a program named through /proc (/proc/self/exe, /dev/fd/N), a file that is neither a
// binary nor a #! script, or an ELF program for another architecture that no binfmt_misc handler
// of this machine runs, as far as ww can read them (jail/binfmt.ts).

import type { JailBackend, JailPolicy } from "../jail/policy.ts";
import {
  jailPathOnHost,
  type JailView,
  parseProgramHead,
  SHEBANG_MAX,
  shownOnHost,
} from "../jail/script.ts";
import { NotExecutableError, NotFoundError } from "../core/errors.ts";
import { hostFiles, readText } from "./host.ts";
import { mayAccess } from "./access.ts";
import { readFileHead } from "../ffi/memfd.ts";
import { passesMagicLink } from "../ffi/open.ts";
import { fileOwner, linkInfo, modeKind, readLink, X_OK } from "../ffi/stat.ts";
import { resolveGrantPath } from "../fd/grant_path.ts";
import { isWithin } from "../jail/binds.ts";
import { executableProblem, foreignMachine, HEADER_BYTES } from "../ipfs/executable.ts";
import { binfmtMatches, parseBinfmtEntry } from "../jail/binfmt.ts";

/** The kernel follows at most this many nested #! interpreters (BINPRM_MAX_RECURSION). */
const MAX_NESTED = 4;

/**
 * Throws NotExecutable (126) when `path`, the local program the user named `name`, is under /proc,
 * or a /proc magic link is on its way (/dev/stdin, /dev/fd/N), under every backend: /proc/self/exe
 * or /proc/self/fd/N is resolved by whichever process executes it, not by ww, which checked the
 * file: the stage (native), a process of bwrap's own /proc, or under --jail=none ww's child, whose
 * descriptors are laid out anew (grants from fd 4) and whose /proc/self/exe is ww's own binary.
 */
export function checkNotUnderProc(name: string, path: string): void {
  const under = isWithin(path, "/proc");
  if (!under && !(passesMagicLink(path) ?? leadsIntoProc(path))) return;
  let real = "";
  try {
    real = ` (${Deno.realPathSync(path)})`;
  } catch { /* a descriptor with no path, or gone */ }
  const where = under ? "a path under /proc" : "a link into /proc";
  throw new NotExecutableError(
    `${name}: ${where} names a file of the process that executes it, not ww's; give the program's own path${real}`,
  );
}

/**
 * Whether `path`, resolved link by link as the kernel would, reaches /proc: where openat2 cannot
 * tell passesMagicLink's answer.
 */
function leadsIntoProc(path: string): boolean {
  const resolved = resolveGrantPath(path, { lstat: linkInfo, readlink: readLink }, () => true);
  if ("procLink" in resolved) return true;
  return "path" in resolved && (resolved.kernelLinks || isWithin(resolved.path, "/proc"));
}

/** An interpreter a #! line names: as the line has it, and the host file the run executes. */
export interface Interpreter {
  /** The path on the #! line: where the jail shows it. */
  readonly named: string;
  /** Its real path on the host: the file the jail shows there (its bind's, or the system's). */
  readonly host: string;
}

/**
 * Throws NotFound (127) or NotExecutable (126) when `path` (the resolved local program, named
 * `name` by the user) cannot run under `backend` because of what it is or what its #! line names;
 * returns the interpreters its #! lines name, outermost first (none for a binary), for the checks
 * a jail's own user needs (run/jail_checks.ts): execute bits are checked here for ww's ids.
 */
export function checkProgramFile(
  name: string,
  path: string,
  backend: Exclude<JailBackend, "auto">,
  policy: JailPolicy,
): Interpreter[] {
  const interpreters: Interpreter[] = [];
  // Gathered only for a #! script: a binary, most programs, needs no view, and gathering the
  // system directories here cost a jailed run ~0.5-1 ms (the launcher gathers them again).
  let gathered: JailView | undefined;
  const jailView = (): JailView | undefined =>
    backend === "none" ? undefined : gathered ??= {
      system: hostFiles(false).system,
      binds: [...policy.readOnlyBinds, ...policy.writableBinds],
    };
  let file = path;
  for (let depth = 0; depth <= MAX_NESTED; depth++) {
    const head = readFileHead(file, SHEBANG_MAX);
    if (head === undefined) return interpreters; // unreadable to ww (execute-only): execve decides
    const kind = parseProgramHead(head);
    if (kind.kind === "elf") {
      // Built for another architecture: no backend runs it unless a binfmt_misc handler does
      // (qemu-user), and --explain says so as the run does. Where ww cannot tell, execve does.
      const foreign = foreignMachine(head);
      if (foreign !== undefined && !binfmtMayRun(head)) {
        const which = depth === 0 ? "" : `its interpreter ${file} (from a #! line) `;
        throw new NotExecutableError(`${name}: ${which}cannot execute: it ${foreign}`);
      }
      return interpreters;
    }
    if (kind.kind === "other") {
      throw new NotExecutableError(
        `${name}: neither a binary nor a #! script, so it cannot be executed (add a #! line, e.g. #!/bin/sh, or run it with its interpreter)`,
      );
    }
    if (kind.kind === "bad-script") throw new NotExecutableError(`${name}: ${kind.reason}`);
    const interp = kind.interpreter;
    const what = `${name}: its interpreter ${interp} (from the #! line)`;
    if (!interp.startsWith("/")) {
      throw new NotFoundError(
        `${what} is not an absolute path, so it is looked up in the jail's work directory (write #!/usr/bin/env ... or the full path)`,
      );
    }
    const view = jailView();
    const onHost = view ? jailPathOnHost(interp, view) : interp;
    const real = onHost === undefined ? undefined : realPath(onHost);
    if (real === undefined || (view && !shownOnHost(real, view))) {
      // What the host has there decides first: a file that could never run gets no advice to
      // show it to the jail, and fails as it does unjailed (126).
      const own = realPath(interp);
      if (own === undefined) {
        // `#!/bin/sh\r`: the kernel keeps the carriage return of a Windows line ending as part of
        // the name, so the interpreter is never found; the fix is the file's line endings.
        throw new NotFoundError(
          interp.endsWith("\r")
            ? `${what} does not exist: the line ends in a carriage return, as a file with Windows line endings does (convert its line endings, e.g. with dos2unix or sed -i 's/\\r$//')`
            : `${what} does not exist (install it, or fix the #! line)`,
        );
      }
      checkExecutableFile(own, what);
      const notShown =
        `${what} exists on this machine but not in the jail, which shows the system directories and the binds`;
      throw new NotFoundError(
        `${notShown} (show it with jail.readOnlyBinds [{ source: "${interp}", dest: "${interp}" }])`,
        { commandLine: `${notShown} (show it with --ro-bind ${interp})` },
      );
    }
    checkExecutableFile(real, what);
    interpreters.push({ named: interp, host: real });
    file = real;
  }
  throw new NotExecutableError(
    `${name}: more than ${MAX_NESTED} nested #! interpreters (point a #! line at a binary, as the kernel follows no more)`,
  );
}

/**
 * Throws NotExecutable (126), `what` said, unless `real` is a regular file ww may execute (its
 * effective ids and every supplementary group counted, as the kernel counts them).
 */
function checkExecutableFile(real: string, what: string): void {
  const info = fileOwner(real);
  const isFile = info !== undefined && modeKind(info.mode) === "file";
  if (!isFile || !mayAccess(real, info, X_OK, "ww")) {
    // A directory, say, is no file to chmod.
    const fix = isFile
      ? `fix the #! line, or make it executable: chmod +x ${real}`
      : "fix the #! line";
    throw new NotExecutableError(`${what} is not an executable file (${fix})`);
  }
}

function realPath(path: string): string | undefined {
  try {
    return Deno.realPathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Why execve refused the program at `path` as a format it cannot load (ENOEXEC), from its first
 * bytes: an ELF program for another machine, say. (A #! line, or an ELF header at all, is checked
 * before the run: checkProgramFile.)
 *
 * @example
 * unloadableWhy("./arm"); // "it is an ELF program for aarch64, but this machine is x86_64"
 */
export function unloadableWhy(path: string | undefined): string {
  const head = path === undefined ? undefined : readFileHead(path, HEADER_BYTES);
  const problem = head && executableProblem(head);
  if (problem) return `it ${problem}`;
  return head && parseProgramHead(head).kind === "elf"
    ? "an ELF program for this machine that the kernel cannot load: cut short, or damaged?"
    : "not a binary, and no #! line";
}

/** Where the kernel shows its binfmt_misc handlers, one file each beside `status` and `register`. */
const BINFMT_DIR = "/proc/sys/fs/binfmt_misc";

/**
 * Whether a binfmt_misc handler may run a file starting with `head`: one that is enabled takes it,
 * or ww cannot tell. The handlers are the kernel's (per user namespace since Linux 6.7), not the
 * file system's that shows them: a container, or a host that never mounted it, runs qemu-user's
 * programs with none shown, so only a list ww could read, and that has none for this file, is
 * an answer.
 */
function binfmtMayRun(head: Uint8Array): boolean {
  const status = readText(`${BINFMT_DIR}/status`)?.trim();
  if (status === undefined) return true;
  if (status !== "enabled") return false;
  let names: string[];
  try {
    names = [...Deno.readDirSync(BINFMT_DIR)].map((e) => e.name);
  } catch {
    return true;
  }
  return names.filter((n) => n !== "status" && n !== "register").some((n) => {
    const text = readText(`${BINFMT_DIR}/${n}`);
    if (text === undefined) return true;
    const handler = parseBinfmtEntry(text);
    return handler !== undefined && binfmtMatches(handler, head);
  });
}
