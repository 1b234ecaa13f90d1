// run/deno_guest.ts — `ww run --deno guest.ts`: a Deno guest jailed without the user binding the
// deno binary, setting DENO_DIR or spelling paths out. ww bundles the guest on the host (where
// the caller's deno.json, import map and module cache are), into one JavaScript file in a private
// temporary directory, and runs `deno run -A <bundle>` in the jail with only the deno binary and
// that file bound read-only. The jail, not Deno's permission flags, is the boundary; the bundle
// needs nothing from a module cache, so DENO_DIR only has to be set.

import type { RunConfig } from "../core/config.ts";
import {
  BindError,
  LimitError,
  NotExecutableError,
  NotFoundError,
  osWhy,
  UsageError,
} from "../core/errors.ts";
import { absolutePath } from "../core/path.ts";
import { checkedTmpdir, workdirRefused } from "./tmpdir.ts";
import { outOfDescriptors } from "./out_of_descriptors.ts";
import { hardLimitsNow } from "../ffi/rlimit.ts";
import { makeHeldTempDir, removeTree, sweepUnheld } from "../ffi/dir.ts";
import { closeFd } from "../ffi/fd.ts";

/** The name of a --deno guest's bundle's directory in TMPDIR begins with it. */
export const BUNDLE_DIR_PREFIX = "ww-deno-";

/**
 * The least --memory (RLIMIT_DATA) a Deno guest starts with: V8 reserves address space for its
 * heap and code as it starts (Deno 2.9 on x86_64 needed ~560 MiB; below that it died with "Fatal
 * process out of memory: Failed to reserve virtual memory for CodeRange", SIGTRAP, 133), with a
 * margin for other machines.
 */
export const DENO_GUEST_MIN_MEMORY = 768 << 20;

/**
 * Refuses, before anything is bundled, a --memory too low for the guest's Deno to start in a jail
 * (none enforces no limit). ww chose that runtime, so it knows its floor.
 *
 * @example
 * checkDenoGuestMemory({ ...config, jail: { ...config.jail, limits: { memoryBytes: 512 << 20 } } });
 * // LimitError "--memory 512M: too low for a --deno guest ...; use 768M or more"
 */
export function checkDenoGuestMemory(config: RunConfig): void {
  const memory = config.jail.limits.memoryBytes;
  if (config.jail.backend === "none" || memory === undefined) return;
  if (memory >= DENO_GUEST_MIN_MEMORY) return;
  const given = memory % (1 << 20) === 0 ? `${memory / (1 << 20)}M` : String(memory);
  throw new LimitError(
    "memoryBytes",
    memory,
    `--memory ${given}: too low for a --deno guest (RLIMIT_DATA: Deno reserves about 560M of address space as it starts); use 768M or more`,
  );
}

/**
 * `e`, a run's failure, in --deno's words where it is about what --deno added: the jail's user
 * cannot reach the bundle (made in TMPDIR: a `mktemp -d` one is mode 0700) or the deno binary
 * (root's ~/.deno/bin). The run's own words named a --ro-bind the user never gave, and advised
 * opening a private directory to others. Any other failure is `e` itself.
 *
 * @example
 * inDenoGuestWords(bindError, { name: "main.ts", deno: "/usr/bin/deno", bundle: "/t/ww-deno-1/guest.js" });
 * // UsageError "--deno main.ts: its bundle is in TMPDIR (/t), where the jail's user cannot reach it ..."
 */
export function inDenoGuestWords(
  e: unknown,
  guest: { readonly name: string; readonly deno: string; readonly bundle: string },
): unknown {
  if (!(e instanceof BindError || e instanceof NotExecutableError)) return e;
  const text = e.commandLine ?? e.message;
  // "<what>: <why>; <ways through>": the why, as the reach checks (run/ids.ts) word it.
  const why = (prefix: string) => text.slice(prefix.length).split(";")[0].trim();
  const bundleDir = guest.bundle.slice(0, guest.bundle.lastIndexOf("/"));
  if (e instanceof BindError && (e.bind === guest.bundle || e.bind === bundleDir)) {
    const tmpdir = bundleDir.slice(0, bundleDir.lastIndexOf("/")) || "/";
    return new UsageError(
      `--deno ${guest.name}: its bundle is in TMPDIR (${tmpdir}), where the jail's user cannot reach it (${
        why(`--ro-bind ${e.bind}:`)
      }); set TMPDIR to a directory others may enter, e.g. TMPDIR=/tmp`,
    );
  }
  if (e instanceof NotExecutableError && text.startsWith(`${guest.deno}: `)) {
    return new NotExecutableError(
      `--deno ${guest.name}: the jail's user cannot run ${guest.deno} (${
        why(`${guest.deno}:`)
      }); install deno where others may run it (e.g. /usr/local/bin) and put it first on PATH`,
    );
  }
  return e;
}

/** Where the program's Deno keeps its cache: inside the jail's work directory (its cwd). */
export const GUEST_DENO_DIR = ".deno";

