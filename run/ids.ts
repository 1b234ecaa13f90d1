// run/ids.ts — the lease of a host uid/gid for a jail when ww runs as root (jail/ids.ts chooses;
// this module gathers the facts and holds the lease), and the checks that the jail's host user
// (a leased or chosen id as root; ww's own ids, supplementary groups included, otherwise) can
// reach, execute, read and write what the run shows it, made before anything starts, each by the
// one rule of run/access.ts.
//
// A lease is an exclusive open file description lock on LEASE_DIR/<id> (ffi/lock.ts tryLockFile),
// taken without waiting and held, on a close-on-exec descriptor, for the jail's whole life;
// --explain tests it without taking it (isLockHeld), so it never makes a run skip an id.
// Concurrent ww processes serialize on the lock. The stage's supervisor holds a copy
// (StagePlan.leaseFd): the kernel drops the lock once ww has closed it at the jail's end, or died
// (kill -9 included), and the supervisor has ended the jail and exited, which is the reclaim. Lock
// files are never removed: removing one that another process has just opened would let two
// processes each lock a different file of the same name.

import { closeFd } from "../ffi/fd.ts";
import { isLockHeld, tryLockFile } from "../ffi/lock.ts";
import { processOwnerIds } from "../ffi/proc.ts";
import { fileIdentity, fileOwner, modeKind, R_OK, W_OK, X_OK } from "../ffi/stat.ts";
import {
  DEFAULT_JAIL_IDS,
  explicitIdProblem,
  formatIdRange,
  type HostUser,
  type IdExclusions,
  type IdRange,
  idsInPasswd,
  JAIL_IDS_ENV,
  leaseCandidates,
  leaseRange,
  needsLease,
  parseIdMap,
  parseIdRange,
  rangesInSubid,
  type RequestedIds,
  unmappedIds,
} from "../jail/ids.ts";
import type { Cleanups } from "./launch.ts";
import { type BindRequest, writableByRule } from "../jail/binds.ts";
import { BindError, NotExecutableError, SetupError } from "../core/errors.ts";
import { HOST_FS } from "./resolve.ts";
import { type FileModeOwner, mayAccess, modeAllows, permissionClass } from "./access.ts";
import { readText } from "./host.ts";
import { fileCache, type FileCacheIo } from "./file_cache.ts";
import type { Interpreter } from "./script.ts";
import { callerVariable } from "./caller_env.ts";

/** Where the lease lock files live: root's only (mode 0700). */
export const LEASE_DIR = "/run/ww/ids";

/**
 * The range jails lease from: WW_JAIL_IDS, or the default, as far as this user namespace maps it
 * (jail/ids.ts leaseRange; `maps`, this process's uid and gid maps); a SetupError when malformed or
 * unmapped.
 */
export function jailIdRange(maps: IdRange[][] = idMaps()): { range: IdRange; fromEnv: boolean } {
  const text = callerVariable(JAIL_IDS_ENV);
  const fromEnv = text !== undefined && text !== "";
  const configured = fromEnv ? parseIdRange(text) : DEFAULT_JAIL_IDS;
  if ("error" in configured) throw new SetupError(configured.error);
  const range = leaseRange({ range: configured, fromEnv }, maps);
  if ("error" in range) throw new SetupError(range.error);
  return { range, fromEnv };
}

/**
 * This process's uid and gid maps, once both are read, and the ids they leave unmapped. Kept for
 * the process's life: a map is written once and never changes, and a process with more than one
 * thread (Deno always has several) can neither unshare(2) nor setns(2) into another user
 * namespace.
 */
let readMaps: { maps: IdRange[][]; unmapped: IdRange[] } | undefined;

/** This process's uid and gid maps: the ids that exist in its user namespace. */
function idMaps(): IdRange[][] {
  if (readMaps) return readMaps.maps;
  let written = true;
  // Unreadable (no /proc): take every id as mapped, as on a host, and let setuid say otherwise.
  const maps = ["/proc/self/uid_map", "/proc/self/gid_map"].map((f) => {
    const map = parseIdMap(readText(f) ?? "");
    if (map.length === 0) written = false;
    return map.length > 0 ? map : [{ first: 0, last: 4294967294 }];
  });
  if (written) readMaps = { maps, unmapped: unmappedIds(maps) };
  return maps;
}

