// fd/grant_path.ts: a grant's path resolved as the kernel would, following only the symlinks of
// root and of the caller, on a file system of plain values.
import assert from "node:assert/strict";
import { type PathHost, resolveGrantPath } from "./grant_path.ts";

/** Directories and files (owned by `uid`), and symlinks: path -> [target, owner]. */
function fs(entries: Record<string, number | [string, number]>): PathHost {
  return {
    lstat: (p) => {
      const e = entries[p];
      if (e === undefined) return undefined;
      return typeof e === "number" ? { symlink: false, uid: e } : { symlink: true, uid: e[1] };
    },
    readlink: (p) => {
      const e = entries[p];
      if (!Array.isArray(e)) throw new Error(`not a symlink: ${p}`);
      return e[0];
    },
  };
}

const ROOT = 0;
const CALLER = 1000;
const JAIL = 70000;
const trusted = (uid: number) => uid === ROOT || uid === CALLER;

const HOST = fs({
  "/srv": ROOT,
  "/srv/data": ROOT, // a bound directory a jail may write
  "/srv/data/log": ["/etc/shadow", JAIL], // what a jail planted
  "/srv/data/sub": ["/etc", JAIL],
  "/srv/data/mine": ["/srv/data/real", CALLER],
  "/srv/data/real": CALLER,
  "/srv/data/rel": ["../data/real", ROOT],
  "/srv/data/jaildir": JAIL, // a directory a jail made: its files are the jail's anyway
  "/etc": ROOT,
  "/etc/shadow": ROOT,
  "/dev": ROOT,
  "/dev/stdout": ["/proc/self/fd/1", ROOT],
  "/proc": ROOT,
  "/var": ROOT,
  "/var/run": ["../run", ROOT],
  "/run": ROOT,
  "/loop/a": ["/loop/b", CALLER],
  "/loop/b": ["/loop/a", CALLER],
  "/loop": ROOT,
});

Deno.test("resolveGrantPath refuses a link whose owner is neither root nor the caller, anywhere on the path", () => {
  assert.deepEqual(resolveGrantPath("/srv/data/log", HOST, trusted), {
    untrusted: { link: "/srv/data/log", uid: JAIL },
  });
  assert.deepEqual(resolveGrantPath("/srv/data/sub/shadow", HOST, trusted), {
    untrusted: { link: "/srv/data/sub", uid: JAIL },
  });
  // Reached through trusted links and "..", the planted link is still found.
  assert.deepEqual(resolveGrantPath("/var/run/../srv/./data/log", HOST, trusted), {
    untrusted: { link: "/srv/data/log", uid: JAIL },
  });
});

Deno.test("resolveGrantPath follows root's and the caller's links to a path with no link left", () => {
  const plain = (path: string) => ({ path, kernelLinks: false });
  assert.deepEqual(resolveGrantPath("/srv/data/mine", HOST, trusted), plain("/srv/data/real"));
  assert.deepEqual(resolveGrantPath("/srv/data/rel", HOST, trusted), plain("/srv/data/real"));
  assert.deepEqual(resolveGrantPath("/var/run/app.sock", HOST, trusted), plain("/run/app.sock"));
  // A file to create, in a directory a jail made: no link is followed to it.
  assert.deepEqual(resolveGrantPath("/srv/data/jaildir/new", HOST, trusted), {
    path: "/srv/data/jaildir/new",
    kernelLinks: false,
  });
  // What cannot be told is kept as written: the open says why it fails.
  assert.deepEqual(resolveGrantPath("/nowhere/x/../y", HOST, trusted), plain("/nowhere/y"));
  assert.deepEqual(resolveGrantPath("//srv//data/", HOST, trusted), plain("/srv/data"));
});

Deno.test("resolveGrantPath hands /proc's own links to the kernel: /dev/stdout", () => {
  assert.deepEqual(resolveGrantPath("/dev/stdout", HOST, trusted), {
    path: "/proc/self/fd/1",
    kernelLinks: true,
  });
  assert.deepEqual(resolveGrantPath("/proc/self/fd/../fd/2", HOST, trusted), {
    path: "/proc/self/fd/../fd/2",
    kernelLinks: true,
  });
});

Deno.test("resolveGrantPath stops at a loop of links, as the kernel does (ELOOP)", () => {
  assert.deepEqual(resolveGrantPath("/loop/a", HOST, trusted), { loop: true });
});
