// bench/bwrap_profile_test.ts — the bwrap goal's peer: ww's own bwrap arguments, less ww's way of
// starting the program, and it runs.

import assert from "node:assert/strict";
import { bwrapPeerCommand, peerOf } from "./bwrap_profile.ts";

Deno.test("peerOf keeps bwrap's profile and drops ww's stage, seccomp descriptor, status pipe and pid 1", () => {
  const ww = [
    "/usr/bin/bwrap",
    "--ro-bind",
    "/usr",
    "/usr",
    "--perms",
    "0700",
    "--dir",
    "/tmp/ww-1",
    "--perms",
    "0555",
    "--ro-bind-data",
    "7",
    "/.ww-stage",
    "--perms",
    "0555",
    "--ro-bind-data",
    "8",
    "/bin/prog",
    "--unshare-net",
    "--as-pid-1",
    "--seccomp",
    "4",
    "--json-status-fd",
    "5",
    "--",
    "/.ww-stage",
    "exec",
    "--",
    "x",
  ];
  assert.deepEqual(peerOf(ww), [
    "/usr/bin/bwrap",
    "--ro-bind",
    "/usr",
    "/usr",
    "--perms",
    "0700",
    "--dir",
    "/tmp/ww-1",
    // A held program's copy is the profile's: only the stage's goes.
    "--perms",
    "0555",
    "--ro-bind-data",
    "8",
    "/bin/prog",
    "--unshare-net",
    "--",
    "/usr/bin/env",
    "-u",
    "PWD",
    "--",
    "/bin/true",
  ]);
  assert.throws(() => peerOf(["/usr/bin/bwrap", "--unshare-net"]), /no "--"/);
});

Deno.test("the peer of ww's default bwrap profile runs /bin/true under bwrap, with every mount ww makes", async () => {
  const argv = bwrapPeerCommand();
  for (const mount of ["/etc/ld.so.cache", "/dev/shm", "/proc/sys"]) {
    assert.ok(argv.includes(mount), `${mount} in ${argv.join(" ")}`);
  }
  assert.ok(!argv.includes("/.ww-stage") && !argv.includes("--seccomp"), argv.join(" "));
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
});
