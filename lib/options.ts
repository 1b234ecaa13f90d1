// lib/options.ts — the options of a jailed Command (lib/command.ts), shaped like
// Deno.CommandOptions, and their validation: every option is checked up front and turned into
// the RunConfig that describes the run, or refused with a UsageError that names the option, as
// startProgram refuses a config (a wrong kind of value or one out of range alike). Pure: no I/O.

import {
  envKeyProblem,
  hostFdVariableProblem,
  jailIdProblem,
  MAX_FD,
  MAX_JAIL_ID,
  type RunConfig,
  unbackedFdVariableProblem,
} from "../core/config.ts";
import { UsageError } from "../core/errors.ts";
import { isRecord, JAIL_FIELDS, objectKind } from "../core/start_config_shape.ts";
import { fdEnvVar, type FdGrant, GRANT_NAME } from "../fd/layout.ts";
import { type OwnGrant, ownGrantsProblem } from "../fd/grants.ts";
import {
  backendProblem,
  type Bind,
  DEFAULT_LIMITS,
  DEFAULT_POLICY,
  durationProblem,
  type JailBackend,
  limitNameProblem,
  type Limits,
  limitValueProblem,
  TIMEOUT_GRACE_MS,
} from "../jail/policy.ts";
import { DEFAULT_IPFS_API, ipfsApiUrl } from "../ipfs/multiaddr.ts";
import type { IpfsService } from "../rpc/types.ts";

/**
 * What a program's fd 0, 1 or 2 is, as Deno.CommandOptions has it.
 *
 * @example
 * ```ts
 * const stdout: StdioOption = "piped";
 * ```
 */
export type StdioOption = "inherit" | "piped" | "null";

/**
 * The jail, as a partial policy over DEFAULT_POLICY (each field left out keeps its default).
 *
 * @example
 * ```ts ignore
 * const jail: JailOptions = { backend: "native", timeoutMs: 5000, net: false };
 * ```
 */
export interface JailOptions {
  /** "auto" (default), "bwrap", "native" or "none" (unjailed). */
  readonly backend?: JailBackend;
  /** Share the host's network (default false). */
  readonly net?: boolean;
  /**
   * Host paths shown read-only in the jail; `dest` absolute. With backend "none" each must be
   * shown at its own place (`dest` = `source`; else a BindError) and is NOT read-only: nothing
   * enforces it without a jail.
   */
  readonly readOnlyBinds?: readonly Bind[];
  /** Host paths shown read-write in the jail; `dest` absolute (= `source` with backend "none"). */
  readonly writableBinds?: readonly Bind[];
  /** Over DEFAULT_LIMITS, field by field; a field set to undefined is unlimited. */
  readonly limits?: Partial<Limits>;
  /** Wall-clock limit in ms: SIGTERM, then SIGKILL 2 s later; status.timedOut, code 124. */
  readonly timeoutMs?: number;
  /** The program's uid in the jail (see JailPolicy). */
  readonly uid?: number;
  /** The program's gid in the jail (see JailPolicy). */
  readonly gid?: number;
  /** Run under the native jail even when the kernel lacks some of its protections. */
  readonly allowWeakerJail?: boolean;
}

/**
 * Descriptors handed to the program from fd 4 on, each named by WW_FD_<NAME>.
 *
 * @example
 * ```ts ignore
 * const grants: GrantOptions = { fds: [{ name: "db", source: 7 }], own: [{ name: "web", listen: "tcp:127.0.0.1:0" }] };
 * ```
 */
export interface GrantOptions {
  /** Descriptors this process opened (inherited or not), by name: `{ name: "db", source: 7 }`. */
  readonly fds?: readonly FdGrant[];
  /** Sockets and files ww opens itself with this process's rights (listen, connect, open). */
  readonly own?: readonly OwnGrant[];
}

/**
 * What the host capability on the program's fd 3 serves (Cap'n Proto RPC, rpc/ww.capnp).
 *
 * @example
 * ```ts ignore
 * const host: HostOptions = { console: (line) => console.log(line), exec: true };
 * ```
 */
export interface HostOptions {
  /** Console lines the program logs, one call each, prefixed with the program's name. */
  readonly console?: (line: string) => void;
  /** IPFS for the program: true for the node at `ipfsApi`, or a service of the caller's. */
  readonly ipfs?: boolean | IpfsService;
  /**
   * Let the program start other programs under ww, in the same jail, with a subset of grants and
   * its own stdin, stdout and stderr (the pipes or /dev/null this Command gives it).
   */
  readonly exec?: boolean;
}

