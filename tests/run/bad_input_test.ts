// Bad input to `ww`: each one is refused with exit 125 and one line on stderr that names the
// input, before anything is started or created.

import assert from "node:assert/strict";
import { reportFds } from "../support/children.ts";
import { privateTmp, processesWithArg, wwDirs } from "../support/procs.ts";
import { errorLines, runWw, runWwAsUser, wwCommand } from "../support/ww.ts";
import { refusedPort } from "../support/listeners.ts";

const child = await reportFds();
/** Stands for the program in a row; replaced by the reporter child and a unique tag. */
const P = "<program>";
/** An env file setting ww's own variables, on its lines 2 and 3. */
const ownVariables = Deno.makeTempFileSync({ prefix: "wwtest-own-", suffix: ".env" });
Deno.writeTextFileSync(ownVariables, "A=1\nWW_FD_LOG=9\nWW_HOST_FD=0\n");
globalThis.addEventListener("unload", () => Deno.removeSync(ownVariables));

interface Row {
  readonly args: readonly string[];
  /** A fragment of the one-line message. */
  readonly message: string;
  readonly env?: Readonly<Record<string, string>>;
}

const ROWS: readonly Row[] = [
  { args: ["frobnicate"], message: "unknown command frobnicate (try ww run, ww --help)\n" },
  // A typo, or a program without `run`, got only "(try ww run, ww --help)".
  { args: ["rnu", P], message: "unknown command rnu (did you mean ww run? see ww --help)\n" },
  { args: ["docter"], message: "unknown command docter (did you mean ww doctor? see ww --help)\n" },
  {
    args: ["/bin/true", "x"],
    message: "unknown command /bin/true (to run a program: ww run /bin/true ...; see ww --help)\n",
  },
  // A newline in what a message quotes made it two lines, the second free to read as ww's own.
  { args: ["r\nun"], message: "unknown command r\\nun" },
  // A run flag before the command was an unknown command.
  {
    args: ["--debug", "run", P],
    message: "--debug is a flag of ww run, and goes after it (ww run --debug ...)",
  },
  { args: ["--jail=none", "run", P], message: "--jail=none is a flag of ww run, and goes after" },
  // `--help=1` is `--help 1`; it was refused as a flag given a value, where `--help run` is help.
  {
    args: ["--help=1"],
    message: "--help 1: no such command (help covers run, cache and doctor: ww --help run)\n",
  },
  { args: ["--help="], message: '--help "": no such command' },
  { args: ["--version=2"], message: "--version takes no value (got --version=2)\n" },
  { args: ["run", "--with-fd", "x\nww: y=1", P], message: "--with-fd x\\nww: y=1: the name" },
  { args: ["run", "--env", "A\nB=c", P], message: "--env A\\nB=c: the variable name" },
  // A control character in a name passed to the program (whitespace was refused).
  {
    args: ["run", "--env", "A\x01B=1", P],
    message:
      '--env A\\x01B=1: the variable name "A\\x01B" contains an unprintable character, \\x01',
  },
  {
    args: ["run", "--env", "A\x1b]0;x\x07=1", P],
    message: 'the variable name "A\\x1b]0;x\\x07" contains an unprintable character, \\x1b',
  },
  { args: ["run", "--jail=a\nb", P], message: "--jail a\\nb: unknown backend" },
  // Deno's "(os error 21)" was left in the message.
  {
    args: ["run", "--env-file", "/", P],
    message: "--env-file /: cannot read it (it is a directory); give the file of KEY=VALUE lines\n",
  },
  // It read as a grant to the guest's GetFDMap, naming a descriptor ww never gave.
  {
    args: ["run", "--with-fd", "db=0", "--env", "WW_FD_LOG=9", P],
    message:
      "--env WW_FD_LOG=9: WW_FD_ variables are ww's, one for each descriptor grant, and no grant is named log",
  },
  // From an env file, the message said "--env WW_FD_LOG=9 (or --env-file)": now the file's line.
  {
    args: ["run", "--env-file", ownVariables, P],
    message: `--env-file ${ownVariables}:2: WW_FD_ variables are ww's`,
  },
  {
    args: ["run", "--with-fd", "log=0", "--env-file", ownVariables, P],
    message: `--env-file ${ownVariables}:3: WW_HOST_FD is ww's`,
  },
  // /proc/self is ww when it opens the file: the jail got ww's memory to read and write, or its
  // environment, the caller's.
  { args: ["run", "--open", "m=/proc/self/mem:rw", P], message: "that is ww's own process" },
  { args: ["run", "--open", "m=/proc/thread-self/mem", P], message: "that is ww's own process" },
  { args: ["run", "--open", "e=/proc/self/environ", P], message: "that is ww's own process" },
  { args: ["run", "--open", "m=/proc/thread-self/maps", P], message: "that is ww's own process" },
  // --explain, which opens nothing, let them pass (exit 0) where the run refused them.
  ...["bwrap", "native", "none"].flatMap((jail) => [
    {
      args: ["run", `--jail=${jail}`, "--explain", "--open", "e=/proc/self/environ", P],
      message: "--open e=/proc/self/environ: that is ww's own process",
    },
    {
      args: ["run", `--jail=${jail}`, "--explain", "--open", "m=/proc/thread-self/mem:w", P],
      message: "--open m=/proc/thread-self/mem:w: that is ww's own process",
    },
  ]),
  // A guest library took the descriptor it named for the host socket.
  {
    args: ["run", "--env", "WW_HOST_FD=0", P],
    message:
      "--env WW_HOST_FD=0: WW_HOST_FD is ww's, set under --socket-activation to the host socket's descriptor",
  },
  { args: ["doctor", "extra"], message: "doctor takes no arguments (extra); try ww doctor" },
  {
    args: ["cache", "list", "extra"],
    message: "cache list takes no arguments (extra); try ww cache list, or ww cache help",
  },
  {
    args: ["--version", "extra"],
    message: "--version takes no arguments (extra); try ww --version",
  },
  // It said "takes no arguments", where `ww help run` is help on run.
  {
    args: ["help", "x"],
    message: "help x: no such command (help covers run, cache and doctor: ww help run)",
  },
  // It said "no such command" of `run`, which is one: the extra word is what is wrong.
  {
    args: ["--help", "run", "x"],
    message: "--help run takes nothing more (x); try ww --help run",
  },
  { args: [], message: "no command (try ww run <binary> [args...], or ww --help)" },
  { args: ["run"], message: "missing <binary>" },
  { args: ["run", "--"], message: "missing <binary>" },
  { args: ["run", ""], message: "the program name is empty" },
  { args: ["run", "--bogus", P], message: "unknown flag --bogus" },
  // It said "unknown flag --", the flag ww stops at.
  { args: ["run", "--=x", P], message: "unknown flag --=x" },
  { args: ["run", "--debug=1", P], message: "--debug takes no value" },
  { args: ["run", "--help=x"], message: "--help takes no value" },
  { args: ["run", "--with-fd"], message: "--with-fd needs a value" },
  { args: ["run", "--with-fd", "db", P], message: "--with-fd db: expected name=fdnum" },
  { args: ["run", "--with-fd", "db=", P], message: '--with-fd db=: "" is not a descriptor number' },
  { args: ["run", "--with-fd", "db=x", P], message: '"x" is not a descriptor number' },
  { args: ["run", "--with-fd", "db=-1", P], message: '"-1" is not a descriptor number' },
  { args: ["run", "--with-fd", "db=0x7", P], message: '"0x7" is not a descriptor number' },
  { args: ["run", "--with-fd", "=7", P], message: "--with-fd =7: the name must match" },
  { args: ["run", "--with-fd", "1db=7", P], message: "--with-fd 1db=7: the name must match" },
  { args: ["run", "--with-fd", "db-x=7", P], message: "--with-fd db-x=7: the name must match" },
  {
    args: ["run", "--with-fd", "db=0", "--with-fd", "DB=1", P],
    message: "--with-fd DB=1: the name is already granted as db",
  },
  {
    args: ["run", "--with-fd", "db=99999999999", P],
    message: "--with-fd db=99999999999: the fd must be a whole number from 0 to",
  },
  // Echoed as typed: it was rebuilt from the number, as db=100000000000000000000.
  {
    args: ["run", "--with-fd", "db=99999999999999999999", P],
    message: "--with-fd db=99999999999999999999: the fd must be a whole number from 0 to",
  },
  {
    args: ["run", "--with-fd", "db=900", P],
    message: "--with-fd db=900: fd 900 is not open in the calling process",
  },
  {
    args: ["run", "--with-fd", "ok=0", "--with-fd", "gone=901", P],
    message: "--with-fd gone=901: fd 901 is not open",
  },
  // ww's own fd 4 (Deno's, close-on-exec) was named "opened by ww itself": to the caller, who has
  // no fd 4 open, it is the same mistake.
  {
    args: ["run", "--with-fd", "db=4", P],
    message: "--with-fd db=4: fd 4 is not open in the calling process (open it first",
  },
  { args: ["run", "--env"], message: "--env needs a value" },
  { args: ["run", "--env", "=x", P], message: "--env =x: the variable name is empty" },
  {
    args: ["run", "--env", "A B=1", P],
    message: '--env A B=1: the variable name "A B" contains whitespace',
  },
  // Its value forgotten, --env took the program for a name, and ww said "missing <binary>".
  {
    args: ["run", "--env", "/bin/true"],
    message: `--env /bin/true: the variable name "/bin/true" contains '/' (a value forgotten?`,
  },
  // --env -- took the separator for a name (passing the caller's "--", which it has not), and
  // ran on with exit 0.
  {
    args: ["run", "--env", "--", P],
    message: `--env took --, the end of ww's flags, as its value (a value forgotten?`,
  },
  // Its value forgotten, --ro-bind took the program, and ww said only "unknown flag -c".
  {
    args: ["run", "--ro-bind", "/bin/sh", "-c", "echo hi"],
    message:
      "unknown flag -c (a value forgotten? --ro-bind took /bin/sh as its value; give --ro-bind <src>[:<dst>], then the program)\n",
  },
  {
    args: ["run", "--memory", "python3", "-c", "print(1)"],
    message: "(a value forgotten? --memory took python3 as its value; give --memory <size>",
  },
  // connect(2) says ECONNREFUSED for a file that is no socket: "is the server running?".
  {
    args: ["run", "--connect", "c=unix:/etc/hostname", P],
    message: "--connect c=unix:/etc/hostname: not a socket: a file of another kind is there",
  },
  // Empty, it named the cwd: "cannot read it (Is a directory (os error 21))".
  { args: ["run", "--env-file", "", P], message: "--env-file: the path is empty" },
  // Read to its end, it never ends: ww reads at most 1 MiB and a byte.
  {
    args: ["run", "--env-file", "/dev/zero", P],
    message: "--env-file /dev/zero: cannot read it (it holds more than 1048576 bytes)",
  },
  { args: ["run", "--ipfs", "bogus", P], message: "--ipfs bogus: not a multiaddr" },
  {
    args: ["run", "--with-ipfs", P],
    env: { WW_IPFS: "bogus" },
    message: "WW_IPFS bogus: not a multiaddr",
  },
  { args: ["run", "--jail", "bogus", P], message: "--jail bogus: unknown backend" },
  { args: ["run", "--ro-bind", "", P], message: '--ro-bind "": the path is empty' },
  {
    args: ["run", "--bind", "a:rel", P],
    message: `--bind a:rel: the destination "rel" (after the first ':') must be`,
  },
  { args: ["run", "--ro-bind", "/etc:/", P], message: "cannot bind over the jail's root /" },
  // Found missing only once the jail is being built, after the work directory exists.
  {
    args: ["run", "--ro-bind", "/nonexistent-wwtest", P],
    message: "--ro-bind /nonexistent-wwtest: no such file or directory",
  },
  // With no jail, a bind is checked as the jails check it: the program sees the host as it is.
  {
    args: ["run", "--jail=none", "--ro-bind", "/nonexistent-wwtest", P],
    message: "--ro-bind /nonexistent-wwtest: no such file or directory on this machine",
  },
  {
    args: ["run", "--jail=none", "--bind", "/nonexistent-wwtest", P],
    message: "--bind /nonexistent-wwtest: no such file or directory on this machine",
  },
  {
    args: ["run", "--jail=none", "--ro-bind", "/etc:/x", P],
    message:
      "--ro-bind /etc:/x: --jail=none shows the host as it is and cannot show a path at another place (bind it at /etc, or run in a jail: --jail=bwrap)",
  },
  {
    args: ["run", "--jail=none", "--explain", "--bind", "/tmp:/x", P],
    message: "--bind /tmp:/x: --jail=none shows the host as it is and cannot show a path",
  },
  { args: ["run", "--timeout", "xyz", P], message: '--timeout "xyz" is not a duration' },
  { args: ["run", "--memory", "lots", P], message: '--memory "lots" is not a size' },
  { args: ["run", "--net=1", P], message: "--net takes no value" },
  // Durations past what a timer can wait (2^31-1 ms) are refused, not turned into 1 ms.
  {
    args: ["run", "--timeout", "597h", P],
    message: "--timeout 597h is longer than the maximum, 596h",
  },
  {
    args: ["run", "--timeout", "9999999999h", P],
    message: "--timeout 9999999999h is longer than the maximum, 596h",
  },
  {
    args: ["run", "--ipfs-timeout", "600h", P],
    message: "--ipfs-timeout 600h is longer than the maximum, 596h",
  },
  { args: ["run", "--timeout", "0.0001s", P], message: "shorter than the minimum, 1ms" },
  { args: ["run", "--memory", "0", P], message: "--memory 0 is not a positive size" },
  // Limits the jail cannot start with: named, with a value that works, before anything runs.
  { args: ["run", "--memory", "1", P], message: "--memory 1: below the minimum, 1M" },
  { args: ["run", "--memory", "1K", P], message: "--memory 1K: below the minimum, 1M" },
  // A later value hid an earlier bad one (the minimum was checked on the last value only).
  {
    args: ["run", "--memory", "1K", "--memory", "1G", P],
    message: "--memory 1K: below the minimum, 1M",
  },
  {
    args: ["run", "--jail=native", "--memory", "1K", P],
    message: "--memory 1K: below the minimum, 1M",
  },
  {
    args: ["run", "--jail=bwrap", "--nofile", "1", P],
    message: "--nofile 1: too low for this run (RLIMIT_NOFILE; bwrap is started with",
  },
  { args: ["run", "--jail=bwrap", "--nofile", "3", P], message: "use --nofile 15 or more" },
  { args: ["run", "--jail=native", "--nofile", "4", P], message: "use --nofile 5 or more" },
  {
    args: ["run", "--nofile", "99999999", P],
    message: "--nofile 99999999: more than this machine allows",
  },
  {
    args: ["run", "--jail=bwrap", "--nproc", "1", P],
    message: "--nproc 1: below the minimum for the bwrap jail, 3",
  },
  {
    args: ["run", "--jail=bwrap", ...manyGrants(1100), P],
    message: "--nofile 1024 (the default): too low for this run",
  },
  // bubblewrap's own limit: the run failed inside it, with a hint at ww doctor.
  {
    args: ["run", "--jail=bwrap", P, ...Array.from({ length: 9000 }, () => "a")],
    message: "the program has 9001 arguments, and bubblewrap takes at most 9000 words in all (",
  },
];

