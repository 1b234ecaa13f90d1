// jail/proc_status.ts — who a process is (its ids, groups and capabilities), parsed from the text of
// /proc/<pid>/status, and whether that makes it privileged. Pure: the caller reads the file.

/** Who the process is, from /proc/self/status. */
export interface ProcessIdentity {
  readonly uid: number;
  readonly euid: number;
  readonly gid: number;
  readonly egid: number;
  /** CapEff and CapPrm, as bit masks. */
  readonly capEffective: bigint;
  readonly capPermitted: bigint;
}

/** True when the process may hold privileges the program must not inherit. */
export function isPrivileged(id: ProcessIdentity): boolean {
  return id.euid === 0 || id.capEffective !== 0n || id.capPermitted !== 0n;
}

/**
 * The supplementary groups on the Groups line of /proc/<pid>/status (none when it is empty).
 *
 * @example
 * parseGroups("Uid:\t1000\t1000\t1000\t1000\nGroups:\t27 100 \n"); // [27, 100]
 */
export function parseGroups(text: string): number[] {
  const line = FIELDS.Groups.exec(text);
  if (!line) throw new Error("/proc/self/status has no Groups line");
  return line[1].trim().split(/\s+/).filter((g) => g !== "").map(Number);
}

/** The lines read, compiled once: each native run parses ww's own status (issue 16). */
const FIELDS = {
  Uid: /^Uid:\s*(.*)$/m,
  Gid: /^Gid:\s*(.*)$/m,
  CapEff: /^CapEff:\s*(.*)$/m,
  CapPrm: /^CapPrm:\s*(.*)$/m,
  // Empty for a process with no supplementary groups: parseGroups reads it, not field().
  Groups: /^Groups:(.*)$/m,
};

/** Parses the Uid, Gid, CapEff and CapPrm lines of /proc/<pid>/status. */
export function parseProcStatus(text: string): ProcessIdentity {
  const field = (name: keyof typeof FIELDS) => {
    const m = FIELDS[name].exec(text);
    if (!m) throw new Error(`/proc/self/status has no ${name} line`);
    return m[1].trim().split(/\s+/);
  };
  const [uid, euid] = field("Uid").map(Number);
  const [gid, egid] = field("Gid").map(Number);
  return {
    uid,
    euid,
    gid,
    egid,
    capEffective: BigInt(`0x${field("CapEff")[0]}`),
    capPermitted: BigInt(`0x${field("CapPrm")[0]}`),
  };
}