/**
 * The options of a Command: Deno.CommandOptions' names, defaults and meanings where Deno has them
 * (`env` is the program's whole environment: a jail inherits nothing), and ww's own.
 *
 * @example
 * ```ts ignore
 * const options: CommandOptions = { args: ["-c", "echo hi"], stdout: "piped", jail: { backend: "bwrap" } };
 * await new Command("/bin/sh", options).output();
 * ```
 */
export interface CommandOptions {
  /** The program's arguments, after its name. */
  readonly args?: readonly string[];
  /** The program's whole environment (as Deno's `clearEnv: true`); WW_FD_* are added. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * The program's working directory, a path as its jail shows it (relative: to this process's
   * cwd). Default: a fresh private work directory.
   */
  readonly cwd?: string | URL;
  /** Default "inherit". */
  readonly stdin?: StdioOption;
  /** Default "inherit" for spawn(), "piped" for output(). */
  readonly stdout?: StdioOption;
  /** Default "inherit" for spawn(), "piped" for output(). */
  readonly stderr?: StdioOption;
  /**
   * Aborted before spawn: nothing starts, and spawn/output reject with its reason. Aborted
   * while the program runs: SIGTERM, then SIGKILL `killGraceMs` later.
   */
  readonly signal?: AbortSignal;
  /** Time from SIGTERM to SIGKILL when `signal` is aborted, in ms (default 2000). */
  readonly killGraceMs?: number;
  /** Descriptors handed to the program from fd 4 on (none by default). */
  readonly grants?: GrantOptions;
  /** The jail (default: DEFAULT_POLICY, backend "auto"). */
  readonly jail?: JailOptions;
  /** What fd 3 serves; left out, ww closes its end at once (the program reads end of file). */
  readonly host?: HostOptions;
  /** Kubo RPC endpoint (multiaddr) for a program from IPFS and for `host.ipfs: true`. */
  readonly ipfsApi?: string;
  /** How long the IPFS node may send nothing before a fetch gives up, in ms (default 30000). */
  readonly ipfsTimeoutMs?: number;
  /**
   * Take the node's word for an /ipns/ name it gives no signed record for (default false: such a
   * name is refused, since ww cannot verify it).
   */
  readonly trustNodeIpns?: boolean;
}

/** A Command's options, checked, with every default filled in. */
export interface CheckedCommand {
  readonly config: RunConfig;
  readonly stdio: {
    readonly stdin?: StdioOption;
    readonly stdout?: StdioOption;
    readonly stderr?: StdioOption;
  };
  readonly signal?: AbortSignal;
  readonly killGraceMs: number;
  readonly host?: HostOptions;
}

const STDIO: readonly StdioOption[] = ["inherit", "piped", "null"];

function text(option: string, v: unknown): string {
  if (typeof v !== "string") throw new UsageError(`${option}: must be a string, not ${kind(v)}`);
  if (v.includes("\0")) throw new UsageError(`${option}: contains a NUL byte`);
  return v;
}

function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v !== "object") return typeof v;
  return objectKind(v) ?? (isRecord(v) ? "an object" : "an object with a prototype of its own");
}

function duration(option: string, v: unknown): number {
  if (typeof v !== "number") {
    throw new UsageError(`${option}: must be a number of ms, not ${kind(v)}`);
  }
  const problem = durationProblem(option, v);
  if (problem) throw new UsageError(problem);
  return v;
}

function list<T>(option: string, v: unknown, each: (option: string, item: unknown) => T): T[] {
  if (!Array.isArray(v)) throw new UsageError(`${option}: must be an array, not ${kind(v)}`);
  // Array.from, not map: map skips a hole (`new Array(2)`), which then failed deep inside ww.
  return Array.from(v, (item, i) => each(`${option}[${i}]`, item));
}

function bind(option: string, v: unknown): Bind {
  if (!isRecord(v)) throw new UsageError(`${option}: must be { source, dest }, not ${kind(v)}`);
  // A `writable: true` was dropped: the bind was made read-only, unsaid.
  onlyKnown(`${option}.`, v, ["source", "dest"]);
  const source = text(`${option}.source`, v.source);
  const dest = text(`${option}.dest`, v.dest);
  if (!source.startsWith("/")) {
    throw new UsageError(`${option}.source: ${source} is not an absolute path`);
  }
  if (!dest.startsWith("/")) {
    throw new UsageError(
      `${option}.dest: ${dest} is not an absolute path (where the jail shows it)`,
    );
  }
  return { source, dest };
}

