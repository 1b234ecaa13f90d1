// main.ts — the `ww` command line: parses arguments, calls the library, forwards signals, and maps
// errors to exit codes. No logic of its own.

import denoJson from "./deno.json" with { type: "json" };
import { parseRunArgs } from "./cli/flags.ts";
import { ipfsApiFile } from "./ipfs/multiaddr.ts";
import { EXIT, InterruptedError, WwError } from "./core/errors.ts";
import { forwardSignals, type SignalName, SIGNALS, STOP_SIGNALS } from "./run/signals.ts";
import { checkInherited, type Child, startProgram } from "./run/start.ts";
import { picksPort } from "./fd/grants.ts";
import { execService, serveGuest } from "./rpc/serve.ts";
import { lazyImport } from "./core/lazy.ts";
import type { IpfsService } from "./rpc/types.ts";
import type { RunConfig } from "./core/config.ts";
import { openStderr } from "./ffi/stderr.ts";
import { StderrQueue } from "./run/stderr.ts";

/**
 * Every line ww writes to stderr once it runs a program: never a blocking write, which would
 * stop the timeout, signal forwarding and RPC while a pipe nobody reads is full.
 */
const stderr = new StderrQueue(openStderr);

const USAGE =
  `ww ${denoJson.version}: run a program in a jail and hand it capabilities as descriptors

usage:
  ww run [flags] <binary> [args...]   run <binary> (a path, a name in PATH, or from IPFS:
                                      /ipfs/<cid>[/path], /ipns/<name>[/path], a bare CID)
  ww cache [list|size|clear]          the cache of programs fetched from IPFS
  ww doctor                           what this machine offers each jail backend; exit 0 when
                                      a jail is possible
  ww --version                        print the version
  ww --help                           print this help

run flags (they end at <binary>; '--' may also end them):
  --with-fd name=fdnum   give the child the caller's descriptor fdnum; the child gets it on
                         fd 4, 5, ... (ordered by fdnum, then name) and WW_FD_<NAME>=<its fd>
  --listen name=ADDR     ww binds ADDR (tcp:HOST:PORT, udp:HOST:PORT, unix:PATH; IPv6 as [ADDR];
                         PORT 0 picks a free one and ww prints it) and, for streams, listens;
                         the child gets the socket and needs no network
  --connect name=ADDR    ww connects to ADDR (tcp:HOST:PORT, unix:PATH); the child gets the stream
  --open name=PATH[:MODE]  ww opens PATH with the caller's rights: r (default), w (create or
                         truncate), a (create, append), rw (read and write, create)
                         (these follow the --with-fd grants, ordered by name)
  --env KEY=VALUE        set KEY in the child's otherwise empty environment
  --env KEY              pass the caller's KEY (nothing if the caller has none)
  -e KEY[=VALUE]         the same as --env
  --env-file FILE        --env for each KEY=VALUE or KEY line of FILE (docker's format:
                         # comments, blank lines; the value verbatim to the end of the line)
  --chdir DIR            start the program in DIR (relative to the caller's cwd), which the
                         jail must show (default: a fresh private work directory)
  --ipfs <address>       Kubo RPC endpoint for /ipfs and /ipns programs: a multiaddr
                         (/ip4/127.0.0.1/tcp/5001/http, /unix/PATH) or http(s)://HOST:PORT
                         (default $WW_IPFS, else $IPFS_PATH/api (~/.ipfs/api) as Kubo
                         writes it, else /dns4/localhost/tcp/5001/http); every byte is
                         verified against its CID and cached by CID in $XDG_CACHE_HOME/ww
  --ipfs-timeout <duration>  give up when the IPFS node sends nothing for this long (30s)
  --trust-node-ipns      take the node's name/resolve answer for an /ipns/ key it gives no
                         signed record for (otherwise ww verifies the record itself)
  --explain              print the descriptors, environment and jail, run nothing; for an
                         /ipns/ name, what it resolves to and why ww believes it
  --with-console         host capability (fd 3, Cap'n Proto RPC, rpc/ww.capnp): log lines
                         to ww's stderr, prefixed with the program's name
  --with-ipfs            host capability: read IPFS (cat, ls, stat) and add bytes
  --with-exec            host capability: start programs under ww, same jail, subset of grants
  --with-all             all of the --with-* capabilities above (not --with-fd)
  --tty                  a pseudo-terminal of its own for the program on fd 0-2 (proxied by
                         ww), even when stdin or stdout is not a terminal
  --no-tty               no terminal of its own, even when stdin and stdout are terminals
                         (default: one exactly when both are)
  --debug                show stack traces for errors

jail flags (every program is jailed by default):
  --jail <backend>       auto (default): bwrap when this machine can create user namespaces,
                         else native; bwrap: bubblewrap namespaces + seccomp + limits;
                         native: Landlock + seccomp + limits, no namespaces; none: unjailed
  --allow-weaker-jail    let --jail=native run when the kernel lacks some of its protections
  --uid <n>, --gid <n>   the program's ids (bwrap: default 65534 in the jail, 0 maps to the jail's
                         own host id; native: never 0). As root, jails run as a host id of
                         their own, leased from WW_JAIL_IDS (default 70000-79999)
  --ro-bind <src>[:<dst>]  show host path src read-only at dst (default: the same path)
  --bind <src>[:<dst>]     show host path src read-write at dst
  --net                  share the host's network (default: no network)
  --timeout <duration>   wall-clock limit (30s, 500ms, 2m): SIGTERM, then SIGKILL 2s later;
                         ww then exits 124
  --memory <size>        private memory per process (RLIMIT_DATA; default 4G; or unlimited)
  --cpu <seconds>        CPU time (RLIMIT_CPU; default unlimited)
  --nofile <n>           open files (RLIMIT_NOFILE; default 1024)
  --nproc <n>            processes and threads of the jail's user (RLIMIT_NPROC; default 512)
  --tmp-size <size>      size of each in-memory file system the jail can write (/tmp with the
                         work directory, /dev/shm; default 512M; or unlimited); bwrap only

The child gets fd 0-2 from ww (or its own terminal), fd 3 = the host socket, fd 4.. = the --with-fd grants, then
ww's own grants (--listen, --connect, --open), nothing else.
exit status: the child's own; 128+N when killed by signal N; 124 --timeout expired;
125 ww usage or setup error (a jail that cannot be built included); 126 the binary cannot be
executed; 127 the binary was not found.`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "--version":
    case "version":
      console.log(`ww ${denoJson.version}`);
      return 0;
    case "--help":
    case "-h":
    case "help":
      console.log(USAGE);
      return 0;
    case "run":
      return await run(rest);
    case "cache": {
      const { cacheCommand } = await lazyImport<typeof import("./ipfs/cache_command.ts")>(
        new URL("./ipfs/cache_command.ts", import.meta.url),
      );
      for (const line of await cacheCommand(rest, Deno.env.toObject())) console.log(line);
      return 0;
    }
    case "doctor": {
      const { doctor } = await lazyImport<typeof import("./run/doctor.ts")>(
        new URL("./run/doctor.ts", import.meta.url),
      );
      return await doctor();
    }
    case undefined:
      console.error(USAGE);
      return EXIT.usage;
    default:
      throw new WwError(`unknown command ${command} (try ww run, ww --help)`, EXIT.usage);
  }
}