/** `count` grants of the caller's fd 0, under distinct names. */
function manyGrants(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `--with-fd=g${i}=0`);
}

Deno.test(`there are at least 20 bad inputs in the table (${ROWS.length})`, () => {
  assert.ok(ROWS.length >= 20);
});

for (const row of ROWS) {
  const shown = row.args.length > 40
    ? `${row.args.slice(0, 3).join(" ")} ... (${row.args.length} arguments)`
    : row.args.map((a) => a === "" ? '""' : a).join(" ");
  const env = row.env ? Object.entries(row.env).map(([k, v]) => `${k}=${v} `).join("") : "";
  Deno.test(`${env}ww ${shown} exits 125 saying "${row.message}", leaving nothing behind`, async () => {
    const tmp = privateTmp();
    const tag = `tag=${crypto.randomUUID()}`;
    try {
      const args = row.args.flatMap((a) => (a === P ? [child, tag] : [a]));
      const r = await runWw(args, { env: { ...row.env, TMPDIR: tmp } });
      assert.equal(r.code, 125, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^ww: [^\n]*\n$/, "not one line");
      assert.ok(r.stderr.includes(row.message), `${JSON.stringify(r.stderr)} lacks the fragment`);
      assert.deepEqual(wwDirs(tmp), [], "a work directory was left behind");
      assert.deepEqual(processesWithArg(tag), [], "the program was started");
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  });
}

// Deno decodes its arguments with U+FFFD for bytes that are not UTF-8: a path or value in another
// encoding reached the program changed, with exit 0. A file of such text did the same.
Deno.test("an argument or an --env-file that is not UTF-8 text is refused in one line; a U+FFFD that is text runs", async () => {
  const tmp = privateTmp();
  const tag = `tag=${crypto.randomUUID()}`;
  try {
    Deno.writeFileSync(`${tmp}/latin1.env`, new Uint8Array([0x41, 0x3d, 0xe9, 0x0a]));
    // `ww run`, then the arguments under test, made by the shell as bytes.
    const bash = (line: string) =>
      runWw(["run", "--jail=none"], {
        env: { TMPDIR: tmp },
        ww: [
          "/bin/bash",
          "-c",
          `export LATIN1=$'caf\\xe9'; exec "$@" ${line}`,
          "inner",
          ...wwCommand(),
        ],
      });
    for (
      const [line, message] of [
        [`${child} ${tag} $'caf\\xe9'`, 'argument 5 ("caf\ufffd") holds bytes that are not UTF-8'],
        [`--env-file ${tmp}/latin1.env ${child} ${tag}`, "cannot read it (it is not UTF-8 text)"],
        // Deno leaves such a variable out of its environment: --env KEY passed nothing, silently.
        [
          `--env LATIN1 ${child} ${tag}`,
          "--env LATIN1: its value in ww's environment is not UTF-8 text",
        ],
      ]
    ) {
      const r = await bash(line);
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, /^ww: [^\n]*\n$/, "not one line");
      assert.ok(r.stderr.includes(message), r.stderr);
      assert.deepEqual(processesWithArg(tag), [], "the program was started");
    }
    const text = await bash(`/usr/bin/printf %s $'\\xef\\xbf\\xbd'`);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout, "\ufffd");
    assert.deepEqual(wwDirs(tmp), [], "a work directory was left behind");
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

// `ipfs://<cid>/app` (a gateway's URL) and `ipfs/<cid>/app` (no leading slash) are local paths to ww:
// they were refused as "no such file (check the path)", which did not say how to name IPFS programs.
Deno.test("a missing local path spelt as an IPFS URL names /ipfs/ and the command to run, exit 127", async () => {
  const cid = "bafkreifajh5uovkmntpc5zcs4xmh6y4gvo3dv56nzlu42dojt7ea4c6pgu";
  for (
    const [program, fix] of [
      [`ipfs://${cid}/app`, `/ipfs/<cid>[/path]: ww run /ipfs/${cid}/app`],
      [`ipfs/${cid}`, `/ipfs/<cid>[/path]: ww run /ipfs/${cid}`],
      ["ipns://example.org/bin/app", "/ipns/<name>[/path]: ww run /ipns/example.org/bin/app"],
    ]
  ) {
    for (const args of [["run", program], ["run", "--explain", program]]) {
      const r = await runWw(args, { env: { WW_IPFS: "/ip4/127.0.0.1/tcp/1/http" } });
      assert.equal(r.code, 127, r.stderr);
      assert.equal(
        r.stderr,
        `ww: ${program}: no such file (a program from IPFS is named ${fix})\n`,
      );
    }
  }
  // Any other missing path keeps its words.
  const other = await runWw(["run", "./ipfs/app"]);
  assert.equal(other.stderr, "ww: ./ipfs/app: no such file (check the path)\n");
});

// A program in a directory the jail's user may not enter was exit 125 ("setup"), where one whose
// mode the jail's user may not execute is 126: both are a binary the jail cannot execute.
for (const jail of ["bwrap", "native"]) {
  Deno.test({
    name:
      `--jail=${jail} as root: a program the jail's user cannot reach is 126, as one it may not execute`,
    ignore: Deno.uid() !== 0,
    fn: async () => {
      const tmp = privateTmp();
      try {
        Deno.mkdirSync(`${tmp}/closed`, { mode: 0o700 });
        Deno.chmodSync(`${tmp}/closed`, 0o700);
        Deno.copyFileSync("/bin/true", `${tmp}/closed/prog`);
        const r = await runWw(["run", `--jail=${jail}`, `${tmp}/closed/prog`], {
          env: { TMPDIR: tmp },
        });
        assert.equal(r.code, 126, r.stderr);
        assert.match(r.stderr, /^ww: [^\n]*which cannot enter [^\n]*closed \(mode 0700\)[^\n]*\n$/);
        assert.deepEqual(wwDirs(tmp), []);
      } finally {
        Deno.removeSync(tmp, { recursive: true });
      }
    },
  });
}

// Two directories on the way that the jail's user may not enter: the refusal named the first only,
// and the chmod it named led to the same refusal for the second. Both are named now, with one fix
// that, followed to the letter, lets the next run through.
for (const jail of ["bwrap", "native"]) {
  Deno.test({
    name:
      `--jail=${jail} as root: every directory the jail's user cannot enter is named, with one fix for all`,
    ignore: Deno.uid() !== 0,
    fn: async () => {
      const tmp = privateTmp();
      try {
        Deno.mkdirSync(`${tmp}/a/b`, { recursive: true });
        for (const dir of [`${tmp}/a`, `${tmp}/a/b`]) Deno.chmodSync(dir, 0o700);
        Deno.copyFileSync("/bin/true", `${tmp}/a/b/prog`);
        Deno.chmodSync(`${tmp}/a/b/prog`, 0o755);
        const fixed = async (args: string[], chmod: string) => {
          const r = await runWw(["run", `--jail=${jail}`, ...args], { env: { TMPDIR: tmp } });
          assert.match(
            r.stderr,
            new RegExp(
              `^ww: [^\\n]*which cannot enter ${tmp}/a \\(mode 0700\\) nor ${tmp}/a/b \\(mode 0700\\); make them reachable \\(${
                chmod.replace(/[+]/g, "\\$&")
              }\\)\\n$`,
            ),
          );
          const fix = new Deno.Command("/bin/sh", { args: ["-c", chmod] }).outputSync();
          assert.equal(fix.code, 0);
          const again = await runWw(["run", `--jail=${jail}`, ...args], { env: { TMPDIR: tmp } });
          assert.equal(again.code, 0, again.stderr);
          for (const dir of [`${tmp}/a`, `${tmp}/a/b`]) Deno.chmodSync(dir, 0o700);
          return r.code;
        };
        assert.equal(await fixed([`${tmp}/a/b/prog`], `chmod o+x ${tmp}/a ${tmp}/a/b`), 126);
        assert.equal(
          await fixed(
            ["--ro-bind", `${tmp}/a/b`, "/bin/true"],
            `chmod o+x ${tmp}/a && chmod o+rx ${tmp}/a/b`,
          ),
          125,
        );
        assert.deepEqual(wwDirs(tmp), []);
      } finally {
        Deno.removeSync(tmp, { recursive: true });
      }
    },
  });
}

// A name looked up in PATH, found first in a directory the jail's user may not enter (a root's
// tool shims in /root/...): the advice was --uid/--gid, which no jail can use there (it is never
// host root); a copy later in PATH that the jail can run is named instead.
for (const jail of ["bwrap", "native"]) {
  Deno.test({
    name:
      `--jail=${jail} as root: a program found in PATH where the jail cannot reach it names a copy later in PATH it can run`,
    ignore: Deno.uid() !== 0,
    fn: async () => {
      const tmp = privateTmp();
      try {
        for (const [dir, mode] of [["closed", 0o700], ["open", 0o755]] as const) {
          Deno.mkdirSync(`${tmp}/${dir}`);
          Deno.chmodSync(`${tmp}/${dir}`, mode);
        }
        Deno.copyFileSync("/bin/true", `${tmp}/closed/prog`);
        const env = { TMPDIR: tmp, PATH: `${tmp}/closed:${tmp}/open:/usr/bin` };
        const none = await runWw(["run", `--jail=${jail}`, "prog"], { env });
        assert.equal(none.code, 126, none.stderr);
        assert.equal(
          none.stderr,
          `ww: prog: found in PATH at ${tmp}/closed/prog, but the jail runs as uid ${
            /uid (\d+)/.exec(none.stderr)?.[1]
          }, which cannot enter ${tmp}/closed (mode 0700); give the path of a copy it can reach, or make it reachable (chmod o+x ${tmp}/closed)\n`,
        );
        Deno.copyFileSync("/bin/true", `${tmp}/open/prog`);
        Deno.chmodSync(`${tmp}/open/prog`, 0o755);
        const other = await runWw(["run", `--jail=${jail}`, "prog"], { env });
        assert.equal(other.code, 126, other.stderr);
        assert.match(
          other.stderr,
          new RegExp(`; ${tmp}/open/prog, later in PATH, it can run: give that path\n$`),
        );
        assert.equal((await runWw(["run", `--jail=${jail}`, `${tmp}/open/prog`], { env })).code, 0);
        assert.deepEqual(wwDirs(tmp), []);
      } finally {
        Deno.removeSync(tmp, { recursive: true });
      }
    },
  });
}

// Deno gives no variable or cwd that is not UTF-8 text as a string: Deno.env.get and Deno.cwd threw,
// which `ww run` reported as an internal error, whether the run needed the value or not.
Deno.test("ww's own variables and its cwd, when not UTF-8 text: refused in one line naming each where a run needs it, ignored where not", async () => {
  const tmp = privateTmp();
  const tag = `tag=${crypto.randomUUID()}`;
  try {
    // `ww run` from a shell that sets the variable (or enters the directory) as bytes.
    const bash = (setup: string, args: string) =>
      runWw(["run"], {
        env: { TMPDIR: tmp },
        ww: [
          "/bin/bash",
          "-c",
          `mkdir -p ${tmp}/caf$'\\xe9' && cd ${tmp} && ${setup} && exec "$@" ${args}`,
          "inner",
          ...wwCommand(),
        ],
      });
    for (
      const [setup, args, message] of [
        // The cwd is asked for only to resolve a relative path.
        [`cd caf$'\\xe9'`, `--jail=none ${child} ${tag}`, undefined],
        [`cd caf$'\\xe9'`, `--jail=none ./prog ${tag}`, "the current directory's path is not"],
        [`cd caf$'\\xe9'`, `--jail=none --ro-bind rel ${child} ${tag}`, "the current directory"],
        // PATH, only to look a name up in.
        [`export PATH=$'/opt/caf\\xe9':$PATH`, `--jail=none ${child} ${tag}`, undefined],
        [`export PATH=$'/opt/caf\\xe9':$PATH`, `--jail=none true ${tag}`, "PATH holds bytes"],
        // Not when the program has a PATH of its own, where its name is looked up.
        [`export PATH=$'/opt/caf\\xe9':$PATH`, `--jail=none -e PATH=/bin true ${tag}`, undefined],
        [`export PATH=$'/opt/caf\\xe9':$PATH`, `--jail=native -e PATH=/bin true ${tag}`, undefined],
        // Where --jail=auto keeps what it learnt: optional.
        [`export HOME=$'/home/caf\\xe9' XDG_CACHE_HOME=$'/c\\xe9'`, `${child} ${tag}`, undefined],
        [`export TMPDIR=$'/tmp/caf\\xe9'`, `--jail=none ${child} ${tag}`, "TMPDIR holds bytes"],
        [`export IPFS_PATH=$'/caf\\xe9'`, `--jail=none /ipfs/bafkqaaa ${tag}`, "IPFS_PATH holds"],
        [`export WW_IPFS=$'/caf\\xe9'`, `--jail=none /ipfs/bafkqaaa ${tag}`, "WW_IPFS holds"],
        [`export WW_IPFS=$'/caf\\xe9'`, `--jail=none ${child} ${tag}`, undefined],
        ...(Deno.uid() === 0
          ? [[`export WW_JAIL_IDS=$'\\xe9'`, `--jail=native ${child} ${tag}`, "WW_JAIL_IDS holds"]]
          : []),
      ] as const
    ) {
      const r = await bash(setup, args);
      if (message === undefined) {
        assert.equal(r.code, 0, `${setup}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /internal error/);
      } else {
        assert.equal(r.code, 125, `${setup}: ${r.stderr}`);
        assert.match(r.stderr, /^ww: [^\n]*\n$/, "not one line");
        assert.ok(r.stderr.includes(message), `${setup}: ${r.stderr}`);
      }
      assert.deepEqual(processesWithArg(tag), [], "a program was left running");
    }
    assert.deepEqual(wwDirs(tmp), [], "a work directory was left behind");
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

// A bind source that exists but cannot be looked up is not called missing: a symlink loop stands
// for what ww cannot see (a directory it may not search gives EACCES the same way, but not to root).
for (const jail of ["none", "bwrap", "native"]) {
  Deno.test(`--jail=${jail}: a bind source in a symlink loop is named as one, not as missing`, async () => {
    const tmp = privateTmp();
    const tag = `tag=${crypto.randomUUID()}`;
    try {
      Deno.symlinkSync(`${tmp}/loop`, `${tmp}/loop`);
      const r = await runWw(["run", `--jail=${jail}`, "--ro-bind", `${tmp}/loop`, child, tag], {
        env: { TMPDIR: tmp },
      });
      assert.equal(r.code, 125, r.stderr);
      assert.equal(
        r.stderr,
        `ww: --ro-bind ${tmp}/loop: too many levels of symbolic links (ELOOP: fix or remove the link that loops, or give the path it leads to)\n`,
      );
      assert.deepEqual(wwDirs(tmp), [], "a work directory was left behind");
      assert.deepEqual(processesWithArg(tag), [], "the program was started");
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  });
}

// The same for a source below a directory ww may not search: ww run by an unprivileged user (root
// would search any directory), under each jail an unprivileged user has.
for (const jail of ["none", "native"]) {
  Deno.test(`--jail=${jail}, run by an unprivileged user: a bind source in a directory it may not search is said so`, async () => {
    const home = Deno.makeTempDirSync({ prefix: "wwtest-user-home-" });
    const closed = Deno.makeTempDirSync({ prefix: "wwtest-closed-" });
    Deno.chmodSync(home, 0o777);
    try {
      Deno.writeTextFileSync(`${closed}/secret`, "x");
      Deno.chmodSync(closed, 0o700); // root's: uid 4242 may not search it
      const r = await runWwAsUser(
        4242,
        ["run", `--jail=${jail}`, "--ro-bind", `${closed}/secret`, "/bin/true"],
        home,
        { TMPDIR: home },
      );
      assert.equal(r.code, 125, r.stderr);
      assert.equal(
        r.stderr,
        `ww: --ro-bind ${closed}/secret: ww may not look there (EACCES: it cannot search a directory on the path)\n`,
      );
      assert.deepEqual(wwDirs(home), [], "a work directory was left behind");
    } finally {
      Deno.removeSync(home, { recursive: true });
      Deno.removeSync(closed, { recursive: true });
    }
  });
}

// findTool took a tool with any x bit: a bwrap ahead in PATH that ww's user may not execute (0750,
// a group it is not in) was picked over /usr/bin/bwrap, and the jail could not start.
// ww's own posix_spawn (of the program under --jail=none, of its stage under a jail) failing with
// EAGAIN said only "could not start: posix_spawn (...): EAGAIN": no word of the limit or the fix.
for (const jail of ["none", "native"]) {
  Deno.test(`--jail=${jail}, run by a user at its RLIMIT_NPROC: ww's spawn failing with EAGAIN names the limit and the fix (125)`, async () => {
    // A uid nothing else runs as: the processes the limit counts are this test's alone.
    const uid = 62000 + (Deno.pid % 1000) + (jail === "none" ? 0 : 1000);
    const limit = 200;
    const home = privateTmp(0o777);
    const fifo = `${home}/fifo`;
    const asUser = ["setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--"];
    const fillers: Deno.ChildProcess[] = [];
    try {
      const made = await new Deno.Command("mkfifo", { args: ["-m", "666", fifo] }).output();
      assert.equal(made.code, 0);
      const [cmd, ...args] = [
        ...asUser,
        "prlimit",
        `--nproc=${limit}`,
        "--",
        ...wwCommand(),
        "run",
        `--jail=${jail}`,
        "--nproc",
        String(limit),
        "--open",
        `f=${fifo}`,
        "/bin/true",
      ];
      const ww = new Deno.Command(cmd, {
        args,
        env: { HOME: home, DENO_DIR: `${home}/deno`, PATH: "/usr/bin:/bin" },
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      // ww waits in the FIFO's open for its other end: every thread it needs is made by then.
      const waiting = () =>
        [...Deno.readDirSync(`/proc/${ww.pid}/task`)].some((t) => {
          try {
            return Deno.readTextFileSync(`/proc/${ww.pid}/task/${t.name}/wchan`) ===
              "wait_for_partner";
          } catch {
            return false;
          }
        });
      for (let i = 0; !waiting(); i++) {
        assert.ok(i < 600, "ww never waited for the FIFO");
        await new Promise((r) => setTimeout(r, 100));
      }
      // The user's other processes take what its limit has left.
      for (let n = processesOfUid(uid); n < limit; n++) {
        fillers.push(
          new Deno.Command(asUser[0], {
            args: [...asUser.slice(1), "sleep", "120"],
            stdin: "null",
            stdout: "null",
            stderr: "null",
          }).spawn(),
        );
      }
      while (processesOfUid(uid) < limit) await new Promise((r) => setTimeout(r, 20));
      // Read and write: this open never waits, and ww's ends its wait.
      const other = Deno.openSync(fifo, { read: true, write: true });
      const out = await ww.output();
      other.close();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 125, stderr);
      const lines = stderr.trim().split("\n").filter((l) => !l.includes("NOT jailed"));
      assert.equal(lines.length, 1, stderr);
      assert.match(
        lines[0],
        new RegExp(
          `^ww: \\S+: could not start \\(posix_spawn: EAGAIN\\): uid ${uid}, which ww runs as, already runs \\d+ processes or threads, all its limit allows \\(RLIMIT_NPROC, ulimit -u: ${limit}\\); end some of them, or raise ww's limit \\(ulimit -u, or nproc in /etc/security/limits\\.conf\\)$`,
        ),
      );
    } finally {
      for (const f of fillers) {
        f.kill("SIGKILL");
        await f.status;
      }
      Deno.removeSync(home, { recursive: true });
    }
  });
}

/** The processes and threads of real uid `uid` now: what RLIMIT_NPROC counts. */
function processesOfUid(uid: number): number {
  let n = 0;
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const status = Deno.readTextFileSync(`/proc/${e.name}/status`);
      if (Number(/^Uid:\s*(\d+)/m.exec(status)?.[1]) !== uid) continue;
      n += Number(/^Threads:\s*(\d+)/m.exec(status)?.[1] ?? 1);
    } catch { /* gone meanwhile */ }
  }
  return n;
}

Deno.test("--jail=bwrap, run by an unprivileged user: a bwrap in PATH it may not execute is passed over", async () => {
  const home = Deno.makeTempDirSync({ prefix: "wwtest-user-home-" });
  Deno.chmodSync(home, 0o777);
  const bin = `${home}/bin`;
  try {
    Deno.mkdirSync(bin, { mode: 0o755 });
    Deno.writeTextFileSync(`${bin}/bwrap`, "#!/bin/sh\necho 'not bubblewrap' >&2; exit 1\n");
    Deno.chmodSync(`${bin}/bwrap`, 0o750); // root:root: uid 4250 may not execute it
    const r = await runWwAsUser(4250, ["run", "--jail=bwrap", "/bin/echo", "jailed"], home, {
      TMPDIR: home,
      PATH: `${bin}:/usr/bin:/bin`,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "jailed\n");
    assert.deepEqual(wwDirs(home), [], "a work directory was left behind");
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

// ww not root runs the jail as its own user, supplementary groups and all, and checked nothing up
// front for it: a --bind that user cannot write started, and its program met EACCES (ww exit 0).
// As root the same mistake is one line; it is now for ww's own user too, in words that fit it (no
// lease, no --uid or --gid, which move no host id then), and --explain says the same.
for (const jail of ["bwrap", "native"]) {
  Deno.test(`--jail=${jail}, run by an unprivileged user: a --bind it cannot write is one line, one it can write through a group runs`, async () => {
    const home = Deno.makeTempDirSync({ prefix: "wwtest-user-home-" });
    Deno.chmodSync(home, 0o777);
    const roots = `${home}/roots`; // root's, 0755: the user may enter it, not write it
    const mine = `${home}/mine`; // the user's own, 0555: it may make it writable itself
    const shared = `${home}/shared`; // root's, group 4249's, 0770
    try {
      Deno.mkdirSync(roots, { mode: 0o755 });
      Deno.mkdirSync(mine);
      Deno.chownSync(mine, 4248, 4248);
      Deno.chmodSync(mine, 0o555);
      Deno.mkdirSync(shared);
      Deno.chownSync(shared, 0, 4249);
      Deno.chmodSync(shared, 0o770);
      const asUser = (args: string[], groups: number[] = []) =>
        runWwAsUser(4248, ["run", `--jail=${jail}`, ...args], home, { TMPDIR: home }, groups);
      const refusals: [string, string][] = [
        [
          roots,
          `the jail runs as ww's own user (uid 4248, gid 4248), which cannot write it (owner 0:0, mode 0755); ask its owner, uid 0, to make it writable (chmod o+rwx ${roots}), or bind it read-only with --ro-bind`,
        ],
        [
          mine,
          `the jail runs as ww's own user (uid 4248, gid 4248), which cannot write it (owner 4248:4248, mode 0555); make it writable (chmod u+rwx ${mine}), or bind it read-only with --ro-bind`,
        ],
      ];
      for (const [dir, why] of refusals) {
        for (const explain of [[], ["--explain"]]) {
          const r = await asUser([...explain, "--bind", dir, "/bin/sh", "-c", `touch ${dir}/x`]);
          assert.equal(r.code, 125, r.stderr);
          assert.equal(r.stderr, `ww: --bind ${dir}: ${why}\n`);
        }
      }
      // A directory it may not enter, though it is its own: the fix is its own chmod.
      Deno.chmodSync(mine, 0o600);
      const closed = await asUser(["--ro-bind", mine, "/bin/true"]);
      assert.equal(closed.code, 125, closed.stderr);
      assert.equal(
        closed.stderr,
        `ww: --ro-bind ${mine}: the jail runs as ww's own uid 4248, which cannot enter ${mine} (mode 0600); make it reachable (chmod u+rx ${mine})\n`,
      );
      // Writable through a supplementary group, which the jail keeps: it runs, and writes there.
      const ran = await asUser(["--bind", shared, "/bin/sh", "-c", `touch ${shared}/x`], [4249]);
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(Deno.statSync(`${shared}/x`).uid, 4248);
      // Without that group it may not even enter it.
      const outside = await asUser(["--bind", shared, "/bin/true"]);
      assert.equal(outside.code, 125, outside.stderr);
      assert.match(
        outside.stderr,
        /^ww: --bind .*: the jail runs as ww's own uid 4248, which cannot enter /,
      );
      assert.deepEqual(wwDirs(home), [], "a work directory was left behind");
    } finally {
      Deno.removeSync(home, { recursive: true });
    }
  });
}

// A --ro-bind the jail's user cannot read was let start: bwrap and the native jail showed it, and
// the program met EACCES (ww exit as the program's). It is refused now as a --bind it cannot
// write is, in one line naming the path, the user and the fix, --explain alike.
for (const jail of ["bwrap", "native"]) {
  Deno.test(`--jail=${jail}, run by an unprivileged user: a --ro-bind it cannot read is one line, one it can read through a group runs`, async () => {
    const home = Deno.makeTempDirSync({ prefix: "wwtest-user-home-" });
    Deno.chmodSync(home, 0o777);
    const secret = `${home}/secret`; // root's, 0600
    const listless = `${home}/listless`; // root's, 0711: the user may enter it, not list it
    const mine = `${home}/mine`; // the user's own, 0200: it may make it readable itself
    const shared = `${home}/shared`; // root's, group 4249's, 0640
    try {
      for (const file of [secret, mine, shared]) Deno.writeTextFileSync(file, "x\n");
      Deno.chmodSync(secret, 0o600);
      Deno.mkdirSync(listless);
      Deno.chmodSync(listless, 0o711);
      Deno.chownSync(mine, 4248, 4248);
      Deno.chmodSync(mine, 0o200);
      Deno.chownSync(shared, 0, 4249);
      Deno.chmodSync(shared, 0o640);
      const asUser = (args: string[], groups: number[] = []) =>
        runWwAsUser(4248, ["run", `--jail=${jail}`, ...args], home, { TMPDIR: home }, groups);
      const user = "the jail runs as ww's own user (uid 4248, gid 4248)";
      const refusals: [string, string][] = [
        [
          secret,
          `${user}, which cannot read it (owner 0:0, mode 0600); ask its owner, uid 0, to make it readable (chmod o+r ${secret})`,
        ],
        [
          listless,
          `${user}, which cannot read it (owner 0:0, mode 0711); ask its owner, uid 0, to make it readable (chmod o+rx ${listless})`,
        ],
        [
          mine,
          `${user}, which cannot read it (owner 4248:4248, mode 0200); make it readable (chmod u+r ${mine})`,
        ],
        [
          shared,
          `${user}, which cannot read it (owner 0:4249, mode 0640); ask its owner, uid 0, to make it readable (chmod o+r ${shared})`,
        ],
      ];
      for (const [path, why] of refusals) {
        for (const explain of [[], ["--explain"]]) {
          const r = await asUser([...explain, "--ro-bind", path, "/bin/ls", path]);
          assert.equal(r.code, 125, r.stderr);
          assert.equal(r.stderr, `ww: --ro-bind ${path}: ${why}\n`);
        }
      }
      // Readable through a supplementary group, which the jail keeps: it runs, and reads it.
      const ran = await asUser(["--ro-bind", shared, "/bin/cat", shared], [4249]);
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(ran.stdout, "x\n");
      assert.deepEqual(wwDirs(home), [], "a work directory was left behind");
    } finally {
      Deno.removeSync(home, { recursive: true });
    }
  });
}

// The same as root: the jail's leased uid is told how to get read access (a group, others, its
// owner), as for a --bind it cannot write.
for (const jail of ["bwrap", "native"]) {
  Deno.test({
    name: `--jail=${jail} as root: a --ro-bind the jail's user cannot read is one line`,
    ignore: Deno.uid() !== 0,
    fn: async () => {
      const tmp = privateTmp();
      try {
        const secret = `${tmp}/secret`;
        Deno.writeTextFileSync(secret, "x\n");
        Deno.chmodSync(secret, 0o600);
        for (const explain of [[], ["--explain"]]) {
          const r = await runWw(
            ["run", `--jail=${jail}`, ...explain, "--ro-bind", secret, "/bin/cat", secret],
            { env: { TMPDIR: tmp } },
          );
          assert.equal(r.code, 125, r.stderr);
          assert.match(
            r.stderr,
            new RegExp(
              `^ww: --ro-bind ${secret}: the jail runs as a uid of its own \\(\\d+, gid \\d+; leased per run\\), which cannot read it \\(owner 0:0, mode 0600\\); let others read it \\(chmod o\\+r ${secret}\\), or let a group read it and run the jail in that group \\(chgrp G ${secret} && chmod g\\+r ${secret}, then --gid G\\)\n$`,
            ),
          );
        }
        assert.deepEqual(wwDirs(tmp), []);
      } finally {
        Deno.removeSync(tmp, { recursive: true });
      }
    },
  });
}

/**
 * Gives uid `uid` read and execute of `path` through an ACL entry of its own (its mode's classes
 * grant it nothing): the system.posix_acl_access attribute, written as setfacl(1) would. False
 * when the file system keeps no ACLs.
 */
async function aclFor(path: string, uid: number): Promise<boolean> {
  const script = `
import errno, os, struct, sys
e = lambda tag, perm, id: struct.pack("<HHI", tag, perm, id)
none = 0xffffffff
acl = struct.pack("<I", 2) + e(1, 7, none) + e(2, 5, ${uid}) + e(4, 0, none) + e(0x10, 5, none) + e(0x20, 0, none)
try:
    os.setxattr(sys.argv[1], "system.posix_acl_access", acl)
except OSError as x:
    if x.errno != errno.EOPNOTSUPP: raise
    sys.exit(3)
`;
  const { code } = await new Deno.Command("python3", { args: ["-c", script, path] }).output();
  assert.ok(code === 0 || code === 3, `python3 could not set an ACL on ${path}`);
  return code === 0;
}

// ww's own check that it may execute its program and a #! line's interpreter read the mode's
// bits for its real uid and gid alone: a file executable only through a supplementary group of
// ww's caller (0750, root's, that group's), or through an ACL entry, was refused (126) before
// any backend started it, though the kernel would have run it. The kernel's rule holds now:
// effective ids, every supplementary group, ACLs as the kernel answers for ww.
for (const jail of ["none", "bwrap", "native"]) {
  Deno.test(`--jail=${jail}, run by an unprivileged user: a program or interpreter it may execute through a supplementary group or an ACL runs`, async () => {
    const home = Deno.makeTempDirSync({ prefix: "wwtest-user-home-" });
    Deno.chmodSync(home, 0o777);
    const prog = `${home}/prog`; // root's, group 4249's, 0750
    const sh = `${home}/sh`; // a copy of /bin/sh, root's, group 4249's, 0750
    const script = `${home}/script`; // root's, 0755, #!${sh}
    const acl = `${home}/acl`; // root's, 0700, with an ACL entry giving uid 4248 r-x
    try {
      Deno.writeTextFileSync(prog, "#!/bin/sh\necho prog ran\n");
      Deno.copyFileSync("/bin/sh", sh);
      Deno.writeTextFileSync(script, `#!${sh}\necho script ran\n`);
      Deno.writeTextFileSync(acl, "#!/bin/sh\necho acl ran\n");
      const owners: [string, number, number][] = [
        [prog, 4249, 0o750],
        [sh, 4249, 0o750],
        [script, 0, 0o755],
        [acl, 0, 0o700],
      ];
      for (const [file, gid, mode] of owners) {
        Deno.chownSync(file, 0, gid);
        Deno.chmodSync(file, mode);
      }
      const withAcl = await aclFor(acl, 4248);
      // The interpreter is shown to the jail (and only read there: its group's r bit).
      const asUser = (file: string, groups: number[]) =>
        runWwAsUser(
          4248,
          ["run", `--jail=${jail}`, ...(file === script ? ["--ro-bind", sh] : []), file],
          home,
          { TMPDIR: home },
          groups,
        );
      const runs: [string, string][] = [[prog, "prog ran\n"], [script, "script ran\n"]];
      if (withAcl) runs.push([acl, "acl ran\n"]);
      for (const [file, out] of runs) {
        const r = await asUser(file, [4249]);
        assert.equal(r.code, 0, `${file}: ${r.stderr}`);
        assert.equal(r.stdout, out);
      }
      // Without the group, the file's mode lets it execute neither (the ACL is the uid's).
      const refusals: [string, string][] = [
        [prog, `${prog}: permission denied (not executable; try chmod +x)`],
        [
          script,
          `${script}: its interpreter ${sh} (from the #! line) is not an executable file (fix the #! line, or make it executable: chmod +x ${sh})`,
        ],
      ];
      for (const [file, why] of refusals) {
        const r = await asUser(file, []);
        assert.equal(r.code, 126, r.stderr);
        assert.deepEqual(errorLines(r.stderr), [`ww: ${why}`]);
      }
      if (withAcl) assert.equal((await asUser(acl, [])).code, 0);
      assert.deepEqual(wwDirs(home), [], "a work directory was left behind");
    } finally {
      Deno.removeSync(home, { recursive: true });
    }
  });
}

/** What a --chdir that is no directory is told to do (it said only "not a directory"). */
const START_IN = "give the directory the program is to start in";

// Under --jail=none an unprivileged caller's --chdir it may not enter was blamed on the program
// ("cannot execute: EACCES", 126); a file or a link loop there was "no such directory".
Deno.test("--jail=none: a --chdir that is no directory, or one ww's caller may not enter, is said so (125)", async () => {
  const home = Deno.makeTempDirSync({ prefix: "wwtest-user-home-" });
  const closed = Deno.makeTempDirSync({ prefix: "wwtest-closed-" });
  Deno.chmodSync(home, 0o777);
  try {
    Deno.chmodSync(closed, 0o700); // root's: uid 4242 may not enter it
    Deno.writeTextFileSync(`${home}/file`, "x");
    Deno.symlinkSync(`${home}/loop`, `${home}/loop`);
    const cases: [string, string][] = [
      [closed, "ww's caller may not enter it (EACCES)"],
      [`${home}/file`, `not a directory; ${START_IN}`],
      [`${home}/loop`, `too many levels of symbolic links (a loop); ${START_IN}`],
      [`${home}/file/sub`, `not a directory (a part of its path is a file); ${START_IN}`],
    ];
    for (const [dir, why] of cases) {
      const r = await runWwAsUser(
        4242,
        ["run", "--jail=none", "--chdir", dir, "/bin/pwd"],
        home,
        { TMPDIR: home },
      );
      assert.equal(r.code, 125, r.stderr);
      assert.equal(errorLines(r.stderr).join("\n"), `ww: --chdir ${dir}: ${why}`);
      assert.equal(r.stdout, "");
    }
  } finally {
    Deno.removeSync(home, { recursive: true });
    Deno.removeSync(closed, { recursive: true });
  }
});

// The Kubo API file is read only when the run can use the node: a local program without
// --with-ipfs runs whatever $IPFS_PATH/api holds, and with the grant the same file is refused.
Deno.test("a malformed $IPFS_PATH/api stops only a run that can use the node (--with-ipfs)", async () => {
  const tmp = privateTmp();
  try {
    Deno.writeTextFileSync(`${tmp}/api`, "/ip4/1.2.3/tcp/5001");
    const env = { IPFS_PATH: tmp, TMPDIR: tmp };
    const local = await runWw(["run", "--jail=none", child], { env });
    assert.equal(local.code, 0, local.stderr);
    const granted = await runWw(["run", "--jail=none", "--with-ipfs", child], { env });
    assert.equal(granted.code, 125, granted.stderr);
    assert.match(granted.stderr, /^ww: the IPFS address in \$IPFS_PATH\/api \(/m);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

// An api file that was empty or a directory was passed over in silence, for the default address:
// a user who set IPFS_PATH got another node than the one it names.
Deno.test("an $IPFS_PATH/api that is empty, a directory or a FIFO is refused in one line naming it and the fix", async () => {
  const tmp = privateTmp();
  try {
    const repo = `${tmp}/repo`;
    const api = `${repo}/api`;
    const env = { IPFS_PATH: repo, TMPDIR: tmp };
    const make: [string, () => void][] = [
      ["empty", () => Deno.writeTextFileSync(api, " \n")],
      ["a directory", () => Deno.mkdirSync(api)],
      ["not a regular file", () => new Deno.Command("mkfifo", { args: [api] }).outputSync()],
    ];
    for (const [why, build] of make) {
      Deno.mkdirSync(repo);
      build();
      // Bounded: a FIFO must not be waited on.
      const r = await runWw(["run", "--jail=none", "--with-ipfs", child], {
        env,
        ww: ["timeout", "20", ...wwCommand()],
      });
      assert.equal(r.code, 125, `${why}: ${r.stderr}`);
      assert.equal(
        r.stderr,
        `ww: $IPFS_PATH/api (${api}): ${why}; a running Kubo daemon writes its API address there (remove it if no daemon uses that repository, or name the node with --ipfs or WW_IPFS)\n`,
      );
      assert.equal(r.stdout, "");
      // --ipfs names the node: the file is not read, and the run goes on.
      const named = await runWw(
        ["run", "--jail=none", "--ipfs", "/ip4/127.0.0.1/tcp/1/http", "--with-ipfs", child],
        { env, ww: ["timeout", "20", ...wwCommand()] },
      );
      assert.equal(named.code, 0, `${why}: ${named.stderr}`);
      Deno.removeSync(repo, { recursive: true });
    }
    // No api file at all is no daemon there: the default address, as before.
    const absent = await runWw(["run", "--jail=none", "--with-ipfs", child], { env });
    assert.equal(absent.code, 0, absent.stderr);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

// The counterpart of the --jail=none bind rows: a bind at its own place runs (the host path is
// there as it is), and the NOT-jailed warning says that a --ro-bind is not read-only.
Deno.test("ww run --jail=none --ro-bind DIR runs, its warning saying DIR is not read-only", async () => {
  const tmp = privateTmp();
  try {
    const r = await runWw(
      [
        "run",
        "--jail=none",
        "--ro-bind",
        tmp,
        "--bind",
        "/dev/null",
        "/bin/sh",
        "-c",
        `: > ${tmp}/w`,
      ],
      { env: { TMPDIR: tmp } },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr,
      `ww: warning: /bin/sh runs NOT jailed (--jail=none): not enforced: read-only ${tmp} (it needs a jail)\n`,
    );
    Deno.statSync(`${tmp}/w`);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

// An error quoting a huge input was a line as long as it (a 2 MB $IPFS_PATH/api: larger than ww's
// stderr queue, so that the line was dropped and "1 console lines dropped" said instead).
Deno.test("an error quoting a huge input is one short line that still says what and why", async () => {
  const tmp = privateTmp();
  try {
    Deno.mkdirSync(`${tmp}/repo`);
    Deno.writeTextFileSync(`${tmp}/repo/api`, "a".repeat(2_000_000));
    const cid = "/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
    const runs = [
      runWw(["run", cid], { env: { TMPDIR: tmp, IPFS_PATH: `${tmp}/repo` } }),
      runWw(["run", "--ipfs", `/dns4/${"b".repeat(100_000)}/tcp/1`, child], {
        env: { TMPDIR: tmp },
      }),
    ];
    for (const r of await Promise.all(runs)) {
      assert.equal(r.code, 125, r.stderr.slice(0, 500));
      assert.match(r.stderr, /^ww: [^\n]*\n$/, "not one line");
      assert.ok(r.stderr.length < 10_000, `${r.stderr.length} characters`);
      assert.match(r.stderr, /(not a multiaddr|is not a DNS name)/);
      assert.doesNotMatch(r.stderr, /lines dropped/);
    }
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

// ww read $IPFS_PATH/api whatever it was: a FIFO there waited for a writer forever, before any
// --ipfs-timeout could start.
Deno.test("a FIFO at $IPFS_PATH/api is no Kubo API file: the run goes on without it", async () => {
  const tmp = privateTmp();
  try {
    Deno.mkdirSync(`${tmp}/repo`);
    new Deno.Command("mkfifo", { args: [`${tmp}/repo/api`] }).outputSync();
    const r = await runWw(
      [
        "run",
        "--ipfs",
        "/ip4/127.0.0.1/tcp/1/http",
        "/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
      ],
      // Bounded: the old ww waited forever (exit 124 here).
      { env: { TMPDIR: tmp, IPFS_PATH: `${tmp}/repo` }, ww: ["timeout", "20", ...wwCommand()] },
    );
    assert.equal(r.code, 125, r.stderr);
    assert.match(
      r.stderr,
      /^ww: [^\n]*cannot reach the IPFS node at \/ip4\/127\.0\.0\.1\/tcp\/1\/http/,
    );
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

// ww's own output to a stdout that takes no more was "ww: internal error: No space left on device
// (os error 28)".
Deno.test("ww's own output to a full stdout is one line saying so (125), for every command that prints", async () => {
  for (const args of [["--help"], ["--version"], ["doctor"], ["run", "--explain", "/bin/true"]]) {
    const r = await runWw(args, { fds: { 1: { write: "/dev/full" } } });
    assert.equal(r.code, 125, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr, "ww: cannot write to stdout: No space left on device (ENOSPC)\n");
  }
});

Deno.test("every duration flag takes a compound duration (1m30s); one out of order is refused naming the forms", async () => {
  const flags = ["--timeout", "--ipfs-timeout", "--cpu"];
  const ok = await runWw([
    "run",
    "--jail=none",
    ...flags.flatMap((f) => [f, "1m30s"]),
    "/bin/true",
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  const explained = await runWw(["run", "--explain", "--timeout", "1h2m3.5s", "/bin/true"]);
  assert.equal(explained.code, 0, explained.stderr);
  for (const flag of flags) {
    const r = await runWw(["run", "--jail=none", flag, "30s1m", "/bin/true"]);
    assert.equal(r.code, 125, r.stderr);
    assert.match(
      r.stderr,
      flag === "--cpu"
        ? /^ww: --cpu "30s1m" is not a positive whole number of seconds, like 90, 90s, 2m, 1m30s or 1h, or unlimited\n$/
        : new RegExp(`^ww: ${flag} "30s1m" is not a duration like 30s, 500ms, 2m or 1m30s\\n$`),
    );
  }
});

Deno.test("ww doctor --help prints doctor's usage, as ww run --help and ww cache --help do", async () => {
  for (const flag of ["--help", "-h", "help"]) {
    const r = await runWw(["doctor", flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^usage: ww doctor\n/);
  }
});

// `ww --help run` was refused ("--help takes no arguments"), where `ww run --help` works.
Deno.test("ww help <command> and ww --help <command> print that command's help", async () => {
  for (
    const [command, first] of [["run", /^ww \S+: run a program/], [
      "doctor",
      /^usage: ww doctor\n/,
    ]] as const
  ) {
    for (const flag of ["help", "--help", "-h"]) {
      const own = await runWw([command, "--help"]);
      const r = await runWw([flag, command]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, first);
      assert.equal(r.stdout, own.stdout);
    }
  }
  // `--help=run` is `--help run`, as `--flag=value` is `--flag value`: it was refused.
  for (const command of ["run", "doctor", "cache"]) {
    const r = await runWw([`--help=${command}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, (await runWw([command, "--help"])).stdout);
  }
  const cache = await runWw(["help", "cache"]);
  assert.equal(cache.code, 0, cache.stderr);
  assert.equal(cache.stdout, (await runWw(["cache", "--help"])).stdout);
});

// A program named by its path in the jail, as a container's would be (`--ro-bind data:/data
// /data/run.sh`): ww looks the program up on this machine, and said only "no such file".
Deno.test("a program path that only a bind's destination holds names the host path the bind shows there", async () => {
  const tmp = privateTmp();
  try {
    Deno.mkdirSync(`${tmp}/data`);
    Deno.copyFileSync("/bin/true", `${tmp}/data/run`);
    for (const explain of [[], ["--explain"]]) {
      const r = await runWw(["run", ...explain, "--ro-bind", `${tmp}/data:/data`, "/data/run"]);
      assert.equal(r.code, 127, r.stderr);
      assert.equal(
        r.stderr,
        `ww: /data/run: no such file on this machine, where ww looks the program up (not in the jail); the bind at /data shows ${tmp}/data/run there: give that path\n`,
      );
    }
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

// --explain of an /ipns/ name asks the node for its record as a run does, and said a node it could
// not reach in other words: without where the address came from (the run's "from --ipfs").
Deno.test("--explain of an /ipns/ name with no node there fails in the run's line and code", async () => {
  const name = "/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8";
  const tmp = privateTmp();
  try {
    // A port nothing listens on: refused at once.
    const api = `http://127.0.0.1:${refusedPort()}`;
    const [run, explained] = await Promise.all(
      [[], ["--explain"]].map((explain) =>
        runWw(["run", ...explain, "--ipfs", api, name], { env: { TMPDIR: tmp } })
      ),
    );
    assert.equal(run.code, 125, run.stderr);
    assert.match(run.stderr, /\(http:\/\/127\.0\.0\.1:\d+, from --ipfs\)/);
    assert.equal(explained.code, run.code);
    assert.equal(explained.stderr, run.stderr);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});
