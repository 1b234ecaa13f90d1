// The jail's host identity: the range, what a lease skips, the order of candidates, and which
// host ids a run gets.
import assert from "node:assert/strict";
import {
  DEFAULT_JAIL_IDS,
  explicitIdProblem,
  idsInPasswd,
  jailHostIds,
  jailHostUser,
  leaseCandidates,
  leaseRange,
  needsLease,
  parseIdMap,
  parseIdRange,
  rangesInSubid,
  SMALL_JAIL_IDS,
  unmappedIds,
} from "./ids.ts";

// systemd's UIDS-GIDS.md ranges (and nobody) that the default range must stay clear of.
const SYSTEMD_RANGES = [
  [0, 999],
  [1000, 60000],
  [60001, 60513],
  [61184, 65519],
  [65534, 65534],
  [524288, 1879048191],
  [2147352576, 2147418111],
  [2147483648, 4294967295],
];

Deno.test("the default range overlaps none of systemd's ranges, nor the usual /etc/subuid", () => {
  const { first, last } = DEFAULT_JAIL_IDS;
  for (const [a, b] of SYSTEMD_RANGES) assert.ok(last < a || first > b, `${a}-${b}`);
  assert.ok(first >= 65536 && last < 100000);
  assert.deepEqual(parseIdRange(`${first}-${last}`), DEFAULT_JAIL_IDS);
  // The fallback for a user namespace of 65536 ids lies in systemd's unused 65520-65533.
  for (const [a, b] of SYSTEMD_RANGES) {
    assert.ok(SMALL_JAIL_IDS.last < a || SMALL_JAIL_IDS.first > b, `${a}-${b}`);
  }
  assert.deepEqual(parseIdRange(`65520-65533`), SMALL_JAIL_IDS);
});

Deno.test("WW_JAIL_IDS is FIRST-LAST, first not above last", () => {
  assert.deepEqual(parseIdRange("200000-200009"), { first: 200000, last: 200009 });
  assert.deepEqual(parseIdRange(" 1000-1000 "), { first: 1000, last: 1000 });
  for (const bad of ["", "70000", "70000-", "-5", "a-b", "70000:79999", "7e4-8e4", "5-3"]) {
    const r = parseIdRange(bad);
    assert.ok("error" in r, bad);
    assert.match(r.error, /^WW_JAIL_IDS=.*e\.g\. WW_JAIL_IDS=70000-79999\)$/);
  }
});

Deno.test("a range may never include root, a system user, nobody, 65535 or ids from 2^31", () => {
  for (const bad of ["0-5", "999-2000", "65000-65534", "65535-70000", "2147352576-2147352577"]) {
    const r = parseIdRange(bad);
    assert.ok("error" in r, bad);
    assert.match(r.error, /which ww never leases to a jail/);
  }
  assert.ok("error" in parseIdRange("4294967295-4294967295"));
  assert.ok("error" in parseIdRange("2147483000-2147483648"));
  assert.ok(!("error" in parseIdRange("1000-65533")));
  assert.ok(!("error" in parseIdRange("65536-2147352575")));
});

Deno.test("every uid and gid /etc/passwd or /etc/group names is found", () => {
  const passwd = [
    "root:x:0:0:root:/root:/bin/bash",
    "# a comment:x:5:5",
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
    "odd:x:70001:70002::/:/bin/false",
    "broken line",
    "",
  ].join("\n");
  assert.deepEqual(idsInPasswd(passwd), [0, 0, 65534, 65534, 70001, 70002]);
  assert.deepEqual(idsInPasswd("users:x:100:alice,bob\nww:x:70003:\n"), [100, 70003]);
});

Deno.test("/etc/subuid ranges are start and count", () => {
  assert.deepEqual(rangesInSubid("alice:100000:65536\nbob:165536:65536\n#x:1:1\nz:5:0\n"), [
    { first: 100000, last: 165535 },
    { first: 165536, last: 231071 },
  ]);
});

