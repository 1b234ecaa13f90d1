// The bind plan, checked on a model of a mount table: mounts applied in order, each on top of
// what is there, and for every path of the jail, the host path it shows and whether it is writable.
import assert from "node:assert/strict";
import type { BindMount, BindRequest } from "./binds.ts";
import {
  bindWaypoints,
  mountPointProblem,
  nativeBindRules,
  nativeBindsProblem,
  pinnedChain,
  planBinds,
  sortParentsFirst,
} from "./bind_mounts.ts";

const rw = (real: string, dest = real, source = real): BindRequest => ({
  flag: "--bind",
  source,
  real,
  dest,
});
const ro = (real: string, dest = real, source = real): BindRequest => ({
  flag: "--ro-bind",
  source,
  real,
  dest,
});

function mounts(requests: BindRequest[]): BindMount[] {
  const r = planBinds(requests);
  if ("error" in r) throw new Error(r.error);
  return r.mounts;
}

/** What jail path `path` shows after mounting `table` in order: the last mount containing it. */
function mounted(path: string, table: readonly BindMount[]) {
  let top: BindMount | undefined;
  for (const m of table) {
    if (path === m.dest || path.startsWith(`${m.dest}/`)) top = m;
  }
  if (!top) return undefined;
  return { host: top.source + path.slice(top.dest.length), writable: top.writable };
}

/** The rule, written independently: the deepest source containing `host` decides; ro wins ties. */
function expectedWritable(host: string, requests: readonly BindRequest[]): boolean | undefined {
  const containing = requests.filter((r) => host === r.real || host.startsWith(`${r.real}/`));
  if (containing.length === 0) return undefined;
  const depth = (p: string) => p.split("/").length;
  const deepest = Math.max(...containing.map((r) => depth(r.real)));
  return containing.filter((r) => depth(r.real) === deepest).every((r) => r.flag === "--bind");
}

function paths(names: string[], depth: number): string[] {
  const out: string[] = [];
  const walk = (prefix: string, d: number) => {
    if (d === 0) return;
    for (const n of names) {
      out.push(`${prefix}/${n}`);
      walk(`${prefix}/${n}`, d - 1);
    }
  };
  walk("", depth);
  return out;
}

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("read-only wins over a writable parent bound at the same place (--bind P --ro-bind P/secrets)", () => {
  const m = mounts([rw("/p"), ro("/p/secrets")]);
  assert.deepEqual(m, [
    { source: "/p", dest: "/p", writable: true },
    { source: "/p/secrets", dest: "/p/secrets", writable: false },
  ]);
});

Deno.test("flag order does not change the mounts", () => {
  assert.deepEqual(mounts([ro("/p/secrets"), rw("/p")]), mounts([rw("/p"), ro("/p/secrets")]));
});

Deno.test("the same path bound both ways is read-only (--bind X --ro-bind X)", () => {
  assert.deepEqual(mounts([rw("/x"), ro("/x")]), [{ source: "/x", dest: "/x", writable: false }]);
  assert.deepEqual(mounts([ro("/x"), rw("/x")]), [{ source: "/x", dest: "/x", writable: false }]);
});

Deno.test("a read-only path is covered wherever a writable parent shows it", () => {
  assert.deepEqual(mounts([rw("/p", "/data"), ro("/p/s", "/s")]), [
    { source: "/p", dest: "/data", writable: true },
    { source: "/p/s", dest: "/s", writable: false },
    { source: "/p/s", dest: "/data/s", writable: false },
  ]);
});

Deno.test("a read-only path reached through a symlinked source is covered too", () => {
  // --bind /p --ro-bind /link/secrets, where /link -> /p
  const m = mounts([rw("/p"), ro("/p/secrets", "/link/secrets", "/link/secrets")]);
  assert.ok(m.some((x) => x.dest === "/p/secrets" && !x.writable));
});

Deno.test("a writable child of a read-only parent stays writable and is mounted after it", () => {
  const m = mounts([rw("/p/out"), ro("/p")]);
  assert.deepEqual(m, [
    { source: "/p", dest: "/p", writable: false },
    { source: "/p/out", dest: "/p/out", writable: true },
  ]);
});

Deno.test("two different paths at one destination are refused in one line naming both", () => {
  const r = planBinds([rw("/a", "/d"), ro("/b", "/d")]);
  assert.ok("error" in r);
  assert.equal(
    r.error,
    "--bind /a:/d and --ro-bind /b:/d: two different paths bound at /d (keep one, or bind one elsewhere)",
  );
  assert.deepEqual(planBinds([ro("/b", "/d"), rw("/a", "/d")]), r);
});

Deno.test("destinations are cleaned; .. is refused", () => {
  assert.deepEqual(mounts([rw("/a", "/d//e/")]), [{ source: "/a", dest: "/d/e", writable: true }]);
  const r = planBinds([rw("/a", "/d/../etc")]);
  assert.ok("error" in r && r.error.startsWith("--bind /a:/d/../etc: the destination must not"));
});

