// --jail=auto in a container where user namespaces cannot be created. Simulated as the issue
// does: a user namespace (root inside, host ids 0-65535 mapped, as a container has) whose
// user.max_user_namespaces is too small for bwrap, which needs two (its own and the nested one
// --disable-userns makes), counted per uid (bwrap runs as the jail's leased uid). The sysctls
// there look fine to the cheap check; only a real try tells.
// Needs root (it writes the namespace's uid_map from outside).

import { unwrapDoctorLines } from "../../jail/doctor.ts";
import assert from "node:assert/strict";
import { outputOf, wwCommand } from "../support/ww.ts";

if (Deno.uid() !== 0) {
  throw new Error("tests/jail/container_test.ts must run as root (it builds a user namespace)");
}

/**
 * Runs `script` (sh) in a fresh simulated container whose user.max_user_namespaces is `maxNs`,
 * with $WW the ww command and a private $XDG_CACHE_HOME. The outer bash maps the ids once
 * the inner shell has unshared; the inner one then execs a shell that has root's capabilities
 * in the namespace (the first exec ran before the map existed, as an unmapped user).
 */
async function inContainer(maxNs: number, script: string) {
  const cache = Deno.makeTempDirSync({ prefix: "wwtest-cache-" });
  const outer = `
unshare --user sh -c 'while [ -z "$(cat /proc/self/uid_map)" ]; do sleep 0.01; done
exec sh -c "echo ${maxNs} > /proc/sys/user/max_user_namespaces && exec sh -c \\"\\$1\\"" inner "$1"' ctr "$1" &
pid=$!
for _ in $(seq 100); do [ -e /proc/$pid/uid_map ] && break; sleep 0.01; done
sleep 0.05
echo "0 0 65536" > /proc/$pid/uid_map
echo "0 0 65536" > /proc/$pid/gid_map
wait $pid`;
  try {
    const r = await outputOf(["/bin/bash", "-c", outer, "outer", script], {
      ...Deno.env.toObject(),
      WW: wwCommand().join(" "),
      XDG_CACHE_HOME: cache,
    });
    let remembered: unknown;
    try {
      remembered = JSON.parse(Deno.readTextFileSync(`${cache}/ww/jail-auto.json`));
    } catch { /* none */ }
    return { ...r, remembered };
  } finally {
    Deno.removeSync(cache, { recursive: true });
  }
}

Deno.test("container without user namespaces: auto runs the native jail, and --explain and ww doctor say so", async () => {
  const r = await inContainer(
    1,
    `$WW run /bin/sh -c 'echo hi'; echo "rc=$?"
     before=$(stat -c %i "$XDG_CACHE_HOME/ww/jail-auto.json")
     $WW run --debug /bin/sh -c 'echo hi again'; echo "rc=$?"
     after=$(stat -c %i "$XDG_CACHE_HOME/ww/jail-auto.json")
     [ "$before" = "$after" ] && echo "remembered, not tried again"
     $WW run --explain /bin/true | grep '^jail:'
     $WW run --jail=bwrap /bin/true; echo "bwrap rc=$?"
     echo "-- doctor --"; $WW doctor`,
  );
  const out = r.stdout.split("\n");
  assert.equal(out[0], "hi", r.stderr);
  assert.equal(out[1], "rc=0");
  assert.equal(out[2], "hi again");
  assert.equal(out[3], "rc=0");
  assert.equal(out[4], "remembered, not tried again");
  const reason =
    /\(auto: bubblewrap cannot create the jail's namespaces here \(bwrap: .*(No space left on device|ENOSPC).*\)\)$/;
  assert.match(out[5], /^jail: native /);
  assert.match(out[5], reason);
  assert.equal(out[6], "bwrap rc=125", "an explicit --jail=bwrap is not replaced");
  // ww doctor's lines, as printed before it wrapped them at 100 columns.
  const doctor = unwrapDoctorLines(out.slice(out.indexOf("-- doctor --") + 1));
  const picks = doctor.find((l) => l.startsWith("  auto picks: ")) ?? r.stdout;
  assert.match(picks, /^ {2}auto picks: native /);
  assert.match(picks, reason);
  assert.doesNotMatch(r.stdout, /but bwrap failed the real test/);
  const err = r.stderr.split("\n").filter(Boolean);
  // The first run printed nothing of bwrap's: the try's stderr is ww's to read.
  assert.match(err[0], /^ww: jail: native \(auto: bubblewrap cannot create/);
  // bwrap's reason is in ww's one line (issue 16), no longer a line of its own above it.
  assert.match(
    err[1],
    /^ww: bubblewrap could not set up the jail \(--jail=bwrap\): bwrap: /,
    "the --jail=bwrap run says why",
  );
  assert.equal(err.length, 2, r.stderr);
  assert.deepEqual((r.remembered as { ok: boolean }).ok, false);
});

Deno.test("container: when namespaces run out after auto remembered bwrap, the run falls back to native before anything ran", async () => {
  // The container maps 65536 ids, so jails lease from 65520-65533 and the next run gets 65520.
  // Two user namespaces made as 65520 use up its max_user_namespaces (2); their processes end, and
  // the shell keeps the namespaces alive by descriptor, so 65520 is free to lease and cannot
  // unshare.
  const r = await inContainer(
    2,
    `$WW run --debug /bin/sh -c 'echo first'; echo "rc=$?"
     # The first run's namespaces are freed in the background: retry until both holders stand.
     hold() {
       for _ in $(seq 50); do
         setpriv --reuid=65520 --regid=65520 --clear-groups unshare --user sleep 60 2>/dev/null &
         h=$!
         sleep 0.1
         [ -e /proc/$h/ns/user ] && return 0
       done
       return 1
     }
     hold; a=$h
     hold; b=$h
     exec 7</proc/$a/ns/user 8</proc/$b/ns/user
     kill $a $b; wait $a $b 2>/dev/null
     $WW run --debug /bin/sh -c 'echo second'; echo "rc=$?"`,
  );
  assert.equal(r.stdout, "first\nrc=0\nsecond\nrc=0\n", r.stderr);
  const err = r.stderr.split("\n").filter(Boolean);
  assert.match(err[0], /^ww: jail: bwrap \(auto: bubblewrap .* can create user namespaces\)$/);
  // bwrap's own line goes to ww now (issue 16), which falls back without showing it.
  assert.match(err[1], /^ww: jail: native \(auto: bubblewrap cannot create the jail's namespaces/);
  assert.match(
    err[2],
    /^ww: warning: bubblewrap cannot create the jail's namespaces here .*; \/bin\/sh runs in the native jail instead \(--jail=auto remembers this; ww doctor tries bwrap again\)$/,
  );
  assert.equal(err.length, 3, r.stderr);
  assert.deepEqual((r.remembered as { ok: boolean }).ok, false);
});
