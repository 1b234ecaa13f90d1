// rpc/serve.ts — attaches the host capability to a started program, paying for the RPC engine only
// if the program uses it: nothing is imported until the program's first byte arrives on fd 3, so
// `ww run /bin/true` never loads Cap'n Proto. Also the `exec` service that starts programs under
// ww with a subset of a program's grants. Light on purpose: it imports types and pure leaves only.

import type { ByteStream, FdStream } from "../ffi/stream.ts";
import { isIpfsPath } from "../core/ipfs_path.ts";
import type { RunConfig } from "../core/config.ts";
import { type Child, hadOwnStdio, heldGrants, type StartOptions } from "../run/start.ts";
import type { OpenedProgram } from "../run/guest_program.ts";
import { HOST_FS } from "../run/resolve.ts";
import {
  CPU_MULTIPLE,
  type ExecProcess,
  type ExecRequest,
  type HostGrants,
  type HostServices,
  type IpfsService,
  type VatLimits,
} from "./types.ts";
import { lazyImport } from "../core/lazy.ts";
import { escapeText } from "../core/escape.ts";
import { sendLine } from "./sink.ts";
import { WwError } from "../core/errors.ts";
import { fdEnvVar, type FdGrant } from "../fd/layout.ts";

/**
 * A grants value with nothing granted.
 *
 * @example
 * ```ts ignore
 * serveGuest(child, { ...NO_GRANTS, console: true }, { programName: "app", version: "0.1.0" });
 * ```
 */
export const NO_GRANTS: HostGrants = Object.freeze({ console: false, ipfs: false, exec: false });

/**
 * Serves the host capability on `child.hostSocket` with `grants`, once the child first writes to
 * it. Resolves when the connection is over; the child's exit status is unaffected. It rejects only
 * with a TypeError, at once, for a `child` that has no hostSocket (a Command's ChildProcess: give
 * Command its `host` option instead).
 *
 * @example
 * const child = await startProgram(config);
 * const rpc = serveGuest(child, { console: true, ipfs: false, exec: false }, services);
 * const status = await child.status;
 * await rpc;
 */
export async function serveGuest(
  child: { readonly hostSocket: FdStream },
  grants: HostGrants,
  services: HostServices,
  limits?: Partial<VatLimits>,
): Promise<void> {
  const socket = child?.hostSocket;
  if (typeof socket?.readable !== "function") {
    throw new TypeError(
      "serveGuest: child has no hostSocket (startProgram's Child has; a Command is served by its host option)",
    );
  }
  await socket.readable();
  // Read the first byte here rather than trusting readable(): the child ending also wakes it.
  const first = new Uint8Array(1);
  let n: number | null;
  try {
    n = await socket.read(first);
  } catch {
    return;
  }
  if (n === null || n === 0) return;
  try {
    const { serveHost } = await lazyImport<typeof import("./host.ts")>("rpc/host.ts");
    await serveHost(withFirstByte(socket, first[0]), grants, services, limits, socket.ended);
  } catch (e) {
    // Never a rejection: a guest's connection is served from a promise nobody awaits
    // (execService), and an unhandled rejection would end ww.
    const why = e instanceof Error ? e.message : String(e);
    sendLine(
      services.stderr ?? console.error,
      `ww: ${escapeText(services.programName)}: the host capability failed: ${escapeText(why)}`,
    );
    socket.close();
  }
}

/**
 * The connection limits of a program run with `config`: ww spends at most CPU_MULTIPLE times its
 * CPU limit (--cpu N) reading and handling its messages, so a guest that floods fd 3 cannot make
 * ww spend without bound what the guest itself may not (without --cpu, nothing bounds either).
 *
 * @example
 * vatLimitsFor(config); // { maxCpuMs: 40000 } under --cpu 10
 */
export function vatLimitsFor(config: Pick<RunConfig, "jail">): Partial<VatLimits> {
  const seconds = config.jail.limits.cpuSeconds;
  return seconds === undefined ? {} : { maxCpuMs: CPU_MULTIPLE * seconds * 1000 };
}

