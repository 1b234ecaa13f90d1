/**
 * The jail's host identity. No jail ever holds a privileged host identity, and when ww runs as
 * root no two live jails share one: each leases its own host uid and gid (the same number) from
 * a range that none of systemd's documented ranges overlaps (systemd's UIDS-GIDS.md: 0-999
 * system, 1000-60000 regular users, 60001-60513 homed, 61184-65519 DynamicUser, 65534 nobody,
 * 524288-1879048191 containers, 2147352576-2147418111 foreign, nothing >= 2^31; 65536-524287
 * is left unused) and, by default, below the 100000 where useradd starts /etc/subuid ranges.
 *
 * This module holds the choices, as pure functions of plain values: the range (`WW_JAIL_IDS`),
 * the ids to skip (from /etc/passwd, /etc/group, /etc/subuid, /etc/subgid and live processes,
 * which run/ids.ts gathers), the order candidates are tried in, and which host ids a run gets.
 * The lease itself (a lock file per id, held for the jail's life) is run/ids.ts's.
 *
 * @module
 */

/** An inclusive range of ids. */
export interface IdRange {
  readonly first: number;
  readonly last: number;
}

/** The environment variable that overrides {@linkcode DEFAULT_JAIL_IDS}, as `FIRST-LAST`. */
export const JAIL_IDS_ENV = "WW_JAIL_IDS";

/** The ids jails lease from by default: inside 65536-524287, below the usual /etc/subuid. */
export const DEFAULT_JAIL_IDS: IdRange = { first: 70000, last: 79999 };

/**
 * Ids a range may never contain: root and the system users, nobody and (uint16_t)-1, and from
 * systemd's foreign-UID range up (which includes (uid_t)-1 and everything >= 2^31).
 */
const FORBIDDEN: readonly { readonly range: IdRange; readonly what: string }[] = [
  { range: { first: 0, last: 999 }, what: "root and the system users (0-999)" },
  { range: { first: 65534, last: 65535 }, what: "nobody and 65535 (65534-65535)" },
  {
    range: { first: 2147352576, last: 4294967295 },
    what: "systemd's foreign range and everything from 2^31 (2147352576 and up)",
  },
];

/**
 * Parses `FIRST-LAST` (the value of WW_JAIL_IDS).
 *
 * @example
 * parseIdRange("70000-79999"); // { first: 70000, last: 79999 }
 * parseIdRange("0-10"); // { error: "...includes root and the system users (0-999)..." }
 */
export function parseIdRange(text: string): IdRange | { error: string } {
  const m = /^(\d{1,10})-(\d{1,10})$/.exec(text.trim());
  const example = `e.g. ${JAIL_IDS_ENV}=${DEFAULT_JAIL_IDS.first}-${DEFAULT_JAIL_IDS.last}`;
  if (!m) {
    return { error: `${JAIL_IDS_ENV}=${text}: not a range FIRST-LAST of ids (${example})` };
  }
  const range = { first: Number(m[1]), last: Number(m[2]) };
  if (range.first > range.last) {
    return { error: `${JAIL_IDS_ENV}=${text}: FIRST is above LAST (${example})` };
  }
  for (const f of FORBIDDEN) {
    if (overlaps(range, f.range)) {
      return {
        error:
          `${JAIL_IDS_ENV}=${text}: the range includes ${f.what}, which ww never leases to a jail (${example})`,
      };
    }
  }
  return range;
}

function overlaps(a: IdRange, b: IdRange): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/**
 * The third and fourth fields (uid/gid of /etc/passwd; gid of /etc/group) of each line of a
 * passwd- or group-format file: every id it names. Comments and malformed lines are skipped.
 */