/** The ids no lease may take for want of a mapping (jail/ids.ts unmappedIds of `maps`). */
function unmapped(maps: IdRange[][]): IdRange[] {
  return readMaps?.maps === maps ? readMaps.unmapped : unmappedIds(maps);
}

/**
 * The host's account files, parsed once and kept while each file's identity (statx) is the same:
 * every run as root needs them, and reading and parsing them was a tenth of a native run's garbage
 * (issue 16). A service still sees an account added between two runs: the file's times change.
 */
const hostFileIo: FileCacheIo = { identify: fileIdentity, read: readText, now: Date.now };
const accountIds = fileCache(hostFileIo, (text) => idsInPasswd(text ?? ""));
const ACCOUNT_FILES = ["/etc/passwd", "/etc/group"];
const subidRanges = fileCache(hostFileIo, (text) => rangesInSubid(text ?? ""));

/** A host id leased for a jail, and the lock that holds it (close-on-exec). */
export interface JailLease {
  readonly id: number;
  readonly fd: number;
  /**
   * The same lease for another jail, held by ww until `cleanups` of that jail run too: the lock
   * closes once every jail that shares it has ended. Undefined when this one has let go already.
   * (A program a guest starts with --with-exec runs as its starter's id: RLIMIT_NPROC, which
   * --nproc sets, counts per uid, and a fresh id for each start gave each a budget of its own.)
   */
  share(cleanups: Cleanups): JailLease | undefined;
}

/**
 * The host id leased for a jail with `requested` ids, or undefined when none is needed (ww is not
 * root, or --uid and --gid are both explicit). As root, an explicit id inside the lease range is
 * refused. The lease is the first id of the range that no account, group, delegated subordinate
 * range or live process uses and that no other jail holds. ww's copy of the lock is closed by
 * `cleanups` (at the jail's end), or by the kernel when ww dies; the stage's supervisor keeps a
 * copy of its own until the jail has ended (StagePlan.leaseFd).
 */
export function leaseJailId(
  requested: RequestedIds,
  cleanups: Cleanups,
  order: "ascending" | "descending" = "ascending",
): JailLease | undefined {
  // Read once for the range and the exclusions: every run as root pays for these reads.
  const maps = idMaps();
  const range = rangeFor(requested, maps);
  if (range === undefined) return undefined;
  leaseDir();
  for (const id of leaseCandidates(range, idExclusions(maps), order)) {
    const fd = lockOrExplain(`${LEASE_DIR}/${id}`);
    if (fd === undefined) continue;
    let holders = 0;
    const release = () => --holders === 0 && closeFd(fd);
    const lease: JailLease = {
      id,
      fd,
      share: (more) => holders === 0 ? undefined : (holders++, more.add(release), lease),
    };
    holders++;
    cleanups.add(release);
    return lease;
  }
  throw noFreeId(range);
}

/** The range to lease from when a root ww must lease for `requested`; checks explicit ids. */
function rangeFor(requested: RequestedIds, maps: IdRange[][]): IdRange | undefined {
  const root = Deno.uid() === 0;
  if (!root) return undefined;
  const { range } = jailIdRange(maps);
  const problem = explicitIdProblem(requested, range);
  if (problem) {
    throw new SetupError(explicitIdProblem(requested, range, "library") ?? problem, {
      commandLine: problem,
    });
  }
  return needsLease(requested, root) ? range : undefined;
}

/**
 * The id leaseJailId would take now, for --explain; takes and keeps nothing, creates nothing. A
 * SetupError, as for a run, when none is free.
 */
