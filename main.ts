// main.ts — the `ww` command line: parses arguments, calls the library, forwards signals, and maps
// errors to exit codes. No logic of its own.

import denoJson from "./deno.json" with { type: "json" };
import { debugRequested, isRunFlag, nearestWord, parseRunArgs } from "./cli/flags.ts";
import { usageText } from "./cli/help.ts";
import { apiFileProblem, ipfsApiFile } from "./ipfs/multiaddr.ts";
import {
  EXIT,
  InterruptedError,
  osWhy,
  TimedOutError,
  UsageError,
  WwError,
} from "./core/errors.ts";
import { clipMiddle, clipText, flagValue, oneLine } from "./core/escape.ts";
import { environHolds, firstNonUtf8Argument } from "./cli/argv_text.ts";
import {
  forwardSignals,
  type SignalName,
  SIGNALS,
  STOP_SIGNALS,
  stopWithProgram,
} from "./run/signals.ts";
import { checkInherited, type Child, startProgram, startRun } from "./run/start.ts";
import { picksPort } from "./fd/grants.ts";
import { execService, ipfsServiceFor, serveGuest, vatLimitsFor } from "./rpc/serve.ts";
import { lazyImport } from "./core/lazy.ts";
import type { HostGrants } from "./rpc/types.ts";
import type { RunConfig } from "./core/config.ts";
import { DEFAULT_LIMITS } from "./jail/policy.ts";
import { openNonblockingOut } from "./ffi/nonblocking_out.ts";
import { stderrQueue } from "./run/stderr.ts";
import { shutDenoInspector } from "./run/inspector_port.ts";
import { readTextAtMost } from "./run/host.ts";
import { inForeground } from "./ffi/tty.ts";
import type { TerminalFacts } from "./cli/tty.ts";
import { trustedPath } from "./run/trusted_path.ts";
import { outOfDescriptors } from "./run/out_of_descriptors.ts";
import { failWritesPastFileSizeLimit, overFileSizeLimit } from "./run/file_size_limit.ts";
import { exitingThroughOwnExit, runExitHooks } from "./run/exit_hooks.ts";
import { callerCwd, callerEnvironment } from "./run/caller_env.ts";

/** The largest --env-file ww reads. */
const ENV_FILE_MAX = 1 << 20;

/**
 * Every line ww writes to stderr once it runs a program: never a blocking write, which would
 * stop the timeout, signal forwarding and RPC while a pipe nobody reads is full.
 */
const stderr = stderrQueue(() => openNonblockingOut(2));

/**
 * Writes `text` and a newline to ww's stdout. A stdout that takes no more (a full disk) is one
 * line saying so, not an internal error. (Deno's console drops a write to a pipe nobody reads.)
 */
function printOut(text: string): void {
  try {
    console.log(text);
  } catch (e) {
    // Deno's words, "No space left on device (os error 28)", with the errno's name for the number.
    const code = (e as { code?: unknown }).code;
    const why = (e instanceof Error ? e.message : String(e)).replace(/ \(os error \d+\)$/, "");
    throw new WwError(
      `cannot write to stdout: ${why}${typeof code === "string" ? ` (${code})` : ""}`,
      EXIT.usage,
    );
  }
}

/** What ww's stdin and stdout are: terminals, and ww in their foreground (cli/tty.ts). */
function callerTerminal(): TerminalFacts {
  const stdin = Deno.stdin.isTerminal();
  const stdout = Deno.stdout.isTerminal();
  if (!stdin || !stdout) return { stdin, stdout };
  try {
    return { stdin, stdout, foreground: inForeground(0) };
  } catch {
    return { stdin, stdout }; // no controlling terminal to ask
  }
}

/** `ww doctor --help`. */
const DOCTOR_USAGE = `usage: ww doctor
  what this machine offers each jail backend (bubblewrap, tried for real;
  Landlock; seccomp; the jail ids), and which one --jail=auto picks; exit 0 when
  a jail is possible, 1 when not`;

