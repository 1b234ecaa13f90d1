import assert from "node:assert/strict";
import { UsageError } from "../core/errors.ts";
import { cidKey, parseCid } from "./block.ts";
import { cacheCommand } from "./cache_command.ts";
import { ipnsSequences } from "./ipns_seen.ts";
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
  isOwnCacheEntry,
  listCached,
  openCached,
  storeCached,
  tmpName,
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
    // An older ww named a program's temporary file by its CID.
    const old = `${dir}/tmp/${CID_B}.1.${crypto.randomUUID()}`;
    const fresh = tmpName(dir, "file");
    await Deno.writeTextFile(old, "partial");
    await Deno.writeTextFile(fresh, "partial");
    const t = new Date(Date.now() - 2 * 3600 * 1000);
    await Deno.utime(old, t, t);
    await evict(dir, 1 << 30);
    assert.deepEqual([...Deno.readDirSync(`${dir}/tmp`)].map((e) => `${dir}/tmp/${e.name}`), [
      fresh,
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

// Checked on the path with its links resolved, a cache reached through another user's directory
// (root run with that user's HOME, sudo -E) passed when the link led to root's own: that user
// could point the link elsewhere once it had passed, and have root run a program of theirs.
Deno.test({
  name: "a cache reached through another user's directory is not trusted, wherever its link leads",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const top = await Deno.makeTempDir();
    try {
      const own = `${top}/own-cache`;
      await store(`${own}/ww/ipfs`, CID_A, "program A", ["/ipfs/a"]);
      const home = `${top}/home`;
      await Deno.mkdir(home, { mode: 0o755 });
      await Deno.symlink(own, `${home}/.cache`);
      await new Deno.Command("chown", { args: ["-h", "65534:65534", home, `${home}/.cache`] })
        .output();
      const dir = `${home}/.cache/ww/ipfs`;
      assert.equal(
        cacheTrustProblem(dir),
        `${home} belongs to uid 65534, not to ww's user or root`,
      );
      assert.equal(await openCached(dir, { path: "/ipfs/a" }), undefined);
      assert.equal(cacheTrustProblem(`${own}/ww/ipfs`), undefined);
    } finally {
      await Deno.remove(top, { recursive: true });
    }
  },
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
          e.message ===
            `cache ${sub}: cannot use ${file}/ww/ipfs (Not a directory; set XDG_CACHE_HOME to a directory of your own)`,
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
            e.message.endsWith("; set XDG_CACHE_HOME to a directory of your own)") &&
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

const UUID = "0f1e2d3c-4b5a-4697-8877-665544332211";

Deno.test("only ww's directories are ww's at the top, and in each only regular files named as ww names them", async () => {
  const hex = Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode("key"))),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const v0 = parseCid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn");
  const v1 = parseCid("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
  assert.ok(!("error" in v0) && !("error" in v1));
  const cids = [cidKey(v0), cidKey(v1), CID_A];
  const temporaries = [
    ...(["file", "path", "name"] as const).map((w) => tmpName("/c", w).slice("/c/tmp/".length)),
    `${CID_A}.42.${UUID}`, // an older ww's name for a program being written
  ];
  const own: Record<string, string[]> = {
    "": ["files", "paths", "tmp", "names"],
    files: cids,
    paths: [hex],
    tmp: temporaries,
    names: [hex],
    other: [],
  };
  const foreign = [
    ...["notes.txt", "Files", "files ", ".", "..", "constructor", "__proto__", "toString"],
    // Not a CID as ww writes it: CIDv0 text, upper case, base58, a suffix, the prefix alone.
    "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn",
    CID_A.toUpperCase(),
    "zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA",
    `${CID_A}.txt`,
    "b",
    "my-notes.txt",
    // Not a SHA-256 in hex: upper case, a digit short or over, a suffix.
    hex.toUpperCase(),
    hex.slice(1),
    `${hex}0`,
    `${hex}.json`,
    // Not a temporary name: another word, no uuid, a pid that is none, a suffix, upper case.
    `other.42.${UUID}`,
    "file.42",
    `file.x.${UUID}`,
    `file.42.${UUID}.bak`,
    `file.42.${UUID.toUpperCase()}`,
    `file..${UUID}`,
  ];
  const names = [...new Set([...Object.values(own).flat(), ...foreign])];
  const kinds = {
    file: { isFile: true, isDirectory: false },
    directory: { isFile: false, isDirectory: true },
    "symlink or other": { isFile: false, isDirectory: false },
  };
  for (const [sub, owned] of Object.entries(own)) {
    const ownKind = sub === "" ? "directory" : "file";
    for (const name of names) {
      for (const [kind, flags] of Object.entries(kinds)) {
        assert.equal(
          isOwnCacheEntry(sub, { name, ...flags }),
          owned.includes(name) && kind === ownKind,
          `${sub}/${name} as a ${kind}`,
        );
      }
    }
  }
});

Deno.test("everything ww writes into a cache is its own, and a clear during a fill removes it all", async () => {
  await withDir(async (dir) => {
    await store(dir, CID_A, "aaaa", ["/ipfs/a", "/ipfs/x/bin/a"]);
    await ipnsSequences(dir).saw(
      "k51qzi5uqu5dkey",
      7n,
      new Date(Date.now() + 60_000).toISOString(),
    );
    const filler = await CacheFiller.open(dir); // a run fetching meanwhile: its file is in tmp/
    try {
      const all: string[] = [];
      for (const top of Deno.readDirSync(dir)) {
        assert.ok(isOwnCacheEntry("", top), top.name);
        for (const e of Deno.readDirSync(`${dir}/${top.name}`)) {
          assert.ok(isOwnCacheEntry(top.name, e), `${top.name}/${e.name}`);
          all.push(top.name);
        }
      }
      assert.deepEqual(all.sort(), ["files", "names", "paths", "paths", "tmp"]);
      assert.deepEqual(await clearCached(dir), { programs: 1, bytes: 4 });
    } finally {
      await filler.discard();
    }
    await assert.rejects(Deno.lstat(dir), Deno.errors.NotFound);
  });
});

// Only the top level was checked: a file of the user's in files/ or paths/ was listed as a
// program, and a clear said "removed 2 programs" and took it with the cache.
Deno.test("clear refuses, and removes nothing, when one of the cache's directories holds what ww did not put there", async () => {
  await withDir(async (dir) => {
    await store(dir, CID_A, "aaaa", ["/ipfs/a"]);
    const mine = [
      "files/my-notes.txt",
      "files/mydir/keep",
      "paths/mine.txt",
      `tmp/${CID_B}`, // no temporary name: not one of a fetch in progress
      `names/${"0".repeat(64)}/keep`, // a directory where ww writes files
    ];
    for (const f of mine) {
      await Deno.mkdir(`${dir}/${f.slice(0, f.lastIndexOf("/"))}`, { recursive: true });
      await Deno.writeTextFile(`${dir}/${f}`, "precious");
    }
    await Deno.symlink(`${dir}/files/${CID_A}`, `${dir}/files/${CID_C}`); // a CID, but a link
    const foreign = [
      `files/${CID_C}`,
      "files/my-notes.txt",
      "files/mydir",
      `names/${"0".repeat(64)}`,
      "paths/mine.txt",
      `tmp/${CID_B}`,
    ];
    await assert.rejects(
      clearCached(dir),
      (e: unknown) =>
        e instanceof ForeignCacheEntriesError && e.names.join(" ") === foreign.join(" "),
    );
    await assert.rejects(
      cacheCommand(["clear"], { XDG_CACHE_HOME: dir.replace(/\/ww\/ipfs$/, "") }),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message ===
          `cache clear: ${dir} holds what ww did not put there (files/${CID_C}, files/my-notes.txt, files/mydir and 3 more), which a clear would remove with the cache, so it removed nothing: move it out, then clear again`,
    );
    for (const f of mine) assert.equal(await Deno.readTextFile(`${dir}/${f}`), "precious");
    assert.deepEqual((await listCached(dir)).map((e) => e.cid), [CID_A]);
    for (const f of foreign) await Deno.remove(`${dir}/${f}`, { recursive: true });
    assert.deepEqual(await clearCached(dir), { programs: 1, bytes: 4 });
  });
});

Deno.test("list and size count only what ww put there, and eviction leaves the rest", async () => {
  await withDir(async (dir) => {
    await store(dir, CID_A, "aaaa", ["/ipfs/a"]);
    await Deno.writeTextFile(`${dir}/files/my-notes.txt`, "precious text");
    await Deno.mkdir(`${dir}/files/${CID_B}`); // a CID, but a directory
    await Deno.symlink(`${dir}/files/${CID_A}`, `${dir}/files/${CID_C}`); // a CID, but a link
    // A record's content, but not a record's name: no path resolves through it.
    const record = JSON.stringify({ path: "/ipfs/mine", cid: CID_A, size: 4 });
    await Deno.writeTextFile(`${dir}/paths/mine.json`, record);
    assert.deepEqual((await listCached(dir)).map((e) => [e.cid, e.size, e.paths]), [
      [CID_A, 4, ["/ipfs/a"]],
    ]);
    const [size] = await cacheCommand(["size"], { XDG_CACHE_HOME: dir.replace(/\/ww\/ipfs$/, "") });
    assert.match(size, /^4 B in 1 program \(/);
    // Past the bound, and older than anything of ww's: still not ww's to remove.
    const long = new Date(Date.now() - 2 * 3600 * 1000);
    await Deno.writeTextFile(`${dir}/tmp/my-draft`, "precious");
    for (const f of ["files/my-notes.txt", "tmp/my-draft"]) {
      await Deno.utime(`${dir}/${f}`, long, long);
    }
    await evict(dir, 0);
    assert.equal(await Deno.readTextFile(`${dir}/files/my-notes.txt`), "precious text");
    assert.equal(await Deno.readTextFile(`${dir}/tmp/my-draft`), "precious");
    assert.equal(await Deno.readTextFile(`${dir}/paths/mine.json`), record);
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

// `ww cache clear --help` (and list's, size's) was refused, exit 125, "takes no arguments (--help)",
// where `ww doctor --help` prints doctor's help: it prints the cache's usage now, and clears nothing.
Deno.test("ww cache clear --help prints the usage, exit 0, and leaves the cache as it was", async () => {
  await withDir(async (dir) => {
    await store(dir, CID_A, "aaaa", ["/ipfs/a"]);
    for (const args of [["clear", "--help"], ["clear", "-h"], ["list", "help"], ["size", "-h"]]) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname, "cache", ...args],
        env: { XDG_CACHE_HOME: dir.replace(/\/ww\/ipfs$/, "") },
        stdin: "null",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      assert.equal(
        out.code,
        0,
        `ww cache ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
      );
      assert.match(stdout, /^usage: ww cache \[list\|size\|clear\]\n/);
      assert.equal((await listCached(dir)).length, 1);
    }
    // Anything else after a subcommand is still refused.
    await assert.rejects(
      cacheCommand(["clear", "now"], { XDG_CACHE_HOME: dir.replace(/\/ww\/ipfs$/, "") }),
      (e: unknown) => e instanceof UsageError && /takes no arguments \(now\)/.test(e.message),
    );
    assert.equal((await listCached(dir)).length, 1);
  });
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