function limits(v: unknown): Limits {
  if (v === undefined) return DEFAULT_LIMITS;
  if (!isRecord(v)) throw new UsageError(`jail.limits: must be a plain object, not ${kind(v)}`);
  const out: Record<string, number | undefined> = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(v)) {
    const unknown = limitNameProblem(key);
    if (unknown) throw new UsageError(unknown);
    const problem = limitValueProblem(key as keyof Limits, value);
    if (problem) throw new UsageError(problem);
    out[key] = value as number | undefined;
  }
  return out as Limits;
}

function fdGrant(option: string, v: unknown): FdGrant {
  if (!isRecord(v)) throw new UsageError(`${option}: must be { name, source }, not ${kind(v)}`);
  onlyKnown(`${option}.`, v, ["name", "source"]);
  const name = text(`${option}.name`, v.name);
  if (!GRANT_NAME.test(name)) {
    throw new UsageError(
      `${option}.name: ${JSON.stringify(name)} must match [A-Za-z_][A-Za-z0-9_]* (it becomes ${
        fdEnvVar("NAME")
      })`,
    );
  }
  const source = v.source;
  if (typeof source !== "number") {
    throw new UsageError(`${option}.source: must be a descriptor number, not ${kind(source)}`);
  }
  if (!Number.isSafeInteger(source) || source < 0 || source > MAX_FD) {
    throw new UsageError(`${option}.source: ${source} is not a descriptor number (0 to ${MAX_FD})`);
  }
  return { name, source };
}

/**
 * Throws a UsageError for a key of `v` (the option `where`, an object) that is none of `known`: a
 * misspelt `jail.timeoutms` dropped the timeout without a word.
 */
function onlyKnown(where: string, v: object, known: readonly string[]): void {
  // Every run passes here: no list is made of the keys.
  for (const unknown in v) {
    if (!known.includes(unknown)) {
      throw new UsageError(`${where}${unknown}: no such option (known: ${known.join(", ")})`);
    }
  }
}

const OPTIONS = [
  "args",
  "env",
  "cwd",
  "stdin",
  "stdout",
  "stderr",
  "signal",
  "killGraceMs",
  "grants",
  "jail",
  "host",
  "ipfsApi",
  "ipfsTimeoutMs",
  "trustNodeIpns",
];
/** A run's jail fields, but the cwd: Command's own `cwd` option says it. */
const JAIL_OPTIONS = JAIL_FIELDS.filter((f) => f !== "chdir");

/** A grants.own entry: a name, and one of listen, connect and open (with its mode), strings. */
function ownGrant(option: string, v: unknown): OwnGrant {
  if (!isRecord(v)) throw new UsageError(`${option}: must be a plain object, not ${kind(v)}`);
  const kinds = ["listen", "connect", "open"].filter((k) => v[k] !== undefined);
  if (kinds.length !== 1) {
    throw new UsageError(
      `${option}: must have one of listen, connect and open (it has ${kinds.length})`,
    );
  }
  onlyKnown(`${option}.`, v, ["name", kinds[0], ...(kinds[0] === "open" ? ["mode"] : [])]);
  // A copy: the caller's object, changed after the check (a service's template for the next
  // run), reached this run's start unchecked.
  const grant = {
    name: text(`${option}.name`, v.name),
    [kinds[0]]: text(`${option}.${kinds[0]}`, v[kinds[0]]),
    ...(v.mode !== undefined ? { mode: text(`${option}.mode`, v.mode) } : {}),
  };
  return grant as unknown as OwnGrant;
}

/** What an IpfsService (rpc/types.ts) does. */
const IPFS_SERVICE_METHODS = ["cat", "ls", "stat", "add"] as const;

