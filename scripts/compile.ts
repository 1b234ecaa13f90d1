// scripts/compile.ts — `deno task compile`: builds the single `ww` binary with `deno compile`, from
// the bundle (scripts/bundle.ts, rebuilt first when stale), so the binary starts as `dist/main.js`
// does. That needs denort, the runtime the binary is made of, which deno downloads from
// dl.deno.land unless DENORT_BIN names a local one; where neither works, this says so in one line
// instead of deno's "dns error" chain. The --include list is the bundle's file of each module of
// LAZY_MODULES (core/lazy.ts): every module ww imports lazily (by computed URL), which deno compile
// cannot find on its own.

import { bundledPath, LAZY_MODULES } from "../core/lazy.ts";
import { BUNDLE_DIR, BUNDLE_MAIN, ensureBundle } from "./bundle.ts";

/**
 * The arguments of `deno compile` of the bundle: the bundle's file of every lazily imported
 * module named with --include, since the compiler only follows static imports.
 *
 * @example
 * compileArgs().slice(0, 4);
 * // ["compile", "-A", "--include", "dist/ipfs/fetch.js"]
 */
export function compileArgs(): string[] {
  return [
    "compile",
    "-A",
    ...LAZY_MODULES.flatMap((f) => ["--include", `${BUNDLE_DIR}/${bundledPath(f)}`]),
    "--output",
    "ww",
    `${BUNDLE_DIR}/${BUNDLE_MAIN}`,
  ];
}

/** The denort archive deno would download for this Deno, named as dl.deno.land names it. */
function denortName(): string {
  return `denort-${Deno.build.target}.zip`;
}

/** What denortProblem looks at of a file. */
export interface DenortLook {
  readonly stat: (path: string) => Deno.FileInfo | undefined;
  /** Its first bytes (an ELF header's four are enough). */
  readonly head: (path: string) => Uint8Array;
  /** Whether it is the deno binary running this. */
  readonly isDeno: (path: string) => boolean;
}

const ELF = [0x7f, 0x45, 0x4c, 0x46];

/**
 * Why DENORT_BIN cannot be used, or undefined when it is unset or names an executable binary
 * that is not deno itself. deno compile spun at full CPU, silent, for minutes on an executable
 * text file, and on the deno binary, a likely mistake.
 *
 * @example
 * denortProblem({ DENORT_BIN: "/nope" }, { stat: () => undefined, head: () => new Uint8Array(), isDeno: () => false });
 * // "DENORT_BIN=/nope: no such file (point it at a denort binary of Deno 2.9.6)"
 */
export function denortProblem(
  env: Readonly<Record<string, string>>,
  look: DenortLook,
): string | undefined {
  const bin = env.DENORT_BIN;
  if (!bin) return undefined;
  const info = look.stat(bin);
  const want = `point it at a denort binary of Deno ${Deno.version.deno}`;
  if (!info) return `DENORT_BIN=${bin}: no such file (${want})`;
  if (!info.isFile) return `DENORT_BIN=${bin}: not a file (${want})`;
  if (((info.mode ?? 0) & 0o111) === 0) return `DENORT_BIN=${bin}: not executable (chmod +x it)`;
  const head = look.head(bin);
  if (!ELF.every((b, i) => head[i] === b)) {
    return `DENORT_BIN=${bin}: not a program binary (no ELF header; ${want})`;
  }
  if (look.isDeno(bin)) return `DENORT_BIN=${bin}: that is deno itself, not denort (${want})`;
  return undefined;
}

/**
 * True when deno's output says it could not download denort: a request to dl.deno.land that
 * failed (no DNS, no route, a proxy refusing), as opposed to an error in ww's own code.
 */
export function isDenortDownloadFailure(stderr: string): boolean {
  return /error sending request for url \(https:\/\/dl\.deno\.land\/[^)]*denort/.test(stderr);
}

if (import.meta.main) {
  const root = new URL("..", import.meta.url).pathname;
  const realPath = (path: string) => {
    try {
      return Deno.realPathSync(path);
    } catch {
      return path;
    }
  };
  const problem = denortProblem(Deno.env.toObject(), {
    stat: (path) => {
      try {
        return Deno.statSync(path);
      } catch {
        return undefined;
      }
    },
    head: (path) => {
      using file = Deno.openSync(path);
      const bytes = new Uint8Array(4);
      return bytes.subarray(0, file.readSync(bytes) ?? 0);
    },
    isDeno: (path) => realPath(path) === realPath(Deno.execPath()),
  });
  if (problem) {
    console.error(`deno task compile: ${problem}`);
    Deno.exit(1);
  }
  try {
    await ensureBundle(`${root}${BUNDLE_DIR}`);
  } catch (e) {
    console.error(`deno task compile: ${(e as Error).message}`);
    Deno.exit(1);
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(),
    cwd: root,
    stdout: "inherit",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success && isDenortDownloadFailure(stderr)) {
    console.error(
      `deno task compile: deno compile needs denort, the Deno ${Deno.version.deno} runtime the binary is made of, and cannot download it here (${denortName()} from dl.deno.land): set DENORT_BIN to a local denort binary of Deno ${Deno.version.deno}, e.g. unzipped from that archive on a machine with network`,
    );
    Deno.exit(1);
  }
  await Deno.stderr.write(out.stderr);
  Deno.exit(out.code);
}