/** A usage error for a command that takes no arguments and got some, as `ww doctor extra` is. */
function noArguments(command: string, rest: readonly string[]): void {
  if (rest.length > 0) {
    throw new WwError(
      `${command} takes no arguments (${rest.join(" ")}); try ww ${command}`,
      EXIT.usage,
    );
  }
}

async function main(argv: readonly string[]): Promise<number> {
  checkArgumentsText(argv);
  const [command, ...rest] = argv;
  switch (command) {
    case "--version":
    case "version":
      noArguments(command, rest);
      printOut(`ww ${denoJson.version}`);
      return 0;
    case "--help":
    case "-h":
    case "help":
      // `ww help run` as `ww run --help`: a command's own help, named after the word.
      if (["run", "doctor", "cache"].includes(rest[0])) {
        if (rest.length > 1) {
          throw new UsageError(
            `${command} ${rest[0]} takes nothing more (${
              rest.slice(1).join(" ")
            }); try ww ${command} ${rest[0]}`,
          );
        }
        return await main([rest[0], "--help"]);
      }
      if (rest.length > 0) {
        throw new UsageError(
          `${command} ${
            rest.map(flagValue).join(" ")
          }: no such command (help covers run, cache and doctor: ww ${command} run)`,
        );
      }
      printOut(usageText(denoJson.version));
      return 0;
    case "run":
      return await run(rest);
    case "cache": {
      const { cacheCommand } = await lazyImport<typeof import("./ipfs/cache_command.ts")>(
        "ipfs/cache_command.ts",
      );
      for (const line of await cacheCommand(rest, callerEnvironment())) printOut(line);
      return 0;
    }
    case "doctor": {
      if (rest.length === 1 && ["--help", "-h", "help"].includes(rest[0])) {
        printOut(DOCTOR_USAGE);
        return 0;
      }
      noArguments(command, rest);
      const { doctor } = await lazyImport<typeof import("./run/doctor.ts")>("run/doctor.ts");
      const { lines, code } = await doctor();
      printOut(lines.join("\n"));
      return code;
    }
    case undefined:
      // One line, as every refusal is: the help is asked for.
      throw new WwError("no command (try ww run <binary> [args...], or ww --help)", EXIT.usage);
    default:
      // `--help=run` is `--help run`, as `--flag=value` is `--flag value` everywhere; it was
      // refused as a flag with a value, while `ww --help run` is help on run.
      if (command.startsWith("--help=")) {
        return await main(["--help", command.slice("--help=".length), ...rest]);
      }
      if (command.startsWith("--version=")) {
        throw new UsageError(`${command.split("=")[0]} takes no value (got ${command})`);
      }
      if (isRunFlag(command)) {
        throw new WwError(
          `${command} is a flag of ww run, and goes after it (ww run ${command} ...)`,
          EXIT.usage,
        );
      }
      // `ww rnu`, and `ww ./prog` for `ww run ./prog`: what was likely meant, where ww can tell.
      {
        const near = nearestWord(command, ["run", "cache", "doctor", "help", "version"]);
        const hint = near !== undefined
          ? `did you mean ww ${near}? see ww --help`
          : command.includes("/")
          ? `to run a program: ww run ${command}${rest.length ? " ..." : ""}; see ww --help`
          : "try ww run, ww --help";
        throw new WwError(`unknown command ${command} (${hint})`, EXIT.usage);
      }
  }
}

