// cli/flags.ts — `ww run` arguments to a RunConfig. Pure: the caller's environment comes in as a
// value. Flags end at the program; everything after it belongs to the program.

import type { FdGrant } from "../fd/layout.ts";
import { type OwnGrant, ownGrantsProblem, parseOpenSpec } from "../fd/grants.ts";
import {
  type Bind,
  DEFAULT_POLICY,
  JAIL_BACKENDS,
  type JailBackend,
  type JailPolicy,
  type Limits,
  parseBind,
  parseCount,
  parseDuration,
  parseSize,
} from "../jail/policy.ts";
import { chooseIpfsApi, ipfsApiUrl } from "../ipfs/multiaddr.ts";
import { parseEnvFile } from "./env_file.ts";
import { type TerminalFacts, type TtyFlag, wantsTty } from "./tty.ts";
import { envKeyProblem, grantProblem, type RunConfig } from "../core/config.ts";
import { UsageError } from "../core/errors.ts";
import { absolutePath } from "../core/path.ts";
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
}

const VALUE_FLAGS = new Set([
  "--with-fd",
  "--listen",
  "--connect",
  "--open",
  "--env",
  "-e",
  "--env-file",
  "--chdir",
  "--ipfs",
  "--ipfs-timeout",
  "--jail",
  "--ro-bind",
  "--bind",
  "--timeout",
  "--memory",
  "--cpu",
  "--nofile",
  "--nproc",
  "--tmp-size",
  "--uid",
  "--gid",
]);
const SWITCHES = new Set([
  "--debug",
  "--help",
  "-h",
  "--explain",
  "--net",
  "--allow-weaker-jail",
  "--trust-node-ipns",
  "--tty",
  "--no-tty",
]);
const GRANT_SWITCHES = new Set(["--with-console", "--with-ipfs", "--with-exec", "--with-all"]);

/**
 * Parses the arguments after `ww run`. `host` brings what the shell reads for it: the text of
 * $IPFS_PATH/api (see ipfsApiFile), used when neither --ipfs nor WW_IPFS names the node, and a
 * reader for --env-file (which throws, as Deno.readTextFileSync does, when it cannot), and
 * whether ww's stdin and stdout are terminals (see wantsTty).
 *
 * @example
 * parseRunArgs(["--with-fd", "db=3", "/bin/app", "-x"], {}, "/").config.fds;
 * // [{ name: "db", source: 3 }]
 */
