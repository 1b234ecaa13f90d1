// The `ww run` command line, as a specification.
import assert from "node:assert/strict";
import { debugRequested, parseRunArgs, usesIpfsNode } from "./flags.ts";
import { UsageError } from "../core/errors.ts";
import { FLAGS } from "./flag_table.ts";
import { SyscallError } from "../ffi/libc.ts";
import { ELOOP, ENXIO } from "../ffi/errno.ts";
import { DEFAULT_POLICY, LIMIT_FLAGS } from "../jail/policy.ts";

const parse = (argv: string[], env: Record<string, string> = {}) =>
  parseRunArgs(argv, env, "/home/u");

Deno.test("flags end at the program; everything after belongs to the program", () => {
  const { config } = parse(["--env", "A=1", "/bin/app", "--env", "B=2", "--", "-x"]);
  assert.equal(config.program, "/bin/app");
  assert.deepEqual(config.args, ["--env", "B=2", "--", "-x"]);
  assert.deepEqual(config.env, { A: "1" });
});

Deno.test("-- ends the flags before a program that starts with a dash", () => {
  const { config } = parse(["--", "-weird", "a"]);
  assert.equal(config.program, "-weird");
  assert.deepEqual(config.args, ["a"]);
});

Deno.test("--flag=value and --flag value are the same", () => {
  const a = parse(["--with-fd=db=3", "--env=K=V", "p"]).config;
  const b = parse(["--with-fd", "db=3", "--env", "K=V", "p"]).config;
  assert.deepEqual(a, b);
});

Deno.test("--with-fd collects grants in flag order (layout sorts them later)", () => {
  const { config } = parse(["--with-fd", "db=3", "--with-fd", "cache=4", "p"]);
  assert.deepEqual(config.fds, [{ name: "db", source: 3 }, { name: "cache", source: 4 }]);
});

Deno.test("one source fd may be granted under two names", () => {
  const { config } = parse(["--with-fd", "a=5", "--with-fd", "b=5", "p"]);
  assert.equal(config.fds.length, 2);
});

Deno.test("--env KEY passes the caller's value, or nothing when the caller has none", () => {
  assert.deepEqual(parse(["--env", "HOME", "--env", "NOPE", "p"], { HOME: "/h" }).config.env, {
    HOME: "/h",
  });
});

Deno.test("--env KEY whose caller's value is not UTF-8 text is refused: it was dropped silently", () => {
  assert.throws(
    () => parseRunArgs(["--env", "LATIN1", "p"], {}, "/", { callerEnvNotText: () => true }),
    /^UsageError: --env LATIN1: its value in ww's environment is not UTF-8 text, which ww would pass on changed; give KEY=VALUE in UTF-8$/,
  );
  assert.deepEqual(
    parseRunArgs(["--env", "NOPE", "p"], {}, "/", { callerEnvNotText: () => false }).config.env,
    {},
  );
});

Deno.test("--env: a later value for the same key wins; an empty value is allowed", () => {
  assert.deepEqual(parse(["--env", "A=1", "--env", "A=", "p"]).config.env, { A: "" });
});

Deno.test("with neither --ipfs nor WW_IPFS, $IPFS_PATH/api names the node; a bad address names its origin", () => {
  const file = { path: "/h/.ipfs/api", text: "/unix/run/ipfs.sock" };
  const { config } = parseRunArgs(["--with-ipfs", "p"], {}, "/", { ipfsApiFile: () => file });
  assert.equal(config.ipfsApi, "/unix/run/ipfs.sock");
  assert.equal(config.ipfsApiOrigin, "$IPFS_PATH/api (/h/.ipfs/api)");
  assert.equal(
    parseRunArgs(["--with-ipfs", "p"], { WW_IPFS: "http://n:1" }, "/", { ipfsApiFile: () => file })
      .config.ipfsApi,
    "http://n:1",
  );
  assert.throws(
    () =>
      parseRunArgs(["/ipfs/bafy/p"], {}, "/", {
        ipfsApiFile: () => ({ path: "/h/.ipfs/api", text: "/ip4/x/tcp/1" }),
      }),
    {
      message:
        "the IPFS address in $IPFS_PATH/api (/h/.ipfs/api) /ip4/x/tcp/1: x is not an IPv4 address",
    },
  );
  assert.throws(
    () => parse(["--with-ipfs", "p"], { WW_IPFS: "ftp://n:1" }),
    /^UsageError: WW_IPFS ftp:\/\/n:1: /,
  );
});

