import assert from "node:assert/strict";
import { UsageError } from "../core/errors.ts";
import { cacheCommand } from "./cache_command.ts";
import { closeFd, writeAll } from "../ffi/fd.ts";
import { createMemfd, readAt, sealMemfd } from "../ffi/memfd.ts";
import { fileSize } from "../ffi/stat.ts";
import {
  cacheDir,
  CacheFiller,
  cacheTrustProblem,
  clearCached,
  evict,
  ForeignCacheEntriesError,
  listCached,
  openCached,
  storeCached,
} from "./cache.ts";

const CID_A = "bafkreiaaaa";
const CID_B = "bafkreibbbb";
const CID_C = "bafkreicccc";

function memfdOf(text: string): { fd: number; size: number } {
  const fd = createMemfd("test");
  const bytes = new TextEncoder().encode(text);
  writeAll(fd, bytes);
  sealMemfd(fd);
  return { fd, size: bytes.length };
}

function readAll(fd: number): string {
  const buf = new Uint8Array(fileSize(fd));
  readAt(fd, buf, 0);
  return new TextDecoder().decode(buf);
}

async function store(dir: string, cid: string, text: string, paths: string[], max?: number) {
  const m = memfdOf(text);
  try {
    await storeCached(dir, { cid, ...m, paths }, max);
  } finally {
    closeFd(m.fd);
  }
}