export function parseRunArgs(
  argv: readonly string[],
  callerEnv: Readonly<Record<string, string>>,
  cwd: string,
  host: {
    readonly ipfsApiFile?: { readonly path: string; readonly text: string };
    readonly readFile?: (path: string) => string;
    /** Whether ww's stdin and stdout are terminals; neither when absent. */
    readonly terminal?: TerminalFacts;
  } = {},
): RunCommand {
  const fds: FdGrant[] = [];
  const own: OwnGrant[] = [];
  const env: Record<string, string> = {};
  let ipfsFlag: string | undefined;
  let ipfsTimeoutMs: number | undefined;
  let debug = false;
  let help = false;
  let explain = false;
  const grants = { console: false, ipfs: false, exec: false };
  let backend: JailBackend = DEFAULT_POLICY.backend;
  let net = false;
  let allowWeakerJail = false;
  let trustNodeIpns = false;
  let ttyFlag: TtyFlag;
  const ids: { uid?: number; gid?: number } = {};
  let timeoutMs: number | undefined;
  let chdir: string | undefined;
  const readOnlyBinds: Bind[] = [];
  const writableBinds: Bind[] = [];
  const limits: { -readonly [K in keyof Limits]: Limits[K] } = { ...DEFAULT_POLICY.limits };

  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (GRANT_SWITCHES.has(flag)) {
      if (flag !== arg) throw new UsageError(`${flag} takes no value (got ${arg})`);
      if (flag === "--with-all") grants.console = grants.ipfs = grants.exec = true;
      else grants[flag.slice("--with-".length) as keyof HostGrants] = true;
      continue;
    }
    if (SWITCHES.has(flag)) {
      if (flag !== arg) throw new UsageError(`${flag} takes no value (got ${arg})`);
      if (flag === "--debug") debug = true;
      else if (flag === "--explain") explain = true;
      else if (flag === "--net") net = true;
      else if (flag === "--allow-weaker-jail") allowWeakerJail = true;
      else if (flag === "--trust-node-ipns") trustNodeIpns = true;
      else if (flag === "--tty" || flag === "--no-tty") {
        ttyFlag = flag === "--tty" ? "tty" : "no-tty";
      } else help = true;
      continue;
    }
    if (!VALUE_FLAGS.has(flag)) {
      throw new UsageError(`unknown flag ${flag} (see ww run --help)`);
    }
    let value: string;
    if (flag !== arg) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length) value = argv[++i];
    else throw new UsageError(`${flag} needs a value (see ww run --help)`);

    switch (flag) {
      case "--with-fd":
        fds.push(parseGrant(value, fds));
        break;
      case "--listen":
      case "--connect":
      case "--open":
        own.push(parseOwnGrant(flag, value));
        break;
      case "--env":
      case "-e":
        parseEnv(value, callerEnv, env);
        break;
      case "--env-file": {
        // In command-line order with --env: a later value for the same key wins.
        Object.assign(env, readEnvFile(value, absolutePath(cwd, value), callerEnv, host.readFile));
        break;
      }
      case "--ipfs": {
        const parsed = ipfsApiUrl(value);
        if ("error" in parsed) throw new UsageError(`--ipfs ${parsed.error}`);
        ipfsFlag = value;
        break;
      }
      case "--ipfs-timeout": {
        const ms = parseDuration(value);
        if (typeof ms !== "number") throw new UsageError(`--ipfs-timeout ${ms.error}`);
        ipfsTimeoutMs = ms;
        break;
      }
      case "--jail":
        if (!(JAIL_BACKENDS as readonly string[]).includes(value)) {
          throw new UsageError(
            `--jail ${value}: unknown backend (use one of ${JAIL_BACKENDS.join(", ")})`,
          );
        }
        backend = value as JailBackend;
        break;
      case "--ro-bind":
      case "--bind": {
        const parsed = parseBind(value);
        if ("error" in parsed) throw new UsageError(`${flag} ${value}: ${parsed.error}`);
        const source = absolutePath(cwd, parsed.source);
        (flag === "--bind" ? writableBinds : readOnlyBinds).push({
          source,
          dest: parsed.dest ?? source,
        });
        break;
      }
      case "--chdir":
        if (value === "") throw new UsageError("--chdir: the directory is empty");
        if (value.includes("\0")) throw new UsageError("--chdir: the path contains a NUL byte");
        chdir = absolutePath(cwd, value);
        break;
      case "--timeout": {
        const ms = parseDuration(value);
        if (typeof ms !== "number") throw new UsageError(`--timeout ${ms.error}`);
        timeoutMs = ms;
        break;
      }
      case "--memory":
        limits.memoryBytes = limitValue(flag, parseSize(value));
        break;
      case "--cpu":
        limits.cpuSeconds = limitValue(flag, parseCount(value));
        break;
      case "--nofile":
        limits.openFiles = limitValue(flag, parseCount(value));
        break;
      case "--nproc":
        limits.processes = limitValue(flag, parseCount(value));
        break;
      case "--tmp-size":
        limits.tmpBytes = limitValue(flag, parseSize(value));
        break;
      case "--uid":
      case "--gid": {
        // 2^32-1 is (uid_t)-1, which setresuid reads as "leave unchanged".
        if (!/^\d+$/.test(value) || Number(value) > 2 ** 32 - 2) {
          throw new UsageError(`${flag} ${value}: expected a numeric id from 0 to ${2 ** 32 - 2}`);
        }
        ids[flag === "--uid" ? "uid" : "gid"] = Number(value);
        break;
      }
    }
  }

  const [program, ...args] = argv.slice(i);
  const jail: JailPolicy = {
    backend,
    net,
    readOnlyBinds,
    writableBinds,
    limits,
    timeoutMs,
    ...(chdir !== undefined ? { chdir } : {}),
    ...ids,
    ...(allowWeakerJail ? { allowWeakerJail } : {}),
  };
  const { api: ipfsApi, origin: ipfsApiOrigin } = chooseIpfsApi(
    ipfsFlag,
    callerEnv,
    host.ipfsApiFile,
  );
  const config = {
    program: program ?? "",
    args,
    fds,
    ...(own.length ? { own } : {}),
    env,
    ipfsApi,
    ipfsApiOrigin,
    ...(ipfsTimeoutMs !== undefined ? { ipfsTimeoutMs } : {}),
    ...(trustNodeIpns ? { trustNodeIpns } : {}),
    jail,
    tty: wantsTty(ttyFlag, host.terminal ?? { stdin: false, stdout: false }),
  };
  if (help) return { config, debug, help, explain, grants };
  const ownProblem = ownGrantsProblem(own, fds);
  if (ownProblem) throw new UsageError(ownProblem);
  if (program === undefined) {
    throw new UsageError("missing <binary> (usage: ww run [flags] <binary> [args...])");
  }
  if (program === "") throw new UsageError("the program name is empty");
  if ([program, ...args].some((a) => a.includes("\0"))) {
    throw new UsageError("an argument contains a NUL byte, which execve cannot pass");
  }
  const chosen = ipfsApiUrl(ipfsApi);
  if ("error" in chosen) {
    throw new UsageError(
      `${
        ipfsApiOrigin === "WW_IPFS" ? "WW_IPFS" : `the IPFS address in ${ipfsApiOrigin}`
      } ${chosen.error}`,
    );
  }
  return { config, debug, help, explain, grants };
}

