// What the default jail lets through when the caller grants it, checked by the same hostile
// program that fails to escape in escape_test.ts: a --with-fd descriptor can be read and written,
// --ro-bind shows a host directory read-only, --bind read-write, --net reaches 127.0.0.1.

import assert from "node:assert/strict";
import { join } from "node:path";
import { greeting, outcome, runHostile, setUpHost } from "./hostile.ts";
import { exists } from "../support/procs.ts";

const host = await setUpHost();
globalThis.addEventListener("unload", () => host.close());

const test = (name: string, fn: () => Promise<void>) =>
  // The host's listeners accept in the background, across tests.
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

test("--with-fd: the program reads and writes the granted descriptor, and has no other", async () => {
  const file = join(host.hostDir, "granted.txt");
  Deno.writeTextFileSync(file, "from the caller\n");
  const r = await runHostile({
    flags: ["--with-fd", "data=7"],
    probes: ["granted_fd", "list_fds"],
    params: { grantfd: "4", fds: "0,1,2,3,4" },
    before: `exec 7<>'${file}'`,
    tmpDir: host.tmpDir,
  });
  const granted = outcome(r, "granted_fd");
  assert.equal(granted.escaped, true, granted.detail);
  assert.match(granted.detail, /read fd 4: from the caller/);
  assert.equal(Deno.readTextFileSync(file), "from the caller\nwritten by hostile\n");
  const fds = outcome(r, "list_fds");
  assert.equal(fds.escaped, false, fds.detail);
  assert.match(fds.detail, /granted fd 4 -> .*granted\.txt/);
});

test("--ro-bind: the program reads the host directory but cannot write to it", async () => {
  const dir = Deno.makeTempDirSync({ dir: host.hostDir, prefix: "ro-" });
  Deno.chmodSync(dir, 0o755); // the jail runs as nobody (ww is root here)
  Deno.writeTextFileSync(join(dir, "shown.txt"), "shown read-only\n");
  const r = await runHostile({
    flags: ["--ro-bind", dir],
    probes: ["read_bound_file", "write_ro_bind"],
    params: { robindfile: join(dir, "shown.txt"), rodir: dir },
    tmpDir: host.tmpDir,
  });
  const read = outcome(r, "read_bound_file");
  assert.equal(read.escaped, true, read.detail);
  assert.match(read.detail, /shown read-only/);
  const write = outcome(r, "write_ro_bind");
  assert.equal(write.escaped, false, write.detail);
  assert.match(write.detail, /EROFS/);
  assert.equal(exists(join(dir, `ww-escape-${r.params.marker}`)), false);
});

test("--bind: the program writes to the host directory", async () => {
  const dir = Deno.makeTempDirSync({ dir: host.hostDir, prefix: "rw-" });
  Deno.chmodSync(dir, 0o777); // the jail runs as nobody (ww is root here)
  const r = await runHostile({
    flags: ["--bind", dir],
    probes: ["write_rw_bind"],
    params: { rwdir: dir },
    tmpDir: host.tmpDir,
  });
  const write = outcome(r, "write_rw_bind");
  assert.equal(write.escaped, true, write.detail);
  const written = join(dir, `ww-escape-${r.params.marker}`);
  assert.equal(Deno.readTextFileSync(written), "written by hostile\n");
});

// Were the jail's uid host uid 0 (a user namespace made by root), files it makes would belong to
// host root, and a setuid bit on one would be a root shell for whoever on the host can reach the
// bound directory. ww runs bwrap as the jail's leased uid when it is root, so the file is that uid's.
test("--bind: the program cannot leave a setuid-root file in the host directory", async () => {
  const dir = Deno.makeTempDirSync({ dir: host.hostDir, prefix: "suid-" });
  Deno.chmodSync(dir, 0o777);
  const r = await runHostile({
    flags: ["--bind", dir],
    probes: ["plant_setuid"],
    params: { rwdir: dir },
    tmpDir: host.tmpDir,
  });
  const o = outcome(r, "plant_setuid");
  const planted = Deno.statSync(join(dir, `ww-suid-${r.params.marker}`));
  const setuidRoot = planted.uid === 0 && (planted.mode! & 0o4000) !== 0;
  // Judged from the host: inside, the probe sees only the nearest of bwrap's nested user
  // namespaces, whose "uid 0" is itself the jail's host uid, leased from 70000-79999.
  assert.equal(setuidRoot, false, `a setuid-root file is on the host: ${o.detail}`);
  assert.ok(planted.uid! >= 70000 && planted.uid! <= 79999, `${planted.uid}: ${o.detail}`);
});

test("--jail=none control: root leaves a setuid-root file, and the probe says so", async () => {
  const dir = Deno.makeTempDirSync({ dir: host.hostDir, prefix: "suid-" });
  const r = await runHostile({
    jail: "none",
    probes: ["plant_setuid"],
    params: { rwdir: dir },
    tmpDir: host.tmpDir,
  });
  const o = outcome(r, "plant_setuid");
  const planted = Deno.statSync(join(dir, `ww-suid-${r.params.marker}`));
  assert.equal(planted.uid, 0);
  assert.equal(planted.mode! & 0o4000, 0o4000);
  assert.equal(o.escaped, true, o.detail);
});

test("--net: the program connects to the host's 127.0.0.1 listener", async () => {
  const r = await runHostile({
    flags: ["--net"],
    probes: ["tcp_connect"],
    params: host.params,
    tmpDir: host.tmpDir,
  });
  const o = outcome(r, "tcp_connect");
  assert.equal(o.escaped, true, o.detail);
  assert.match(o.detail, new RegExp(greeting("tcp")));
});

// Abstract unix sockets belong to the network namespace, so sharing it shares them: a documented
// property of --net, not of the default jail (escape_test.ts shows the default blocks them).
test("--net also reaches the host's abstract unix sockets", async () => {
  const r = await runHostile({
    flags: ["--net"],
    probes: ["abstract_connect"],
    params: host.params,
    tmpDir: host.tmpDir,
  });
  const o = outcome(r, "abstract_connect");
  assert.equal(o.escaped, true, o.detail);
  assert.match(o.detail, new RegExp(greeting("abstract")));
});