Deno.test("candidates ascend through the range and skip every excluded id and range", () => {
  const range = { first: 10, last: 30 };
  const excluded = {
    ids: new Set([10, 12, 29, 31]),
    ranges: [{ first: 14, last: 20 }, { first: 19, last: 22 }, { first: 0, last: 3 }],
  };
  assert.deepEqual([...leaseCandidates(range, excluded)], [11, 13, 23, 24, 25, 26, 27, 28, 30]);
  // The same, by brute force, for every sub-range.
  for (let first = 8; first <= 32; first++) {
    for (let last = first; last <= 32; last++) {
      const want: number[] = [];
      for (let id = first; id <= last; id++) {
        const inRange = excluded.ranges.some((r) => r.first <= id && id <= r.last);
        if (!excluded.ids.has(id) && !inRange) want.push(id);
      }
      assert.deepEqual([...leaseCandidates({ first, last }, excluded)], want, `${first}-${last}`);
      // auto's try takes them from the top: the same ids, the other way round.
      assert.deepEqual(
        [...leaseCandidates({ first, last }, excluded, "descending")],
        want.toReversed(),
        `${first}-${last} descending`,
      );
    }
  }
  assert.deepEqual([
    ...leaseCandidates({ first: 5, last: 6 }, { ids: new Set([5, 6]), ranges: [] }),
  ], []);
});

Deno.test("candidates are found lazily in a large range", () => {
  const it = leaseCandidates({ first: 65536, last: 2147352575 }, {
    ids: new Set(),
    ranges: [{ first: 65536, last: 2147352574 }],
  });
  assert.deepEqual([...it], [2147352575]);
});

Deno.test("descending candidates are found lazily in a large range too", () => {
  const it = leaseCandidates({ first: 65536, last: 2147352575 }, {
    ids: new Set(),
    ranges: [{ first: 65537, last: 2147352575 }],
  }, "descending");
  assert.deepEqual([...it], [65536]);
});

Deno.test("ww as root leases unless both --uid and --gid are explicit and not 0", () => {
  const cases: [{ uid?: number; gid?: number }, boolean][] = [
    [{}, true],
    [{ uid: 1000 }, true],
    [{ gid: 1000 }, true],
    [{ uid: 1000, gid: 1000 }, false],
    [{ uid: 0, gid: 1000 }, true],
    [{ uid: 1000, gid: 0 }, true],
    [{ uid: 0, gid: 0 }, true],
  ];
  for (const [requested, lease] of cases) {
    assert.equal(needsLease(requested, true), lease, JSON.stringify(requested));
    assert.equal(needsLease(requested, false), false, JSON.stringify(requested));
  }
});

Deno.test("no jail is ever host uid or gid 0: --uid 0 maps to the leased id", () => {
  for (const uid of [undefined, 0, 1000]) {
    for (const gid of [undefined, 0, 1000]) {
      const host = jailHostIds({ uid, gid }, true, 70000);
      assert.ok(host && host.uid !== 0 && host.gid !== 0);
      assert.equal(host.uid, uid === 1000 ? 1000 : 70000);
      assert.equal(host.gid, gid === 1000 ? 1000 : 70000);
      // ww not root: bwrap maps the jail's ids to ww's own, and nothing is leased.
      assert.equal(jailHostIds({ uid, gid }, false, undefined), undefined);
    }
  }
  assert.throws(() => jailHostIds({ uid: 0 }, true, undefined), /no host id was leased/);
});

Deno.test("the jail's host user: the stage's switch when it makes one, else ww's own ids and groups", () => {
  const own = { uid: 1000, gid: 1000, groups: [27, 1000] };
  // No switch (ww not root): the jail keeps ww's ids and every supplementary group, and no flag
  // chose them.
  assert.deepEqual(jailHostUser(undefined, () => own), { ...own, chosen: false });
  // A switch that clears the groups (a root ww's bwrap or native jail) keeps none of ww's.
  assert.deepEqual(
    jailHostUser({ uid: 70000, gid: 70001, clearGroups: true }, () => {
      throw new Error("ww's own ids are not read when the jail clears its groups");
    }),
    {
      uid: 70000,
      gid: 70001,
      groups: [],
      chosen: true,
    },
  );
  // One that cannot clear them (no CAP_SETGID) leaves ww's.
  assert.deepEqual(jailHostUser({ uid: 1000, gid: 1000, clearGroups: false }, () => own), {
    ...own,
    chosen: true,
  });
});

