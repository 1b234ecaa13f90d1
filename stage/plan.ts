/**
 * The stage's plan (stage/stage.c, `stage launch`): everything the stage does between ww's spawn
 * and the program's execve, as plain data, and its wire format. Pure: no Deno APIs, no FFI.
 *
 * The wire format is what a C program with no libc reads most simply: the magic "WWSTAGE1", then
 * little-endian u64 words and strings (a u64 length, the bytes, a NUL, zero padding to the next
 * word), in the order of {@linkcode encodeStagePlan}.
 *
 * @module
 */

/** setrlimit resources by name (asm-generic/resource.h; the same on x86_64 and aarch64). */
export const RLIMIT = { cpu: 0, data: 2, core: 4, nproc: 6, nofile: 7 } as const;

/** A resource limit by name. */
export type LimitName = keyof typeof RLIMIT;

/** A resource limit as the stage sets it (prlimit): its soft and its hard value. */
export interface StageLimit {
  readonly resource: LimitName;
  readonly soft: number;
  readonly hard: number;
  /**
   * Never raised: each value is at most the hard limit the stage has (stage.c set_limits), where
   * raising it would need CAP_SYS_RESOURCE. Set in the wire's resource word, bit 63.
   */
  readonly lowerOnly?: boolean;
}

/** The resource word's bit for StageLimit.lowerOnly (stage.c LIMIT_LOWER_ONLY). */
const LIMIT_LOWER_ONLY = 1n << 63n;

/** Who the stage supervises: the program itself (native jail), or bwrap (bwrap jail). */
export type Supervised = "program" | "bwrap";

/** The identity the stage takes before it executes (see jail/native.ts IdentityPlan). */
export interface StageIdentity {
  readonly uid: number;
  readonly gid: number;
  /** setgroups(0, NULL). */
  readonly clearGroups: boolean;
  /** PR_CAPBSET_DROP for capabilities 0..this; null leaves the bounding set. */
  readonly dropBoundingUpTo: number | null;
}

/** Everything the stage does, in the order it does it. */
export interface StagePlan {
  readonly supervise: Supervised;
  /** ww's pid: the stage exits at once when its parent is not (ww died before it looked). */
  readonly parentPid: number;
  /** Descriptors from this number up are the stage's own: they close on exec. */
  readonly closeOnExecFrom: number;
  /**
   * The jail's id lease, a lock ww holds (run/ids.ts), when ww leased the jail's host id: the
   * supervisor keeps it open until everything of the jail has ended, so the id is never free
   * while a process of the jail lives, even when ww is SIGKILLed. At or above closeOnExecFrom.
   */
  readonly leaseFd?: number;
  /**
   * bwrap with --tmp-size: the supervisor forks a bounder that, asked by the stage in the jail
   * over unix socket `fd` (at or above closeOnExecFrom; the stage in the jail has the other end,
   * see stageExecArgs' `tmpfs`), sets nr_inodes to `files` on each of `paths`, the tmpfs mounts
   * the jail can write (jail/bwrap.ts boundedTmpfs), before the program runs.
   */
  readonly tmpfs?: {
    readonly fd: number;
    readonly files: number;
    readonly paths: readonly string[];
  };
  /** The limits the policy sets (jail/limits.ts stageLimits); the others are left as they are. */
  readonly limits: readonly StageLimit[];
  readonly identity?: StageIdentity;
  readonly noNewPrivs: boolean;
  readonly landlock?: {
    /** sizeof(struct landlock_ruleset_attr) for the kernel's ABI. */
    readonly attrSize: number;
    readonly handledFs: number;
    readonly handledNet: number;
    readonly scoped: number;
    readonly rules: readonly { readonly path: string; readonly access: number }[];
  };
  /** A struct sock_filter array. */
  readonly seccomp?: Uint8Array;
  /**
   * A held program (jail/held.ts): execute this descriptor (execveat AT_EMPTY_PATH) instead of
   * `path`, closed on exec unless `keepOpen`; see NativePlan.
   */
  readonly held?: { readonly fd: number; readonly keepOpen: boolean };
  readonly path: string;
  readonly argv: readonly string[];
  readonly env: readonly string[];
  /**
   * The run's private work directory (native jail): the stage makes it (mode 0700, owned by
   * `identity` when there is one) once it knows ww is alive, runs the program in it, and its
   * supervisor removes it when everything has ended.
   */
  readonly workdir?: string;
  /**
   * Where the program starts (--chdir), entered by the program's own process once it has the
   * jail's identity, so the jail's user must be able to enter it; the work directory when absent.
   */
  readonly cwd?: string;
  /**
   * Socket activation (sd_listen_fds(3)): the stage adds LISTEN_PID=<the program's pid> to `env`
   * (replacing any) right before it executes the program, the only process that knows that pid.
   */
  readonly listenPid?: boolean;
  /**
   * The program's fd 0 is a terminal of its own (RunConfig.tty): right after setsid the stage
   * makes it the new session's controlling terminal (TIOCSCTTY), for job control.
   */
  readonly controllingTerminal?: boolean;
  /**
   * The program's process unshares a network namespace, and brings its loopback up, before it
   * gives up its privileges (NativePlan.privateNetwork); a failure is the step "network".
   */
  readonly privateNetwork?: boolean;
}