export function peekJailId(requested: RequestedIds): number | undefined {
  const maps = idMaps();
  const range = rangeFor(requested, maps);
  if (range === undefined) return undefined;
  for (const id of leaseCandidates(range, idExclusions(maps))) {
    if (!isLockHeld(`${LEASE_DIR}/${id}`)) return id;
  }
  throw noFreeId(range);
}

function noFreeId(range: IdRange): SetupError {
  return new SetupError(
    `no free host id for the jail in ${
      formatIdRange(range)
    } (every one is in use or leased by a running jail); wait for jails to end, or set ${JAIL_IDS_ENV}=FIRST-LAST to a larger range`,
  );
}

/** tryLockFile, with a failure to open the lock file (e.g. a read-only /run) said in one line. */
function lockOrExplain(path: string): number | undefined {
  try {
    return tryLockFile(path);
  } catch (e) {
    throw new SetupError(
      `${path}: cannot open the jail's id lease (${
        e instanceof Error ? e.message : e
      }); ww, as root, needs a writable ${LEASE_DIR} to give each jail its own uid`,
      { cause: e },
    );
  }
}

/** Makes LEASE_DIR (and /run/ww) and checks that only root can write there. */
function leaseDir(): void {
  try {
    Deno.mkdirSync(LEASE_DIR, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new SetupError(
      `${LEASE_DIR}: cannot make the directory of the jails' id leases (${
        e instanceof Error ? e.message : e
      }); ww, as root, needs a writable /run to give each jail its own uid`,
      { cause: e },
    );
  }
  for (const dir of ["/run/ww", LEASE_DIR]) {
    // ffi/stat.ts fileOwner, not Deno.lstatSync: no FileInfo a run; Deno's error when it fails.
    const info = fileOwner(dir, false) ?? Deno.lstatSync(dir);
    if (!info.isDirectory || info.uid !== 0 || ((info.mode ?? 0) & 0o022) !== 0) {
      throw new SetupError(
        `${dir}: ww keeps the jails' id leases there, and it must be a directory only root can write (remove it, ww makes it again)`,
      );
    }
  }
}

/** What no lease may take: ids of accounts, groups, subordinate ranges and live processes. */
function idExclusions(maps: IdRange[][]): IdExclusions {
  // The owners of every /proc/<pid>: a process's effective ids. Reading every status file for the
  // real and saved ids too cost ~10 ms on a machine with 100 processes, on every run. A process
  // that made itself non-dumpable shows as root's and is not seen: the lease lock, not this scan,
  // is what keeps live jails apart; the scan keeps ww off ids that something else runs as.
  const owners = processOwnerIds();
  // Looked up where they are, for the few candidates a lease tries: no set of them all a run
  // (issue 16).
  const ids = {
    has: (id: number) =>
      owners.includes(id) || ACCOUNT_FILES.some((file) => accountIds.get(file).includes(id)),
  };
  // An id this user namespace does not map cannot be taken (setuid: EINVAL).
  const ranges = [
    ...subidRanges.get("/etc/subuid"),
    ...subidRanges.get("/etc/subgid"),
    ...unmapped(maps),
  ];
  return { ids, ranges };
}

/** A program ww found by looking its name up in a PATH (run/resolve.ts searchPath). */
export interface LookedUp {
  readonly name: string;
  readonly pathVariable: string;
}

/**
 * Checks, before anything starts, that the jail's host user can do what the run needs: walk to
 * the program and execute it (a local program, `lookedUp` when found in a PATH), walk to every
 * bind, write every --bind and read every --ro-bind. Each failure is one line naming the path,
 * the jail's identity and the fix.
 */
export function checkJailAccess(
  who: HostUser,
  leased: number | undefined,
  program: string | undefined,
  binds: readonly BindRequest[],
  pinned: (real: string) => string | undefined = () => undefined,
  lookedUp?: LookedUp,
): void {
  if (program !== undefined) {
    checkProgramReachableBy(program, who, lookedUp);
    const info = statOf(program);
    if (!mayAccess(program, info, X_OK, who)) {
      const why = `the jail runs programs as ${uidOf(who)}, which may not execute this file`;
      const own = !who.chosen && ownModeFix(program, info, who, "rx");
      throw new NotExecutableError(
        `${program}: ${why} (${
          own || "let others read and execute it, chmod o+rx"
        }, or run it with jail.backend "none")`,
        { commandLine: `${program}: ${why} (${own || "chmod o+rx it"}, or use --jail=none)` },
      );
    }
  }
  for (const r of binds) {
    checkBindReachableBy(r, who);
    // The file the jail gets: as ww opened it when it has, else its real path, never the name
    // resolved once more (a link swapped in since led the check elsewhere than the bind).
    // A --ro-bind of the same source wins (jail/binds.ts): that --bind writes nothing.
    if (r.flag === "--ro-bind" || writableByRule(r.real, binds)) {
      checkBindUsableBy(r.flag, r.source, pinned(r.real) ?? r.real, who, leased);
    }
  }
}

/**
 * Throws NotExecutable (126) when `who`, the jail's user, cannot walk to or execute `interpreter`,
 * one that the #! line of `name` (the program as the user named it) names: the kernel refused it
 * in the jail with a bare EACCES that blamed the script, when ww, root, could execute it.
 */
export function checkInterpreterFor(who: HostUser, name: string, interpreter: Interpreter): void {
  const what = `${name}: its interpreter ${interpreter.named} (from the #! line)`;
  const blocked = blockedParent(interpreter.host, who);
  if (blocked !== undefined) {
    const why = cannotEnter(who, blocked);
    throw new NotExecutableError(
      `${what}: ${why}; ${waysThrough(blocked, who, "jail.uid", "jail.gid")}`,
      {
        commandLine: `${what}: ${why}; ${waysThrough(blocked, who, "--uid", "--gid")}`,
      },
    );
  }
  const info = statOf(interpreter.host);
  if (mayAccess(interpreter.host, info, X_OK, who)) return;
  const why = `the jail runs programs as ${uidOf(who)}, which may not execute it`;
  const own = !who.chosen && ownModeFix(interpreter.host, info, who, "rx");
  throw new NotExecutableError(
    `${what}: ${why} (${
      own || `let others read and execute it, chmod o+rx ${interpreter.host}`
    }, or run it with jail.backend "none")`,
    {
      commandLine: `${what}: ${why} (${
        own || `chmod o+rx ${interpreter.host}`
      }, or use --jail=none)`,
    },
  );
}

/**
 * The directory of `hostPath` (a --chdir's place on the host) that `who`, the jail's user, cannot
 * enter, from `from` (the first that the jail shows as the host has it: / for the native jail, a
 * bind's source under bwrap) down to `hostPath` itself; undefined when it can enter them all, or
 * one is missing (the stage says so in its own words).
 *
 * @example
 * blockedCwd("/srv/app/data", "/srv/app", { uid: 70000, gid: 70000 }); // "/srv/app/data" (0700, root's)
 */
export function blockedCwd(hostPath: string, from: string, who: HostUser): string | undefined {
  const parts = hostPath.slice(from.length).split("/").filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const dir = i === 0 ? from : `${from.replace(/\/$/, "")}/${parts.slice(0, i).join("/")}`;
    const info = fileOwner(dir);
    if (info === undefined) return undefined;
    if (!mayEnterAs(who, dir, info)) return dir;
  }
  return undefined;
}

