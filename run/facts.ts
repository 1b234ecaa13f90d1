// run/facts.ts — the host facts a run's plan (plan/run.ts) is computed from, gathered in one
// place for the launchers (run/launch_*.ts) and for --explain (run/explain_program.ts), so that
// both plan from the same facts: the program's real path, ww's ids, bwrap's path and the host's
// files (bwrapFacts), which bind sources exist (directFacts); the native jail's are run/native.ts
// nativeFacts, loaded only for it.

import { cwdProblem } from "./directory.ts";
import type { BackendChoice } from "../jail/auto.ts";
import type { HeldProgram } from "../jail/held.ts";
import type { RunConfig } from "../core/config.ts";
import type { BwrapFacts, DirectFacts, PlannedProgram, RunFacts } from "../plan/run.ts";
import { findBwrap, hostFiles, whyAbsent } from "./host.ts";
import { HOST_FS } from "./resolve.ts";
import { trustedPath, UntrustedLinkError } from "./trusted_path.ts";
import { SyscallError } from "../ffi/libc.ts";
import { isWithin, ownPartProblem } from "../jail/binds.ts";

/**
 * Bind source `source`'s host path with its links resolved, following only links that root owns
 * (run/trusted_path.ts); why it is refused otherwise (a link of another user, one of /proc's own,
 * a loop); undefined when absent. Whoever could write a source's directory (another jail given it
 * with --bind) planted a link to anything its owner's jail could not reach, and a jail with that
 * bind was shown it.
 */
export function bindSourceReal(source: string): string | { readonly why: string } | undefined {
  let path: string;
  try {
    const trusted = trustedPath(source);
    // Through /proc/self (/etc/mtab, /dev/stdin): ww's own, not the jail's.
    if (trusted.kernelLinks || isWithin(trusted.path, "/proc")) {
      return { why: ownPartProblem("/proc") };
    }
    path = trusted.path;
  } catch (e) {
    if (e instanceof UntrustedLinkError) return { why: e.message };
    if (e instanceof SyscallError) return { why: whyAbsent(source) }; // a loop, in its words
    throw e;
  }
  // No link is left on it to resolve: whether it exists is all that is asked here (ww opens it,
  // refusing any link, before a jail gets it).
  return HOST_FS.realPath(path) === undefined ? undefined : path;
}

/** The program as a launcher or --explain has it. */
export interface ProgramToPlan {
  /** Where the jail shows it (a held program's jail path), or the local path found. */
  readonly path: string;
  readonly argv0: string;
  /** The host file of a held program a jailed program started (run/view.ts). */
  readonly source?: string;
  readonly held?: Pick<HeldProgram, "sealed" | "script">;
}

/**
 * The facts every backend's plan takes: the program's real path (a program run by path must
 * exist: Deno.errors.NotFound otherwise), and ww's own ids; the backend's own are added by the
 * caller (bwrapFacts, run/native.ts nativeFacts).
 */
export function runFacts(o: {
  readonly config: RunConfig;
  readonly choice: BackendChoice;
  readonly program: ProgramToPlan;
  readonly leased: number | undefined;
  readonly workdir: string;
  readonly controllingTerminal: boolean;
}): RunFacts {
  const source = o.program.held
    ? o.program.source
    : Deno.realPathSync(o.program.source ?? o.program.path);
  const program: PlannedProgram = {
    path: o.program.path,
    argv0: o.program.argv0,
    ...(source !== undefined ? { source } : {}),
    ...(o.program.held ? { held: o.program.held } : {}),
  };
  return {
    config: o.config,
    choice: o.choice,
    program,
    wwUid: Deno.uid() ?? 0,
    wwPid: Deno.pid,
    ...(o.leased !== undefined ? { leased: o.leased } : {}),
    workdir: o.workdir,
    controllingTerminal: o.controllingTerminal,
  };
}

/** What bwrap's plan needs of this host: bwrap itself, the system's files, real paths. */
export function bwrapFacts(config: RunConfig): BwrapFacts {
  return {
    path: findBwrap(),
    host: hostFiles(config.jail.net),
    realOf: HOST_FS.realPath,
    linksOn,
    dirProblem: cwdProblem,
    whyAbsent,
    bindSource: bindSourceReal,
  };
}

/** What the plan of a run with no jail needs of this host: which bind sources exist. */
export function directFacts(): DirectFacts {
  return {
    exists: (path) => {
      try {
        Deno.statSync(path);
        return true;
      } catch {
        return false;
      }
    },
    whyAbsent,
  };
}

/** The most symbolic links one path resolution follows (the kernel's MAXSYMLINKS). */
const MAX_LINKS = 40;

/**
 * The host paths of the symbolic links that resolving absolute `path` follows, in the order the
 * kernel meets them (BwrapFacts.linksOn); undefined when a part is missing or they loop.
 */
function linksOn(path: string): string[] | undefined {
  const links: string[] = [];
  let rest = path.split("/").filter(Boolean);
  let done = "";
  while (rest.length > 0) {
    const part = rest.shift()!;
    if (part === ".") continue;
    if (part === "..") {
      done = done.slice(0, done.lastIndexOf("/"));
      continue;
    }
    const next = `${done}/${part}`;
    let target: string;
    try {
      if (!Deno.lstatSync(next).isSymlink) {
        done = next;
        continue;
      }
      target = Deno.readLinkSync(next);
    } catch {
      return undefined;
    }
    if (links.push(next) > MAX_LINKS) return undefined;
    if (target.startsWith("/")) done = "";
    rest = [...target.split("/").filter(Boolean), ...rest];
  }
  return links;
}
