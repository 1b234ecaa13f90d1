// ww as a library (mod.ts): startProgram gives the program's pid, its exit status, a way to
// signal it and ww's end of its fd 3, with the same descriptors and environment as `ww run`.

import assert from "node:assert/strict";
import {
  ClosedFdError,
  Command,
  DEFAULT_IPFS_API,
  DEFAULT_POLICY,
  explainProgram,
  type JailPolicy,
  NO_GRANTS,
  NotFoundError,
  OpGroup,
  type RunConfig,
  serveGuest,
  SetupError,
  type StartOptions,
  startProgram,
  UsageError,
} from "../../mod.ts";
import type { FdStream } from "../../ffi/stream.ts";
import { openReadOnly } from "../../ffi/memfd.ts";
import { reportFds } from "../support/children.ts";
import { AF_UNIX, fdNumbers, fdOf, parseReport } from "../support/report.ts";
import type { JailMode } from "../support/ww.ts";
import { JAIL_MODES } from "../support/ww.ts";

const child = await reportFds();

function policy(mode: JailMode): JailPolicy {
  return mode === "none" ? { ...DEFAULT_POLICY, backend: "none" } : DEFAULT_POLICY;
}

function config(mode: JailMode, args: string[], extra: Partial<RunConfig> = {}): RunConfig {
  return {
    program: child,
    args,
    fds: [],
    env: {},
    ipfsApi: DEFAULT_IPFS_API,
    jail: policy(mode),
    ...extra,
  };
}

/** Everything the program sends on its fd 3 until it closes it. */
async function readAll(socket: FdStream): Promise<string> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (let n = await socket.read(buf); n !== null; n = await socket.read(buf)) {
    chunks.push(buf.slice(0, n));
  }
  return new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
}

/** Reads from the socket until `text` has arrived; returns all that was read. */
async function readUntil(socket: FdStream, text: string): Promise<string> {
  let got = "";
  const buf = new Uint8Array(4096);
  while (!got.includes(text)) {
    const n = await socket.read(buf);
    if (n === null) throw new Error(`the socket ended before ${text}: ${got}`);
    got += new TextDecoder().decode(buf.subarray(0, n));
  }
  return got;
}

for (const jail of JAIL_MODES) {
  const t = (name: string, fn: () => Promise<void>) => Deno.test(`[jail=${jail}] ${name}`, fn);

  t("startProgram gives the pid, the exit status and ww's end of the program's fd 3", async () => {
    const program = await startProgram(
      config(jail, ["stdout=3", "exit=42"], {
        fds: [{ name: "err", source: 2 }],
        env: { GREETING: "hello" },
      }),
    );
    assert.ok(Number.isSafeInteger(program.pid) && program.pid > 0);
    const report = parseReport(await readAll(program.hostSocket));
    assert.deepEqual(await program.status, { code: 42 });
    assert.deepEqual(report.env, { GREETING: "hello", WW_FD_ERR: "4" });
    assert.deepEqual(fdNumbers(report), [0, 1, 2, 3, 4]);
    assert.equal(fdOf(report, 3).domain, AF_UNIX);
  });

  t("kill forwards a signal the program handles, and returns false once it has ended", async () => {
    const program = await startProgram(config(jail, ["stdout=3", "wait-signal"]));
    await readUntil(program.hostSocket, '{"ready":');
    assert.equal(program.kill("SIGTERM"), true);
    assert.equal((await program.status).code, 100 + 15);
    assert.equal(program.kill("SIGTERM"), false);
  });

  t("kill with SIGKILL ends the program with status 137", async () => {
    const program = await startProgram(config(jail, ["stdout=3", "wait-signal"]));
    await readUntil(program.hostSocket, '{"ready":');
    program.kill("SIGKILL");
    assert.equal((await program.status).code, 128 + 9);
  });

  t("kill right after startProgram ends the program with 128+N, never a setup error", async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const program = await startProgram(config(jail, ["stdout=3", "wait-signal"]));
      program.kill("SIGKILL");
      outcomes.push(
        await program.status.then((s) => `code ${s.code}`, (e) => `${e.name}: ${e.message}`),
      );
    }
    assert.deepEqual(outcomes.filter((o) => o !== `code ${128 + 9}`), []);
  });

  t("all that the program writes on fd 3 before it exits can be read from hostSocket", async () => {
    let lost = 0;
    for (let i = 0; i < 50; i++) {
      const program = await startProgram(config(jail, ["stdout=3"]));
      const [text] = await Promise.all([readAll(program.hostSocket), program.status]);
      if (!text.includes('"fds":')) lost++;
    }
    assert.equal(lost, 0, `the report was lost in ${lost} of 50 runs`);
  });

  t("a grant of an fd the caller does not hold is a ClosedFdError naming the grant", async () => {
    await assert.rejects(
      startProgram(config(jail, [], { fds: [{ name: "db", source: 987654 }] })),
      (e: unknown) =>
        e instanceof ClosedFdError && e instanceof SetupError && e.exitCode === 125 &&
        e.grant === "db" && e.fd === 987654 && e.message.includes("grant db: descriptor 987654"),
    );
  });

  t("a missing program is a NotFoundError with exit code 127", async () => {
    await assert.rejects(
      startProgram(config(jail, [], { program: "/nonexistent/wwtest-library" })),
      (e: unknown) => e instanceof NotFoundError && e.exitCode === 127,
    );
  });
}