export function idsInPasswd(text: string): number[] {
  // Walked by index, not split into lines and fields: every run as root reads /etc/passwd and
  // /etc/group, and the arrays of a split were ~40 KB of garbage a run (issue 16).
  const ids: number[] = [];
  for (let start = 0; start <= text.length;) {
    const newline = text.indexOf("\n", start);
    const end = newline < 0 ? text.length : newline;
    if (text[start] !== "#") {
      for (let field = 0, at = start; field < 4 && at <= end; field++) {
        const colon = text.indexOf(":", at);
        const next = colon < 0 || colon > end ? end : colon;
        if (field >= 2 && next > at && isDigits(text, at, next)) {
          ids.push(Number(text.slice(at, next)));
        }
        at = next + 1;
      }
    }
    start = end + 1;
  }
  return ids;
}

function isDigits(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** The ranges of an /etc/subuid or /etc/subgid file (`name:start:count` lines). */
export function rangesInSubid(text: string): IdRange[] {
  const ranges: IdRange[] = [];
  for (const line of text.split("\n")) {
    const m = /^[^:#]*:(\d+):(\d+)\s*$/.exec(line);
    if (!m || Number(m[2]) === 0) continue;
    ranges.push({ first: Number(m[1]), last: Number(m[1]) + Number(m[2]) - 1 });
  }
  return ranges;
}

/** What a lease must not take: ids in use (as uid or gid) and delegated ranges. */
export interface IdExclusions {
  readonly ids: { has(id: number): boolean };
  readonly ranges: readonly IdRange[];
}

/**
 * The ids of `range` a jail may lease, in the order to try them: ascending, skipping every
 * excluded id and range. Ascending keeps the ids in use few and predictable; concurrent ww
 * processes meet at the same first candidates, and the lease lock decides between them.
 * `descending` is for auto's try of bwrap (run/auto_try.ts): the kernel frees the try's
 * namespaces some time after it ends, and until then they count against its uid's
 * max_user_namespaces, so the run that follows should not get the same uid.
 *
 * @example
 * [...leaseCandidates({ first: 5000, last: 5003 }, { ids: new Set([5001]), ranges: [] })];
 * // [5000, 5002, 5003]
 * [...leaseCandidates({ first: 5000, last: 5003 }, { ids: new Set([5001]), ranges: [] }, "descending")];
 * // [5003, 5002, 5000]
 */
export function* leaseCandidates(
  range: IdRange,
  excluded: IdExclusions,
  order: "ascending" | "descending" = "ascending",
): Generator<number> {
  const up = order === "ascending";
  let id = up ? range.first : range.last;
  while (up ? id <= range.last : id >= range.first) {
    const covering = excluded.ranges.find((r) => r.first <= id && id <= r.last);
    if (covering) {
      id = up ? covering.last + 1 : covering.first - 1;
      continue;
    }
    if (!excluded.ids.has(id)) yield id;
    id += up ? 1 : -1;
  }
}

/** The --uid/--gid a run asked for (inside the jail). */
export interface RequestedIds {
  readonly uid?: number;
  readonly gid?: number;
}

/**
 * Whether a run needs a leased host id: ww is root and the jail's host uid or gid is not an
 * explicit, unprivileged --uid/--gid. (--uid 0 is never a host id: it is mapped inside the
 * user namespace only, to the leased one.)
 */
export function needsLease(requested: RequestedIds, root: boolean): boolean {
  return root && !(isUnprivileged(requested.uid) && isUnprivileged(requested.gid));
}

function isUnprivileged(id: number | undefined): boolean {
  return id !== undefined && id !== 0;
}

/**
 * The host uid and gid a bwrap jail runs as: undefined when ww is not root (bwrap then maps the
 * jail's ids to ww's own); otherwise each explicit, non-zero --uid/--gid, and the leased id for
 * the rest (needsLease says when `leased` is needed).
 *
 * @example
 * jailHostIds({ uid: 0, gid: 0 }, true, 70000); // { uid: 70000, gid: 70000 }
 * jailHostIds({ uid: 1000 }, true, 70000); // { uid: 1000, gid: 70000 }
 * jailHostIds({ uid: 0 }, false, undefined); // undefined
 */
export function jailHostIds(
  requested: RequestedIds,
  root: boolean,
  leased: number | undefined,
): { uid: number; gid: number } | undefined {
  if (!root) return undefined;
  const pick = (id: number | undefined, flag: string) => {
    if (isUnprivileged(id)) return id as number;
    if (leased === undefined) throw new Error(`${flag}: no host id was leased for the jail`);
    return leased;
  };
  return { uid: pick(requested.uid, "--uid"), gid: pick(requested.gid, "--gid") };
}

/**
 * Who a jail is on the host, for the checks made before it starts (run/ids.ts): its uid and gid,
 * the supplementary groups it keeps, and whether ww chose these ids (`chosen`: a lease, or
 * --uid/--gid) or they are ww's own, which no flag of a run changes on the host.
 */
export interface HostUser {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
  readonly chosen: boolean;
}

/**
 * The jail's host user: the ids the stage switches to (`identity`, from its plan: a root ww's,
 * or a privileged native stage's), keeping ww's supplementary groups only when it does not clear
 * them; with no switch, ww's own (`own()`: its effective uid and gid, and supplementary groups,
 * read only when needed: a root ww's jail clears them), which the jail keeps whole: bwrap in a
 * user namespace of its own may not call setgroups(2) (user_namespaces(7), /proc/PID/setgroups),
 * and the native stage changes nothing.
 *
 * @example
 * jailHostUser(undefined, () => ({ uid: 1000, gid: 1000, groups: [27] }));
 * // { uid: 1000, gid: 1000, groups: [27], chosen: false }
 * jailHostUser({ uid: 70000, gid: 70000, clearGroups: true }, () => ({ uid: 0, gid: 0, groups: [0] }));
 * // { uid: 70000, gid: 70000, groups: [], chosen: true }
 */
export function jailHostUser(
  identity:
    | { readonly uid: number; readonly gid: number; readonly clearGroups: boolean }
    | undefined,
  own: () => { readonly uid: number; readonly gid: number; readonly groups: readonly number[] },
): HostUser {
  if (identity === undefined) return { ...own(), chosen: false };
  const groups = identity.clearGroups ? [] : own().groups;
  return { uid: identity.uid, gid: identity.gid, groups, chosen: true };
}

/**
 * Why an explicit --uid/--gid cannot be a root ww's jail's host id, or undefined: one inside the
 * lease range could be another live jail's, which would then share its processes and budget.
 *
 * @example
 * explicitIdProblem({ uid: 70005 }, { first: 70000, last: 79999 });
 * // "--uid 70005: ww leases 70000-79999 to jails one each; choose an id outside it"
 */
export function explicitIdProblem(
  requested: RequestedIds,
  range: IdRange,
  words: "commandLine" | "library" = "commandLine",
): string | undefined {
  const [uid, gid] = words === "library" ? ["jail.uid", "jail.gid"] : ["--uid", "--gid"];
  for (const [flag, id] of [[uid, requested.uid], [gid, requested.gid]] as const) {
    if (id !== undefined && id !== 0 && id >= range.first && id <= range.last) {
      return `${flag} ${id}: ww leases ${
        formatIdRange(range)
      } to jails, one id each, and this one may be another jail's; choose an id outside it (or change ${JAIL_IDS_ENV})`;
    }
  }
  return undefined;
}

/**
 * systemd's other unused block, between DynamicUser's range and nobody: where a user namespace
 * maps no id of the default range (a container with 65536 ids, for one), jails lease from it.
 */
export const SMALL_JAIL_IDS: IdRange = { first: 65520, last: 65533 };

/**
 * The ids a /proc/<pid>/uid_map or gid_map maps in its namespace (`inside outside count` lines).
 *
 * @example
 * parseIdMap("         0          0      65536\n"); // [{ first: 0, last: 65535 }]
 */
export function parseIdMap(text: string): IdRange[] {
  const ranges: IdRange[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (!m || Number(m[3]) === 0) continue;
    ranges.push({ first: Number(m[1]), last: Number(m[1]) + Number(m[3]) - 1 });
  }
  return ranges;
}

/** Whether `id` is mapped by every one of `maps` (the uid map and the gid map: a jail needs both). */
function mappedByAll(id: number, maps: readonly (readonly IdRange[])[]): boolean {
  return maps.every((m) => m.some((r) => r.first <= id && id <= r.last));
}

/**
 * The ranges of ids, up to (uid_t)-2, that some of `maps` leaves unmapped: setuid(2) to one fails
 * with EINVAL, so no lease may take it.
 *
 * @example
 * unmappedIds([[{ first: 0, last: 65535 }]]); // [{ first: 65536, last: 4294967294 }]
 */
export function unmappedIds(maps: readonly (readonly IdRange[])[]): IdRange[] {
  const bounds = new Set<number>([0]);
  for (const m of maps) for (const r of m) bounds.add(r.first).add(r.last + 1);
  const points = [...bounds].filter((b) => b <= MAX_ID).sort((a, b) => a - b);
  const out: IdRange[] = [];
  for (let i = 0; i < points.length; i++) {
    const first = points[i];
    const last = i + 1 < points.length ? points[i + 1] - 1 : MAX_ID;
    if (mappedByAll(first, maps)) continue;
    const prev = out.at(-1);
    if (prev && prev.last + 1 === first) out[out.length - 1] = { first: prev.first, last };
    else out.push({ first, last });
  }
  return out;
}

const MAX_ID = 4294967294;

/**
 * The range a root ww leases from in a user namespace with `maps` (its uid and gid maps): the
 * configured one when any of its ids is mapped; else, for the default only, SMALL_JAIL_IDS when
 * that is mapped; else an error naming WW_JAIL_IDS. (On a host, and in a container that maps
 * every id, the configured range as it is.)
 *
 * @example
 * leaseRange({ range: DEFAULT_JAIL_IDS, fromEnv: false }, [[{ first: 0, last: 65535 }]]);
 * // { first: 65520, last: 65533 }
 */
export function leaseRange(
  configured: { readonly range: IdRange; readonly fromEnv: boolean },
  maps: readonly (readonly IdRange[])[],
): IdRange | { error: string } {
  const anyMapped = (r: IdRange) =>
    maps.every((m) => m.some((x) => x.first <= r.last && r.first <= x.last)) &&
    !leaseCandidates(r, { ids: new Set(), ranges: unmappedIds(maps) }).next().done;
  if (anyMapped(configured.range)) return configured.range;
  if (!configured.fromEnv && anyMapped(SMALL_JAIL_IDS)) return SMALL_JAIL_IDS;
  const mapped = maps[0]?.map(formatIdRange).join(", ") || "none";
  // A namespace that maps root alone (unshare -r) has no id a jail may take: none to set.
  const rootOnly = maps.every((m) => m.every((x) => x.first === 0 && x.last === 0));
  const fix = rootOnly
    ? "it has no id but root, which no jail runs as: run ww in a namespace that maps more ids (unshare --map-auto, or newuidmap), or with --jail=none"
    : `set ${JAIL_IDS_ENV}=FIRST-LAST to unused ids inside it`;
  return {
    error: `${
      configured.fromEnv
        ? `${JAIL_IDS_ENV}=${formatIdRange(configured.range)}`
        : `the jails' ids (${formatIdRange(configured.range)}, or ${formatIdRange(SMALL_JAIL_IDS)})`
    }: no id of it exists in this user namespace (it maps ${mapped}); ${fix}`,
  };
}

/** The range as `FIRST-LAST`. */
export function formatIdRange(range: IdRange): string {
  return `${range.first}-${range.last}`;
}