/**
 * A directory that the jail's user cannot enter, with its owner and mode; `listed` when the jail
 * is shown the directory itself (a bind's source), which it must then read as well as enter.
 */
export interface BlockedDir {
  readonly dir: string;
  readonly info: FileModeOwner;
  readonly listed?: boolean;
}

/**
 * Every directory on a path that the jail's user cannot enter, in order: the refusal names them
 * all, and a fix for all, where naming the first only sent the user back once per directory
 * (`chmod o+x /srv/a`, then the same refusal for /srv/a/b).
 */
export type Blocked = readonly [BlockedDir, ...BlockedDir[]];

/**
 * The directories on the way to `path` (its parents, from /) that `who` cannot enter, with their
 * owners and modes; undefined when it can enter them all.
 */
function blockedParent(path: string, who: HostUser): Blocked | undefined {
  const parts = path.split("/").filter(Boolean);
  const blocked: BlockedDir[] = [];
  for (let i = 0; i < parts.length; i++) {
    const dir = `/${parts.slice(0, i).join("/")}`;
    const info = statOf(dir);
    if (!mayEnterAs(who, dir, info)) blocked.push({ dir, info });
  }
  return blocked.length > 0 ? blocked as [BlockedDir, ...BlockedDir[]] : undefined;
}

/** Whether `who` may enter the directory `dir` (owner and mode `info`). */
function mayEnterAs(who: HostUser, dir: string, info: FileModeOwner): boolean {
  return mayAccess(dir, info, X_OK, who);
}