function host(v: unknown): HostOptions | undefined {
  if (v === undefined) return undefined;
  if (!isRecord(v)) throw new UsageError(`host: must be a plain object, not ${kind(v)}`);
  onlyKnown("host.", v, ["console", "ipfs", "exec"]);
  if (v.console !== undefined && typeof v.console !== "function") {
    throw new UsageError(`host.console: must be a function taking a line, not ${kind(v.console)}`);
  }
  if (v.ipfs !== undefined && typeof v.ipfs !== "boolean") {
    // Any object: an IpfsService may be a class's instance (its methods are checked below).
    if (typeof v.ipfs !== "object" || v.ipfs === null || Array.isArray(v.ipfs)) {
      throw new UsageError(`host.ipfs: must be true, false or an IpfsService, not ${kind(v.ipfs)}`);
    }
    // An object without them failed only once the guest called one ("x.cat is not a function").
    const ipfs = v.ipfs as Record<string, unknown>;
    const missing = IPFS_SERVICE_METHODS.filter((m) => typeof ipfs[m] !== "function");
    if (missing.length > 0) {
      throw new UsageError(
        `host.ipfs: an IpfsService needs the functions ${IPFS_SERVICE_METHODS.join(", ")} (${
          missing.join(", ")
        } ${missing.length === 1 ? "is" : "are"} not)`,
      );
    }
  }
  if (v.exec !== undefined && typeof v.exec !== "boolean") {
    throw new UsageError(`host.exec: must be a boolean, not ${kind(v.exec)}`);
  }
  // A copy, as for the grants: what was checked is what the run serves.
  const { console: sink, ipfs, exec } = v as HostOptions;
  return {
    ...(sink !== undefined ? { console: sink } : {}),
    ...(ipfs !== undefined ? { ipfs } : {}),
    ...(exec !== undefined ? { exec } : {}),
  };
}

/**
 * Checks `program` and `options` and builds the run they describe; throws a UsageError naming the
 * first option that is wrong. `cwd` is this process's working directory,
 * which a relative `options.cwd` is taken from, or a function that gives it, asked only then.
 *
 * @example
 * checkCommand("/bin/echo", { args: ["hi"] }, "/").config.args; // ["hi"]
 * checkCommand("/bin/true", { jail: { backend: "docker" as never } }, "/"); // throws UsageError
 */