/**
 * --explain's lines without the host id it names: the one free at that moment, which other tests'
 * jails, running beside these, change between two explains (a comparison of two failed CI).
 */
function leaseless(lines: readonly string[]): string[] {
  return lines.map((l) => l.replace(/\b7\d{4}\b/g, "<host id>"));
}

Deno.test("library: bad grants, env names, NUL bytes and backends are refused in a library caller's words (commandLine: the flags')", async () => {
  const cases = [
    {
      extra: { fds: [{ name: "my-db", source: 0 }] },
      message: 'fds[0] "my-db": the name must match [A-Za-z_][A-Za-z0-9_]* (it becomes WW_FD_NAME)',
      commandLine: "--with-fd my-db=0: the name must match",
    },
    {
      extra: { fds: [{ name: "a", source: 1 }, { name: "A", source: 1 }] },
      message: 'fds[1] "A": the name is already granted as a',
      commandLine: "--with-fd A=1: the name is already granted as a",
    },
    {
      extra: { fds: [{ name: "x", source: -1 }] },
      message: 'fds[0] "x": the fd must be a whole number',
      commandLine: "--with-fd x=-1: the fd must be a whole number",
    },
    {
      extra: { env: { "A=B": "x" } },
      message: `env "A=B": the variable name contains '='`,
      commandLine: `env "A=B"`,
    },
    {
      extra: { args: ["x\0y"] },
      message: "args[0]: contains a NUL byte",
      commandLine: "args[0]",
    },
    {
      extra: { jail: { ...DEFAULT_POLICY, backend: "docker" as JailPolicy["backend"] } },
      message: 'jail.backend: "docker" is not one of auto, bwrap, native, none',
      commandLine: "jail.backend",
    },
    {
      extra: { socketActivation: true },
      message: "socketActivation: no listen grant in own to pass",
      commandLine: "--socket-activation: no --listen grant to pass",
    },
  ];
  for (const { extra, message, commandLine } of cases) {
    // explainProgram, which runs nothing, refuses them alike.
    for (const call of [startProgram, explainProgram]) {
      await assert.rejects(
        call(config("none", ["x"], extra)),
        (e) =>
          e instanceof UsageError && e.message.startsWith(message) &&
          (e.commandLine ?? e.message).startsWith(commandLine),
        `${call.name}: ${JSON.stringify(extra)}`,
      );
    }
  }
});

Deno.test("library: a jail.uid or jail.gid bubblewrap cannot take is refused, by startProgram and explainProgram", async () => {
  for (const jail of [{ uid: -1 }, { gid: 2 ** 31 }, { uid: 1.5 }]) {
    for (const call of [startProgram, explainProgram]) {
      await assert.rejects(
        call(config("default", ["x"], { jail: { ...DEFAULT_POLICY, ...jail } })),
        (e) =>
          e instanceof UsageError &&
          /^jail\.(uid|gid) \S+: expected a numeric id from 0 to 2147483647/.test(e.message),
        `${call.name}: ${JSON.stringify(jail)}`,
      );
    }
  }
});

Deno.test("library: a timeout no timer can wait is refused before anything starts, not fired at once", async () => {
  for (
    const extra of [
      { jail: { ...DEFAULT_POLICY, timeoutMs: 2 ** 31 } },
      { ipfsTimeoutMs: 0 },
    ] as const
  ) {
    await assert.rejects(
      startProgram(config("default", ["x"], extra)),
      (e) =>
        e instanceof UsageError &&
        /(longer than the maximum|shorter than the minimum)/.test(e.message),
    );
  }
});

