// jail/policy.ts — what a jail allows, as one value derived from the flags, and the parsing of the
// values those flags take (sizes, durations, binds). Pure: every backend plan is computed from a
// JailPolicy plus facts about the host that the caller gathers.

/**
 * Which mechanism enforces the policy: `bwrap` (namespaces), `native` (Landlock, seccomp and
 * limits, for machines without user namespaces), `auto` (bwrap when this machine can create
 * namespaces, native otherwise), or `none` (unjailed).
 *
 * @example
 * ```ts ignore
 * const backend: JailBackend = "native"; // Landlock, seccomp and rlimits, no namespaces
 * ```
 */
export type JailBackend = "auto" | "bwrap" | "native" | "none";
export const JAIL_BACKENDS: readonly JailBackend[] = ["auto", "bwrap", "native", "none"];

/**
 * Why `backend` (a library caller's jail.backend, typed or not) names no backend, or undefined.
 *
 * @example
 * backendProblem("docker"); // 'jail.backend: "docker" is not one of auto, bwrap, native, none'
 */
export function backendProblem(backend: unknown): string | undefined {
  return JAIL_BACKENDS.includes(backend as JailBackend)
    ? undefined
    : `jail.backend: ${JSON.stringify(backend)} is not one of ${JAIL_BACKENDS.join(", ")}`;
}

/**
 * A host path made visible inside the jail at `dest`.
 *
 * @example
 * ```ts ignore
 * const bind: Bind = { source: "/srv/data", dest: "/data" }; // --ro-bind /srv/data:/data
 * ```
 */
export interface Bind {
  /** The host path. */
  readonly source: string;
  /** Where the jail shows it (the same path unless moved; the native jail cannot move). */
  readonly dest: string;
}

/**
 * Resource limits (setrlimit, and the size of in-memory file systems); undefined: unlimited.
 *
 * @example
 * ```ts ignore
 * const limits: Limits = { ...DEFAULT_LIMITS, memoryBytes: 256 * 2 ** 20, cpuSeconds: 10 };
 * ```
 */
export interface Limits {
  /** RLIMIT_DATA: private writable memory per process, in bytes. */
  readonly memoryBytes?: number;
  /** RLIMIT_CPU, in seconds. */
  readonly cpuSeconds?: number;
  /** RLIMIT_NOFILE. */
  readonly openFiles?: number;
  /** RLIMIT_NPROC: processes (and threads) of the jail's user. */
  readonly processes?: number;
  /**
   * --tmp-size: the size of each in-memory file system the bwrap jail can write (/tmp with the
   * work directory, /dev/shm, and the work directory when it is not in /tmp), in bytes. Per mount:
   * tmpfs has no budget shared between mounts. The native jail's work directory is on the host's
   * TMPDIR and is not bounded by it.
   */
  readonly tmpBytes?: number;
}

/** The command-line flag that sets each limit. */
export const LIMIT_FLAGS: Readonly<Record<keyof Limits, string>> = {
  memoryBytes: "--memory",
  cpuSeconds: "--cpu",
  openFiles: "--nofile",
  processes: "--nproc",
  tmpBytes: "--tmp-size",
};

/**
 * What the jail allows: the backend, network, binds, limits and identity of one run.
 *
 * @example
 * ```ts ignore
 * const policy: JailPolicy = {
 *   ...DEFAULT_POLICY,
 *   readOnlyBinds: [{ source: "/srv/data", dest: "/srv/data" }],
 *   timeoutMs: 30_000,
 * };
 * ```
 */
