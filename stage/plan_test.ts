import assert from "node:assert/strict";
import { encodeStagePlan, parseStageReports, type StagePlan } from "./plan.ts";
import { stageExecArgs } from "./exec_args.ts";

const PLAN: StagePlan = {
  supervise: "program",
  parentPid: 42,
  closeOnExecFrom: 5,
  limits: [{ resource: "nofile", soft: 64, hard: 128 }],
  noNewPrivs: true,
  path: "/bin/true",
  argv: ["true"],
  env: [],
};

function words(bytes: Uint8Array): bigint[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 8 }, (_, i) => v.getBigUint64(i * 8, true));
}

Deno.test("the plan is the magic, then little-endian words and NUL-terminated strings padded to a word", () => {
  const bytes = encodeStagePlan(PLAN);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), "WWSTAGE1");
  assert.equal(bytes.length % 8, 0);
  const w = words(bytes.subarray(8));
  // flags (no_new_privs), parent, close-from, 1 limit (RLIMIT_NOFILE, soft, hard), no seccomp
  assert.deepEqual(w.slice(0, 8), [2n, 42n, 5n, 1n, 7n, 64n, 128n, 0n]);
  // "/bin/true": its length, then 9 bytes + NUL + 6 bytes of padding
  assert.equal(w[8], 9n);
  assert.equal(new TextDecoder().decode(bytes.subarray(8 + 72, 8 + 72 + 10)), "/bin/true\0");
});

// RLIMIT_CORE is set only downwards: raising a hard limit of 0 to 1 failed every run (EPERM).
Deno.test("a limit that is never raised has bit 63 in its resource word", () => {
  const w = words(
    encodeStagePlan({ ...PLAN, limits: [{ resource: "core", soft: 1, hard: 1, lowerOnly: true }] })
      .subarray(8),
  );
  assert.deepEqual(w.slice(3, 7), [1n, 4n | (1n << 63n), 1n, 1n]);
});

Deno.test("each optional part sets its flag", () => {
  const flags = (p: Partial<StagePlan>) => words(encodeStagePlan({ ...PLAN, ...p }).subarray(8))[0];
  assert.equal(flags({ supervise: "bwrap", noNewPrivs: false }), 1n);
  assert.equal(
    flags({ identity: { uid: 1, gid: 2, clearGroups: true, dropBoundingUpTo: null } }),
    2n | 4n | 64n,
  );
  assert.equal(flags({ held: { fd: 9, keepOpen: true } }), 2n | 16n | 32n);
  // --tty: the stage makes fd 0 the controlling terminal (TIOCSCTTY, F_TTY in stage.c).
  assert.equal(flags({ controllingTerminal: true }), 2n | 256n);
  assert.equal(
    flags({ landlock: { attrSize: 24, handledFs: 1, handledNet: 0, scoped: 0, rules: [] } }),
    2n | 8n,
  );
  assert.equal(flags({ listenPid: true }), 2n | 128n);
  assert.equal(flags({ tmpfs: { fd: 12, files: 4096, paths: ["/tmp"] } }), 2n | 2048n);
});

// bwrap with --tmp-size: the supervisor's bounder sets nr_inodes on the jail's tmpfs mounts.
Deno.test("the bounder's socket, files and paths follow the close-on-exec descriptor, before the limits", () => {
  const bytes = encodeStagePlan({
    ...PLAN,
    tmpfs: { fd: 12, files: 4096, paths: ["/dev/shm", "/tmp"] },
  });
  const w = words(bytes.subarray(8));
  // flags, parent, close-from, then the socket, the files, 2 paths: "/dev/shm" (8 bytes, a NUL and
  // 7 zeros), "/tmp" (4, a NUL and 3 zeros); then the limits.
  assert.deepEqual(w.slice(0, 6), [2n | 2048n, 42n, 5n, 12n, 4096n, 2n]);
  assert.equal(w[6], 8n);
  assert.equal(new TextDecoder().decode(bytes.subarray(8 + 56, 8 + 65)), "/dev/shm\0");
  assert.equal(w[9], 4n);
  assert.equal(new TextDecoder().decode(bytes.subarray(8 + 80, 8 + 85)), "/tmp\0");
  assert.deepEqual(w.slice(11, 15), [1n, 7n, 64n, 128n]);
});

