// scripts/bundle.ts — `deno task bundle`: builds the bundle that ww ships and runs, `dist/main.js`,
// with `deno bundle`. Loading main.ts's ~50 small modules one by one is most of what `ww` costs
// over an empty `deno run`; the bundle loads a few files instead. Every module of LAZY_MODULES
// (core/lazy.ts) is an entry point of its own, written to `dist/<module>.js`, and code splitting
// puts what main.js and they share into shared chunks, so a lazy module is still loaded only when
// lazyImport asks for it and still finds the one copy of core/errors.ts that main.js has. Each
// file costs a run its load, so the chunks main.js imports are then merged into one file,
// main-chunks.js, and those only a jailed run's modules share into two more, jail-chunks.js
// and native-chunks.js (scripts/merge_chunks.ts). Then every file is minified (minifyAll), and last the functions a
// run calls are marked to compile with their files (scripts/eager_compile.ts).
//
// `--platform browser`: for `deno`, deno bundle imports node:module (for a createRequire) in every
// entry point, and that starts Deno's Node compatibility layer on every run, which costs more
// than the bundle saves. ww's own code uses no node: module; its npm packages then take their
// browser builds (fetch, Web Crypto), which Deno runs as they are. tests/bundle/ runs them all.
//
// `--if-stale` rebuilds only when the sources changed: the bundle's directory holds a stamp, the
// SHA-256 of every source file the bundle is made of (and of this script), written last, so a
// bundle that is older than its sources, or half written, is never taken for a fresh one.
// `--outdir DIR` writes elsewhere than dist/ (the tests build their own).

import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bundledPath, LAZY_MODULES, type LazyModule } from "../core/lazy.ts";
import { PROGRAM_FOLDERS } from "../core/folders.ts";
import { calledByAnyRun, eagerFunctions, type ScriptCoverage } from "./eager_compile.ts";
import {
  chunkExports,
  chunkImports,
  chunksOnlyFor,
  evaluationOrder,
  mergeEntry,
  rewriteImports,
  smallSharedChunks,
  splitChunksOnlyFor,
} from "./merge_chunks.ts";

/** The repository root, with a trailing slash. */
const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Where `deno task bundle` writes the bundle, from the repository root. */
export const BUNDLE_DIR = "dist";

/** The bundle's entry point, in its directory. */
export const BUNDLE_MAIN = "main.js";

/**
 * The file that holds every chunk main.js imports statically (scripts/merge_chunks.ts), beside
 * main.js.
 */
export const BUNDLE_MAIN_CHUNKS = "main-chunks.js";

/** The stamp file in the bundle's directory: the sources' hash it was built from. */
const STAMP = "sources.sha256";

const PROGRAM: readonly string[] = PROGRAM_FOLDERS;

/**
 * The arguments of `deno bundle` that write the bundle to `outdir`: main.ts and every lazily
 * imported module as entry points, sharing their common code through chunks.
 *
 * @example
 * bundleArgs("dist").slice(0, 6);
 * // ["bundle", "--quiet", "--platform", "browser", "--code-splitting", "--outdir"]
 */
export function bundleArgs(outdir: string): string[] {
  return [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    "--code-splitting",
    "--outdir",
    outdir,
    "main.ts",
    ...LAZY_MODULES,
  ];
}

/** The files the bundle is made of (from the repository root, sorted): its stamp covers them. */
export function bundleInputs(): string[] {
  const files = [
    "main.ts",
    "deno.json",
    "deno.lock",
    "scripts/bundle.ts",
    "scripts/eager_compile.ts",
    "scripts/merge_chunks.ts",
  ];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(`${ROOT}${dir}`)) {
      if (e.isDirectory) walk(`${dir}${e.name}/`);
      else if (!e.name.endsWith("_test.ts")) files.push(dir + e.name);
    }
  };
  for (const folder of PROGRAM) walk(`${folder}/`);
  return files.sort();
}

