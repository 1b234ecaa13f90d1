import assert from "node:assert/strict";
import { DEFAULT_POLICY, type JailPolicy } from "../jail/policy.ts";
import {
  guestOpenError,
  type HostEntry,
  type HostFs,
  type JailView,
  jailView,
  resolveGuestProgram,
  resolveInView,
} from "./view.ts";

/** A model host: paths to entries; directories are implied by their children. */
function modelFs(entries: Record<string, HostEntry>): HostFs {
  const map = new Map(Object.entries(entries));
  const entry = (path: string): HostEntry => {
    const e = map.get(path);
    if (e) return e;
    if (path === "/" || [...map.keys()].some((k) => k.startsWith(`${path}/`))) {
      return { kind: "dir" };
    }
    return { kind: "missing" };
  };
  const realPath = (path: string): string | undefined => {
    let done: string[] = [];
    let todo = path.split("/").filter(Boolean);
    for (let links = 0; todo.length > 0;) {
      const part = todo.shift()!;
      if (part === ".") continue;
      if (part === "..") {
        done.pop();
        continue;
      }
      const here = `/${[...done, part].join("/")}`;
      const e = entry(here);
      if (e.kind === "missing") return undefined;
      if (e.kind === "symlink") {
        if (++links > 40) return undefined;
        if (e.target.startsWith("/")) done = [];
        todo = [...e.target.split("/").filter(Boolean), ...todo];
        continue;
      }
      done.push(part);
    }
    return `/${done.join("/")}`;
  };
  return { entry, realPath };
}

const FILE: HostEntry = { kind: "file" };
const link = (target: string): HostEntry => ({ kind: "symlink", target });

/** A host like a Debian one, with a user's data and a few traps. */
const HOST = modelFs({
  "/usr/bin/env": FILE,
  "/usr/bin/sh": FILE,
  "/usr/lib/x86_64-linux-gnu/libc.so.6": FILE,
  "/usr/lib/tool": FILE,
  "/usr/bin/dash-link": link("sh"),
  "/usr/bin/out-link": link("/home/u/secret/prog"),
  "/usr/bin/up-link": link("../../home/u/secret/prog"),
  "/usr/bin/loop": link("loop"),
  "/lib": link("usr/lib"),
  "/bin": link("usr/bin"),
  "/etc/ld.so.cache": FILE,
  "/etc/passwd": FILE,
  "/home/u/data/prog": FILE,
  "/home/u/data/sub/tool": FILE,
  "/home/u/data/escape": link("/home/u/secret/prog"),
  "/home/u/data/rel-escape": link("../secret/prog"),
  "/home/u/data/inside": link("sub/tool"),
  "/home/u/data/to-usr": link("/usr/bin/env"),
  "/home/u/data/dev": { kind: "other" },
  "/home/u/secret/prog": FILE,
  "/home/u/app/guest": FILE,
  "/srv/out/made": FILE,
  "/tmp/hostfile": FILE,
  "/proc/self/exe": link("/usr/bin/deno"),
});

function policy(binds: Partial<JailPolicy> = {}): JailPolicy {
  return { ...DEFAULT_POLICY, ...binds };
}

const BINDS = policy({
  readOnlyBinds: [{ source: "/home/u/data", dest: "/data" }],
  writableBinds: [{ source: "/srv/out", dest: "/out" }],
});
const PROGRAM = { path: "/home/u/app/guest", source: "/home/u/app/guest" };
const BWRAP = jailView("bwrap", BINDS, PROGRAM);

function ok(path: string, view: JailView = BWRAP): { path: string; source: string } {
  const r = resolveInView(path, view, HOST);
  if ("error" in r) throw new Error(r.error);
  return r;
}

function refused(path: string, view: JailView = BWRAP): string {
  const r = resolveInView(path, view, HOST);
  assert.ok("error" in r, `${path} resolved to ${JSON.stringify(r)}`);
  assert.ok(r.error.startsWith(`${path}: `), r.error);
  return r.error;
}

