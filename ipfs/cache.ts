// ipfs/cache.ts — verified programs kept on disk by CID, so a second run of the same /ipfs/ path
// needs no node. Only content that passed verification is stored, and it is never re-checked:
// the cache is as trusted as the user's own files, and only used where no one else can change
// it (cacheTrustProblem).
//
// Layout under <dir> ($XDG_CACHE_HOME/ww/ipfs, or ~/.cache/ww/ipfs):
//   files/<cid>    the program's bytes, mode 0555 (runs are exec'd from it), named by CIDv1 base32
//   paths/<sha256> {"path": "/ipfs/...", "cid": "...", "size": N}: what an /ipfs/ path resolved to
//   tmp/<name>     files being written, named <what>.<pid>.<uuid> (what: file, path or name; an
//                  older ww named a program's by its CID); each is renamed into place when complete
//   names/<sha256> the highest IPNS sequence verified for a key (ipns_seen.ts)
// Nothing else is ww's (isOwnCacheEntry): list and size count none of it, eviction leaves it, and
// clear refuses to remove it.
// Renames are atomic, so concurrent ww processes see a whole file or none; two that store the
// same CID write the same bytes. A file is synced to the disk before its rename, and files/ after
// it, so a crash cannot leave a file in place with bytes that never reached the disk. A file's
// mtime is its last use, and the least recently used files go first when the cache grows past its
// bound. Light on purpose: a warm run loads nothing but this module, ffi/memfd.ts and ffi/stat.ts
// (and ffi/trusted_dir.ts, which checks the cache's directory).

import { closeFd } from "../ffi/fd.ts";
import {
  copyRange,
  createExclusive,
  openRegularReadOnly,
  syncDirectory,
  syncFile,
} from "../ffi/memfd.ts";
import { fileSize } from "../ffi/stat.ts";
import { dirTrustProblem } from "../ffi/trusted_dir.ts";

/** The version of the rules a path record's CID passed (see pathKey). */
const PATH_RULES = "min-digest-20";

/** The default bound on the cache's size. */
export const DEFAULT_CACHE_BYTES = 2 ** 30;

/** A program's name in files/: its CID as cidKey writes it (CIDv1, base32, so "b" and a-z2-7). */
const CID_NAME = /^b[a-z2-7]+$/;

/** A record's name in paths/ and names/: a SHA-256, in hex. */
const SHA256_NAME = /^[0-9a-f]{64}$/;

/** tmpName's names; a program's was its CID's before CacheFiller (old ones go when stale). */
const TMP_NAME =
  /^(?:file|path|name|b[a-z2-7]+)\.[0-9]+\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Temporary files older than this are left over from a ww that died; eviction removes them. */
const STALE_TMP_MS = 60 * 60 * 1000;

/**
 * The cache directory for an environment (XDG base directory spec): a relative or empty
 * XDG_CACHE_HOME or HOME is ignored, as the spec says and run/auto.ts does (a relative HOME was
 * taken from ww's cwd).
 */
export function cacheDir(env: { XDG_CACHE_HOME?: string; HOME?: string }): string {
  const base = env.XDG_CACHE_HOME?.startsWith("/")
    ? env.XDG_CACHE_HOME
    : `${env.HOME?.startsWith("/") ? env.HOME : "/tmp"}/.cache`;
  return `${base}/ww/ipfs`;
}

/**
 * Why `dir` cannot hold a cache ww trusts, or undefined when it can: no one but ww's user and root
 * may be able to change anything on the way to it, or in it. Another user who can write one of
 * those directories (a shared /tmp/.cache someone else made, a cache directory mode 0777, the HOME
 * of a user whose environment root runs with) can rename entries in it: swap one verified program
 * for another under its CID, or point a path's record at another program, and ww would run it.
 * Checked along the path as the kernel walks it (ffi/trusted_dir.ts): every directory looked in,
 * links followed, owned by ww's user or root and writable by no group or others unless sticky.
 */
export function cacheTrustProblem(dir: string): string | undefined {
  return dirTrustProblem(dir);
}

