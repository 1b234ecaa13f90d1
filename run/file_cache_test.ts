import assert from "node:assert/strict";
import { fileCache, type FileCacheIo, settled, SETTLED_MS } from "./file_cache.ts";
import { type FileIdentity, fileIdentity } from "../ffi/stat.ts";
import { readText } from "./host.ts";
import { idsInPasswd } from "../jail/ids.ts";

const OLD: FileIdentity = {
  dev: 2049,
  ino: 100,
  size: 30,
  mtimeSec: 1_000,
  mtimeNsec: 5,
  ctimeSec: 1_000,
  ctimeNsec: 5,
};

/** A host of one file whose text and identity the test sets, counting reads. */
function fakeHost(now = 1_000_000_000) {
  const host = { text: "a:x:1:1::/:/bin/sh\n" as string | undefined, identity: OLD, now, reads: 0 };
  const io: FileCacheIo = {
    identify: () => host.text === undefined ? undefined : host.identity,
    read: () => {
      host.reads++;
      return host.text;
    },
    now: () => host.now,
  };
  return { host, cache: fileCache(io, (text) => idsInPasswd(text ?? "")) };
}

Deno.test("a FileCache reads a settled file once while its identity stays", () => {
  const { host, cache } = fakeHost();
  assert.deepEqual(cache.get("/etc/passwd"), [1, 1]);
  assert.deepEqual(cache.get("/etc/passwd"), [1, 1]);
  assert.equal(host.reads, 1);
});

Deno.test("a FileCache reads a file again when any field of its identity changes", () => {
  const changes: Partial<FileIdentity>[] = [
    { dev: 2050 },
    { ino: 101 }, // replaced by a rename, as vipw and useradd do
    { size: 31 },
    { mtimeSec: 1_001 },
    { mtimeNsec: 6 },
    { ctimeSec: 1_001 },
    { ctimeNsec: 6 }, // a change within the same second
  ];
  for (const change of changes) {
    const { host, cache } = fakeHost();
    cache.get("/etc/passwd");
    host.text = "a:x:1:1::/:/bin/sh\nb:x:2:3::/:/bin/sh\n";
    host.identity = { ...OLD, ...change };
    assert.deepEqual(cache.get("/etc/passwd"), [1, 1, 2, 3], JSON.stringify(change));
    assert.equal(host.reads, 2);
  }
});

Deno.test("a FileCache keeps nothing of a file changed too recently, nor of an absent one", () => {
  const changedMs = OLD.ctimeSec * 1000;
  // Changed under SETTLED_MS ago: a second write in the same timestamp tick would not show.
  const { host, cache } = fakeHost(changedMs + SETTLED_MS - 1);
  cache.get("/etc/passwd");
  cache.get("/etc/passwd");
  assert.equal(host.reads, 2);
  host.now = changedMs + SETTLED_MS + 1;
  cache.get("/etc/passwd");
  cache.get("/etc/passwd");
  assert.equal(host.reads, 3);
  // Removed: its value is that of no text, and nothing is read; back, it is read again.
  host.text = undefined;
  assert.deepEqual(cache.get("/etc/passwd"), []);
  assert.equal(host.reads, 3);
  host.text = "c:x:7:7::/:/bin/sh\n";
  assert.deepEqual(cache.get("/etc/passwd"), [7, 7]);
  assert.equal(host.reads, 4);
});

Deno.test("settled looks at both the change and the modification time", () => {
  const now = 10_000_000;
  assert.equal(settled(OLD, now), true);
  assert.equal(settled({ ...OLD, mtimeSec: now / 1000 }, now), false);
  assert.equal(settled({ ...OLD, ctimeSec: now / 1000 - 1, ctimeNsec: 500_000_000 }, now), false);
});

Deno.test("a FileCache over the real statx sees a file edited in place, and one replaced by a rename", () => {
  const dir = Deno.makeTempDirSync({ prefix: "ww-file-cache-test-" });
  try {
    const path = `${dir}/passwd`;
    // Settled: written, then dated back past SETTLED_MS, so the cache keeps it.
    const write = (text: string) => {
      Deno.writeTextFileSync(path, text);
      Deno.utimeSync(path, 1_000, 1_000);
    };
    let reads = 0;
    const cache = fileCache({
      identify: fileIdentity,
      read: (p) => (reads++, readText(p)),
      // ctime cannot be set back: the clock is moved on instead.
      now: () => Date.now() + SETTLED_MS,
    }, (text) => idsInPasswd(text ?? ""));
    write("a:x:1:1::/:/bin/sh\n");
    assert.deepEqual(cache.get(path), [1, 1]);
    assert.deepEqual(cache.get(path), [1, 1]);
    assert.equal(reads, 1);
    // Same size, same mtime (utime set it back): only ctime and its nanoseconds tell.
    write("a:x:2:2::/:/bin/sh\n");
    assert.deepEqual(cache.get(path), [2, 2]);
    assert.equal(reads, 2);
    Deno.writeTextFileSync(`${dir}/new`, "b:x:3:3::/:/bin/sh\n");
    Deno.utimeSync(`${dir}/new`, 1_000, 1_000);
    Deno.renameSync(`${dir}/new`, path);
    assert.deepEqual(cache.get(path), [3, 3]);
    Deno.removeSync(path);
    assert.deepEqual(cache.get(path), []);
    assert.equal(reads, 3);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