Deno.test("random bind sets: every jail path shows its host path with the rule's writability", () => {
  const hostPaths = paths(["a", "b"], 3);
  const jailPaths = paths(["a", "b", "x"], 4);
  const next = rng(11);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)];
  let planned = 0;
  for (let n = 0; n < 4000; n++) {
    const count = 1 + Math.floor(next() * 5);
    const requests: BindRequest[] = [];
    for (let i = 0; i < count; i++) {
      const real = pick(hostPaths);
      // Half at the same path, half elsewhere (the second tree, "x", exists only in the jail).
      const dest = next() < 0.5 ? real : pick(jailPaths);
      requests.push(next() < 0.5 ? rw(real, dest) : ro(real, dest));
    }
    const result = planBinds(requests);
    const clash = requests.some((a) =>
      requests.some((b) => a.dest === b.dest && a.real !== b.real)
    );
    const label = JSON.stringify(requests);
    assert.equal("error" in result, clash, label);
    if ("error" in result) continue;
    planned++;
    // Order does not matter.
    const shuffled = [...requests].sort(() => next() - 0.5);
    assert.deepEqual(planBinds(shuffled), result, label);
    for (const path of jailPaths) {
      const seen = mounted(path, result.mounts);
      if (!seen) continue;
      assert.equal(seen.writable, expectedWritable(seen.host, requests), `${label} at ${path}`);
    }
    // Every bind shows what it names, at its destination.
    for (const r of requests) assert.equal(mounted(r.dest, result.mounts)?.host, r.real, label);
  }
  assert.ok(planned > 2000, `only ${planned} of 4000 sets were planned`);
});

Deno.test("parents come first, whatever the input order", () => {
  const sorted = sortParentsFirst([{ dest: "/a/b" }, { dest: "/ab" }, { dest: "/a" }, {
    dest: "/",
  }]);
  assert.deepEqual(sorted.map((x) => x.dest), ["/", "/ab", "/a", "/a/b"]);
});

Deno.test("native: a read-only path inside a writable one is refused, naming both flags", () => {
  assert.equal(
    nativeBindsProblem([rw("/p"), ro("/p/secrets")])?.error,
    "--ro-bind /p/secrets inside --bind /p: the native jail (Landlock) cannot make a path read-only inside a writable one; use --jail=bwrap, or bind the writable parts one by one",
  );
  // A library caller's words, and the bind it names.
  assert.deepEqual(nativeBindsProblem([rw("/p"), ro("/p/secrets")]), {
    error:
      "--ro-bind /p/secrets inside --bind /p: the native jail (Landlock) cannot make a path read-only inside a writable one; use --jail=bwrap, or bind the writable parts one by one",
    bind: "/p/secrets",
    library:
      'jail.readOnlyBinds /p/secrets inside jail.writableBinds /p: the native jail (Landlock) cannot make a path read-only inside a writable one; use jail.backend "bwrap", or bind the writable parts one by one',
  });
  assert.equal(nativeBindsProblem([ro("/p"), rw("/p/out")]), undefined);
  assert.equal(nativeBindsProblem([rw("/x"), ro("/x")]), undefined);
});

Deno.test("native: a path bound both ways gets a read-only rule only", () => {
  assert.deepEqual(nativeBindRules([rw("/x"), ro("/x")]), [
    { path: "/x", source: "/x", writable: false },
  ]);
  assert.deepEqual(nativeBindRules([rw("/p/out"), ro("/p")]), [
    { path: "/p", source: "/p", writable: false },
    { path: "/p/out", source: "/p/out", writable: true },
  ]);
});

Deno.test("native: random bind sets either refused or every rule matches the rule", () => {
  const hostPaths = paths(["a", "b"], 3);
  const next = rng(5);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)];
  for (let n = 0; n < 2000; n++) {
    const requests = Array.from({ length: 1 + Math.floor(next() * 4) }, () => {
      const real = pick(hostPaths);
      return next() < 0.5 ? rw(real) : ro(real);
    });
    const problem = nativeBindsProblem(requests);
    // Landlock: a path is writable when any rule on it or an ancestor grants write.
    const rules = nativeBindRules(requests);
    const landlockWritable = (p: string) =>
      rules.some((r) => r.writable && (p === r.path || p.startsWith(`${r.path}/`)));
    const ok = hostPaths.every((p) => {
      const want = expectedWritable(p, requests);
      return want === undefined || landlockWritable(p) === want;
    });
    assert.equal(problem === undefined, ok, JSON.stringify(requests));
  }
});