/** The SHA-256 (hex) of every input's name and content, in order. */
export async function sourcesHash(): Promise<string> {
  const parts: Uint8Array[] = [];
  const encoder = new TextEncoder();
  for (const file of bundleInputs()) {
    const content = await Deno.readFile(`${ROOT}${file}`);
    parts.push(encoder.encode(`${file}\0${content.length}\0`), content);
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** True when `outdir` holds a bundle built from the sources as they are now. */
export async function isFresh(outdir: string): Promise<boolean> {
  try {
    return (await Deno.readTextFile(`${outdir}/${STAMP}`)).trim() === await sourcesHash();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Builds the bundle into `outdir` (an absolute path): into a new directory beside it first, which
 * then replaces it, so a run never finds a mix of two builds. Throws with deno bundle's own
 * output when it fails.
 */
export async function buildBundle(outdir: string): Promise<void> {
  const hash = await sourcesHash();
  const next = `${outdir}.new-${Deno.pid}`;
  await Deno.remove(next, { recursive: true }).catch(() => {});
  try {
    await denoBundle(bundleArgs(next));
    await mergeMainChunks(next);
    await mergeJailChunks(next);
    await minifyAll(next);
    await compileCalledFunctionsEagerly(next);
  } catch (e) {
    await Deno.remove(next, { recursive: true }).catch(() => {});
    throw e;
  }
  await Deno.writeTextFile(`${next}/${STAMP}`, `${hash}\n`);
  await Deno.remove(outdir, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  try {
    await Deno.rename(next, outdir);
  } catch (e) {
    // A build running at the same time put its bundle there first: the same one, when fresh.
    await Deno.remove(next, { recursive: true });
    if (!await isFresh(outdir)) throw e;
  }
}

/** Runs `deno <args>` from the repository root; throws with its output when it fails. */
async function denoBundle(args: string[]): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(new Uint8Array([...out.stdout, ...out.stderr])).trim();
    throw new Error(`deno bundle failed: ${text}`);
  }
}

/**
 * Replaces the chunks that main.js imports statically, in the bundle in `dir`, by one file,
 * BUNDLE_MAIN_CHUNKS (deno bundle's chunks, each a file of its own, were most of what `ww` cost
 * over an empty `deno run`), with the launchers' small chunks that other lazy modules share
 * (scripts/merge_chunks.ts smallSharedChunks, at most SMALL_CHUNK bytes each).
 */
async function mergeMainChunks(dir: string): Promise<void> {
  const importsOf = chunkImportsIn(dir);
  const main = evaluationOrder(importsOf(BUNDLE_MAIN), importsOf);
  const launchers = LAUNCHERS.map(bundledPath);
  const small = smallSharedChunks(
    launchers,
    main,
    chunksOnlyFor(JAIL_MODULES.map(bundledPath), otherThanJail(), importsOf),
    importsOf,
    (chunk) => Deno.statSync(`${dir}/${chunk}`).size,
    SMALL_CHUNK,
  );
  await mergeChunks(dir, [...main, ...small], BUNDLE_MAIN_CHUNKS);
}

/** The jailed runs' launchers, whose small shared chunks join main.js's. */
const LAUNCHERS: readonly LazyModule[] = ["run/launch_bwrap.ts", "run/launch_native.ts"];

/**
 * The size (bytes, before minifying) up to which a launcher's shared chunk joins main.js's: the
 * three it has are 0.4-2.8 KB, and a file's load costs a jailed run what ~7 KB of main-chunks.js
 * costs every run (issue 13).
 */
const SMALL_CHUNK = 4096;

/** The files of the bundle other than JAIL_MODULES: main.js and the other lazy modules. */
function otherThanJail(): string[] {
  return [BUNDLE_MAIN, ...LAZY_MODULES.filter((m) => !JAIL_MODULES.includes(m)).map(bundledPath)];
}

/**
 * The lazy modules that only a jailed run, `ww doctor` and --explain load. A jailed run loaded
 * its launcher and nine chunks, ~1.5 ms of its start (issue 13): the chunks that only these
 * modules share are merged, those the bubblewrap launcher loads into BUNDLE_JAIL_CHUNKS and the
 * rest (the native jail's own, which the others load too) into BUNDLE_NATIVE_CHUNKS, so that a
 * run under bubblewrap, --jail=auto's first choice, loads no code of the native jail (a fifth of
 * the merged file, ~0.5 ms). A chunk that a module of an unjailed run (a terminal's, a socket's)
 * also loads stays a file of its own, so that run loads no more.
 */
export const JAIL_MODULES: readonly LazyModule[] = [
  "run/launch_bwrap.ts",
  "run/launch_native.ts",
  "run/auto_try.ts",
  "run/doctor.ts",
  "run/explain_program.ts",
];

/** The file that holds the chunks only JAIL_MODULES load that the bubblewrap launcher loads. */
export const BUNDLE_JAIL_CHUNKS = "jail-chunks.js";

/** The file that holds the other chunks only JAIL_MODULES load. */
export const BUNDLE_NATIVE_CHUNKS = "native-chunks.js";

/** Merges the chunks that only JAIL_MODULES load, in the bundle in `dir`, into two files. */
async function mergeJailChunks(dir: string): Promise<void> {
  const importsOf = chunkImportsIn(dir);
  const { first, rest } = splitChunksOnlyFor(
    bundledPath("run/launch_bwrap.ts"),
    JAIL_MODULES.map(bundledPath),
    otherThanJail(),
    importsOf,
  );
  await mergeChunks(dir, first, BUNDLE_JAIL_CHUNKS);
  await mergeChunks(dir, rest, BUNDLE_NATIVE_CHUNKS);
}

/** The chunks a file of the bundle in `dir` imports statically (scripts/merge_chunks.ts). */
function chunkImportsIn(dir: string): (file: string) => string[] {
  const text = new Map<string, string>();
  return (file) => {
    if (!text.has(file)) text.set(file, Deno.readTextFileSync(`${dir}/${file}`));
    return chunkImports(text.get(file)!);
  };
}

/**
 * Replaces the chunks of `order` (in evaluation order), in the bundle in `dir`, by one file,
 * `target`, bundled by deno bundle from their merge entry (scripts/merge_chunks.ts), and points
 * every import of them, in main.js, the lazy modules and the other chunks, there. What the merged
 * chunks import from the bundle's other files stays there (deno bundle's --external).
 */
async function mergeChunks(dir: string, order: readonly string[], target: string): Promise<void> {
  if (order.length === 0) return;
  const merged = new Set(order);
  const exportsOf = (chunk: string) => chunkExports(Deno.readTextFileSync(`${dir}/${chunk}`));
  const entry = `${dir}/${target.replace(/\.js$/, "-entry.js")}`;
  await Deno.writeTextFile(entry, mergeEntry(order, exportsOf));
  const external = [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile && e.name.endsWith(".js") && !merged.has(e.name))
    .map((e) => `./${e.name}`);
  await denoBundle(rebundleArgs(entry, `${dir}/${target}`, external));
  await Deno.remove(entry);
  for (const chunk of merged) await Deno.remove(`${dir}/${chunk}`);
  for (const file of bundleFiles(dir)) {
    if (file === target) continue;
    const path = `${dir}/${file}`;
    const before = await Deno.readTextFile(path);
    const after = rewriteImports(before, merged, target);
    if (after !== before) await Deno.writeTextFile(path, after);
  }
}

/** Every .js file of the bundle in `dir`, by its path from `dir`. */
function bundleFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (sub: string) => {
    for (const e of Deno.readDirSync(`${dir}/${sub}`)) {
      if (e.isDirectory) walk(`${sub}${e.name}/`);
      else if (e.name.endsWith(".js")) files.push(`${sub}${e.name}`);
    }
  };
  walk("");
  return files;
}

/**
 * Every module specifier that bundled code in `text` imports, as deno bundle writes them:
 * statically (`from "x"`, `import "x"`) or with a literal (`import("x")`).
 *
 * @example
 * importedSpecifiers('import { a } from "./m.js";\nimport "../c.js";\nawait import("./s.js");');
 * // ["./m.js", "../c.js", "./s.js"]
 */
export function importedSpecifiers(text: string): string[] {
  const found = text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)(["'])([^"'\n]+)\1/g);
  return [...new Set(Array.from(found, (m) => m[2]))];
}

/**
 * The arguments of `deno bundle` that bundle `file` (a merge entry, or a file of the bundle) into
 * `out`, and leave every module of `external` where it is; minified with `minify`.
 *
 * @example
 * rebundleArgs("d/run/x.js", "d/run/x.js.min", ["../main-chunks.js"], true).slice(4);
 * // ["--minify", "--external", "../main-chunks.js", "-o", "d/run/x.js.min", "d/run/x.js"]
 */
export function rebundleArgs(
  file: string,
  out: string,
  external: readonly string[],
  minify = false,
): string[] {
  return [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    ...(minify ? ["--minify"] : []),
    ...external.flatMap((specifier) => ["--external", specifier]),
    "-o",
    out,
    file,
  ];
}

/** How many `deno bundle` minify at once (each is a process of its own). */
const MINIFY_AT_ONCE = 4;

/**
 * Minifies every file of the bundle in `dir` in place, each on its own. A run reads each file it
 * loads, and Deno hashes it and has V8 check its code cache against it, in proportion to its
 * size: minified, the files a `ww run` loads are ~45% smaller, ~2 ms of its start on a slow
 * machine (issue 13). The price: a stack trace from the bundle (`--debug`) names functions by
 * their short names; `deno run -A main.ts` keeps the sources' names.
 */
async function minifyAll(dir: string): Promise<void> {
  const files = bundleFiles(dir);
  const minify = async (file: string) => {
    const out = `${dir}/${file}.min`;
    const imports = importedSpecifiers(await Deno.readTextFile(`${dir}/${file}`));
    await denoBundle(rebundleArgs(`${dir}/${file}`, out, imports, true));
    await Deno.rename(out, `${dir}/${file}`);
  };
  for (let i = 0; i < files.length; i += MINIFY_AT_ONCE) {
    await Promise.all(files.slice(i, i + MINIFY_AT_ONCE).map(minify));
  }
}

/** The backends whose `ww run /bin/true` tells which functions a run calls. */
const PROFILED_JAILS = ["none", "bwrap", "native"];

/** How long one profiled run may take before the build kills it (it takes ~0.1 s). */
const PROFILE_RUN_MS = 30_000;

/**
 * Has V8 compile, with their files, the bundle's top-level functions that a run calls, so that
 * Deno's code cache holds them (scripts/eager_compile.ts): the bundle in `dir` runs
 * `ww run --jail=J /bin/true` once for each of PROFILED_JAILS, with coverage, and every function
 * one of these runs called is compiled with its file. A backend this machine cannot run calls
 * less, and what it would have called stays lazily compiled: slower, not different.
 */
async function compileCalledFunctionsEagerly(dir: string): Promise<void> {
  const real = Deno.realPathSync(dir);
  const coverage = await Deno.makeTempDir({ prefix: "ww-bundle-coverage-" });
  try {
    const runs: ScriptCoverage[][] = [];
    for (const jail of PROFILED_JAILS) {
      const out = `${coverage}/${jail}`;
      await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          `--coverage=${out}`,
          `${real}/${BUNDLE_MAIN}`,
          "run",
          `--jail=${jail}`,
          "/bin/true",
        ],
        stdin: "null",
        stdout: "null",
        stderr: "null",
        // A run that hangs (a jail this machine wedges) must not hang the build: it is killed,
        // and writes no coverage.
        signal: AbortSignal.timeout(PROFILE_RUN_MS),
      }).output();
      runs.push(await coverageIn(out));
    }
    const bundleUrl = new URL(`file://${real}/`).href;
    for (const [url, called] of calledByAnyRun(runs)) {
      if (!url.startsWith(bundleUrl)) continue;
      const path = fileURLToPath(url);
      const { text, rewritten, wrapped } = eagerFunctions(await Deno.readTextFile(path), called);
      if (rewritten.length > 0 || wrapped > 0) await Deno.writeTextFile(path, text);
    }
  } finally {
    await Deno.remove(coverage, { recursive: true });
  }
}

