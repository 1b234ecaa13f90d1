// `ww doctor`'s report from machine facts.
import assert from "node:assert/strict";
import {
  DOCTOR_WIDTH,
  doctorReport,
  type MachineFacts,
  unwrapDoctorLines,
  wrapDoctorLines,
} from "./doctor.ts";

const GOOD: MachineFacts = {
  kernel: "6.18.0",
  identity: { uid: 1000, euid: 1000, gid: 1000, egid: 1000, capEffective: 0n, capPermitted: 0n },
  namespaces: { bwrapPath: "/usr/bin/bwrap", maxUserNamespaces: 1000, capSysAdmin: false },
  bwrapTry: { ok: true, detail: "" },
  landlock: { abi: 6 },
  seccomp: { filters: true, arch: "x86_64", mode: 0 },
  cgroup: { mount: "/sys/fs/cgroup", own: "/user.slice", delegated: false, controllers: ["cpu"] },
  jailIds: { range: { first: 70000, last: 79999 }, fromEnv: false },
  workTmpdir: { dir: "/tmp" },
};

Deno.test("a machine with working bubblewrap and Landlock 6 can jail with either backend", () => {
  const r = doctorReport(GOOD);
  assert.equal(r.jailPossible, true);
  assert.equal(r.lines.at(-1), "verdict: a jail is possible (bwrap, native)");
  assert.ok(r.lines.includes("landlock: ABI 6"));
});

Deno.test("Ubuntu 24.04: AppArmor blocks bwrap, Landlock 4 lacks scoping: no complete jail", () => {
  const r = doctorReport({
    ...GOOD,
    namespaces: { ...GOOD.namespaces, apparmorRestrictsUserns: 1 },
    bwrapTry: { ok: false, detail: "bwrap: setting up uid map: Permission denied" },
    landlock: { abi: 4 },
  });
  assert.ok(r.lines.includes(
    "  auto picks: native (auto: AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1))",
  ));
  assert.equal(r.jailPossible, false);
  assert.ok(r.lines.includes("  bwrap: NOT usable: bwrap: setting up uid map: Permission denied"));
  assert.ok(r.lines.includes("    not enforced here: landlock-scope"));
  assert.match(r.lines.at(-1)!, /^verdict: no complete jail/);
});

Deno.test("a kernel without Landlock says why: not built in, or not enabled at boot", () => {
  const lines = (errno: string) => doctorReport({ ...GOOD, landlock: { abi: 0, errno } }).lines;
  assert.ok(lines("ENOSYS").some((l) => l.includes("not built into this kernel")));
  assert.ok(lines("EOPNOTSUPP").some((l) => l.includes("add landlock to the lsm= boot parameter")));
});

Deno.test("where the sysctls allow bwrap but the real try failed, auto picks native, as runs do", () => {
  // Before, doctor said auto picks bwrap "but bwrap failed the real test, so runs will fail".
  const r = doctorReport({ ...GOOD, bwrapTry: { ok: false, detail: "bwrap: No permissions" } });
  assert.ok(r.lines.includes(
    "  auto picks: native (auto: bubblewrap cannot create the jail's namespaces here (bwrap: No permissions))",
  ));
  assert.equal(r.jailPossible, true);
  assert.equal(r.lines.at(-1), "verdict: a jail is possible (native)");
});

Deno.test("root is told each jail runs as a leased uid of its own, and from which range", () => {
  const root = { ...GOOD.identity, uid: 0, euid: 0, capEffective: 1n, capPermitted: 1n };
  const r = doctorReport({ ...GOOD, identity: root });
  assert.ok(r.lines.some((l) => l.includes("runs programs as a leased uid (below) without")));
  assert.ok(r.lines.includes(
    "jail ids: each jail leases a host uid and gid of its own from 70000-79999 (the default; WW_JAIL_IDS=FIRST-LAST overrides it), held until the jail ends",
  ));
  const env = doctorReport({
    ...GOOD,
    identity: root,
    jailIds: { range: { first: 200000, last: 200099 }, fromEnv: true },
  });
  assert.ok(env.lines.some((l) => l.includes("from 200000-200099 (WW_JAIL_IDS)")));
  const bad = doctorReport({ ...GOOD, jailIds: { error: "WW_JAIL_IDS=x: not a range" } });
  assert.ok(bad.lines.includes("jail ids: WW_JAIL_IDS=x: not a range"));
  // Not root: the range is named, and that jails keep ww's ids.
  assert.ok(
    doctorReport(GOOD).lines.some((l) =>
      l.startsWith("jail ids: when ww runs as root, ") && l.endsWith("jails run as ww's own ids")
    ),
  );
});