function limitValue(
  flag: string,
  parsed: number | undefined | { error: string },
): number | undefined {
  if (typeof parsed === "object") throw new UsageError(`${flag} ${parsed.error}`);
  return parsed;
}

function parseGrant(value: string, earlier: readonly FdGrant[]): FdGrant {
  const eq = value.indexOf("=");
  if (eq < 0) {
    throw new UsageError(`--with-fd ${value}: expected name=fdnum, e.g. --with-fd db=3`);
  }
  const name = value.slice(0, eq);
  const fdText = value.slice(eq + 1);
  if (!/^\d+$/.test(fdText)) {
    throw new UsageError(
      `--with-fd ${value}: ${JSON.stringify(fdText)} is not a descriptor number`,
    );
  }
  const grant = { name, source: Number(fdText) };
  const problem = grantProblem(grant, earlier);
  if (problem) throw new UsageError(problem);
  return grant;
}

function readEnvFile(
  name: string,
  path: string,
  callerEnv: Readonly<Record<string, string>>,
  readFile: ((path: string) => string) | undefined,
): Record<string, string> {
  let text: string;
  try {
    if (!readFile) throw new Error("no file reader given");
    text = readFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "no such file"
      : e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : e instanceof Error
      ? e.message.split("\n")[0]
      : String(e);
    throw new UsageError(`--env-file ${name}: cannot read it (${why})`);
  }
  const parsed = parseEnvFile(text, name, callerEnv);
  if ("error" in parsed) throw new UsageError(`--env-file ${parsed.error}`);
  return parsed.env;
}

/** `name=ADDR` or, for --open, `name=PATH[:MODE]`; the address itself is checked afterwards. */
function parseOwnGrant(flag: "--listen" | "--connect" | "--open", value: string): OwnGrant {
  const eq = value.indexOf("=");
  if (eq < 0) {
    const example = flag === "--open"
      ? "--open log=/var/log/app.log:a"
      : `${flag} http=tcp:127.0.0.1:8080`;
    throw new UsageError(
      `${flag} ${value}: expected name=${
        flag === "--open" ? "PATH[:MODE]" : "ADDR"
      }, e.g. ${example}`,
    );
  }
  const name = value.slice(0, eq);
  const rest = value.slice(eq + 1);
  if (flag === "--listen") return { name, listen: rest };
  if (flag === "--connect") return { name, connect: rest };
  const { path, mode } = parseOpenSpec(rest);
  return { name, open: path, mode };
}

function parseEnv(
  value: string,
  callerEnv: Readonly<Record<string, string>>,
  env: Record<string, string>,
): void {
  const eq = value.indexOf("=");
  const key = eq < 0 ? value : value.slice(0, eq);
  const problem = envKeyProblem(key);
  if (problem) throw new UsageError(`--env ${value}: ${problem}`);
  if (eq < 0) {
    // Like `docker run -e KEY`: the caller's value, or nothing when the caller has none.
    if (key in callerEnv) env[key] = callerEnv[key];
    return;
  }
  const v = value.slice(eq + 1);
  if (v.includes("\0")) throw new UsageError(`--env ${key}: the value contains a NUL byte`);
  env[key] = v;
}
