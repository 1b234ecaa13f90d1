// `--socket-activation` with real clients of systemd's protocol (sd_listen_fds(3)) under every
// backend: a python3 server that follows the protocol's rules by hand, a C server that uses
// libsystemd's sd_listen_fds_with_names, the TypeScript guest library reaching the host through
// WW_HOST_FD, the layout with every kind of grant and the flags shuffled, --explain, and the bad
// combinations, each one line with nothing left behind.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_IPFS_API, DEFAULT_POLICY, startProgram, UsageError } from "../../mod.ts";
import { BUILD_DIR } from "../support/build.ts";
import { reportFds } from "../support/children.ts";
import { unchosenPort } from "../support/listeners.ts";
import { AF_UNIX, parseReport, SOCK_STREAM } from "../support/report.ts";
import { REPO, runWw, startWw } from "../support/ww.ts";

const JAILS = ["bwrap", "native", "none"] as const;
const PYTHON = "/usr/bin/python3";
const AF_INET = 2;
const SOCK_DGRAM = 2;

/** The port ww reported for listener `name` (`ww: <name> listening on 127.0.0.1:<port>`). */
function reportedPort(stderr: string, name: string): number {
  const m = stderr.match(new RegExp(`^ww: ${name} listening on 127\\.0\\.0\\.1:(\\d+)$`, "m"));
  assert.ok(m, stderr);
  return Number(m[1]);
}

/** Everything `conn` sends until it closes. */
async function readAll(conn: Deno.Conn, send?: string): Promise<string> {
  if (send) await conn.write(new TextEncoder().encode(send));
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  for (let n; (n = await conn.read(buf)) !== null;) chunks.push(buf.slice(0, n));
  conn.close();
  return new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
}

// A python3 HTTP server that takes its sockets as sd_listen_fds(3) says a service must: only when
// LISTEN_PID is its own pid, LISTEN_FDS of them from fd 3, named by LISTEN_FDNAMES. It serves one
// request on the socket named "http", and prints what it found, the host socket's kind included.
const PY_SERVER = `
import http.server, json, os, socket, sys
if os.environ.get("LISTEN_PID") != str(os.getpid()):
    sys.exit("LISTEN_PID=%s is not my pid %d" % (os.environ.get("LISTEN_PID"), os.getpid()))
count = int(os.environ["LISTEN_FDS"])
names = os.environ["LISTEN_FDNAMES"].split(":")
assert len(names) == count, names
sockets = {name: socket.socket(fileno=3 + i) for i, name in enumerate(names)}
host = socket.socket(fileno=int(os.environ["WW_HOST_FD"]))
found = {
    "names": names,
    "fds": {name: s.fileno() for name, s in sockets.items()},
    "types": {name: int(s.type) for name, s in sockets.items()},
    "host": [int(host.family), int(host.type)],
}
host.detach()
print(json.dumps(found), flush=True)
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from a socket-activated server"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("", 0), Handler, bind_and_activate=False)
server.socket = sockets["http"]
sys.stderr.write("server started\\n")
sys.stderr.flush()
server.handle_request()
`;

for (const jail of JAILS) {
  Deno.test(`[jail=${jail}] a python3 server following sd_listen_fds(3) is reached from the host`, async () => {
    const ww = startWw([
      `--jail=${jail}`,
      "--socket-activation",
      "--listen",
      "metrics=udp:127.0.0.1:0",
      "--listen",
      "http=tcp:127.0.0.1:0",
      PYTHON,
      "-c",
      PY_SERVER,
    ]);
    const port = reportedPort(await ww.until(/server started/), "http");
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const response = await readAll(conn, "GET / HTTP/1.0\r\nHost: jail\r\n\r\n");
    assert.match(response, /^HTTP\/1\.0 200 OK/);
    assert.match(response, /hello from a socket-activated server$/);
    const end = await ww.end();
    assert.equal(end.code, 0, end.stderr);
    assert.deepEqual(JSON.parse(end.stdout), {
      // By name: HTTP before METRICS.
      names: ["http", "metrics"],
      fds: { http: 3, metrics: 4 },
      types: { http: SOCK_STREAM, metrics: SOCK_DGRAM },
      host: [AF_UNIX, SOCK_STREAM],
    });
  });
}