async function run(argv: readonly string[]): Promise<number> {
  const env = Deno.env.toObject();
  const { config, help, explain, grants, debug } = parseRunArgs(
    argv,
    env,
    Deno.cwd(),
    {
      ipfsApiFile: readIpfsApiFile(env),
      readFile: Deno.readTextFileSync,
      terminal: { stdin: Deno.stdin.isTerminal(), stdout: Deno.stdout.isTerminal() },
    },
  );
  if (help) {
    console.log(USAGE);
    return 0;
  }
  if (explain) {
    const { explainName, explainProgram } = await lazyImport<
      typeof import("./run/explain_program.ts")
    >(new URL("./run/explain_program.ts", import.meta.url));
    const [program, ...rest] = explainProgram(config);
    console.log([program, ...await explainName(config), ...rest].join("\n"));
    return 0;
  }
  if (config.jail.backend === "none") {
    stderr.line(`ww: warning: ${config.program} runs NOT jailed (--jail=none)`);
  }
  // Forwarding starts before the program does: a signal that arrives while the jail is being
  // built is held and delivered as soon as the program exists, instead of killing ww and
  // leaving the program behind. One that asks ww to stop also ends the fetch of an IPFS
  // program, which can take long; ww then exits 128+N and starts nothing.
  let child: Child | undefined;
  const held: SignalName[] = [];
  const interrupt = new AbortController();
  const stopForwarding = forwardSignals((sig) => {
    if (child) return child.kill(sig);
    held.push(sig);
    if (STOP_SIGNALS.includes(sig)) {
      interrupt.abort(
        new InterruptedError(
          `${config.program}: stopped by ${sig} while being fetched; nothing was run`,
          SIGNALS[sig],
        ),
      );
    }
  });
  try {
    checkInherited(config.fds);
    child = await startProgram(config, {
      signal: interrupt.signal,
      onListening: (listeners) => {
        for (const l of listeners) {
          if (picksPort(l.listen)) {
            stderr.line(`ww: ${l.name} listening on ${l.address}`);
          }
        }
      },
    });
    for (const sig of held) child.kill(sig);
    if (debug) stderr.line(`ww: jail: ${child.jail.backend} (${child.jail.reason})`);
    if (child.jail.fellBack) {
      stderr.line(
        `ww: warning: ${
          child.jail.reason.replace(/^auto: /, "")
        }; ${config.program} runs in the native jail instead (--jail=auto remembers this)`,
      );
    }
    if (child.jail.notEnforced.length > 0) {
      stderr.line(
        `ww: warning: ${config.program} runs in a weaker jail: not enforced: ${
          child.jail.notEnforced.join(", ")
        } (--allow-weaker-jail)`,
      );
    }
    const services = {
      version: denoJson.version,
      stderr: (line: string) => stderr.line(line),
      ...(grants.ipfs ? { ipfs: lazyIpfsService(config) } : {}),
    };
    const rpc = serveGuest(child, grants, {
      ...services,
      programName: config.program,
      exec: execService(config, child, startProgram, services),
    });
    const status = await child.status;
    await rpc;
    if (status.timedOut) {
      stderr.line(`ww: ${config.program} timed out after ${config.jail.timeoutMs! / 1000}s`);
    }
    return status.code;
  } finally {
    stopForwarding();
  }
}

