// tests/support/procs.ts — questions about processes and leftovers, answered from /proc and the
// file system, for the "nothing left behind" tests.

/** Pids of live processes (zombies included) whose command line contains `arg` exactly. */
export function processesWithArg(arg: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry.name)) continue;
    let cmdline: string;
    try {
      cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
    } catch {
      continue; // ended while we looked
    }
    if (cmdline.split("\0").includes(arg)) pids.push(Number(entry.name));
  }
  return pids;
}

/** How many live processes are owned by host uid `uid` (the owner of /proc/<pid>). */
export function processesOf(uid: number): number {
  let n = 0;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry.name)) continue;
    try {
      if (Deno.statSync(`/proc/${entry.name}`).uid === uid) n++;
    } catch { /* ended */ }
  }
  return n;
}

/** Children of `pid` as [pid, state] pairs ("Z" for a zombie), from /proc/<pid>/task/* /children. */
export function childrenOf(pid: number): [number, string][] {
  const children: [number, string][] = [];
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    const list = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
    for (const child of list ? list.split(" ") : []) {
      children.push([Number(child), processState(Number(child))]);
    }
  }
  return children;
}

/** The one-letter state of a process (R, S, Z, ...), or "gone". */
export function processState(pid: number): string {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return "gone";
  }
}

/** A process's CPU time so far (utime + stime, in clock ticks, 100 a second), or undefined. */
export function cpuTicks(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Names in `dir` that start with "ww-" (ww's work directories). */
export function wwDirs(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith("ww-")).sort();
}

/**
 * A fresh directory for ww's TMPDIR, so a test sees only the work directories of its own runs.
 * Mode 0755 unless a test asks for another.
 */
export function privateTmp(mode = 0o755): string {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-tmp-" });
  Deno.chmodSync(dir, mode);
  return dir;
}

/**
 * Pids of live processes (zombies excluded: they hold nothing) whose environment holds `entry`
 * ("NAME=value") exactly. A jailed program's descendants inherit it, whatever they exec. Needs
 * root to read other users' environments (the tests run as root).
 */
export function processesWithEnv(entry: string): number[] {
  const pids: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^[0-9]+$/.test(e.name)) continue;
    try {
      if (processState(Number(e.name)) === "Z") continue;
      const environ = Deno.readTextFileSync(`/proc/${e.name}/environ`);
      if (environ.split("\0").includes(entry)) pids.push(Number(e.name));
    } catch { /* ended while we looked */ }
  }
  return pids;
}

/** Whether `path` exists on the host (a dangling symlink does). */
export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