async function run(argv: readonly string[]): Promise<number> {
  const env = callerEnvironment();
  const parsed = parseRunArgs(
    argv,
    env,
    callerCwd,
    {
      ipfsApiFile: () => readIpfsApiFile(env),
      // More would not fit a program's environment (the kernel's 2 MiB for argv and envp).
      // Read with the caller's rights for the jail: no link a jail could have planted is followed.
      readFile: (path) => {
        const trusted = trustedPath(path);
        return readTextAtMost(trusted.path, ENV_FILE_MAX, !trusted.kernelLinks);
      },
      callerEnvNotText: hasRawVariable,
      terminal: callerTerminal(),
    },
  );
  const { help, explain, grants, debug } = parsed;
  if (help) {
    printOut(usageText(denoJson.version));
    return 0;
  }
  // --deno: the guest is bundled first (--explain too: it shows the binds of a real bundle).
  const name = parsed.config.program;
  let config = parsed.config;
  if (parsed.deno) {
    const { bundleGuest, checkDenoGuestMemory, denoGuestConfig, guestDeno, inDenoGuestWords } =
      await lazyImport<
        typeof import("./run/deno_guest.ts")
      >("run/deno_guest.ts");
    checkDenoGuestMemory(config);
    const deno = guestDeno(env.PATH);
    // A signal that asks ww to stop ends the bundling too (deno bundle and its directory), as
    // it ends the fetch of an IPFS program.
    const interrupt = new AbortController();
    const stopListening = forwardSignals((sig) => {
      if (!STOP_SIGNALS.includes(sig)) return "none";
      interrupt.abort(
        new InterruptedError(
          `--deno ${name}: stopped by ${sig} while being bundled; nothing was run`,
          SIGNALS[sig],
        ),
      );
      return "none";
    });
    // --timeout bounds the run from the moment ww has the program, a local file: the bundling
    // too (an import of a FIFO, or of a server that never answers, held it for ever), and the
    // program gets what is left.
    const bundling = Date.now();
    const timeoutMs = config.jail.timeoutMs;
    const expiry = timeoutMs === undefined ? undefined : setTimeout(() =>
      interrupt.abort(
        new TimedOutError(
          timeoutMs,
          `--deno ${name}: --timeout ${
            timeoutMs / 1000
          }s expired while ww bundled it (deno bundle); nothing was run`,
        ),
      ), timeoutMs);
    let bundle;
    try {
      bundle = await bundleGuest(
        deno,
        name,
        callerCwd(),
        env.TMPDIR,
        interrupt.signal,
        config.jail.limits.memoryBytes,
      );
    } catch (e) {
      throw interrupt.signal.aborted ? interrupt.signal.reason : e;
    } finally {
      clearTimeout(expiry);
      stopListening();
    }
    const spentMs = Date.now() - bundling;
    // The programs the guest starts get the run's --env, not the DENO_DIR set for the guest.
    const startedEnv = config.env;
    config = denoGuestConfig(config, deno, bundle.bundle);
    try {
      return await runConfig(config, name, explain, grants, debug, startedEnv, spentMs);
    } catch (e) {
      throw inDenoGuestWords(e, { name, deno, bundle: bundle.bundle });
    } finally {
      bundle.remove();
    }
  }
  return await runConfig(config, name, explain, grants, debug);
}

