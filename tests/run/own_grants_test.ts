// Grants ww opens itself (`--listen`, `--connect`, `--open`), with real sockets, files and jails:
// a jailed python3 HTTP server reached from the host without --net, a jailed client reading
// through --connect, files in every mode, port 0's line, the layout, and every error with nothing
// left behind.

import assert from "node:assert/strict";
import {
  DEFAULT_IPFS_API,
  DEFAULT_POLICY,
  type Listener,
  type RunConfig,
  startProgram,
  TimedOutError,
} from "../../mod.ts";
import { closeFd, pipe } from "../../ffi/fd.ts";
import { openReadOnly } from "../../ffi/memfd.ts";
import { openPath } from "../../ffi/socket.ts";
import { newCleanups } from "../../run/launch.ts";
import { isOwnDescriptor, isOwnProcessFile, openOwnGrants } from "../../run/own_grants.ts";
import { reportFds } from "../support/children.ts";
import { closeEachConnection, refusedPort, unchosenPort } from "../support/listeners.ts";
import { privateTmp, processesWithArg, wwDirs } from "../support/procs.ts";
import { parseReport } from "../support/report.ts";
import { errorLines, runWw, runWwAsUser, startWw, wwCommand } from "../support/ww.ts";

const child = await reportFds();
const JAILS = ["bwrap", "native", "none"] as const;
const PYTHON = "/usr/bin/python3";

// A python3 http.server that adopts the listening socket ww granted (WW_FD_HTTP), answers one
// request, and says in the body whether it could open a connection of its own to argv[1]'s port.
const SERVER = `
import http.server, os, socket, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2).close()
            other = "connected"
        except OSError as e:
            other = "refused errno %d" % e.errno
        body = ("hello from the jail; another connection: " + other).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
sys.stderr.write("server started\\n")
server = http.server.HTTPServer(("", 0), Handler, bind_and_activate=False)
server.socket = socket.socket(fileno=int(os.environ["WW_FD_HTTP"]))
server.handle_request()
`;

/** An HTTP/1.0 GET over a fresh connection; the whole response. */
async function get(conn: Deno.Conn): Promise<string> {
  await conn.write(new TextEncoder().encode("GET / HTTP/1.0\r\nHost: jail\r\n\r\n"));
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  for (let n; (n = await conn.read(buf)) !== null;) chunks.push(buf.slice(0, n));
  conn.close();
  return new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
}

