// Parsing and validation of the grants ww opens itself, and socket address text.
import assert from "node:assert/strict";
import {
  bindsOverlap,
  describeOwnGrant,
  formatInetAddress,
  grantFailure,
  grantLabel,
  grantPath,
  listensThereAlready,
  makesPath,
  ownFdGrant,
  ownGrantsProblem,
  parseAddress,
  parseOpenSpec,
  picksPort,
  socketActivationProblem,
  takenUnixPathStep,
} from "./grants.ts";

Deno.test("tcp, udp and unix addresses parse, IPv6 in brackets", () => {
  assert.deepEqual(parseAddress("tcp:127.0.0.1:0"), { kind: "tcp", host: "127.0.0.1", port: 0 });
  assert.deepEqual(parseAddress("udp:localhost:53"), { kind: "udp", host: "localhost", port: 53 });
  assert.deepEqual(parseAddress("tcp:[::1]:65535"), { kind: "tcp", host: "::1", port: 65535 });
  assert.deepEqual(parseAddress("unix:/run/a:b.sock"), { kind: "unix", path: "/run/a:b.sock" });
});

Deno.test("malformed addresses are refused with the fix", () => {
  const error = (t: string) => {
    const a = parseAddress(t);
    assert.ok("error" in a, t);
    return a.error;
  };
  assert.match(error("http:x:1"), /unknown kind "http" \(use tcp:HOST:PORT/);
  assert.match(error("8080"), /unknown kind "8080"/);
  assert.match(error("tcp:::1:80"), /IPv6 address in brackets/);
  assert.match(error("tcp:[::1]80"), /expected tcp:\[IPV6\]:PORT/);
  assert.match(error("tcp:host"), /expected tcp:HOST:PORT/);
  assert.match(error("tcp::80"), /the host is empty/);
  assert.match(error("tcp:h:65536"), /"65536" is not a port/);
  assert.match(error("tcp:h:-1"), /not a port/);
  assert.match(error("tcp:h:"), /not a port/);
  assert.match(error("unix:"), /path is empty/);
  // An abstract name, as ss and systemd write one: bind made a file named "@app" in ww's cwd.
  assert.match(error("unix:@app"), /^unix:@NAME is an abstract socket name, which ww neither/);
  assert.deepEqual(parseAddress("unix:./@app"), { kind: "unix", path: "./@app" });
  assert.match(error(`unix:/${"x".repeat(107)}`), /too long \(108 bytes, at most 107\)/);
  assert.deepEqual(parseAddress(`unix:/${"x".repeat(106)}`), {
    kind: "unix",
    path: `/${"x".repeat(106)}`,
  });
});

Deno.test("an open spec's mode is a known suffix, else part of the path", () => {
  assert.deepEqual(parseOpenSpec("/a/b"), { path: "/a/b", mode: "r" });
  assert.deepEqual(parseOpenSpec("/a/b:rw"), { path: "/a/b", mode: "rw" });
  assert.deepEqual(parseOpenSpec("/a/b:a"), { path: "/a/b", mode: "a" });
  assert.deepEqual(parseOpenSpec("/a/b:x"), { path: "/a/b:x", mode: "r" });
  assert.deepEqual(parseOpenSpec(":w"), { path: ":w", mode: "r" });
});

Deno.test("names are unique across every kind of grant, ignoring case", () => {
  const fds = [{ name: "db", source: 7 }];
  assert.match(
    ownGrantsProblem([{ name: "DB", listen: "tcp:127.0.0.1:0" }], fds)!,
    /^--listen DB=tcp:127.0.0.1:0: the name is already granted as db/,
  );
  assert.match(
    ownGrantsProblem([{ name: "a", open: "/x" }, { name: "A", connect: "unix:/s" }], [])!,
    /^--connect A=unix:\/s: the name is already granted as a/,
  );
  assert.match(ownGrantsProblem([{ name: "1x", open: "/x" }], [])!, /name must match/);
  assert.equal(
    ownGrantsProblem([
      { name: "a", open: "/x", mode: "w" },
      { name: "b", listen: "udp:[::1]:0" },
      { name: "c", connect: "tcp:h:1" },
    ], fds),
    undefined,
  );
});

Deno.test("each grant's own problems name the grant and its address", () => {
  assert.match(
    ownGrantsProblem([{ name: "c", connect: "udp:h:1" }], [])!,
    /^--connect c=udp:h:1: --connect takes tcp:HOST:PORT or unix:PATH/,
  );
  assert.match(
    ownGrantsProblem([{ name: "l", listen: "sctp:h:1" }], [])!,
    /^--listen l=sctp:h:1: unknown kind "sctp"/,
  );
  assert.match(ownGrantsProblem([{ name: "o", open: "" }], [])!, /expected name=PATH\[:MODE\]/);
  assert.match(
    ownGrantsProblem([{ name: "o", open: "/x", mode: "x" as "r" }], [])!,
    /unknown mode "x" \(use r, w, a or rw\)/,
  );
  assert.equal(grantLabel({ name: "o", open: "/x", mode: "a" }), "--open o=/x:a");
  assert.match(describeOwnGrant({ name: "u", listen: "udp:h:1" }), /bound udp socket/);
});

// The second of two --listen x=tcp:127.0.0.1:80 was "address in use (stop what listens there...)",
// and what listened there was the first.
Deno.test("two grants that listen on one address as written: the second names the first", () => {
  for (const addr of ["tcp:127.0.0.1:8080", "udp:[::1]:53", "unix:/run/app.sock"]) {
    assert.equal(
      ownGrantsProblem([{ name: "x", listen: addr }, { name: "y", listen: addr }], []),
      `--listen y=${addr}: --listen x=${addr} listens there already (one address, one grant)`,
    );
  }
  assert.equal(
    ownGrantsProblem(
      [{ name: "x", listen: "tcp:h:1" }, { name: "y", listen: "tcp:h:1" }],
      [],
      "library",
    ),
    "grant y (listen tcp:h:1): grant x (listen tcp:h:1) listens there already (one address, one grant)",
  );
  // Port 0 picks a free port each; tcp and udp are apart; a connect is no listener.
  assert.equal(
    ownGrantsProblem([
      { name: "a", listen: "tcp:127.0.0.1:0" },
      { name: "b", listen: "tcp:127.0.0.1:0" },
      { name: "c", listen: "tcp:127.0.0.1:53" },
      { name: "d", listen: "udp:127.0.0.1:53" },
      { name: "e", connect: "tcp:127.0.0.1:53" },
    ], []),
    undefined,
  );
});

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

Deno.test("only a tcp or udp port 0 asks ww to report where it landed", () => {
  assert.equal(picksPort("tcp:127.0.0.1:0"), true);
  assert.equal(picksPort("udp:[::1]:00"), true);
  assert.equal(picksPort("tcp:127.0.0.1:8080"), false);
  assert.equal(picksPort("unix:/run/x:0"), false);
});

Deno.test("under socket activation only the --listen grants are laid out from fd 3", () => {
  const listen = { name: "web", listen: "tcp:127.0.0.1:0" };
  const connect = { name: "db", connect: "unix:/run/db.sock" };
  const open = { name: "log", open: "/var/log/app.log", mode: "a" as const };
  assert.deepEqual(ownFdGrant(listen, 9, true), {
    name: "web",
    source: 9,
    own: true,
    activated: true,
  });
  assert.deepEqual(ownFdGrant(listen, 9, false), { name: "web", source: 9, own: true });
  assert.deepEqual(ownFdGrant(connect, 8, true), { name: "db", source: 8, own: true });
  assert.deepEqual(ownFdGrant(open, 7, true), { name: "log", source: 7, own: true });
});

Deno.test("--socket-activation needs a --listen grant", () => {
  const listen = { name: "web", listen: "udp:127.0.0.1:0" };
  const connect = { name: "db", connect: "unix:/run/db.sock" };
  assert.equal(socketActivationProblem([listen], true), undefined);
  assert.equal(socketActivationProblem([connect, listen], true), undefined);
  assert.equal(socketActivationProblem([connect], false), undefined);
  assert.equal(socketActivationProblem([], undefined), undefined);
  for (const own of [[], [connect]]) {
    assert.equal(
      socketActivationProblem(own, true),
      "--socket-activation: no --listen grant to pass (add one, e.g. --listen http=tcp:127.0.0.1:8080)",
    );
    assert.equal(
      socketActivationProblem(own, true, "library"),
      'socketActivation: no listen grant in own to pass (add one, e.g. { name: "http", listen: "tcp:127.0.0.1:8080" })',
    );
  }
  assert.equal(socketActivationProblem([listen], true, "library"), undefined);
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

Deno.test("listensThereAlready names both grants, in the flags' words or the library's", () => {
  const a = { name: "a", listen: "tcp:0.0.0.0:80" };
  const b = { name: "b", listen: "tcp:localhost:80" };
  assert.equal(
    listensThereAlready(b, a),
    "--listen b=tcp:localhost:80: --listen a=tcp:0.0.0.0:80 listens there already (one address, one grant)",
  );
  assert.equal(
    listensThereAlready(b, a, "library"),
    "grant b (listen tcp:localhost:80): grant a (listen tcp:0.0.0.0:80) listens there already (one address, one grant)",
  );
});