/**
 * The run of `config` (whose program is a Deno guest's entry file, already bundled at `bundle`)
 * under the deno binary `deno`: the program is deno, its arguments `run -q -A <bundle>` and the
 * guest's own, both files bound read-only (in a jail), DENO_DIR set unless the caller set it
 * (`-q`: Deno's module-loading progress line would erase what the guest wrote on a terminal's
 * line; its errors are still said). Pure.
 *
 * @example
 * denoGuestConfig(config, "/usr/bin/deno", "/tmp/ww-deno-x/guest.js").args;
 * // ["run", "-q", "-A", "/tmp/ww-deno-x/guest.js", ...config.args]
 */
export function denoGuestConfig(config: RunConfig, deno: string, bundle: string): RunConfig {
  const binds = [deno, bundle].map((path) => ({ source: path, dest: path }));
  return {
    ...config,
    program: deno,
    args: ["run", "-q", "-A", bundle, ...config.args],
    env: { DENO_DIR: GUEST_DENO_DIR, ...config.env },
    // With no jail both files are there as they are: binds would only be named in the warning
    // that a --ro-bind is not read-only there.
    jail: config.jail.backend === "none"
      ? config.jail
      : { ...config.jail, readOnlyBinds: [...config.jail.readOnlyBinds, ...binds] },
  };
}

/**
 * The deno binary ww runs guests with: the one running ww, or, in the compiled `ww`, the first
 * `deno` in the caller's PATH; its real path, since that is what the jail must show.
 */
export function guestDeno(path: string | undefined): string {
  if (!Deno.build.standalone) return Deno.realPathSync(Deno.execPath());
  for (const dir of (path ?? "").split(":")) {
    if (!dir.startsWith("/")) continue;
    try {
      const found = Deno.realPathSync(`${dir}/deno`);
      if (Deno.statSync(found).isFile) return found;
    } catch {
      // not in this directory
    }
  }
  throw new UsageError("--deno: no deno in PATH (install Deno, or add its directory to PATH)");
}

/** Whether the file's first 4 KiB hold no NUL byte, as source text never does. */
function looksLikeText(path: string): boolean {
  const file = Deno.openSync(path);
  try {
    const head = new Uint8Array(4096);
    const n = file.readSync(head) ?? 0;
    return !head.subarray(0, n).includes(0);
  } finally {
    file.close();
  }
}

/** The files deno bundle takes as its configuration from its cwd or any directory above. */
const CONFIG_NAMES = ["deno.json", "deno.jsonc", "package.json"];

/**
 * Refuses a configuration deno bundle would pick up from `cwd` or above that someone other than
 * the caller (or root) owns or may write: `/tmp/deno.json`, planted by another local user, mapped a
 * trusted guest's imports to that user's module, which deno bundle read (and whatever it imported
 * in turn, with the caller's rights) into the bundle. A directory ww cannot read is passed over,
 * as deno passes it.
 *
 * @example
 * checkBundleConfig("main.ts", "/tmp/work"); // UsageError "--deno main.ts: /tmp/deno.json, ..."
 */
export function checkBundleConfig(script: string, cwd: string): void {
  const uid = Deno.uid();
  for (let dir = cwd;; dir = dir.slice(0, dir.lastIndexOf("/")) || "/") {
    for (const name of CONFIG_NAMES) {
      const path = `${dir === "/" ? "" : dir}/${name}`;
      let infos: Deno.FileInfo[];
      try {
        infos = [Deno.lstatSync(path), Deno.statSync(path)];
      } catch {
        continue; // none there (or a dangling link, which deno passes over too)
      }
      const foreign = infos.find((i) => (i.uid !== uid && i.uid !== 0) || (i.mode! & 0o002) !== 0);
      if (!foreign) continue;
      const who = (foreign.mode! & 0o002) !== 0
        ? "anyone may write it"
        : `uid ${foreign.uid} owns it`;
      throw new UsageError(
        `--deno ${script}: deno bundle would take ${path} as its configuration, and ${who} (it can change what the guest imports into the bundle, with your rights); remove it, or run ww from a directory with no one else's ${name} above it`,
      );
    }
    if (dir === "/") return;
  }
}

/**
 * /bin/sh's arguments that run `deno args...` under RLIMIT_DATA `memoryBytes` (at least
 * DENO_GUEST_MIN_MEMORY, at most ww's own hard limit): deno bundle reads what the guest imports
 * whole, and `import z from "/dev/zero" with { type: "text" }` took the host's memory at ~1 GiB/s
 * until the kernel's OOM killer came. Undefined (`--memory unlimited`): ww's own limit.
 *
 * @example
 * bundleArgs("/usr/bin/deno", ["bundle", "main.ts"], 4 * 2 ** 30);
 * // ["-c", 'ulimit -S -d "$0" && exec "$@"', "4194304", "/usr/bin/deno", "bundle", "main.ts"]
 */
