// `ww doctor` on this machine, and on the same machine made to look like one without user
// namespaces, without Landlock, or without both (tests/jail/deny.c).

import assert from "node:assert/strict";
import { type Denied, runUnder } from "./deny.ts";
import { NO_BWRAP_PATH } from "../support/hide_bwrap.ts";
import { unwrapDoctorLines } from "../../jail/doctor.ts";

async function doctor(
  denied?: Denied,
  env = {},
  hideBwrap = false,
) {
  const r = await runUnder(denied, ["doctor"], env, hideBwrap);
  const printed = r.stdout.trim().split("\n");
  // Lines of up to 199 columns ran past any terminal: every machine's report fits in 100.
  assert.deepEqual(printed.filter((l) => l.length > 100), [], "lines wider than 100 columns");
  // The assertions below read the report's lines whole, as they were before wrapping.
  const lines = unwrapDoctorLines(printed);
  return { ...r, stdout: `${lines.join("\n")}\n`, lines };
}

Deno.test("doctor here: bubblewrap works, Landlock and seccomp are there, auto picks bwrap, exit 0", async () => {
  const r = await doctor();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^kernel: \S+$/m);
  assert.match(r.stdout, /^bubblewrap: \/\S+bwrap$/m);
  assert.match(r.stdout, /^ {2}creates the jail's namespaces: yes/m);
  assert.match(r.stdout, /^landlock: ABI \d+$/m);
  assert.match(
    r.stdout,
    /^seccomp: filters yes; ww's filter for this architecture: (x86_64|aarch64)/m,
  );
  assert.match(r.stdout, /^cgroups: /m);
  assert.match(r.stdout, /^ {2}bwrap: usable$/m);
  assert.match(r.stdout, /^ {2}native: usable\n {4}enforces landlock-filesystem, /m);
  assert.match(
    r.stdout,
    /^ {2}auto picks: bwrap \(auto: bubblewrap .* can create user namespaces\)$/m,
  );
  assert.equal(r.lines.at(-1), "verdict: a jail is possible (bwrap, native)");
});

Deno.test("doctor without user namespaces: bwrap's own reason, native usable, exit 0", async () => {
  const r = await doctor("userns");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ {2}creates the jail's namespaces: no: bwrap: /m);
  assert.match(r.stdout, /^ {2}bwrap: NOT usable: bwrap: /m);
  assert.match(r.stdout, /^seccomp: .*ww itself already runs under a seccomp filter$/m);
  // Before, doctor said auto picks bwrap "but bwrap failed the real test, so runs will fail".
  assert.match(
    r.stdout,
    /^ {2}auto picks: native \(auto: bubblewrap cannot create the jail's namespaces here \(bwrap: .*\)\)$/m,
  );
  assert.equal(r.lines.at(-1), "verdict: a jail is possible (native)");
});

Deno.test("doctor without Landlock: says why, native only with --allow-weaker-jail, exit 0", async () => {
  const r = await doctor("landlock");
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^landlock: none \(not built into this kernel \(CONFIG_SECURITY_LANDLOCK\)\)$/m,
  );
  assert.match(
    r.stdout,
    /^ {2}native: usable only with --allow-weaker-jail\n {4}enforces seccomp, /m,
  );
  assert.match(
    r.stdout,
    /^ {4}not enforced here: landlock-filesystem, landlock-truncate, landlock-tcp, landlock-scope$/m,
  );
  assert.equal(r.lines.at(-1), "verdict: a jail is possible (bwrap)");
});

Deno.test("doctor with neither: no complete jail, exit 1", async () => {
  const r = await doctor("landlock,userns");
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.lines.at(-1)!, /^verdict: no complete jail on this machine: /);
});

Deno.test("doctor with bwrap missing from PATH: auto picks native, which is usable, exit 0", async () => {
  const r = await doctor(undefined, { PATH: NO_BWRAP_PATH }, true);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^bubblewrap: not in PATH \(apt-get install bubblewrap\)$/m);
  assert.match(r.stdout, /^ {2}bwrap: NOT usable: bwrap is not in PATH$/m);
  assert.match(r.stdout, /^ {2}auto picks: native \(auto: bwrap is not in PATH\)$/m);
  assert.equal(r.lines.at(-1), "verdict: a jail is possible (native)");
});