/** cacheTrustProblem, with a failure to check said as the problem. */
export function trustProblem(dir: string): string | undefined {
  try {
    return cacheTrustProblem(dir);
  } catch (e) {
    return `cannot check it (${e instanceof Error ? e.message : e})`;
  }
}

/** One cached program. */
export interface CacheEntry {
  readonly cid: string;
  readonly size: number;
  /** When a run last used it. */
  readonly lastUsed: Date;
  /** The /ipfs/ paths known to resolve to it. */
  readonly paths: readonly string[];
}

interface PathRecord {
  readonly path: string;
  readonly cid: string;
  readonly size: number;
}

/**
 * An open, read-only descriptor of the cached program an /ipfs/ path resolves to, or of the
 * file `cid` when the path is not known; undefined on a miss. Marks the file as just used. A file
 * that someone could have written since it was verified (a write bit is set: a program it ran
 * may chmod its own file through /proc/self/exe, or it is not ww's user's) is removed, and is a
 * miss: the next fetch verifies it again. So is every lookup in a cache others could change
 * (cacheTrustProblem), and a path's record that is not for that path. A file of another size than
 * its CID's (cut short when the machine went down before its bytes reached the disk, though its
 * rename had) is a miss: the size is the one a lookup by CID gives (its DAG's), and it is then
 * removed; without one, the size a path's record of that CID gives, and no record is a miss.
 */
export async function openCached(
  dir: string,
  lookup: { path: string } | { cid: string; size?: number },
): Promise<{ cid: string; fd: number; size: number } | undefined> {
  if (trustProblem(dir) !== undefined) return undefined;
  let record: PathRecord | undefined;
  let recordFile: string | undefined;
  if ("path" in lookup) {
    recordFile = `${dir}/paths/${await pathKey(lookup.path)}`;
    try {
      record = JSON.parse(await Deno.readTextFile(recordFile));
    } catch {
      return undefined;
    }
    if (record?.path !== lookup.path) return undefined;
  }
  const cid = record?.cid ?? (lookup as { cid: string }).cid;
  const given = "cid" in lookup ? lookup.size : undefined;
  const expected = record?.size ?? given ??
    (await readRecords(dir)).find((r) => r.cid === cid)?.size;
  if (expected === undefined) return undefined;
  if (!CID_NAME.test(cid)) return undefined;
  const file = `${dir}/files/${cid}`;
  // A regular file or nothing: whatever else is there (a FIFO, a directory) is no cached program.
  const fd = openRegularReadOnly(file);
  if (fd === undefined) {
    // Evicted since the path was recorded.
    if (recordFile) await Deno.remove(recordFile).catch(() => {});
    return undefined;
  }
  const size = fileSize(fd);
  if (size !== expected) {
    closeFd(fd);
    // A record may be stale; a file that is not its CID's size is not that CID's content.
    if (given !== undefined) await Deno.remove(file).catch(() => {});
    return undefined;
  }
  const info = Deno.statSync(`/proc/self/fd/${fd}`);
  if ((info.mode! & 0o222) !== 0 || info.uid !== Deno.uid()) {
    closeFd(fd);
    await Deno.remove(file).catch(() => {});
    return undefined;
  }
  const now = new Date();
  await Deno.utime(file, now, now).catch(() => {});
  return { cid, fd, size };
}

/**
 * Stores `size` bytes of `fd` (a verified, sealed memfd) as the file `cid`, records that each of
 * `paths` resolves to it, and evicts least recently used files beyond `maxBytes`. A program
 * larger than `maxBytes` is not stored.
 */
export async function storeCached(
  dir: string,
  entry: { cid: string; fd: number; size: number; paths: readonly string[] },
  maxBytes = DEFAULT_CACHE_BYTES,
): Promise<void> {
  if (entry.size > maxBytes) return;
  const existing = await Deno.lstat(`${dir}/files/${entry.cid}`).catch(() => undefined);
  if (existing?.size === entry.size) return await recordPaths(dir, entry, maxBytes);
  const filler = await CacheFiller.open(dir);
  filler.grow(entry.fd, entry.size);
  await filler.commit(entry, maxBytes);
}