/** Why the jail's user cannot get through `blocked`, in the words every such refusal starts with. */
function cannotEnter(who: HostUser, blocked: Blocked): string {
  const dirs = blocked.map((b) => `${b.dir} (mode ${modeText(b.info)})`).join(" nor ");
  return `the jail runs as ${uidOf(who)}, which cannot enter ${dirs}`;
}

/** The jail's uid as the refusals name it: ww's own (not root) is said to be, as no flag moves it. */
function uidOf(who: HostUser): string {
  return who.chosen ? `uid ${who.uid}` : `ww's own uid ${who.uid}`;
}

/** chmod(1)'s letter for each permission class. */
const CLASS_LETTER = { owner: "u", group: "g", other: "o" } as const;

/**
 * How ww's own user (`who`, not chosen: no flag changes its host ids) gets `bits` on `path`: the
 * chmod of the permission class that applies to it, which it may make itself when it owns `path`,
 * else its owner may. `what` names the change, when the refusal is not about the file's mode.
 *
 * @example
 * const me = { uid: 1000, gid: 1000, groups: [], chosen: false };
 * ownModeFix("/srv/d", { mode: 0o755, uid: 0, gid: 0, isDirectory: true }, me, "rwx", "make it writable");
 * // "ask its owner, uid 0, to make it writable (chmod o+rwx /srv/d)"
 */
export function ownModeFix(
  path: string,
  info: FileModeOwner,
  who: HostUser,
  bits: string,
  what?: string,
): string {
  const which = permissionClass(info, who);
  const chmod = `chmod ${CLASS_LETTER[which]}+${bits} ${path}`;
  const change = what === undefined ? chmod : `${what} (${chmod})`;
  return which === "owner" ? change : `ask its owner, uid ${info.uid}, to ${change}`;
}

/**
 * Whether --uid/--gid `id` could be the jail's host id: not root (a jail never is), and not in
 * the range ww leases from, where it may be another jail's (a file an earlier jail left in a
 * bind is the leased id's, which ww refuses as an explicit one).
 */
function isChoosableId(id: number | null): id is number {
  if (id === null || id === 0) return false;
  let range: IdRange | undefined;
  try {
    range = jailIdRange().range;
  } catch {
    return true; // no range this user namespace maps: no lease to collide with
  }
  return id < range.first || id > range.last;
}

/**
 * How the jail's user (`who`) could get through `blocked`, every directory on a path that it cannot
 * enter: their modes opened to others (one chmod for them all), or the jail run as the first one's
 * owner or in its group, where that one may enter every one of them and could be the jail's
 * (isChoosableId: a 0700 directory of root's, such as /root, has no such way). Given with the
 * options that choose the jail's ids, `uid` and `gid` (--uid/--gid, or jail.uid/jail.gid). A jail
 * that runs as ww's own user (ww is not root) has only the chmod of the class that applies to it
 * (ownModeFix): no flag changes its host ids. A directory the jail is shown itself (a bind's
 * source: `listed`) must be read as well as entered.
 *
 * @example
 * const jail = { uid: 70000, gid: 70000, groups: [], chosen: true };
 * const app = { mode: 0o750, uid: 1000, gid: 1000, isDirectory: true };
 * waysThrough([{ dir: "/srv/app", info: app }], jail, "--uid", "--gid");
 * // "make it reachable (chmod o+x /srv/app), or run the jail as its owner (--uid 1000), or in its group (--gid 1000)"
 * waysThrough([{ dir: "/srv/app", info: app }, { dir: "/srv/app/data", info: app, listed: true }], jail, "--uid", "--gid");
 * // "make them reachable (chmod o+x /srv/app && chmod o+rx /srv/app/data), or run the jail as its owner (--uid 1000), or in its group (--gid 1000)"
 */