for (const backend of ["none", "native"] as const) {
  Deno.test(`library [${backend}]: onJail is told the jail before the program can run`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-onjail-" });
    Deno.chmodSync(dir, 0o777); // the native jail's user writes the marker
    const marker = `${dir}/ran`;
    try {
      const told: string[] = [];
      const started = await startProgram(
        {
          program: "/bin/sh",
          args: ["-c", `: > ${marker}`],
          jail: {
            ...DEFAULT_POLICY,
            backend,
            writableBinds: backend === "native" ? [{ source: dir, dest: dir }] : [],
          },
        },
        {
          onJail: (jail) => {
            told.push(jail.backend);
            // Held here for 300 ms: a program already running would have written its marker.
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
            let exists = true;
            try {
              Deno.statSync(marker);
            } catch {
              exists = false;
            }
            told.push(exists ? "program ran first" : "program not yet run");
          },
        },
      );
      assert.deepEqual(await started.status, { code: 0 });
      assert.deepEqual(told, [backend, "program not yet run"]);
      Deno.statSync(marker);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

Deno.test("library [none]: a read-only bind at its own place runs, and Child.jail says it is not read-only", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-none-ro-" });
  try {
    const told: string[][] = [];
    const started = await startProgram(
      {
        program: "/bin/sh",
        args: ["-c", `: > ${dir}/written`],
        jail: { ...DEFAULT_POLICY, backend: "none", readOnlyBinds: [{ source: dir, dest: dir }] },
      },
      { onJail: (jail) => told.push([...jail.notEnforced]) },
    );
    assert.deepEqual(await started.status, { code: 0 });
    assert.deepEqual(started.jail.notEnforced, [`read-only ${dir}`]);
    assert.deepEqual(told, [[`read-only ${dir}`]]);
    // What it says: nothing stops the program writing there.
    Deno.statSync(`${dir}/written`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/** The environment, a line "--", then the descriptors above 2 that are open (dup2 works). */
const PRINT_ENV_AND_FDS =
  "env; echo --; for fd in 3 4 5 6 7 8 9 10 11 12; do (: >&$fd) 2>/dev/null && printf '%s ' $fd; done; echo";

for (const backend of ["none", "bwrap", "native"] as const) {
  Deno.test(`library [${backend}]: explainProgram's data is what a run gives the program`, async () => {
    const fds = [{ name: "db", source: 2 }];
    const env = { A: "x=y", LANG: "C" };
    const args = ["-c", PRINT_ENV_AND_FDS];
    const explained = await explainProgram({
      program: "/bin/sh",
      args,
      fds,
      env,
      jail: { ...DEFAULT_POLICY, backend },
    });
    assert.equal(explained.jail.backend, backend);
    // In the library's words: the option, not the flag.
    assert.equal(explained.jail.reason, `jail.backend "${backend}"`);
    assert.equal(explained.program, "/bin/sh");
    if (backend === "bwrap") assert.match(explained.command[0], /bwrap$/);
    else assert.deepEqual(explained.command.slice(-2), args);
    const out = await new Command("/bin/sh", { args, env, grants: { fds }, jail: { backend } })
      .output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const [envText, fdText] = new TextDecoder().decode(out.stdout).split("--\n");
    const seen = envText.trim().split("\n").map((l) => l.split(/=(.*)/s).slice(0, 2))
      .filter(([key]) => key !== "PWD"); // the shell sets PWD itself
    assert.deepEqual(Object.fromEntries(seen), explained.env);
    assert.deepEqual(fdText.trim().split(" ").map(Number), explained.fds.map((f) => f.fd));
    assert.deepEqual(explained.fds.map((f) => f.name), ["host", "WW_FD_DB"]);
  });
}

Deno.test("library: a jail that names some fields takes DEFAULT_POLICY's others; its limits, given, are whole", async () => {
  // Was a TypeError from inside the planner (jail.readOnlyBinds is not iterable).
  const child = await startProgram({ program: "/bin/true", jail: { backend: "native" } });
  assert.equal((await child.status).code, 0);
  assert.equal(child.jail.backend, "native");
  const explained = await explainProgram({ program: "/bin/true", jail: { backend: "native" } });
  assert.equal(explained.jail.backend, "native");
  const defaults = await explainProgram({ program: "/bin/true", jail: { backend: "native" } });
  const full = await explainProgram({
    program: "/bin/true",
    jail: { ...DEFAULT_POLICY, backend: "native" },
  });
  assert.deepEqual(leaseless(defaults.lines), leaseless(full.lines));
  // limits: {} is no limits, not the default ones.
  const none = await explainProgram({
    program: "/bin/true",
    jail: { backend: "native", limits: {} },
  });
  assert.notDeepEqual(none.lines, full.lines);
});

// A library caller's config from plain JavaScript or a JSON file: jail.net "false" (truthy) gave
// the bwrap jail the host's network, and a misspelt jail.timeoutms dropped the timeout; a field
// of another type was an engine error from deep inside ("program.startsWith is not a function").
Deno.test("library: a config field of another type, or one no run has, is a UsageError naming it; nothing starts", async () => {
  const cases: [unknown, RegExp][] = [
    [
      { program: "/bin/true", jail: { backend: "bwrap", net: "false" } },
      /^jail\.net: must be true or false \(got the string "false"\)$/,
    ],
    [
      { program: "/bin/sleep", args: ["3"], jail: { timeoutms: 100 } },
      /^jail\.timeoutms: no such option/,
    ],
    [{ program: "/bin/true", argz: ["x"] }, /^argz: no such option/],
    [{ program: 5 }, /^program: must be a non-empty string \(got number 5\)$/],
    [null, /^the run's config must be an object \(got null\)$/],
    [{ program: "/bin/true", env: { A: 1 } }, /^env: must be an object of string values/],
    [
      { program: "/bin/true", own: [{ name: "a" }] },
      /^own\[0\]: must be \{ name, .* \(got an object of "name"\)$/,
    ],
    // A hole in a list passed every check (every and map skip it), then failed deep inside ww.
    [
      { program: "/bin/echo", args: new Array(2) },
      /^args\[0\]: must be a string \(got nothing: a hole\)$/,
    ],
    [{ program: "/bin/echo", args: ["a", 5] }, /^args\[1\]: must be a string \(got number 5\)$/],
    [
      { program: "/bin/true", jail: { readOnlyBinds: [, { source: "/etc", dest: "/etc" }] } },
      /^jail\.readOnlyBinds\[0\]: must be \{ source: string, dest: string \} \(got nothing: a hole\)$/,
    ],
    // An unknown field of a bind was dropped: `writable: true` made a read-only bind, unsaid.
    [
      {
        program: "/bin/true",
        jail: { readOnlyBinds: [{ source: "/etc", dest: "/x", writable: true }] },
      },
      /^jail\.readOnlyBinds\[0\]: must be \{ source: string, dest: string \} \(got an object of "source", "dest", "writable"\)$/,
    ],
    // An own grant's unknown field was dropped (a misspelt mode), and a grant's activated: true,
    // ww's own mark, made a socket-activation grant without socketActivation's checks.
    [
      { program: "/bin/true", own: [{ name: "f", open: "/tmp/x", mdoe: "0600" }] },
      /^own\[0\]: must be \{ name, /,
    ],
    [
      { program: "/bin/true", own: [{ name: "l", listen: "tcp:127.0.0.1:0", mode: "rw" }] },
      /^own\[0\]: must be \{ name, .* \(got an object of "name", "listen", "mode"\)$/,
    ],
    [
      { program: "/bin/true", fds: [{ name: "x", source: 0, activated: true }] },
      /^fds\[0\]: must be \{ name: string, source: number \} \(got an object of "name", "source", "activated"\)$/,
    ],
    [
      {
        program: "/bin/true",
        fds: [{ name: "x", source: 0 }, { name: "y", source: 1, own: true }],
      },
      /^fds\[1\]: must be \{ name: string, source: number \} \(got an object of "name", "source", "own"\)$/,
    ],
    // Named by its kind (its indices were listed: 30 million took 10 s), and a Map is no env.
    [
      { program: "/bin/true", fds: [new Uint8Array(1000)] },
      /^fds\[0\]: must be \{ name: string, source: number \} \(got a Uint8Array\)$/,
    ],
    [
      { program: "/bin/true", env: new Map() },
      /^env: must be an object of string values \(got a Map\)$/,
    ],
    [
      { program: "/bin/true", fds: { name: "x", source: 0 } },
      /^fds: must be a list of \{ name: string, source: number \} \(got an object of "name", "source"\)$/,
    ],
    // Command refused it; startProgram took it, unchecked while the program was local.
    [{ program: "/bin/true", ipfsApi: "garbage" }, /^ipfsApi garbage: not a multiaddr/],
    // It was "timeoutMs NaN ms is longer than the maximum".
    [
      { program: "/bin/true", jail: { timeoutMs: NaN } },
      /^jail\.timeoutMs: NaN is not a number of ms$/,
    ],
  ];
  for (const [config, message] of cases) {
    for (const run of [startProgram, explainProgram]) {
      await assert.rejects(
        (run as (c: unknown) => Promise<unknown>)(config),
        (e) => e instanceof UsageError && message.test(e.message),
        JSON.stringify(config),
      );
    }
  }
  // Command refuses a misspelt option, and an own grant of the wrong shape, by name.
  const options: [unknown, RegExp][] = [
    [{ args: new Array(2) }, /^args\[0\]: must be a string, not undefined/],
    // A Map was taken for an empty environment.
    [{ env: new Map([["A", "b"]]) }, /^env: must be a plain object, not a Map$/],
    // A plain object stays "an object" where another type is asked for.
    [{ args: {} }, /^args: must be an array, not an object$/],
    // It said "must be an object, not an object".
    [
      { env: Object.create({ X: "1" }) },
      /^env: must be a plain object, not an object with a prototype of its own$/,
    ],
    // null was taken for the defaults here (backend "auto": the native jail maybe), and refused
    // for host, args and the rest.
    [{ jail: null }, /^jail: must be a plain object, not null$/],
    [{ grants: null }, /^grants: must be a plain object, not null$/],
    [{ jail: { backend: null } }, /^jail\.backend: /],
    [{ jail: { net: null } }, /^jail\.net: /],
    [{ jail: { limits: { processes: "10" } } }, /^jail\.limits\.processes: "10" is not a positive/],
    [
      { jail: { writableBinds: [{ source: "/tmp", dest: "/t", readOnly: true }] } },
      /^jail\.writableBinds\[0\]\.readOnly: no such option \(known: source, dest\)$/,
    ],
    [
      { grants: { fds: [{ name: "a", source: 1, mode: "r" }] } },
      /^grants\.fds\[0\]\.mode: no such option/,
    ],
    [{ grants: { fds: [, { name: "a", source: 1 }] } }, /^grants\.fds\[0\]: /],
    [{ jail: { timeoutms: 100 } }, /^jail\.timeoutms: no such option/],
    [{ argz: ["x"] }, /^argz: no such option/],
    [{ host: { consol: () => {} } }, /^host\.consol: no such option/],
    [{ grants: { own: [{}] } }, /^grants\.own\[0\]: must have one of listen, connect and open/],
    [
      { grants: { own: [{ name: null, open: "/etc/hostname" }] } },
      /^grants\.own\[0\]\.name: must be a string/,
    ],
  ];
  assert.throws(
    () => new Command("/bin/true", null as unknown as ConstructorParameters<typeof Command>[1]),
    (e) => e instanceof UsageError && e.message === "options: must be a plain object, not null",
  );
  for (const [o, message] of options) {
    assert.throws(
      () => new Command("/bin/true", o as ConstructorParameters<typeof Command>[1]),
      (e) => e instanceof UsageError && message.test(e.message),
      JSON.stringify(o),
    );
  }
  // The defaults cannot be changed under every later run.
  assert.throws(() => {
    (DEFAULT_POLICY.limits as { openFiles: number }).openFiles = 77;
  }, TypeError);
});

// A descriptor of 2**32 + 2 reached the program as fd 2 (its stdout went to the caller's stderr),
// a misspelt option was ignored, and an ops of another shape failed once the run was under way,
// leaving its descriptors (and, under none, its work directory) behind.
Deno.test("library: startProgram's options are checked by name before anything starts", async () => {
  const cases: [unknown, RegExp][] = [
    [null, /^startProgram's options must be an object \(got null\)$/],
    [
      { stdio: [undefined, 2 ** 32 + 2, undefined] },
      /^options\.stdio: must be a list of 3 descriptors/,
    ],
    [{ stdio: "inherit" }, /^options\.stdio: must be a list of 3/],
    [{ stdio: [0, "1", 2] }, /^options\.stdio: must be/],
    [{ ops: {} }, /^options\.ops: must be an OpGroup$/],
    [{ sigal: new AbortController().signal }, /^options\.sigal: no such option \(known: signal, /],
    [{ onJail: "yes" }, /^options\.onJail: must be a function$/],
    // Object.prototype's "constructor" was found as an option ("field[0] is not a function"), and
    // a program of {} had ww close its own fd 0 (the descriptor undefined stood for).
    [JSON.parse('{"constructor":1}'), /^options\.constructor: no such option/],
    [{ program: {} }, /^options\.program: must be an OpenedProgram/],
  ];
  const before = [...Deno.readDirSync("/proc/self/fd")].length;
  for (const [options, message] of cases) {
    await assert.rejects(
      startProgram({ program: "/bin/true" }, options as StartOptions),
      (e) => e instanceof UsageError && message.test(e.message),
      JSON.stringify(options),
    );
  }
  assert.equal([...Deno.readDirSync("/proc/self/fd")].length, before);
  // A Command's child has no hostSocket: "Cannot read properties of undefined (reading 'readable')".
  const command = await new Command("/bin/true").spawn();
  await assert.rejects(
    serveGuest(command as never, NO_GRANTS, { programName: "x", version: "0" }),
    /^TypeError: serveGuest: child has no hostSocket/,
  );
  await command.status;
  const ops = new OpGroup();
  assert.throws(
    () => ops.setTimeout("x" as never, 1),
    /^TypeError: OpGroup\.setTimeout: string is not a function$/,
  );
});

// startProgram owns the program descriptor it is given from the call on (StartOptions.program):
// a call refused for its config or options before the start took it left it open, one a call.
Deno.test("library: a start refused before it begins closes the program descriptor it was given", async () => {
  const file = Deno.makeTempFileSync({ prefix: "ww-given-program-" });
  // By the file it names, not its number: another test module's thread may take a closed number.
  const held = () =>
    [...Deno.readDirSync("/proc/self/fd")].filter((e) => {
      try {
        return Deno.readLinkSync(`/proc/self/fd/${e.name}`) === file;
      } catch {
        return false; // the directory's own descriptor, closed by now
      }
    }).length;
  const cases: [unknown, Record<string, unknown>, RegExp][] = [
    [{ program: "/bin/true", args: "x" }, {}, /^args: must be a list of strings/],
    [{ program: "/bin/true", ipfsApi: "nonsense" }, {}, /^ipfsApi nonsense: /],
    [{ program: "/bin/true" }, { sigal: 1 }, /^options\.sigal: no such option/],
  ];
  try {
    for (const [config, options, message] of cases) {
      const program = { fd: openReadOnly(file), path: file, source: file };
      await assert.rejects(
        startProgram(config as RunConfig, { ...options, program } as StartOptions),
        (e) => e instanceof UsageError && message.test(e.message),
        JSON.stringify(config),
      );
      assert.equal(held(), 0, `${JSON.stringify(config)} ${JSON.stringify(options)}: left open`);
    }
  } finally {
    Deno.removeSync(file);
  }
});

// A field set to undefined took the default's place: "jail.backend: undefined is not one of ...",
// "Cannot read properties of undefined (reading 'map')".
Deno.test("library: a jail field set to undefined is left out, as one not given", async () => {
  const config = {
    program: "/bin/true",
    jail: {
      backend: "native" as const,
      net: undefined,
      readOnlyBinds: undefined,
      writableBinds: undefined,
      limits: undefined,
      uid: undefined,
    },
  };
  const given = await explainProgram(config);
  const defaults = await explainProgram({ program: "/bin/true", jail: { backend: "native" } });
  assert.deepEqual(leaseless(given.lines), leaseless(defaults.lines));
  assert.equal((await (await startProgram(config)).status).code, 0);
  // The default backend, auto, and the default limits.
  const auto = await startProgram({
    program: "/bin/true",
    jail: { backend: undefined, limits: undefined },
  });
  assert.equal((await auto.status).code, 0);
});

// A host.console that throws or rejects made a guest's protocol error reject `status` (or end
// Deno with an unhandled rejection), which never rejects.
for (const backend of ["native", "none"] as const) {
  Deno.test(`library: [${backend}] a console sink that throws or rejects loses its lines, not the run`, async () => {
    for (
      const console of [
        () => {
          throw new Error("log sink down");
        },
        () => Promise.reject(new Error("log sink down")),
      ]
    ) {
      const child = await new Command("/bin/sh", {
        args: ["-c", "printf 'garbage-garbage-garbage' >&3"],
        jail: { backend },
        host: { console },
      }).spawn();
      const status = await child.status;
      assert.equal(status.code, 0);
    }
  });
}