async function withDir(f: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "wwtest-cache-" });
  try {
    await f(`${dir}/ww/ipfs`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function age(dir: string, cid: string, secondsAgo: number) {
  const t = new Date(Date.now() - secondsAgo * 1000);
  await Deno.utime(`${dir}/files/${cid}`, t, t);
}

Deno.test("the cache lives in $XDG_CACHE_HOME/ww/ipfs, else ~/.cache/ww/ipfs", () => {
  assert.equal(cacheDir({ XDG_CACHE_HOME: "/x/cache", HOME: "/home/u" }), "/x/cache/ww/ipfs");
  assert.equal(cacheDir({ HOME: "/home/u" }), "/home/u/.cache/ww/ipfs");
  // The XDG spec says a relative value is to be ignored.
  assert.equal(cacheDir({ XDG_CACHE_HOME: "rel", HOME: "/home/u" }), "/home/u/.cache/ww/ipfs");
  // A relative HOME was taken from ww's cwd, an empty one made /.cache: both are no HOME.
  assert.equal(cacheDir({ HOME: "rel" }), "/tmp/.cache/ww/ipfs");
  assert.equal(cacheDir({ HOME: "" }), "/tmp/.cache/ww/ipfs");
});

Deno.test("a stored program is found by its path and by its CID, read-only and executable", async () => {
  await withDir(async (dir) => {
    await store(dir, CID_A, "program A", ["/ipfs/root/bin/a"]);
    const byPath = await openCached(dir, { path: "/ipfs/root/bin/a" });
    assert.ok(byPath);
    assert.equal(byPath.cid, CID_A);
    assert.equal(readAll(byPath.fd), "program A");
    closeFd(byPath.fd);
    const byCid = await openCached(dir, { cid: CID_A });
    assert.ok(byCid);
    closeFd(byCid.fd);
    assert.equal((await Deno.stat(`${dir}/files/${CID_A}`)).mode! & 0o777, 0o555);
  });
});

Deno.test("an unknown path or CID is a miss", async () => {
  await withDir(async (dir) => {
    assert.equal(await openCached(dir, { path: "/ipfs/nothing" }), undefined);
    assert.equal(await openCached(dir, { cid: CID_B }), undefined);
  });
});

Deno.test("concurrent stores of the same CID leave one complete file and no temporary files", async () => {
  await withDir(async (dir) => {
    const text = "x".repeat(1 << 20);
    await Promise.all([1, 2, 3, 4].map((i) => store(dir, CID_A, text, [`/ipfs/p${i}`])));
    const hit = await openCached(dir, { path: "/ipfs/p3" });
    assert.ok(hit);
    assert.equal(readAll(hit.fd), text);
    closeFd(hit.fd);
    assert.deepEqual([...Deno.readDirSync(`${dir}/tmp`)], []);
    assert.deepEqual([...Deno.readDirSync(`${dir}/files`)].map((e) => e.name), [CID_A]);
  });
});

Deno.test("past the bound the least recently used programs go, with their paths", async () => {
  await withDir(async (dir) => {
    await store(dir, CID_A, "a".repeat(100), ["/ipfs/a"]);
    await store(dir, CID_B, "b".repeat(100), ["/ipfs/b"]);
    await age(dir, CID_A, 20);
    await age(dir, CID_B, 10);
    const used = await openCached(dir, { path: "/ipfs/a" }); // A is now the most recent
    closeFd(used!.fd);
    await store(dir, CID_C, "c".repeat(100), ["/ipfs/c"], 250);
    const left = (await listCached(dir)).map((e) => e.cid).sort();
    assert.deepEqual(left, [CID_A, CID_C]);
    assert.equal(await openCached(dir, { path: "/ipfs/b" }), undefined);
    assert.equal([...Deno.readDirSync(`${dir}/paths`)].length, 2);
  });
});

Deno.test("a program larger than the bound is not stored", async () => {
  await withDir(async (dir) => {
    await store(dir, CID_A, "a".repeat(300), ["/ipfs/a"], 200);
    assert.deepEqual(await listCached(dir), []);
  });
});

Deno.test("eviction removes temporary files left by a ww that died, but not fresh ones", async () => {
  await withDir(async (dir) => {
    await store(dir, CID_A, "a", ["/ipfs/a"]);
    const old = `${dir}/tmp/${CID_B}.1.dead`;
    const fresh = `${dir}/tmp/${CID_C}.2.writing`;
    await Deno.writeTextFile(old, "partial");
    await Deno.writeTextFile(fresh, "partial");
    const t = new Date(Date.now() - 2 * 3600 * 1000);
    await Deno.utime(old, t, t);
    await evict(dir, 1 << 30);
    assert.deepEqual([...Deno.readDirSync(`${dir}/tmp`)].map((e) => e.name), [
      `${CID_C}.2.writing`,
    ]);
  });
});

Deno.test("list shows each program with its size, last use and paths; clear empties the cache", async () => {
  await withDir(async (dir) => {
    await store(dir, CID_A, "aaaa", ["/ipfs/x/bin/a", "/ipfs/a"]);
    await store(dir, CID_B, "bb", ["/ipfs/b"]);
    await age(dir, CID_A, 60);
    const list = await listCached(dir);
    assert.deepEqual(list.map((e) => [e.cid, e.size, e.paths]), [
      [CID_B, 2, ["/ipfs/b"]],
      [CID_A, 4, ["/ipfs/a", "/ipfs/x/bin/a"]],
    ]);
    assert.deepEqual(await clearCached(dir), { programs: 2, bytes: 6 });
    assert.deepEqual(await listCached(dir), []);
    assert.deepEqual(await clearCached(dir), { programs: 0, bytes: 0 });
  });
});

Deno.test("a filler copies a file as it grows, and only its commit makes it visible", async () => {
  await withDir(async (dir) => {
    const fd = createMemfd("growing");
    try {
      const filler = await CacheFiller.open(dir);
      const text = "0123456789".repeat(100_000);
      const bytes = new TextEncoder().encode(text);
      // Grown in many small steps while earlier copies are still running.
      for (let at = 0; at < bytes.length; at += 65_536) {
        const part = bytes.subarray(at, Math.min(bytes.length, at + 65_536));
        writeAll(fd, part);
        filler.grow(fd, at + part.length);
      }
      assert.equal(await openCached(dir, { cid: CID_A }), undefined);
      await filler.commit({ cid: CID_A, size: bytes.length, paths: ["/ipfs/grown"] });
      const hit = await openCached(dir, { path: "/ipfs/grown" });
      assert.ok(hit);
      assert.equal(readAll(hit.fd), text);
      closeFd(hit.fd);
      assert.deepEqual([...Deno.readDirSync(`${dir}/tmp`)], []);
    } finally {
      closeFd(fd);
    }
  });
});

Deno.test("a discarded filler leaves nothing behind", async () => {
  await withDir(async (dir) => {
    const m = memfdOf("half a program");
    try {
      const filler = await CacheFiller.open(dir);
      filler.grow(m.fd, 4);
      await filler.discard();
      assert.deepEqual([...Deno.readDirSync(`${dir}/tmp`)], []);
      assert.deepEqual([...Deno.readDirSync(`${dir}/files`)], []);
    } finally {
      closeFd(m.fd);
    }
  });
});

Deno.test("a filler whose copy failed refuses to commit and leaves nothing behind", async () => {
  await withDir(async (dir) => {
    const filler = await CacheFiller.open(dir);
    filler.grow(9999, 10); // not an open descriptor
    await assert.rejects(filler.commit({ cid: CID_A, size: 10, paths: ["/ipfs/x"] }), /EBADF/);
    assert.deepEqual([...Deno.readDirSync(`${dir}/tmp`)], []);
    assert.equal(await openCached(dir, { path: "/ipfs/x" }), undefined);
  });
});

Deno.test("a filler refuses to commit fewer bytes than the program has", async () => {
  await withDir(async (dir) => {
    const m = memfdOf("0123456789");
    try {
      const filler = await CacheFiller.open(dir);
      filler.grow(m.fd, 5);
      await assert.rejects(filler.commit({ cid: CID_A, size: 10, paths: [] }), /5 of 10 bytes/);
      assert.deepEqual([...Deno.readDirSync(`${dir}/files`)], []);
    } finally {
      closeFd(m.fd);
    }
  });
});

Deno.test("a cached file that became writable, or is not ww's user's, is removed and missed", async () => {
  await withDir(async (dir) => {
    await store(dir, CID_A, "program a", ["/ipfs/a"]);
    const hit = await openCached(dir, { path: "/ipfs/a" });
    assert.ok(hit);
    closeFd(hit.fd);
    await Deno.chmod(`${dir}/files/${CID_A}`, 0o777);
    assert.equal(await openCached(dir, { path: "/ipfs/a" }), undefined);
    assert.equal(await Deno.lstat(`${dir}/files/${CID_A}`).catch(() => undefined), undefined);

    await store(dir, CID_B, "program b", ["/ipfs/b"]);
    await Deno.chown(`${dir}/files/${CID_B}`, 65534, 65534);
    assert.equal(await openCached(dir, { cid: CID_B }), undefined);
    assert.equal(await Deno.lstat(`${dir}/files/${CID_B}`).catch(() => undefined), undefined);

    await store(dir, CID_C, "program c", ["/ipfs/c"]);
    const fine = await openCached(dir, { cid: CID_C });
    assert.ok(fine, "a 0555 file of ww's user is a hit");
    closeFd(fine.fd);
  });
});

Deno.test("a cache that another user could change is neither read nor written, and says why", async () => {
  const top = await Deno.makeTempDir();
  try {
    const dir = `${top}/ww/ipfs`;
    await store(dir, CID_A, "program A", ["/ipfs/a"]);
    assert.ok(await openCached(dir, { path: "/ipfs/a" }), "found while only ww's user can write");
    for (
      const [mode, why] of [[0o777, /is writable by others \(mode 777\)/], [
        0o775,
        /is writable by its group \(mode 775\)/,
      ]] as const
    ) {
      await Deno.chmod(`${top}/ww`, mode);
      assert.match(cacheTrustProblem(dir)!, why);
      assert.equal(await openCached(dir, { path: "/ipfs/a" }), undefined);
      assert.equal(await openCached(dir, { cid: CID_A }), undefined);
      await assert.rejects(store(dir, CID_B, "program B", ["/ipfs/b"]), why);
    }
    // A sticky directory (as /tmp) may be writable by all: only an entry's owner renames it.
    await Deno.chmod(`${top}/ww`, 0o1777);
    assert.equal(cacheTrustProblem(dir), undefined);
    await Deno.chown(`${top}/ww`, 65534, 65534);
    assert.match(cacheTrustProblem(dir)!, /ww belongs to uid 65534, not to ww's user or root/);
    assert.equal(await openCached(dir, { path: "/ipfs/a" }), undefined);
  } finally {
    await Deno.remove(top, { recursive: true });
  }
});

Deno.test("a path's record that is for another path is a miss", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await store(dir, CID_A, "program A", ["/ipfs/a"]);
    await store(dir, CID_B, "program B", ["/ipfs/b"]);
    const records = [...Deno.readDirSync(`${dir}/paths`)].map((e) => `${dir}/paths/${e.name}`);
    const recordOf = (path: string) =>
      records.find((r) => JSON.parse(Deno.readTextFileSync(r)).path === path)!;
    // b's record, ww's own file, put where a's goes.
    Deno.copyFileSync(recordOf("/ipfs/b"), recordOf("/ipfs/a"));
    assert.equal(await openCached(dir, { path: "/ipfs/a" }), undefined);
    const b = await openCached(dir, { path: "/ipfs/b" });
    assert.equal(readAll(b!.fd), "program B");
    closeFd(b!.fd);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ww cache on a cache directory that cannot be one says so in one line", async () => {
  const file = await Deno.makeTempFile();
  try {
    for (const sub of ["list", "size", "clear"]) {
      await assert.rejects(
        cacheCommand([sub], { XDG_CACHE_HOME: file }),
        (e: unknown) =>
          e instanceof UsageError &&
          e.message === `cache ${sub}: cannot use ${file}/ww/ipfs (Not a directory)`,
      );
    }
  } finally {
    await Deno.remove(file);
  }
});

// A loop of links and a path too long were "internal error"s; only a file there was one line.
Deno.test("ww cache on a cache path the system refuses (a loop of links, too long) says so in one line", async () => {
  const home = await Deno.makeTempDir({ prefix: "wwtest-cache-loop-" });
  try {
    await Deno.mkdir(`${home}/ww`);
    await Deno.symlink("loop", `${home}/ww/ipfs`);
    await Deno.symlink("ipfs", `${home}/ww/loop`);
    const long = `${home}/${"a".repeat(5000)}`;
    for (const [env, dir] of [[home, `${home}/ww/ipfs`], [long, `${long}/ww/ipfs`]]) {
      for (const sub of ["list", "size", "clear"]) {
        await assert.rejects(
          cacheCommand([sub], { XDG_CACHE_HOME: env }),
          (e: unknown) =>
            e instanceof UsageError && e.message.startsWith(`cache ${sub}: cannot use ${dir} (`) &&
            !e.message.includes("\n"),
        );
      }
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

// A clear removed the whole directory, and a file of the caller's with it, said "removed 0".
Deno.test("clear refuses, and removes nothing from, a cache directory that holds what ww did not put there", async () => {
  await withDir(async (dir) => {
    await store(dir, CID_A, "aaaa", ["/ipfs/a"]);
    await Deno.mkdir(`${dir}/names`); // ww's own, as ipfs/ipns_seen.ts writes it
    await Deno.writeTextFile(`${dir}/notes.txt`, "mine");
    await Deno.mkdir(`${dir}/zzz`);
    await assert.rejects(
      clearCached(dir),
      (e: unknown) =>
        e instanceof ForeignCacheEntriesError && e.names.join(" ") === "notes.txt zzz",
    );
    assert.equal(await Deno.readTextFile(`${dir}/notes.txt`), "mine");
    assert.equal((await listCached(dir)).length, 1);
    await assert.rejects(
      cacheCommand(["clear"], { XDG_CACHE_HOME: dir.replace(/\/ww\/ipfs$/, "") }),
      (e: unknown) =>
        e instanceof UsageError &&
        /holds what ww did not put there \(notes\.txt, zzz\)/.test(e.message),
    );
    await Deno.remove(`${dir}/notes.txt`);
    await Deno.remove(`${dir}/zzz`);
    assert.deepEqual(await clearCached(dir), { programs: 1, bytes: 4 });
  });
});

// The usage was one "line" holding newlines, which the escaping for stdout printed as "\n".
Deno.test("ww cache help prints its usage a line at a time", async () => {
  for (const word of ["help", "--help", "-h"]) {
    const lines = await cacheCommand([word], { HOME: "/nonexistent" });
    assert.ok(lines.length > 3, JSON.stringify(lines));
    assert.equal(lines[0], "usage: ww cache [list|size|clear]");
    assert.ok(lines.every((l) => !l.includes("\\n") && !l.includes("\n")), JSON.stringify(lines));
  }
});

// \`ww cache\` looked in a directory that runs refuse as untrusted (another user's, or writable by
// others): it listed what no run uses, and \`clear\` removed another user's cache.
Deno.test("ww cache refuses, in one line, a cache directory that runs do not trust", async () => {
  const home = await Deno.makeTempDir();
  try {
    const dir = `${home}/ww/ipfs`;
    Deno.mkdirSync(dir, { recursive: true });
    Deno.writeTextFileSync(`${dir}/keep`, "another user's");
    Deno.chmodSync(`${home}/ww`, 0o777);
    for (const sub of ["list", "size", "clear"]) {
      await assert.rejects(
        cacheCommand([sub], { XDG_CACHE_HOME: home }),
        (e: unknown) =>
          e instanceof UsageError &&
          e.message ===
            `cache ${sub}: ${dir} is not a cache ww uses: ${home}/ww is writable by others (mode 777) (runs fetch every time; set XDG_CACHE_HOME to a directory of your own)`,
      );
    }
    assert.equal(Deno.readTextFileSync(`${dir}/keep`), "another user's");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
