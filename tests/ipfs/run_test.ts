// `ww run` of programs from IPFS, through the real command line and a real js-ipfs node: they get
// the same descriptors, environment and jail as the same program run from a local path, scripts
// work, failures are one line with the documented exit code, and `ww cache` shows and clears what
// was cached.

import assert from "node:assert/strict";
import { join } from "node:path";
import { buildC } from "../support/build.ts";
import { reportFds } from "../support/children.ts";
import { comparableReport, parseReport } from "../support/report.ts";
import { runWw, runWwMeasured, wwCommand, type WwOptions } from "../support/ww.ts";
import { startSilentDns } from "./dns.ts";
import { startIpfsd } from "./ipfsd.ts";
import { refusedPort } from "../support/listeners.ts";
import { startProxy, unixProxy } from "./proxy.ts";

const ipfsd = await startIpfsd();
const tmp = await Deno.makeTempDir({ prefix: "wwtest-ipfs-run-" });
// Local programs here are run in the jail, which runs as nobody when ww is root.
await Deno.chmod(tmp, 0o755);
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));

const reporterPath = await reportFds();
const reporter = await Deno.readFile(reporterPath);
const text = (s: string) => new TextEncoder().encode(s);

// A script that prints what its jail looks like from inside; everything but $0.
const PROBE = `#!/bin/sh
echo "args: $*"
echo "ids: $(id -u) $(id -g)"
echo "host: $(cat /proc/sys/kernel/hostname)"
grep -E '^(NoNewPrivs|Seccomp|CapEff|CapBnd):' /proc/self/status
echo "nofile: $(ulimit -n) nproc: $(ulimit -u)"
echo "net: $(wc -l < /proc/net/dev)"
# The shell's own descriptors, by a glob it expands itself: a command substitution here would
# race with the shell for the pipe it opens.
fds=""; for f in /proc/$$/fd/*; do fds="$fds \${f##*/}"; done; echo "fds:$fds"
echo "env: $(env | grep -v '^PWD=' | sort | tr '\\n' ' ')"
`;
const probePath = join(tmp, "probe.sh");
await Deno.writeTextFile(probePath, PROBE, { mode: 0o755 });

const dir = await ipfsd.addTree({
  "bin/report": reporter,
  "bin/probe.sh": text(PROBE),
  "share/readme.txt": text("not a program\n"),
});

// Deno keeps its own cache under XDG_CACHE_HOME unless DENO_DIR says otherwise: pin it, so that
// the private ww caches below do not make every `deno run main.ts` fetch its packages again.
const DENO_DIR = JSON.parse(
  new TextDecoder().decode(
    (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output()).stdout,
  ),
).denoDir;

/** The environment for a ww with its own, fresh (or the given) cache directory. */
function cacheEnv(cache = Deno.makeTempDirSync({ dir: tmp, prefix: "xdg-" })) {
  return { XDG_CACHE_HOME: cache, DENO_DIR };
}

/** `ww run` with a private cache, the node as --ipfs, and the given extra flags. */
function ww(args: string[], options: WwOptions & { cache?: string } = {}) {
  return runWw(["run", "--ipfs", ipfsd.api, ...args], {
    ...options,
    env: { ...cacheEnv(options.cache), ...options.env },
  });
}