export interface JailPolicy {
  /** Which mechanism enforces it (see JailBackend). */
  readonly backend: JailBackend;
  /** Share the host's network namespace. */
  readonly net: boolean;
  /** --ro-bind: host paths shown read-only. */
  readonly readOnlyBinds: readonly Bind[];
  /** --bind: host paths shown read-write. */
  readonly writableBinds: readonly Bind[];
  /** Resource limits (DEFAULT_LIMITS by default). */
  readonly limits: Limits;
  /**
   * Wall-clock limit, from when ww has the program (an IPFS one once fetched), the start's waits
   * included (a grant's FIFO, connect or name lookup): SIGTERM at this point, SIGKILL after
   * TIMEOUT_GRACE_MS more; expired before the spawn, the start rejects with a TimedOutError.
   */
  readonly timeoutMs?: number;
  /** The program's uid and gid (default nobody, 65534; the native jail keeps ww's unless root). */
  readonly uid?: number;
  /** See uid. */
  readonly gid?: number;
  /**
   * The program's working directory (--chdir), a path as the jail shows it; it must be visible
   * there. Default: the run's private work directory.
   */
  readonly chdir?: string;
  /** Run under the native jail even when this kernel lacks some of its protections. */
  readonly allowWeakerJail?: boolean;
}

/**
 * The default limits: generous for real programs, but a fork or memory bomb stops.
 *
 * @example
 * ```ts ignore
 * const policy: JailPolicy = { ...DEFAULT_POLICY, limits: { ...DEFAULT_LIMITS, cpuSeconds: 60 } };
 * ```
 */
export const DEFAULT_LIMITS: Limits = Object.freeze({
  memoryBytes: 4 * 2 ** 30,
  openFiles: 1024,
  processes: 512,
  tmpBytes: 512 * 2 ** 20,
});

/** Time between SIGTERM and SIGKILL when --timeout expires. */
export const TIMEOUT_GRACE_MS = 2000;

/**
 * The default profile: every namespace, no network, nothing bound but the system.
 *
 * @example
 * ```ts ignore
 * const config: RunConfig = {
 *   program: "/bin/true", args: [], fds: [], env: {}, ipfsApi: DEFAULT_IPFS_API,
 *   jail: DEFAULT_POLICY,
 * };
 * ```
 */
export const DEFAULT_POLICY: JailPolicy = Object.freeze({
  backend: "auto",
  net: false,
  readOnlyBinds: Object.freeze([]),
  writableBinds: Object.freeze([]),
  limits: DEFAULT_LIMITS,
});

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
};

/**
 * "512M", "1.5G", "2G", "1048576", "unlimited" (binary units; a fraction of a unit is rounded to
 * the nearest byte). undefined means unlimited.
 *
 * @example
 * parseSize("1.5G"); // 1610612736
 * parseSize("1.5"); // { error: "1.5 is not a whole number of bytes (give a unit: 1.5K)" }
 */
export function parseSize(text: string): number | undefined | { error: string } {
  if (text === "unlimited") return undefined;
  // A unit may be spelt K, KB or KiB; bytes alone, 512 or 512B (not 512iB).
  const m = /^(\d+(?:\.\d+)?)(?:([KMGTkmgt])(?:i?B)?|B?)$/.exec(text);
  if (!m) return { error: `${JSON.stringify(text)} is not a size like 512M, 1.5G or unlimited` };
  m[2] ??= "";
  if (m[2] === "" && m[1].includes(".")) {
    return { error: `${text} is not a whole number of bytes (give a unit: ${m[1]}K)` };
  }
  const bytes = Math.round(Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()]);
  if (bytes === 0) return { error: `${text} is not a positive size (or say unlimited)` };
  if (!Number.isSafeInteger(bytes)) {
    return { error: `${text} is more than the largest size, 8191T (or say unlimited)` };
  }
  return bytes;
}

/**
 * `bytes` as the shortest size text that parseSize reads back as exactly `bytes`: what was typed,
 * for the sizes people type.
 *
 * @example
 * formatSize(64 * 2 ** 20); // "64M"
 * formatSize(943718); // "0.9M" (parseSize("0.9M") rounds to it)
 * formatSize(1000); // "1000"
 */
export function formatSize(bytes: number): string {
  let best = String(bytes);
  for (const unit of ["K", "M", "G", "T"]) {
    const scale = SIZE_UNITS[unit.toLowerCase()];
    for (let digits = 0; digits <= 3; digits++) {
      const text = `${Number((bytes / scale).toFixed(digits))}${unit}`;
      // Of two as short, one with a unit: 1.5K, not 1536.
      const shorter = text.length < best.length ||
        (text.length === best.length && /\d$/.test(best));
      if (shorter && parseSize(text) === bytes) best = text;
    }
  }
  return best;
}