export function checkCommand(
  program: string | URL,
  options: CommandOptions | undefined,
  cwd: string | (() => string),
): CheckedCommand {
  const path = program instanceof URL ? fileUrlPath("program", program) : text("program", program);
  if (path === "") throw new UsageError("program: is empty (a path, a name in PATH, or /ipfs/...)");
  // null is no option left out: refused, as for every option (it was taken for the defaults).
  const o: CommandOptions = options === undefined ? {} : options;
  if (!isRecord(o as unknown)) {
    throw new UsageError(`options: must be a plain object, not ${kind(o)}`);
  }
  onlyKnown("", o, OPTIONS);
  const args = o.args === undefined ? [] : list("args", o.args, text);
  const env: Record<string, string> = {};
  if (o.env !== undefined) {
    if (!isRecord(o.env as unknown)) {
      throw new UsageError(`env: must be a plain object, not ${kind(o.env)}`);
    }
    for (const [key, value] of Object.entries(o.env)) {
      const problem = envKeyProblem(key);
      if (problem) throw new UsageError(`env: ${JSON.stringify(key)}: ${problem}`);
      env[key] = text(`env.${key}`, value);
    }
  }
  let chdir: string | undefined;
  if (o.cwd !== undefined) {
    chdir = o.cwd instanceof URL ? fileUrlPath("cwd", o.cwd) : text("cwd", o.cwd);
    if (!chdir.startsWith("/")) {
      chdir = `${(typeof cwd === "string" ? cwd : cwd()).replace(/\/$/, "")}/${chdir}`;
    }
  }
  for (const name of ["stdin", "stdout", "stderr"] as const) {
    const v = o[name];
    if (v !== undefined && !STDIO.includes(v)) {
      throw new UsageError(
        `${name}: ${JSON.stringify(v)} is not "inherit", "piped" or "null"`,
      );
    }
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new UsageError(`signal: must be an AbortSignal, not ${kind(o.signal)}`);
  }
  const killGraceMs = o.killGraceMs === undefined
    ? TIMEOUT_GRACE_MS
    : duration("killGraceMs", o.killGraceMs);

  const g = o.grants === undefined ? {} : o.grants;
  if (!isRecord(g as unknown)) {
    throw new UsageError(`grants: must be a plain object, not ${kind(g)}`);
  }
  onlyKnown("grants.", g, ["fds", "own"]);
  const fds = g.fds === undefined ? [] : list("grants.fds", g.fds, fdGrant);
  fds.forEach((grant, i) => {
    const clash = fds.slice(0, i).find((e) => fdEnvVar(e.name) === fdEnvVar(grant.name));
    if (clash) {
      throw new UsageError(
        `grants.fds[${i}].name: ${grant.name} is already granted as ${clash.name} (names are compared ignoring case)`,
      );
    }
  });
  const own = g.own === undefined ? [] : list("grants.own", g.own, ownGrant);
  const ownProblem = ownGrantsProblem(own, fds, "library");
  if (ownProblem) throw new UsageError(`grants.own: ${ownProblem}`);
  // ww's own variables, refused here as every other wrong option is, not at spawn.
  const envProblem =
    unbackedFdVariableProblem(env, [...fds, ...own].map((x) => x.name), "library") ??
      hostFdVariableProblem(env, false, "library");
  if (envProblem) throw new UsageError(envProblem);

  const j = o.jail === undefined ? {} : o.jail;
  if (!isRecord(j as unknown)) throw new UsageError(`jail: must be a plain object, not ${kind(j)}`);
  onlyKnown("jail.", j, JAIL_OPTIONS);
  const backend = j.backend === undefined ? DEFAULT_POLICY.backend : j.backend;
  const wrongBackend = backendProblem(backend);
  if (wrongBackend) throw new UsageError(wrongBackend);
  for (const flag of ["net", "allowWeakerJail"] as const) {
    if (j[flag] !== undefined && typeof j[flag] !== "boolean") {
      throw new UsageError(`jail.${flag}: must be a boolean, not ${kind(j[flag])}`);
    }
  }
  for (const id of ["uid", "gid"] as const) {
    const v: unknown = j[id];
    if (v !== undefined && typeof v !== "number") {
      throw new UsageError(`jail.${id}: must be a number, not ${kind(v)}`);
    }
    // Every backend's range (core/config.ts jailIdProblem): larger ids passed here and failed at
    // spawn.
    if (v !== undefined && jailIdProblem(v) !== undefined) {
      throw new UsageError(`jail.${id}: ${v} is not an id (0 to ${MAX_JAIL_ID})`);
    }
  }
  const timeoutMs = j.timeoutMs === undefined ? undefined : duration("jail.timeoutMs", j.timeoutMs);
  const ipfsApi = o.ipfsApi === undefined ? DEFAULT_IPFS_API : text("ipfsApi", o.ipfsApi);
  const api = ipfsApiUrl(ipfsApi);
  if ("error" in api) throw new UsageError(`ipfsApi: ${api.error}`);
  const ipfsTimeoutMs = o.ipfsTimeoutMs === undefined
    ? undefined
    : duration("ipfsTimeoutMs", o.ipfsTimeoutMs);
  if (o.trustNodeIpns !== undefined && typeof o.trustNodeIpns !== "boolean") {
    throw new UsageError(`trustNodeIpns: must be a boolean, not ${kind(o.trustNodeIpns)}`);
  }
  const config: RunConfig = {
    program: path,
    args,
    fds,
    own,
    env,
    ipfsApi,
    ...(ipfsTimeoutMs !== undefined ? { ipfsTimeoutMs } : {}),
    ...(o.trustNodeIpns ? { trustNodeIpns: true } : {}),
    jail: {
      ...DEFAULT_POLICY,
      backend,
      net: j.net ?? false,
      readOnlyBinds: j.readOnlyBinds === undefined
        ? []
        : list("jail.readOnlyBinds", j.readOnlyBinds, bind),
      writableBinds: j.writableBinds === undefined
        ? []
        : list("jail.writableBinds", j.writableBinds, bind),
      limits: limits(j.limits),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(j.uid !== undefined ? { uid: j.uid } : {}),
      ...(j.gid !== undefined ? { gid: j.gid } : {}),
      ...(chdir !== undefined ? { chdir } : {}),
      ...(j.allowWeakerJail ? { allowWeakerJail: true } : {}),
    },
  };
  return {
    config,
    stdio: { stdin: o.stdin, stdout: o.stdout, stderr: o.stderr },
    signal: o.signal,
    killGraceMs,
    host: host(o.host),
  };
}

function fileUrlPath(option: string, url: URL): string {
  if (url.protocol !== "file:") {
    throw new UsageError(`${option}: ${url.href} is not a file: URL`);
  }
  // file://otherhost/bin/true ran this machine's /bin/true (Deno: "Host must be empty").
  if (url.host !== "" && url.host !== "localhost") {
    throw new UsageError(
      `${option}: ${url.href} names host ${url.host}: only a local file can run`,
    );
  }
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    throw new UsageError(`${option}: ${url.href} has a malformed %-escape`);
  }
  return text(option, path);
}