/** A line the stage writes on its status descriptor. */
export type StageReport =
  /** Every step passed; written right before execve. */
  | { readonly exec: true }
  /** A step failed; `detail` names the path, or the #! interpreter that is missing. */
  | { readonly step: string; readonly errno: number; readonly detail?: string };

const FLAGS = {
  bwrap: 1 << 0,
  noNewPrivs: 1 << 1,
  identity: 1 << 2,
  landlock: 1 << 3,
  held: 1 << 4,
  keepOpen: 1 << 5,
  clearGroups: 1 << 6,
  listenPid: 1 << 7,
  controllingTerminal: 1 << 8,
  lease: 1 << 9,
  privateNetwork: 1 << 10,
  tmpfs: 1 << 11,
};
const MAGIC = "WWSTAGE1";
const ENCODER = new TextEncoder();
const NONE = 0xffffffffffffffffn;

/**
 * The plan as the bytes the stage reads: a view of one buffer, which the next call overwrites
 * (write it out, or copy it, before encoding another). A copy of every plan was most of what a
 * run's plan cost a service that starts many (issue 16).
 *
 * @example
 * encodeStagePlan({ supervise: "program", parentPid: 1, closeOnExecFrom: 4, limits: [],
 *   noNewPrivs: true, path: "/bin/true", argv: ["true"], env: [] }).subarray(0, 8);
 * // the bytes of "WWSTAGE1"
 */
export function encodeStagePlan(plan: StagePlan): Uint8Array {
  out.size = 0;
  room(MAGIC.length);
  for (let i = 0; i < MAGIC.length; i++) out.buf[out.size++] = MAGIC.charCodeAt(i);
  const f = (on: boolean | undefined, bit: number) => (on ? bit : 0);
  putWord(
    f(plan.supervise === "bwrap", FLAGS.bwrap) | f(plan.noNewPrivs, FLAGS.noNewPrivs) |
      f(plan.identity !== undefined, FLAGS.identity) |
      f(plan.landlock !== undefined, FLAGS.landlock) |
      f(plan.held !== undefined, FLAGS.held) |
      f(plan.held?.keepOpen, FLAGS.keepOpen) |
      f(plan.identity?.clearGroups, FLAGS.clearGroups) |
      f(plan.listenPid, FLAGS.listenPid) |
      f(plan.controllingTerminal, FLAGS.controllingTerminal) |
      f(plan.leaseFd !== undefined, FLAGS.lease) |
      f(plan.privateNetwork, FLAGS.privateNetwork) |
      f(plan.tmpfs !== undefined, FLAGS.tmpfs),
  );
  putWord(plan.parentPid);
  putWord(plan.closeOnExecFrom);
  if (plan.leaseFd !== undefined) putWord(plan.leaseFd);
  if (plan.tmpfs) {
    putWord(plan.tmpfs.fd);
    putWord(plan.tmpfs.files);
    putWord(plan.tmpfs.paths.length);
    for (const p of plan.tmpfs.paths) putString(p);
  }
  putWord(plan.limits.length);
  for (const l of plan.limits) {
    putWord(BigInt(RLIMIT[l.resource]) | (l.lowerOnly ? LIMIT_LOWER_ONLY : 0n));
    putWord(l.soft);
    putWord(l.hard);
  }
  if (plan.identity) {
    putWord(plan.identity.uid);
    putWord(plan.identity.gid);
    putWord(plan.identity.dropBoundingUpTo ?? NONE);
  }
  if (plan.landlock) {
    const l = plan.landlock;
    for (const v of [l.attrSize, l.handledFs, l.handledNet, l.scoped, l.rules.length]) putWord(v);
    for (const r of l.rules) {
      putWord(r.access);
      putString(r.path);
    }
  }
  if (plan.seccomp) {
    putWord(plan.seccomp.length);
    putPadded(plan.seccomp);
  } else {
    putWord(0);
  }
  if (plan.held) putWord(plan.held.fd);
  putString(plan.path);
  for (const list of [plan.argv, plan.env]) {
    putWord(list.length);
    for (const s of list) putString(s);
  }
  putString(plan.workdir ?? "");
  putString(plan.cwd ?? "");
  return out.buf.subarray(0, out.size);
}

