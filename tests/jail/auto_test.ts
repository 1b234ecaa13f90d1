// --jail=auto, the default, on this machine: bubblewrap where it can create user namespaces, the
// native jail where it cannot. Forced unusable two ways: no bwrap where ww looks for it (PATH, then
// the standard directories: hidden in a mount namespace; seen by the cheap check, so auto picks
// native), and a seccomp filter that blocks user namespaces (invisible to the
// sysctls; auto's real try of bwrap sees it, and picks native). tests/jail/container_test.ts
// covers a container whose user namespaces run out.

import { unwrapDoctorLines } from "../../jail/doctor.ts";
import assert from "node:assert/strict";
import { runUnder } from "./deny.ts";
import { NO_BWRAP_PATH } from "../support/hide_bwrap.ts";
import { outputOf, wwCommand } from "../support/ww.ts";

const NO_BWRAP = { PATH: NO_BWRAP_PATH };

Deno.test("auto picks bwrap here, where bubblewrap can create namespaces; --explain says why", async () => {
  const r = await runUnder(undefined, ["run", "--explain", "/bin/true"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^jail: bwrap \(bubblewrap\) \(auto: bubblewrap \(\/[^)]*bwrap\) can create user namespaces\)$/m,
  );
});

Deno.test("auto picks bwrap here, and --debug says so on stderr", async () => {
  const r = await runUnder(undefined, ["run", "--debug", "/usr/bin/id", "-u"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^ww: jail: bwrap \(auto: bubblewrap .* can create user namespaces\)$/m);
  assert.equal(r.stdout.trim(), "65534");
});

// With neither HOME nor XDG_CACHE_HOME (a root service's environment), auto remembered its answer
// in /tmp/.cache/ww, whose directories another user could make first, and have root write through
// a link of theirs. Root's goes in /run/ww now, root's own directory.
Deno.test("auto without HOME or XDG_CACHE_HOME writes nothing under /tmp; as root, it remembers in /run/ww", async () => {
  const shared = "/tmp/.cache/ww/jail-auto.json";
  try {
    Deno.removeSync(shared); // an older ww's
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const { HOME: _h, XDG_CACHE_HOME: _x, ...rest } = Deno.env.toObject();
  const r = await outputOf([...wwCommand(), "run", "--debug", "/bin/true"], rest);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^ww: jail: bwrap \(auto: /m);
  assert.throws(() => Deno.lstatSync(shared), Deno.errors.NotFound);
  if (Deno.uid() === 0) {
    const own = Deno.lstatSync("/run/ww/jail-auto.json");
    assert.ok(own.isFile && own.uid === 0 && (own.mode! & 0o077) === 0, "not root's alone");
  }
});

Deno.test("auto's remembered answer is taken only from a file of ww's own user that no one else may write", async () => {
  const cache = Deno.makeTempDirSync({ prefix: "wwtest-cache-" });
  try {
    const env = { XDG_CACHE_HOME: cache };
    const first = await runUnder(undefined, ["run", "--debug", "/bin/true"], env);
    assert.equal(first.code, 0, first.stderr);
    // The answer as ww wrote it, changed to say bwrap fails here, under the same key.
    const file = `${cache}/ww/jail-auto.json`;
    const planted = `${
      JSON.stringify({ ...JSON.parse(Deno.readTextFileSync(file)), ok: false, detail: "planted" })
    }\n`;
    const choice = async () =>
      (await runUnder(undefined, ["run", "--debug", "/bin/true"], env)).stderr;
    // Writable by its group: not taken; ww tries bwrap again and writes its own answer.
    Deno.writeTextFileSync(file, planted);
    Deno.chmodSync(file, 0o620);
    assert.match(await choice(), /^ww: jail: bwrap \(auto: /m);
    assert.equal(JSON.parse(Deno.readTextFileSync(file)).ok, true);
    // A symlink to such an answer, even one of ww's own: not taken either.
    Deno.writeTextFileSync(`${cache}/elsewhere.json`, planted, { mode: 0o600 });
    Deno.removeSync(file);
    Deno.symlinkSync(`${cache}/elsewhere.json`, file);
    assert.match(await choice(), /^ww: jail: bwrap \(auto: /m);
    // The same answer in ww's own file, writable by ww alone: taken (the two above could fail).
    Deno.removeSync(file);
    Deno.writeTextFileSync(file, planted, { mode: 0o600 });
    assert.match(await choice(), /^ww: jail: native \(auto: .*planted.*\)$/m);
  } finally {
    Deno.removeSync(cache, { recursive: true });
  }
});

// Root run with another user's HOME (sudo -E): ww read and wrote $HOME/.cache/ww/jail-auto.json
// checking the file alone, so that user, who may rename entries in their own directories, could
// swap .cache for a link to a directory of root's: root took the answer found there, and wrote
// its own there. A cache reached through a directory of another user's is neither read nor
// written now, and one line says why.
Deno.test({
  name:
    "as root with another user's HOME, auto neither reads nor writes its answer through that user's link",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const top = Deno.makeTempDirSync({ prefix: "wwtest-home-" });
    try {
      const info = new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).outputSync();
      const { HOME: _h, XDG_CACHE_HOME: _x, ...rest } = Deno.env.toObject();
      // Deno's own cache stays where it is, whatever HOME says.
      const base = { ...rest, DENO_DIR: JSON.parse(new TextDecoder().decode(info.stdout)).denoDir };
      const run = (env: Record<string, string>) =>
        outputOf([...wwCommand(), "run", "--debug", "/bin/true"], { ...base, ...env });
      // Root's own cache, and in it an answer of root's under the right key, changed to say no.
      const rootCache = `${top}/root-cache`;
      Deno.mkdirSync(rootCache, { mode: 0o700 });
      const first = await run({ XDG_CACHE_HOME: rootCache });
      assert.equal(first.code, 0, first.stderr);
      const file = `${rootCache}/ww/jail-auto.json`;
      const answer = JSON.parse(Deno.readTextFileSync(file));
      Deno.writeTextFileSync(
        file,
        `${JSON.stringify({ ...answer, ok: false, detail: "planted" })}\n`,
      );
      // A HOME of uid 65534's, whose .cache that user made a link to root's cache.
      const home = `${top}/home`;
      Deno.mkdirSync(home, { mode: 0o755 });
      Deno.symlinkSync(rootCache, `${home}/.cache`);
      new Deno.Command("chown", { args: ["-h", "65534:65534", home, `${home}/.cache`] })
        .outputSync();
      assert.equal(Deno.lstatSync(`${home}/.cache`).uid, 65534);
      const line =
        `ww: warning: --jail=auto's answer is not remembered in ${home}/.cache/ww: ${home} belongs to uid 65534, not to ww's user or root; set XDG_CACHE_HOME to a directory of your own`;
      const planted = await run({ HOME: home });
      assert.equal(planted.code, 0, planted.stderr);
      assert.match(planted.stderr, /^ww: jail: bwrap \(auto: /m, "the planted answer was taken");
      assert.ok(planted.stderr.split("\n").includes(line), planted.stderr);
      // Nor is root's answer written through the link.
      Deno.removeSync(file);
      const written = await run({ HOME: home });
      assert.equal(written.code, 0, written.stderr);
      assert.ok(written.stderr.split("\n").includes(line), written.stderr);
      assert.throws(() => Deno.lstatSync(file), Deno.errors.NotFound);
    } finally {
      Deno.removeSync(top, { recursive: true });
    }
  },
});

Deno.test("auto picks the native jail when bwrap is not in PATH; --explain says why", async () => {
  const r = await runUnder(undefined, ["run", "--explain", "/bin/true"], NO_BWRAP, true);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^jail: native .*\(auto: bwrap is not in PATH\)$/m);
  assert.match(r.stdout, /^ {2}landlock: ABI \d+$/m);
});

Deno.test("auto without bwrap runs the program in the native jail, and --debug says so", async () => {
  const r = await runUnder(undefined, ["run", "--debug", "/usr/bin/id"], NO_BWRAP, true);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^ww: jail: native \(auto: bwrap is not in PATH\)$/m);
  // ww is root here: the native jail runs as the host id leased for it (70000-79999).
  assert.match(r.stdout, /^uid=(7\d{4}) gid=\1 groups=\1$/m);
});

Deno.test("namespaces blocked where the sysctls cannot see: auto tries bwrap once and runs the native jail", async () => {
  // Before, auto chose bwrap from the sysctls alone, and the run failed (exit 125).
  const cache = Deno.makeTempDirSync({ prefix: "wwtest-cache-" });
  try {
    const r = await runUnder("userns", ["run", "--debug", "/usr/bin/id", "-u"], {
      XDG_CACHE_HOME: cache,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^7\d{4}$/); // the leased id (ww is root)
    assert.match(
      r.stderr,
      /^ww: jail: native \(auto: bubblewrap cannot create the jail's namespaces here \(bwrap: .*\)\)\n$/,
    );
    const remembered = JSON.parse(Deno.readTextFileSync(`${cache}/ww/jail-auto.json`));
    assert.equal(remembered.ok, false);
  } finally {
    Deno.removeSync(cache, { recursive: true });
  }
});

// A remembered "no" held until its key changed, and --debug did not say how to clear it: a
// user.max_user_namespaces used up for a while kept every later run from bwrap. It holds for an
// hour now, and the reason says so and names `ww doctor`, whose bwrap line names the fix.
Deno.test("namespaces blocked: the remembered no says how to clear it, and is tried again after an hour", async () => {
  const cache = Deno.makeTempDirSync({ prefix: "wwtest-cache-" });
  try {
    const env = { XDG_CACHE_HOME: cache };
    const file = `${cache}/ww/jail-auto.json`;
    const note =
      " (remembered for an hour; `ww doctor` tries bwrap again now, and remembers its answer))\n";
    const run = () => runUnder("userns", ["run", "--debug", "/bin/true"], env);
    const first = await run();
    assert.equal(first.code, 0, first.stderr);
    assert.ok(first.stderr.endsWith(note), first.stderr);
    const at = JSON.parse(Deno.readTextFileSync(file)).at;
    assert.ok(Math.abs(at - Date.now()) < 60_000, String(at));
    // Remembered: the same words, and no new try.
    const again = await run();
    assert.ok(again.stderr.endsWith(note), again.stderr);
    assert.equal(JSON.parse(Deno.readTextFileSync(file)).at, at);
    // An hour later it is tried again (and remembered anew).
    const old = { ...JSON.parse(Deno.readTextFileSync(file)), at: at - 60 * 60 * 1000 };
    Deno.writeTextFileSync(file, `${JSON.stringify(old)}\n`);
    const later = await run();
    assert.ok(later.stderr.endsWith(note), later.stderr);
    assert.ok(JSON.parse(Deno.readTextFileSync(file)).at > old.at, "not tried again");
    // ww doctor says what fixes it, under bwrap's line.
    const doctor = await runUnder("userns", ["doctor"], env);
    const lines = unwrapDoctorLines(doctor.stdout.split("\n"));
    const i = lines.findIndex((l) => l.startsWith("  bwrap: NOT usable: "));
    assert.ok(i >= 0, doctor.stdout);
    // deny.c's seccomp filter refuses the namespaces with EPERM, which no sysctl shows.
    assert.match(
      lines[i + 1],
      /^ {4}fix: something the sysctls do not show refuses user namespaces to ww .*; then `ww doctor` tries bwrap again$/,
    );
  } finally {
    Deno.removeSync(cache, { recursive: true });
  }
});

Deno.test("namespaces blocked: an explicit --jail=bwrap fails with bwrap's reason and one line", async () => {
  const r = await runUnder("userns", ["run", "--jail=bwrap", "/bin/true"]);
  assert.equal(r.code, 125, r.stderr);
  // bwrap's reason is in ww's line now, not a line of its own above it (issue 16).
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^ww: bubblewrap could not set up the jail \(--jail=bwrap\): bwrap: /);
});

Deno.test("namespaces blocked: --jail=native runs the program all the same", async () => {
  const r = await runUnder("userns", ["run", "--jail=native", "/usr/bin/id", "-u"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.trim(), /^7\d{4}$/); // the leased id (ww is root in the container)
});

Deno.test("auto and --jail=bwrap find bwrap by one rule: PATH first, then /usr/bin, /usr/local/bin, /bin", async () => {
  // Before, auto looked in PATH only (a narrow PATH switched it to native) and --jail=bwrap also
  // in the standard directories: they could run different bwraps.
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-bwrap-" });
  const cache = Deno.makeTempDirSync({ prefix: "wwtest-cache-" });
  try {
    Deno.chmodSync(dir, 0o755); // the jail's own uid executes the wrapper
    Deno.writeTextFileSync(`${dir}/bwrap`, '#!/bin/sh\nexec /usr/bin/bwrap "$@"\n', {
      mode: 0o755,
    });
    const explain = async (path: string, jail: string) => {
      const r = await runUnder(undefined, ["run", `--jail=${jail}`, "--explain", "/bin/true"], {
        PATH: path,
        XDG_CACHE_HOME: cache,
      });
      assert.equal(r.code, 0, r.stderr);
      return {
        choice: /^jail: (.*)$/m.exec(r.stdout)?.[1],
        command: /^ {2}command: (\S+)/m.exec(r.stdout)?.[1],
      };
    };
    for (const [path, bwrap] of [[dir, `${dir}/bwrap`], [NO_BWRAP_PATH, "/usr/bin/bwrap"]]) {
      assert.deepEqual(await explain(path, "auto"), {
        choice: `bwrap (bubblewrap) (auto: bubblewrap (${bwrap}) can create user namespaces)`,
        command: bwrap,
      });
      assert.deepEqual(await explain(path, "bwrap"), {
        choice: "bwrap (bubblewrap) (--jail=bwrap)",
        command: bwrap,
      });
    }
    // The wrapper found first in PATH is what really runs the jail.
    const r = await runUnder(undefined, ["run", "--debug", "/usr/bin/id", "-u"], {
      PATH: dir,
      XDG_CACHE_HOME: cache,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`^ww: jail: bwrap \\(auto: bubblewrap \\(${dir}/bwrap\\)`, "m"),
    );
    assert.equal(r.stdout.trim(), "65534");
  } finally {
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(cache, { recursive: true });
  }
});

Deno.test("auto's try of bwrap starts bwrap as a run does: by the stage, as the host id leased for it", async () => {
  // Before, the try dropped root with util-linux setpriv to uid 65534 (nobody), while runs drop
  // to a leased id through the stage: the answer remembered was about another uid and program.
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-bwrap-" });
  const cache = Deno.makeTempDirSync({ prefix: "wwtest-cache-" });
  try {
    Deno.chmodSync(dir, 0o755);
    const log = `${dir}/uids`;
    Deno.writeTextFileSync(log, "", { mode: 0o666 });
    Deno.chmodSync(log, 0o666); // whatever the umask: every jail's uid appends here
    Deno.writeTextFileSync(
      `${dir}/bwrap`,
      `#!/bin/sh\necho "$(/usr/bin/id -u) $(/usr/bin/id -G)" >> ${log}\nexec /usr/bin/bwrap "$@"\n`,
      { mode: 0o755 },
    );
    const r = await runUnder(undefined, ["run", "--debug", "/bin/true"], {
      PATH: dir,
      XDG_CACHE_HOME: cache,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^ww: jail: bwrap \(auto: bubblewrap .* can create user namespaces\)$/m);
    // The try, then the run: each as a leased id (70000-79999), its own group and no other.
    const lines = Deno.readTextFileSync(log).trim().split("\n");
    assert.equal(lines.length, 2, lines.join("\n"));
    for (const line of lines) assert.match(line, /^(7\d{4}) \1$/);
    // The try from the top of the range, the run from the bottom: the try's namespaces, freed
    // late by the kernel, do not count against the run's uid.
    assert.notEqual(lines[0].split(" ")[0], lines[1].split(" ")[0], lines.join("\n"));
    assert.equal(JSON.parse(Deno.readTextFileSync(`${cache}/ww/jail-auto.json`)).ok, true);
  } finally {
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(cache, { recursive: true });
  }
});

Deno.test("auto does not remember a try of bwrap that failed for want of processes: the run fails in one line", async () => {
  // Before, bwrap's EAGAIN (a user at its RLIMIT_NPROC for a moment) was remembered as "no
  // namespaces here", and every later auto run went native.
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-eagain-" });
  try {
    Deno.chmodSync(dir, 0o755); // as root, the try runs bwrap as a leased id
    Deno.writeTextFileSync(
      `${dir}/bwrap`,
      '#!/bin/sh\necho "bwrap: Can\'t fork for pid 1: Resource temporarily unavailable" >&2\nexit 1\n',
      { mode: 0o755 },
    );
    const r = await outputOf([...wwCommand(), "run", "/bin/true"], {
      PATH: `${dir}:/usr/bin:/bin`,
      XDG_CACHE_HOME: `${dir}/cache`,
    });
    assert.equal(r.code, 125, r.stderr);
    assert.match(
      r.stderr,
      /^ww: --jail=auto could not try bubblewrap: bwrap: Can't fork for pid 1: Resource temporarily unavailable; nothing was run \(try again, .*\)\n$/,
    );
    assert.throws(() => Deno.lstatSync(`${dir}/cache/ww/jail-auto.json`), Deno.errors.NotFound);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