/** `stream`, with `byte` delivered before anything read from it. */
function withFirstByte(stream: ByteStream, byte: number): ByteStream {
  let pending = true;
  return {
    read(p) {
      if (!pending || p.length === 0) return stream.read(p);
      pending = false;
      p[0] = byte;
      return Promise.resolve(1);
    },
    write: (p) => stream.write(p),
    close: () => stream.close(),
  };
}

/**
 * The `exec` service for `child`, started with `parent`: each request starts `request.program`
 * with the parent's configuration (so the same jail), only the named subset of its descriptors,
 * the parent's fd 0-2 (its terminal, or the StartOptions.stdio it was given), and serves it the
 * requested (already narrowed) grants. A local program is found where the
 * child's own jail shows it (run/view.ts: absolute paths, or names in the child's own PATH, and
 * only what its jail shows); anything else is refused with an Error naming the path. It is opened
 * there once and started from that descriptor, so a guest that swaps the path meanwhile gets the
 * file ww checked or nothing (run/guest_program.ts openGuestProgram). A program from IPFS is
 * fetched as `ww run` would (the host checks first that the child holds the ipfs grant).
 *
 * @example
 * const child = await startProgram(config);
 * const exec = execService(config, child, startProgram, services);
 * serveGuest(child, grants, { ...services, exec });
 *
 * A failure's words name the settings as `words`' caller knows them: a library caller's options
 * (jail.limits.processes), or the flags of `ww run` (--nproc), which whoever started ww can change.
 */
export function execService(
  parent: RunConfig,
  child: Pick<Child, "jail" | "program" | "terminal">,
  start: (config: RunConfig, options?: StartOptions) => Promise<Child>,
  services: Omit<HostServices, "exec" | "programName">,
  words: "library" | "commandLine" = "library",
): (request: ExecRequest) => Promise<ExecProcess> {
  return async (request) => {
    // The run's own copies of its grants, not the caller's numbers, which may name other files by
    // now; held open until this start has taken copies of its own, even if the run ends first.
    const held = heldGrants(child);
    try {
      // The run's fd 0-2 that its caller gave (a Command's pipes), not ww's own: a guest of a
      // Command with stdin "null" read the caller's stdin through a program it started.
      if (!held && hadOwnStdio(child)) {
        throw new Error("the program that asked has ended, and its fd 0-2 with it");
      }
      return await startFor(request, held?.grants, held?.stdio);
    } finally {
      held?.release();
    }
  };

  async function startFor(
    request: ExecRequest,
    grants: readonly FdGrant[] | undefined,
    stdio: readonly (number | undefined)[] | undefined,
  ): Promise<ExecProcess> {
    const fds = request.fds.map((name, i) => {
      // By its WW_FD_ variable, as grants are told apart everywhere: "DB" is the grant db.
      const known = (g: { name: string }) => fdEnvVar(g.name) === fdEnvVar(name);
      const first = request.fds.findIndex((n) => known({ name: n }));
      if (first < i) {
        throw new Error(
          `fd ${name} is asked for twice (first as ${request.fds[first]}; names are compared ` +
            `ignoring case, as their ${fdEnvVar(name)} variable)`,
        );
      }
      const grant = grants?.find(known);
      if (grant) return grant;
      if (parent.fds.some(known)) {
        throw new Error(`fd ${name}: the program that asked has ended, and its grants with it`);
      }
      const own = parent.fds.map((g) => g.name).join(", ") || "none";
      throw new Error(
        `fd ${name} is not one of this program's descriptor grants, ${
          words === "commandLine" ? "--with-fd" : "Command grants.fds"
        } (it has: ${own})`,
      );
    });
    let program: OpenedProgram | undefined;
    if (!isIpfsPath(request.program)) {
      const [{ jailView, resolveGuestProgram }, { openGuestProgram }] = await Promise.all([
        lazyImport<typeof import("../run/view.ts")>("run/view.ts"),
        lazyImport<typeof import("../run/guest_program.ts")>("run/guest_program.ts"),
      ]);
      const view = jailView(child.jail.backend, parent.jail, child.program);
      const found = resolveGuestProgram(request.program, view, parent.env.PATH, HOST_FS);
      if ("error" in found) throw new Error(found.error);
      // Opened once, where it was found; startProgram starts this descriptor and closes it.
      program = openGuestProgram(found);
    }
    // The grants ww opened for the parent (--listen, --connect, --open) are the parent's alone:
    // spread into the child's config they would be opened again (bound twice, truncated twice).
    // A run's terminal is its first program's: the programs it starts share it as fd 0-2.
    const { own: _own, socketActivation: _activation, ...inherited } = parent;
    const config: RunConfig = {
      ...inherited,
      program: request.program,
      args: request.args,
      fds,
      // The parent's WW_FD_ variables name its grants (which won over them); the child's grants
      // set its own.
      env: Object.fromEntries(
        Object.entries(parent.env).filter(([key]) => !key.startsWith("WW_FD_")),
      ),
      tty: false,
    };
    let started: Child;
    try {
      started = await start(config, {
        program,
        ...(child.terminal ? { terminal: child.terminal } : {}),
        ...(stdio?.length ? { stdio } : {}),
        // Its jail runs as this one's host id: one --nproc budget for the run's programs.
        startedBy: child,
        ...(request.signal ? { signal: request.signal } : {}),
        // The run's program has the terminal: an IPFS fetch's lines go with ww's others.
        notices: (line) => void (services.stderr ?? console.error)(line),
      });
    } catch (e) {
      // "use jail.limits.processes 513 or more" meant nothing to whoever ran `ww run`.
      throw inWords(e, words);
    }
    // Awaited with the program (rpc/host.ts stopStarted): when it ends, the programs it started
    // are stopped before the run may end, and under --jail=none nothing else would stop them.
    const ending = new AbortController();
    const served = serveGuest(started, request.grants, {
      ...services,
      programName: request.program,
      exec: execService(config, started, start, services, words),
      ending: ending.signal,
    }, vatLimitsFor(config));
    return {
      pid: started.pid,
      // A jail may fail after the spawn too (bwrap's --nproc refusal comes once it runs): its
      // error reaches the guest through Process.wait, in the same words as start's.
      status: started.status.catch((e) => {
        throw inWords(e, words);
      }),
      kill: started.kill,
      served,
      end: () => ending.abort(),
    };
  }
}