/** The reports in the text of the stage's status descriptor, one JSON object a line. */
export function parseStageReports(text: string): StageReport[] {
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}

/**
 * The plan being encoded. Every run encodes one: one buffer, kept between plans and written in
 * place, where an array per word and per padding cost ~25 KB of garbage a run, and a buffer a run
 * is malloc'd memory that waits for V8's next scavenge to be freed (issue 16: in a service, many
 * runs' worth at a time). Encoding is synchronous: one plan at a time uses it. Plain functions,
 * not a class's methods, which V8 compiles on their first call: the bundle has these compiled
 * with their file (scripts/eager_compile.ts), ~0.2 ms of a jailed run (issue 13).
 */
const firstBuffer = new Uint8Array(4096);
const out = { buf: firstBuffer, view: new DataView(firstBuffer.buffer), size: 0 };

function room(n: number): void {
  if (out.size + n <= out.buf.length) return;
  const grown = new Uint8Array(Math.max(out.buf.length * 2, out.size + n));
  grown.set(out.buf.subarray(0, out.size));
  out.buf = grown;
  out.view = new DataView(grown.buffer);
}

function putWord(v: number | bigint): void {
  room(8);
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) {
    out.view.setUint32(out.size, v % 2 ** 32, true);
    out.view.setUint32(out.size + 4, Math.floor(v / 2 ** 32), true);
  } else {
    out.view.setBigUint64(out.size, BigInt(v), true);
  }
  out.size += 8;
}

/** The bytes, a NUL, and zeros up to the next word. */
function putPadded(b: Uint8Array): void {
  const zeros = 8 - (b.length % 8);
  room(b.length + zeros);
  out.buf.set(b, out.size);
  out.size += b.length;
  // The buffer holds the previous plan's bytes past this one's.
  out.buf.fill(0, out.size, out.size + zeros);
  out.size += zeros;
}

/** A string: its length, its bytes, a NUL, and zeros up to the next word. */
function putString(s: string): void {
  // An ASCII string (nearly every one) is copied in place, after room for its length: a
  // Uint8Array per string was most of a bwrap plan's garbage, ~100 strings a run (issue 16).
  room(8 + s.length + 8);
  const at = out.size + 8;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c >= 0x80) return putEncoded(s);
    out.buf[at + i] = c;
  }
  putWord(s.length);
  out.size += s.length;
  const zeros = 8 - (s.length % 8);
  out.buf.fill(0, out.size, out.size + zeros);
  out.size += zeros;
}

function putEncoded(s: string): void {
  const b = ENCODER.encode(s);
  if (b.includes(0)) throw new Error(`a NUL byte cannot pass to execve: ${JSON.stringify(s)}`);
  putWord(b.length);
  putPadded(b);
}
