// `--open` opens a file with its caller's rights (root's here) and hands the descriptor to a jail.
// A jail that can write a bound directory plants a symlink there (`log -> <a root-only file>`);
// a later run's `--open log=DIR/log` followed it and handed the jail the root-only file. ww now
// follows, in a grant's path, only links owned by root (run/trusted_path.ts), and
// opens the resolved path with openat2 refusing any link that appears meanwhile.

import assert from "node:assert/strict";
import { runWw, runWwAsUser } from "../support/ww.ts";

const tmp = await Deno.makeTempDir({ prefix: "wwtest-links-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
await Deno.chmod(tmp, 0o755);
/** Only root may read it. */
const SECRET = `${tmp}/secret`;
await Deno.writeTextFile(SECRET, "root's secret\n", { mode: 0o600 });

/** A directory every jail may write, not sticky: the kernel's protected_symlinks does not apply. */
async function sharedDir(name: string): Promise<string> {
  const dir = `${tmp}/${name}`;
  await Deno.mkdir(dir);
  await Deno.chmod(dir, 0o777);
  return dir;
}

/**
 * Runs `script` in a jail (`jail`, default auto) that may write `dir`, as a hostile program
 * would plant links there; returns the uid that owns `link`, one of them.
 */
async function plantAsJail(dir: string, script: string, link: string, jail?: string) {
  const r = await runWw([
    "run",
    ...(jail ? [`--jail=${jail}`] : []),
    "--bind",
    dir,
    "/bin/sh",
    "-c",
    script,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const owner = Deno.lstatSync(link).uid!;
  assert.notEqual(owner, 0, "the jail's link is the jail's uid's");
  return owner;
}

/** What ww says of a link it does not follow (`inGrant`: of a grant's path, not --env-file's). */
function refusedLink(link: string, owner: number, inGrant: boolean): string {
  return `${link} is a symbolic link owned by uid ${owner}: ${
    inGrant ? "in a grant's path " : ""
  }ww follows only links owned by root, as a jail could have planted any other (give the path it points to)`;
}

for (const jail of ["bwrap", "native"] as const) {
  Deno.test(`[${jail}] a symlink a jail planted in its bind is not followed by a later --open`, async () => {
    const dir = await sharedDir(`planted-${jail}`);
    // The jail (a leased uid) plants links: to the file, and to its directory.
    const owner = await plantAsJail(
      dir,
      `ln -s ${SECRET} ${dir}/log && ln -s ${tmp} ${dir}/sub`,
      `${dir}/log`,
      jail,
    );
    // Through /proc/.. too, which was handed to the kernel whole, and so followed the link.
    for (const path of [`${dir}/log`, `${dir}/sub/secret`, `/proc/..${dir}/log`]) {
      const link = path.endsWith("/log") ? `${dir}/log` : `${dir}/sub`;
      const r = await runWw([
        "run",
        `--jail=${jail}`,
        "--open",
        `x=${path}:r`,
        "/bin/sh",
        "-c",
        "cat <&4",
      ]);
      assert.equal(r.code, 125, r.stdout);
      assert.equal(r.stdout, "", "nothing of the file reached the jail");
      assert.equal(r.stderr, `ww: --open x=${path}: ${refusedLink(link, owner, true)}\n`);
    }
  });
}

// Where ww is not root, a jail writes its files as ww's own user (bwrap's user namespace maps to
// it; the native jail runs as it): the planted link was the caller's own, which ww followed, and a
// later run's --open handed the jail a file of the caller's it was never shown.
const USER = 4246; // this test's own: no other test runs as it
for (const jail of ["bwrap", "native"] as const) {
  Deno.test(`[${jail}] ww not root: a link its jail planted, its own user's, is not followed either`, async () => {
    const home = `${tmp}/user-${jail}`;
    await Deno.mkdir(`${home}/data`, { recursive: true });
    await Deno.chmod(home, 0o777);
    await Deno.writeTextFile(`${home}/secret`, "the user's secret\n", { mode: 0o600 });
    for (const path of [`${home}/data`, `${home}/secret`]) await Deno.chown(path, USER, USER);
    const asUser = (args: string[]) => runWwAsUser(USER, ["run", `--jail=${jail}`, ...args], home);
    const planted = await asUser([
      "--bind",
      `${home}/data`,
      "/bin/sh",
      "-c",
      `ln -s ${home}/secret ${home}/data/log && ln -s ${home} ${home}/data/up`,
    ]);
    assert.equal(planted.code, 0, planted.stderr);
    assert.equal(Deno.lstatSync(`${home}/data/log`).uid, USER, "the jail's link is the user's");
    for (const [path, link] of [["log", "log"], ["up/secret", "up"]]) {
      const r = await asUser(["--open", `x=${home}/data/${path}`, "/bin/sh", "-c", "cat <&4"]);
      assert.equal(r.code, 125, r.stdout);
      assert.equal(r.stdout, "", "nothing of the file reached the jail");
      assert.equal(
        r.stderr,
        `ww: --open x=${home}/data/${path}: ${home}/data/${link} is a symbolic link owned by uid ${USER}, the user ww runs as: in a grant's path ww follows only links owned by root, as a jail of a user other than root writes its files as that user, and could have planted this one (give the path it points to)\n`,
      );
    }
    // The file's own path, given as it is: opened.
    const direct = await asUser(["--open", `x=${home}/secret`, "/bin/sh", "-c", "cat <&4"]);
    assert.equal(direct.code, 0, direct.stderr);
    assert.equal(direct.stdout, "the user's secret\n");
  });
}

/** fd/grant_open.ts's words for a new file named with a '/' after it. */
const TRAILING_SLASH =
  "the path ends in '/', which makes its last name a directory's (drop the '/' to name a file)";

// Read by text, `FILE/` was FILE, which `--open o=FILE/:w` truncated; `FILE/../x` and
// `missing/../x` were x. The kernel refuses each.
Deno.test("--open reads a path as the kernel does: after what is no directory, it fails there", async () => {
  const dir = await sharedDir("as-kernel");
  await Deno.writeTextFile(`${dir}/f`, "keep\n");
  await Deno.writeTextFile(`${dir}/x`, "x\n");
  for (
    const [path, why] of [
      // open(2) with O_CREAT says EISDIR of any path ending in a slash: ww names the slash,
      // since neither f nor new is a directory ("is a directory", it said).
      [`${dir}/f/:w`, TRAILING_SLASH],
      [`${dir}/f/../x`, "a component of the path is not a directory"],
      [`${dir}/missing/../x`, "no such file (check the path)"],
      [`${dir}/new/:w`, TRAILING_SLASH],
    ]
  ) {
    const r = await runWw(["run", "--open", `o=${path}`, "/bin/sh", "-c", "cat <&4"]);
    assert.equal(r.code, 125, `${path}: ${r.stdout}`);
    assert.equal(r.stderr, `ww: --open o=${path}: ${why}\n`);
  }
  assert.equal(await Deno.readTextFile(`${dir}/f`), "keep\n");
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["f", "x"]);
});

// /proc/self/root/PATH and /proc/self/fd/N/PATH were handed to the kernel, which followed every
// link after them, a jail's too.
Deno.test("--open refuses /proc's ways to other paths: a process's root, a descriptor with a path after it", async () => {
  const dir = await sharedDir("proc-ways");
  await plantAsJail(dir, `ln -s ${SECRET} ${dir}/log`, `${dir}/log`);
  for (
    const [path, link] of [
      [`/proc/self/root${dir}/log`, "root"],
      [`/dev/fd/0${dir}/log`, "fd/0"],
    ]
  ) {
    const r = await runWw(["run", "--open", `x=${path}`, "/bin/sh", "-c", "cat <&4"]);
    assert.equal(r.code, 125, r.stdout);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      new RegExp(
        `^ww: --open x=${path}: /proc/\\d+/${link} is a link of /proc's own \\(a process's root, cwd or exe, or a descriptor with a path after it\\), which the kernel resolves its own way: in a grant's path ww follows none \\(give the path it points to\\)\n$`,
      ),
    );
  }
});

Deno.test("a unix socket's path under --connect and --listen is held to the same rule", async () => {
  // A server only root can reach (its directory is root's, 0700).
  await Deno.mkdir(`${tmp}/private`, { mode: 0o700 });
  const server = Deno.listen({ transport: "unix", path: `${tmp}/private/srv.sock` });
  try {
    const dir = await sharedDir("sockets");
    const owner = await plantAsJail(
      dir,
      `ln -s ${tmp}/private/srv.sock ${dir}/app.sock && ln -s ${tmp}/private ${dir}/sub`,
      `${dir}/app.sock`,
    );
    const refused = (r: { code: number; stderr: string }, grant: string, link: string) => {
      assert.equal(r.code, 125, r.stderr);
      assert.equal(r.stderr, `ww: ${grant}: ${refusedLink(link, owner, true)}\n`);
    };
    // --explain refuses them alike (it accepted them, and the run then refused).
    for (const explain of [[], ["--explain"]]) {
      const connect = `x=unix:${dir}/app.sock`;
      refused(
        await runWw(["run", ...explain, "--connect", connect, "/bin/true"]),
        `--connect ${connect}`,
        `${dir}/app.sock`,
      );
      const listen = `x=unix:${dir}/sub/new.sock`;
      refused(
        await runWw(["run", ...explain, "--listen", listen, "/bin/true"]),
        `--listen ${listen}`,
        `${dir}/sub`,
      );
      // The socket's own name a link: --explain looked at its directory only.
      const linked = `x=unix:${dir}/app.sock`;
      refused(
        await runWw(["run", ...explain, "--listen", linked, "/bin/true"]),
        `--listen ${linked}`,
        `${dir}/app.sock`,
      );
      const open = `x=${dir}/sub/secret`;
      refused(
        await runWw(["run", ...explain, "--open", open, "/bin/true"]),
        `--open ${open}`,
        `${dir}/sub`,
      );
    }
    assert.throws(() => Deno.lstatSync(`${tmp}/private/new.sock`), Deno.errors.NotFound);
    // The server's own path, given as it is: connected.
    const direct = await runWw(["run", "--connect", `x=unix:${tmp}/private/srv.sock`, "/bin/true"]);
    assert.equal(direct.code, 0, direct.stderr);
  } finally {
    server.close();
  }
});

Deno.test("--env-file, read with the caller's rights for the jail, is held to the same rule", async () => {
  await Deno.writeTextFile(`${tmp}/root.env`, "TOKEN=root-only\n", { mode: 0o600 });
  const dir = await sharedDir("envfile");
  const owner = await plantAsJail(dir, `ln -s ${tmp}/root.env ${dir}/app.env`, `${dir}/app.env`);
  const r = await runWw(["run", "--env-file", `${dir}/app.env`, "/usr/bin/env"]);
  assert.equal(r.code, 125, r.stdout);
  assert.doesNotMatch(r.stdout, /root-only/);
  assert.equal(
    r.stderr,
    `ww: --env-file ${dir}/app.env: cannot read it (${
      refusedLink(`${dir}/app.env`, owner, false)
    })\n`,
  );
  // The caller's own file, given as it is: read.
  const own = await runWw(["run", "--env-file", `${tmp}/root.env`, "/usr/bin/env"]);
  assert.equal(own.code, 0, own.stderr);
  assert.match(own.stdout, /^TOKEN=root-only$/m);
});

Deno.test("--open follows root's own links, and /dev/stdout's kernel link, as before", async () => {
  const dir = await sharedDir("trusted");
  await Deno.symlink(SECRET, `${dir}/mine`);
  const r = await runWw(["run", "--open", `x=${dir}/mine:r`, "/bin/sh", "-c", "cat <&4"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "root's secret\n");
  const out = await runWw([
    "run",
    "--open",
    "out=/dev/stdout:w",
    "/bin/sh",
    "-c",
    'echo "through /dev/stdout" >&4',
  ]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, "through /dev/stdout\n");
});

Deno.test("--open of a loop of links says so in one line", async () => {
  const dir = await sharedDir("loop");
  await Deno.symlink("b", `${dir}/a`);
  await Deno.symlink("a", `${dir}/b`);
  const r = await runWw(["run", "--open", `x=${dir}/a`, "/bin/true"]);
  assert.equal(r.code, 125);
  assert.equal(
    r.stderr,
    `ww: --open x=${dir}/a: too many levels of symbolic links (a loop), or one appeared on the path as ww opened it (fix or remove the looping link, or give the file's own path)\n`,
  );
});

Deno.test("library: a relative path to open is the working directory's, as open(2) takes it", async () => {
  await Deno.mkdir(`${tmp}/rel`);
  await Deno.writeTextFile(`${tmp}/rel/file`, "relative\n");
  // In a process of its own, started in tmp: Deno.chdir here would move the working directory of
  // every test file that deno test --parallel runs in this process, and of what they spawn.
  const mod = new URL("../../mod.ts", import.meta.url).href;
  const script = `
    import { DEFAULT_POLICY, startProgram } from ${JSON.stringify(mod)};
    const child = await startProgram({
      program: "/bin/sh",
      args: ["-c", "cat <&4"],
      own: [{ name: "x", open: "rel/file" }],
      jail: { ...DEFAULT_POLICY, backend: "none" },
    });
    Deno.exit((await child.status).code);
  `;
  const r = await new Deno.Command(Deno.execPath(), { args: ["eval", script], cwd: tmp }).output();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
  assert.equal(new TextDecoder().decode(r.stdout), "relative\n");
});