for (const jail of [[], ["--jail=none"]]) {
  const t = (name: string, fn: () => Promise<void>) =>
    Deno.test(`[${jail[0] ?? "default jail"}] ${name}`, fn);

  t(
    "an IPFS program gets the same descriptors and environment as the same local program",
    async () => {
      const options: WwOptions = { fds: { 7: { read: "/etc/hostname" }, 9: { pipe: "piped\n" } } };
      const flags = [...jail, "--with-fd", "host=7", "--with-fd", "pipe=9", "--env", "A=1"];
      const local = await ww([...flags, reporterPath, "read=5"], options);
      const remote = await ww([...flags, `/ipfs/${dir}/bin/report`, "read=5"], options);
      assert.equal(local.code, 0, local.stderr);
      assert.equal(remote.code, 0, remote.stderr);
      assert.deepEqual(
        comparableReport(parseReport(remote.stdout)),
        comparableReport(parseReport(local.stdout)),
      );
      assert.deepEqual(parseReport(remote.stdout).lines, { "5": "piped" });
    },
  );

  t("a #! script from IPFS runs with its arguments, in the same jail as a local one", async () => {
    const local = await ww([...jail, "--env", "B=2", probePath, "x", "y z"]);
    const remote = await ww([...jail, "--env", "B=2", `/ipfs/${dir}/bin/probe.sh`, "x", "y z"]);
    assert.equal(local.code, 0, local.stderr);
    assert.equal(remote.code, 0, remote.stderr);
    assert.match(remote.stdout, /^args: x y z$/m);
    assert.equal(remote.stdout, local.stdout);
  });

  // A missing interpreter of a script from IPFS was worded by whichever backend met it ("its
  // interpreter ... is not in the jail (ENOENT)", or under --jail=none "app: ENOENT (the file or
  // its interpreter is missing)"); a local one's by ww's check. Now one check words both.
  t(
    "a #! script from IPFS is checked as a local one is: the same line for a bad #! line",
    async () => {
      const scripts = {
        "nowhere.sh": [
          "#!/nonexistent/sh\necho hi\n",
          127,
          (p: string) =>
            `ww: ${p}: its interpreter /nonexistent/sh (from the #! line) does not exist (install it, or fix the #! line)`,
        ],
        "noint.sh": [
          "#!\necho hi\n",
          126,
          (p: string) =>
            `ww: ${p}: its #! line names no interpreter (write its absolute path after #!, e.g. #!/bin/sh)`,
        ],
      } as const;
      const root = await ipfsd.addTree(
        Object.fromEntries(Object.entries(scripts).map(([name, [body]]) => [name, text(body)])),
      );
      for (const [name, [body, code, line]] of Object.entries(scripts)) {
        const local = join(tmp, name);
        await Deno.writeTextFile(local, body, { mode: 0o755 });
        for (const path of [`/ipfs/${root}/${name}`, local]) {
          const r = await ww([...jail, path]);
          assert.equal(r.code, code, r.stderr);
          assert.equal(r.stdout, "");
          const errors = r.stderr.trim().split("\n").filter((l) => !l.includes("NOT jailed"));
          assert.deepEqual(errors, [line(path)]);
        }
      }
    },
  );

  // --explain fetches nothing, and did not look at a cached program either: it exited 0 for a
  // cached script whose interpreter the jail lacks, which the run refused (127).
  t(
    "--explain of a cached #! script refuses what the run refuses: same line, same exit code",
    async () => {
      // Not ww-*: the leak test takes those in this directory for work directories left behind.
      const shell = join(tmp, "interp-sh");
      await Deno.copyFile("/bin/sh", shell);
      const root = await ipfsd.addTree({
        "nowhere.sh": text("#!/nonexistent/sh\necho hi\n"),
        "unshown.sh": text(`#!${shell}\necho hi\n`),
      });
      const cache = Deno.makeTempDirSync({ dir: tmp, prefix: "xdg-" });
      const errors = (stderr: string) =>
        stderr.trim().split("\n").filter((l) => l !== "" && !l.includes("NOT jailed"));
      for (const name of ["nowhere.sh", "unshown.sh"]) {
        const path = `/ipfs/${root}/${name}`;
        const run = await ww([...jail, path], { cache });
        // The jail shows no host /tmp: there, the interpreter is missing too.
        const refused = name === "nowhere.sh" || jail.length === 0;
        assert.equal(run.code, refused ? 127 : 0, run.stderr);
        const explain = await ww([...jail, "--explain", path], { cache });
        assert.deepEqual(
          [explain.code, errors(explain.stderr)],
          [run.code, errors(run.stderr)],
          `${name}: ${explain.stdout}`,
        );
      }
    },
  );

  t("a file that is not a program exits 126 with one line naming it and why", async () => {
    const r = await ww([...jail, `/ipfs/${dir}/share/readme.txt`]);
    assert.equal(r.code, 126);
    assert.equal(
      r.stderr.trim().split("\n").filter((l) => !l.includes("NOT jailed")).join("\n"),
      `ww: /ipfs/${dir}/share/readme.txt: is not a program: it has neither an ELF header nor a #! line; check that the path names the program, or give a script a #! line (e.g. #!/bin/sh)`,
    );
  });
}