export function waysThrough(
  blocked: Blocked,
  who: HostUser,
  uid: string,
  gid: string,
): string {
  const bits = (b: BlockedDir) => b.listed ? "rx" : "x";
  if (!who.chosen) {
    return blocked.map((b) => ownModeFix(b.dir, b.info, who, bits(b), "make it reachable"))
      .join(", and ");
  }
  // One chmod per set of bits, its directories in path order.
  const byBits = new Map<string, string[]>();
  for (const b of blocked) byBits.set(bits(b), [...byBits.get(bits(b)) ?? [], b.dir]);
  const chmod = [...byBits].map(([bits, dirs]) => `chmod o+${bits} ${dirs.join(" ")}`);
  const ways = [`make ${blocked.length > 1 ? "them" : "it"} reachable (${chmod.join(" && ")})`];
  // The jail run as the first one's owner or in its group gets through only if it gets through
  // every one of them.
  const through = (ids: { uid: number; gid: number }) =>
    blocked.every((b) => modeAllows(b.info, ids, b.listed ? R_OK | X_OK : X_OK));
  const { info } = blocked[0];
  if (isChoosableId(info.uid) && through({ uid: info.uid, gid: -1 })) {
    ways.push(`run the jail as its owner (${uid} ${info.uid})`);
  }
  if (isChoosableId(info.gid) && through({ uid: -1, gid: info.gid })) {
    ways.push(`in its group (${gid} ${info.gid})`);
  }
  return ways.join(", or ");
}

/**
 * The program must be where the jail's user can walk to it. One that ww found in a PATH may have
 * a copy later in it that the jail can run (a tool's shims in /root/bin before /usr/bin): that is
 * named; else how to let the jail through. A program the jail cannot reach is one it cannot
 * execute (126), as when its mode says so.
 */
function checkProgramReachableBy(program: string, who: HostUser, lookedUp?: LookedUp): void {
  const blocked = blockedParent(program, who);
  if (blocked === undefined) return;
  const why = cannotEnter(who, blocked);
  if (lookedUp === undefined) {
    throw new NotExecutableError(
      `${program}: ${why}; ${waysThrough(blocked, who, "jail.uid", "jail.gid")}`,
      { commandLine: `${program}: ${why}; ${waysThrough(blocked, who, "--uid", "--gid")}` },
    );
  }
  // Named as the PATH entry has it: `program` may be where its link leads (bwrap binds that).
  const entry = inPath(lookedUp).map((e) => e.path)
    .find((p) => p === program || HOST_FS.realPath(p) === program);
  const at = entry === undefined || entry === program ? program : `${entry} (a link to ${program})`;
  const found = `${lookedUp.name}: found in PATH at ${at}, but ${why}`;
  const other = reachableInPath(lookedUp, program, who);
  const fix = (uid: string, gid: string) =>
    other !== undefined
      ? `${other}, later in PATH, it can run: give that path`
      : `give the path of a copy it can reach, or ${waysThrough(blocked, who, uid, gid)}`;
  throw new NotExecutableError(`${found}; ${fix("jail.uid", "jail.gid")}`, {
    commandLine: `${found}; ${fix("--uid", "--gid")}`,
  });
}

/** Each entry of `lookedUp`'s PATH, in order, and the path its name has there. */
function inPath(lookedUp: LookedUp): { dir: string; path: string }[] {
  return lookedUp.pathVariable.split(":").map((dir) => ({
    dir,
    path: `${dir.replace(/\/$/, "")}/${lookedUp.name}`,
  }));
}