// As root every jail runs as a leased id: with no range to lease from, neither backend runs (not
// even with --uid and --gid, which are checked against the range), and a bwrap try that had no id
// to run as was not made.
Deno.test("root with no jail ids: neither backend is usable, and bwrap was not tried", () => {
  const root = { ...GOOD.identity, uid: 0, euid: 0, capEffective: 1n, capPermitted: 1n };
  const error = "WW_JAIL_IDS=x: not a range";
  const r = doctorReport({
    ...GOOD,
    identity: root,
    bwrapTry: { notTried: error },
    jailIds: { error },
  });
  assert.equal(r.jailPossible, false);
  assert.ok(r.lines.includes(`  creates the jail's namespaces: not tried (${error})`));
  assert.ok(r.lines.includes(`  bwrap: NOT usable: ${error}`));
  assert.ok(r.lines.includes(`  native: NOT usable: ${error}`));
  assert.ok(!r.lines.some((l) => l.startsWith("  auto picks")));
  assert.equal(
    r.lines.at(-1),
    `verdict: no jail runs here as root, even with --uid and --gid, until the jails' ids are fixed: ${error}`,
  );
  // Not root, the ids are not leased: the range's problem stops no jail.
  const user = doctorReport({ ...GOOD, jailIds: { error } });
  assert.equal(user.jailPossible, true);
  // A try not made for want of a free id (every one leased now): bwrap is not usable now.
  const busy = doctorReport({ ...GOOD, identity: root, bwrapTry: { notTried: "no free id" } });
  assert.ok(busy.lines.includes("  bwrap: NOT usable: no free id"));
  assert.equal(busy.lines.at(-1), "verdict: a jail is possible (native)");
});

// A TMPDIR no run can use (relative, missing) stops every run with exit 125: doctor said "a jail
// is possible", exit 0.
Deno.test("a TMPDIR no run can use: doctor names it, and no jail is possible", () => {
  const error =
    "TMPDIR=/nowhere: no such directory (create it, or set TMPDIR to an existing absolute directory)";
  const r = doctorReport({ ...GOOD, workTmpdir: { error } });
  assert.equal(r.jailPossible, false);
  assert.ok(r.lines.includes(`work directories: ${error}`));
  assert.equal(r.lines.at(-1), `verdict: no run starts with this TMPDIR: ${error}`);
  assert.ok(doctorReport(GOOD).lines.includes("work directories: in /tmp (TMPDIR)"));
});

Deno.test("doctor says which backend bounds the jail's in-memory file systems (--tmp-size)", () => {
  const { lines } = doctorReport(GOOD);
  assert.ok(lines.some((l) => /\/tmp, \/dev\/shm and the work directory each bounded/.test(l)));
  assert.ok(lines.includes("    work directory: on the host's TMPDIR, NOT bounded by --tmp-size"));
});

Deno.test("doctor says which limits hold per process, which per uid, and that none holds per jail", () => {
  const r = doctorReport(GOOD);
  const at = r.lines.indexOf("limits (bwrap and native; --jail=none sets none):");
  assert.ok(at > 0);
  assert.match(
    r.lines[at + 1],
    /^ {2}per process: --memory \(RLIMIT_DATA\), --cpu \(RLIMIT_CPU\), --nofile \(RLIMIT_NOFILE\)/,
  );
  assert.match(r.lines[at + 2], /^ {2}per uid: --nproc \(RLIMIT_NPROC\) counts every process/);
  assert.match(
    r.lines[at + 3],
    /^ {2}per jail: none: .*cgroup v2 with delegated controllers, which ww does not use$/,
  );
});

// A native jail that fails for real (a step a filter on ww refuses) is not usable, whatever the
// facts alone say, and the verdict says why when bubblewrap cannot either.
Deno.test("a native try that failed makes native NOT usable, with its line", () => {
  const detail = "--jail=native: the jail's own network namespace cannot be made here";
  const r = doctorReport({ ...GOOD, nativeTry: { ok: false, detail } });
  assert.ok(
    r.lines.includes(`  native: NOT usable: ${detail} (tried: a native jail of /bin/true)`),
  );
  assert.equal(r.jailPossible, true, "bwrap is still usable here");
  const without = doctorReport({
    ...GOOD,
    bwrapTry: { ok: false, detail: "bwrap: no" },
    nativeTry: { ok: false, detail },
  });
  assert.equal(without.jailPossible, false);
  assert.equal(
    without.lines.at(-1),
    `verdict: no jail runs here: bubblewrap cannot, and the native jail fails (${detail})`,
  );
  assert.ok(doctorReport({ ...GOOD, nativeTry: { ok: true } }).lines.includes("  native: usable"));
});

