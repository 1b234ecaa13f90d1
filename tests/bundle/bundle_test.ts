// tests/bundle/bundle_test.ts — the bundle that ww ships (scripts/bundle.ts), built into a temp
// directory of its own and run as `deno run -A <dir>/main.js`: it says and does what the sources
// (`deno run -A main.ts`) do, under every jail; its lazy modules (core/lazy.ts) load from the
// bundle, only when needed, and share its one copy of every module: an error thrown in a lazy
// module still maps to its exit code (main.ts's `instanceof WwError`), a Cap'n Proto guest reaches
// rpc/host.ts and capnp-es, an /ipfs/ program the IPFS modules and their npm packages.

import assert from "node:assert/strict";
import * as acorn from "npm:acorn@8.14.0";
import { join } from "node:path";
import { LAZY_MODULES } from "../../core/lazy.ts";
import {
  buildBundle,
  BUNDLE_JAIL_CHUNKS,
  BUNDLE_MAIN,
  BUNDLE_MAIN_CHUNKS,
  BUNDLE_NATIVE_CHUNKS,
  bundleInputs,
  importedSpecifiers,
  isFresh,
  JAIL_MODULES,
} from "../../scripts/bundle.ts";
import { chunksOnlyFor } from "../../scripts/merge_chunks.ts";
import { childNodes, methodOf } from "../../scripts/eager_compile.ts";
import { startIpfsd } from "../ipfs/ipfsd.ts";
import { startProxy } from "../ipfs/proxy.ts";
import { buildGuest } from "../rpc/build.ts";
import { errorLines, REPO, runWw, type WwOptions } from "../support/ww.ts";