Deno.test("--ipfs defaults to the local Kubo API, and WW_IPFS overrides the default", () => {
  assert.equal(parse(["p"]).config.ipfsApi, "/dns4/localhost/tcp/5001/http");
  assert.equal(
    parse(["p"], { WW_IPFS: "/ip4/127.0.0.1/tcp/45101/http" }).config.ipfsApi,
    "/ip4/127.0.0.1/tcp/45101/http",
  );
  assert.equal(
    parse(["--ipfs", "/ip4/10.0.0.1/tcp/1/http", "p"], { WW_IPFS: "/ip4/127.0.0.1/tcp/2" }).config
      .ipfsApi,
    "/ip4/10.0.0.1/tcp/1/http",
  );
});

Deno.test("the default jail is the default policy", () => {
  assert.deepEqual(parse(["p"]).config.jail, { ...DEFAULT_POLICY, timeoutMs: undefined });
});

Deno.test("jail flags widen or limit the policy; relative bind sources resolve against cwd", () => {
  const { jail } = parse([
    "--jail=none",
    "--net",
    "--ro-bind",
    "data",
    "--bind",
    "/srv/out:/out",
    "--timeout",
    "1.5s",
    "--memory",
    "64M",
    "--cpu",
    "3",
    "--nofile",
    "unlimited",
    "--nproc",
    "20",
    "p",
  ]).config;
  assert.equal(jail.backend, "none");
  assert.equal(jail.net, true);
  assert.deepEqual(jail.readOnlyBinds, [{ source: "/home/u/data", dest: "/home/u/data" }]);
  assert.deepEqual(jail.writableBinds, [{ source: "/srv/out", dest: "/out" }]);
  assert.equal(jail.timeoutMs, 1500);
  assert.deepEqual(jail.limits, {
    memoryBytes: 64 * 2 ** 20,
    cpuSeconds: 3,
    openFiles: undefined,
    processes: 20,
    // The default --tmp-size, a limit added by issue 11.
    tmpBytes: 512 * 2 ** 20,
  });
});

Deno.test("--tmp-size takes a size like --memory, or unlimited", () => {
  assert.equal(parse(["--tmp-size", "8M", "p"]).config.jail.limits.tmpBytes, 8 * 2 ** 20);
  assert.equal(parse(["--tmp-size=unlimited", "p"]).config.jail.limits.tmpBytes, undefined);
  assert.equal(parse(["p"]).config.jail.limits.tmpBytes, 512 * 2 ** 20);
});

Deno.test("--help and --explain are reported, not acted on", () => {
  assert.equal(parse(["--help"]).help, true);
  assert.equal(parse(["--explain", "p"]).explain, true);
});