/**
 * A program's cache file, filled while the program downloads: the bytes are copied in as they
 * become final (inside the kernel, on a worker thread), so that storing a program costs the run a
 * rename rather than a copy of the whole file at its end. Nothing is visible in the cache before
 * `commit`; `discard` leaves nothing behind.
 */
export class CacheFiller {
  #copied = 0;
  #end = 0;
  #from = -1;
  #copying: Promise<void> | undefined;
  #failure: unknown;

  private constructor(readonly dir: string, readonly tmp: string, readonly fd: number) {}

  /** A new, empty temporary file in `dir`'s cache; an Error saying why when ww may not use it. */
  static async open(dir: string): Promise<CacheFiller> {
    const problem = trustProblem(dir);
    if (problem !== undefined) throw new Error(problem);
    for (const sub of STORE_ENTRIES) await Deno.mkdir(`${dir}/${sub}`, { recursive: true });
    const tmp = tmpName(dir, "file");
    return new CacheFiller(dir, tmp, createExclusive(tmp, 0o555));
  }

  /** The first `end` bytes of `from` are final: copies those not copied yet, in the background. */
  grow(from: number, end: number): void {
    this.#from = from;
    this.#end = Math.max(this.#end, end);
    if (this.#copied < this.#end) this.#copying ??= this.#copy();
  }

  /**
   * Waits for the copies, then moves the file into place as `entry.cid`, records that each of
   * `entry.paths` resolves to it, and evicts beyond `maxBytes`.
   */
  async commit(
    entry: { cid: string; size: number; paths: readonly string[] },
    maxBytes = DEFAULT_CACHE_BYTES,
  ): Promise<void> {
    await this.idle();
    try {
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#copied !== entry.size) {
        throw new Error(`${this.#copied} of ${entry.size} bytes were copied`);
      }
      // Before the rename: after a crash, files/ then holds the whole file or none of it (a file
      // renamed unsynced could come back at its size with zeros for bytes, and run).
      syncFile(this.fd);
      this.#close();
      await Deno.rename(this.tmp, `${this.dir}/files/${entry.cid}`);
    } catch (e) {
      await this.#settle();
      await Deno.remove(this.tmp).catch(() => {});
      throw e;
    }
    // Before the records that lead to it: a crash leaves no record of a file not there.
    syncDirectory(`${this.dir}/files`);
    await recordPaths(this.dir, entry, maxBytes);
  }

  /**
   * Resolves once no copy is running: until then the source is being read, and a memfd cannot be
   * sealed against writes while its pages are in use (F_ADD_SEALS fails with EBUSY).
   */
  async idle(): Promise<void> {
    await this.#copying;
  }

  /** Stops filling and removes the temporary file. */
  async discard(): Promise<void> {
    this.#end = this.#copied;
    await this.#settle();
    await Deno.remove(this.tmp).catch(() => {});
  }

  async #settle(): Promise<void> {
    await this.idle();
    this.#close();
  }

  #closed = false;

  /** Closes the file's descriptor, once: marked closed first, since a close that fails (EIO on
   * NFS or FUSE) has closed it all the same, and its number may be another file's by the retry. */
  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeFd(this.fd);
  }

  // One copy at a time, each taking everything that became final meanwhile: a few large copies
  // on one worker thread rather than a thread per leaf. `#copying` is cleared in the same turn as
  // the last check of the loop, so a `grow` never finds it set and finished.
  async #copy(): Promise<void> {
    try {
      while (this.#copied < this.#end && this.#failure === undefined) {
        const end = this.#end;
        await copyRange(this.#from, this.fd, this.#copied, end - this.#copied);
        this.#copied = end;
      }
    } catch (e) {
      this.#failure = e;
    } finally {
      this.#copying = undefined;
    }
  }
}

