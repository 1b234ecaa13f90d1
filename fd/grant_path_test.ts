// fd/grant_path.ts: a grant's path resolved as the kernel would, following only the symlinks of
// trusted owners (here root's and a caller's), on a file system of plain values.
import assert from "node:assert/strict";
import { type PathHost, resolveGrantPath } from "./grant_path.ts";

/** A directory or a file owned by a uid, or a symlink: [target, owner]. */
type Entry = { dir: number } | { file: number } | [string, number];

function fs(entries: Record<string, Entry>): PathHost {
  return {
    lstat: (p) => {
      const e = entries[p];
      if (e === undefined) return undefined;
      if (Array.isArray(e)) return { symlink: true, directory: false, uid: e[1] };
      return "dir" in e
        ? { symlink: false, directory: true, uid: e.dir }
        : { symlink: false, directory: false, uid: e.file };
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
  "/srv": { dir: ROOT },
  "/srv/data": { dir: ROOT }, // a bound directory a jail may write
  "/srv/data/log": ["/etc/shadow", JAIL], // what a jail planted
  "/srv/data/sub": ["/etc", JAIL],
  "/srv/data/mine": ["/srv/data/real", CALLER],
  "/srv/data/real": { file: CALLER },
  "/srv/data/rel": ["../data/real", ROOT],
  "/srv/data/jaildir": { dir: JAIL }, // a directory a jail made: its files are the jail's anyway
  "/etc": { dir: ROOT },
  "/etc/shadow": { file: ROOT },
  "/etc/hostname": { file: ROOT },
  "/dev": { dir: ROOT },
  "/dev/stdout": ["/proc/self/fd/1", ROOT],
  "/proc": { dir: ROOT },
  "/proc/self": ["4242", ROOT],
  "/proc/mounts": ["self/mounts", ROOT],
  "/proc/4242": { dir: ROOT },
  "/proc/4242/fd": { dir: ROOT },
  "/proc/4242/fd/3": ["/srv/data", ROOT], // a descriptor's link: the kernel's, not a path
  "/proc/4242/root": ["/", ROOT],
  "/proc/4242/mounts": { file: ROOT },
  "/var": { dir: ROOT },
  "/var/run": ["../run", ROOT],
  "/run": { dir: ROOT },
  "/loop/a": ["/loop/b", CALLER],
  "/loop/b": ["/loop/a", CALLER],
  "/loop": { dir: ROOT },
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
  assert.deepEqual(resolveGrantPath("//srv//data/", HOST, trusted), plain("/srv/data"));
  assert.deepEqual(resolveGrantPath("/srv/data/./", HOST, trusted), plain("/srv/data"));
});

// By text, "/etc/hostname/../shadow" was /etc/shadow, "/nowhere/../etc/hostname" was
// /etc/hostname, and "FILE/" was FILE (which `--open o=FILE/:w` then truncated): the kernel
// refuses each (ENOTDIR, ENOENT, ENOTDIR).
Deno.test("resolveGrantPath keeps the rest as written after what is no directory, for the open to fail there", () => {
  const plain = (path: string) => ({ path, kernelLinks: false });
  assert.deepEqual(
    resolveGrantPath("/etc/hostname/../shadow", HOST, trusted),
    plain("/etc/hostname/../shadow"),
  );
  assert.deepEqual(
    resolveGrantPath("/nowhere/../etc/hostname", HOST, trusted),
    plain("/nowhere/../etc/hostname"),
  );
  assert.deepEqual(resolveGrantPath("/nowhere/x/../y", HOST, trusted), plain("/nowhere/x/../y"));
  assert.deepEqual(resolveGrantPath("/etc/hostname/", HOST, trusted), plain("/etc/hostname/"));
  assert.deepEqual(resolveGrantPath("/etc/hostname/.", HOST, trusted), plain("/etc/hostname/."));
  assert.deepEqual(resolveGrantPath("/srv/data/new/", HOST, trusted), plain("/srv/data/new/"));
  // Through a link to a file, too: its target, then what the path asked of it.
  assert.deepEqual(resolveGrantPath("/srv/data/mine/", HOST, trusted), plain("/srv/data/real/"));
  // A link to a directory, with a slash: the directory.
  assert.deepEqual(resolveGrantPath("/var/run/", HOST, trusted), plain("/run"));
});

Deno.test("resolveGrantPath hands /proc's own links to the kernel: /dev/stdout", () => {
  assert.deepEqual(resolveGrantPath("/dev/stdout", HOST, trusted), {
    path: "/proc/self/fd/1",
    kernelLinks: true,
  });
  assert.deepEqual(resolveGrantPath("/proc/self/fd/../fd/2", HOST, trusted), {
    path: "/proc/4242/fd/2",
    kernelLinks: true,
  });
  assert.deepEqual(resolveGrantPath("/proc/4242/task/4243/fd/0", HOST, trusted), {
    path: "/proc/4242/task/4243/fd/0",
    kernelLinks: true,
  });
  // A file of /proc that no link of its own leads to is resolved as any other.
  assert.deepEqual(resolveGrantPath("/proc/self/mounts", HOST, trusted), {
    path: "/proc/4242/mounts",
    kernelLinks: false,
  });
});

// "/proc/../x" was handed to the kernel whole, which followed every link on it; so were
// /proc/self/root/x and /proc/self/fd/N/x, the kernel's own ways to any file.
Deno.test("resolveGrantPath refuses /proc's other links, and leaves /proc by .. as any path", () => {
  assert.deepEqual(resolveGrantPath("/proc/../srv/data/log", HOST, trusted), {
    untrusted: { link: "/srv/data/log", uid: JAIL },
  });
  assert.deepEqual(resolveGrantPath("/proc/./../etc/shadow", HOST, trusted), {
    path: "/etc/shadow",
    kernelLinks: false,
  });
  assert.deepEqual(resolveGrantPath("/proc/self/root/srv/data/log", HOST, trusted), {
    procLink: "/proc/4242/root",
  });
  assert.deepEqual(resolveGrantPath("/proc/self/fd/3/log", HOST, trusted), {
    procLink: "/proc/4242/fd/3",
  });
  // /proc's own plain links are followed as any other of root's.
  assert.deepEqual(resolveGrantPath("/proc/mounts", HOST, trusted), {
    path: "/proc/4242/mounts",
    kernelLinks: false,
  });
});

Deno.test("resolveGrantPath stops at a loop of links, as the kernel does (ELOOP)", () => {
  assert.deepEqual(resolveGrantPath("/loop/a", HOST, trusted), { loop: true });
});