// Each bad input: the message fragment it must produce. All are UsageErrors (exit 125).
const BAD: [string[], RegExp][] = [
  [[], /missing <binary>/],
  [["--with-fd"], /--with-fd needs a value/],
  [["--with-fd", "db", "p"], /expected name=fdnum/],
  [["--with-fd", "db=", "p"], /is not a descriptor number/],
  [["--with-fd", "db=-1", "p"], /is not a descriptor number/],
  [["--with-fd", "db=x", "p"], /is not a descriptor number/],
  [["--with-fd", "db=1.5", "p"], /is not a descriptor number/],
  [["--with-fd", "=3", "p"], /the name must match/],
  [["--with-fd", "1db=3", "p"], /the name must match/],
  [["--with-fd", "my-db=3", "p"], /the name must match/],
  [["--with-fd", "db=99999999999", "p"], /whole number from 0 to/],
  [["--with-fd", "db=3", "--with-fd", "DB=4", "p"], /already granted as db/],
  [["--env", "=x", "p"], /variable name is empty/],
  [["--env", "", "p"], /variable name is empty/],
  // As --env-file refuses it: a space in a name is a typo, not a name.
  [
    ["--env", "A B=1", "p"],
    /^--env A B=1: the variable name "A B" contains whitespace \(expected KEY=VALUE or KEY\)$/,
  ],
  [["--env", "A\t", "p"], /variable name "A\\t" contains whitespace/],
  // Control and format characters passed to the program, while whitespace was refused.
  [
    ["--env", "A\x01B=1", "p"],
    /^--env A\\x01B=1: the variable name "A\\x01B" contains an unprintable character, \\x01 \(expected KEY=VALUE or KEY\)$/,
  ],
  [["--env", "A\x1b[31mB=1", "p"], /"A\\x1b\[31mB" contains an unprintable character, \\x1b /],
  [["-e", "A\u202eB", "p"], /"A\\u\{202e\}B" contains an unprintable character, \\u\{202e\} /],
  [["--env", "A\x7f", "p"], /"A\\x7f" contains an unprintable character, \\x7f /],
  [["--env", "A\u200b=1", "p"], /contains an unprintable character, \\u\{200b\} /],
  [["--ipfs", "localhost:5001", "p"], /not a multiaddr/],
  [["--ipfs", "/ip4/999.1.1.1/tcp/5001", "p"], /not an IPv4 address/],
  [["--ipfs", "/ip4/127.0.0.1/udp/5001", "p"], /expected \/tcp/],
  [["--ipfs", "/ip4/127.0.0.1/tcp/99999", "p"], /not a TCP port/],
  [["--bogus", "p"], /unknown flag --bogus/],
  [["-x", "p"], /unknown flag -x/],
  // A short flag written with `=`: its value goes in the next argument.
  [["-e=A=1", "p"], /^-e=A=1: a short flag takes its value as the next argument \(-e A=1\)$/],
  [["-x=1", "p"], /^unknown flag -x=1/],
  // docker's `-eA=1` was "unknown flag -eA=1", and a typo got no hint of the flag meant.
  [["-eA=1", "p"], /^-eA=1: a short flag takes its value as the next argument \(-e A=1\)$/],
  [["--with-fdd", "x=0", "p"], /^unknown flag --with-fdd \(did you mean --with-fd\? see ww run/],
  [["--with_fd", "x=0", "p"], /^unknown flag --with_fd \(did you mean --with-fd\? see ww run/],
  [["--jial=none", "p"], /^unknown flag --jial \(did you mean --jail\? see ww run --help\)$/],
  [["--envfile", "f", "p"], /^unknown flag --envfile \(did you mean --env-file\? see ww run/],
  [["--bogus", "p"], /^unknown flag --bogus \(see ww run --help\)$/],
  [["--debug=yes", "p"], /takes no value/],
  [["--jail", "docker", "p"], /unknown backend/],
  [["--timeout", "soon", "p"], /not a duration/],
  // Was /must be positive/, which 9999999999h also got: 0 is now below the stated minimum.
  [["--timeout", "0", "p"], /^--timeout 0 is shorter than the minimum, 1ms$/],
  [
    ["--timeout", "597h", "p"],
    /^--timeout 597h is longer than the maximum, 596h \(about 24\.8 days\)$/,
  ],
  [["--timeout", "9999999999h", "p"], /^--timeout 9999999999h is longer than the maximum, 596h/],
  [["--ipfs-timeout", "600h", "p"], /^--ipfs-timeout 600h is longer than the maximum, 596h/],
  [["--ipfs-timeout", "0.1ms", "p"], /^--ipfs-timeout 0.1ms is shorter than the minimum, 1ms$/],
  [["--ipfs-timeout", "5x", "p"], /^--ipfs-timeout "5x" is not a duration/],
  [["--memory", "0", "p"], /^--memory 0 is not a positive size/],
  [["--memory", "9999999T", "p"], /^--memory 9999999T is more than the largest size, 8191T/],
  [["--cpu", "1.5", "p"], /^--cpu "1.5" is not a positive whole number/],
  [
    ["--nofile", "99999999999999999999", "p"],
    /^--nofile 99999999999999999999 is more than the largest count/,
  ],
  [["--memory", "lots", "p"], /not a size/],
  [["--tmp-size", "lots", "p"], /^--tmp-size "lots" is not a size/],
  [["--nproc", "0", "p"], /positive whole number/],
  [["--bind", "/a:rel", "p"], /must be an absolute path/],
  // A path with its own ':' split there: the message said only that "colon" was no absolute path.
  [
    ["--ro-bind", "d:colon", "p"],
    /"colon" \(after the first ':'\) must be an absolute path; a source path with ':' in it cannot be named here \(bind a link to it\)/,
  ],
  [["--ro-bind", "/a:/", "p"], /cannot bind over/],
  [[""], /program name is empty/],
];

for (const [argv, message] of BAD) {
  Deno.test(`bad input ${JSON.stringify(argv)} is a usage error: ${message.source}`, () => {
    assert.throws(() => parse(argv), (e) => e instanceof UsageError && message.test(e.message));
  });
}

Deno.test("WW_IPFS that is not a multiaddr is a usage error naming WW_IPFS, for a run that uses the node", () => {
  for (const argv of [["--with-ipfs", "p"], ["/ipfs/bafy/p"]]) {
    assert.throws(() => parse(argv, { WW_IPFS: "nope" }), /WW_IPFS nope: not a multiaddr/);
  }
  // A local program without --with-ipfs never asks the node: the variable is none of its business.
  assert.equal(parse(["p"], { WW_IPFS: "nope" }).config.program, "p");
});

Deno.test("every usage error is one line", () => {
  for (const [argv] of BAD) {
    try {
      parse(argv);
    } catch (e) {
      assert.ok(!(e as Error).message.includes("\n"), (e as Error).message);
    }
  }
});

Deno.test("the longest timeout a timer can wait is accepted, in ms", () => {
  assert.equal(parse(["--timeout", "596h", "p"]).config.jail.timeoutMs, 596 * 3_600_000);
  assert.equal(parse(["--ipfs-timeout", "2147483647ms", "p"]).config.ipfsTimeoutMs, 2 ** 31 - 1);
});

Deno.test("--trust-node-ipns is off by default, on when given, and takes no value", () => {
  assert.equal(parse(["p"]).config.trustNodeIpns, undefined);
  assert.equal(parse(["--trust-node-ipns", "/ipns/k51x/app"]).config.trustNodeIpns, true);
  assert.throws(() => parse(["--trust-node-ipns=yes", "p"]), /--trust-node-ipns takes no value/);
});

Deno.test("-e is --env; --env-file adds a file's variables, in command-line order with --env", () => {
  const files: Record<string, string> = { "/home/u/app.env": "A=file\nB=file\n# c\nHOME\n" };
  const readFile = (path: string) => {
    if (!(path in files)) throw new Deno.errors.NotFound(path);
    return files[path];
  };
  const run = (argv: string[]) =>
    parseRunArgs(argv, { HOME: "/home/u" }, "/home/u", { readFile }).config.env;
  assert.deepEqual(run(["-e", "A=flag", "--env-file", "app.env", "-e", "B=flag", "p"]), {
    A: "file",
    B: "flag",
    HOME: "/home/u",
  });
  assert.deepEqual(run(["--env-file=/home/u/app.env", "-e", "HOME", "p"]).A, "file");
  assert.throws(() => run(["--env-file", "nope.env", "p"]), {
    message: "--env-file nope.env: cannot read it (no such file)",
  });
  files["/home/u/bad.env"] = "A=1\n\nMY VAR=2\n";
  assert.throws(() => run(["--env-file", "bad.env", "p"]), {
    message:
      '--env-file bad.env:3: the variable name "MY VAR" contains whitespace (expected KEY=VALUE, KEY or # comment)',
  });
  assert.throws(() => run(["-e"]), { message: "-e needs a value (see ww run --help)" });
  assert.throws(() => run(["-e", "=x", "p"]), /^UsageError: --env =x: the variable name is empty/);
});

Deno.test("--chdir is resolved against the caller's cwd; without it the jail has no cwd of its own", () => {
  assert.equal(parse(["--chdir", "src", "p"]).config.jail.chdir, "/home/u/src");
  assert.equal(parse(["--chdir=/srv/d/", "p"]).config.jail.chdir, "/srv/d");
  assert.equal(parse(["p"]).config.jail.chdir, undefined);
  assert.throws(() => parse(["--chdir", "", "p"]), { message: "--chdir: the directory is empty" });
});

Deno.test("--listen, --connect and --open become ww's own grants, in flag order", () => {
  const c = parse([
    "--open",
    "log=/var/log/app.log:a",
    "--listen=http=tcp:[::1]:0",
    "--connect",
    "db=unix:/run/db.sock",
    "--open",
    "in=/etc/hostname",
    "p",
  ]).config;
  assert.deepEqual(c.own, [
    { name: "log", open: "/var/log/app.log", mode: "a" },
    { name: "http", listen: "tcp:[::1]:0" },
    { name: "db", connect: "unix:/run/db.sock" },
    { name: "in", open: "/etc/hostname", mode: "r" },
  ]);
  assert.equal(parse(["p"]).config.own, undefined);
});

Deno.test("own grants are checked against every grant, whatever the flag order", () => {
  assert.throws(
    () => parse(["--open", "DB=/x", "--with-fd", "db=3", "p"]),
    /^UsageError: --open DB=\/x: the name is already granted as db/,
  );
  assert.throws(() => parse(["--listen", "http", "p"]), /--listen http: expected name=ADDR/);
  assert.throws(() => parse(["--open", "f", "p"]), /--open f: expected name=PATH\[:MODE\]/);
  assert.throws(
    () => parse(["--listen", "h=tcp:localhost", "p"]),
    /--listen h=tcp:localhost: expected tcp:HOST:PORT/,
  );
});

Deno.test("--socket-activation is a switch that needs a --listen grant", () => {
  const c = parse(["--socket-activation", "--listen", "web=tcp:127.0.0.1:0", "p"]).config;
  assert.equal(c.socketActivation, true);
  assert.equal(parse(["--listen", "web=tcp:127.0.0.1:0", "p"]).config.socketActivation, undefined);
  assert.throws(
    () => parse(["--socket-activation=yes", "--listen", "web=tcp:127.0.0.1:0", "p"]),
    /^UsageError: --socket-activation takes no value/,
  );
  for (const argv of [["p"], ["--connect", "db=unix:/run/db.sock", "--with-fd", "x=3", "p"]]) {
    assert.throws(
      () => parse(["--socket-activation", ...argv]),
      (e: unknown) =>
        e instanceof UsageError && e.exitCode === 125 &&
        e.message ===
          "--socket-activation: no --listen grant to pass (add one, e.g. --listen http=tcp:127.0.0.1:8080)",
    );
  }
});

Deno.test("--deno marks the program as a Deno guest's entry file, never one from IPFS", () => {
  const { config, deno } = parse(["--deno", "guest.ts", "--port", "1"]);
  assert.equal(deno, true);
  assert.equal(config.program, "guest.ts");
  assert.deepEqual(config.args, ["--port", "1"]);
  assert.equal(parse(["guest.ts"]).deno, false);
  assert.throws(() => parse(["--deno=1", "guest.ts"]), {
    message: "--deno takes no value (got --deno=1)",
  });
  assert.throws(() => parse(["--deno", "/ipfs/bafkqaaa"]), {
    message:
      "--deno /ipfs/bafkqaaa: a Deno guest is a local file (a program from IPFS is run as is)",
  });
});

Deno.test("the Kubo API file is read only when the run can use the node", () => {
  let reads = 0;
  const host = { ipfsApiFile: () => (reads++, { path: "/h/.ipfs/api", text: "/unix/s" }) };
  assert.equal(parseRunArgs(["p"], {}, "/", host).config.ipfsApiOrigin, "default");
  assert.equal(reads, 0);
  assert.equal(parseRunArgs(["--with-ipfs", "p"], {}, "/", host).config.ipfsApi, "/unix/s");
  assert.equal(parseRunArgs(["/ipfs/bafy/p"], {}, "/", host).config.ipfsApi, "/unix/s");
  assert.equal(reads, 2);
  // Nor when --ipfs or WW_IPFS names the node: an api file that is refused stops no such run.
  parseRunArgs(["--ipfs", "/unix/t", "/ipfs/bafy/p"], {}, "/", host);
  parseRunArgs(["/ipfs/bafy/p"], { WW_IPFS: "/unix/t" }, "/", host);
  assert.equal(reads, 2);
  const none = { console: false, ipfs: false, exec: false };
  assert.equal(usesIpfsNode("/ipns/example.org/app", none), true);
  assert.equal(usesIpfsNode("/usr/bin/app", none), false);
});

Deno.test("debugRequested finds --debug among the flags, past their values, and not in the program's", () => {
  assert.equal(debugRequested(["--debug", "app"]), true);
  assert.equal(debugRequested(["--ipfs", "http://h:5001", "--debug", "app"]), true);
  assert.equal(debugRequested(["--ipfs=http://h:5001", "-e", "A=1", "--debug", "app"]), true);
  assert.equal(debugRequested(["--with-fd", "db=3", "--jail", "none", "--debug"]), true);
  assert.equal(debugRequested(["app", "--debug"]), false);
  assert.equal(debugRequested(["--", "--debug"]), false);
  assert.equal(debugRequested(["--env", "--debug", "app"]), false, "--debug is --env's value");
  assert.equal(debugRequested([]), false);
});

Deno.test("each limit's flag (jail/policy.ts LIMIT_FLAGS, in ww's messages) is the flag that sets it", () => {
  for (const [key, flag] of Object.entries(LIMIT_FLAGS)) {
    const value = key === "memoryBytes" || key === "tmpBytes" ? "3M" : "7";
    const { limits } = parse([flag, value, "p"]).config.jail;
    assert.equal(limits[key as keyof typeof limits], key.endsWith("Bytes") ? 3 * 2 ** 20 : 7, flag);
  }
});

// bwrap takes no id above 2^31-1, and under --jail=auto its refusal of one was taken for a machine
// without namespaces: every later run went to the native jail.
Deno.test("--uid and --gid take 0 to 2147483647, and say so for anything else", () => {
  assert.equal(
    parse(["--uid", "2147483647", "--gid", "0", "/bin/true"]).config.jail.uid,
    2147483647,
  );
  for (
    const [flag, value] of [
      ["--gid", "4294967294"],
      ["--uid", "2147483648"],
      ["--uid", "-1"],
      ["--gid", "1e3"],
      ["--uid", "99999999999999999999"],
    ]
  ) {
    assert.throws(
      () => parse([flag, value, "/bin/true"]),
      (e: Error) =>
        e instanceof UsageError &&
        e.message ===
          `${flag} ${value}: expected a numeric id from 0 to 2147483647 (for every backend: bubblewrap takes none larger)`,
    );
  }
});

// `ww run --uid= p` said "--uid : expected a numeric id", `--env ''` "--env : the variable name
// is empty": an empty value was quoted as nothing at all.
Deno.test('an empty value is quoted as "" in the refusal of every flag that takes one', () => {
  for (const flag of FLAGS) {
    if (flag.value === undefined) continue;
    let message: string | undefined;
    try {
      parse([`${flag.name}=`, "p"]);
    } catch (e) {
      assert.ok(e instanceof UsageError, `${flag.name}: ${e}`);
      message = e.message;
    }
    if (message === undefined) continue; // an empty value it takes (--env-file's own rule aside)
    assert.doesNotMatch(message, /^\S+ :|^\S+ \S*: $/, `${flag.name}: ${message}`);
    assert.ok(message.startsWith(flag.name), `${flag.name}: ${message}`);
  }
});

// A symlink loop said "cannot read it (open (/x/loop): ELOOP)", a directory "(Is a directory)",
// where a missing file said "(no such file)": one kind of words for each.
Deno.test("--env-file that cannot be read says why in ww's words, whoever failed", () => {
  // The reader, ww's words for its failure, and the fix the words do not already say.
  const cases: [() => string, string, string?][] = [
    [() => Deno.readTextFileSync("/nonexistent-wwtest/x.env"), "no such file"],
    [() => Deno.readTextFileSync("/"), "it is a directory", "; give the file of KEY=VALUE lines"],
    [() => {
      throw new SyscallError("open", ELOOP, "/x/loop");
    }, "too many levels of symbolic links (a loop)"],
    [() => {
      throw new Error("something else (os error 99)");
    }, "something else"],
    // A unix socket there said "No such device or address", the system's words: Deno's error
    // for it has no code, only the number.
    [() => {
      throw new SyscallError("open", ENXIO, "/run/x.sock");
    }, "no such device or address: a unix socket, or a device with nothing behind it"],
    [() => {
      throw new Error("No such device or address (os error 6): open '/run/x.sock'");
    }, "no such device or address: a unix socket, or a device with nothing behind it"],
  ];
  for (const [readFile, why, fix = ""] of cases) {
    assert.throws(
      () => parseRunArgs(["--env-file", "x.env", "p"], {}, "/home/u", { readFile }),
      (e) =>
        e instanceof UsageError && e.message === `--env-file x.env: cannot read it (${why})${fix}`,
      why,
    );
  }
});

// `ww run --ro-bind /bin/sh -c 'echo hi'` said "unknown flag -c": the forgotten value's flag took
// the program, and only --env said so (its name had a '/'). Now every flag that takes a value does.
Deno.test("a value forgotten: whatever the flag, the refusal says it took the program, and the fix", () => {
  for (const flag of FLAGS) {
    if (flag.value === undefined) continue;
    for (const name of [flag.name, ...(flag.alias ? [flag.alias] : [])]) {
      const hint =
        `(a value forgotten? ${name} took /bin/sh as its value; give ${name} ${flag.value}, then the program)`;
      for (const argv of [[name, "/bin/sh", "-c", "echo hi"], [name, "/bin/sh"]]) {
        assert.throws(
          () => parse(argv),
          (e) => {
            const { message } = e as Error;
            assert.ok(e instanceof UsageError, String(e));
            assert.ok(message.endsWith(` ${hint}`), `${JSON.stringify(argv)}: ${message}`);
            assert.ok(!message.includes("\n"), message);
            return true;
          },
        );
      }
    }
  }
  // A value refused, followed by what only a program takes: the value was the program's.
  assert.throws(
    () => parse(["--memory", "python3", "-c", "print(1)"]),
    /^UsageError: --memory "python3" is not a size .* \(a value forgotten\? --memory took python3 as its value; give --memory <size>, then the program\)$/,
  );
  // A value that is no program, or given as --flag=value, is not called forgotten.
  assert.throws(
    () => parse(["--timeout", "5s", "-c"]),
    /^UsageError: unknown flag -c \(see ww run --help\)$/,
  );
  assert.throws(
    () => parse(["--ro-bind=/bin/sh", "-c"]),
    /^UsageError: unknown flag -c \(see ww run --help\)$/,
  );
  assert.throws(
    () => parse(["--memory", "lots", "p"]),
    /^UsageError: --memory "lots" is not a size like 512M, 1.5G or unlimited$/,
  );
  assert.throws(
    () => parse(["--ro-bind", "/a"]),
    /^UsageError: missing <binary> \(a value forgotten\?/,
  );
  assert.throws(() => parse(["--net"]), /^UsageError: missing <binary> \(usage:/);
});

// `ww run --ro-bind --net /bin/sh` bound a file ./--net no one meant, and failed only at the
// bind's set-up: a flag of ww's, or `--`, taken as a value is refused, whatever the flag.
Deno.test("a value forgotten: a flag of ww's or -- taken as a flag's value is refused, with the fix", () => {
  for (const flag of FLAGS) {
    if (flag.value === undefined) continue;
    const path = /FILE|DIR|PATH|<src>/.test(flag.value);
    for (const name of [flag.name, ...(flag.alias ? [flag.alias] : [])]) {
      for (
        const [value, what] of [["--net", "a flag of ww's"], ["-e", "a flag of ww's"], [
          "--",
          "the end of ww's flags",
        ]]
      ) {
        const expected =
          `${name} took ${value}, ${what}, as its value (a value forgotten? give ${name} ${flag.value}, then the program${
            path ? `; a path so named is ./${value}` : ""
          })`;
        assert.throws(
          () => parse([name, value, "/bin/sh"]),
          (e) => e instanceof UsageError && e.message === expected,
          `${name} ${value}`,
        );
      }
    }
  }
  // Given with =, or as a value that only starts like a flag, it is the flag's own value.
  assert.doesNotThrow(() => parse(["--ro-bind=--net", "/bin/sh"]));
  assert.throws(() => parse(["--uid", "-1", "p"]), /^UsageError: --uid -1: expected a numeric id/);
});

/** Bad values of each flag that takes one value (what the value alone refuses), and a good one. */
const SINGLE_VALUED: Readonly<Record<string, { bad: readonly string[]; good: string }>> = {
  "--chdir": { bad: ["", "a\0b"], good: "/tmp" },
  "--ipfs": { bad: ["bogus", "/ip4/1.2.3.4"], good: "/ip4/127.0.0.1/tcp/5001/http" },
  "--ipfs-timeout": { bad: ["bogus", "0s", "600h"], good: "30s" },
  "--jail": { bad: ["docker", ""], good: "none" },
  "--uid": { bad: ["x", "-1", "2147483648"], good: "1000" },
  "--gid": { bad: ["x", "-1", "2147483648"], good: "1000" },
  "--timeout": { bad: ["bogus", "0s", "597h"], good: "1s" },
  "--memory": { bad: ["bogus", "0", "1K", "1048575"], good: "1G" },
  "--cpu": { bad: ["0", "bogus"], good: "10" },
  "--nofile": { bad: ["0", "bogus"], good: "100" },
  "--nproc": { bad: ["0", "bogus"], good: "100" },
  "--tmp-size": { bad: ["0", "lots"], good: "1M" },
};

// `--memory 1K --memory 1G` ran (the 1M minimum was checked on the last value only), while
// `--timeout 0s --timeout 1s` was refused. README.md: a flag given twice takes its last value, and
// a bad one is refused wherever it is.
Deno.test("a bad value of a flag given twice is refused, first or last, as when given once", () => {
  const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));
  const addsUp = /the flags that name several things add up instead:\s*([^.]*)\./.exec(readme);
  assert.ok(addsUp, "README.md no longer says which flags add up");
  const repeatable = new Set([...addsUp[1].matchAll(/`(--[a-z-]+)`/g)].map((m) => m[1]));
  const single = FLAGS.filter((f) => f.value !== undefined && !repeatable.has(f.name));
  assert.deepEqual(single.map((f) => f.name).sort(), Object.keys(SINGLE_VALUED).sort());
  for (const { name } of single) {
    const { bad, good } = SINGLE_VALUED[name];
    assert.doesNotThrow(() => parse([name, good, name, good, "p"]));
    for (const value of bad) {
      let alone = "";
      assert.throws(() => parse([name, value, "p"]), (e) => {
        alone = (e as Error).message;
        return e instanceof UsageError;
      });
      for (const argv of [[name, value, name, good, "p"], [name, good, name, value, "p"]]) {
        assert.throws(() => parse(argv), (e) => {
          assert.ok(e instanceof UsageError, `${JSON.stringify(argv)} ran`);
          assert.equal(e.message, alone, JSON.stringify(argv));
          return true;
        }, `${JSON.stringify(argv)} ran`);
      }
    }
  }
});