/**
 * The longest duration ww accepts, in milliseconds: 2^31-1, the most a JavaScript timer can wait
 * (a longer one fires at once, with a TimeoutOverflowWarning). About 596 hours, 24.8 days.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** A duration's units, largest first, in milliseconds. */
const DURATION_UNITS: Readonly<Record<string, number>> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};

/** One term of a duration: a number and its unit ("ms" before "m", or 5ms would read as 5m). */
const DURATION_TERM = /(\d+(?:\.\d+)?)(ms|h|m|s)/y;

/**
 * The milliseconds `text` adds up to, exactly (not rounded), or undefined when it is no duration:
 * bare seconds ("90"), or terms of a number and a unit each, largest unit first and each at most
 * once ("1h30m", "1m30s", "1.5m", "500ms"). The one reading of every duration ww takes (--timeout,
 * --ipfs-timeout, --cpu).
 */
function durationMs(text: string): number | undefined {
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text) * 1000;
  let total = 0;
  let previous = Infinity;
  let at = 0;
  while (at < text.length) {
    DURATION_TERM.lastIndex = at;
    const m = DURATION_TERM.exec(text);
    const scale = m ? DURATION_UNITS[m[2]] : undefined;
    if (!m || scale === undefined || scale >= previous) return undefined;
    total += Number(m[1]) * scale;
    previous = scale;
    at = DURATION_TERM.lastIndex;
  }
  return at === 0 ? undefined : total;
}

/** The forms a duration takes, for the line that refuses one. */
const DURATION_FORMS = "30s, 500ms, 2m or 1m30s";

/**
 * "30s", "500ms", "2m", "1h", "1m30s" (units h, m, s, ms, largest first), or bare seconds; in
 * milliseconds, from 1 ms to MAX_DURATION_MS.
 *
 * @example
 * parseDuration("1.5m"); // 90000
 * parseDuration("1m30s"); // 90000
 * parseDuration("597h"); // { error: "597h is longer than the maximum, 596h (about 24.8 days)" }
 */
export function parseDuration(text: string): number | { error: string } {
  const exact = durationMs(text);
  if (exact === undefined) {
    return { error: `${JSON.stringify(text)} is not a duration like ${DURATION_FORMS}` };
  }
  const ms = Math.round(exact);
  // Below 1 ms is refused however it would round (0.5ms was taken as 1ms, 0.4ms refused).
  const problem = outOfRange(exact < 1 ? 0 : ms);
  return problem ? { error: `${text} ${problem}` } : ms;
}

/**
 * Why `name` is no limit of a library caller's jail.limits, or undefined when it is one.
 *
 * @example
 * limitNameProblem("files");
 * // "jail.limits.files: not a limit (known: memoryBytes, cpuSeconds, openFiles, processes, tmpBytes)"
 */
export function limitNameProblem(name: string): string | undefined {
  if (Object.hasOwn(LIMIT_FLAGS, name)) return undefined;
  return `jail.limits.${name}: not a limit (known: ${Object.keys(LIMIT_FLAGS).join(", ")})`;
}

/**
 * Why `value` cannot be limit `key` of a library caller's jail.limits, or undefined: a positive
 * whole number, or undefined for unlimited (the command line's parseSize and parseCount make no
 * other).
 *
 * @example
 * limitValueProblem("cpuSeconds", -1);
 * // "jail.limits.cpuSeconds: -1 is not a positive whole number (or undefined for unlimited)"
 */
export function limitValueProblem(key: keyof Limits, value: unknown): string | undefined {
  if (value === undefined || (Number.isSafeInteger(value) && (value as number) > 0)) {
    return undefined;
  }
  // As given: the string "10" and the BigInt 10n both printed as 10, a number.
  const shown = typeof value === "string"
    ? JSON.stringify(value)
    : typeof value === "bigint"
    ? `${value}n`
    : typeof value === "object" && value !== null
    ? "an object"
    : String(value);
  return `jail.limits.${key}: ${shown} is not a positive whole number (or undefined for unlimited)`;
}

