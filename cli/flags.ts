// cli/flags.ts — `ww run` arguments to a RunConfig. Pure: the caller's environment comes in as a
// value. Flags end at the program; everything after it belongs to the program. Which flags exist
// and what each sets is cli/flag_table.ts; this module walks the arguments and checks the whole.

import { ownGrantsProblem, socketActivationProblem } from "../fd/grants.ts";
import type { JailPolicy } from "../jail/policy.ts";
import { chooseIpfsApi, ipfsApiUrl } from "../ipfs/multiaddr.ts";
import { type Flag, FLAGS, looksLikeProgram, newFlagState, type ValueFlag } from "./flag_table.ts";
import { type TerminalFacts, wantsTty } from "./tty.ts";
import {
  hostFdVariableProblem,
  type RunConfig,
  unbackedFdVariableProblem,
} from "../core/config.ts";
import { UsageError } from "../core/errors.ts";
import { isIpfsPath } from "../core/ipfs_path.ts";
import { flagValue } from "../core/escape.ts";
import type { HostGrants } from "../rpc/types.ts";

/** What `ww run` was asked to do, beyond the RunConfig. */
export interface RunCommand {
  readonly config: RunConfig;
  readonly debug: boolean;
  readonly help: boolean;
  /** Print the plan instead of running. */
  readonly explain: boolean;
  /** What the host capability on fd 3 offers (--with-console, --with-ipfs, --with-exec). */
  readonly grants: HostGrants;
  /** --deno: the program is a Deno guest's entry file, bundled and run by deno in the jail. */
  readonly deno: boolean;
}

/**
 * The flag `name` names (its name or its alias). A search, not a Map built when the module loads:
 * that cost every run ~0.3-0.7 ms (flatMap's first use), for a few look-ups in ~30 rows.
 */
function flagNamed(name: string): Flag | undefined {
  return FLAGS.find((f) => f.name === name || f.alias === name);
}

/**
 * Whether `arg` is a flag of `ww run` (`--debug`, `--env=A=1`): given before the command, as
 * `ww --debug run ...`, it is named as the run flag it is.
 *
 * @example
 * isRunFlag("--jail=none"); // true
 */
export function isRunFlag(arg: string): boolean {
  return flagNamed(arg.startsWith("--") ? arg.split("=")[0] : arg) !== undefined;
}

/**
 * Whether a run can reach the IPFS node: its program is from IPFS, or the guest holds the ipfs
 * grant (--with-ipfs). Only then is the Kubo API file read: a local program without the grant
 * never asks the node anything, and reading the file cost every run a file open.
 *
 * @example
 * usesIpfsNode("/bin/true", { console: false, ipfs: false, exec: false }); // false
 */
export function usesIpfsNode(program: string | undefined, grants: HostGrants): boolean {
  return grants.ipfs || (program !== undefined && isIpfsPath(program));
}