Deno.test("system programs resolve to themselves, through the /lib and /bin symlinks too", () => {
  assert.deepEqual(ok("/usr/bin/env"), { path: "/usr/bin/env", source: "/usr/bin/env" });
  assert.deepEqual(ok("/bin/env"), { path: "/bin/env", source: "/usr/bin/env" });
  assert.deepEqual(ok("/lib/tool"), { path: "/lib/tool", source: "/usr/lib/tool" });
  assert.deepEqual(ok("/usr/bin/dash-link"), { path: "/usr/bin/sh", source: "/usr/bin/sh" });
  assert.deepEqual(ok("//usr/./bin//env"), { path: "/usr/bin/env", source: "/usr/bin/env" });
  assert.deepEqual(ok("/usr/lib/../bin/env"), { path: "/usr/bin/env", source: "/usr/bin/env" });
  assert.deepEqual(ok("/etc/ld.so.cache"), {
    path: "/etc/ld.so.cache",
    source: "/etc/ld.so.cache",
  });
});

Deno.test("a bind shows its source at its destination, and only there", () => {
  assert.deepEqual(ok("/data/prog"), { path: "/data/prog", source: "/home/u/data/prog" });
  assert.deepEqual(ok("/data/sub/../prog"), { path: "/data/prog", source: "/home/u/data/prog" });
  assert.deepEqual(ok("/out/made"), { path: "/out/made", source: "/srv/out/made" });
  // /home/u is only made to hold the program's own file.
  assert.match(refused("/home/u/data/prog"), /\/home\/u\/data is not shown/);
  assert.match(refused("/srv/out/made"), /\/srv is not shown/);
});

Deno.test("the program's own file is shown at its path, and nothing beside it", () => {
  assert.deepEqual(ok("/home/u/app/guest"), PROGRAM);
  assert.match(refused("/home/u/secret/prog"), /\/home\/u\/secret is not shown/);
  assert.match(refused("/home/u/app/other"), /\/home\/u\/app\/other is not shown/);
  // The directories the jail makes to hold it are no programs.
  assert.match(refused("/home/u"), /is a directory/);
});

Deno.test("the program's own file is the one its jail was made with: a symlink put there since is refused", () => {
  // The guest can write where its own program lies (here through a writable bind of /home/u/app
  // at /app) and puts a symlink to a host file its jail does not show at the program's place.
  const host = modelFs({
    "/home/u/app/guest": link("/home/u/secret/prog"),
    "/home/u/secret/prog": FILE,
  });
  const view = jailView(
    "bwrap",
    policy({ writableBinds: [{ source: "/home/u/app", dest: "/app" }] }),
    PROGRAM,
  );
  const r = resolveInView("/home/u/app/guest", view, host);
  assert.ok("error" in r, JSON.stringify(r));
  assert.match(r.error, /^\/home\/u\/app\/guest: its host file \/home\/u\/app\/guest was replaced/);
  // The same symlink reached through the bind is followed in the view, and leads nowhere shown.
  const viaBind = resolveInView("/app/guest", view, host);
  assert.ok("error" in viaBind && /\/home\/u\/secret is not shown/.test(viaBind.error));
});

Deno.test("a program that changed between the check and the open is named, and nothing starts", () => {
  assert.match(guestOpenError("/data/app", "ELOOP"), /^\/data\/app: a symlink replaced part/);
  for (const errno of ["ENOENT", "ENOTDIR"]) {
    assert.match(guestOpenError("/data/app", errno), /^\/data\/app: it was moved or removed/);
  }
  assert.match(guestOpenError("/data/app", "not-file"), /other than a file/);
  assert.match(guestOpenError("/data/app", "EACCES"), /ww cannot read it.*make it readable/);
  assert.match(
    guestOpenError("/data/app", "EIO"),
    /could not open it \(EIO\); nothing was started/,
  );
});

Deno.test("a path that leaves the view by .. is refused, naming the path", () => {
  assert.match(refused("/usr/../home/u/secret/prog"), /\/home\/u\/secret is not shown/);
  assert.match(refused("/data/../../../etc/passwd"), /\/etc\/passwd is not shown/);
  assert.match(refused("/data/../tmp/hostfile"), /private \/tmp/);
  // .. from a bind goes to the jail's parent of the destination, not the source's.
  assert.match(refused("/data/../u/secret/prog"), /\/u is not shown/);
});

