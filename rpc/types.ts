// rpc/types.ts — what the host capability may do (grants) and what it is wired to (services).
// Types only, so that importing them costs nothing at start-up.

import type { ExitStatus } from "../run/start.ts";
import type { SignalName } from "../run/signals.ts";

/**
 * Which parts of the host capability a program may use (the --with-* flags).
 *
 * @example
 * ```ts ignore
 * const grants: HostGrants = { console: true, ipfs: false, exec: false }; // --with-console
 * ```
 */
export interface HostGrants {
  /** --with-console: log lines to ww's stderr. */
  readonly console: boolean;
  /** --with-ipfs: read IPFS through the host and add bytes. */
  readonly ipfs: boolean;
  /** --with-exec: start other programs under ww. */
  readonly exec: boolean;
}

/** The grants names as `Host.identity` reports them and flags spell them (--with-<name>). */
export const GRANT_NAMES = [
  "console",
  "ipfs",
  "exec",
] as const satisfies readonly (keyof HostGrants)[];

/**
 * IPFS as the host capability needs it; ipfs/ provides it (content verified against its CID).
 *
 * @example
 * ```ts ignore
 * const ipfs: IpfsService = {
 *   cat: (path) => Deno.readFile(`/srv/mirror${path}`),
 *   ls: () => Promise.resolve([]),
 *   stat: (path) => Promise.resolve({ cid: path, size: 0, type: "other" }),
 *   add: () => Promise.reject(new Error("read only")),
 * };
 * serveGuest(child, { ...NO_GRANTS, ipfs: true }, { programName: "app", version: "0.1.0", ipfs });
 * ```
 */
export interface IpfsService {
  /**
   * The bytes of the file at `path` (/ipfs/<cid>[/sub], /ipns/<name>[/sub], or a CID). Once the
   * size is known and before the bytes are fetched, `reserve(size)` is awaited: the caller's
   * memory budget (a guest's results count against what ww holds for it).
   */
  cat(path: string, reserve?: (bytes: number) => Promise<void>): Promise<Uint8Array>;
  /**
   * The entries of the directory at `path`. Before anything is fetched, `reserve(bytes)` is
   * awaited with the most bytes a result may take (as for `cat`).
   */
  ls(path: string, reserve?: (bytes: number) => Promise<void>): Promise<IpfsEntry[]>;
  /** The CID, size and type of what is at `path`. */
  stat(path: string): Promise<IpfsStat>;
  /** Adds `data` as a file and returns its CID. */
  add(data: Uint8Array): Promise<string>;
}

/**
 * What an IPFS path names: a UnixFS file, a directory, or anything else (a symlink, raw block...).
 *
 * @example
 * ```ts ignore
 * const type: IpfsEntryType = (await ipfs.stat(path)).type; // "file"
 * ```
 */
export type IpfsEntryType = "file" | "directory" | "other";

/**
 * What `stat` reports about an IPFS path.
 *
 * @example
 * ```ts
 * const stat: IpfsStat = { cid: "bafkqaaa", size: 0, type: "file" };
 * ```
 */
export interface IpfsStat {
  /** The CID of the entry itself (after resolving the path). */
  readonly cid: string;
  /** A file's length in bytes; a directory's, the size of its whole DAG as its links record. */
  readonly size: number;
  /** File, directory or other. */
  readonly type: IpfsEntryType;
}

/**
 * One entry of an IPFS directory, as `ls` lists it.
 *
 * @example
 * ```ts
 * const entry: IpfsEntry = { name: "empty.txt", cid: "bafkqaaa", size: 0, type: "file" };
 * ```
 */
export interface IpfsEntry extends IpfsStat {
  /** Its name in the directory. */
  readonly name: string;
}

/**
 * A request from a program to start another one under ww.
 *
 * @example
 * ```ts ignore
 * const request: ExecRequest = {
 *   program: "/bin/sh",
 *   args: ["-c", "exit 3"],
 *   fds: ["db"],
 *   grants: { ...NO_GRANTS, console: true },
 * };
 * const started: ExecProcess = await execService(config, child, startProgram, services)(request);
 * ```
 */