Deno.test("bwrap's NOT usable line is followed by its fix: what to install, which sysctl to set", () => {
  const fixOf = (f: Partial<MachineFacts>) =>
    doctorReport({ ...GOOD, ...f }).lines.find((l) => l.startsWith("    fix: "));
  const ns = GOOD.namespaces;
  const tried = (detail: string) => ({ bwrapTry: { ok: false, detail } });
  const then = "; then `ww doctor` tries bwrap again";
  assert.equal(fixOf(GOOD), undefined);
  assert.equal(
    fixOf({ namespaces: { ...ns, bwrapPath: undefined }, bwrapTry: undefined }),
    `    fix: install bubblewrap (apt-get install bubblewrap, or dnf install bubblewrap)${then}`,
  );
  assert.equal(
    fixOf({ namespaces: { ...ns, maxUserNamespaces: 0 }, ...tried("bwrap: No space left") }),
    `    fix: allow them: sysctl -w user.max_user_namespaces=15000 (as root; and the same line in /etc/sysctl.d/ to keep it)${then}`,
  );
  assert.equal(
    fixOf({ namespaces: { ...ns, unprivilegedUsernsClone: 0 }, ...tried("bwrap: No permissions") }),
    `    fix: allow them: sysctl -w kernel.unprivileged_userns_clone=1 (as root; and the same line in /etc/sysctl.d/ to keep it)${then}`,
  );
  // The sysctl, not the try's words, on Ubuntu 24.04.
  assert.match(
    fixOf({
      namespaces: { ...ns, apparmorRestrictsUserns: 1 },
      ...tried("bwrap: setting up uid map: Permission denied"),
    })!,
    /^ {4}fix: give bwrap an AppArmor profile that allows them \(a profile for \/usr\/bin\/bwrap with the rule "userns,"\), or lift the restriction: sysctl -w kernel\.apparmor_restrict_unprivileged_userns=0 /,
  );
  // Where the sysctls allow it, what the try said.
  assert.match(
    fixOf(tried("bwrap: Creating new namespace failed: No space left on device"))!,
    /^ {4}fix: user\.max_user_namespaces is used up: end processes that hold user namespaces, or raise it: sysctl -w user\.max_user_namespaces=<more> /,
  );
  assert.match(
    fixOf(tried("bwrap: Creating new namespace failed: Operation not permitted"))!,
    /^ {4}fix: something the sysctls do not show refuses user namespaces to ww \(a container's seccomp profile, an LSM such as SELinux or AppArmor\).*--jail=native; then `ww doctor` tries bwrap again$/,
  );
  assert.match(fixOf(tried("bwrap: odd"))!, /^ {4}fix: bwrap's words say what failed; until/);
  // The ids' line and a try not made name their own fix.
  const root = { ...GOOD.identity, uid: 0, euid: 0 };
  assert.equal(fixOf({ identity: root, jailIds: { error: "no ids" }, ...tried("x") }), undefined);
  assert.equal(fixOf({ bwrapTry: { notTried: "no free id" } }), undefined);
});

// Lines up to 199 columns (native's "enforces ..." as root) ran past any terminal.
Deno.test("the printed report is at most 100 columns wide, and unwrapping it gives every line back", () => {
  const root = { uid: 0, euid: 0, gid: 0, egid: 0, capEffective: ~0n, capPermitted: ~0n };
  const reports = [
    doctorReport(GOOD).lines,
    doctorReport({ ...GOOD, identity: root }).lines,
    doctorReport({ ...GOOD, landlock: { abi: 0, errno: "EOPNOTSUPP" }, bwrapTry: undefined })
      .lines,
    doctorReport({ ...GOOD, jailIds: { error: `WW_JAIL_IDS=x: ${"not a range ".repeat(20)}` } })
      .lines,
    // A word wider than a line (a long path) is split, not left to overflow.
    [`work directories: ${"/very-long-directory-name".repeat(8)}`],
  ];
  for (const lines of reports) {
    const printed = wrapDoctorLines(lines);
    const wide = printed.filter((l) => l.length > DOCTOR_WIDTH);
    assert.deepEqual(wide, [], "lines wider than 100 columns");
    if (lines.every((l) => l.split(" ").every((w) => w.length < DOCTOR_WIDTH / 2))) {
      assert.deepEqual(unwrapDoctorLines(printed), lines);
    }
  }
  assert.deepEqual(wrapDoctorLines(["  per uid: one two three four five six"], 30), [
    "  per uid: one two three four",
    "           five six",
  ]);
  assert.deepEqual(wrapDoctorLines(["    enforces aaa bbb ccc ddd eee fff"], 30), [
    "    enforces aaa bbb ccc ddd",
    "             eee fff",
  ]);
});