// A doctor run whose bwrap try had no id to run as (WW_JAIL_IDS malformed, or every id leased at
// that moment) remembered "bubblewrap cannot create the jail's namespaces" for --jail=auto, and
// every later auto run went native; and it said "a jail is possible (native)", exit 0, where
// every run failed on the ids.
Deno.test("doctor with a malformed WW_JAIL_IDS: no jail, not even with --uid/--gid, exit 1, and auto is not told bwrap fails", async () => {
  const cache = Deno.makeTempDirSync({ prefix: "wwtest-doctor-cache-" });
  try {
    const env = { XDG_CACHE_HOME: cache };
    const r = await doctor(undefined, { ...env, WW_JAIL_IDS: "abc" });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^ {2}creates the jail's namespaces: not tried \(WW_JAIL_IDS=abc: /m);
    assert.match(r.stdout, /^ {2}bwrap: NOT usable: WW_JAIL_IDS=abc: /m);
    assert.match(r.stdout, /^ {2}native: NOT usable: WW_JAIL_IDS=abc: /m);
    assert.match(
      r.lines.at(-1)!,
      /^verdict: no jail runs here as root, even with --uid and --gid, until the jails' ids are fixed: WW_JAIL_IDS=abc: /,
    );
    // (Deno keeps its own cache there too.)
    assert.throws(() => Deno.statSync(`${cache}/ww/jail-auto.json`), Deno.errors.NotFound);
    const explained = await runUnder(undefined, ["run", "--explain", "/bin/true"], env);
    assert.equal(explained.code, 0, explained.stderr);
    assert.match(explained.stdout, /^jail: bwrap /m);
    // As the verdict says: explicit ids are checked against the range too.
    const explicit = ["--jail=native", "--uid", "1000", "--gid", "1000", "/bin/true"];
    const withIds = await runUnder(undefined, ["run", ...explicit], { ...env, WW_JAIL_IDS: "abc" });
    assert.equal(withIds.code, 125, withIds.stderr);
    assert.match(withIds.stderr, /^ww: WW_JAIL_IDS=abc: /);
  } finally {
    Deno.removeSync(cache, { recursive: true });
  }
});

Deno.test("doctor with a TMPDIR no run can use: names it, exit 1", async () => {
  for (const tmpdir of ["relative", "/nonexistent-wwtest"]) {
    const r = await doctor(undefined, { TMPDIR: tmpdir });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, new RegExp(`^work directories: TMPDIR=${tmpdir}: `, "m"));
    assert.match(
      r.lines.at(-1)!,
      new RegExp(`^verdict: no run starts with this TMPDIR: TMPDIR=${tmpdir}: `),
    );
  }
});

// As root with CAP_SYS_ADMIN but under a filter that refuses network namespaces (systemd's
// RestrictNamespaces=net), the native jail, which makes one for a program without --net, failed
// at its network step in words that only said to try another --jail, and ww doctor called it
// usable. The doctor now tries a native jail, and the run says what to do.
Deno.test({
  name:
    "a filter that refuses network namespaces: doctor says native fails, and the run names --net",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const cache = Deno.makeTempDirSync({ prefix: "wwtest-doctor-cache-" });
    try {
      const env = { XDG_CACHE_HOME: cache };
      const why =
        "the jail's own network namespace cannot be made here (EPERM: a filter on ww refuses it, as systemd's RestrictNamespaces= does, or a security module)";
      const r = await doctor("netns", env);
      assert.match(
        r.stdout,
        new RegExp(
          `^ {2}native: NOT usable: --jail=native: ${
            escape(why)
          }; give the program the host's network with --net`,
          "m",
        ),
      );
      const run = await runUnder("netns", ["run", "--jail=native", "/bin/true"], env);
      assert.equal(run.code, 125, run.stderr);
      assert.equal(
        run.stderr,
        `ww: --jail=native: ${why}; give the program the host's network with --net, or run ww without that filter\n`,
      );
      const shared = await runUnder("netns", ["run", "--jail=native", "--net", "/bin/true"], env);
      assert.equal(shared.code, 0, shared.stderr);
    } finally {
      Deno.removeSync(cache, { recursive: true });
    }
  },
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