Deno.test("waypoints: every directory between a mount and the bind it is in, as the jail shows it", () => {
  // A --ro-bind two levels into a --bind, the same source shown again elsewhere (a cover at
  // /data/a/s), and a bind in a bind in a bind.
  const table = mounts([
    rw("/p", "/data"),
    ro("/p/a/b/s", "/data/a/b/s"),
    ro("/p/a/s", "/elsewhere"),
    rw("/q", "/data/a/b/s/q"),
    rw("/r", "/data/a/b/s/q/x/y/r"),
  ]);
  assert.deepEqual(
    bindWaypoints(table).map(({ source, dest, leadsTo }) => [source, dest, leadsTo.dest]),
    [
      ["/p/a", "/data/a", "/data/a/s"],
      ["/p/a/b", "/data/a/b", "/data/a/b/s"],
      ["/q/x", "/data/a/b/s/q/x", "/data/a/b/s/q/x/y/r"],
      ["/q/x/y", "/data/a/b/s/q/x/y", "/data/a/b/s/q/x/y/r"],
    ],
  );
  // A bind at the root of another, or in none, has no directory on its way.
  assert.deepEqual(bindWaypoints(mounts([rw("/p", "/data"), ro("/s", "/data/s")])), []);
  assert.deepEqual(bindWaypoints(mounts([ro("/s", "/a/b/c")])), []);
  // Over many tables: every directory between a mount and the mount it is in is exactly one
  // waypoint, of the host path the jail shows there.
  const sources = ["/p", "/p/a", "/p/a/b", "/q", "/q/a"];
  const dests = ["/d", "/d/a", "/d/a/b", "/d/a/b/c", "/e/a", "/e/a/b/c"];
  for (let n = 0; n < 400; n++) {
    const picked = [0, 1, 2].map((k) => {
      const flag = (n >> k) % 2 === 0 ? rw : ro;
      return flag(sources[(n * (k + 3)) % sources.length], dests[(n * (k + 7) + k) % dests.length]);
    });
    const planned = planBinds(picked);
    if ("error" in planned) continue;
    const m = planned.mounts;
    const expected = new Map<string, string>();
    for (const inner of m) {
      const outers = m.filter((o) => o.dest !== inner.dest && inner.dest.startsWith(`${o.dest}/`));
      if (outers.length === 0) continue;
      const outer = outers.reduce((a, b) => (b.dest.length > a.dest.length ? b : a));
      const parts = inner.dest.slice(outer.dest.length + 1).split("/").slice(0, -1);
      parts.forEach((_, i) => {
        const dest = `${outer.dest}/${parts.slice(0, i + 1).join("/")}`;
        expected.set(dest, mounted(dest, m)!.host);
      });
    }
    const got = bindWaypoints(m);
    assert.deepEqual(
      new Map(got.map((w) => [w.dest, w.source])),
      expected,
      JSON.stringify(picked),
    );
    assert.equal(got.length, expected.size, "each once");
    assert.ok(got.every((w) => !m.some((b) => b.dest === w.dest)), "never a mount's own place");
    assert.ok(got.every((w) => m.includes(w.leadsTo) && w.leadsTo.dest.startsWith(`${w.dest}/`)));
  }
});

Deno.test("each host path is opened once, parents first, from its parent's descriptor when that is opened too", () => {
  assert.deepEqual(
    pinnedChain(["/p/a/b/s", "/other/x", "/p", "/p/a", "/p/a/b", "/", "/etc", "/p"]),
    [
      { source: "/", name: "" },
      { source: "/p", within: "/", name: "p" },
      { source: "/etc", within: "/", name: "etc" },
      { source: "/other/x", name: "x" },
      { source: "/p/a", within: "/p", name: "a" },
      { source: "/p/a/b", within: "/p/a", name: "b" },
      { source: "/p/a/b/s", within: "/p/a/b", name: "s" },
    ],
  );
  // A path shown at two places, the user's --ro-bind P/a/s:/x and the cover ww adds at /m/a/s in
  // --bind P:/m, is opened once, from P/a's descriptor, which the stage checks at /m/a.
  const table = mounts([rw("/p", "/m"), ro("/p/a/s", "/x")]);
  assert.deepEqual(table.map((m) => m.dest), ["/m", "/x", "/m/a/s"]);
  const waypoints = bindWaypoints(table);
  const chain = pinnedChain([...table, ...waypoints].map((m) => m.source));
  assert.deepEqual(chain, [
    { source: "/p", name: "p" },
    { source: "/p/a", within: "/p", name: "a" },
    { source: "/p/a/s", within: "/p/a", name: "s" },
  ]);
});

Deno.test("a mount point inside a bind must exist on the host, without symlinks", () => {
  const host = new Map([["/p", "/p"], ["/p/sub", "/p/sub"], ["/p/link", "/elsewhere"]]);
  const realOf = (p: string) => host.get(p);
  assert.equal(
    mountPointProblem(mounts([rw("/p", "/data"), ro("/s", "/data/sub")]), realOf),
    undefined,
  );
  assert.equal(
    mountPointProblem(mounts([rw("/p", "/data"), ro("/s", "/data/new")]), realOf)?.why,
    "the mount point /data/new (in the bind of /p at /data) would be made on the host as /p/new: create it first, or bind elsewhere",
  );
  assert.equal(
    mountPointProblem(mounts([rw("/p", "/data"), ro("/s", "/data/link")]), realOf)?.why,
    "the mount point /data/link (in the bind of /p at /data) goes through a symlink on the host (/p/link is /elsewhere): bind at a path without symlinks",
  );
  // Outside any bind (the jail's own tmpfs), bwrap makes the mount point itself.
  assert.equal(mountPointProblem(mounts([ro("/s", "/new")]), () => undefined), undefined);
});