for (const jail of JAILS) {
  Deno.test(`[jail=${jail}] a jailed python3 HTTP server is reached through --listen tcp, port 0, without --net`, async () => {
    const host = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const ww = startWw([
        `--jail=${jail}`,
        "--listen",
        "http=tcp:127.0.0.1:0",
        PYTHON,
        "-c",
        SERVER,
        String(host.addr.port),
      ]);
      const before = await ww.until(/server started/);
      const lines = before.split("\n");
      const at = lines.findIndex((l) => /^ww: http listening on 127\.0\.0\.1:\d+$/.test(l));
      assert.ok(at >= 0, before);
      // The line comes before the program starts.
      assert.ok(at < lines.indexOf("server started"), before);
      const port = Number(lines[at].split(":").pop());
      const response = await get(await Deno.connect({ hostname: "127.0.0.1", port }));
      assert.match(response, /^HTTP\/1\.0 200 OK/);
      assert.match(response, /hello from the jail/);
      if (jail === "none") assert.match(response, /another connection: connected/);
      else assert.match(response, /another connection: refused errno (111|13)/);
      const end = await ww.end();
      assert.equal(end.code, 0, end.stderr);
    } finally {
      host.close();
    }
  });

  Deno.test(`[jail=${jail}] a jailed python3 HTTP server is reached through --listen unix; the socket file goes with the run`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-grants-" });
    const host = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const path = `${dir}/http.sock`;
    try {
      const ww = startWw([
        `--jail=${jail}`,
        "--listen",
        `http=unix:${path}`,
        PYTHON,
        "-c",
        SERVER,
        String(host.addr.port),
      ]);
      const before = await ww.until(/server started/);
      // No line for a path: the caller named it.
      assert.doesNotMatch(before, /listening on/);
      const response = await get(await Deno.connect({ transport: "unix", path }));
      assert.match(response, /hello from the jail/);
      if (jail !== "none") assert.match(response, /another connection: refused errno (111|13)/);
      const end = await ww.end();
      assert.equal(end.code, 0, end.stderr);
      assert.deepEqual([...Deno.readDirSync(dir)], []);
    } finally {
      host.close();
      Deno.removeSync(dir, { recursive: true });
    }
  });

  Deno.test(`[jail=${jail}] a jailed program receives a datagram on a --listen udp socket`, async () => {
    const ww = startWw([
      `--jail=${jail}`,
      "--listen",
      "dns=udp:127.0.0.1:0",
      PYTHON,
      "-c",
      `import os, socket, sys
s = socket.socket(fileno=int(os.environ["WW_FD_DNS"]))
sys.stderr.write("ready\\n"); sys.stderr.flush()
data, _ = s.recvfrom(100)
print("got", data.decode())`,
    ]);
    const text = await ww.until(/ready/);
    const m = text.match(/^ww: dns listening on (127\.0\.0\.1):(\d+)$/m);
    assert.ok(m, text);
    // Deno's datagram sockets are unstable: python3 sends it.
    const sent = await new Deno.Command(PYTHON, {
      args: [
        "-c",
        "import socket,sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'a datagram', (sys.argv[1], int(sys.argv[2])))",
        m[1],
        m[2],
      ],
    }).output();
    assert.equal(sent.code, 0);
    const end = await ww.end();
    assert.equal(end.code, 0, end.stderr);
    assert.equal(end.stdout, "got a datagram\n");
  });

  Deno.test(`[jail=${jail}] a jailed client reads a line from a host tcp and a host unix server through --connect`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-grants-" });
    const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const unix = Deno.listen({ transport: "unix", path: `${dir}/db.sock` });
    const serve = async (l: Deno.Listener, line: string) => {
      const c = await l.accept();
      await c.write(new TextEncoder().encode(`${line}\n`));
      c.close();
    };
    let open = true;
    const closeServers = () => {
      if (open) [tcp, unix].forEach((l) => l.close());
      open = false;
    };
    try {
      const served = Promise.allSettled([serve(tcp, "from tcp"), serve(unix, "from unix")]);
      // Layout by name: db (unix) on fd 4, web (tcp) on fd 5.
      const r = await runWw([
        "run",
        `--jail=${jail}`,
        "--connect",
        `web=tcp:127.0.0.1:${tcp.addr.port}`,
        "--connect",
        `db=unix:${dir}/db.sock`,
        child,
        "read=4",
        "read=5",
      ]);
      // Had ww not connected, the servers would wait forever: closing them ends the accepts.
      closeServers();
      assert.deepEqual((await served).map((s) => s.status), ["fulfilled", "fulfilled"]);
      assert.equal(r.code, 0, r.stderr);
      const report = parseReport(r.stdout);
      assert.deepEqual(report.lines, { 4: "from unix", 5: "from tcp" });
      assert.equal(report.env.WW_FD_DB, "4");
      assert.equal(report.env.WW_FD_WEB, "5");
      // A connected stream, blocking as programs expect.
      for (const fd of [4, 5]) {
        const f = report.fds.find((x) => x.fd === fd)!;
        assert.equal(f.kind, "socket");
        assert.equal(f.flags & 0o4000, 0);
      }
    } finally {
      closeServers();
      Deno.removeSync(dir, { recursive: true });
    }
  });

  Deno.test(`[jail=${jail}] --open in every mode, from a 0700 directory the jail cannot enter`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-grants-" });
    Deno.chmodSync(dir, 0o700);
    try {
      Deno.writeTextFileSync(`${dir}/in.txt`, "secret line\n");
      Deno.writeTextFileSync(`${dir}/w.txt`, "old content that is longer\n");
      Deno.writeTextFileSync(`${dir}/a.txt`, "first\n");
      Deno.writeTextFileSync(`${dir}/rw.txt`, "abc\n");
      // Layout by name: A 4, IN 5, NEW 6, RW 7, W 8.
      const r = await runWw([
        "run",
        `--jail=${jail}`,
        "--open",
        `w=${dir}/w.txt:w`,
        "--open",
        `rw=${dir}/rw.txt:rw`,
        "--open",
        `in=${dir}/in.txt`,
        "--open",
        `a=${dir}/a.txt:a`,
        "--open",
        `new=${dir}/new.txt:rw`,
        "/bin/sh",
        "-c",
        [
          'read line <&5; echo "got $line"',
          "echo second >&4",
          "echo fresh >&8",
          'read l2 <&7; echo "rw $l2"; echo xyz >&7',
          "echo made >&6",
          "if echo no >&5 2>/dev/null; then echo WROTE-READONLY; else echo read-only refused; fi",
          `if cat ${dir}/in.txt >/dev/null 2>&1; then echo path reachable; else echo path unreachable; fi`,
        ].join("; "),
      ]);
      assert.equal(r.code, 0, r.stderr);
      const out = r.stdout.split("\n");
      assert.ok(out.includes("got secret line"), r.stdout);
      assert.ok(out.includes("rw abc"), r.stdout);
      assert.ok(out.includes("read-only refused"), r.stdout);
      // Only root (jail=none runs as the caller) reaches the path itself.
      assert.ok(out.includes(jail === "none" ? "path reachable" : "path unreachable"), r.stdout);
      assert.equal(Deno.readTextFileSync(`${dir}/w.txt`), "fresh\n");
      assert.equal(Deno.readTextFileSync(`${dir}/a.txt`), "first\nsecond\n");
      assert.equal(Deno.readTextFileSync(`${dir}/rw.txt`), "abc\nxyz\n");
      assert.equal(Deno.readTextFileSync(`${dir}/new.txt`), "made\n");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

Deno.test("the layout: --with-fd first, then ww's own grants by upper-cased name, whatever the flag order", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-grants-" });
  const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for (;;) accepted.push(await tcp.accept());
    } catch { /* closed */ }
  })();
  try {
    Deno.writeTextFileSync(`${dir}/f`, "x\n");
    const flags = [
      ["--open", `Zed=${dir}/f`],
      ["--with-fd", "late=9"],
      ["--listen", `b_sock=unix:${dir}/s.sock`],
      ["--connect", `conn=tcp:127.0.0.1:${tcp.addr.port}`],
      ["--listen", "Alpha=udp:127.0.0.1:0"],
      ["--with-fd", "early=7"],
    ];
    const expected = {
      WW_FD_EARLY: "4",
      WW_FD_LATE: "5",
      WW_FD_ALPHA: "6",
      WW_FD_B_SOCK: "7",
      WW_FD_CONN: "8",
      WW_FD_ZED: "9",
    };
    const orders = [flags, [...flags].reverse(), [2, 0, 5, 3, 1, 4].map((i) => flags[i])];
    for (const order of orders) {
      for (const jail of ["none", "bwrap"]) {
        const r = await runWw(["run", `--jail=${jail}`, ...order.flat(), child], {
          fds: { 7: { read: "/dev/null" }, 9: { read: "/dev/null" } },
        });
        assert.equal(r.code, 0, r.stderr);
        const report = parseReport(r.stdout);
        const env = Object.fromEntries(
          Object.entries(report.env).filter(([k]) => k.startsWith("WW_FD_")),
        );
        assert.deepEqual(env, expected);
        const kinds = Object.fromEntries(report.fds.map((f) => [f.fd, f.kind]));
        assert.deepEqual(
          [4, 5, 6, 7, 8, 9].map((fd) => kinds[fd]),
          ["char", "char", "socket", "socket", "socket", "file"],
        );
        assert.equal(kinds[10], undefined);
      }
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["f"]);
  } finally {
    tcp.close();
    await accepting;
    for (const c of accepted) c.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("--explain shows every grant and opens nothing", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-grants-" });
  try {
    const r = await runWw([
      "run",
      "--explain",
      "--listen",
      `http=unix:${dir}/s.sock`,
      "--open",
      `out=${dir}/out.txt:w`,
      "--connect",
      "db=tcp:127.0.0.1:1",
      "/bin/true",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^ {2}4 {4}db \(a stream connected to tcp:127\.0\.0\.1:1, opened by ww\) WW_FD_DB=4$/m,
    );
    assert.match(
      r.stdout,
      /^ {2}5 {4}http \(a listening socket on unix:.*s\.sock, opened by ww\)/m,
    );
    assert.match(r.stdout, /^ {2}6 {4}out \(.*out\.txt opened write/m);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("every error is one line, exit 125, naming the grant, and leaves nothing behind", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-grants-" });
  const tmp = privateTmp();
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  // A server whose connection is made before a later grant fails: it must see the connection
  // end, not stay half-open.
  const witness = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    Deno.mkdirSync(`${dir}/sub`);
    Deno.writeTextFileSync(`${dir}/exists.sock`, "keep me\n");
    new Deno.Command("mkfifo", { args: [`${dir}/fifo`] }).outputSync();
    // A unix socket file with no listener behind it.
    // (Deno removes the file when its own listener closes: python leaves it.)
    new Deno.Command(PYTHON, {
      args: [
        "-c",
        "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
        `${dir}/dead.sock`,
      ],
    }).outputSync();
    const long = `${dir}/${"x".repeat(120)}.sock`;
    const cases: [string[], RegExp][] = [
      [
        ["--listen", `h=tcp:127.0.0.1:${busy.addr.port}`],
        /^ww: --listen h=tcp:127\.0\.0\.1:\d+: address in use/,
      ],
      [
        ["--listen", `h=unix:${dir}/exists.sock`],
        /^ww: --listen h=unix:.*exists\.sock: the path already exists/,
      ],
      [
        ["--listen", `h=unix:${dir}/no/such.sock`],
        /^ww: --listen h=unix:.*no\/such\.sock: the parent directory does not exist/,
      ],
      [["--listen", `h=unix:${long}`], /^ww: --listen h=unix:.*: the unix socket path is too long/],
      // A unix path that ends in '/' names no socket, whatever is there: ww waited forever on the
      // main thread (no signal could end it) for a FIFO's writer, in the open of what it took for
      // the socket's directory, and a file or a socket there was an internal error or "ENXIO".
      ...["fifo/", "exists.sock/", "dead.sock/", "sub/"].map((p): [string[], RegExp] => [
        ["--listen", `h=unix:${dir}/${p}`],
        /^ww: --listen h=unix:.*\/: the path ends in '\/', which makes its last name a directory's/,
      ]),
      [
        ["--connect", `c=unix:${dir}/fifo/`],
        /^ww: --connect c=unix:.*fifo\/: the path ends in '\/', which makes its last name a directory's/,
      ],
      [["--listen", "h=tcp:127.0.0.1"], /^ww: --listen h=tcp:127\.0\.0\.1: expected tcp:HOST:PORT/],
      [
        ["--listen", "h=sctp:127.0.0.1:1"],
        /^ww: --listen h=sctp:127\.0\.0\.1:1: unknown kind "sctp"/,
      ],
      [
        ["--listen", "h=tcp:203.0.113.9:0"],
        /^ww: --listen h=tcp:203\.0\.113\.9:0: the address is not one of this host's/,
      ],
      [
        ["--connect", "c=tcp:no-such-host.invalid:80"],
        /^ww: --connect c=tcp:no-such-host\.invalid:80: unknown host/,
      ],
      [
        ["--connect", `c=tcp:127.0.0.1:${refusedPort()}`],
        /^ww: --connect c=tcp:127\.0\.0\.1:\d+: connection refused/,
      ],
      [
        ["--connect", `c=unix:${dir}/dead.sock`],
        /^ww: --connect c=unix:.*dead\.sock: connection refused/,
      ],
      [
        ["--connect", `c=unix:${dir}/none.sock`],
        /^ww: --connect c=unix:.*none\.sock: no such socket file/,
      ],
      [
        ["--connect", "c=udp:127.0.0.1:53"],
        /^ww: --connect c=udp:127\.0\.0\.1:53: --connect takes tcp:HOST:PORT or unix:PATH/,
      ],
      [["--open", `o=${dir}/missing.txt`], /^ww: --open o=.*missing\.txt: no such file/],
      [
        ["--open", `o=${dir}/no/such.txt:w`],
        /^ww: --open o=.*no\/such\.txt:w: the parent directory does not exist/,
      ],
      [["--open", `o=${dir}/sub`], /^ww: --open o=.*sub: is a directory/],
      [["--open", `o=${dir}/sub:rw`], /^ww: --open o=.*sub:rw: is a directory/],
      [
        ["--open", "o=/x", "--listen", "O=tcp:127.0.0.1:0"],
        /^ww: --listen O=tcp:127\.0\.0\.1:0: the name is already granted as o/,
      ],
    ];
    for (const [flags, message] of cases) {
      // Each failing grant follows a listener, a unix listener and a connection that ww opens
      // first (ww opens the --listens first, then the other grants, each in flag order): a
      // failing --listen comes before the connection. A usage error stops ww before it opens
      // anything.
      const parseError = /expected|unknown kind|too long|already granted|--connect takes|ends in/
        .test(
          message.source,
        );
      const accepted = parseError || flags[0] === "--listen" ? undefined : witness.accept();
      const r = await runWw([
        "run",
        "--listen",
        "a=tcp:127.0.0.1:0",
        "--listen",
        `aa=unix:${dir}/first.sock`,
        "--connect",
        `ab=tcp:127.0.0.1:${witness.addr.port}`,
        ...flags,
        "/bin/true",
      ], { env: { TMPDIR: tmp } });
      assert.equal(r.code, 125, `${flags.join(" ")}: ${r.stderr}`);
      const lines = errorLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], message);
      assert.deepEqual(wwDirs(tmp), []);
      const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      assert.deepEqual(names, ["dead.sock", "exists.sock", "fifo", "sub"], flags.join(" "));
      assert.equal(Deno.readTextFileSync(`${dir}/exists.sock`), "keep me\n");
      if (accepted) {
        const conn = await accepted;
        const n = await conn.read(new Uint8Array(1));
        assert.equal(n, null, "the connection ww made ends with the failed start");
        conn.close();
      }
    }
  } finally {
    busy.close();
    witness.close();
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(tmp, { recursive: true });
  }
});

// The second of `--listen a=tcp:127.0.0.1:P --listen b=tcp:localhost:P` was told "address in use
// (stop what listens there...)": what listened there was the run's own grant a, which only the
// bind could tell, the two being written apart.
Deno.test("a --listen of an address the run's own earlier grant holds, written another way, names that grant", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-twins-" });
  const tmp = privateTmp();
  const foreign = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const [t1, t2, u1] = [unchosenPort(), unchosenPort(), unchosenPort()];
    const cases: [string, string, string?][] = [
      [`a=tcp:127.0.0.1:${t1}`, `b=tcp:localhost:${t1}`],
      [`a=tcp:0.0.0.0:${t2}`, `b=tcp:127.0.0.1:${t2}`],
      [`a=udp:0.0.0.0:${u1}`, `b=udp:127.0.0.1:${u1}`],
      [`a=unix:${dir}/s.sock`, `b=unix:${dir}/./s.sock`],
      [`a=unix:${dir}/r.sock`, "b=unix:r.sock", dir],
    ];
    for (const [a, b, cwd] of cases) {
      const r = await runWw(["run", "--jail=none", "--listen", a, "--listen", b, "/bin/true"], {
        env: { TMPDIR: tmp },
        ...(cwd ? { before: `cd ${cwd}` } : {}),
      });
      assert.equal(r.code, 125, r.stderr);
      assert.deepEqual(errorLines(r.stderr), [
        `ww: --listen ${b}: --listen ${a} listens there already (one address, one grant)`,
      ]);
      assert.deepEqual([...Deno.readDirSync(dir)], [], "a socket file was left behind");
      assert.deepEqual(wwDirs(tmp), []);
    }
    // Held by something else, the port is the kernel's "address in use" still.
    const port = foreign.addr.port;
    const r = await runWw([
      "run",
      "--jail=none",
      "--listen",
      `a=tcp:127.0.0.2:${port}`,
      "--listen",
      `b=tcp:localhost:${port}`,
      "/bin/true",
    ], { env: { TMPDIR: tmp } });
    assert.equal(r.code, 125, r.stderr);
    assert.match(errorLines(r.stderr)[0], /^ww: --listen b=tcp:localhost:\d+: address in use/);
  } finally {
    foreign.close();
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("ww opens with the caller's rights: a caller without them gets one line naming the grant", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-grants-" });
  Deno.chmodSync(dir, 0o755);
  try {
    Deno.writeTextFileSync(`${dir}/root-only.txt`, "secret\n");
    Deno.chmodSync(`${dir}/root-only.txt`, 0o600);
    for (
      const [flags, message] of [
        [
          ["--listen", "h=tcp:127.0.0.1:80"],
          /^ww: --listen h=tcp:127\.0\.0\.1:80: no permission to bind this address \(EACCES\)/,
        ],
        [
          ["--open", `o=${dir}/root-only.txt`],
          /^ww: --open o=.*root-only\.txt: permission denied \(EACCES\)/,
        ],
        [
          ["--listen", `u=unix:${dir}/u.sock`],
          /^ww: --listen u=unix:.*u\.sock: no permission to bind this address \(EACCES\)/,
        ],
      ] as const
    ) {
      // An unprivileged caller: uid 65534.
      const { code, stderr } = await runWwAsUser(
        65534,
        ["run", "--jail=none", ...flags, "/bin/true"],
        dir,
      );
      assert.equal(code, 125, stderr);
      const lines = errorLines(stderr);
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0], message);
    }
    assert.equal(Deno.readTextFileSync(`${dir}/root-only.txt`), "secret\n");
    assert.equal([...Deno.readDirSync(dir)].some((e) => e.name === "u.sock"), false);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("--listen tcp:[::1]:0 reports an IPv6 address the host reaches", async () => {
  const ww = startWw([
    "--jail=none",
    "--listen",
    "v6=tcp:[::1]:0",
    "/bin/sh",
    "-c",
    "echo started >&2; exec sleep 30",
  ]);
  const text = await ww.until(/started/);
  const m = text.match(/^ww: v6 listening on \[::1\]:(\d+)$/m);
  assert.ok(m, text);
  // A listening socket accepts; the connection is made by the kernel backlog.
  const conn = await Deno.connect({ hostname: "::1", port: Number(m[1]) });
  conn.close();
  ww.proc.kill("SIGTERM");
  await ww.end();
});

Deno.test("library: startProgram takes grants as values, reports the listeners, and takes a descriptor its caller opened", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-grants-" });
  // A descriptor this process opened itself: close-on-exec, which the command line refuses.
  const file = Deno.openSync(`${dir}/mine.txt`, { write: true, create: true });
  const mine = await openPath(`${dir}/mine.txt`, 0o1);
  try {
    const config: RunConfig = {
      program: child,
      args: ["write=4:mine", "write=6:out"],
      fds: [{ name: "mine", source: mine }],
      own: [
        { name: "out", open: `${dir}/out.txt`, mode: "w" },
        { name: "http", listen: "tcp:127.0.0.1:0" },
        { name: "sock", listen: `unix:${dir}/s.sock` },
      ],
      env: {},
      ipfsApi: DEFAULT_IPFS_API,
      jail: DEFAULT_POLICY,
    };
    let told: readonly Listener[] = [];
    const p = await startProgram(config, { onListening: (l) => told = l });
    assert.equal((await p.status).code, 0);
    assert.deepEqual(p.listeners, told);
    assert.equal(p.listeners.length, 2);
    assert.equal(p.listeners[0].name, "http");
    assert.match(p.listeners[0].address, /^127\.0\.0\.1:[1-9]\d*$/);
    assert.deepEqual(p.listeners[1], {
      name: "sock",
      listen: `unix:${dir}/s.sock`,
      address: `unix:${dir}/s.sock`,
    });
    assert.equal(Deno.readTextFileSync(`${dir}/mine.txt`), "mine\n");
    assert.equal(Deno.readTextFileSync(`${dir}/out.txt`), "out\n");
    assert.equal([...Deno.readDirSync(dir)].some((e) => e.name === "s.sock"), false);
    await assert.rejects(
      startProgram({ ...config, own: [{ name: "MINE", open: "/etc/hostname" }] }),
      /already granted as mine/,
    );
  } finally {
    file.close();
    closeFd(mine);
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("--open of a FIFO whose writer is already waiting gets the writer's line, every time", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-grants-" });
  try {
    const fifo = `${dir}/fifo`;
    assert.equal(new Deno.Command("mkfifo", { args: [fifo] }).outputSync().code, 0);
    // The writer opens first and blocks until a reader comes; it then writes and closes at once.
    // A ww that became a reader only to look, and reopened to wait, lost the line and waited
    // forever for a second writer.
    for (let round = 0; round < 5; round++) {
      const writer = new Deno.Command("/usr/bin/timeout", {
        args: ["60", "/bin/sh", "-c", `echo "round ${round}" >"$1"`, "sh", fifo],
      }).output();
      const ww = startWw([
        "--jail=none",
        "--open",
        `in=${fifo}`,
        "/bin/sh",
        "-c",
        'read line <&4; echo "got $line"',
      ]);
      const stuck = setTimeout(() => ww.proc.kill("SIGKILL"), 60_000);
      const end = await ww.end();
      clearTimeout(stuck);
      assert.equal((await writer).code, 0);
      assert.equal(end.code, 0, `round ${round}: ${end.stderr}`);
      assert.equal(end.stdout, `got round ${round}\n`);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("--open of a FIFO waits for its other end, as a shell redirection does, and the program reads what comes", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-grants-" });
  try {
    const fifo = `${dir}/fifo`;
    assert.equal(new Deno.Command("mkfifo", { args: [fifo] }).outputSync().code, 0);
    // A reader: ww waits for a writer before the program starts, so the program sees the line,
    // not an early end of file.
    const ww = startWw([
      "--jail=none",
      "--open",
      `in=${fifo}`,
      "/bin/sh",
      "-c",
      'read line <&4; echo "got $line"',
    ]);
    await new Promise((r) => setTimeout(r, 300));
    // Bounded: a ww that never opened the FIFO must fail the test, not hang it. The bound is
    // generous because ww may start slowly on a loaded machine; it runs after ww has started,
    // so the writer and ww meet whichever opens first.
    const writer = await new Deno.Command("/usr/bin/timeout", {
      args: ["60", "/bin/sh", "-c", 'echo "through the fifo" >"$1"', "sh", fifo],
    }).output();
    if (writer.code !== 0) ww.proc.kill("SIGKILL");
    const end = await ww.end();
    assert.equal(writer.code, 0, "ww never opened the FIFO");
    assert.equal(end.code, 0, end.stderr);
    assert.equal(end.stdout, "got through the fifo\n");
    // A writer (append): ww waits for a reader.
    const appender = startWw([
      "--jail=none",
      "--open",
      `out=${fifo}:a`,
      "/bin/sh",
      "-c",
      "echo appended >&4",
    ]);
    await new Promise((r) => setTimeout(r, 300));
    const read = await new Deno.Command("/usr/bin/timeout", {
      args: ["60", "/bin/cat", fifo],
      stdout: "piped",
    }).output();
    if (read.code !== 0) appender.proc.kill("SIGKILL");
    const r = await appender.end();
    assert.equal(read.code, 0, "ww never opened the FIFO for appending");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(new TextDecoder().decode(read.stdout), "appended\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/** The pids of the processes that hold `path` open. */
function holdersOf(path: string): number[] {
  const pids: number[] = [];
  for (const p of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(p.name)) continue;
    try {
      for (const fd of Deno.readDirSync(`/proc/${p.name}/fd`)) {
        try {
          if (Deno.readLinkSync(`/proc/${p.name}/fd/${fd.name}`) === path) {
            pids.push(Number(p.name));
          }
        } catch { /* closed meanwhile */ }
      }
    } catch { /* ended meanwhile */ }
  }
  return pids;
}

/** Whether a thread of process `pid` sleeps in the kernel function named `wchan` (or its clone). */
function threadWaitsIn(pid: number, wchan: string): boolean {
  try {
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        if (Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/wchan`).startsWith(wchan)) {
          return true;
        }
      } catch { /* the thread ended */ }
    }
  } catch { /* the process ended */ }
  return false;
}

/**
 * Starts `ww run <args>`, waits until a thread of it sleeps in `wchan`, sends it `signal`, and
 * says how it ended. A ww that does not stop is SIGKILLed after 60 s: it fails the test rather
 * than hanging it.
 */
async function stopWhileWaiting(args: string[], wchan: string, signal: Deno.Signal) {
  const ww = startWw(args);
  const kill = setTimeout(() => ww.proc.kill("SIGKILL"), 60_000);
  try {
    await waitFor(`ww sleeps in ${wchan}`, () => threadWaitsIn(ww.proc.pid, wchan));
    ww.proc.kill(signal);
    return await ww.end();
  } finally {
    clearTimeout(kill);
  }
}

// `--open in=FIFO --open out=FIFO:w`: each open waited for the other end, which ww opened only
// after it (ww opens --open grants in flag order), and the run hung until a signal came.
for (const jail of JAILS) {
  Deno.test(`[jail=${jail}] both ends of one FIFO, granted to one run in either order, open at once`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-grants-" });
    try {
      const fifo = `${dir}/fifo`;
      assert.equal(new Deno.Command("mkfifo", { args: [fifo] }).outputSync().code, 0);
      Deno.chmodSync(dir, 0o755);
      Deno.chmodSync(fifo, 0o666);
      // The reader's flag first, then the writer's; the writer's first; an appender's ("a"
      // writes too) first. The names are in the other order each time.
      const cases = [
        { reader: "z", writer: "a", mode: "w", readerFirst: true },
        { reader: "a", writer: "z", mode: "w", readerFirst: false },
        { reader: "a", writer: "z", mode: "a", readerFirst: false },
      ];
      for (const { reader, writer, mode, readerFirst } of cases) {
        const read = ["--open", `${reader}=${fifo}`];
        const write = ["--open", `${writer}=${fifo}:${mode}`];
        const r = await runWw([
          "run",
          `--jail=${jail}`,
          ...(readerFirst ? [...read, ...write] : [...write, ...read]),
          "/bin/sh",
          "-c",
          `echo "through the fifo" >&"$WW_FD_${writer.toUpperCase()}"; read line <&"$WW_FD_${reader.toUpperCase()}"; echo "got $line"`,
        ], {
          // A ww whose opens wait for each other fails in a minute, saying which it waited on.
          ww: ["/usr/bin/timeout", "60", ...wwCommand()],
        });
        assert.equal(
          r.code,
          0,
          `${JSON.stringify({ reader, writer, mode, readerFirst })}: ${r.stderr}`,
        );
        assert.equal(r.stdout, "got through the fifo\n");
      }
      // ww holds nothing of it once the run is over.
      assert.deepEqual(holdersOf(fifo), []);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

// `--open in=FIFO --open bad=/missing`: ww waited for the FIFO's writer before it opened the
// later grant, so the refusal came only after a writer or a signal (and --explain refused at
// once). And a run that granted both ends of a FIFO and then failed on another grant had let a
// process waiting on that FIFO through (ww holds both ends while it opens them), losing its data.
for (const jail of JAILS) {
  Deno.test(`[jail=${jail}] a refused grant is said before any FIFO end waits, and leaves whoever else waits on the FIFO waiting`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-grants-" });
    try {
      const fifo = `${dir}/fifo`;
      assert.equal(new Deno.Command("mkfifo", { args: [fifo] }).outputSync().code, 0);
      const missing = `${dir}/missing`;
      const ww = ["/usr/bin/timeout", "60", ...wwCommand()];
      // Nobody writes to the FIFO: a single end's wait would last the whole minute.
      for (const fifoFlags of [["--open", `in=${fifo}`], ["--open", `out=${fifo}:w`]]) {
        const r = await runWw(
          ["run", `--jail=${jail}`, ...fifoFlags, "--open", `bad=${missing}`, "/bin/true"],
          { ww },
        );
        assert.equal(r.code, 125, r.stderr);
        assert.deepEqual(errorLines(r.stderr), [
          `ww: --open bad=${missing}: no such file (check the path)`,
        ]);
      }
      // A writer of someone else's waits on the FIFO through a run that grants both its ends and
      // fails on a later grant; then it is read, as it would have been without that run.
      const writer = new Deno.Command("/bin/sh", {
        args: ["-c", 'echo "not for ww" > "$1"', "sh", fifo],
      }).spawn();
      try {
        await waitFor(
          "the writer waits on the FIFO",
          () => threadWaitsIn(writer.pid, "wait_for_partner"),
        );
        const r = await runWw([
          "run",
          `--jail=${jail}`,
          "--open",
          `out=${fifo}:w`,
          "--open",
          `in=${fifo}`,
          "--open",
          `bad=${missing}`,
          "/bin/true",
        ], { ww });
        assert.equal(r.code, 125, r.stderr);
        assert.ok(threadWaitsIn(writer.pid, "wait_for_partner"), "the writer still waits");
        const read = new Deno.Command("/bin/cat", { args: [fifo] }).outputSync();
        assert.equal(new TextDecoder().decode(read.stdout), "not for ww\n");
      } finally {
        try {
          writer.kill("SIGKILL");
        } catch { /* it ended */ }
        await writer.status;
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

// `--connect c=ADDR --listen l=ADDR`: ww opened the grants in flag order, and the connect found
// nobody listening yet (refused), while `--listen l=ADDR --connect c=ADDR` worked.
for (const jail of JAILS) {
  Deno.test(`[jail=${jail}] a --connect to the run's own --listen connects, whichever flag comes first`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-grants-" });
    try {
      const port = unchosenPort();
      for (const address of [`tcp:127.0.0.1:${port}`, `unix:${dir}/own.sock`]) {
        for (const connectFirst of [true, false]) {
          const listen = ["--listen", `l=${address}`];
          const connect = ["--connect", `c=${address}`];
          const r = await runWw([
            "run",
            `--jail=${jail}`,
            ...(connectFirst ? [...connect, ...listen] : [...listen, ...connect]),
            PYTHON,
            "-c",
            `import os, socket
s = socket.socket(fileno=int(os.environ["WW_FD_L"]))
c = socket.socket(fileno=int(os.environ["WW_FD_C"]))
c.sendall(b"to myself")
a, _ = s.accept()
print(a.recv(64).decode())`,
          ]);
          assert.equal(r.code, 0, `${address}, connect first: ${connectFirst}: ${r.stderr}`);
          assert.equal(r.stdout, "to myself\n");
        }
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

Deno.test("a stop signal ends ww's wait for a FIFO's other end: 128+N, one line naming the grant, and the FIFO is left as it was", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-grants-" });
  try {
    const fifo = `${dir}/fifo`;
    assert.equal(new Deno.Command("mkfifo", { args: [fifo] }).outputSync().code, 0);
    const cases = [
      { jail: "none", mode: "", signal: "SIGINT", code: 130, other: "a writer" },
      { jail: "native", mode: ":w", signal: "SIGTERM", code: 143, other: "a reader" },
      { jail: "bwrap", mode: ":a", signal: "SIGHUP", code: 129, other: "a reader" },
      { jail: "none", mode: "", signal: "SIGQUIT", code: 131, other: "a writer" },
    ] as const;
    for (const { jail, mode, signal, code, other } of cases) {
      // ww's open sleeps in wait_for_partner until the FIFO has both ends.
      const end = await stopWhileWaiting(
        [`--jail=${jail}`, "--open", `x=${fifo}${mode}`, "/bin/true"],
        "wait_for_partner",
        signal,
      );
      assert.equal(end.code, code, `${jail} ${signal}: ${end.stderr}`);
      assert.deepEqual(errorLines(end.stderr), [
        `ww: --open x=${fifo}${mode}: stopped by ${signal} while ww waited for ${other} at the FIFO's other end; nothing was run`,
      ]);
      assert.equal(end.stdout, "");
      assert.ok(Deno.lstatSync(fifo).isFifo, "the FIFO is still there");
    }
    // No process holds the FIFO open: ww's end, and the one it opened to end its wait, are closed.
    assert.deepEqual(holdersOf(fifo), []);
    // rw opens a FIFO at once (both ends): nothing to wait for, the program runs.
    const r = await runWw(["run", "--jail=none", "--open", `x=${fifo}:rw`, "/bin/true"]);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a stop signal ends ww's wait to connect a --connect grant: 128+N and one line, not the connect's timeout", async () => {
  const server = await unansweredListener();
  try {
    const { port } = server;
    for (
      const [jail, signal, code] of [["none", "SIGINT", 130], ["bwrap", "SIGTERM", 143]] as const
    ) {
      // ww's connect polls on a worker thread (poll_schedule_timeout).
      const end = await stopWhileWaiting(
        [`--jail=${jail}`, "--connect", `db=tcp:127.0.0.1:${port}`, "/bin/true"],
        "poll_schedule_timeout",
        signal,
      );
      assert.equal(end.code, code, `${jail} ${signal}: ${end.stderr}`);
      assert.deepEqual(errorLines(end.stderr), [
        `ww: --connect db=tcp:127.0.0.1:${port}: stopped by ${signal} while ww waited to connect; nothing was run`,
      ]);
    }
  } finally {
    await server.close();
  }
});

// --timeout started at the spawn: a grant's wait before it (a FIFO with nobody at its other end, a
// connect the peer never answers) outlasted it, and `ww run --timeout 2s --open x=FIFO /bin/true`
// waited until a signal came (a connect, its own 10 s).
for (const jail of JAILS) {
  Deno.test(`[jail=${jail}] --timeout bounds a grant's wait before the spawn: 124, one line naming the grant and the wait, nothing left`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-grants-" });
    const tmp = privateTmp();
    const server = await unansweredListener();
    try {
      const { port } = server;
      const fifo = `${dir}/fifo`;
      assert.equal(new Deno.Command("mkfifo", { args: [fifo] }).outputSync().code, 0);
      // A ww that waits on is SIGKILLed (137), well before the wait's own end (never, for a FIFO).
      const ww = ["/usr/bin/timeout", "-s", "KILL", "8", ...wwCommand()];
      const cases = [
        [["--open", `x=${fifo}`], "for a writer at the FIFO's other end"],
        [["--open", `x=${fifo}:w`], "for a reader at the FIFO's other end"],
        [["--connect", `x=tcp:127.0.0.1:${port}`], "to connect"],
      ] as const;
      for (const [grant, waited] of cases) {
        const tag = `tag=${crypto.randomUUID()}`;
        const started = performance.now();
        const r = await runWw(
          ["run", `--jail=${jail}`, "--timeout", "1s", ...grant, "/bin/echo", tag],
          { ww, env: { TMPDIR: tmp } },
        );
        const took = performance.now() - started;
        assert.equal(r.code, 124, `${grant.join(" ")}: ${r.stderr}`);
        assert.deepEqual(errorLines(r.stderr), [
          `ww: ${grant.join(" ")}: --timeout 1s expired while ww waited ${waited}; nothing was run`,
        ]);
        assert.equal(r.stdout, "");
        // ~1 s and ww's own start (a `deno run` of main.ts), far from the connect's 10 s.
        assert.ok(took < 6000, `${grant.join(" ")}: took ${Math.round(took)} ms`);
        assert.deepEqual(processesWithArg(tag), []);
      }
      assert.deepEqual(holdersOf(fifo), [], "nothing holds the FIFO open");
      assert.ok(Deno.lstatSync(fifo).isFifo, "the FIFO is still there");
      assert.deepEqual(wwDirs(tmp), []);
      // A library caller's start rejects alike, in its own words.
      const start = startProgram({
        program: "/bin/true",
        own: [{ name: "x", open: fifo }],
        jail: { backend: jail, timeoutMs: 500 },
      });
      const e = await start.then(() => undefined, (e) => e);
      assert.ok(e instanceof TimedOutError, String(e));
      assert.equal(e.exitCode, 124);
      assert.equal(e.timeoutMs, 500);
      assert.equal(
        e.message,
        `grant x (open ${fifo}): jail.timeoutMs 500 expired while ww waited for a writer at the FIFO's other end; nothing was run`,
      );
    } finally {
      await server.close();
      Deno.removeSync(dir, { recursive: true });
      Deno.removeSync(tmp, { recursive: true });
    }
  });
}

/**
 * A TCP listener on 127.0.0.1 with backlog 0 whose queue is full: the kernel drops further
 * handshakes, so a connect there waits (up to CONNECT_TIMEOUT_MS, 10 s). `close` ends it.
 */
async function unansweredListener(): Promise<{ port: number; close(): Promise<void> }> {
  const server = new Deno.Command(PYTHON, {
    args: [
      "-c",
      `import socket,sys
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(0)
port=s.getsockname()[1]
held=[]
for i in range(4):
    c=socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1",port))
    except BlockingIOError: pass
    held.append(c)
print(port, flush=True)
sys.stdin.read()`,
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const port = Number((await reader.read()).value!.trim());
  return {
    port,
    close: async () => {
      server.stdin.close();
      await server.status;
      await reader.cancel();
    },
  };
}

/** Waits (at most 30 s) until `check` holds. */
async function waitFor(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function isSocket(path: string): boolean {
  try {
    return Deno.lstatSync(path).isSocket === true;
  } catch {
    return false;
  }
}

Deno.test("--listen unix: the socket a SIGKILLed ww left behind is taken over by the next run", async () => {
  const dir = privateTmp();
  const path = `${dir}/s.sock`;
  const tag = `tag=${crypto.randomUUID()}`;
  try {
    const ww = startWw(
      ["--jail=none", "--listen", `s=unix:${path}`, child, tag, "wait-signal"],
      { TMPDIR: dir },
      "stdout",
    );
    // The program's own line, not a count of processes that carry the tag: ww's spawn carries it
    // (vfork shares ww's memory) until its execve of the program. A SIGKILL to ww then leaves it
    // running on into the program, which holds ww's stderr open, and the sweep for the tag below
    // can miss it (inside the execve its command line reads empty for a moment).
    await ww.until(/"ready":/);
    assert.ok(isSocket(path), "the program holds the socket");
    ww.proc.kill("SIGKILL");
    await ww.proc.status;
    // Unjailed, the program outlives ww and keeps the socket listening (and ww's stderr open):
    // it goes too.
    for (const pid of processesWithArg(tag)) Deno.kill(pid, "SIGKILL");
    await waitFor("the program is gone", () => processesWithArg(tag).length === 0);
    await ww.end();
    assert.ok(isSocket(path), "ww's SIGKILL left the socket file");
    await assert.rejects(Deno.connect({ transport: "unix", path }), "nobody listens on it");
    const r = await runWw(["run", "--jail=none", "--listen", `s=unix:${path}`, child], {
      env: { TMPDIR: dir },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"name":"s"|WW_FD_S/, "the program got the listener");
    assert.ok(!isSocket(path), "the run's own socket file goes with it");
  } finally {
    for (const pid of processesWithArg(tag)) Deno.kill(pid, "SIGKILL");
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("--listen unix: a live listener is not taken over, and what is not a socket is left alone", async () => {
  const dir = privateTmp();
  const live = Deno.listen({ transport: "unix", path: `${dir}/live.sock` });
  // ww's probe is a connection the live server sees; it is accepted and dropped here.
  const accepting = closeEachConnection(live);
  try {
    Deno.writeTextFileSync(`${dir}/file.sock`, "keep me\n");
    Deno.mkdirSync(`${dir}/dir.sock`);
    // A symlink to a dead socket: the link is not a socket, so it stays, and so does its target.
    new Deno.Command(PYTHON, {
      args: [
        "-c",
        "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
        `${dir}/dead.sock`,
      ],
    }).outputSync();
    Deno.symlinkSync(`${dir}/dead.sock`, `${dir}/link.sock`);
    const cases: [string, RegExp][] = [
      [
        "live.sock",
        /: in use: something listens on this socket \(stop it, or pick another path\)$/,
      ],
      ["file.sock", /: the path already exists and is not a socket /],
      ["dir.sock", /: the path already exists and is not a socket /],
      ["link.sock", /: the path already exists and is not a socket /],
    ];
    for (const [name, message] of cases) {
      const tag = `tag=${crypto.randomUUID()}`;
      const r = await runWw(
        ["run", "--jail=none", "--listen", `s=unix:${dir}/${name}`, child, tag],
        { env: { TMPDIR: dir } },
      );
      assert.equal(r.code, 125, r.stderr);
      const lines = errorLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], new RegExp(`^ww: --listen s=unix:.*${name}`));
      assert.match(lines[0], message);
      assert.deepEqual(processesWithArg(tag), [], "the program was started");
    }
    // The live server still has its socket, and answers on it.
    (await Deno.connect({ transport: "unix", path: `${dir}/live.sock` })).close();
    assert.equal(Deno.readTextFileSync(`${dir}/file.sock`), "keep me\n");
    assert.ok(Deno.statSync(`${dir}/dir.sock`).isDirectory);
    assert.ok(Deno.lstatSync(`${dir}/link.sock`).isSymlink);
    assert.ok(isSocket(`${dir}/dead.sock`));
    assert.deepEqual(wwDirs(dir), []);
  } finally {
    live.close();
    await accepting.catch(() => {});
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("--listen unix: of two runs taking over one stale socket at once, one wins and the other is told it is in use", async () => {
  const dir = privateTmp();
  const path = `${dir}/s.sock`;
  const done = `${dir}/done`;
  try {
    for (let round = 0; round < 3; round++) {
      new Deno.Command(PYTHON, {
        args: ["-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", path],
      }).outputSync();
      // Each holds the socket until told (at most 30 s): however far apart the two start under
      // load, the winner still listens when the other tries.
      const run = () =>
        runWw([
          "run",
          "--jail=none",
          "--listen",
          `s=unix:${path}`,
          "/bin/sh",
          "-c",
          `for i in $(seq 600); do [ -e ${done} ] && exit 0; sleep 0.05; done`,
        ], { env: { TMPDIR: dir } });
      const runs = [run(), run()];
      // The loser ends at once; two winners would both wait: let them go after 20 s.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([...runs, new Promise((r) => timer = setTimeout(r, 20_000))]);
      clearTimeout(timer);
      Deno.writeTextFileSync(done, "");
      const results = await Promise.all(runs);
      Deno.removeSync(done);
      const codes = results.map((r) => r.code).sort();
      assert.deepEqual(codes, [0, 125], results.map((r) => r.stderr).join(""));
      const loser = results.find((r) => r.code === 125)!;
      assert.match(errorLines(loser.stderr)[0], /^ww: --listen s=unix:.*s\.sock: in use: /);
      assert.ok(!isSocket(path), "the winner's socket file goes with it");
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

// The same race with its two takeovers interleaved in one process: each waits at the same points
// (the directory's lock, the probe's connect), so without the lock both would find the socket
// dead, the second would remove the first's new socket, and both would "win".
Deno.test("--listen unix: two takeovers interleaved in one process: the lock lets exactly one win", async () => {
  const dir = privateTmp();
  const path = `${dir}/s.sock`;
  const cleanups = [newCleanups(), newCleanups()];
  try {
    new Deno.Command(PYTHON, {
      args: ["-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", path],
    }).outputSync();
    const results = await Promise.allSettled(
      cleanups.map((c) => openOwnGrants([{ name: "s", listen: `unix:${path}` }], c)),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
    const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    assert.match(String(lost.reason), /in use: something listens on this socket/);
    // The winner's socket is the one at the path.
    (await Deno.connect({ transport: "unix", path })).close();
  } finally {
    cleanups.forEach((c) => c.run());
    Deno.removeSync(dir, { recursive: true });
  }
});

// A run's program has ended (nothing listens on its socket any more) and the run has not yet
// cleaned up: another run takes the path over meanwhile. The first run's clean-up must not remove
// the second run's new socket.
Deno.test("--listen unix: a run's clean-up leaves the socket of a run that took the path over", async () => {
  const dir = privateTmp();
  const path = `${dir}/s.sock`;
  const [first, second] = [newCleanups(), newCleanups()];
  try {
    const a = await openOwnGrants([{ name: "s", listen: `unix:${path}` }], first);
    a.closeInWw(); // as when its program has exited: the socket refuses connections
    await openOwnGrants([{ name: "s", listen: `unix:${path}` }], second);
    first.run();
    assert.ok(isSocket(path), "the first run's clean-up removed the second run's socket");
    (await Deno.connect({ transport: "unix", path })).close();
    second.run();
    assert.ok(!isSocket(path), "the second run's socket goes with it");
  } finally {
    first.run();
    second.run();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("--listen unix: what the program puts in place of its socket is not removed with the run", async () => {
  const dir = privateTmp();
  const path = `${dir}/s.sock`;
  try {
    const r = await runWw(
      [
        "run",
        "--jail=none",
        "--listen",
        `s=unix:${path}`,
        "/bin/sh",
        "-c",
        `rm ${path}; echo mine > ${path}`,
      ],
      { env: { TMPDIR: dir } },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Deno.readTextFileSync(path), "mine\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("--listen unix: a live datagram socket at the path is in use, in one line, and stays", async () => {
  const dir = privateTmp();
  const path = `${dir}/dg.sock`;
  const server = new Deno.Command(PYTHON, {
    args: [
      "-c",
      "import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); print(flush=True); sys.stdin.read()",
      path,
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const reader = server.stdout.getReader();
  try {
    await reader.read(); // bound
    const r = await runWw(["run", "--jail=none", "--listen", `s=unix:${path}`, child], {
      env: { TMPDIR: dir },
    });
    assert.equal(r.code, 125, r.stderr);
    assert.deepEqual(errorLines(r.stderr), [
      `ww: --listen s=unix:${path}: in use: something listens on this socket (stop it, or pick another path)`,
    ]);
    assert.ok(isSocket(path), "the live socket was removed");
  } finally {
    reader.releaseLock();
    await server.stdin.close();
    await server.status;
    await server.stdout.cancel();
    Deno.removeSync(dir, { recursive: true });
  }
});

// Any process that may read a socket's directory can flock it (/tmp: every user): a run then took
// a stale socket there for a live one, "in use: something listens on this socket". A run taking a
// path over holds the lock for a probe and a bind; one held 2 s is no such run's, and the stale
// socket is left, in one line that says so (taken over without the lock, it could be another
// run's by then).
Deno.test("--listen unix: a stale socket whose directory another process keeps locked is left, in one line saying so", async () => {
  const dir = privateTmp();
  const path = `${dir}/s.sock`;
  const holder = new Deno.Command("flock", {
    args: ["--no-fork", dir, "sleep", "60"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    // flock takes the lock before it runs sleep.
    const held = () => Deno.readTextFileSync("/proc/locks").includes(`:${Deno.statSync(dir).ino} `);
    for (let i = 0; i < 500 && !held(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(held(), "flock(1) holds the directory's lock");
    staleSocket(path, false);
    const r = await runWw(["run", "--jail=none", "--listen", `s=unix:${path}`, "/bin/true"]);
    assert.equal(r.code, 125, r.stderr);
    assert.deepEqual(errorLines(r.stderr), [
      `ww: --listen s=unix:${path}: a stale socket is there, and another process has held its directory's lock (flock) for over 2 s, which a run taking it over does not: ww leaves it (try again, or remove the socket)`,
    ]);
    assert.ok(isSocket(path), "the socket was removed");
  } finally {
    holder.kill("SIGKILL");
    await holder.status;
    Deno.removeSync(dir, { recursive: true });
  }
});

const AS_NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups"];

/** A stale socket at `path` (bound, and its process gone), made as root or as uid 65534. */
function staleSocket(path: string, asNobody: boolean): void {
  const made = new Deno.Command(asNobody ? "setpriv" : PYTHON, {
    args: [
      ...(asNobody ? [...AS_NOBODY, PYTHON] : []),
      "-c",
      "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
      path,
    ],
  }).outputSync();
  assert.ok(made.success && isSocket(path), new TextDecoder().decode(made.stderr));
}

/** `ww run --jail=none --listen s=unix:PATH` as uid 65534 (its Deno cache in `dir`): its error lines. */
async function listenAsNobody(path: string, dir: string): Promise<string[]> {
  const tag = `tag=${crypto.randomUUID()}`;
  const { code, stderr } = await runWwAsUser(
    65534,
    ["run", "--jail=none", "--listen", `s=unix:${path}`, child, tag],
    dir,
  );
  assert.equal(code, 125, stderr);
  assert.deepEqual(processesWithArg(tag), [], "the program was started");
  return errorLines(stderr);
}

Deno.test("--listen unix: a stale socket in a directory the caller may write but not read is left, in one line", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-grants-" });
  const sockets = `${dir}/sockets`;
  Deno.chmodSync(dir, 0o755);
  Deno.mkdirSync(sockets);
  Deno.chmodSync(sockets, 0o733); // others: write and search, no read
  const path = `${sockets}/s.sock`;
  try {
    staleSocket(path, true);
    assert.deepEqual(await listenAsNobody(path, dir), [
      `ww: --listen s=unix:${path}: a socket is there, and ww cannot read its directory to lock it while it takes the socket over (remove the socket, or pick another path)`,
    ]);
    assert.ok(isSocket(path), "the socket was removed");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("--listen unix: another user's stale socket in a sticky directory is left, in one line", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-grants-" });
  const sockets = `${dir}/sockets`;
  Deno.chmodSync(dir, 0o755);
  Deno.mkdirSync(sockets);
  Deno.chmodSync(sockets, 0o1777); // as /tmp
  try {
    // root's: one the caller may not connect to (0755), one it may (0777) but not remove.
    for (const [name, mode] of [["closed.sock", 0o755], ["open.sock", 0o777]] as const) {
      const path = `${sockets}/${name}`;
      staleSocket(path, false);
      Deno.chmodSync(path, mode);
      assert.deepEqual(await listenAsNobody(path, dir), [
        `ww: --listen s=unix:${path}: another user's socket is there, which ww may not probe or remove (its owner may remove it, or pick another path)`,
      ]);
      assert.ok(isSocket(path), "the socket was removed");
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/** This machine's ELF e_machine. */
const NATIVE_MACHINE = Deno.build.arch === "aarch64" ? 183 : 62;

/** A 64-bit little-endian ELF executable's header for `machine`, with no program headers. */
function elfHeader(machine: number): Uint8Array {
  const elf = new Uint8Array(64);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  const view = new DataView(elf.buffer);
  view.setUint16(16, 2, true); // e_type: ET_EXEC
  view.setUint16(18, machine, true); // e_machine
  view.setUint32(20, 1, true); // e_version
  view.setUint16(52, 64, true); // e_ehsize; e_phentsize (54) stays 0
  return elf;
}

// Under bwrap the stage in the jail executes the program: its execve failed after the jail was
// made, and ww took its exit code, 126, for the program's, keeping what --open had created for a
// program that never ran; and every backend said "not a binary, and no #! line" of an ELF file.
// (A program for another architecture is refused before the run now: see the next test.)
for (const jail of JAILS) {
  Deno.test(`--jail=${jail}: a program the kernel will not load is named so (exit 126), and what --open made for it goes`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-open-unloadable-" });
    try {
      Deno.chmodSync(dir, 0o755);
      // This machine's ELF executable header, with program headers of size 0: the kernel's
      // first consistency check refuses it (ENOEXEC).
      Deno.writeFileSync(`${dir}/broken`, elfHeader(NATIVE_MACHINE), { mode: 0o755 });
      const r = await runWw([
        "run",
        `--jail=${jail}`,
        "--ro-bind",
        `${dir}/broken`,
        "--open",
        `made=${dir}/made.txt:w`,
        `${dir}/broken`,
      ]);
      assert.equal(r.code, 126, r.stderr);
      assert.equal(errorLines(r.stderr).length, 1, r.stderr);
      assert.match(
        r.stderr,
        /ENOEXEC \(an ELF program for this machine that the kernel cannot load: cut short, or damaged\?\)\n$/,
      );
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["broken"]);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

// A program for another architecture was found out at its execve only: --explain, which runs
// nothing, said all was well (exit 0) where the run said 126. Both refuse it now, before the jail
// is made and before any --open, where ww can read binfmt_misc's handlers and none runs it; where
// it cannot (not mounted, as in most containers, whose host's qemu-user may still run it), execve
// decides, as before. Each case in a mount namespace of its own, binfmt_misc shown or hidden.
for (const jail of JAILS) {
  Deno.test({
    name:
      `--jail=${jail}: a program for another architecture is refused before the run, by --explain too, where binfmt_misc shows no handler for it`,
    ignore: Deno.uid() !== 0,
    fn: async () => {
      const dir = Deno.makeTempDirSync({ prefix: "wwtest-open-foreign-" });
      const binfmt = "/proc/sys/fs/binfmt_misc";
      const inMountNamespace = (mount: string, args: string[]) =>
        runWw(["run", ...args], {
          ww: [
            "unshare",
            "-m",
            "--propagation",
            "private",
            "/bin/sh",
            "-c",
            `${mount} && exec "$@"`,
            "sh",
            ...wwCommand(),
          ],
        });
      try {
        Deno.chmodSync(dir, 0o755);
        // An ELF executable's header for machine 75 (VAX), which nothing here runs.
        Deno.writeFileSync(`${dir}/vax`, elfHeader(75), { mode: 0o755 });
        const run = [`--jail=${jail}`, "--open", `made=${dir}/made.txt:w`, `${dir}/vax`];
        for (const explain of [[], ["--explain"]]) {
          const r = await inMountNamespace(`mount -t binfmt_misc binfmt_misc ${binfmt}`, [
            ...explain,
            ...run,
          ]);
          assert.equal(r.code, 126, r.stderr);
          assert.equal(
            r.stderr,
            `ww: ${dir}/vax: cannot execute: it is an ELF program for machine 75, but this machine is ${Deno.build.arch}; use a build for ${Deno.build.arch}, or register a binfmt_misc handler for it (qemu-user)\n`,
          );
        }
        assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["vax"]);
        // Hidden: left to execve, whose ENOEXEC is worded from the same bytes.
        const hidden = await inMountNamespace(`mount -t tmpfs none ${binfmt}`, run);
        assert.equal(hidden.code, 126, hidden.stderr);
        assert.match(
          hidden.stderr,
          /ENOEXEC \(it is an ELF program for machine 75, but this machine is (x86_64|aarch64); use a build for \1\)\n$/,
        );
        assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["vax"]);
      } finally {
        Deno.removeSync(dir, { recursive: true });
      }
    },
  });
}

// ww opened its grants, then the launcher refused the run (a check that needs the jail's plan):
// a `:w` file had been truncated already, and a file an `--open` created stayed behind.
for (const jail of JAILS) {
  Deno.test(`--jail=${jail}: a run refused after its grants were opened truncates and leaves no file`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-open-refused-" });
    try {
      Deno.writeTextFileSync(`${dir}/keep.txt`, "important\n");
      // Refused by the launcher: a lease-range uid as root, a missing bind source; unjailed, a
      // missing --chdir.
      const refusals = jail === "none"
        ? [["--chdir", `${dir}/missing`]]
        : [["--uid", "70005"], ["--bind", `${dir}/missing`]];
      for (const refusal of refusals) {
        const r = await runWw([
          "run",
          `--jail=${jail}`,
          "--open",
          `out=${dir}/keep.txt:w`,
          "--open",
          `made=${dir}/made.txt:a`,
          ...refusal,
          "/bin/true",
        ]);
        assert.equal(r.code, 125, r.stderr);
        assert.equal(errorLines(r.stderr).length, 1, r.stderr);
        assert.equal(Deno.readTextFileSync(`${dir}/keep.txt`), "important\n", refusal.join(" "));
        assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["keep.txt"]);
      }
      if (jail !== "none") {
        // Refused by the jail itself once spawned (its user cannot enter --chdir): what the
        // --opens created is removed all the same. (The `:w` file was truncated at the spawn.)
        Deno.chmodSync(dir, 0o755);
        Deno.mkdirSync(`${dir}/closed`, { mode: 0o700 });
        const r = await runWw([
          "run",
          `--jail=${jail}`,
          "--ro-bind",
          dir,
          "--chdir",
          `${dir}/closed`,
          "--open",
          `made=${dir}/made.txt:a`,
          "/bin/true",
        ]);
        assert.equal(r.code, 125, r.stderr);
        assert.match(r.stderr, /cannot enter it/);
        assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
          "closed",
          "keep.txt",
        ]);
        Deno.removeSync(`${dir}/closed`);
      }
      // A run that starts truncates `:w` and keeps what `:a` created.
      const ok = await runWw([
        "run",
        `--jail=${jail}`,
        "--open",
        `out=${dir}/keep.txt:w`,
        "--open",
        `made=${dir}/made.txt:a`,
        "/bin/sh",
        "-c",
        'echo new >&"$WW_FD_OUT"',
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(Deno.readTextFileSync(`${dir}/keep.txt`), "new\n");
      assert.equal(Deno.readTextFileSync(`${dir}/made.txt`), "");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

// The listening line came as soon as the port was bound: a run refused afterwards (a --chdir the
// jail does not show) announced a port it never served, in a second line.
for (const jail of ["none", "native", "bwrap"]) {
  Deno.test(`[jail=${jail}] a run refused before it starts announces no listener`, async () => {
    const r = await runWw([
      "run",
      `--jail=${jail}`,
      "--listen",
      "t=tcp:127.0.0.1:0",
      "--chdir",
      "/nonexistent-wwtest",
      "/bin/true",
    ]);
    assert.equal(r.code, 125, r.stderr);
    assert.doesNotMatch(r.stderr, /listening on/);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  });
}

// A listening unix socket said "failed (EIO)": its open's ENXIO was taken for a FIFO with no
// reader yet, waited on, and turned into EIO.
Deno.test("--open of a unix socket is ENXIO, and the line points at --connect unix:", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-open-sock-" });
  const listener = Deno.listen({ transport: "unix", path: `${dir}/s.sock` });
  try {
    const r = await runWw(["run", "--jail=none", "--open", `s=${dir}/s.sock`, "/bin/true"]);
    assert.equal(r.code, 125, r.stderr);
    assert.deepEqual(errorLines(r.stderr), [
      `ww: --open s=${dir}/s.sock: no such device or address (ENXIO): a unix socket is reached with --connect s=unix:${dir}/s.sock, and a device needs something behind it`,
    ]);
  } finally {
    listener.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

// The kernel says ENOENT or EISDIR for these, in an existing directory: ww said "the parent
// directory does not exist" and "is a directory", and nothing was made.
Deno.test("a socket or new file named with a trailing '/', or in /proc, is refused for what it is", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-open-slash-" });
  try {
    const cases: [string, RegExp][] = [
      [`--listen=s=unix:${dir}/x.sock/`, /: the path ends in '\/', .* to name a socket\)$/],
      // A socket's path that ends in '/' is never one, whatever else is wrong with it.
      [`--listen=s=unix:${dir}/nodir/x.sock/`, /: the path ends in '\/', .* to name a socket\)$/],
      [`--open=f=${dir}/f/:w`, /: the path ends in '\/', .* to name a file\)$/],
      ["--listen=s=unix:/proc/1/x.sock", /: \/proc holds only the kernel's own entries/],
    ];
    for (const [flag, line] of cases) {
      const r = await runWw(["run", "--jail=none", flag, "/bin/true"]);
      assert.equal(r.code, 125, r.stderr);
      const lines = errorLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], line);
    }
    // Where the '/' is not what is wrong, the kernel's reason stays: a directory read, a missing
    // path read, a new file whose directory is missing.
    Deno.mkdirSync(`${dir}/d`);
    const kept: [string, RegExp][] = [
      [`--open=o=${dir}/d/`, /: is a directory \(name a file\)$/],
      [`--open=o=${dir}/missing/`, /: no such file \(check the path\)$/],
      [`--open=o=${dir}/nodir/x/:w`, /: the parent directory does not exist/],
    ];
    for (const [flag, line] of kept) {
      const r = await runWw(["run", "--jail=none", flag, "/bin/true"]);
      assert.equal(r.code, 125, r.stderr);
      assert.match(errorLines(r.stderr)[0], line, flag);
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["d"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

// /proc shows each of ww's threads as a process of its own: --open e=/proc/<tid>/environ handed
// the jail ww's environment, and .../mem ww's memory, past the check of ww's pid.
Deno.test("a file of this process is its own under its pid and under any of its threads' ids", () => {
  const tids = [...Deno.readDirSync("/proc/self/task")].map((e) => e.name)
    .filter((t) => t !== String(Deno.pid));
  assert.ok(tids.length > 0, "Deno runs threads");
  for (const id of [String(Deno.pid), ...tids]) {
    for (const file of ["environ", "mem", "task/1/maps"]) {
      assert.equal(isOwnProcessFile(`/proc/${id}/${file}`), true, `/proc/${id}/${file}`);
    }
  }
  assert.equal(isOwnProcessFile("/proc/1/environ"), false);
  assert.equal(isOwnProcessFile("/etc/passwd"), false);
  assert.equal(isOwnProcessFile("/proc/sys/kernel/ostype"), false);
});

// --open x=/proc/self/fd/N (or /dev/fd/N, or any other spelling) opens ww's own fd N: in a process
// that runs several programs (a library caller), N may be a pipe of another run's stage or of
// bwrap's status, which the program would read and write. One inherited from the caller
// (/dev/stdin) is still the caller's to give.
Deno.test("isOwnDescriptor: a pipe this process holds only close-on-exec, however it was reached; a file only through /proc", () => {
  const [read, write] = pipe(); // close-on-exec: this process's own
  const isOwn = (path: string) => {
    const fd = openReadOnly(path);
    try {
      return isOwnDescriptor(fd, Deno.statSync(`/proc/self/fd/${fd}`), path.startsWith("/proc/"));
    } finally {
      closeFd(fd);
    }
  };
  try {
    // Every spelling of /proc/self/fd/N reaches the same pipe.
    for (
      const path of [
        `/proc/self/fd/${read}`,
        `/proc/self/fd/../fd/${read}`,
        `/proc/self/task/${Deno.pid}/fd/${read}`,
        `/proc/self/root/proc/self/fd/${read}`,
      ]
    ) {
      assert.equal(isOwn(path), true, path);
    }
  } finally {
    closeFd(read);
    closeFd(write);
  }
  // A regular file this process also holds is a file like any other by its own path; through
  // /proc it is this process's descriptor (Deno's caches, a typo's /dev/fd/9).
  const held = openReadOnly("/etc/hostname");
  try {
    assert.equal(isOwn("/etc/hostname"), false);
    assert.equal(isOwn(`/proc/self/fd/${held}`), true);
  } finally {
    closeFd(held);
  }
});

// The caller's own stdio, which ww holds too (also as close-on-exec copies of Deno's), is still
// the caller's to give by /dev/stdin.
for (const jail of ["none", "native", "bwrap"]) {
  Deno.test(`[jail=${jail}] --open x=/dev/stdin gives the program the caller's stdin`, async () => {
    const ok = await runWw(
      ["run", `--jail=${jail}`, "--open", "x=/dev/stdin", "/bin/sh", "-c", 'cat <&"$WW_FD_X"'],
      { stdin: "hi\n" },
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "hi\n");
  });
}

// Where ww is not root, a jail writes as ww's own user: a directory of that user's on the way could
// be swapped for a link between the check and the bind, and was trusted as root's. The socket is
// bound through its directory held open there.
Deno.test("--listen unix: ww not root binds in its own user's directory through the held directory", async () => {
  // The user's own home (0755), where only it (and so its jails) may write.
  const home = Deno.makeTempDirSync({ prefix: "wwtest-grants-user-" });
  Deno.chmodSync(home, 0o755);
  Deno.chownSync(home, 4247, 4247);
  const sockets = `${home}/sockets`;
  Deno.mkdirSync(sockets);
  Deno.chownSync(sockets, 4247, 4247);
  try {
    const r = await runWwAsUser(4247, [
      "run",
      "--jail=none",
      "--listen",
      `s=unix:${sockets}/u.sock`,
      "/usr/bin/python3",
      "-c",
      "import socket, os; print(socket.socket(fileno=int(os.environ['WW_FD_S'])).getsockname())",
    ], home);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\/proc\/self\/fd\/\d+\/u\.sock\n$/);
    assert.equal(isSocket(`${sockets}/u.sock`), false, "the socket goes with the run");
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

// A socket as ww's stdin (a systemd service's, say): --open i=/dev/stdin met ENXIO, and the line
// said to --connect to unix:/dev/stdin, which refused; a socket has no path, only its descriptor.
Deno.test("--open of /dev/stdin when it is a socket names the descriptor to grant instead", async () => {
  const asSocketStdin = [
    "python3",
    "-c",
    "import os, socket, sys\n" +
    "a, b = socket.socketpair()\n" +
    "os.dup2(a.fileno(), 0)\n" +
    "os.execvp(sys.argv[1], sys.argv[1:])",
    ...wwCommand(),
  ];
  // Opened to write, it was said the same way only by the open that does not create (:w, :a and
  // :rw create when missing).
  for (const mode of ["", ":w", ":a", ":rw"]) {
    const r = await runWw(["run", "--jail=none", "--open", `i=/dev/stdin${mode}`, "/bin/true"], {
      ww: asSocketStdin,
    });
    assert.equal(r.code, 125, r.stderr);
    assert.deepEqual(errorLines(r.stderr), [
      `ww: --open i=/dev/stdin${mode}: that is a socket (fd 0), which no path opens: give the descriptor itself (--with-fd i=0)`,
    ]);
  }
  const followed = await runWw(["run", "--jail=none", "--with-fd", "i=0", "/bin/true"], {
    ww: asSocketStdin,
  });
  assert.equal(followed.code, 0, followed.stderr);
});

// A --listen unix: socket was bound through its directory held open, at /proc/self/fd/N/name, the
// address the kernel records: a server that checks its socket is the one at its path
// (sd_is_socket_unix with a path) refused it, under every backend, and `ss` showed that name. Where
// no one but root and ww's user can change the directories on the way, the path is bound as given,
// resolved: `./x.sock`, `DIR//x.sock` and one through root's link to DIR were still bound at
// /proc/self/fd/N/x.sock.
Deno.test("--listen unix: the socket's address is the path given, where only its owners can change the way", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-grants-" });
  Deno.chmodSync(dir, 0o755); // the jail's user walks to it; only root writes it
  const link = `${dir}-link`;
  Deno.symlinkSync(dir, link);
  const name = (fd: number) =>
    `import socket; print(socket.socket(fileno=${fd}).getsockname(), flush=True)`;
  try {
    for (const jail of ["none", "bwrap", "native"]) {
      for (
        const [given, sock] of [
          [`${dir}/${jail}.sock`, `${dir}/${jail}.sock`],
          [`./${jail}-rel.sock`, `${dir}/${jail}-rel.sock`],
          [`${dir}/.//${jail}-dots.sock`, `${dir}/${jail}-dots.sock`],
          [`${link}/${jail}-link.sock`, `${dir}/${jail}-link.sock`],
        ]
      ) {
        const r = await runWw([
          "run",
          `--jail=${jail}`,
          "--listen",
          `admin=unix:${given}`,
          "/usr/bin/python3",
          "-c",
          name(4),
        ], { before: `cd ${dir}` });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `${sock}\n`, `${jail}: ${given}`);
      }
    }
  } finally {
    Deno.removeSync(link);
    Deno.removeSync(dir, { recursive: true });
  }
});