/**
 * ww's IPFS service for a run's node (`config.ipfsApi`), loaded with the IPLD libraries only when
 * a program first calls it: a run that never does pays nothing for it. Its errors name the settings
 * in `words`: a library caller's options (ipfsTimeoutMs), or the flags of `ww run`
 * (--ipfs-timeout), which whoever started ww can change.
 *
 * @example
 * ```ts ignore
 * const ipfs = ipfsServiceFor({ program: "app", args: [], fds: [], env: {}, ipfsApi: DEFAULT_IPFS_API, jail: DEFAULT_POLICY });
 * await new Command("app", { host: { ipfs } }).output();
 * ```
 */
export function ipfsServiceFor(
  config: RunConfig,
  words: "library" | "commandLine" = "library",
): IpfsService {
  let service: Promise<IpfsService> | undefined;
  const load = () =>
    service ??= lazyImport<typeof import("./ipfs_service.ts")>("rpc/ipfs_service.ts").then((
      { ipfsService },
    ) =>
      ipfsService({
        api: config.ipfsApi,
        origin: config.ipfsApiOrigin,
        timeoutMs: config.ipfsTimeoutMs,
        trustNodeIpns: config.trustNodeIpns,
      })
    );
  const worded = async <T>(call: (service: IpfsService) => Promise<T>): Promise<T> => {
    try {
      return await call(await load());
    } catch (e) {
      throw inWords(e, words);
    }
  };
  return {
    cat: (path, reserve) => worded((s) => s.cat(path, reserve)),
    ls: (path, reserve) => worded((s) => s.ls(path, reserve)),
    stat: (path) => worded((s) => s.stat(path)),
    add: (data) => worded((s) => s.add(data)),
  };
}

/** `e` in `words`: for `ww run`'s, a WwError's line that names its flags (commandLine). */
function inWords(e: unknown, words: "library" | "commandLine"): unknown {
  return words === "commandLine" && e instanceof WwError && e.commandLine !== undefined
    ? new Error(e.commandLine, { cause: e })
    : e;
}
