#!/usr/bin/env -S deno run -q -A
// examples/fd-demo/main.ts — a guest program for `ww run` that prints, as one JSON line, what it
// was given: its open descriptors and what each one is, the WW_FD_* map, its environment and its
// working directory, and a line read from each descriptor named with `--read NAME` (a WW_FD_ name
// or an fd number). Runs under Deno (`deno run -A`) and Node (after type stripping).
//
//   ww run --with-fd db=7 --env GREETING=hi --deno examples/fd-demo/main.ts --read db 7<some-file
//
// (--deno bundles it on the host and runs the bundle with ww's own deno, both bound read-only into
// the jail; the child's environment is then DENO_DIR, GREETING and WW_FD_DB.)

import { readdirSync, readFileSync, readlinkSync, readSync, statSync } from "node:fs";
import { getFdMap } from "../guest/fdmap.ts";

/** One open descriptor, as /proc/self/fd and stat(2) describe it. */
export interface FdInfo {
  fd: number;
  /** The /proc/self/fd link: a path, "pipe:[ino]", "socket:[ino]", "anon_inode:[...]". */
  target: string;
  kind: "pipe" | "socket" | "file" | "char" | "dir" | "block" | "other";
  dev: number;
  ino: number;
}

/** What this program prints. */
export interface DemoReport {
  runtime: "deno" | "node";
  pid: number;
  cwd: string;
  fds: FdInfo[];
  fdMap: Record<string, number>;
  /** The environment exactly as exec(2) passed it (runtimes add variables of their own later). */
  env: Record<string, string>;
  /** name given to --read -> the line read from that descriptor. */
  lines: Record<string, string>;
}

interface DenoLike {
  pid: number;
  cwd(): string;
  args: string[];
  dlopen: typeof Deno.dlopen;
}
interface NodeLike {
  pid: number;
  cwd(): string;
  argv: string[];
}
const runtime = globalThis as { Deno?: DenoLike; process?: NodeLike };

function openFds(): FdInfo[] {
  const fds: FdInfo[] = [];
  for (const name of readdirSync("/proc/self/fd")) {
    const fd = Number(name);
    let target: string;
    let info: ReturnType<typeof statSync>;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
      info = statSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // the descriptor readdirSync itself used, closed by now
    }
    if (!info) continue;
    const kind = info.isSocket()
      ? "socket"
      : info.isFIFO()
      ? "pipe"
      : info.isFile()
      ? "file"
      : info.isCharacterDevice()
      ? "char"
      : info.isDirectory()
      ? "dir"
      : info.isBlockDevice()
      ? "block"
      : "other";
    fds.push({ fd, target, kind, dev: Number(info.dev), ino: Number(info.ino) });
  }
  return fds.sort((a, b) => a.fd - b.fd);
}

function execEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of readFileSync("/proc/self/environ", "utf8").split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** Reads up to a newline, one byte at a time so nothing after it is taken from a shared fd. */
function readLine(fd: number): string {
  const readByte = byteReader(fd);
  const bytes: number[] = [];
  for (let b = readByte(); b !== undefined && b !== 0x0a; b = readByte()) bytes.push(b);
  return new TextDecoder().decode(new Uint8Array(bytes));
}

function byteReader(fd: number): () => number | undefined {
  const buf = new Uint8Array(1);
  if (runtime.Deno) {
    // Deno's node:fs only knows descriptors it opened itself; read(2) takes any inherited one.
    const libc = runtime.Deno.dlopen("libc.so.6", {
      read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
    });
    return () => (libc.symbols.read(fd, buf, 1n) === 1n ? buf[0] : undefined);
  }
  return () => (readSync(fd, buf, 0, 1, null) === 1 ? buf[0] : undefined);
}

function main(argv: string[]): void {
  const fdMap = getFdMap();
  const lines: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== "--read" || i + 1 >= argv.length) {
      throw new Error(`unexpected argument ${argv[i]} (usage: main.ts [--read NAME|FD]...)`);
    }
    const name = argv[++i];
    const fd = /^[0-9]+$/.test(name) ? Number(name) : fdMap[name.toLowerCase()];
    if (fd === undefined) throw new Error(`--read ${name}: no WW_FD_${name.toUpperCase()}`);
    lines[name] = readLine(fd);
  }
  const proc = runtime.Deno ?? runtime.process!;
  const report: DemoReport = {
    runtime: runtime.Deno ? "deno" : "node",
    pid: proc.pid,
    cwd: proc.cwd(),
    fds: openFds(),
    fdMap,
    env: execEnv(),
    lines,
  };
  console.log(JSON.stringify(report));
}

main(runtime.Deno ? runtime.Deno.args : runtime.process!.argv.slice(2));