/** tests/run/sd_listen.c linked with libsystemd, built into tests/.build/. */
async function sdListen(): Promise<string> {
  if (!existsSync("/usr/include/systemd/sd-daemon.h")) {
    throw new Error(
      "libsystemd-dev is not installed, so sd_listen_fds_with_names cannot be tested: apt-get install -y libsystemd-dev",
    );
  }
  const source = new URL("./sd_listen.c", import.meta.url);
  const text = await Deno.readFile(source);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", text));
  const hash = [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const out = join(BUILD_DIR, `sd_listen-${hash}`);
  if (existsSync(out)) return out;
  Deno.mkdirSync(BUILD_DIR, { recursive: true });
  const tmp = `${out}.${crypto.randomUUID()}.tmp`;
  const r = await new Deno.Command("gcc", {
    args: [
      "-O1",
      "-Wall",
      "-Wextra",
      "-Werror",
      "-std=gnu11",
      "-o",
      tmp,
      source.pathname,
      "-lsystemd",
    ],
  }).output();
  if (!r.success) throw new Error(`gcc sd_listen.c failed:\n${new TextDecoder().decode(r.stderr)}`);
  Deno.renameSync(tmp, out);
  return out;
}

for (const jail of JAILS) {
  Deno.test(`[jail=${jail}] libsystemd's sd_listen_fds_with_names takes the sockets by name`, async () => {
    const server = await sdListen();
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-sockact-" });
    const path = `${dir}/api.sock`;
    try {
      const ww = startWw([
        `--jail=${jail}`,
        "--listen",
        "web=tcp:127.0.0.1:0",
        "--socket-activation",
        "--listen",
        `api=unix:${path}`,
        "--listen",
        "Stats=udp:127.0.0.1:0",
        server,
        "web",
      ]);
      const port = reportedPort(await ww.until(/web listening on/), "web");
      // The server answers once it has taken its sockets, whenever it starts.
      const line = await readAll(await Deno.connect({ hostname: "127.0.0.1", port }));
      assert.equal(line, "hello from sd_listen_fds\n");
      const end = await ww.end();
      assert.equal(end.code, 0, end.stderr);
      assert.deepEqual(JSON.parse(end.stdout), {
        count: 3,
        unset: true,
        // By upper-cased name: API, STATS, WEB; libsystemd reports the names as given.
        sockets: [
          { fd: 3, name: "api", inet_stream_listening: 0, unix: 1, dgram: 0 },
          { fd: 4, name: "Stats", inet_stream_listening: 0, unix: 0, dgram: 1 },
          { fd: 5, name: "web", inet_stream_listening: 1, unix: 0, dgram: 0 },
        ],
      });
      assert.deepEqual([...Deno.readDirSync(dir)], []);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

Deno.test("without --socket-activation, libsystemd finds no sockets (the test can fail)", async () => {
  const server = await sdListen();
  const r = await runWw(["run", "--jail=none", "--listen", "web=tcp:127.0.0.1:0", server]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /sd_listen_fds_with_names: 0 \(no sockets\)/);
});

for (const jail of JAILS) {
  Deno.test(`[jail=${jail}] the layout: listeners by name from fd 3, the host socket, then every other grant; flag order does not matter`, async () => {
    const child = await reportFds();
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-sockact-" });
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
        ["--listen", "web=tcp:127.0.0.1:0"],
        ["--with-fd", "early=7"],
        ["--listen", `b_sock=unix:${dir}/s.sock`],
        ["--connect", `conn=tcp:127.0.0.1:${tcp.addr.port}`],
        ["--socket-activation"],
        ["--listen", "Alpha=udp:127.0.0.1:0"],
      ];
      const expected = {
        LISTEN_FDNAMES: "Alpha:b_sock:web",
        LISTEN_FDS: "3",
        WW_FD_ALPHA: "3",
        WW_FD_B_SOCK: "4",
        WW_FD_WEB: "5",
        WW_HOST_FD: "6",
        WW_FD_EARLY: "7",
        WW_FD_CONN: "8",
        WW_FD_ZED: "9",
      };
      for (
        const order of [
          flags,
          [...flags].reverse(),
          [3, 6, 0, 5, 2, 4, 1].map((i) => flags[i]),
        ]
      ) {
        const r = await runWw(["run", `--jail=${jail}`, ...order.flat(), child], {
          fds: { 7: { read: "/dev/null" } },
        });
        assert.equal(r.code, 0, r.stderr);
        const report = parseReport(r.stdout);
        const { LISTEN_PID, ...env } = report.env;
        assert.deepEqual(env, expected);
        // As the program sees it: under bwrap, in its pid namespace.
        assert.equal(LISTEN_PID, String(report.pid));
        const at = (fd: number) => report.fds.find((f) => f.fd === fd);
        assert.deepEqual(
          [3, 4, 5, 6].map((fd) => [at(fd)?.domain, at(fd)?.type]),
          [[AF_INET, SOCK_DGRAM], [AF_UNIX, SOCK_STREAM], [AF_INET, SOCK_STREAM], [
            AF_UNIX,
            SOCK_STREAM,
          ]],
        );
        assert.deepEqual(
          [7, 8, 9, 10].map((fd) => at(fd)?.kind),
          ["char", "socket", "file", undefined],
        );
      }
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["f"]);
    } finally {
      tcp.close();
      await accepting;
      accepted.forEach((c) => c.close());
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

Deno.test("the TypeScript guest reaches the host through WW_HOST_FD; the programs it starts inherit no listener", async () => {
  const example = `${REPO}examples/rpc-guest/main.ts`;
  // A fixed port: a program the guest starts through --with-exec that inherited the listener
  // would have ww bind it again, and fail (address in use).
  const port = unchosenPort();
  const r = await runWw([
    "run",
    "--jail=none",
    "--socket-activation",
    "--listen",
    `web=tcp:127.0.0.1:${port}`,
    "--with-console",
    "--with-exec",
    // A guest that took fd 3 for the host socket would wait on the listener forever.
    "--timeout",
    "30s",
    "--env",
    "HOME",
    "--env",
    "PATH",
    Deno.execPath(),
    "run",
    "-A",
    "--config",
    `${REPO}deno.json`,
    example,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  assert.deepEqual(report.identity.grants, ["console", "exec"]);
  assert.match(r.stderr, /: info: hello from TypeScript$/m);
  // `/bin/sh -c 'exit 3'`, started with the guest's --with-fd grants only (none).
  assert.deepEqual(report.exec, { code: 3, signal: "" });
});

Deno.test("--explain shows the listeners from fd 3, the host socket at WW_HOST_FD, and LISTEN_PID", async () => {
  const r = await runWw([
    "run",
    "--explain",
    "--jail=bwrap",
    "--socket-activation",
    "--listen",
    "web=tcp:127.0.0.1:0",
    "--open",
    "f=/etc/hostname",
    "/bin/true",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  const from = lines.indexOf("descriptors:");
  assert.deepEqual(lines.slice(from + 1, from + 6), [
    "  0-2  ww's stdin, stdout, stderr",
    "  3    web (a listening socket on tcp:127.0.0.1:0, opened by ww, socket activation) WW_FD_WEB=3",
    "  4    host socket (AF_UNIX stream; Cap'n Proto RPC) WW_HOST_FD=4",
    "  5    f (/etc/hostname opened read only with ww's own rights) WW_FD_F=5",
    "  every other descriptor is closed",
  ]);
  for (const v of ["LISTEN_FDS=1", "LISTEN_FDNAMES=web", "WW_HOST_FD=4"]) {
    assert.ok(lines.includes(`  ${v}`), r.stdout);
  }
  assert.ok(lines.some((l) => l.startsWith("  LISTEN_PID=<the program's own pid")), r.stdout);
  // bwrap runs the stage in the jail in the mode that sets LISTEN_PID.
  // (-report: the program's stderr's descriptor comes first; issue 16.)
  assert.match(
    r.stdout,
    /\/\.ww-stage exec-tmpfs-listen-pid-report-landlock-offline \d+ \d+ \/bin\/true - \/bin\/true$/m,
  );
});

Deno.test("--socket-activation without a --listen grant: one line, exit 125, nothing opened", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-sockact-" });
  const unix = Deno.listen({ transport: "unix", path: `${dir}/db.sock` });
  let connections = 0;
  const accepting = (async () => {
    try {
      for (;;) (await unix.accept()).close(), connections++;
    } catch { /* closed */ }
  })();
  try {
    const message =
      "ww: --socket-activation: no --listen grant to pass (add one, e.g. --listen http=tcp:127.0.0.1:8080)\n";
    for (
      const extra of [
        [],
        ["--connect", `db=unix:${dir}/db.sock`],
        ["--open", `out=${dir}/out.txt:w`],
        ["--explain"],
      ]
    ) {
      const r = await runWw(["run", "--socket-activation", ...extra, "/bin/true"]);
      assert.equal(r.code, 125, r.stderr);
      assert.equal(r.stderr, message);
      assert.equal(r.stdout, "");
    }
    const r = await runWw(["run", "--socket-activation=yes", "--listen", "w=tcp:127.0.0.1:0", "x"]);
    assert.equal(r.code, 125);
    assert.match(
      r.stderr,
      /^ww: --socket-activation takes no value \(got --socket-activation=yes\)\n$/,
    );
    assert.equal(connections, 0);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["db.sock"]);
  } finally {
    unix.close();
    await accepting;
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("library: socketActivation without a listen grant is a UsageError, and nothing is opened", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-sockact-" });
  try {
    await assert.rejects(
      startProgram({
        program: "/bin/true",
        args: [],
        fds: [],
        own: [{ name: "out", open: `${dir}/out.txt`, mode: "w" }],
        socketActivation: true,
        env: {},
        ipfsApi: DEFAULT_IPFS_API,
        jail: { ...DEFAULT_POLICY, backend: "none" },
      }),
      (e: unknown) =>
        e instanceof UsageError && /no listen grant in own/.test(e.message) &&
        /no --listen grant/.test(e.commandLine ?? ""),
    );
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