Deno.test("symlinks are followed inside the jail's view, never out of it", () => {
  assert.match(refused("/data/escape"), /\/home\/u\/secret is not shown/);
  // Relative: ../secret from /data is /secret in the jail, not /home/u/secret on the host.
  assert.match(refused("/data/rel-escape"), /\/secret is not shown/);
  assert.match(refused("/usr/bin/out-link"), /\/home\/u\/secret is not shown/);
  assert.match(refused("/usr/bin/up-link"), /\/home\/u\/secret is not shown/);
  assert.deepEqual(ok("/data/inside"), { path: "/data/sub/tool", source: "/home/u/data/sub/tool" });
  assert.deepEqual(ok("/data/to-usr"), { path: "/usr/bin/env", source: "/usr/bin/env" });
  assert.match(refused("/usr/bin/loop"), /too many levels of symbolic links/);
});

Deno.test("relative paths, the jail's own /proc, /dev and /tmp, and non-files are refused", () => {
  assert.match(refused("prog/x"), /not an absolute path/);
  assert.match(refused("./prog"), /not an absolute path/);
  assert.match(refused("../usr/bin/env"), /not an absolute path/);
  assert.match(refused("/proc/self/exe"), /jail's own \/proc/);
  assert.match(refused("/dev/null"), /jail's own \/dev/);
  assert.match(refused("/tmp/hostfile"), /private \/tmp/);
  assert.match(refused("/usr/bin"), /is a directory/);
  assert.match(refused("/"), /is a directory/);
  assert.match(refused("/data/dev"), /not a regular file/);
  assert.match(refused("/data/prog/x"), /\/data\/prog is not a directory/);
  assert.match(refused("/data/nothing"), /\/data\/nothing does not exist/);
  assert.match(refused("/etc/passwd"), /\/etc\/passwd is not shown/);
});

Deno.test("a bind inside the jail's own /tmp is shown, and the rest of that /tmp is not", () => {
  const view = jailView(
    "bwrap",
    policy({ readOnlyBinds: [{ source: "/home/u/data", dest: "/tmp/d" }] }),
  );
  assert.deepEqual(ok("/tmp/d/prog", view), { path: "/tmp/d/prog", source: "/home/u/data/prog" });
  assert.match(refused("/tmp/hostfile", view), /private \/tmp/);
  assert.match(refused("/tmp", view), /private \/tmp/);
  assert.match(refused("/tmp/d/../hostfile", view), /private \/tmp/);
});

Deno.test("a later mount covers an earlier one at the same or a deeper place", () => {
  const view = jailView(
    "bwrap",
    policy({
      readOnlyBinds: [{ source: "/home/u/data", dest: "/usr/bin" }],
      writableBinds: [{ source: "/srv/out", dest: "/usr" }],
    }),
  );
  assert.deepEqual(ok("/usr/made", view), { path: "/usr/made", source: "/srv/out/made" });
  // /usr/bin was bound before /usr, which covers it.
  assert.match(refused("/usr/bin/prog", view), /\/usr\/bin does not exist/);
});

Deno.test("native: binds are shown where they are; no private /tmp is listed, so none of /tmp", () => {
  const view = jailView(
    "native",
    policy({ readOnlyBinds: [{ source: "/home/u/data", dest: "/home/u/data" }] }),
    PROGRAM,
  );
  assert.deepEqual(ok("/home/u/data/prog", view), {
    path: "/home/u/data/prog",
    source: "/home/u/data/prog",
  });
  assert.deepEqual(ok("/home/u/app/guest", view), PROGRAM);
  assert.match(refused("/home/u/secret/prog", view), /not shown/);
  assert.match(refused("/tmp/hostfile", view), /\/tmp is not shown/);
  assert.match(refused("/proc/self/exe", view), /jail's own \/proc/);
});

Deno.test("none: the whole host is the view, and paths still resolve lexically and by symlink", () => {
  const view = jailView("none", DEFAULT_POLICY);
  assert.deepEqual(ok("/home/u/secret/prog", view), {
    path: "/home/u/secret/prog",
    source: "/home/u/secret/prog",
  });
  assert.deepEqual(ok("/usr/bin/../../tmp/hostfile", view), {
    path: "/tmp/hostfile",
    source: "/tmp/hostfile",
  });
  // .. after a symlink goes up from where it leads, as the kernel does: /bin is /usr/bin.
  assert.match(refused("/bin/../tmp/hostfile", view), /\/usr\/tmp does not exist/);
  assert.match(refused("relative", view), /not an absolute path/);
  assert.match(refused("/proc/self/exe", view), /jail's own \/proc/);
});

Deno.test("a name without a slash is looked up in the program's own PATH, in its view", () => {
  assert.deepEqual(resolveGuestProgram("env", BWRAP, "/usr/local/bin:/usr/bin:/bin", HOST), {
    path: "/usr/bin/env",
    source: "/usr/bin/env",
  });
  assert.deepEqual(resolveGuestProgram("prog", BWRAP, "relative:/home/u/data:/data", HOST), {
    path: "/data/prog",
    source: "/home/u/data/prog",
  });
  const none = resolveGuestProgram("env", BWRAP, undefined, HOST);
  assert.ok("error" in none && /has no PATH/.test(none.error));
  const missing = resolveGuestProgram("secret", BWRAP, "/usr/bin", HOST);
  assert.ok("error" in missing && /not found in the program's PATH/.test(missing.error));
  const empty = resolveGuestProgram("", BWRAP, "/usr/bin", HOST);
  assert.ok("error" in empty);
  // A NUL is refused in words that do not quote it, with a slash or without.
  for (const named of ["/usr/bin/env\0x", "env\0x"]) {
    assert.deepEqual(resolveGuestProgram(named, BWRAP, "/usr/bin", HOST), {
      error: "program: contains a NUL byte",
    });
  }
});

Deno.test("whatever the path, a result lies in a shown source and resolves to itself again", () => {
  const first = ["usr", "bin", "lib", "data", "out", "home", "etc", "tmp", "proc", ".."];
  const parts = [
    "bin",
    "lib",
    "sub",
    "..",
    ".",
    "escape",
    "inside",
    "env",
    "prog",
    "tool",
    "sh",
    "secret",
    "made",
    "to-usr",
    "up-link",
    "dash-link",
    "rel-escape",
    "u",
    "data",
    "app",
    "guest",
  ];
  let seed = 17;
  const random = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const sources = BWRAP.mounts.flatMap((m) => "source" in m ? [HOST.realPath(m.source)!] : [])
    .filter(Boolean);
  let found = 0;
  for (let i = 0; i < 50_000; i++) {
    const rest = Array.from({ length: i % 5 }, () => parts[random(parts.length)]);
    const path = `/${[first[random(first.length)], ...rest].join("/")}`;
    const r = resolveInView(path, BWRAP, HOST);
    if ("error" in r) {
      assert.ok(r.error.startsWith(`${path}: `));
      continue;
    }
    found++;
    assert.ok(
      sources.some((s) => r.source === s || r.source.startsWith(`${s}/`)),
      `${path} -> ${r.source}`,
    );
    assert.ok(!r.source.startsWith("/home/u/secret"), `${path} -> ${r.source}`);
    assert.deepEqual(resolveInView(r.path, BWRAP, HOST), r, path);
  }
  assert.ok(found > 300, `only ${found} paths resolved`);
});

// A guest's Executor.start with a 2 MB path held ww for a minute (the walk took time growing with
// the square of its segments), and one of 8 MB for half an hour, past --timeout and SIGTERM.
Deno.test("a path longer than the kernel takes, or a PATH longer than execve takes, is refused at once", () => {
  const view = BWRAP;
  const long = "/" + "./".repeat(1_000_000) + "usr/bin/env";
  const started = performance.now();
  const r = resolveInView(long, view, HOST);
  assert.ok("error" in r);
  assert.equal(
    r.error,
    `${long.slice(0, 40)}…: a path of ${long.length} bytes; the kernel takes at most 4095`,
  );
  // At the limit it is walked as any other.
  const edge = "/usr/bin/" + "./".repeat(Math.floor((4095 - "/usr/bin/env".length) / 2)) + "env";
  assert.ok(edge.length <= 4095 && edge.length >= 4094);
  assert.deepEqual(resolveInView(edge, view, HOST), ok("/usr/bin/env"));
  const wide = ":".repeat(131073) + "/usr/bin";
  const p = resolveGuestProgram("env", view, wide, HOST);
  assert.ok(
    "error" in p &&
      /its PATH has 131081 bytes; execve takes at most 131072 in one variable/.test(p.error),
  );
  assert.ok(performance.now() - started < 5000);
});