const tmp = await Deno.makeTempDir({ prefix: "wwtest-bundle-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
// Local programs here run in the jail, which runs as nobody when ww is root.
await Deno.chmod(tmp, 0o755);
const dir = join(tmp, "dist");
await buildBundle(dir);

const BUNDLE = [Deno.execPath(), "run", "-A", join(dir, BUNDLE_MAIN)];
const SOURCE = [Deno.execPath(), "run", "-A", `${REPO}main.ts`];

/** `ww <args>` run from the bundle. */
function bundled(args: string[], options: WwOptions = {}) {
  return runWw(args, { ...options, ww: BUNDLE });
}

/** `ww <args>` run from the sources. */
function fromSource(args: string[], options: WwOptions = {}) {
  return runWw(args, { ...options, ww: SOURCE });
}

/** The files under `root` that `ww <args>` (the bundle) opened, relative to it, sorted. */
async function filesOpened(args: string[], root: string): Promise<string[]> {
  const log = join(tmp, `strace-${crypto.randomUUID()}`);
  const r = await runWw(args, {
    ww: ["strace", "-f", "-qq", "-e", "trace=openat,open", "-o", log, ...BUNDLE],
  });
  assert.equal(r.code, 0, r.stderr);
  const opened = new Set<string>();
  for (const line of (await Deno.readTextFile(log)).split("\n")) {
    const m = /open(?:at)?\((?:[^,]+, )?"([^"]+)".*= \d+/.exec(line);
    if (m && m[1].startsWith(root)) opened.add(m[1].slice(root.length));
  }
  await Deno.remove(log);
  return [...opened].sort();
}

Deno.test("the bundle has main.js and a file of its own for every lazily imported module", () => {
  for (const module of LAZY_MODULES) {
    assert.ok(Deno.statSync(join(dir, module.replace(/\.ts$/, ".js"))).isFile, module);
  }
  // Nothing of the bundle imports a module by a bare or npm: name, which only the repository's
  // deno.json and node_modules could resolve: the bundle runs anywhere.
  const files = (d: string): string[] =>
    [...Deno.readDirSync(d)].flatMap((e) =>
      e.isDirectory ? files(join(d, e.name)) : [join(d, e.name)]
    );
  const js = files(dir).filter((f) => f.endsWith(".js"));
  assert.ok(js.length > LAZY_MODULES.length);
  for (const file of js) {
    for (const specifier of importedSpecifiers(Deno.readTextFileSync(file))) {
      assert.match(specifier, /^\.\.?\//, file);
    }
  }
});

Deno.test("main.js's static imports are all in one file, whose every chunk is gone", () => {
  const main = Deno.readTextFileSync(join(dir, BUNDLE_MAIN));
  assert.deepEqual(importedSpecifiers(main), [`./${BUNDLE_MAIN_CHUNKS}`]);
  // Nothing imports a chunk that was merged: each chunk a file imports is there.
  const files = (d: string): string[] =>
    [...Deno.readDirSync(d)].flatMap((e) =>
      e.isDirectory ? files(join(d, e.name)) : [join(d, e.name)]
    );
  for (const file of files(dir).filter((f) => f.endsWith(".js"))) {
    for (const specifier of importedSpecifiers(Deno.readTextFileSync(file))) {
      assert.ok(Deno.statSync(join(file, "..", specifier)).isFile, `${file}: ${specifier}`);
    }
  }
});

Deno.test("what a run calls is compiled with its file (scripts/eager_compile.ts); what no run loads is not", () => {
  const eager = (file: string) =>
    new Set(
      [
        ...Deno.readTextFileSync(join(dir, file)).matchAll(
          /^var ([\w$]+) = \((?:async )?function\b/gm,
        ),
      ].map((m) => m[1]),
    );
  // The bundle is minified (scripts/bundle.ts): its functions go by short names, so only how
  // many are marked is known here; the next tests check that a run compiles none of them again.
  assert.ok(eager(BUNDLE_MAIN).size >= 3, "main.js: main, run and runConfig at least");
  assert.ok(eager("run/launch_bwrap.js").size > 0, "run/launch_bwrap.js: launchBwrap at least");
  assert.equal(eager("run/doctor.js").size, 0, "run/doctor.js: no run loads it");
});

for (const jail of ["none", "bwrap", "native"]) {
  Deno.test(`[--jail=${jail}] a plain run compiles on its first call no function the build marked to compile with its file, nor an object's method`, async () => {
    // V8's log names each function it compiled on its first call (function,parse-function,
    // SCRIPT,START,END,…,NAME): every other one came compiled with its file, from Deno's code
    // cache. The build parenthesizes what its profiled runs called (scripts/eager_compile.ts):
    // one of those here is a shape V8 takes no hint from (an async arrow was), and an object's
    // method one the build cannot mark; either costs every run its compiling (~10-30 µs each;
    // issue 13). A class's members cannot be marked; a function the profiled runs did not call
    // (a path taken by timing alone) is not; a text getter is lazy on purpose (FunctionShape).
    const log = join(tmp, `v8-${crypto.randomUUID()}.log`);
    const v8 = `--v8-flags=--log-function-events,--logfile=${log},--no-logfile-per-isolate`;
    const ww = [Deno.execPath(), "run", "-A", v8, join(dir, BUNDLE_MAIN)];
    // The first run makes the files' code cache, which the later ones compile them from; V8
    // writes the log anew on each run.
    for (let i = 0; i < 3; i++) {
      const r = await runWw(["run", `--jail=${jail}`, "/bin/true"], { ww });
      assert.equal(r.code, 0, r.stderr);
    }
    const lines = (await Deno.readTextFile(log)).split("\n").map((l) => l.split(","));
    await Deno.remove(log);
    const scripts = new Map(
      lines.filter((l) => l[0] === "script-details" && l[2]?.startsWith(`file://${dir}/`))
        .map((l) => [l[1], l[2].slice(`file://${dir}/`.length)]),
    );
    assert.ok(scripts.size > 0, "V8's log names none of the bundle's files");
    const shapes = new Map<string, Map<number, FunctionShape>>();
    const wrong = lines.filter((l) => {
      if (l[0] !== "function" || l[1] !== "parse-function" || !scripts.has(l[2])) return false;
      const file = scripts.get(l[2])!;
      if (!shapes.has(file)) shapes.set(file, functionShapes(join(dir, file)));
      const shape = shapes.get(file)!.get(Number(l[4]));
      return shape === "marked" || shape === "object method";
    }).map((l) => `${scripts.get(l[2])}:${l[3]} ${l.at(-1)}`);
    assert.deepEqual(wrong, [], "compiled on their first call");
  });
}

/**
 * What a function of the bundle is, as the build sees it. A text getter (an object's method that
 * returns a string literal and does nothing else) is lazy on purpose: the generated tables of
 * machine code (stage/stage_bin.ts, jail/seccomp_table.ts) keep each text in one, so that a run
 * copies out of Deno's code cache only the texts it reads.
 */
type FunctionShape = "marked" | "object method" | "text getter" | "class member" | "unmarked";

/** Whether `fn`'s body is `return "…";` alone. */
function returnsTextOnly(fn: acorn.Function): boolean {
  const body = fn.body.type === "BlockStatement" ? fn.body.body : [];
  const only = body.length === 1 && body[0].type === "ReturnStatement" ? body[0].argument : null;
  return only?.type === "Literal" && typeof only.value === "string";
}

/**
 * Each function of `file` by where it ends, as V8's log places it: marked (in parentheses, the
 * build's hint), an object's method or accessor, a class's member (and a class's own position:
 * V8 logs there the constructor of a class that writes none), or unmarked.
 */
function functionShapes(file: string): Map<number, FunctionShape> {
  const shapes = new Map<number, FunctionShape>();
  const visit = (node: acorn.Node, parent: acorn.Node | undefined): void => {
    if (node.type === "ClassExpression" || node.type === "ClassDeclaration") {
      shapes.set(node.start, "class member");
    }
    if (
      node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression" ||
      node.type === "FunctionDeclaration"
    ) {
      const method = methodOf(parent);
      shapes.set(
        node.end,
        method === "class"
          ? "class member"
          : method === "object" && returnsTextOnly(node as acorn.Function)
          ? "text getter"
          : method === "object"
          ? "object method"
          : parent?.type === "ParenthesizedExpression"
          ? "marked"
          : "unmarked",
      );
    }
    for (const child of childNodes(node)) visit(child, node);
  };
  const source = Deno.readTextFileSync(file);
  visit(
    acorn.parse(source, { ecmaVersion: "latest", sourceType: "module", preserveParens: true }),
    undefined,
  );
  return shapes;
}

Deno.test("--version and --help say what the sources say", async () => {
  for (const args of [["--version"], ["--help"], ["run", "--help"]]) {
    const [b, s] = [await bundled(args), await fromSource(args)];
    assert.equal(b.code, s.code, args.join(" "));
    assert.equal(b.stdout, s.stdout, args.join(" "));
    assert.equal(b.stderr, s.stderr, args.join(" "));
  }
  assert.match((await bundled(["--version"])).stdout, /^ww \d+\.\d+\.\d+/);
});

for (const jail of ["none", "bwrap", "native"]) {
  Deno.test(`[--jail=${jail}] a program runs, with its WW_FD_ variable, grant and fd 3`, async () => {
    const greeting = join(tmp, `greeting-${jail}`);
    await Deno.writeTextFile(greeting, "hi from fd 9\n");
    await Deno.chmod(greeting, 0o644);
    const t = await bundled(["run", `--jail=${jail}`, "/bin/true"]);
    assert.equal(t.code, 0, t.stderr);
    const r = await bundled(
      [
        "run",
        `--jail=${jail}`,
        "--with-fd",
        "greeting=9",
        "/bin/sh",
        "-c",
        'echo "$WW_FD_GREETING"; readlink /proc/self/fd/3 | cut -d: -f1; cat <&4',
      ],
      { fds: { 9: { read: greeting } } },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "4\nsocket\nhi from fd 9\n");
    assert.deepEqual(errorLines(r.stderr), []);
  });

  Deno.test(`[--jail=${jail}] --explain prints what the sources print`, async () => {
    const args = ["run", "--explain", `--jail=${jail}`, "--with-fd", "log=2", "/bin/true"];
    const [b, s] = [await bundled(args), await fromSource(args)];
    assert.equal(b.code, 0, b.stderr);
    // The host id shown is the one free now, which a neighbour's jail may have taken meanwhile.
    const ids = (text: string) => text.replace(/\b7\d{4}\b/g, "<host id>");
    assert.equal(ids(b.stdout), ids(s.stdout));
    assert.match(b.stdout, /program: \/bin\/true/);
  });
}

for (const jail of ["none", "native"]) {
  Deno.test(`[--jail=${jail}] an error thrown in a lazy module keeps its exit code`, async () => {
    // A file that is no program: execve fails with ENOEXEC in the lazily loaded launcher, which
    // throws NotExecutableError (126). Were the launcher's core/errors.ts a second copy, main.ts
    // would not know the error as a WwError and would report an internal error (125).
    const bad = join(tmp, `not-a-binary-${jail}`);
    await Deno.writeFile(bad, new TextEncoder().encode("\x7fELF, but no more\n"), { mode: 0o755 });
    const args = ["run", `--jail=${jail}`, bad];
    const [b, s] = [await bundled(args), await fromSource(args)];
    assert.equal(b.code, 126, b.stderr);
    assert.doesNotMatch(b.stderr, /internal error/);
    assert.deepEqual(errorLines(b.stderr), errorLines(s.stderr));
    assert.match(errorLines(b.stderr)[0], /cannot execute.*ENOEXEC/);
  });
}

Deno.test("a plain --jail=none run loads main.js and its chunks, and no lazy module", async () => {
  const root = `${dir}/`;
  const opened = await filesOpened(["run", "--jail=none", "/bin/true"], root);
  assert.ok(opened.includes(BUNDLE_MAIN), opened.join(" "));
  const lazy = LAZY_MODULES.map((m) => m.replace(/\.ts$/, ".js"));
  // Its launcher, run/launch_direct.ts, is in main.js's static graph.
  assert.deepEqual(opened.filter((f) => lazy.includes(f)), []);
  // The chunks of npm packages are loaded by literal import() only from the IPFS and RPC code.
  const npm = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith("src-"));
  assert.ok(npm.length > 0);
  assert.deepEqual(opened.filter((f) => npm.includes(f)), []);
});

for (const jail of ["bwrap", "native"]) {
  Deno.test(`[--jail=${jail}] the chunks only jailed runs load are merged, and bwrap loads no native code`, async () => {
    // The chunks a file imports, by name (the bundle is minified: chunkImports reads deno
    // bundle's own layout).
    const importsOf = (file: string) =>
      importedSpecifiers(Deno.readTextFileSync(join(dir, file)))
        .map((specifier) => specifier.replace(/^(?:\.\.?\/)+/, ""))
        .filter((name) => name.startsWith("chunk-"));
    const jailModules = JAIL_MODULES.map((m) => m.replace(/\.ts$/, ".js"));
    const others = [
      BUNDLE_MAIN,
      ...LAZY_MODULES.map((m) => m.replace(/\.ts$/, ".js")).filter((m) => !jailModules.includes(m)),
    ];
    // Nothing is left to merge: each chunk a jail module imports is shared with another module.
    assert.deepEqual(chunksOnlyFor(jailModules, others, importsOf), []);
    const opened = await filesOpened(["run", `--jail=${jail}`, "/bin/true"], `${dir}/`);
    assert.ok(opened.includes(BUNDLE_JAIL_CHUNKS), opened.join(" "));
    assert.ok(opened.includes(`run/launch_${jail}.js`), opened.join(" "));
    // The native jail's own code (its planner, its /proc parsing) is in the second file, which a
    // run under bubblewrap never loads.
    assert.equal(opened.includes(BUNDLE_NATIVE_CHUNKS), jail === "native", opened.join(" "));
    // The jail's other chunks are those a module of an unjailed run shares.
    const shared = new Set(others.flatMap(importsOf).flatMap((c) => [c, ...importsOf(c)]));
    for (const chunk of opened.filter((f) => f.startsWith("chunk-"))) {
      assert.ok(shared.has(chunk), `${chunk}: loaded by a jailed run alone, yet not merged`);
    }
  });
}

Deno.test("lazy modules load from the bundle, never from the sources", async () => {
  const opened = await filesOpened(["run", "--jail=bwrap", "/bin/true"], "/");
  assert.ok(opened.includes(`${dir.slice(1)}/run/launch_bwrap.js`), opened.join(" "));
  assert.deepEqual(opened.filter((f) => f.startsWith(REPO.slice(1)) && f.endsWith(".ts")), []);
});

Deno.test("a C++ guest speaks Cap'n Proto on fd 3 with the bundle (rpc/host.ts, capnp-es)", async () => {
  const guest = await buildGuest();
  const r = await bundled(["run", "--with-console", "--with-exec", guest, "checks"]);
  assert.equal(r.code, 0, r.stderr);
  const checks = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  assert.ok(checks.length >= 10, r.stdout);
  for (const c of checks) assert.ok(c.ok, JSON.stringify(c));
  assert.deepEqual(checks.find((c) => c.check === "identity").grants, ["console", "exec"]);
});

Deno.test("an /ipfs/ program runs from the bundle; a missing one is 127, a non-program 126", async () => {
  const ipfsd = await startIpfsd();
  try {
    const text = (s: string) => new TextEncoder().encode(s);
    const root = await ipfsd.addTree({
      "bin/hello.sh": text('#!/bin/sh\necho hello from ipfs "$@"\n'),
      "share/readme.txt": text("not a program\n"),
    });
    // A private ww cache; Deno's own cache pinned where it is (XDG_CACHE_HOME would move it).
    const denoDir = JSON.parse(
      new TextDecoder().decode(
        (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output()).stdout,
      ),
    ).denoDir;
    const env = { XDG_CACHE_HOME: await Deno.makeTempDir({ dir: tmp }), DENO_DIR: denoDir };
    const ww = (path: string) =>
      bundled(["run", "--jail=none", "--ipfs", ipfsd.api, `/ipfs/${root}/${path}`, "x"], { env });
    const hello = await ww("bin/hello.sh");
    assert.equal(hello.code, 0, hello.stderr);
    assert.equal(hello.stdout, "hello from ipfs x\n");
    // Thrown inside the lazily loaded IPFS modules: their errors are main.ts's own classes.
    const missing = await ww("bin/nope");
    assert.equal(missing.code, 127, missing.stderr);
    assert.doesNotMatch(missing.stderr, /internal error/);
    const notProgram = await ww("share/readme.txt");
    assert.equal(notProgram.code, 126, notProgram.stderr);
    assert.doesNotMatch(notProgram.stderr, /internal error/);
    // An /ipns/ name: its record verified by the bundled @libp2p/crypto (its browser build, Web
    // Crypto), the node's word not taken.
    const name = await ipfsd.publish(root);
    const named = await bundled(
      ["run", "--jail=none", "--ipfs", ipfsd.api, `/ipns/${name}/bin/hello.sh`, "y"],
      { env },
    );
    assert.equal(named.code, 0, named.stderr);
    assert.equal(named.stdout, "hello from ipfs y\n");
    // The node's own word (--trust-node-ipns, through ww's own HTTP client), from a
    // node that gives no record.
    const proxy = startProxy(ipfsd.url, { refuse: ["dht/get", "routing/get"] });
    try {
      const trusted = await bundled(
        [
          "run",
          "--jail=none",
          "--ipfs",
          proxy.api,
          "--trust-node-ipns",
          `/ipns/${name}/bin/hello.sh`,
          "z",
        ],
        { env },
      );
      assert.equal(trusted.code, 0, trusted.stderr);
      assert.equal(trusted.stdout, "hello from ipfs z\n");
    } finally {
      await proxy.close();
    }
  } finally {
    await ipfsd.stop();
  }
});

Deno.test("--if-stale rebuilds unless the stamp matches every source the bundle is made of", async () => {
  assert.ok(await isFresh(dir));
  const other = join(tmp, "stale");
  await Deno.mkdir(other);
  assert.ok(!await isFresh(other)); // no stamp: never built, or a build that did not finish
  await Deno.writeTextFile(join(other, "sources.sha256"), "0".repeat(64));
  assert.ok(!await isFresh(other));
  // Every local module of main.ts's and each lazy module's graph is an input of the stamp.
  const all = join(tmp, "all.ts");
  const entries = ["main.ts", ...LAZY_MODULES].map((m) => `import "${REPO}${m}";`);
  await Deno.writeTextFile(all, entries.join("\n"));
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", `${REPO}deno.json`, all],
    stdout: "piped",
  }).output();
  const local = JSON.parse(new TextDecoder().decode(info.stdout)).modules
    .map((m: { specifier: string }) => m.specifier)
    // npm packages (node_modules/) are pinned by deno.lock, an input.
    .filter((s: string) => s.startsWith(`file://${REPO}`) && !s.includes("/node_modules/"))
    .map((s: string) => s.slice(`file://${REPO}`.length));
  assert.ok(local.length > 40);
  const inputs = bundleInputs();
  assert.deepEqual(local.filter((f: string) => !inputs.includes(f)), []);
});