/** The coverage records a run wrote into `dir`: none when it wrote none (it was killed). */
async function coverageIn(dir: string): Promise<ScriptCoverage[]> {
  const records: ScriptCoverage[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      records.push(JSON.parse(await Deno.readTextFile(`${dir}/${e.name}`)));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return records;
}

/** Builds the bundle in `outdir` unless it is fresh (or always, when `force`). */
export async function ensureBundle(outdir: string, force = false): Promise<void> {
  if (force || !await isFresh(outdir)) await buildBundle(outdir);
}

if (import.meta.main) {
  const args = [...Deno.args];
  const flag = (name: string) => {
    const i = args.indexOf(name);
    if (i >= 0) args.splice(i, 1);
    return i >= 0;
  };
  const ifStale = flag("--if-stale");
  const at = args.indexOf("--outdir");
  const outdir = at >= 0 ? args.splice(at, 2)[1] : `${ROOT}${BUNDLE_DIR}`;
  if (args.length > 0 || !outdir) {
    console.error(
      `deno task bundle: unknown argument ${
        args[0] ?? "--outdir"
      } (usage: deno task bundle [--if-stale] [--outdir DIR])`,
    );
    Deno.exit(2);
  }
  try {
    await ensureBundle(resolve(outdir), !ifStale);
  } catch (e) {
    console.error(`deno task bundle: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
