// tests/jail/hostile.ts — runs tests/jail/hostile.c under the real `ww run`, and sets up the host
// side of its probes: a TCP, an abstract unix and a unix-by-path listener, secret files in the caller's cwd and
// $HOME, a host directory to write into, a setuid-root program, a private TMPDIR for ww.

import { join } from "node:path";
import { buildC } from "../support/build.ts";
import { acceptEach } from "../support/listeners.ts";
import { processesWithArg } from "../support/procs.ts";
import { quote, wwCommand } from "../support/ww.ts";

/** One probe's outcome: `escaped` is true when the attempted access succeeded. */
export interface Outcome {
  escaped: boolean;
  detail: string;
}

/** probe name -> outcome, as hostile prints it. */
export type Report = Record<string, Outcome>;

/** The built tests/jail/hostile.c. */
export function hostileBinary(): Promise<string> {
  return buildC(new URL("./hostile.c", import.meta.url));
}

/**
 * Whether this machine executes i386 system calls (int 0x80) at all: some hypervisors give it
 * SIGSEGV even where the kernel is built with IA32_EMULATION. Asked of the probe run directly,
 * without ww, so that the answer is the machine's and not any jail's.
 */
export async function i386EntryMissing(): Promise<boolean> {
  if (Deno.build.arch !== "x86_64") return false;
  const out = await new Deno.Command(await hostileBinary(), {
    args: ["chroot_i386"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const report = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  return /killed by signal 11 /.test(report.chroot_i386.detail);
}

/** What a listener answers, so a probe's detail shows that it reached this very listener. */
export function greeting(listener: string): string {
  return `hello-from-host-${listener}`;
}

/** The host side of the probes; `params` are the hostile parameters that point at it. */
export interface Host {
  /** The caller's cwd when it starts ww; holds a secret file. */
  readonly callerCwd: string;
  /** A file only the host has, in callerCwd and in $HOME. */
  readonly cwdFile: string;
  readonly homeFile: string;
  /** A host directory outside the jail (writable for root). */
  readonly hostDir: string;
  /** ww's TMPDIR: its work directories are made here. */
  readonly tmpDir: string;
  /** A directory holding `setuid`, a setuid-root copy of hostile (mode 4755, owner root). */
  readonly setuidDir: string;
  readonly setuid: string;
  /** The block device the root file system is on, and its "major:minor". */
  readonly disk: string;
  readonly diskDev: string;
  readonly tcpPort: number;
  readonly abstractName: string;
  /** Every parameter a probe reads, except the per-run ones (marker, wwpid). */
  readonly params: Readonly<Record<string, string>>;
  /** Stops the listeners and removes what setUpHost made (and what a probe left there). */
  close(): void;
}

/** Makes the host side of the probes. The caller must be root (for the setuid-root copy). */
export async function setUpHost(): Promise<Host> {
  if (Deno.uid() !== 0) {
    throw new Error("the jail escape tests must run as root (setuid-root program, root controls)");
  }
  const binary = await hostileBinary();
  const made: string[] = [];
  const dir = (prefix: string) => {
    const path = Deno.makeTempDirSync({ prefix });
    made.push(path);
    return path;
  };
  const callerCwd = dir("wwtest-caller-");
  const cwdFile = join(callerCwd, "caller-secret.txt");
  Deno.writeTextFileSync(cwdFile, "secret in the caller's cwd\n");
  const home = Deno.env.get("HOME");
  if (!home) throw new Error("$HOME is not set; the escape tests put a secret file there");
  const homeFile = join(home, `.wwtest-secret-${crypto.randomUUID()}`);
  Deno.writeTextFileSync(homeFile, "secret in $HOME\n");
  made.push(homeFile);
  const hostDir = dir("wwtest-hostdir-");
  Deno.chmodSync(hostDir, 0o755); // binds below it must be reachable by the jail's user, nobody
  const tmpDir = dir("wwtest-tmp-");
  const setuidDir = dir("wwtest-setuid-");
  Deno.chmodSync(setuidDir, 0o755);
  const setuid = join(setuidDir, "print-creds");
  Deno.copyFileSync(binary, setuid);
  Deno.chownSync(setuid, 0, 0);
  Deno.chmodSync(setuid, 0o4755);

  const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const abstractName = `wwtest-${crypto.randomUUID()}`;
  const abstract = Deno.listen({ transport: "unix", path: `\0${abstractName}` });
  // A world-writable socket in a host directory, as an ssh-agent's, D-Bus's or X11's are.
  const pathSocket = join(hostDir, "host.sock");
  const path = Deno.listen({ transport: "unix", path: pathSocket });
  Deno.chmodSync(pathSocket, 0o777);
  serve(tcp, greeting("tcp"));
  serve(abstract, greeting("abstract"));
  serve(path, greeting("path"));

  const { disk, diskDev } = rootDisk();
  const tmpInfo = Deno.statSync(tmpDir);
  const tcpPort = tcp.addr.port;
  return {
    callerCwd,
    cwdFile,
    homeFile,
    hostDir,
    tmpDir,
    setuidDir,
    setuid,
    disk,
    diskDev,
    tcpPort,
    abstractName,
    params: {
      cwdfile: cwdFile,
      homefile: homeFile,
      hostdir: hostDir,
      tmpid: `${tmpInfo.dev}:${tmpInfo.ino}`,
      hostpid: String(Deno.pid),
      tcp: String(tcpPort),
      abstract: abstractName,
      pathsock: pathSocket,
      setuid,
      disk,
      diskdev: diskDev,
      fds: "0,1,2,3",
    },
    close() {
      tcp.close();
      abstract.close();
      path.close();
      for (const path of made.reverse()) Deno.removeSync(path, { recursive: true });
    },
  };
}

// Answers every connection with `text`, then hangs up.
function serve(listener: Deno.Listener, text: string): Promise<void> {
  return acceptEach(listener, (conn) => {
    conn.write(new TextEncoder().encode(text)).catch(() => {}).finally(() => conn.close());
  });
}

// The device under /: /proc/self/mountinfo's "major:minor" and its /dev node.
function rootDisk(): { disk: string; diskDev: string } {
  for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
    const f = line.split(" ");
    if (f[4] !== "/") continue;
    const source = f[f.indexOf("-") + 2];
    if (source?.startsWith("/dev/")) return { disk: source, diskDev: f[2] };
  }
  throw new Error("cannot find the block device of / in /proc/self/mountinfo");
}

export interface HostileOptions {
  /** `none` adds --jail=none; default: ww's default jail. */
  readonly jail?: "default" | "none";
  /** More `ww run` flags, before the program. */
  readonly flags?: readonly string[];
  readonly probes: readonly string[];
  /** Parameters (key=value words); a fresh marker= is added unless given. */
  readonly params?: Readonly<Record<string, string>>;
  /** Bash commands the caller runs before it execs ww, e.g. `exec 9</etc/hostname`. */
  readonly before?: string;
  /**
   * Give ww (and so the program: ww runs with --no-tty, or it would give the program a terminal
   * of its own) a pseudo-terminal as stdin, stdout and stderr, via script(1).
   */
  readonly tty?: boolean;
  /** Run hostile directly from the caller, without ww (to prove a probe can see an escape). */
  readonly direct?: boolean;
  /** The caller's working directory. */
  readonly cwd?: string;
  /** ww's TMPDIR. */
  readonly tmpDir?: string;
}

/** How a run ended, and hostile's report. */
export interface HostileRun {
  readonly code: number;
  readonly report: Report;
  readonly stdout: string;
  readonly stderr: string;
  /** The parameters the run had, marker included. */
  readonly params: Readonly<Record<string, string>>;
  readonly ms: number;
}

/**
 * Runs `ww run [flags] hostile <params> <probes>` from a bash caller and parses the report. The
 * caller appends `wwpid=<its pid>` and then execs ww, so that is ww's pid, known to the program
 * although it cannot see it in its own pid namespace.
 *
 * @example
 * const run = await runHostile({ probes: ["read_shadow"] });
 * run.report.read_shadow.escaped; // false
 */
export async function runHostile(options: HostileOptions): Promise<HostileRun> {
  const started = performance.now();
  const child = await spawnHostile(options);
  const { code, stdout: out, stderr: err } = await child.process.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b).replaceAll("\r", "");
  const stdout = decode(out);
  const stderr = decode(err);
  return {
    code,
    report: parseReport(stdout, stderr),
    stdout,
    stderr,
    params: child.params,
    ms: performance.now() - started,
  };
}

/** A hostile run in progress. */
export interface RunningHostile {
  readonly process: Deno.ChildProcess;
  /** ww's pid (the caller execs ww), or hostile's when `direct`. */
  readonly pid: number;
  readonly params: Readonly<Record<string, string>>;
}

/** Starts hostile like runHostile, with stdout and stderr piped, and returns at once. */
export async function spawnHostile(options: HostileOptions): Promise<RunningHostile> {
  const binary = await hostileBinary();
  const params = { marker: crypto.randomUUID(), ...options.params };
  const words = [
    binary,
    ...Object.entries(params).map(([k, v]) => `${k}=${v}`),
    ...options.probes,
  ];
  const ww = options.direct ? [] : [
    ...wwCommand(),
    "run",
    ...(options.jail === "none" ? ["--jail=none"] : []),
    ...(options.tty ? ["--no-tty"] : []),
    ...(options.flags ?? []),
  ];
  const caller = [
    options.before ?? "",
    `exec ${[...ww, ...words].map(quote).join(" ")} "wwpid=$$"`,
  ].join("\n");
  const [cmd, ...args] = options.tty
    ? ["script", "--quiet", "--return", "--command", caller, "/dev/null"]
    : ["/bin/bash", "-c", caller];
  const env: Record<string, string> = { ...Deno.env.toObject(), SHELL: "/bin/bash" };
  if (options.tmpDir) env.TMPDIR = options.tmpDir;
  const process = new Deno.Command(cmd, {
    args,
    env,
    clearEnv: true,
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return { process, pid: process.pid, params };
}

/** The report on the last line of `stdout` that starts with "{". */
export function parseReport(stdout: string, stderr = ""): Report {
  const line = stdout.trim().split("\n").reverse().find((l) => l.startsWith("{"));
  if (!line) throw new Error(`hostile printed no report.\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  return JSON.parse(line);
}

/** The outcome of `probe` in `run`; fails when the report lacks it or ww failed. */
export function outcome(run: HostileRun, probe: string): Outcome {
  const o = run.report[probe];
  if (run.code !== 0 || !o) {
    throw new Error(
      `ww exited ${run.code}, report ${JSON.stringify(run.report)}\nstderr:\n${run.stderr}`,
    );
  }
  return o;
}

/** Kills (SIGKILL) every process whose argv holds `marker`; returns how many there were. */
export function killMarked(marker: string): number {
  const pids = processesWithArg(marker);
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* already gone */ }
  }
  return pids.length;
}

/** Polls `predicate` every 50 ms until it holds or `ms` pass; returns its last value. */
export async function waitFor(predicate: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  for (;;) {
    if (predicate()) return true;
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