/**
 * The first file named `lookedUp.name` in its PATH, other than `program`, that the jail's user
 * can walk to (where a link leads too) and execute; undefined when there is none.
 */
function reachableInPath(lookedUp: LookedUp, program: string, who: HostUser): string | undefined {
  for (const { dir, path } of inPath(lookedUp)) {
    if (!dir.startsWith("/") || path === program) continue;
    // Followed: the file a link leads to, whose mode is what execve checks.
    const info = fileOwner(path);
    if (info === undefined || modeKind(info.mode) !== "file" || !mayAccess(path, info, X_OK, who)) {
      continue;
    }
    const real = HOST_FS.realPath(path);
    if (real === undefined || blockedParent(path, who) || blockedParent(real, who)) continue;
    return path;
  }
  return undefined;
}

/**
 * A bind's source, and where its links lead (a bind of a link to a file under /root): the jail's
 * user walks both. Checked by its name only, the run failed in bubblewrap's words ("Can't find
 * source path ...: Permission denied") where --explain said nothing, and the native jail's program
 * met EACCES.
 */
function checkBindReachableBy(r: BindRequest, who: HostUser): void {
  checkReachableBy(r.flag, r.source, who);
  if (r.real !== r.source) checkReachableBy(r.flag, r.real, who, r.source);
}

/**
 * The jail's host user must be able to walk to a bind's source, and into it when it is a
 * directory (one it cannot enter shows it nothing); say so now, in ww's words, rather than let
 * the jail fail with EACCES.
 */
function checkReachableBy(what: string, source: string, who: HostUser, named = source): void {
  // Not followed: a link's own check is where it leads (checkBindReachableBy).
  const own = fileOwner(source, false);
  // The source itself, which the jail is shown: it reads it too.
  const self: BlockedDir[] = own?.isDirectory && !mayEnterAs(who, source, own)
    ? [{ dir: source, info: own, listed: true }]
    : [];
  const chain = [...blockedParent(source, who) ?? [], ...self];
  if (chain.length === 0) return;
  const blocked = chain as [BlockedDir, ...BlockedDir[]];
  const listed = blocked[0].listed === true;
  const through = named === source
    ? ""
    : listed
    ? ", where its link leads"
    : `, on the way to ${source}, where its link leads`;
  const why = `${cannotEnter(who, blocked)}${through}`;
  const option = what === "--bind" ? "jail.writableBinds" : "jail.readOnlyBinds";
  throw new BindError(
    named,
    `${option} ${named}: ${why}; ${waysThrough(blocked, who, "jail.uid", "jail.gid")}`,
    {
      commandLine: `${what} ${named}: ${why}; ${waysThrough(blocked, who, "--uid", "--gid")}`,
    },
  );
}

/**
 * What a bind's file needs of the jail's user (`flag`, its flag; `info`, its file): a --bind's is
 * written, a --ro-bind's read, and a directory's entered as well (making an entry, or listing
 * one, takes search too); undefined for a --ro-bind of a socket, which the program can only
 * connect to, and that takes write alone.
 */
function bindNeeds(
  flag: BindRequest["flag"],
  info: FileModeOwner,
): { need: number; bits: string } | undefined {
  const write = flag === "--bind";
  if (!write && modeKind(info.mode ?? 0) === "socket") return undefined;
  const search = info.isDirectory ? X_OK : 0;
  const bits = `${write ? "rw" : "r"}${info.isDirectory ? "x" : ""}`;
  return { need: (write ? W_OK : R_OK) | search, bits };
}

/**
 * A bind the jail's user cannot use as its flag needs (bindNeeds: a --bind written, a --ro-bind
 * read; `source` as the user named it, looked at as `file`) would fail inside with EACCES and no
 * hint. ww never changes the owner or mode of the user's files itself: it says how to grant
 * access. A leased id (`leased`, when ww leased one) is new on every run, so the lasting fix is a
 * group (--gid) or the mode; or the jail run as the owner, when that is not root (a jail is never
 * host root) and ww chose the jail's uid.
 */