/** Records that each of `entry.paths` resolves to the file `entry.cid`, then evicts. */
async function recordPaths(
  dir: string,
  entry: { cid: string; size: number; paths: readonly string[] },
  maxBytes: number,
): Promise<void> {
  const problem = trustProblem(dir);
  if (problem !== undefined) throw new Error(problem);
  for (const sub of ["paths", "tmp"]) await Deno.mkdir(`${dir}/${sub}`, { recursive: true });
  for (const path of entry.paths) {
    const record: PathRecord = { path, cid: entry.cid, size: entry.size };
    const tmp = tmpName(dir, "path");
    try {
      // Sync: the async call loads Deno's web streams (6-9 ms) on the way to running a program.
      Deno.writeTextFileSync(tmp, JSON.stringify(record));
      await Deno.rename(tmp, `${dir}/paths/${await pathKey(path)}`);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
  }
  await evict(dir, maxBytes, entry.cid);
}

/** Every cached program, most recently used first. */
export async function listCached(dir: string): Promise<CacheEntry[]> {
  const paths = new Map<string, string[]>();
  for (const record of await readRecords(dir)) {
    paths.set(record.cid, [...(paths.get(record.cid) ?? []), record.path]);
  }
  const entries: CacheEntry[] = [];
  for (const f of await readFiles(dir)) {
    entries.push({ ...f, paths: (paths.get(f.cid) ?? []).sort() });
  }
  return entries.sort((a, b) => b.lastUsed.getTime() - a.lastUsed.getTime());
}

/** The directories a store writes into: the programs, the paths' records, files being written. */
const STORE_ENTRIES = ["files", "paths", "tmp"];

/** Everything ww keeps in a cache directory (the layout above), and how it names the files there. */
const CACHE_ENTRIES: ReadonlyMap<string, RegExp> = new Map([
  ["files", CID_NAME],
  ["paths", SHA256_NAME],
  ["tmp", TMP_NAME],
  ["names", SHA256_NAME],
]);

/**
 * Whether `entry`, in the cache directory's subdirectory `sub` ("" for the cache directory
 * itself), is one that ww writes there (the layout above): one of its directories at the top, in
 * each of them regular files named as ww names them. Anything else (a symlink, a directory, a
 * name ww never gives) is someone else's, which a clear must not remove and list must not show.
 *
 * @example
 * const file = { isFile: true, isDirectory: false };
 * isOwnCacheEntry("", { name: "files", isFile: false, isDirectory: true }); // true
 * isOwnCacheEntry("files", { name: "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", ...file }); // true
 * isOwnCacheEntry("files", { name: "notes.txt", ...file }); // false
 */
export function isOwnCacheEntry(
  sub: string,
  entry: { readonly name: string; readonly isFile: boolean; readonly isDirectory: boolean },
): boolean {
  if (sub === "") return entry.isDirectory && CACHE_ENTRIES.has(entry.name);
  return entry.isFile && CACHE_ENTRIES.get(sub)?.test(entry.name) === true;
}

/** A cache directory that holds what ww did not put there, which a clear would have removed. */
export class ForeignCacheEntriesError extends Error {
  /** The first few of `names`, and how many more there are: short enough for one line. */
  readonly listed: string;

  /** `names`: the entries, relative to `dir` (files/notes.txt), sorted. */
  constructor(readonly dir: string, readonly names: readonly string[]) {
    const more = names.length - FOREIGN_LISTED;
    const listed = `${names.slice(0, FOREIGN_LISTED).join(", ")}${
      more > 0 ? ` and ${more} more` : ""
    }`;
    super(`${dir} holds what ww did not put there: ${listed}`);
    this.name = "ForeignCacheEntriesError";
    this.listed = listed;
  }
}

/** How many foreign entries a ForeignCacheEntriesError names. */
const FOREIGN_LISTED = 3;

/**
 * Removes everything cached; returns how many programs and bytes went. Throws a
 * ForeignCacheEntriesError, and removes nothing, when `dir` or one of its directories holds
 * anything ww did not put there (isOwnCacheEntry): the whole directory goes, and a file of the
 * caller's there went with it. A concurrent run's files being written (tmp/) are ww's, so a
 * clear does not fail for them; that run's store then fails, and it only warns.
 */
export async function clearCached(dir: string): Promise<{ programs: number; bytes: number }> {
  const foreign: string[] = [];
  for await (const top of readDirIfAny(dir)) {
    if (!isOwnCacheEntry("", top)) {
      foreign.push(top.name);
      continue;
    }
    for await (const e of readDirIfAny(`${dir}/${top.name}`)) {
      if (!isOwnCacheEntry(top.name, e)) foreign.push(`${top.name}/${e.name}`);
    }
  }
  if (foreign.length > 0) throw new ForeignCacheEntriesError(dir, foreign.sort());
  const files = await readFiles(dir);
  // Renaming first makes the clear atomic for readers: a concurrent run sees all or nothing.
  const doomed = `${dir}.clearing.${Deno.pid}.${crypto.randomUUID()}`;
  try {
    await Deno.rename(dir, doomed);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { programs: 0, bytes: 0 };
    throw e;
  }
  await Deno.remove(doomed, { recursive: true });
  return { programs: files.length, bytes: files.reduce((n, f) => n + f.size, 0) };
}

/**
 * Removes least recently used files until the total is at most `maxBytes` (never `keep`), the
 * records of the removed files, and stale temporary files.
 */
export async function evict(dir: string, maxBytes: number, keep?: string): Promise<void> {
  const files = await readFiles(dir);
  let total = files.reduce((n, f) => n + f.size, 0);
  const removed = new Set<string>();
  for (const f of files.sort((a, b) => a.lastUsed.getTime() - b.lastUsed.getTime())) {
    if (total <= maxBytes) break;
    if (f.cid === keep) continue;
    await Deno.remove(`${dir}/files/${f.cid}`).catch(() => {});
    removed.add(f.cid);
    total -= f.size;
  }
  if (removed.size > 0) {
    for (const record of await readRecords(dir)) {
      if (removed.has(record.cid)) await Deno.remove(record.file).catch(() => {});
    }
  }
  const now = Date.now();
  for await (const e of readDirIfAny(`${dir}/tmp`)) {
    if (!isOwnCacheEntry("tmp", e)) continue;
    const path = `${dir}/tmp/${e.name}`;
    const info = await Deno.lstat(path).catch(() => undefined);
    if (info?.mtime && now - info.mtime.getTime() > STALE_TMP_MS) {
      await Deno.remove(path).catch(() => {});
    }
  }
}

async function readFiles(dir: string): Promise<Omit<CacheEntry, "paths">[]> {
  const out: Omit<CacheEntry, "paths">[] = [];
  for await (const e of readDirIfAny(`${dir}/files`)) {
    if (!isOwnCacheEntry("files", e)) continue;
    const info = await Deno.lstat(`${dir}/files/${e.name}`).catch(() => undefined);
    if (info?.isFile) {
      out.push({ cid: e.name, size: info.size, lastUsed: info.mtime ?? new Date(0) });
    }
  }
  return out;
}

async function readRecords(dir: string): Promise<(PathRecord & { file: string })[]> {
  const out: (PathRecord & { file: string })[] = [];
  for await (const e of readDirIfAny(`${dir}/paths`)) {
    if (!isOwnCacheEntry("paths", e)) continue;
    const file = `${dir}/paths/${e.name}`;
    try {
      out.push({ ...JSON.parse(await Deno.readTextFile(file)), file });
    } catch { /* being replaced, or removed meanwhile */ }
  }
  return out;
}

async function* readDirIfAny(path: string): AsyncGenerator<Deno.DirEntry> {
  try {
    yield* Deno.readDir(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** A new name in `dir`'s tmp/ for a file of `what` ("file", "path" or "name"; see TMP_NAME). */
export function tmpName(dir: string, what: "file" | "path" | "name"): string {
  return `${dir}/tmp/${what}.${Deno.pid}.${crypto.randomUUID()}`;
}

/**
 * The name of `path`'s record in paths/. Salted with the version of the rules its CID passed:
 * records written before ww refused CIDs with digests under 20 bytes (ww 0.1.0 stored what a node
 * made up for those, and a warm run reads a record without looking at its CID) are never found.
 */
async function pathKey(path: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${PATH_RULES}\0${path}`)),
  );
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