async function runConfig(
  config: RunConfig,
  name: string,
  explain: boolean,
  grants: HostGrants,
  debug: boolean,
  startedEnv: RunConfig["env"] = config.env,
  spentMs = 0,
): Promise<number> {
  // Before --explain too: it refuses what the run would refuse.
  checkInherited(config.fds);
  if (explain) {
    const { explainName, explainProgram } = await lazyImport<
      typeof import("./run/explain_program.ts")
    >("run/explain_program.ts");
    const [program, ...rest] = (await explainProgram(config)).lines;
    // One line each, whatever they quote (a program's name, an --env value).
    printOut([program, ...await explainName(config), ...rest].map(oneLine).join("\n"));
    return 0;
  }
  // Forwarding starts before the program does: a signal that arrives while the jail is being
  // built is held and delivered as soon as the program exists, instead of killing ww and
  // leaving the program behind. One that asks ww to stop also ends the fetch of an IPFS
  // program, which can take long; ww then exits 128+N and starts nothing.
  // Set once startRun returns; the signal handler below reads it before then (a const would throw).
  // deno-lint-ignore prefer-const
  let child: Child | undefined;
  const held: SignalName[] = [];
  const interrupt = new AbortController();
  // From the jail's start on, the program may run before startRun returns it: a Ctrl-Z then waits
  // for it, to stop both (ww stopped alone left it running), unless a SIGCONT comes first.
  let spawning = false;
  let owedStop = false;
  // Forwarding lasts until ww exits: a signal that comes once the program has ended finds none
  // and ends nothing, and ww still exits with the program's status. (Taking the nine listeners
  // away again cost every run ~0.2 ms, after the program's end.)
  forwardSignals((sig) => {
    if (child) return child.kill(sig) ? child.delivered() : "none";
    held.push(sig);
    if (STOP_SIGNALS.includes(sig)) {
      interrupt.abort(
        new InterruptedError(
          `${name}: stopped by ${sig} while being fetched; nothing was run`,
          SIGNALS[sig],
        ),
      );
    }
    if (sig === "SIGCONT") owedStop = false;
    if (sig !== "SIGTSTP" || !spawning) return "none";
    owedStop = true;
    return "held";
  });
  // The command line built and checked the config's shape itself.
  child = await startRun(config, {
    signal: interrupt.signal,
    spentMs,
    // Said before the program can write anything, so that no line of its splits these.
    onSpawn: () => spawning = true,
    onJail: (jail) => {
      if (debug) stderr.line(`ww: jail: ${jail.backend} (${jail.commandLine ?? jail.reason})`);
      if (jail.fellBack) {
        stderr.line(
          `ww: warning: ${
            jail.reason.replace(/^auto: /, "")
          }; ${name} runs in the native jail instead (--jail=auto remembers this; ww doctor tries bwrap again)`,
        );
      }
      if (jail.backend === "none") {
        // A --ro-bind is not read-only without a jail: said here rather than refused, since the
        // same command line works again as soon as a jail is chosen.
        stderr.line(
          `ww: warning: ${name} runs NOT jailed (--jail=none)${
            jail.notEnforced.length > 0
              ? `: not enforced: ${jail.notEnforced.join(", ")} (${
                jail.notEnforced.length === 1 ? "it needs" : "they need"
              } a jail)`
              : ""
          }`,
        );
      } else if (
        jail.backend === "native" && config.jail.limits.tmpBytes !== DEFAULT_LIMITS.tmpBytes
      ) {
        // Not a protection this machine lacks (--allow-weaker-jail): one the backend has not.
        stderr.line(
          `ww: warning: --tmp-size does not bound the native jail, whose work directory is in the host's TMPDIR (it bounds bwrap's in-memory file systems)`,
        );
      }
      if (jail.backend !== "none" && jail.notEnforced.length > 0) {
        stderr.line(
          `ww: warning: ${name} runs in a weaker jail: not enforced: ${
            jail.notEnforced.join(", ")
          } (--allow-weaker-jail)`,
        );
      }
    },
    onListening: (listeners) => {
      for (const l of listeners) {
        if (picksPort(l.listen)) {
          stderr.line(`ww: ${l.name} listening on ${l.address}`);
        }
      }
    },
  });
  let delivered = true;
  for (const sig of held) delivered = child.kill(sig);
  if (owedStop && delivered) stopWithProgram(child.delivered());
  const services = {
    version: denoJson.version,
    // A guest's lines: ww's own keep a reserve that a guest's flood cannot take.
    stderr: (line: string) => stderr.guestLine(line),
    ...(grants.ipfs ? { ipfs: ipfsServiceFor(config, "commandLine") } : {}),
  };
  const rpc = serveGuest(child, grants, {
    ...services,
    programName: name,
    exec: execService(
      { ...config, env: startedEnv },
      child,
      startProgram,
      services,
      "commandLine",
    ),
  }, vatLimitsFor(config));
  const status = await child.status;
  await rpc;
  if (status.timedOut) {
    stderr.line(`ww: ${name} timed out after ${config.jail.timeoutMs! / 1000}s`);
  }
  if (status.workdirLeft) {
    const what = child.jail.backend === "none"
      ? "what ww could not remove"
      : "what the jail's user may not remove (what the program moved in from a bind, say)";
    stderr.line(
      `ww: warning: ${name}'s work directory ${status.workdirLeft} is left behind, holding ${what}; look in it, and remove it yourself`,
    );
  }
  return status.code;
}

/**
 * Refuses arguments Deno decoded with U+FFFD for bytes that are not UTF-8 (a path or a value in
 * another encoding), which the program would get changed. Only an argument that holds U+FFFD
 * costs the read of /proc/self/cmdline that tells a replaced byte from the character itself.
 */