function checkBindUsableBy(
  flag: BindRequest["flag"],
  source: string,
  file: string,
  who: HostUser,
  leased: number | undefined,
): void {
  const info = statOf(file);
  const needs = bindNeeds(flag, info);
  if (needs === undefined || mayAccess(file, info, needs.need, who)) return;
  const { need, bits } = needs;
  const write = flag === "--bind";
  const verb = write ? "write" : "read";
  const option = write ? "jail.writableBinds" : "jail.readOnlyBinds";
  // A --bind has one more fix: bound read-only, the jail need not write it.
  const readOnly = (ro: string) => write ? `, or bind it read-only with ${ro}` : "";
  const owned = `owner ${info.uid}:${info.gid}, mode ${modeText(info)}`;
  if (!who.chosen) {
    // ww's own ids: no --uid or --gid changes the jail's host ids then, and a lease is not taken,
    // so the fix is the file's mode.
    const groups = who.groups.length > 0 ? `, groups ${who.groups.join(" ")}` : "";
    const fix = ownModeFix(source, info, who, bits, `make it ${write ? "writable" : "readable"}`);
    const why =
      `the jail runs as ww's own user (uid ${who.uid}, gid ${who.gid}${groups}), which cannot ${verb} it (${owned}); ${fix}`;
    throw new BindError(source, `${option} ${source}: ${why}${readOnly("jail.readOnlyBinds")}`, {
      commandLine: `${flag} ${source}: ${why}${readOnly("--ro-bind")}`,
    });
  }
  const uidLeased = who.uid === leased;
  const gidLeased = who.gid === leased;
  const user = uidLeased && gidLeased
    ? `a uid of its own (${who.uid}, gid ${who.gid}; leased per run)`
    : `uid ${who.uid}${uidLeased ? " (leased per run)" : ""}, gid ${who.gid}${
      gidLeased ? " (leased per run)" : ""
    }`;
  // What the jail only reads, others may read too; what it writes is a group's to write.
  const others = write ? "" : `let others read it (chmod o+${bits} ${source}), or `;
  const why =
    `the jail runs as ${user}, which cannot ${verb} it (${owned}); ${others}let a group ${verb} it and run the jail in that group (chgrp G ${source} && chmod g+${bits} ${source}, then`;
  const ownerMay = isChoosableId(info.uid) && modeAllows(info, { uid: info.uid, gid: -1 }, need);
  const asOwner = (flag: string) =>
    uidLeased && ownerMay ? `, or run the jail as its owner (${flag} ${info.uid})` : "";
  // A group that may use it already, which the jail is not in: that group is the fix.
  const groupMay = gidLeased && isChoosableId(info.gid) &&
    modeAllows(info, { uid: -1, gid: info.gid }, need);
  const inGroup = (flag: string) =>
    groupMay ? `, or run the jail in its group, which may ${verb} it (${flag} ${info.gid})` : "";
  throw new BindError(
    source,
    `${option} ${source}: ${why} jail.gid G)${inGroup("jail.gid")}${asOwner("jail.uid")}${
      readOnly("jail.readOnlyBinds")
    }`,
    {
      commandLine: `${flag} ${source}: ${why} --gid G)${inGroup("--gid")}${asOwner("--uid")}${
        readOnly("--ro-bind")
      }`,
    },
  );
}

/**
 * The owner and mode of `path` (followed), from one statx: a run as root checks ~5 paths, and
 * Deno.statSync's FileInfo is ~1 KB each (issue 16). What statx cannot tell, Deno.statSync
 * throws for, as before.
 */
function statOf(path: string): FileModeOwner {
  return fileOwner(path) ?? Deno.statSync(path);
}

function modeText(info: FileModeOwner): string {
  return ((info.mode ?? 0) & 0o7777).toString(8).padStart(4, "0");
}
