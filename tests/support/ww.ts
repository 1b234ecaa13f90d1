// tests/support/ww.ts — runs the real `ww` as a separate process, the way a user would, from a
// caller that holds whatever descriptors a test asks for. ww is `deno run -A main.ts`, or the
// compiled binary named by $WW_BIN. The caller is bash, which opens the descriptors with
// redirections and then becomes ww with exec, so ww inherits them as any program would.

import { fileURLToPath } from "node:url";

/** The repository root, with a trailing slash. */
export const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** How ww confines the child: `--jail=none`, or whatever ww does by default. */
export type JailMode = "none" | "default";

/** The jail modes the fd and environment tests run under. */
export const JAIL_MODES: readonly JailMode[] = ["none", "default"];

/** The `ww run` flags that select `mode`. */
export function jailFlags(mode: JailMode): string[] {
  return mode === "none" ? ["--jail=none"] : [];
}

/** The command line that starts ww. */
export function wwCommand(): string[] {
  const bin = Deno.env.get("WW_BIN");
  return bin ? [bin] : [Deno.execPath(), "run", "-A", `${REPO}main.ts`];
}

/** A descriptor the caller opens before starting ww. */
export type CallerFd =
  | { readonly read: string }
  | { readonly write: string }
  | { readonly readWrite: string }
  | { readonly append: string }
  /** The read end of a pipe that carries `pipe` and then ends. */
  | { readonly pipe: string };

export interface WwOptions {
  /** The command that starts ww, instead of wwCommand() (e.g. `deno run -A` of a bundle). */
  readonly ww?: readonly string[];
  /** Descriptors the caller holds (by number) when it starts ww. */
  readonly fds?: Readonly<Record<number, CallerFd>>;
  /** Variables added to the caller's environment (this process's). */
  readonly env?: Readonly<Record<string, string>>;
  /** Written to ww's stdin, which is otherwise /dev/null. */
  readonly stdin?: string;
  /** Bash run by the caller before it starts ww, with its descriptors open. */
  readonly before?: string;
  /**
   * Bash run by the caller after ww ends instead of exec'ing ww (ww's exit code is in $ww). The
   * caller's descriptors are still open there.
   */
  readonly then?: string;
}

/** How a run of ww ended. */
export interface WwResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `ww <args...>` from a bash caller holding `options.fds`.
 *
 * @example
 * const { code, stdout } = await runWw(["run", "--with-fd", "db=7", child], {
 *   fds: { 7: { read: "/etc/hostname" } },
 * });
 */