function checkArgumentsText(argv: readonly string[]): void {
  if (!argv.some((a) => a.includes("\uFFFD"))) return;
  let cmdline: Uint8Array;
  try {
    cmdline = Deno.readFileSync("/proc/self/cmdline");
  } catch {
    return; // no /proc: Deno's strings are all there is
  }
  const at = firstNonUtf8Argument(cmdline, argv.length);
  if (at === undefined) return;
  throw new UsageError(
    `argument ${at + 1} ("${
      clipText(argv[at], 80)
    }") holds bytes that are not UTF-8 text, which ww would pass on changed (each became U+FFFD); give the path or value in UTF-8`,
  );
}

if (import.meta.main) {
  // Deno.exit below is ww's only exit: it runs the runs' exit hooks itself.
  exitingThroughOwnExit();
  let code: number;
  try {
    // First, before any command's work: Deno opens its inspector on a SIGUSR1 that comes once the
    // process has run 500 ms, whatever ww is doing then (bundling a --deno guest, fetching a
    // program for --explain, `ww doctor`'s probes), and ww forwards SIGUSR1 to the program.
    shutDenoInspector();
    // A write past `ulimit -f` (the stage's memfd, a bundle) then fails, and ww says so: the
    // kernel's SIGXFSZ killed ww without a word, exit 153, as if the program had died of it.
    failWritesPastFileSizeLimit();
    code = await main(Deno.args);
  } catch (caught) {
    // Out of descriptors wherever it happened (reading a file, RPC): the limit to raise.
    // Past ww's file-size limit likewise.
    const e = outOfDescriptors(caught) ?? overFileSizeLimit(caught) ?? caught;
    const debug = debugRequested(Deno.args.slice(1));
    if (e instanceof WwError) {
      // The command line's words (its flags) where they differ from the library's (its options).
      stderr.line(`ww: ${e.commandLine ?? e.message}`);
      if (debug && e.stack) e.stack.split("\n").forEach((l) => stderr.line(l));
      code = e.exitCode;
    } else {
      const message = e instanceof Error ? e.message : String(e);
      stderr.line(`ww: internal error: ${clipMiddle(message, 8192)}`);
      if (debug) {
        String(e instanceof Error ? e.stack : e).split("\n").forEach((l) => stderr.line(l));
      }
      code = EXIT.usage;
    }
  }
  await stderr.finish();
  runExitHooks();
  Deno.exit(code);
}

/**
 * Whether ww's own environment, as the kernel gave it (/proc/self/environ), holds `key`: asked only
 * for a `--env KEY` that Deno's environment lacks, which it does when the value is not UTF-8 text.
 */
function hasRawVariable(key: string): boolean {
  try {
    return environHolds(Deno.readFileSync("/proc/self/environ"), key);
  } catch {
    return false; // no /proc: Deno's environment is all there is
  }
}

/**
 * The Kubo API file ($IPFS_PATH/api) and its text, or undefined when there is none: Kubo writes
 * it while its daemon runs and removes it when it stops, so a missing file only means "no daemon
 * there". One that is there but is no regular file ww can read (a directory, a FIFO, which would
 * wait for a writer forever, a file ww may not read) is refused, naming it, as Kubo's own
 * clients refuse it: passed over, the run went to another node than the one IPFS_PATH names.
 */
function readIpfsApiFile(
  env: Readonly<Record<string, string>>,
): { path: string; text: string } | undefined {
  const path = ipfsApiFile(env);
  if (path === undefined) return undefined;
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new UsageError(apiFileProblem(path, `cannot be read (${osWhy(e)})`));
  }
  if (!info.isFile) {
    throw new UsageError(
      apiFileProblem(path, info.isDirectory ? "a directory" : "not a regular file"),
    );
  }
  try {
    return { path, text: Deno.readTextFileSync(path) };
  } catch (e) {
    throw new UsageError(apiFileProblem(path, `cannot be read (${osWhy(e)})`));
  }
}