Deno.test("argv[0] is the path's last segment, jailed and not", async () => {
  const printArgv = await Deno.readFile(await buildC(new URL("./print_argv.c", import.meta.url)));
  const tree = await ipfsd.addTree({ "bin/tool": printArgv });
  for (const jail of ["--jail=none", "--jail=bwrap"]) {
    const cache = Deno.makeTempDirSync({ dir: tmp, prefix: "xdg-" });
    for (const run of ["cold", "warm"]) {
      const r = await ww([jail, `/ipfs/${tree}/bin/tool`, "a"], { cache });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "tool\na\n", `${jail}, ${run}`);
    }
  }
});

Deno.test("a program runs from the verified descriptor itself, jailed and not: the sealed memfd, then the cached file", async () => {
  const printExe = await Deno.readFile(await buildC(new URL("./print_exe.c", import.meta.url)));
  const cid = await ipfsd.addFile(printExe);
  for (const jail of ["--jail=none", "--jail=bwrap"]) {
    const cache = Deno.makeTempDirSync({ dir: tmp, prefix: "xdg-" });
    const cold = await ww([jail, cid], { cache });
    assert.equal(cold.code, 0, cold.stderr);
    assert.equal(cold.stdout, `/memfd:${cid} (deleted)\n`, jail);
    const warm = await ww([jail, cid], { cache });
    assert.equal(warm.code, 0, warm.stderr);
    if (jail === "--jail=bwrap" && Deno.uid() !== 0) {
      // The jail's user owns the cached file, so it is bound read-only rather than run from its
      // descriptor (which would let the program chmod and rewrite it through /proc/self/exe).
      assert.equal(warm.stdout, `/ipfs/${cid}\n`);
    } else {
      assert.match(warm.stdout, new RegExp(`^${cache}/ww/ipfs/files/baf[a-z2-7]+\n$`), jail);
    }
  }
});