export interface ExecRequest {
  /** The program, as `ww run` takes it: a path, a name in the program's PATH, or /ipfs/... */
  readonly program: string;
  /** Its arguments (argv[1...]). */
  readonly args: readonly string[];
  /** Names of the caller's own --with-fd grants to pass on. */
  readonly fds: readonly string[];
  /** A subset of the caller's grants (the host only passes on capabilities the caller holds). */
  readonly grants: HostGrants;
  /**
   * Aborted when nothing can wait for the program any more (the connection ended, or the program
   * that asked is being ended): a start still under way, an IPFS fetch that a slow node keeps
   * going, stops then (StartOptions.signal).
   */
  readonly signal?: AbortSignal;
}

/**
 * A program started for an ExecRequest.
 *
 * @example
 * ```ts ignore
 * const process: ExecProcess = await exec(request);
 * process.kill("SIGTERM");
 * (await process.status).code; // 143
 * ```
 */
export interface ExecProcess {
  /** The pid ww spawned (see Child.pid). */
  readonly pid: number;
  /** Resolves once the program has ended and been reaped. */
  readonly status: Promise<ExitStatus>;
  /** False when the program has already ended. */
  kill(signal: SignalName): boolean;
  /**
   * When the program is served a host connection of its own (execService does), resolves once
   * that has been served to its end, the programs it started stopped: the run waits for it, as
   * for the program.
   */
  readonly served?: Promise<void>;
  /**
   * When the program is served a host connection of its own (execService does): has its Executor
   * start nothing more, and ends the programs it started, at once. rpc/host.ts calls it before it
   * stops the program itself, so that a program given time to end cannot start another meanwhile.
   */
  readonly end?: () => void;
}

/**
 * What the host capability is wired to.
 *
 * @example
 * ```ts ignore
 * const services: HostServices = {
 *   programName: "app",
 *   version: "0.1.0",
 *   stderr: (line) => console.error(line),
 * };
 * serveGuest(child, { ...NO_GRANTS, console: true }, services);
 * ```
 */
export interface HostServices {
  /** Prefix of console lines: the program's name. */
  readonly programName: string;
  /** ww's version, reported by Host.identity. */
  readonly version: string;
  /** Where console lines and the one-line RPC failure reports go (ww's stderr by default). */
  readonly stderr?: (line: string) => void;
  /** Needed when ipfs is granted. */
  readonly ipfs?: IpfsService;
  /** Needed when exec is granted; throws (with a message for the guest) when it cannot start. */
  readonly exec?: (request: ExecRequest) => Promise<ExecProcess>;
  /**
   * Aborted when the program is being ended: its Executor starts nothing more, and the programs it
   * started are ended at once (execService wires it to ExecProcess.end).
   */
  readonly ending?: AbortSignal;
}

/**
 * How many times its own CPU limit ww may spend on a program's messages. A guest that only makes
 * calls, one after another, costs ww about what each costs the guest (20000 Host.identity round
 * trips: 1.7 s of ww's CPU counted against the bound, 1.5 s of the guest's own), so a guest that
 * calls as fast as it can within its --cpu stays well inside; a flood of Releases costs ww some
 * 35 times what it costs the guest, and is cut off.
 */
export const CPU_MULTIPLE = 4;

/**
 * How much one guest may make the host hold.
 *
 * @example
 * ```ts ignore
 * serveGuest(child, grants, services, { maxMessageBytes: 1 << 20 } satisfies Partial<VatLimits>);
 * ```
 */
export interface VatLimits {
  /** Largest message, in bytes. */
  readonly maxMessageBytes: number;
  /** Most segments in one message (C++ refuses more than 512 too). */
  readonly maxSegments: number;
  /** Most calls the guest may have started and not finished. */
  readonly maxAnswers: number;
  /** Most distinct capabilities the guest may hold. */
  readonly maxExports: number;
  /**
   * Most bytes buffered for the guest in total: call messages held while their calls run or wait,
   * results services reserved, and output not yet written (each item with a fixed overhead).
   * ww stops reading the guest while the next message might not fit.
   */
  readonly maxBufferedBytes: number;
  /**
   * Most CPU time, in milliseconds, the host may spend reading and handling the guest's messages
   * (from each read to the end of what it carried: decoding, replies built, calls started; not a
   * service's own work, such as an IPFS fetch); past it the connection ends. Infinity (the
   * default): no bound. `ww run --cpu N` makes it CPU_MULTIPLE * N seconds (vatLimitsFor).
   */
  readonly maxCpuMs: number;
}