Deno.test("exec mode's arguments: the mode word asks for LISTEN_PID, '-' or '=PWD' for PWD", () => {
  assert.deepEqual(stageExecArgs({ target: "/bin/app", argv0: "app", args: ["-v", "x y"] }), [
    "exec",
    "/bin/app",
    "-",
    "app",
    "-v",
    "x y",
  ]);
  assert.deepEqual(
    stageExecArgs({ target: "8", pwd: "/w", argv0: "app", args: [], listenPid: true }),
    ["exec-listen-pid", "8", "=/w", "app"],
  );
  assert.deepEqual(
    stageExecArgs({ target: "8", argv0: "app", args: [], tty: true, listenPid: true })[0],
    "exec-tty-listen-pid",
  );
  assert.equal(stageExecArgs({ target: "8", argv0: "app", args: [], tty: true })[0], "exec-tty");
  // bwrap: the program's stderr comes first.
  assert.deepEqual(
    stageExecArgs({
      target: "/bin/app",
      argv0: "app",
      args: ["-v"],
      tty: true,
      listenPid: true,
      report: { stderr: 9 },
    }),
    ["exec-tty-listen-pid-report", "9", "/bin/app", "-", "app", "-v"],
  );
  assert.equal(
    stageExecArgs({
      target: "8",
      argv0: "app",
      args: [],
      report: { stderr: 9 },
      landlock: true,
    })[0],
    "exec-report-landlock",
  );
  // No --net: an IP socket among the descriptors keeps to its peer (Landlock's TCP rights).
  const offline = { target: "8", argv0: "app", args: [], landlock: true, offline: true };
  assert.equal(stageExecArgs(offline)[0], "exec-landlock-offline");
  // It is a part of the Landlock step: alone it says nothing.
  assert.equal(stageExecArgs({ ...offline, landlock: false })[0], "exec");
  // --tmp-size under bwrap: the socket to the bounder comes first, word and argument.
  assert.deepEqual(
    stageExecArgs({ target: "8", argv0: "app", args: [], tmpfs: 7, report: { stderr: 9 } }),
    ["exec-tmpfs-report", "7", "9", "8", "-", "app"],
  );
});

Deno.test("a string with a NUL byte cannot be encoded", () => {
  assert.throws(() => encodeStagePlan({ ...PLAN, env: ["A=\0"] }), /NUL/);
});

Deno.test("reports are one JSON object a line", () => {
  assert.deepEqual(parseStageReports('{"exec":true}\n{"step":"execve","errno":2}\n'), [
    { exec: true },
    { step: "execve", errno: 2 },
  ]);
});

Deno.test("the work directory and the cwd are the plan's last two strings", () => {
  // A string is its length as a word, then its bytes and a NUL, padded to a word.
  const string = (text: string) => {
    const bytes = new TextEncoder().encode(text);
    const out = new Uint8Array(8 + Math.ceil((bytes.length + 1) / 8) * 8);
    new DataView(out.buffer).setBigUint64(0, BigInt(bytes.length), true);
    out.set(bytes, 8);
    return [...out];
  };
  const tail = (p: Partial<StagePlan>, n: number) =>
    [...encodeStagePlan({ ...PLAN, ...p })].slice(-n);
  assert.deepEqual(tail({ workdir: "/tmp/ww-1", cwd: "/srv/d" }, 40), [
    ...string("/tmp/ww-1"),
    ...string("/srv/d"),
  ]);
  assert.deepEqual(tail({ workdir: "/tmp/ww-1" }, 40), [...string("/tmp/ww-1"), ...string("")]);
});

Deno.test("strings are UTF-8, ASCII or not, each a length word, its bytes, a NUL and zeros to a word", () => {
  const string = (text: string) => {
    const bytes = new TextEncoder().encode(text);
    const out = new Uint8Array(8 + Math.ceil((bytes.length + 1) / 8) * 8);
    new DataView(out.buffer).setBigUint64(0, BigInt(bytes.length), true);
    out.set(bytes, 8);
    return [...out];
  };
  const env = ["A=héllo", "B=12345678", "C=日本", "D=", "E=\u{1F600}x"];
  // A long plan first: the buffer reused after it holds its bytes, which padding must not leak.
  encodeStagePlan({ ...PLAN, env: ["X".repeat(5000)] });
  const bytes = [...encodeStagePlan({ ...PLAN, env, workdir: "", cwd: "" })];
  const expected = [...string(""), ...string("")];
  const tailOf = [8, 0, 0, 0, 0, 0, 0, 0].length + env.map(string).flat().length + expected.length;
  const countWord = [env.length, 0, 0, 0, 0, 0, 0, 0];
  assert.deepEqual(bytes.slice(-tailOf), [...countWord, ...env.map(string).flat(), ...expected]);
});