export function bundleArgs(
  deno: string,
  args: string[],
  memoryBytes: number | undefined,
): string[] {
  if (memoryBytes === undefined) return ["-c", 'exec "$@"', "sh", deno, ...args];
  const hard = hardLimitsNow().data ?? Infinity;
  const bytes = Math.min(Math.max(memoryBytes, DENO_GUEST_MIN_MEMORY), hard);
  // ulimit counts KiB; rounded down, so the soft limit never exceeds a hard one.
  return ["-c", 'ulimit -S -d "$0" && exec "$@"', String(Math.floor(bytes / 1024)), deno, ...args];
}

/**
 * Bundles the guest `script` (as the user named it, relative to `cwd`) with `deno bundle` into a
 * new private directory under $TMPDIR, held until removed (ffi/dir.ts makeHeldTempDir), having
 * swept those a killed ww left there. Returns the bundle's path and a function that removes the
 * directory. A missing file is a NotFoundError (127, as for any missing program); a directory, a
 * binary or a file ww cannot read a NotExecutableError (126, as for such a program); a guest that
 * does not bundle a UsageError naming it (and deno's first error line); each leaves nothing. So does aborting `signal`: deno bundle is stopped (SIGTERM), and the
 * call rejects. deno bundle runs under RLIMIT_DATA `memoryBytes` (the run's --memory; undefined:
 * ww's own), at least what Deno starts with.
 */
export async function bundleGuest(
  deno: string,
  script: string,
  cwd: string,
  tmpdir: string | undefined,
  signal?: AbortSignal,
  memoryBytes?: number,
): Promise<{ bundle: string; remove: () => void }> {
  const path = absolutePath(cwd, script);
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch {
    throw new NotFoundError(
      `--deno ${script}: no such file (the guest's entry file, e.g. main.ts)`,
    );
  }
  if (!info.isFile) {
    throw new NotExecutableError(
      `--deno ${script}: not a regular file (the guest's entry file, e.g. main.ts)`,
    );
  }
  // deno bundle never returned from a binary given as the entry file (an ELF without .ts).
  let text: boolean;
  try {
    text = looksLikeText(path);
  } catch (e) {
    throw new NotExecutableError(
      `--deno ${script}: cannot read it (${e instanceof Error ? e.message : e})`,
    );
  }
  if (!text) {
    throw new NotExecutableError(
      `--deno ${script}: not a text file (a Deno guest is TypeScript or JavaScript source; run a binary without --deno)`,
    );
  }
  checkBundleConfig(script, cwd);
  // As every run's work directory: a TMPDIR that is no directory was an internal error here.
  const parent = checkedTmpdir(tmpdir);
  // Those of runs whose ww was killed (SIGKILL) first: nothing else removes them. The new one is
  // held (ffi/dir.ts) until it is removed, so no run sweeps it meanwhile.
  // A TMPDIR ww may not list: nothing is swept, and the run goes on.
  await sweepUnheld(parent, BUNDLE_DIR_PREFIX).catch(() => {});
  let dir: string;
  let fd: number;
  try {
    ({ path: dir, fd } = makeHeldTempDir(parent, BUNDLE_DIR_PREFIX));
  } catch (e) {
    throw outOfDescriptors(e) ?? workdirRefused(osWhy(e));
  }
  const remove = () => {
    try {
      // Short of descriptors (deno bundle's spawn failed for want of one), an empty one too.
      removeTree(dir);
    } finally {
      closeFd(fd);
    }
  };
  const bundle = `${dir}/guest.js`;
  try {
    const out = await new Deno.Command("/bin/sh", {
      args: bundleArgs(
        deno,
        ["bundle", "--quiet", "--platform", "deno", "-o", bundle, script],
        memoryBytes,
      ),
      cwd,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal,
    }).output();
    signal?.throwIfAborted();
    if (!out.success) {
      // deno ends its error with a stack backtrace: the first line is the one that says why, and
      // its first "at file:///…:LINE:COL" line where.
      const lines = new TextDecoder().decode(out.stderr).split("\n").map((l) => l.trim());
      const why = lines.map((l) => l.replace(/^error:\s*/, "")).find((l) => l !== "") ??
        "failed";
      const at = lines.find((l) => l.startsWith("at file://"))?.slice("at file://".length);
      // deno bundle fetches esbuild into the caller's Deno cache on its first use.
      const esbuild = /esbuild/.test(why)
        ? "; deno bundle loads esbuild into your Deno cache the first time it runs: run it once with network access (deno bundle main.ts), or set DENO_DIR to a cache that has it"
        : "";
      // It inherits ww's file-size limit, and ww's ignored SIGXFSZ (run/file_size_limit.ts).
      const fsize = /\(os error 27\)/.test(why)
        ? "; the bundle is larger than ww's file-size limit: raise it (ulimit -f unlimited)"
        : "";
      throw new UsageError(
        `--deno ${script}: deno bundle: ${why}${at ? ` (at ${at})` : ""}${esbuild}${fsize}`,
      );
    }
    Deno.chmodSync(dir, 0o755); // the jail's user (nobody, or a leased uid) reads the bundle
    Deno.chmodSync(bundle, 0o644);
    return { bundle, remove };
  } catch (e) {
    remove();
    throw e;
  }
}
