// The stage (stage/stage.c) as a program of its own: the bytes ww carries are its source, built
// for both architectures; its plan is read as stage/plan.ts writes it; a malformed plan or a
// failing step is reported with the step's name and errno; the exec mode's rules for the
// environment and for scripts. The aarch64 build runs under qemu-aarch64-static (the programs it
// executes are this machine's, which the kernel runs natively).

import assert from "node:assert/strict";
import { join } from "node:path";
import { buildStage, STAGE_ARCHES, type StageArch } from "./build.ts";
import { encodeStagePlan, parseStageReports, type StagePlan } from "./plan.ts";
import { STAGE_BASE64 } from "./stage_bin.ts";
import { buildC } from "../tests/support/build.ts";
import { closeEachConnection } from "../tests/support/listeners.ts";

const dir = Deno.makeTempDirSync({ prefix: "wwtest-stage-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

function carried(arch: StageArch): Uint8Array {
  return Uint8Array.from(atob(STAGE_BASE64[arch]), (c) => c.charCodeAt(0));
}

const QEMU = "qemu-aarch64-static";

/** The command that runs the stage built for `arch` on this (x86_64) machine. */
function stageCommand(arch: StageArch): string[] {
  const path = join(dir, `stage-${arch}`);
  try {
    Deno.statSync(path);
  } catch {
    Deno.writeFileSync(path, carried(arch), { mode: 0o755 });
  }
  if (arch === Deno.build.arch) return [path];
  return [QEMU, path];
}

for (const arch of STAGE_ARCHES) {
  Deno.test(`[${arch}] the carried stage is stage/stage.c built now (else: deno task build-stage)`, async () => {
    const built = await buildStage(arch);
    assert.ok(
      built.length === carried(arch).length && built.every((b, i) => b === carried(arch)[i]),
      `stage/stage_bin.ts is not stage/stage.c as built now for ${arch}: run deno task build-stage`,
    );
    // A static executable of the right machine, with no interpreter.
    const machine = new DataView(built.buffer).getUint16(18, true);
    assert.equal(machine, arch === "x86_64" ? 62 : 183);
  });
}

/** Runs `stage args...` through bash with `fds` opened by redirection; its output and code. */
/**
 * The stage's `exec-report-pinned` with `triples`, in a mount namespace of its own after bash
 * `setup` (its mounts), with `redirects` (fd 5, the program's stderr, and the held descriptors);
 * the program is `sh -c shell`.
 */
async function pinnedInNamespace(
  arch: StageArch,
  setup: string,
  redirects: string,
  triples: readonly string[],
  shell: string,
) {
  const cmd = stageCommand(arch).map((s) => `'${s}'`).join(" ");
  const child = new Deno.Command("unshare", {
    args: [
      ...["-m", "--propagation", "private", "/bin/bash", "-c"],
      `${setup} && exec ${cmd} "$@" ${redirects}`,
      ...["bash", "exec-report-pinned", "5", String(triples.length / 3), ...triples],
      ...["/bin/sh", "-", "sh", "-c", shell],
    ],
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const o = await child.output();
  const text = (x: Uint8Array) => new TextDecoder().decode(x);
  return { code: o.code, stdout: text(o.stdout), stderr: text(o.stderr) };
}

async function run(
  arch: StageArch,
  args: string[],
  options: { redirect?: string; env?: Record<string, string>; stdin?: Uint8Array } = {},
) {
  const cmd = stageCommand(arch).map((s) => `'${s}'`).join(" ");
  const child = new Deno.Command("/bin/bash", {
    args: ["-c", `exec ${cmd} "$@" ${options.redirect ?? ""}`, "bash", ...args],
    env: options.env ?? {},
    clearEnv: true,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin) {
    const w = child.stdin.getWriter();
    await w.write(options.stdin);
    await w.close();
  }
  const out = await child.output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, signal: out.signal, stdout: text(out.stdout), stderr: text(out.stderr) };
}

const script = (name: string, text: string) => {
  const path = join(dir, name);
  Deno.writeTextFileSync(path, text);
  Deno.chmodSync(path, 0o755);
  return path;
};

function plan(overrides: Partial<StagePlan> = {}): StagePlan {
  return {
    supervise: "program",
    parentPid: 0, // launch() sets it: the bash the stage runs under
    closeOnExecFrom: 3,
    limits: [],
    noNewPrivs: true,
    path: "/bin/sh",
    argv: ["sh", "-c", "echo ran; exit 3"],
    env: ["A=b"],
    ...overrides,
  };
}

/**
 * Runs `stage launch 3 4` as the child of a bash whose pid is the plan's parentPid: the plan on fd
 * 3 (through a file), the status on fd 4 (a file), and returns the stage's exit and reports.
 */
async function launch(arch: StageArch, p: StagePlan | Uint8Array) {
  const planFile = join(dir, `plan-${crypto.randomUUID()}`);
  const statusFile = join(dir, `status-${crypto.randomUUID()}`);
  // bash writes the plan with its own pid in it, then runs the stage as its child.
  const bytes = p instanceof Uint8Array ? p : undefined;
  const cmd = stageCommand(arch).map((s) => `'${s}'`).join(" ");
  const child = new Deno.Command("/bin/bash", {
    args: [
      "-c",
      `read -r pid <<<"$$"; printf '%s' "$pid" > '${planFile}.pid'; ` +
      `while [ ! -e '${planFile}' ]; do sleep 0.01; done; ` +
      `${cmd} launch 3 4 3<'${planFile}' 4>'${statusFile}'; echo "code=$?"`,
    ],
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let pid = "";
  while (!pid) {
    try {
      pid = Deno.readTextFileSync(`${planFile}.pid`);
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const encoded = bytes ?? encodeStagePlan({ ...(p as StagePlan), parentPid: Number(pid) });
  Deno.writeFileSync(`${planFile}.tmp`, encoded);
  Deno.renameSync(`${planFile}.tmp`, planFile);
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  return {
    code: Number(/code=(\d+)/.exec(stdout)?.[1]),
    stdout: stdout.replace(/code=\d+\n$/, ""),
    stderr: new TextDecoder().decode(out.stderr),
    reports: parseStageReports(Deno.readTextFileSync(statusFile)),
  };
}

const NATIVE_ARCH = Deno.build.arch as StageArch;
const FOREIGN_ARCH = STAGE_ARCHES.find((a) => a !== NATIVE_ARCH)!;

Deno.test(`[${NATIVE_ARCH}] launch: reads the plan, runs the program in its work directory, and ends as it did`, async () => {
  const workdir = join(dir, `work-${crypto.randomUUID()}`);
  const r = await launch(
    NATIVE_ARCH,
    plan({ argv: ["sh", "-c", 'echo "$A $(pwd)"; exit 3'], workdir }),
  );
  assert.equal(r.stdout, `b ${workdir}\n`, r.stderr);
  assert.equal(r.code, 3);
  assert.deepEqual(r.reports, [{ exec: true }]);
  assert.throws(() => Deno.statSync(workdir), Deno.errors.NotFound);
});

// ww lists every /proc/self entry it grants rather than look each up on every run (~0.7 ms): one
// this kernel's build leaves out is skipped, and only such a one.
Deno.test(`[${NATIVE_ARCH}] launch: a Landlock rule for a missing /proc/self entry is skipped, no other`, async () => {
  // ABI 1: read, list and execute handled; the shell's files readable.
  const READ = 1 << 0 | 1 << 2 | 1 << 3;
  const landlock = (paths: string[]) => ({
    attrSize: 8,
    handledFs: READ,
    handledNet: 0,
    scoped: 0,
    rules: [
      { path: "/usr", access: READ },
      { path: "/etc/ld.so.cache", access: 1 << 0 | 1 << 2 },
      ...paths.map((path) => ({ path, access: 1 << 0 | 1 << 2 })),
    ],
  });
  const ok = await launch(NATIVE_ARCH, plan({ landlock: landlock(["/proc/self/no-such-entry"]) }));
  assert.equal(ok.stdout, "ran\n", ok.stderr);
  assert.equal(ok.code, 3);
  for (const missing of ["/proc/self/fd/999", "/proc/no-such-entry", "/nonexistent-ww"]) {
    const r = await launch(NATIVE_ARCH, plan({ landlock: landlock([missing]) }));
    assert.deepEqual(r.reports, [{ step: "landlock", errno: 2, detail: missing }], missing);
  }
});

// qemu-user 7.2 refuses PR_SET_CHILD_SUBREAPER (EINVAL) and has no execveat (ENOSYS): the foreign
// build is checked up to there.
Deno.test(`[${FOREIGN_ARCH}] launch under qemu: reads the plan, makes the work directory, and reports the first step qemu refuses`, async () => {
  const workdir = join(dir, `work-${crypto.randomUUID()}`);
  const r = await launch(FOREIGN_ARCH, plan({ workdir }));
  assert.equal(r.stdout, "");
  assert.deepEqual(r.reports, [{ step: "subreaper", errno: 22 }]);
  assert.equal(r.code, 125);
  assert.throws(() => Deno.statSync(workdir), Deno.errors.NotFound);
});

for (const arch of STAGE_ARCHES) {
  Deno.test(`[${arch}] launch: a malformed plan is reported, and nothing runs`, async () => {
    const good = encodeStagePlan({ ...plan(), parentPid: 1 });
    for (const bad of [new Uint8Array(0), good.subarray(0, good.length - 8)]) {
      const r = await launch(arch, bad);
      assert.equal(r.stdout, "");
      assert.deepEqual(r.reports, [
        { step: "plan", errno: 22, detail: "the stage plan is malformed" },
      ]);
    }
  });
}

Deno.test(`[${NATIVE_ARCH}] launch: a failing step is reported by name and errno`, async () => {
  const arch = NATIVE_ARCH;
  const missing = await launch(arch, plan({ path: "/nonexistent/program" }));
  assert.deepEqual(missing.reports, [{ exec: true }, { step: "execve", errno: 2 }]);
  const interp = script("no-interp.sh", "#!/nonexistent/interp\necho\n");
  const r = await launch(arch, plan({ path: interp }));
  assert.deepEqual(r.reports, [
    { exec: true },
    { step: "execve-interpreter", errno: 2, detail: "/nonexistent/interp" },
  ]);
  const nonBinary = script("plain.sh", "echo hi\n");
  const e = await launch(arch, plan({ path: nonBinary }));
  assert.deepEqual(e.reports, [{ exec: true }, { step: "execve", errno: 8 }]);
  const fd = await launch(
    arch,
    plan({ closeOnExecFrom: 5, held: { fd: 99, keepOpen: false } }),
  );
  assert.deepEqual(fd.reports, [{ exec: true }, { step: "execveat", errno: 9 }]);
});

for (const arch of STAGE_ARCHES) {
  Deno.test(`[${arch}] exec: PWD removed or set, argv[0] given, a descriptor executed and closed`, async () => {
    const env = { PWD: "/somewhere", B: "c", Z: "d" };
    // bash, which starts the stage here, adds SHLVL, and passes the environment in its own order.
    const vars = (out: string) => out.split("\n").filter((l) => l);
    const drop = await run(arch, ["exec", "/usr/bin/env", "-", "env"], { env });
    const rest = vars(drop.stdout);
    assert.deepEqual(rest.filter((l) => !l.startsWith("SHLVL=")).sort(), ["B=c", "Z=d"]);
    // The user's PWD goes where it sorts in an environment sorted by key, as ww's is: before the
    // first entry whose key sorts after PWD.
    const set = await run(arch, ["exec", "/usr/bin/env", "=/mine", "env"], { env });
    const at = rest.findIndex((l) => l.slice(0, l.indexOf("=")) > "PWD");
    const expected = [...rest];
    expected.splice(at === -1 ? rest.length : at, 0, "PWD=/mine");
    assert.deepEqual(vars(set.stdout), expected);
    const path = await run(arch, ["exec", "/bin/sh", "-", "myname", "-c", 'echo "$0"']);
    assert.equal(path.stdout, "myname\n", path.stderr);
    if (arch !== NATIVE_ARCH) return; // qemu-user 7.2 has no execveat
    const fd = await run(arch, ["exec", "7", "-", "myname", "-c", 'echo "$0"; ls /proc/self/fd'], {
      redirect: "7</bin/sh",
    });
    assert.equal(fd.code, 0, fd.stderr);
    assert.match(fd.stdout, /^myname\n/);
    assert.ok(!fd.stdout.split("\n").includes("7"), fd.stdout);
  });

  Deno.test(`[${arch}] exec: a script without #! fails with 126, a missing interpreter with 127, naming it`, async () => {
    const plain = await run(arch, ["exec", script("plain2.sh", "echo hi\n"), "-", "plain"]);
    assert.equal(plain.code, 126);
    assert.equal(plain.stdout, "");
    assert.equal(
      plain.stderr,
      "ww: plain: cannot execute in the bwrap jail: execve: ENOEXEC (not a binary, and no #! line)\n",
    );
    const interp = await run(arch, [
      "exec",
      script("interp.sh", "#!/nonexistent/interp -x\necho\n"),
      "-",
      "interp",
    ]);
    assert.equal(interp.code, 127);
    assert.equal(
      interp.stderr,
      "ww: interp: its interpreter /nonexistent/interp is not in the jail (ENOENT)\n",
    );
  });
}

for (const arch of STAGE_ARCHES) {
  Deno.test(`[${arch}] exec-listen-pid: LISTEN_PID is the program's own pid, replacing any other`, async () => {
    const env = { LISTEN_PID: "999999", LISTEN_FDS: "1" };
    const r = await run(arch, [
      "exec-listen-pid",
      "/bin/sh",
      "-",
      "sh",
      "-c",
      'echo "$$ $LISTEN_PID $LISTEN_FDS"; env | grep -c ^LISTEN_PID=',
    ], { env });
    assert.equal(r.code, 0, r.stderr);
    const [pid, listenPid, fds] = r.stdout.split("\n")[0].split(" ");
    assert.equal(listenPid, pid);
    assert.equal(fds, "1");
    assert.equal(r.stdout.split("\n")[1], "1");
    // Plain exec leaves the environment as it was.
    const plain = await run(arch, ["exec", "/bin/sh", "-", "sh", "-c", 'echo "$LISTEN_PID"'], {
      env,
    });
    assert.equal(plain.stdout, "999999\n");
  });
}

for (const arch of STAGE_ARCHES) {
  Deno.test(`[${arch}] exec-report: a NUL byte on fd 2 says bwrap is done, then the program's stderr is fd 2, and its descriptor does not stay open`, async () => {
    const out = join(dir, `report-${arch}.stderr`);
    // fd 2 stands for bwrap's pipe to ww; 5 is the program's stderr.
    const r = await run(arch, [
      "exec-report",
      "5",
      "/bin/sh",
      "-",
      "sh",
      "-c",
      "echo to-stderr >&2; ls /proc/self/fd",
    ], { redirect: `5>'${out}'` });
    assert.equal(r.code, 0, r.stderr);
    // The NUL byte, then, from the stage that stayed behind as the program's parent, its end.
    assert.equal(r.stderr, "\0\x01exit 0\n");
    assert.equal(Deno.readTextFileSync(out), "to-stderr\n");
    assert.ok(!r.stdout.trim().split("\n").includes("5"), r.stdout);
    // An exec that fails after the hand-over: reported to ww (a \x02 line of the stage's JSON,
    // before pid 1's end), which says it, and 127; the program's stderr gets nothing.
    const missing = await run(arch, ["exec-report", "5", "/nonexistent", "-", "x"], {
      redirect: `5>'${out}'`,
    });
    assert.equal(missing.code, 127);
    assert.equal(missing.stderr, '\0\x02{"step":"execve","errno":2}\n\x01exit 127\n');
    assert.equal(Deno.readTextFileSync(out), "");
    // A descriptor that is not open is the stage's own failure, said where bwrap's words go.
    const bad = await run(arch, ["exec-report", "5", "/bin/true", "-", "true"]);
    assert.equal(bad.code, 125);
    assert.equal(bad.stderr, "ww stage: exec -report: bad descriptor 5\n");
  });

  // bwrap 0.8 mounts a descriptor's path, resolved again: a symlink swapped in since ww opened a
  // bind's source led the mount elsewhere (another jail's doing showed the host's /etc). And it
  // resolves the destination by its path too: a jail swapping directories in a writable bind
  // while another jail of the same binds was set up had a --ro-bind nested in it land beside its
  // place, which stayed writable. Run in a mount namespace of its own, with real bind mounts.
  Deno.test(`[${arch}] exec-report-pinned: each destination must be the held file, at a mount's root reached without links, read-only for ro, or nothing runs`, async () => {
    const base = join(dir, `pinned-${arch}`);
    const out = `${base}.stderr`;
    const [a, b, f, m1, m2, mf, lnk] = ["a", "b", "f", "m1", "m2", "mf", "lnk"].map((n) =>
      join(base, n)
    );
    Deno.mkdirSync(base, { recursive: true });
    for (const d of [a, b, m1, m2]) Deno.mkdirSync(d, { recursive: true });
    Deno.writeTextFileSync(f, "x");
    Deno.writeTextFileSync(mf, "");
    try {
      Deno.symlinkSync(base, lnk);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    // m1: a bind of a; m2: a bind of b; mf: a read-only bind of the file f.
    const mounts = `mount --bind '${a}' '${m1}' && mount --bind '${b}' '${m2}' && ` +
      `mount --bind '${f}' '${mf}' && mount -o remount,bind,ro '${mf}'`;
    const pinned = (...triples: string[]) =>
      pinnedInNamespace(arch, mounts, `5>'${out}' 7<'${a}' 8<'${f}'`, triples, "ls /proc/self/fd");
    // The held directory at its bind, and the held file at its read-only bind: the program runs,
    // and neither descriptor reaches it.
    const same = await pinned(m1, "7", "rw", mf, "8", "ro");
    assert.equal(same.code, 0, same.stderr);
    assert.equal(same.stderr, "\0\x01exit 0\n");
    const fds = same.stdout.trim().split("\n");
    assert.ok(!fds.includes("7") && !fds.includes("8"), same.stdout);
    // Another directory there; the held one itself, no mount's root (a bind that landed elsewhere
    // leaves it so); a read-write mount where ro was asked; the mount reached through a link; a
    // destination not written clean, which no place on the walk could match; no descriptor; a word
    // that is neither ro nor rw: nothing runs (125), and the one line names the destination,
    // before the NUL byte that would hand fd 2 over.
    const refused: string[][] = [
      [m2, "7", "rw"],
      [a, "7", "rw"],
      [m1, "7", "ro"],
      [join(lnk, "m1"), "7", "rw"],
      [`${m1}/`, "7", "rw"],
      [m1.replace(/\/m1$/, "//m1"), "7", "rw"],
      [m1.replace(/\/m1$/, "/./m1"), "7", "rw"],
      [`${m1}/../m1`, "7", "rw"],
      [m1, "9", "rw"],
      [m1, "x", "rw"],
      [m1, "7", "r"],
    ];
    for (const triple of refused) {
      const r = await pinned(...triple);
      assert.equal(r.code, 125, `${triple}: ${r.stderr}`);
      assert.equal(
        r.stderr,
        `ww: the jail's bind at ${
          triple[0]
        } is not what ww opened: its source changed as the jail was made\n\x01exit 125\n`,
      );
      assert.equal(r.stdout, "");
    }
    const bad = await run(arch, [
      "exec-report-pinned",
      "5",
      "2",
      a,
      "7",
      "rw",
      "/bin/true",
      "-",
      "true",
    ], {
      redirect: `5>'${out}'`,
    });
    assert.equal(bad.code, 125);
  });

  // The race the waypoints close: a jail that can write P renames P/a away and a decoy to P/a
  // while another jail of `--bind P:/m --ro-bind P/a/secrets:/m/a/secrets` is set up, and leaves
  // it so. The read-only mount lands in the decoy, which is at /m/a: a mount's root, the held
  // directory, read-only, all as asked, while the real P/a/secrets, renamed away with P/a, is a
  // writable part of /m. Only the directory on the way, /m/a, tells.
  Deno.test(`[${arch}] exec-report-pinned: a directory on the way to a bind in a bind must be the one ww opened, or nothing runs`, async () => {
    const base = join(dir, `waypoint-${arch}`);
    const out = `${base}.stderr`;
    const p = join(base, "p");
    const m = join(base, "m");
    // `swap`: what the racing jail does through the writable outer bind, between ww's opening of
    // the sources (fds 7-9) and the inner mount; `after`: what it does once that is made.
    const made = async (swap: string, after: string, ...triples: string[]) => {
      try {
        Deno.removeSync(base, { recursive: true });
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      for (const d of ["a/secrets", "fake/secrets"]) {
        Deno.mkdirSync(join(p, d), { recursive: true });
      }
      Deno.mkdirSync(m);
      const script = [
        `mount --bind '${p}' '${m}'`,
        `exec 7<'${p}' 8<'${p}/a/secrets' 9<'${p}/a'`,
        swap,
        `mount --bind /proc/self/fd/8 '${m}/a/secrets'`,
        `mount -o remount,bind,ro '${m}/a/secrets'`,
        after,
      ].join(" && ");
      return await pinnedInNamespace(arch, script, `5>'${out}'`, triples, "echo ran");
    };
    const secrets = `${m}/a/secrets`;
    const binds = [m, "7", "rw", secrets, "8", "ro"];
    const all = [...binds, `${m}/a`, "9", "dir"];
    const decoy = `mv '${m}/a' '${m}/a2' && mv '${m}/fake' '${m}/a'`;
    const back = `mv '${m}/a' '${m}/fake' && mv '${m}/a2' '${m}/a'`;
    // Nothing raced: it runs.
    const plain = await made("true", "true", ...all);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout, "ran\n");
    // The decoy left at /m/a: each bind alone passes (as before waypoints), so the walk must not.
    const alone = await made(decoy, "true", ...binds);
    assert.equal(alone.code, 0, `the race is real here: ${alone.stderr}`);
    const refusal =
      `ww: the jail's bind at ${secrets} is not what ww opened: its source changed as the jail was made\n\x01exit 125\n`;
    for (const after of ["true", back]) {
      const r = await made(decoy, after, ...all);
      assert.equal(r.code, 125, `${after}: ${r.stderr}`);
      assert.equal(r.stderr, refusal, after);
      assert.equal(r.stdout, "");
    }
  });

  Deno.test(`[${arch}] exec-report: the stage says a signal ended the program, which an exit code of 128+N cannot`, async () => {
    const end = (script: string) =>
      run(arch, ["exec-report", "5", "/bin/sh", "-", "sh", "-c", script], { redirect: "5>&2" });
    const killed = await end("kill -TERM $$");
    assert.equal(killed.code, 143);
    assert.equal(killed.stderr, "\0\x01signal 15\n");
    const exited = await end("exit 143");
    assert.equal(exited.code, 143);
    assert.equal(exited.stderr, "\0\x01exit 143\n");
  });
}

Deno.test(`[${NATIVE_ARCH}] exec-report: the stage keeps none of the program's descriptors: its stdout ends when the program closes it`, async () => {
  const cmd = stageCommand(NATIVE_ARCH).map((s) => `'${s}'`).join(" ");
  const child = new Deno.Command("/bin/bash", {
    args: [
      "-c",
      `exec ${cmd} exec-report 5 /bin/sh - sh -c 'echo before; exec >&-; sleep 3' 5>/dev/null`,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const started = performance.now();
  const text = await new Response(child.stdout).text();
  const readFor = performance.now() - started;
  child.kill("SIGKILL");
  await child.status;
  assert.equal(text, "before\n");
  // The program still sleeps: the stage, its parent, held no copy of its stdout.
  assert.ok(readFor < 2000, `stdout ended after ${readFor.toFixed(0)} ms, with the program`);
});

// qemu-user passes no Landlock call through (the stage then leaves it to bwrap's namespaces, as on
// a kernel without it), so this is the native build's alone.
Deno.test(`[${NATIVE_ARCH}] exec-landlock-offline: a TCP connection among the descriptors keeps to its peer`, async () => {
  const probe = await buildC(new URL("../tests/jail/fd_probe.c", import.meta.url));
  const listeners = [0, 1].map(() => Deno.listen({ hostname: "127.0.0.1", port: 0 }));
  const [peer, other] = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  const accepting = listeners.map(closeEachConnection);
  try {
    const tcp = { redirect: `5<>/dev/tcp/127.0.0.1/${peer}` };
    const reconnect = (mode: string) =>
      run(NATIVE_ARCH, [mode, probe, "-", "probe", "5", `reconnect:${other}`], tcp);
    assert.deepEqual(await reconnect("exec-landlock-offline"), {
      code: 0,
      signal: null,
      stdout: "EACCES\n",
      stderr: "",
    });
    // Without it (--net), or with no IP socket among them, TCP is not Landlock's to handle.
    assert.equal((await reconnect("exec-landlock")).stdout, "ok\n");
    const own = await run(NATIVE_ARCH, [
      "exec-landlock-offline",
      probe,
      "-",
      "probe",
      "5",
      "loopback",
    ]);
    assert.equal(own.stdout, "ok\n", own.stderr);
  } finally {
    for (const l of listeners) l.close();
    await Promise.allSettled(accepting);
  }
});

Deno.test(`[${NATIVE_ARCH}] launch with listenPid: LISTEN_PID is the program's own pid, replacing any other`, async () => {
  const r = await launch(
    NATIVE_ARCH,
    plan({
      argv: ["sh", "-c", 'echo "$$ $LISTEN_PID"; env | grep -c ^LISTEN_PID='],
      env: ["LISTEN_PID=1", "LISTEN_FDS=2"],
      listenPid: true,
    }),
  );
  assert.equal(r.code, 0, r.stderr);
  const [line, count] = r.stdout.split("\n");
  const [pid, listenPid] = line.split(" ");
  assert.equal(listenPid, pid);
  assert.notEqual(pid, "1");
  assert.equal(count, "1");
});

// `remove` walks the directory from a descriptor of it; one it could not open (EMFILE) it left,
// even empty. Only this machine's build: qemu needs descriptors of its own to start.
Deno.test(`[${NATIVE_ARCH}] remove: short of descriptors to open the directory, an empty one still goes`, async () => {
  const target = join(dir, `remove-${crypto.randomUUID()}`);
  Deno.mkdirSync(target);
  const cmd = stageCommand(NATIVE_ARCH).map((s) => `'${s}'`).join(" ");
  const out = await new Deno.Command("/bin/bash", {
    args: ["-c", `ulimit -n 3 && exec ${cmd} remove "$0"`, target],
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.throws(() => Deno.statSync(target), Deno.errors.NotFound, "the empty directory is left");
});