Deno.test("an explicit --uid or --gid inside the lease range is refused, naming the range", () => {
  const range = { first: 70000, last: 70009 };
  for (let id = 69990; id <= 70020; id++) {
    const inside = id >= 70000 && id <= 70009;
    const uid = explicitIdProblem({ uid: id }, range);
    const gid = explicitIdProblem({ gid: id, uid: 1000 }, range);
    assert.equal(uid !== undefined, inside, String(id));
    assert.equal(gid !== undefined, inside, String(id));
    if (uid) assert.match(uid, new RegExp(`^--uid ${id}: ww leases 70000-70009 to jails`));
    if (gid) assert.match(gid, new RegExp(`^--gid ${id}: `));
  }
  // 0 is mapped, not a host id; no flags, no problem.
  assert.equal(explicitIdProblem({ uid: 0, gid: 0 }, { first: 0, last: 5 }), undefined);
  assert.equal(explicitIdProblem({}, range), undefined);
});

Deno.test("a user namespace's maps: parsed, and the ids they leave out found", () => {
  const full = parseIdMap("         0          0 4294967295\n");
  assert.deepEqual(full, [{ first: 0, last: 4294967294 }]);
  assert.deepEqual(unmappedIds([full, full]), []);
  const small = parseIdMap("0 100000 65536\n");
  assert.deepEqual(unmappedIds([small, small]), [{ first: 65536, last: 4294967294 }]);
  // An id must be mapped as a uid and as a gid.
  const gids = parseIdMap("0 0 1000\n2000 2000 10\n");
  assert.deepEqual(unmappedIds([small, gids]), [
    { first: 1000, last: 1999 },
    { first: 2010, last: 4294967294 },
  ]);
});

Deno.test("the lease range is what the user namespace maps of it, or systemd's small unused block", () => {
  const full = [{ first: 0, last: 4294967294 }];
  const small = [{ first: 0, last: 65535 }];
  const configured = { range: DEFAULT_JAIL_IDS, fromEnv: false };
  assert.deepEqual(leaseRange(configured, [full, full]), DEFAULT_JAIL_IDS);
  assert.deepEqual(leaseRange(configured, [small, small]), SMALL_JAIL_IDS);
  // Part of the range mapped: that part is what the lease can take (unmapped ids are excluded).
  const part = [{ first: 0, last: 70010 }];
  assert.deepEqual(leaseRange(configured, [part, part]), DEFAULT_JAIL_IDS);
  const tiny = [{ first: 0, last: 999 }];
  const none = leaseRange(configured, [tiny, tiny]);
  assert.ok("error" in none && /no id of it exists in this user namespace/.test(none.error));
  assert.ok(
    "error" in none && none.error.endsWith("set WW_JAIL_IDS=FIRST-LAST to unused ids inside it"),
  );
  // Root alone mapped (unshare -r): no range could be set, since root is none a jail takes.
  const root = [{ first: 0, last: 0 }];
  const rootOnly = leaseRange(configured, [root, root]);
  assert.ok("error" in rootOnly);
  assert.match(
    rootOnly.error,
    /\(it maps 0-0\); it has no id but root, which no jail runs as: run ww in a namespace that maps more ids \(unshare --map-auto, or newuidmap\), or with --jail=none$/,
  );
  // An explicit range is never replaced.
  const env = leaseRange({ range: DEFAULT_JAIL_IDS, fromEnv: true }, [small, small]);
  assert.ok("error" in env && env.error.startsWith("WW_JAIL_IDS=70000-79999: "));
  assert.ok(!("error" in env) || !env.error.includes("\n"));
});
