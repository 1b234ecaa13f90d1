// What opening the grants ww opens itself needs: failures' words, socket address text, paths,
// overlapping bindings, a taken unix path's next step, both ends of one FIFO.
import assert from "node:assert/strict";
import {
  bindsOverlap,
  formatInetAddress,
  grantFailure,
  grantPath,
  holdsBothEnds,
  makesPath,
  takenUnixPathStep,
} from "./grant_open.ts";
import { OPEN_MODES, type OpenMode } from "./grants.ts";

Deno.test("socket addresses print as HOST:PORT and [IPV6]:PORT", () => {
  assert.equal(formatInetAddress(2, 80, new Uint8Array([127, 0, 0, 1])), "127.0.0.1:80");
  const v6 = (...bytes: number[]) => {
    const a = new Uint8Array(16);
    a.set(bytes, 16 - bytes.length);
    return a;
  };
  assert.equal(formatInetAddress(10, 1, v6(1)), "[::1]:1");
  assert.equal(formatInetAddress(10, 1, v6()), "[::]:1");
  const full = new Uint8Array([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
  assert.equal(formatInetAddress(10, 443, full), "[2001:db8::1:0:0:1]:443");
  // These were "[::ffff:7f00:1]:80" and "[fe80::1]:80", which no client could use.
  assert.equal(formatInetAddress(10, 80, v6(0xff, 0xff, 127, 0, 0, 1)), "[::ffff:127.0.0.1]:80");
  const linkLocal = new Uint8Array([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(formatInetAddress(10, 80, linkLocal, "eth0"), "[fe80::1%eth0]:80");
});

Deno.test("failures are worded per grant kind and name the grant", () => {
  const tcp = { name: "h", listen: "tcp:127.0.0.1:80" };
  const unix = { name: "u", listen: "unix:/run/a.sock" };
  const conn = { name: "c", connect: "tcp:db:5432" };
  const read = { name: "r", open: "/x" };
  const write = { name: "w", open: "/x", mode: "w" as const };
  assert.match(grantFailure(tcp, "EADDRINUSE"), /^--listen h=tcp:127\.0\.0\.1:80: address in use/);
  assert.match(
    grantFailure(unix, "EADDRINUSE"),
    /^--listen u=unix:\/run\/a\.sock: the path already exists/,
  );
  assert.equal(
    grantFailure(unix, "in use"),
    "--listen u=unix:/run/a.sock: in use: something listens on this socket (stop it, or pick another path)",
  );
  assert.match(grantFailure(tcp, "EACCES"), /no permission to bind this address \(EACCES\)/);
  assert.match(grantFailure(tcp, "EACCES"), /ports below 1024/);
  // A unix path has no port: its directory is what refuses.
  assert.equal(
    grantFailure(unix, "EACCES"),
    "--listen u=unix:/run/a.sock: no permission to bind this address (EACCES) (the socket's directory must be writable by you; pick another path)",
  );
  assert.match(
    grantFailure(unix, "unlockable"),
    /: a socket is there, and ww cannot read its directory/,
  );
  assert.match(grantFailure(unix, "foreign"), /: another user's socket is there, which ww may not/);
  assert.match(grantFailure(read, "EACCES"), /^--open r=\/x: permission denied \(EACCES\)/);
  assert.match(grantFailure(conn, "ETIMEDOUT"), /^--connect c=tcp:db:5432: connection timed out/);
  assert.match(grantFailure(conn, "ECONNREFUSED"), /connection refused/);
  assert.match(grantFailure(conn, "unknown host"), /: unknown host/);
  assert.match(grantFailure(conn, "ENOTSOCK"), /: not a socket: a file of another kind is there/);
  assert.match(grantFailure(read, "ENOENT"), /: no such file \(check the path\)$/);
  // A mistyped mode is part of the path (parseOpenSpec): the line says so.
  assert.equal(
    grantFailure({ name: "o", open: "/tmp/out:wx" }, "ENOENT"),
    "--open o=/tmp/out:wx: no such file (check the path); ':wx' is not a mode (r, w, a or rw)",
  );
  // Upper case too; but ":r" alone names a file ":r", with no path before a mode to blame.
  assert.match(grantFailure({ name: "o", open: "/tmp/out:R" }, "ENOENT"), /; ':R' is not a mode/);
  assert.equal(
    grantFailure({ name: "g", open: ":r" }, "ENOENT"),
    "--open g=:r: no such file (check the path)",
  );
  assert.match(
    grantFailure(write, "ENOENT"),
    /^--open w=\/x:w: the parent directory does not exist/,
  );
  assert.match(grantFailure(unix, "ENOENT"), /the parent directory does not exist/);
  // The kernel's ENOENT where the parent directory exists: these said "does not exist".
  assert.equal(
    grantFailure({ name: "s", listen: "unix:/tmp/d/x.sock/" }, "trailing slash"),
    "--listen s=unix:/tmp/d/x.sock/: the path ends in '/', which makes its last name a directory's (drop the '/' to name a socket)",
  );
  assert.match(
    grantFailure({ name: "o", open: "/tmp/d/f/", mode: "w" }, "trailing slash"),
    /ends in '\/', .* \(drop the '\/' to name a file\)$/,
  );
  // The kernel's own reasons stay theirs where the '/' is not the cause (run/own_grants.ts).
  assert.match(grantFailure({ name: "o", open: "/tmp/d/" }, "EISDIR"), /: is a directory/);
  assert.match(
    grantFailure({ name: "o", open: "/tmp/d/", mode: "w" }, "ENOENT"),
    /parent directory/,
  );
  assert.equal(
    grantFailure({ name: "s", listen: "unix:/proc/1/x.sock" }, "ENOENT"),
    "--listen s=unix:/proc/1/x.sock: /proc holds only the kernel's own entries, and nothing can be made there (pick another path)",
  );
  assert.match(
    grantFailure({ name: "o", open: "/sys/x", mode: "a" }, "ENOENT"),
    /: \/sys holds only the kernel's own entries/,
  );
  // /dev/tty without a controlling terminal: this pointed at --connect, which cannot help.
  assert.equal(
    grantFailure({ name: "t", open: "/dev/tty" }, "ENXIO"),
    "--open t=/dev/tty: ww has no controlling terminal (ENXIO), which /dev/tty names (run ww from a terminal, or name the terminal's own path, as `tty` prints it)",
  );
  assert.match(grantFailure({ name: "t", open: "/dev/ttyS0" }, "ENXIO"), /--connect t=unix:/);
  // Read, a missing entry there is a missing file like any other.
  assert.match(grantFailure({ name: "o", open: "/proc/1/nope" }, "ENOENT"), /no such file \(check/);
  assert.match(grantFailure(read, "EISDIR"), /is a directory/);
  assert.match(grantFailure(read, "EMFILE"), /failed \(EMFILE\)/);
  // These were "failed (EPROTOTYPE)", "failed (EROFS)" and "failed (EINVAL)".
  assert.equal(
    grantFailure({ name: "d", connect: "unix:/run/dgram.sock" }, "EPROTOTYPE"),
    "--connect d=unix:/run/dgram.sock: the socket there is not a stream socket (EPROTOTYPE), and a connection is made only to one",
  );
  assert.equal(
    grantFailure(write, "EROFS"),
    "--open w=/x:w: the file system is read-only (EROFS)",
  );
  assert.equal(
    grantFailure({ name: "l", listen: "tcp:[fe80::1]:0" }, "EINVAL"),
    "--listen l=tcp:[fe80::1]:0: a link-local IPv6 address needs its interface, as [fe80::1%eth0] (EINVAL)",
  );
  assert.equal(
    grantFailure({ name: "l", listen: "tcp:[fe80::1%eth0]:0" }, "EINVAL"),
    "--listen l=tcp:[fe80::1%eth0]:0: failed (EINVAL)",
  );
});

Deno.test("a taken unix path: only a socket nobody listens on is removed; a live one is in use", () => {
  assert.equal(takenUnixPathStep("socket", "refused"), "unlink");
  assert.equal(takenUnixPathStep("socket", "accepted"), "in use");
  // Anything that is not a socket is never removed, whatever a connect would say.
  assert.equal(takenUnixPathStep("file"), "exists");
  assert.equal(takenUnixPathStep("file", "refused"), "exists");
  // Gone between the bind and the look: bound again (a new bind decides).
  assert.equal(takenUnixPathStep("missing"), "bind");
  assert.equal(takenUnixPathStep("socket", "missing"), "bind");
});

Deno.test("grantPath and makesPath: a grant's file system path, and whether it makes it", () => {
  const cases: [Parameters<typeof makesPath>[0], string | undefined, boolean][] = [
    [{ name: "s", listen: "unix:/run/a.sock" }, "/run/a.sock", true],
    [{ name: "h", listen: "tcp:127.0.0.1:0" }, undefined, true],
    [{ name: "c", connect: "unix:/run/a.sock" }, "/run/a.sock", false],
    [{ name: "i", open: "/etc/hostname" }, "/etc/hostname", false],
    [{ name: "i", open: "/etc/hostname", mode: "r" }, "/etc/hostname", false],
    [{ name: "o", open: "/tmp/x", mode: "w" }, "/tmp/x", true],
    [{ name: "o", open: "/tmp/x", mode: "a" }, "/tmp/x", true],
    [{ name: "o", open: "/tmp/x", mode: "rw" }, "/tmp/x", true],
  ];
  for (const [g, path, makes] of cases) {
    assert.equal(grantPath(g), path, JSON.stringify(g));
    assert.equal(makesPath(g), makes, JSON.stringify(g));
  }
});

Deno.test("bindsOverlap: one port, and the same address, a wildcard of its family, or IPv6's", () => {
  const v4 = (port: number, ...addr: number[]) => ({ family: 2, port, addr: new Uint8Array(addr) });
  const v6 = (port: number, last: number) => {
    const addr = new Uint8Array(16);
    addr[15] = last;
    return { family: 10, port, addr };
  };
  const cases: [ReturnType<typeof v4>, ReturnType<typeof v4>, boolean][] = [
    [v4(80, 127, 0, 0, 1), v4(80, 127, 0, 0, 1), true],
    [v4(80, 127, 0, 0, 1), v4(81, 127, 0, 0, 1), false],
    [v4(80, 127, 0, 0, 1), v4(80, 127, 0, 0, 2), false],
    [v4(80, 0, 0, 0, 0), v4(80, 127, 0, 0, 1), true],
    [v4(80, 127, 0, 0, 1), v4(80, 0, 0, 0, 0), true],
    [v6(80, 1), v6(80, 1), true],
    [v6(80, 0), v6(80, 1), true],
    [v6(80, 1), v6(80, 2), false],
    // [::] takes IPv4's port too; 0.0.0.0 does not take IPv6's, nor [::1] IPv4's.
    [v6(80, 0), v4(80, 127, 0, 0, 1), true],
    [v4(80, 127, 0, 0, 1), v6(80, 0), true],
    [v4(80, 0, 0, 0, 0), v6(80, 1), false],
    [v6(80, 1), v4(80, 127, 0, 0, 1), false],
  ];
  for (const [a, b, want] of cases) {
    assert.equal(bindsOverlap(a, b), want, `${JSON.stringify(a)} ${JSON.stringify(b)}`);
  }
});

Deno.test("holdsBothEnds: two grants of a FIFO, one that reads and another that writes, for every mix of up to four", () => {
  const reads = (m: OpenMode) => m === "r" || m === "rw";
  const writes = (m: OpenMode) => m !== "r";
  // Every list of up to four modes, in every order.
  let lists: OpenMode[][] = [[]];
  const all: OpenMode[][] = [[]];
  for (let n = 1; n <= 4; n++) {
    lists = lists.flatMap((l) => OPEN_MODES.map((m) => [...l, m]));
    all.push(...lists);
  }
  assert.equal(all.length, 1 + 4 + 16 + 64 + 256);
  for (const modes of all) {
    // The model: some grant reads and another grant (not the same one) writes.
    const model = modes.some((a, i) => reads(a) && modes.some((b, j) => j !== i && writes(b)));
    assert.equal(holdsBothEnds(modes), model, modes.join(","));
  }
  assert.equal(holdsBothEnds(["w", "r"]), true);
  assert.equal(holdsBothEnds(["r", "r"]), false);
  assert.equal(holdsBothEnds(["rw"]), false);
});