// A file renamed into files/ unsynced could come back after a crash at its full size with zeros
// for bytes, which a later run would take for the program: it reaches the disk first.
Deno.test("a cold run syncs the cached file before it is renamed into files/, and files/ before the path's record", async () => {
  const cid = await ipfsd.addFile(text(`#!/bin/sh\necho synced ${crypto.randomUUID()}\n`));
  const log = join(tmp, `strace-${crypto.randomUUID()}`);
  const out = await new Deno.Command("strace", {
    args: [
      ...["-f", "-qq", "-y", "-o", log, "-e", "trace=fsync,rename,renameat,renameat2"],
      ...wwCommand(),
      ...["run", "--ipfs", ipfsd.api, "--jail=none", cid],
    ],
    env: cacheEnv(),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const lines = Deno.readTextFileSync(log).split("\n");
  const intoFiles = lines.findIndex((l) =>
    /rename.*"([^"]*\/tmp\/file\.[^"]*)".*\/files\/baf/.test(l)
  );
  assert.ok(intoFiles > 0, `no rename into files/:\n${lines.join("\n")}`);
  const tmpFile = /"([^"]*\/tmp\/file\.[^"]*)"/.exec(lines[intoFiles])![1];
  assert.ok(
    lines.slice(0, intoFiles).some((l) => /fsync\(\d+</.test(l) && l.includes(`${tmpFile}>`)),
    `the file was not synced before its rename:\n${lines.join("\n")}`,
  );
  const after = lines.slice(intoFiles);
  const filesSynced = after.findIndex((l) => /fsync\(\d+<[^>]*\/files>\)/.test(l));
  const record = after.findIndex((l) => /rename.*\/paths\//.test(l));
  assert.ok(
    filesSynced > 0 && filesSynced < record,
    `files/ not synced first:\n${after.join("\n")}`,
  );
});

Deno.test("a jailed program cannot change its cached file through /proc/self/exe", async () => {
  const tamper = await Deno.readFile(await buildC(new URL("./tamper_exe.c", import.meta.url)));
  const cid = await ipfsd.addFile(tamper);
  for (const jail of ["--jail=bwrap", "--jail=native"]) {
    const cache = Deno.makeTempDirSync({ dir: tmp, prefix: "xdg-" });
    for (const run of ["cold", "warm", "warm again"]) {
      const r = await ww([jail, cid], { cache });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^chmod \w+, append (?!done)\w+\n$/, `${jail}, ${run}`);
    }
    const files = join(cache, "ww", "ipfs", "files");
    const [cached] = [...Deno.readDirSync(files)];
    assert.deepEqual(Deno.readFileSync(join(files, cached.name)), tamper, jail);
  }
});

// Issue 13: the stage (/.ww-stage) replaced the exec step (/.ww-exec-fd).
Deno.test("--explain shows the stage that runs an IPFS program from its descriptor under bwrap, and fetches nothing", async () => {
  const proxy = startProxy(ipfsd.url);
  try {
    const r = await runWw(["run", "--ipfs", proxy.api, "--explain", `/ipfs/${dir}/bin/report`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^ {4}\/\.ww-stage read-only: ww's stage, .* starts it from its descriptor \(fd 7\)$/m,
    );
    // -tmpfs: the socket to the bounder; -report: the program's stderr's descriptor (issue 16).
    assert.match(
      r.stdout,
      / \/\.ww-stage exec-tmpfs-report-landlock-offline \d+ \d+ 7 - report$/m,
    );
    assert.deepEqual(proxy.requests, []);
  } finally {
    await proxy.close();
  }
});

Deno.test("runs of an IPFS program, cold and cached, in the bwrap jail leave no descriptor, work directory or child behind", async () => {
  const RUNS = 40;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../run/leak_probe.ts", import.meta.url).pathname,
      `/ipfs/${dir}/bin/report`,
      String(RUNS),
      "default",
      ipfsd.api,
    ],
    env: { TMPDIR: tmp, ...cacheEnv() },
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const { before, after, outcomes } = JSON.parse(
    new TextDecoder().decode(out.stdout).trim().split("\n").pop()!,
  );
  assert.equal(outcomes["killed 137"], RUNS / 4, JSON.stringify(outcomes));
  assert.deepEqual(after.fds, before.fds, "descriptors leaked");
  assert.deepEqual(after.dirs, [], "work directories left behind");
  assert.deepEqual(after.children, [], "child processes or zombies left behind");
});

Deno.test("a directory exits 126 listing its entries", async () => {
  const r = await ww([`/ipfs/${dir}/bin`]);
  assert.equal(r.code, 126);
  assert.equal(
    r.stderr.trim(),
    `ww: /ipfs/${dir}/bin: is a directory, not a program; it holds: probe.sh, report`,
  );
});

Deno.test("a trailing '/' names a directory: an IPFS or IPNS path with one is refused, exit 126, by a run and --explain alike, as a local /bin/echo/ is", async () => {
  const key = await ipfsd.publish(dir);
  for (
    const [program, plain] of [
      [`/ipfs/${dir}/bin/probe.sh/`, `/ipfs/${dir}/bin/probe.sh`],
      [`/ipfs/${dir}/bin/`, `/ipfs/${dir}/bin`],
      [`/ipns/${key}/bin/probe.sh/`, `/ipns/${key}/bin/probe.sh`],
    ]
  ) {
    const cache = Deno.makeTempDirSync({ dir: tmp, prefix: "xdg-" });
    for (const explain of [[], ["--explain"]]) {
      const r = await ww([...explain, program], { cache });
      assert.equal(r.code, 126, `${explain} ${program}: ${r.stderr}`);
      assert.equal(
        r.stderr,
        `ww: ${program}: a trailing '/' names a directory, not a program (write ${plain})\n`,
      );
      assert.equal(r.stdout, "");
    }
    assert.deepEqual([...walkFiles(cache)], [], "nothing cached");
  }
  const local = await runWw(["run", "/bin/echo/"]);
  assert.equal(local.code, 126, local.stderr);
});

Deno.test("an unreachable node exits 125 with one line naming the address", async () => {
  const api = `/ip4/127.0.0.1/tcp/${refusedPort()}/http`;
  const r = await runWw(["run", "--ipfs", api, `/ipfs/${dir}/bin/report`], {
    env: cacheEnv(),
  });
  assert.equal(r.code, 125);
  assert.match(
    r.stderr,
    new RegExp(`^ww: /ipfs/${dir}/bin/report: cannot reach the IPFS node at ${api} .*\\n$`),
  );
});

Deno.test("a node's host name that does not resolve in --ipfs-timeout exits 125 with one line naming it and the timeout", async () => {
  // The system's resolver (glibc, through Deno.connect) is pointed, in a bwrap'd mount namespace,
  // at a DNS server that never answers; told to wait 60 s for it, it would.
  const dns = await startSilentDns();
  const resolv = join(tmp, "resolv-silent.conf");
  await Deno.writeTextFile(resolv, `nameserver ${dns.address}\noptions timeout:30 attempts:2\n`);
  const api = "/dns4/ipfs-node.invalid-silent.test/tcp/5001/http";
  try {
    const start = performance.now();
    const r = await new Deno.Command("bwrap", {
      args: [
        ...["--dev-bind", "/", "/", "--ro-bind", resolv, "/etc/resolv.conf", "--"],
        ...wwCommand(),
        ...["run", "--ipfs", api, "--ipfs-timeout", "1500ms", `/ipfs/${dir}/bin/report`],
      ],
      env: cacheEnv(),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const seconds = (performance.now() - start) / 1000;
    const stderr = new TextDecoder().decode(r.stderr);
    assert.equal(r.code, 125, stderr);
    assert.ok(dns.questions() > 0, "the lookup never reached the silent DNS server");
    assert.ok(seconds < 20, `ww took ${seconds.toFixed(1)} s`);
    assert.equal(
      stderr,
      `ww: /ipfs/${dir}/bin/report: cannot reach the IPFS node at ${api} (from --ipfs): looking up the host name ipfs-node.invalid-silent.test and connecting to it took longer than 1500ms (--ipfs-timeout; is the address right and the DNS server answering? raise --ipfs-timeout to wait longer)\n`,
    );
  } finally {
    await dns.close();
  }
});

// name/resolve went through kubo-rpc-client, which spoke TCP only: over a unix socket ww refused it.
Deno.test("--trust-node-ipns takes the node's name/resolve over a /unix/ socket too", async () => {
  const name = await ipfsd.publish(dir);
  // A node that gives no record: only its word names the path.
  const wordOnly = startProxy(ipfsd.url, { refuse: ["dht/get", "routing/get"] });
  const socket = join(Deno.makeTempDirSync({ dir: tmp, prefix: "sock-" }), "api.sock");
  const proxy = unixProxy(socket, Number(wordOnly.api.split("/")[4]));
  try {
    const r = await runWw(
      [
        "run",
        "--jail=none",
        "--ipfs",
        `/unix${socket}`,
        "--trust-node-ipns",
        `/ipns/${name}/bin/report`,
      ],
      { env: cacheEnv() },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(parseReport(r.stdout).pid > 0, r.stdout);
    assert.ok(
      wordOnly.requests.some((q) => q.startsWith("name/resolve")),
      wordOnly.requests.join(),
    );
  } finally {
    await proxy.close();
    await wordOnly.close();
  }
});

Deno.test("with neither --ipfs nor WW_IPFS, the node named in $IPFS_PATH/api is used: multiaddr, /unix/ socket or URL", async () => {
  const repo = Deno.makeTempDirSync({ dir: tmp, prefix: "repo-" });
  const socket = join(repo, "api.sock");
  const proxy = unixProxy(socket, Number(new URL(ipfsd.url).port));
  const run = (api: string, program = `/ipfs/${dir}/bin/report`) => {
    Deno.writeTextFileSync(join(repo, "api"), api);
    return runWw(["run", "--jail=none", program], { env: { ...cacheEnv(), IPFS_PATH: repo } });
  };
  try {
    for (const api of [ipfsd.api, `/unix${socket}`, ipfsd.url]) {
      const r = await run(api);
      assert.equal(r.code, 0, `${api}: ${r.stderr}`);
      assert.ok(parseReport(r.stdout).pid > 0, r.stdout);
    }
    // Every error names the address and where it came from.
    const refused = `/ip4/127.0.0.1/tcp/${refusedPort()}/http`;
    const r = await run(refused);
    assert.equal(r.code, 125);
    assert.match(
      r.stderr,
      new RegExp(
        `^ww: /ipfs/${dir}/bin/report: cannot reach the IPFS node at ${refused} \\(.*from \\$IPFS_PATH/api \\(${repo}/api\\)\\): connection refused .*$`,
        "m",
      ),
    );
    const bad = await run("/ip4/1.2.3/tcp/5001");
    assert.equal(bad.code, 125);
    assert.match(
      bad.stderr,
      new RegExp(`^ww: the IPFS address in \\$IPFS_PATH/api \\(${repo}/api\\) `),
    );
  } finally {
    await proxy.close();
  }
});

Deno.test("a path whose last entry does not exist exits 127, as a missing local program does", async () => {
  const r = await ww([`/ipfs/${dir}/bin/nope`]);
  assert.equal(r.code, 127, r.stderr);
  assert.match(r.stderr, /^ww: .*no entry "nope" in .*; it holds: probe.sh, report\n$/);
});

Deno.test("a malformed --ipfs, WW_IPFS or --ipfs-timeout exits 125 with one line", async () => {
  for (
    const [args, env] of [
      [["--ipfs", "/ip4/1.2.3/tcp/5001"], {}],
      [["--ipfs-timeout", "soon"], {}],
      [[], { WW_IPFS: "ftp://localhost:5001" }],
    ] as [string[], Record<string, string>][]
  ) {
    const r = await runWw(["run", ...args, `/ipfs/${dir}/bin/report`], { env });
    assert.equal(r.code, 125, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});

Deno.test("a node that announces a block of a gigabyte is refused at once: exit 125, one line, ww's memory as usual", async () => {
  const proxy = startProxy(ipfsd.url, {
    inflate: { commands: ["block/get"], announced: 2 ** 30 },
  });
  try {
    const r = await runWwMeasured(
      ["run", "--ipfs", proxy.api, `/ipfs/${dir}/bin/report`],
      cacheEnv(),
    );
    assert.equal(r.code, 125, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^ww: /ipfs/${dir}/bin/report: the IPFS node at ${proxy.api} \\(from --ipfs\\) announced 1073741824 bytes for block \\w+; ww takes blocks of up to 4 MiB \\(Kubo makes none over 1 MiB without --allow-big-block\\)\n$`,
      ),
    );
    // ww held none of it (the old reader grew to what the node sent, gigabytes).
    assert.ok(r.peak < 256 * 2 ** 20, `ww's peak: ${r.peak} bytes`);
  } finally {
    await proxy.close();
  }
});

Deno.test("a node whose cat announces a gigabyte for a small file: ww runs the program its blocks verify, and holds none of the rest", async () => {
  const proxy = startProxy(ipfsd.url, { inflate: { commands: ["cat"], announced: 2 ** 30 } });
  try {
    const r = await runWwMeasured(
      ["run", "--ipfs", proxy.api, `/ipfs/${dir}/bin/report`],
      cacheEnv(),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.ok(r.stdout.length > 0, "the program reported its descriptors");
    // The cat's answer is read into buffers of the file's verified size, never grown by it.
    assert.ok(r.peak < 256 * 2 ** 20, `ww's peak: ${r.peak} bytes`);
  } finally {
    await proxy.close();
  }
});

Deno.test("a node that stalls is given up on after --ipfs-timeout (exit 125)", async () => {
  const proxy = startProxy(ipfsd.url, { stall: { commands: ["block/get"], after: 0 } });
  try {
    const r = await runWw([
      "run",
      "--ipfs",
      proxy.api,
      "--ipfs-timeout",
      "300ms",
      `/ipfs/${dir}/bin/report`,
    ], {
      env: cacheEnv(),
    });
    assert.equal(r.code, 125);
    assert.match(r.stderr, /sent nothing for 300ms/);
  } finally {
    await proxy.close();
  }
});

Deno.test("SIGINT or SIGTERM during a fetch stops ww: exit 128+N, one line, nothing cached or left", async () => {
  const big = new Uint8Array(reporter.length + 4 * 2 ** 20);
  big.set(reporter);
  big.set(text("interrupted"), reporter.length);
  const cid = await ipfsd.addFile(big);
  const stallAt = 2 * 2 ** 20;
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    // The node stops sending half-way, and the timeout is far off: only the signal ends the run.
    const proxy = startProxy(ipfsd.url, { stall: { commands: ["cat"], after: stallAt } });
    const cache = Deno.makeTempDirSync({ dir: tmp, prefix: "xdg-" });
    try {
      const [cmd, ...args] = await wwArgv();
      const ww = new Deno.Command(cmd, {
        args: [...args, "run", "--ipfs", proxy.api, "--ipfs-timeout", "120s", cid],
        env: cacheEnv(cache),
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const deadline = Date.now() + 60_000;
      while (proxy.forwarded() < stallAt) {
        assert.ok(Date.now() < deadline, `the fetch never got under way (${proxy.forwarded()})`);
        await new Promise((r) => setTimeout(r, 20));
      }
      ww.kill(signal);
      const r = await ww.output();
      const stderr = new TextDecoder().decode(r.stderr);
      assert.equal(r.code, code, stderr);
      assert.deepEqual(stderr.trim().split("\n"), [
        `ww: ${cid}: stopped by ${signal} while being fetched; nothing was run`,
      ]);
      const left = [...walkFiles(join(cache, "ww"))];
      assert.deepEqual(left, [], "the cache holds nothing, not even a temporary file");
    } finally {
      await proxy.close();
    }
  }
});

Deno.test("a fetch prints nothing on stderr when stderr is not a terminal", async () => {
  const big = new Uint8Array(reporter.length + 4 * 2 ** 20);
  big.set(reporter);
  const cid = await ipfsd.addFile(big);
  const proxy = startProxy(ipfsd.url, { bytesPerSecond: 4 * 2 ** 20 });
  try {
    const r = await runWw(["run", "--ipfs", proxy.api, cid], {
      env: cacheEnv(),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
  } finally {
    await proxy.close();
  }
});

Deno.test("a slow fetch shows a progress line on a terminal", async () => {
  const big = new Uint8Array(reporter.length + 4 * 2 ** 20);
  big.set(reporter);
  big.set(text("progress"), reporter.length);
  const cid = await ipfsd.addFile(big);
  const proxy = startProxy(ipfsd.url, { bytesPerSecond: 4 * 2 ** 20 });
  try {
    // script(1) gives ww a terminal; the program's own output goes to a file.
    const out = join(tmp, "progress.out");
    const command = [...(await wwArgv()), "run", "--ipfs", proxy.api, cid]
      .map((a) => `'${a}'`).join(" ");
    const r = await new Deno.Command("script", {
      args: ["-qec", `${command} > ${out}`, "/dev/null"],
      env: cacheEnv(),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const terminal = new TextDecoder().decode(r.stdout);
    assert.equal(r.code, 0, terminal);
    assert.match(terminal, /\d+\.\d MiB \/ 4\.\d MiB +\d+\.\d MiB\/s/);
  } finally {
    await proxy.close();
  }
});

Deno.test("on a terminal, a node that cannot find the CID gets a waiting line, then the timeout's", async () => {
  const cid = await ipfsd.addFile(text("never arrives"));
  // The node answers and then sends nothing, as Kubo does for a CID it is still looking for.
  const proxy = startProxy(ipfsd.url, { stall: { commands: ["block/get", "cat"], after: 0 } });
  try {
    const command = [...(await wwArgv()), "run", "--ipfs", proxy.api, "--ipfs-timeout", "3s", cid]
      .map((a) => `'${a}'`).join(" ");
    const r = await new Deno.Command("script", {
      args: ["-qec", command, "/dev/null"],
      env: cacheEnv(),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const terminal = new TextDecoder().decode(r.stdout).replaceAll("\r", "");
    assert.equal(r.code, 125, terminal);
    assert.match(
      terminal,
      new RegExp(
        `ww: ${cid}: waiting for the IPFS node at ${proxy.api} \\(from --ipfs\\) to find .* \\(ww gives up after 3s of silence: --ipfs-timeout\\)\n(.|\n)*sent nothing for 3s`,
      ),
    );
    // Not on a terminal: the timeout's line only.
    const piped = await runWw(["run", "--ipfs", proxy.api, "--ipfs-timeout", "1500ms", cid], {
      env: cacheEnv(),
    });
    assert.equal(piped.code, 125);
    assert.doesNotMatch(piped.stderr, /waiting for/);
  } finally {
    await proxy.close();
  }
});

Deno.test("ww cache lists, sizes and clears what runs cached", async () => {
  const cache = Deno.makeTempDirSync({ dir: tmp, prefix: "xdg-" });
  const env = cacheEnv(cache);
  assert.equal((await ww([`/ipfs/${dir}/bin/report`], { cache })).code, 0);
  const list = await runWw(["cache", "list"], { env });
  assert.equal(list.code, 0, list.stderr);
  const lines = list.stdout.trim().split("\n");
  assert.equal(lines.length, 1);
  assert.match(lines[0], new RegExp(`^baf\\w+  \\d+\\.\\d KiB  \\S+  /ipfs/${dir}/bin/report$`));
  const size = await runWw(["cache", "size"], { env });
  assert.match(
    size.stdout,
    new RegExp(`^\\d+\\.\\d KiB in 1 program \\(bound 1\\.0 GiB\\) in ${cache}/ww/ipfs\\n$`),
  );
  const clear = await runWw(["cache", "clear"], { env });
  assert.match(clear.stdout, /^removed 1 program \(\d+\.\d KiB\) from /);
  assert.equal(
    (await runWw(["cache"], { env })).stdout,
    `the cache is empty: ${cache}/ww/ipfs holds no programs\n`,
  );
  const bad = await runWw(["cache", "purge"], { env });
  assert.equal(bad.code, 125);
});

// The README's rule: list's first column is the canonical key (CIDv1, base32), the paths after it
// are as they were run, so a CID written in base58 (zb2…) is found there as written.
Deno.test("ww cache list keys a program by its canonical CID and shows the path as it was run", async () => {
  const cache = Deno.makeTempDirSync({ dir: tmp, prefix: "xdg-" });
  const cid = await ipfsd.addFile(text("#!/bin/sh\necho hi\n"));
  assert.match(cid, /^z/, "the node gives base58btc CIDv1s");
  assert.equal((await ww(["--jail=none", cid], { cache })).code, 0);
  const list = await runWw(["cache", "list"], { env: cacheEnv(cache) });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`^bafk[a-z2-7]+  \\d+ B  \\S+  /ipfs/${cid}\n$`));
});

// An empty cache printed nothing at all: no telling it from a command that looked elsewhere.
Deno.test("ww cache list of an empty cache says so in one line naming the directory (exit 0)", async () => {
  const cache = Deno.makeTempDirSync({ dir: tmp, prefix: "xdg-" });
  for (const args of [["cache", "list"], ["cache"]]) {
    const r = await runWw(args, { env: cacheEnv(cache) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `the cache is empty: ${cache}/ww/ipfs holds no programs\n`);
    assert.equal(r.stderr, "");
  }
});

Deno.test("a cache that cannot be written costs a one-line warning, and the program runs", async () => {
  // A cache directory below a regular file: even root cannot create it (ENOTDIR).
  const file = join(tmp, "not-a-directory");
  await Deno.writeTextFile(file, "");
  const r = await ww(["--jail=none", `/ipfs/${dir}/bin/report`], { cache: file });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(parseReport(r.stdout).fds.map((f) => f.fd), [0, 1, 2, 3]);
  const lines = r.stderr.trim().split("\n").filter((l) => !l.includes("NOT jailed"));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], new RegExp(`^ww: warning: cannot cache in ${file}/ww/ipfs: .*`));
  // The directory comes from XDG_CACHE_HOME, and was printed raw: a newline forged a line.
  const forged = `${file}/x\nww: FORGED\x1b[31m`;
  const raw = await ww(["--jail=none", `/ipfs/${dir}/bin/report`], { cache: forged });
  assert.equal(raw.code, 0, raw.stderr);
  const warned = raw.stderr.trim().split("\n").filter((l) => !l.includes("NOT jailed"));
  assert.equal(warned.length, 1, raw.stderr);
  assert.ok(warned[0].includes(`${file}/x\\nww: FORGED\\x1b[31m/ww/ipfs`), warned[0]);
});

// Last: it stops the node.
Deno.test("a cached program runs with the node stopped, jailed and not", async () => {
  const cache = Deno.makeTempDirSync({ dir: tmp, prefix: "xdg-" });
  assert.equal((await ww([`/ipfs/${dir}/bin/report`], { cache })).code, 0);
  await ipfsd.stop();
  for (const jail of [[], ["--jail=none"]]) {
    const r = await ww([...jail, `/ipfs/${dir}/bin/report`], { cache });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(parseReport(r.stdout).fds.map((f) => f.fd), [0, 1, 2, 3]);
  }
});

async function wwArgv(): Promise<string[]> {
  const { wwCommand } = await import("../support/ww.ts");
  return wwCommand();
}

/** The paths of the files (not directories) under `dir`, if it exists. */
function* walkFiles(dir: string): Generator<string> {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.isDirectory) yield* walkFiles(join(dir, e.name));
    else yield join(dir, e.name);
  }
}