/**
 * Why `ms`, the value of `option`, cannot be a duration (1 ms to MAX_DURATION_MS), as a message
 * naming it, or undefined; for durations that come from the library rather than from
 * parseDuration.
 *
 * @example
 * durationProblem("jail.timeoutMs", 0); // "jail.timeoutMs: 0 ms is shorter than the minimum, 1ms"
 * durationProblem("jail.timeoutMs", NaN); // "jail.timeoutMs: NaN is not a number of ms"
 */
export function durationProblem(option: string, ms: number): string | undefined {
  if (Number.isNaN(ms)) return `${option}: NaN is not a number of ms`;
  const problem = outOfRange(ms);
  return problem ? `${option}: ${ms} ms ${problem}` : undefined;
}

/** Why a number of ms (not NaN) is outside 1 ms to MAX_DURATION_MS, or undefined. */
function outOfRange(ms: number): string | undefined {
  if (ms > MAX_DURATION_MS) {
    return `is longer than the maximum, ${Math.floor(MAX_DURATION_MS / 3_600_000)}h (about ${
      Math.floor(MAX_DURATION_MS / 8_640_000) / 10
    } days)`;
  }
  if (ms < 1) return "is shorter than the minimum, 1ms";
  return undefined;
}

/** A positive whole number or "unlimited". */
export function parseCount(text: string): number | undefined | { error: string } {
  if (text === "unlimited") return undefined;
  if (!/^\d+$/.test(text) || Number(text) <= 0) {
    return { error: `${JSON.stringify(text)} is not a positive whole number or unlimited` };
  }
  if (!Number.isSafeInteger(Number(text))) {
    return {
      error:
        `${text} is more than the largest count, ${Number.MAX_SAFE_INTEGER} (or say unlimited)`,
    };
  }
  return Number(text);
}

/**
 * A CPU time for --cpu: whole seconds, as a count (`90`) or a duration as --timeout takes it
 * (`90s`, `2m`, `1m30s`, `1h`) that comes to whole seconds; `unlimited` is undefined.
 *
 * @example
 * parseCpuSeconds("2m"); // 120
 * parseCpuSeconds("1m30s"); // 90
 * parseCpuSeconds("1.5s"); // { error: '"1.5s" is not a positive whole number of seconds, like 90, 90s, 2m, 1m30s or 1h, or unlimited' }
 */
export function parseCpuSeconds(text: string): number | undefined | { error: string } {
  if (text === "unlimited") return undefined;
  const ms = durationMs(text);
  // Rounded to the millisecond first: 1.1m is 66000.00000000001 ms in floating point.
  const seconds = ms === undefined ? NaN : Math.round(ms) / 1000;
  if (seconds > Number.MAX_SAFE_INTEGER) {
    return {
      error:
        `${text} is more than the largest count of seconds, ${Number.MAX_SAFE_INTEGER} (or say unlimited)`,
    };
  }
  if (!Number.isInteger(seconds) || seconds <= 0) {
    return {
      error: `${
        JSON.stringify(text)
      } is not a positive whole number of seconds, like 90, 90s, 2m, 1m30s or 1h, or unlimited`,
    };
  }
  return seconds;
}

/** `src[:dest]`; dest defaults to src. Both must be absolute once src is resolved by the caller. */
export function parseBind(text: string): { source: string; dest?: string } | { error: string } {
  if (text === "") return { error: "the path is empty" };
  const colon = text.indexOf(":");
  const source = colon < 0 ? text : text.slice(0, colon);
  const dest = colon < 0 ? undefined : text.slice(colon + 1);
  if (source === "") return { error: "the source path is empty" };
  if (dest !== undefined && !dest.startsWith("/")) {
    // The first ':' separates the two: a path with a ':' of its own cannot be named here.
    return {
      error: `the destination ${
        JSON.stringify(dest)
      } (after the first ':') must be an absolute path; a source path with ':' in it cannot be named here (bind a link to it)`,
    };
  }
  if (dest === "/") return { error: "cannot bind over the jail's root /" };
  return { source, dest };
}
