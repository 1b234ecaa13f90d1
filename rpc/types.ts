// rpc/types.ts — what the host capability may do (grants) and what it is wired to (services).
// Types only, so that importing them costs nothing at start-up.

import type { ExitStatus } from "../run/start.ts";
import type { SignalName } from "../run/signals.ts";

/** Which parts of the host capability a program may use (the --with-* flags). */
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

/** IPFS as the host capability needs it; ipfs/ provides it (content verified against its CID). */
export interface IpfsService {
  /**
   * The bytes of the file at `path` (/ipfs/<cid>[/sub], /ipns/<name>[/sub], or a CID). Once the
   * size is known and before the bytes are fetched, `reserve(size)` is awaited: the caller's
   * memory budget (a guest's results count against what ww holds for it).
   */
  cat(path: string, reserve?: (bytes: number) => Promise<void>): Promise<Uint8Array>;
  /** The entries of the directory at `path`. */
  ls(path: string): Promise<IpfsEntry[]>;
  /** The CID, size and type of what is at `path`. */
  stat(path: string): Promise<IpfsStat>;
  /** Adds `data` as a file and returns its CID. */
  add(data: Uint8Array): Promise<string>;
}

/** What an IPFS path names: a file, a directory, or anything else (a symlink, raw data). */
export type IpfsEntryType = "file" | "directory" | "other";

/** What IpfsService.stat tells about a path. */
export interface IpfsStat {
  /** The CID of the object at the path. */
  readonly cid: string;
  /** Its size in bytes (a file's content; a directory's total). */
  readonly size: number;
  /** What it is. */
  readonly type: IpfsEntryType;
}

/** One entry of a directory, as IpfsService.ls lists it. */
export interface IpfsEntry extends IpfsStat {
  /** The entry's name in its directory. */
  readonly name: string;
}

/** A request from a program to start another one under ww. */
export interface ExecRequest {
  /** The program: a path or a name where the requesting program's jail shows it, or /ipfs/... */
  readonly program: string;
  /** Its arguments, after its name. */
  readonly args: readonly string[];
  /** Names of the caller's own --with-fd grants to pass on. */
  readonly fds: readonly string[];
  /** A subset of the caller's grants (the host only passes on capabilities the caller holds). */
  readonly grants: HostGrants;
}

/** A program started for an ExecRequest. */
export interface ExecProcess {
  /** The pid ww spawned. */
  readonly pid: number;
  /** How the program ended, once it has. */
  readonly status: Promise<ExitStatus>;
  /** False when the program has already ended. */
  kill(signal: SignalName): boolean;
}

/** What the host capability is wired to. */
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
}

/** How much one guest may make the host hold. */
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
}
