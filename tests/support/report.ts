// tests/support/report.ts — the JSON that tests/run/report_fds.c prints, typed, and helpers to ask
// it questions.

/** One open descriptor of the child. */
export interface FdReport {
  fd: number;
  /** The /proc/self/fd link: a path, "pipe:[ino]", "socket:[ino]", ... */
  target: string;
  kind: "pipe" | "socket" | "file" | "char" | "dir" | "block" | "other";
  dev: number;
  ino: number;
  /** fcntl(F_GETFL): access mode and status flags of the open file description. */
  flags: number;
  cloexec: boolean;
  /** lseek(fd, 0, SEEK_CUR), -1 where there is no offset (pipes, sockets). */
  offset: number;
  /** SO_DOMAIN and SO_TYPE, for sockets. */
  domain?: number;
  type?: number;
}

/** Everything report_fds prints. */
export interface ChildReport {
  pid: number;
  ppid: number;
  cwd: string;
  /** Permission bits of the working directory. */
  cwdMode: number;
  fds: FdReport[];
  env: Record<string, string>;
  /** fd (as a string) -> the line read from it with `read=FD`. */
  lines: Record<string, string>;
}

export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const O_ACCMODE = 3;
export const O_NONBLOCK = 0o4000;

/** The report on the last line of `stdout` that parses as a report. */
export function parseReport(stdout: string): ChildReport {
  const line = stdout.trim().split("\n").reverse().find((l) => l.startsWith('{"pid":'));
  if (!line) throw new Error(`no report_fds report in output:\n${stdout}`);
  return JSON.parse(line);
}

/** The descriptor numbers the child holds. */
export function fdNumbers(report: { fds: { fd: number }[] }): number[] {
  return report.fds.map((f) => f.fd);
}

/** The descriptor `fd` of a report; throws when it is not open there. */
export function fdOf<T extends { fd: number }>(report: { fds: T[] }, fd: number): T {
  const found = report.fds.find((f) => f.fd === fd);
  if (!found) {
    throw new Error(`fd ${fd} is not open in the child (open: ${fdNumbers(report).join(" ")})`);
  }
  return found;
}

/** "dev:ino", the identity of the object behind a descriptor or a path. */
export function identity(x: { dev: number; ino: number }): string {
  return `${x.dev}:${x.ino}`;
}

/** The identity of the file at `path` (following symlinks). */
export function pathIdentity(path: string): string {
  const info = Deno.statSync(path);
  return `${info.dev}:${info.ino}`;
}

/**
 * A report with what necessarily differs between two runs of the same program taken out: pipes
 * and sockets are new objects on every run (files are the caller's own), so only their kind stays.
 */
export function comparableReport(r: ChildReport) {
  return {
    cwdMode: r.cwdMode,
    env: r.env,
    lines: r.lines,
    fds: r.fds.map((f) => ({
      fd: f.fd,
      kind: f.kind,
      flags: f.flags,
      cloexec: f.cloexec,
      offset: f.offset,
      domain: f.domain,
      type: f.type,
      target: /^(pipe|socket):/.test(f.target) ? f.target.split(":")[0] : f.target,
    })),
  };
}
