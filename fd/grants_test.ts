// Parsing and validation of the grants ww opens itself.
import assert from "node:assert/strict";
import {
  describeOwnGrant,
  grantLabel,
  listensThereAlready,
  ownFdGrant,
  ownGrantsProblem,
  parseAddress,
  parseOpenSpec,
  picksPort,
  socketActivationProblem,
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
  // No socket is named with a '/' at its end, whatever is at the path.
  assert.match(error("unix:/run/app.sock/"), /^the path ends in '\/', which makes its last name/);
  assert.match(error("unix:./"), /ends in '\/'/);
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
  // A connect to port 0 was "connection refused": no server is ever there.
  assert.equal(
    ownGrantsProblem([{ name: "c", connect: "tcp:[::1]:0" }], [], "library"),
    "grant c (connect tcp:[::1]:0): port 0 names no server (give the port it listens on)",
  );
  assert.equal(ownGrantsProblem([{ name: "l", listen: "tcp:[::1]:0" }], []), undefined);
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