export async function runWw(args: readonly string[], options: WwOptions = {}): Promise<WwResult> {
  const script = callerScript(options);
  const output = await new Deno.Command("/bin/bash", {
    args: ["-c", script, "caller", ...(options.ww ?? wwCommand()), ...args],
    env: { ...Deno.env.toObject(), ...options.env },
    clearEnv: true,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const { code, stdout, stderr } = await withinDeadline(
    (async () => {
      if (options.stdin !== undefined) {
        const writer = output.stdin.getWriter();
        await writer.write(new TextEncoder().encode(options.stdin));
        await writer.close();
      }
      return await output.output();
    })(),
    `ww ${args.join(" ")}`,
    () => output.kill("SIGKILL"),
  );
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

/**
 * How long a test waits for one run of ww (its exit and the end of its output) before it kills ww
 * and fails. No run in the suite comes near it; it makes a hang cost one test, not the suite.
 */
export const RUN_DEADLINE_MS = 300_000;

/**
 * `work`, or, when it has not settled within `ms`, `stop()` and an error that names `what`. What
 * `stop` could not end (a program that outlived ww and holds its output) the test's resource check
 * then reports as well.
 */
export async function withinDeadline<T>(
  work: Promise<T>,
  what: string,
  stop: () => void,
  ms = RUN_DEADLINE_MS,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      try {
        stop();
      } catch { /* it ended meanwhile; what holds its output is the error's to name */ }
      reject(new Error(`${what}: did not end within ${ms / 1000} s; killed`));
    }, ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs ww as the unprivileged user `uid` (its gid the same, supplementary groups `groups`, none by
 * default; util-linux setpriv), in an environment of its own: HOME and Deno's cache (which that
 * user needs) below `home`, the system's PATH, and `env`.
 */
export async function runWwAsUser(
  uid: number,
  args: readonly string[],
  home: string,
  env: Readonly<Record<string, string>> = {},
  groups: readonly number[] = [],
): Promise<WwResult> {
  return await outputOf(
    [
      "setpriv",
      `--reuid=${uid}`,
      `--regid=${uid}`,
      groups.length > 0 ? `--groups=${groups.join(",")}` : "--clear-groups",
      "--",
      ...wwCommand(),
      ...args,
    ],
    { HOME: home, DENO_DIR: `${home}/deno`, PATH: "/usr/bin:/bin", ...env },
  );
}

/** Runs `command` with exactly `env`, stdin from /dev/null: its exit code and output as text. */
export async function outputOf(
  command: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<WwResult> {
  const [cmd, ...args] = command;
  const proc = new Deno.Command(cmd, {
    args,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = await withinDeadline(
    proc.output(),
    command.join(" "),
    () => proc.kill("SIGKILL"),
  );
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** The bash program of the caller: open the descriptors, then run ww ("$@"). */
export function callerScript(options: Pick<WwOptions, "fds" | "before" | "then">): string {
  // Descriptors up to 2048 need a higher limit than the usual soft 1024.
  const lines = ["set -e", "ulimit -n 4096"];
  for (const [fd, spec] of Object.entries(options.fds ?? {})) {
    lines.push(`exec ${redirection(Number(fd), spec)}`);
  }
  if (options.before !== undefined) lines.push(options.before);
  if (options.then === undefined) {
    lines.push('exec "$@"');
  } else {
    lines.push("set +e", '"$@"', "ww=$?", options.then);
  }
  return lines.join("\n");
}

function redirection(fd: number, spec: CallerFd): string {
  if ("read" in spec) return `${fd}<${quote(spec.read)}`;
  if ("write" in spec) return `${fd}>${quote(spec.write)}`;
  if ("readWrite" in spec) return `${fd}<>${quote(spec.readWrite)}`;
  if ("append" in spec) return `${fd}>>${quote(spec.append)}`;
  return `${fd}< <(printf %s ${quote(spec.pipe)})`;
}

/** `s` as one bash word. */
export function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The lines of ww's stderr, without the warning that --jail=none prints on every run. */
export function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l !== "" && !/^ww: warning: .* runs NOT jailed/.test(l));
}

/** How a run of ww ended, and its peak memory. */
export interface MeasuredResult extends WwResult {
  /** ww's peak resident set (VmHWM), in bytes. */
  readonly peak: number;
  /** The most descriptors ww held at once, sampled as `peak` is. */
  readonly peakFds: number;
}

/**
 * Runs `ww <args...>` like runWw, with `env` added to this process's environment, and samples
 * ww's VmHWM and its count of descriptors every 20 ms until it exits (the caller execs ww, so ww
 * keeps the caller's pid).
 *
 * @example
 * const { peak } = await runWwMeasured(["run", guest, "bench", "2000"]);
 */
export async function runWwMeasured(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<MeasuredResult> {
  const child = new Deno.Command("/bin/bash", {
    args: ["-c", callerScript({}), "caller", ...wwCommand(), ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let peak = 0;
  let peakFds = 0;
  let running = true;
  const output = withinDeadline(
    child.output(),
    `ww ${args.join(" ")}`,
    () => child.kill("SIGKILL"),
  ).finally(() => (running = false));
  // Its failure is awaited below, once the sampling has stopped.
  output.catch(() => {});
  while (running) {
    try {
      const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      // Before the exec this is bash's own figure, far smaller than ww's.
      if (hwm) peak = Math.max(peak, Number(hwm[1]) * 1024);
      if (hwm) peakFds = Math.max(peakFds, [...Deno.readDirSync(`/proc/${child.pid}/fd`)].length);
    } catch {
      break; // ww has exited
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const { code, stdout, stderr } = await output;
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: text(stdout), stderr: text(stderr), peak, peakFds };
}

/**
 * Starts `ww run <args>` with piped output and no stdin; `until` resolves the `watch`ed stream
 * (ww's stderr, or the program's stdout) so far once it matches `pattern` (a line ww prints
 * before the program runs, or one the program prints), `end` waits for the end.
 */
export function startWw(
  args: readonly string[],
  env: Record<string, string> = {},
  watch: "stderr" | "stdout" = "stderr",
) {
  const proc = new Deno.Command(wwCommand()[0], {
    args: [...wwCommand().slice(1), "run", ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = proc[watch].pipeThrough(new TextDecoderStream()).getReader();
  const other = new Response(proc[watch === "stderr" ? "stdout" : "stderr"]).text();
  let text = "";
  const what = `ww run ${args.join(" ")}`;
  const stop = () => proc.kill("SIGKILL");
  async function until(pattern: RegExp): Promise<string> {
    return await withinDeadline(
      (async () => {
        while (!pattern.test(text)) {
          const { value, done } = await reader.read();
          if (done) {
            throw new Error(`ww's ${watch} ended without ${pattern}:\n${text}\n${await other}`);
          }
          text += value;
        }
        return text;
      })(),
      `${what} (waiting for ${pattern})`,
      stop,
    );
  }
  async function end(): Promise<{ code: number; stderr: string; stdout: string }> {
    return await withinDeadline(
      (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += value;
        }
        const code = (await proc.status).code;
        return watch === "stderr"
          ? { code, stderr: text, stdout: await other }
          : { code, stderr: await other, stdout: text };
      })(),
      what,
      stop,
    );
  }
  return { proc, until, end };
}