/** Whether `env[key]` reads without throwing (run/caller_env.ts callerEnvironment). */
function readable(env: Readonly<Record<string, string>>, key: string): boolean {
  try {
    Reflect.get(env, key);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses the arguments after `ww run`. `host` brings what the shell reads for it: a reader of
 * $IPFS_PATH/api (see ipfsApiFile), called only when neither --ipfs nor WW_IPFS names the node and
 * the run can use the node (see usesIpfsNode), a reader for --env-file (which throws, as Deno.readTextFileSync does, when it cannot), and
 * whether ww's stdin and stdout are terminals (see wantsTty). `cwd` is the caller's current
 * directory, or a function that gives it, asked only for a relative path (the command line's
 * throws when the directory's path is not UTF-8 text).
 *
 * @example
 * parseRunArgs(["--with-fd", "db=3", "/bin/app", "-x"], {}, "/").config.fds;
 * // [{ name: "db", source: 3 }]
 */
export function parseRunArgs(
  argv: readonly string[],
  callerEnv: Readonly<Record<string, string>>,
  cwd: string | (() => string),
  host: {
    readonly ipfsApiFile?: () => { readonly path: string; readonly text: string } | undefined;
    readonly readFile?: (path: string) => string;
    /** Whether the caller's environment holds `key` with a value that is not UTF-8 text. */
    readonly callerEnvNotText?: (key: string) => boolean;
    /** Whether ww's stdin and stdout are terminals; neither when absent. */
    readonly terminal?: TerminalFacts;
  } = {},
): RunCommand {
  const s = newFlagState();
  const context = {
    callerEnv,
    cwd: typeof cwd === "string" ? () => cwd : cwd,
    readFile: host.readFile,
    callerEnvNotText: host.callerEnvNotText,
  };

  // The flag that took the argument before this one as its value (`--ro-bind /bin/sh`).
  let took: TakenValue | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const before = took;
    took = undefined;
    const arg = argv[i];
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    // Only a long flag takes `=value`: `-e=x` is no flag at all.
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const flag = flagNamed(name);
    if (!flag) {
      // `-e=A=1`, or docker's `-eA=1`: a short flag that takes a value, with the value attached.
      const short = arg.startsWith("--") ? undefined : arg.slice(0, 2);
      if (short !== undefined && flagNamed(short)?.value !== undefined) {
        throw new UsageError(
          `${arg}: a short flag takes its value as the next argument (${short} ${
            arg.slice(arg[2] === "=" ? 3 : 2)
          })`,
        );
      }
      const near = nearestFlag(name);
      // `--=x` is no flag named `--`.
      throw new UsageError(
        `unknown flag ${name === "--" ? arg : name} ${
          before && looksLikeProgram(before.value)
            ? forgottenValue(before)
            : near
            ? `(did you mean ${near}? see ww run --help)`
            : "(see ww run --help)"
        }`,
      );
    }
    if (flag.value === undefined) {
      if (name !== arg) throw new UsageError(`${name} takes no value (got ${arg})`);
      flag.set(s);
      continue;
    }
    if (name !== arg) {
      flag.set(s, arg.slice(eq + 1), context);
      continue;
    }
    if (i + 1 >= argv.length) throw new UsageError(`${name} needs a value (see ww run --help)`);
    took = { name, flag, value: argv[++i] };
    const swallowed = swallowedFlag(took);
    if (swallowed) throw new UsageError(swallowed);
    try {
      flag.set(s, took.value, context);
    } catch (e) {
      if (!(e instanceof UsageError) || !swallowedProgram(took.value, argv[i + 1])) throw e;
      throw new UsageError(`${e.message} ${forgottenValue(took)}`);
    }
  }

  const [program, ...args] = argv.slice(i);
  const { fds, own, env, debug, help, explain, grants, deno } = s;
  const jail: JailPolicy = {
    backend: s.backend,
    net: s.net,
    readOnlyBinds: s.readOnlyBinds,
    writableBinds: s.writableBinds,
    limits: s.limits,
    timeoutMs: s.timeoutMs,
    ...(s.chdir !== undefined ? { chdir: s.chdir } : {}),
    ...s.ids,
    ...(s.allowWeakerJail ? { allowWeakerJail: true } : {}),
  };
  // A WW_IPFS that cannot be read (not UTF-8 text: run/caller_env.ts) stops only a run that may
  // reach the node (a program it starts may be from IPFS too); the others go on without it.
  const mayReachNode = usesIpfsNode(program, grants) || grants.exec;
  const address = chooseIpfsApi(
    s.ipfsFlag,
    mayReachNode || readable(callerEnv, "WW_IPFS") ? callerEnv : {},
    usesIpfsNode(program, grants) ? host.ipfsApiFile : undefined,
  );
  if ("error" in address) throw new UsageError(address.error);
  const { api: ipfsApi, origin: ipfsApiOrigin } = address;
  const config = {
    program: program ?? "",
    args,
    fds,
    ...(own.length ? { own } : {}),
    ...(s.socketActivation ? { socketActivation: true } : {}),
    env,
    ipfsApi,
    ipfsApiOrigin,
    ...(s.ipfsTimeoutMs !== undefined ? { ipfsTimeoutMs: s.ipfsTimeoutMs } : {}),
    ...(s.trustNodeIpns ? { trustNodeIpns: true } : {}),
    jail,
    tty: wantsTty(s.tty, host.terminal ?? { stdin: false, stdout: false }),
  };
  if (help) return { config, debug, help, explain, grants, deno };
  const ownProblem = ownGrantsProblem(own, fds);
  if (ownProblem) throw new UsageError(ownProblem);
  const activationProblem = socketActivationProblem(own, s.socketActivation);
  if (activationProblem) throw new UsageError(activationProblem);
  // Checked again by startProgram, which cannot tell --env from --env-file.
  const names = [...fds, ...own].map((g) => g.name);
  const envProblem = unbackedFdVariableProblem(env, names, "commandLine", s.envFrom) ??
    hostFdVariableProblem(env, s.socketActivation, "commandLine", s.envFrom);
  if (envProblem) throw new UsageError(envProblem);
  if (program === undefined) {
    throw new UsageError(
      `missing <binary> ${
        took && looksLikeProgram(took.value)
          ? forgottenValue(took)
          : "(usage: ww run [flags] <binary> [args...])"
      }`,
    );
  }
  if (program === "") throw new UsageError("the program name is empty");
  if ([program, ...args].some((a) => a.includes("\0"))) {
    throw new UsageError("an argument contains a NUL byte, which execve cannot pass");
  }
  // The default address needs no check (ipfs/multiaddr_test.ts parses it), and most runs use it:
  // checking it costs them the compilation of the parser's regular expressions. --ipfs was
  // checked as it was read; WW_IPFS is checked only for a run that uses the node: a variable set
  // for other runs is no reason to refuse a local program.
  const unused = ipfsApiOrigin === "default" || !usesIpfsNode(program, grants);
  const chosen = unused ? { url: "" } : ipfsApiUrl(ipfsApi);
  if ("error" in chosen) {
    throw new UsageError(
      `${
        ipfsApiOrigin === "WW_IPFS" ? "WW_IPFS" : `the IPFS address in ${ipfsApiOrigin}`
      } ${chosen.error}`,
    );
  }
  if (deno && isIpfsPath(program)) {
    throw new UsageError(
      `--deno ${program}: a Deno guest is a local file (a program from IPFS is run as is)`,
    );
  }
  return { config, debug, help, explain, grants, deno };
}

/** A flag that took the next argument as its value: `--ro-bind /bin/sh` (not `--ro-bind=/bin/sh`). */
interface TakenValue {
  /** As typed: `-e` or `--env`. */
  readonly name: string;
  readonly flag: ValueFlag;
  readonly value: string;
}

/**
 * Whether a flag whose value was refused took what came after the flags for it: a flag or `--`
 * (`--env --`), the program when nothing follows it (`--env /bin/true`), or a value followed by
 * what only a program takes (`--memory python3 -c ...`: an argument with a dash that is no flag
 * of ww's). A path followed by the program is a path-taking flag's bad value, not a forgotten one.
 *
 * @example
 * swallowedProgram("python3", "-c"); // true
 * swallowedProgram("/", "/bin/app"); // false
 */
function swallowedProgram(value: string, next: string | undefined): boolean {
  if (next === undefined || /^-\D/.test(value)) return looksLikeProgram(value);
  return /^-[^-]|^--./.test(next) && !isRunFlag(next);
}

/**
 * The refusal of a value that is one of ww's flags, or `--`, taken as the value of the flag before
 * it (`--ro-bind --net /bin/sh`): its value was forgotten. A path so named is still given as
 * `./--net`; taken as it was, it was a bind of a file no one meant.
 *
 * @example
 * swallowedFlag({ name: "--ro-bind", flag: RO_BIND, value: "--net" });
 * // "--ro-bind took --net, a flag of ww's, as its value (a value forgotten? give --ro-bind
 * //  <src>[:<dst>], then the program; a path so named is ./--net)"
 */
function swallowedFlag(took: TakenValue): string | undefined {
  const { name, flag, value } = took;
  const what = value === "--" ? "the end of ww's flags" : isRunFlag(value) ? "a flag of ww's" : "";
  if (!what) return undefined;
  const path = /FILE|DIR|PATH|<src>/.test(flag.value) ? `; a path so named is ./${value}` : "";
  return `${name} took ${value}, ${what}, as its value (a value forgotten? give ${name} ${flag.value}, then the program${path})`;
}

/**
 * What a refusal adds when a flag's value was probably forgotten, so that the flag took what came
 * next (the program, or `--`) as its value and left the rest to be read as flags, or no program:
 * the one rule for every flag that takes a value.
 *
 * @example
 * forgottenValue({ name: "--ro-bind", flag: RO_BIND, value: "/bin/sh" });
 * // "(a value forgotten? --ro-bind took /bin/sh as its value; give --ro-bind <src>[:<dst>], then the program)"
 */
function forgottenValue(took: TakenValue): string {
  return `(a value forgotten? ${took.name} took ${
    flagValue(took.value)
  } as its value; give ${took.name} ${took.flag.value}, then the program)`;
}

/**
 * The flag an unknown long flag was most likely meant to be (`--with-fdd`, `--with_fd`, `--jial`,
 * `--envfile`; see nearestWord), or undefined.
 */
function nearestFlag(name: string): string | undefined {
  if (!name.startsWith("--") || name.length < 4) return undefined;
  return nearestWord(name, FLAGS.map((f) => f.name));
}

/**
 * The word of `words` that `typed` was most likely meant to be: the one fewest edits away
 * (insertions, deletions, substitutions, swaps of two neighbours), at most one edit for a word of
 * up to five letters past its dashes and two for a longer one; undefined when none is that near.
 *
 * @example
 * nearestWord("--jial", ["--jail", "--net"]); // "--jail"
 * nearestWord("rnu", ["run", "cache", "doctor"]); // "run"
 * nearestWord("frobnicate", ["run", "cache", "doctor"]); // undefined
 */
export function nearestWord(typed: string, words: readonly string[]): string | undefined {
  const most = typed.replace(/^-+/, "").length >= 6 ? 2 : 1;
  let best: { word: string; distance: number } | undefined;
  for (const word of words) {
    const distance = editDistance(typed, word);
    if (distance <= most && (best === undefined || distance < best.distance)) {
      best = { word, distance };
    }
  }
  return best?.word;
}

/** Optimal string alignment distance: Levenshtein's, with a swap of two neighbours one edit. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * Whether `ww run`'s arguments (`argv`, after "run") ask for --debug among the flags, for a
 * failure before (or during) their parsing: a flag's value, `--ipfs URL`, is skipped, not taken
 * for the program.
 *
 * @example
 * debugRequested(["--ipfs", "http://h:5001", "--debug", "app"]); // true
 * debugRequested(["app", "--debug"]); // false: the program's own argument
 */
export function debugRequested(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--debug") return true;
    if (arg === "--" || arg === "-" || !arg.startsWith("-")) return false;
    const eq = arg.indexOf("=");
    const flag = flagNamed(arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg);
    if (flag?.value !== undefined && eq < 0) i++;
  }
  return false;
}