/**
 * The --with-ipfs service, loaded (with the IPLD libraries) only when a program first calls it: a
 * run that never does, or has no --with-ipfs, pays nothing for it.
 */
function lazyIpfsService(config: RunConfig): IpfsService {
  let service: Promise<IpfsService> | undefined;
  const load = () =>
    service ??= lazyImport<typeof import("./rpc/ipfs_service.ts")>(
      new URL("./rpc/ipfs_service.ts", import.meta.url),
    ).then(({ ipfsService }) =>
      ipfsService({
        api: config.ipfsApi,
        origin: config.ipfsApiOrigin,
        timeoutMs: config.ipfsTimeoutMs,
        trustNodeIpns: config.trustNodeIpns,
      })
    );
  return {
    cat: async (path, reserve) => (await load()).cat(path, reserve),
    ls: async (path) => (await load()).ls(path),
    stat: async (path) => (await load()).stat(path),
    add: async (data) => (await load()).add(data),
  };
}

function debugRequested(argv: readonly string[]): boolean {
  for (const arg of argv.slice(1)) {
    if (arg === "--debug") return true;
    if (arg === "--" || !arg.startsWith("-")) return false;
  }
  return false;
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (e) {
    const debug = debugRequested(Deno.args);
    if (e instanceof WwError) {
      stderr.line(`ww: ${e.message}`);
      if (debug && e.stack) stderr.line(e.stack);
      code = e.exitCode;
    } else {
      stderr.line(`ww: internal error: ${e instanceof Error ? e.message : String(e)}`);
      if (debug) stderr.line(e instanceof Error ? String(e.stack) : String(e));
      code = EXIT.usage;
    }
  }
  await stderr.finish();
  Deno.exit(code);
}

/**
 * The Kubo API file ($IPFS_PATH/api) and its text, or undefined when there is none: Kubo writes
 * it while its daemon runs and removes it when it stops, so a missing or unreadable file only
 * means "no daemon there".
 */
function readIpfsApiFile(
  env: Readonly<Record<string, string>>,
): { path: string; text: string } | undefined {
  const path = ipfsApiFile(env);
  if (path === undefined) return undefined;
  try {
    return { path, text: Deno.readTextFileSync(path) };
  } catch {
    return undefined;
  }
}
