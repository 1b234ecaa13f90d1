// A bad TMPDIR gets one line naming TMPDIR and the fix, exit 125, under every backend, before
// anything starts; an empty one means /tmp everywhere. (Before: "internal error" or a Landlock
// ENOENT under native and none, and a silently rewritten path under bwrap.)

import assert from "node:assert/strict";
import { processesWithArg, wwDirs } from "../support/procs.ts";
import { buildC } from "../support/build.ts";
import { errorLines, runWw, runWwAsUser, wwCommand } from "../support/ww.ts";

const BACKENDS = ["bwrap", "native", "none"] as const;
const notDir = Deno.makeTempFileSync({ prefix: "wwtest-notdir-" });
globalThis.addEventListener("unload", () => Deno.removeSync(notDir));

const BAD: readonly [string, string][] = [
  ["relative", "TMPDIR=relative: not an absolute path (set TMPDIR to one absolute directory"],
  ["/tmp:/var/tmp", "TMPDIR=/tmp:/var/tmp: holds one directory, not a list separated by ':'"],
  ["/nonexistent-wwtest", "TMPDIR=/nonexistent-wwtest: no such directory (create it, or set"],
  // A file there was "no such directory" too.
  [notDir, `TMPDIR=${notDir}: not a directory (create it`],
  [`${notDir}/sub`, `TMPDIR=${notDir}/sub: not a directory (a part of its path is a file)`],
];

for (const backend of BACKENDS) {
  for (const [tmpdir, message] of BAD) {
    Deno.test(`--jail=${backend}, TMPDIR=${tmpdir}: exit 125, one line naming TMPDIR`, async () => {
      const tag = `tag=${crypto.randomUUID()}`;
      const r = await runWw(["run", `--jail=${backend}`, "/bin/echo", tag], {
        env: { TMPDIR: tmpdir },
      });
      assert.equal(r.code, 125, r.stderr);
      assert.equal(r.stdout, "");
      const lines = errorLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0].startsWith(`ww: ${message}`), lines[0]);
      assert.deepEqual(processesWithArg(tag), []);
    });
  }

  Deno.test(`--jail=${backend}, TMPDIR empty: the work directory is in /tmp`, async () => {
    const r = await runWw(["run", `--jail=${backend}`, "/bin/sh", "-c", "pwd"], {
      env: { TMPDIR: "" },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\/tmp\/ww-[0-9a-z_-]+\n$/i);
  });
}

// A directory where no work directory can be made: /proc (ENOENT), /sys (EPERM). bwrap makes its
// work directory inside the jail, where it can.
for (const backend of ["native", "none"] as const) {
  for (
    const [tmpdir, errno] of [["/proc", /No such file or directory|ENOENT/], [
      "/sys",
      /Operation not permitted|EPERM/,
    ]] as const
  ) {
    Deno.test(`--jail=${backend}, TMPDIR=${tmpdir}: exit 125, one line naming TMPDIR and why`, async () => {
      const tag = `tag=${crypto.randomUUID()}`;
      const r = await runWw(["run", `--jail=${backend}`, "/bin/echo", tag], {
        env: { TMPDIR: tmpdir },
      });
      assert.equal(r.code, 125, r.stderr);
      const lines = errorLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(
        lines[0].startsWith(`ww: TMPDIR=${tmpdir}: cannot make the work directory there (`),
        lines[0],
      );
      assert.match(lines[0], errno);
      assert.deepEqual(processesWithArg(tag), []);
    });
  }
}

Deno.test("--jail=none: the work directory goes when the run ends, whatever the program left in it", async () => {
  const tmpdir = Deno.makeTempDirSync({ prefix: "wwtest-workdir-" });
  try {
    for (const script of ["pwd", "pwd; mkdir sub; echo x > sub/f; echo y > g"]) {
      const r = await runWw(["run", "--jail=none", "/bin/sh", "-c", script], {
        env: { TMPDIR: tmpdir },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^${tmpdir}/ww-[0-9A-Za-z_-]+\n$`));
      assert.deepEqual([...Deno.readDirSync(tmpdir)], [], script);
    }
  } finally {
    Deno.removeSync(tmpdir, { recursive: true });
  }
});

// Unjailed, ww removes the work directory itself. Deno's recursive removal failed, silently, on a
// directory the program made read-only (for a caller who is not root, such as a Go module cache),
// and on a tree deeper than ww's descriptors (it holds one a level): the directory stayed.
Deno.test("--jail=none: the work directory goes though the program made it read-only inside, or deeper than ww's descriptors", async () => {
  const home = Deno.makeTempDirSync({ prefix: "wwtest-user-home-" });
  Deno.chmodSync(home, 0o777);
  try {
    for (
      const script of [
        "mkdir -p mod/pkg && touch mod/pkg/go.mod && chmod 555 mod/pkg mod",
        "mkdir -p a/b && touch f a/b/c && chmod a-w .",
        "p=t; for i in $(seq 200); do p=$p/d; done; mkdir -p $p && touch $p/f && chmod -R a-w t",
      ]
    ) {
      const readOnly = await runWwAsUser(
        4242,
        ["run", "--jail=none", "/bin/sh", "-c", script],
        home,
        { TMPDIR: home },
      );
      assert.equal(readOnly.code, 0, readOnly.stderr);
      assert.deepEqual(wwDirs(home), [], `${script}: left behind`);
    }
    const nest = await buildC(new URL("../jail/nest.c", import.meta.url));
    const deep = await runWw(["run", "--jail=none", nest, "600"], {
      env: { TMPDIR: home },
      ww: ["prlimit", "--nofile=256:256", "--", ...wwCommand()],
    });
    assert.equal(deep.code, 0, deep.stderr);
    assert.equal(deep.stdout, "made\n");
    assert.doesNotMatch(deep.stderr, /left behind/);
    assert.deepEqual(wwDirs(home), [], "a tree 600 deep was left behind");
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

/** A new directory, under a private one, whose path is `bytes` long; its top to remove. */
function directoryOfLength(bytes: number): { path: string; top: string } {
  const top = Deno.makeTempDirSync({ prefix: "wwtest-long-" });
  let path = top;
  while (path.length < bytes) {
    // Components of at most 200 bytes, the last one exactly what is left.
    const left = bytes - path.length - 1;
    path += "/" + "d".repeat(Math.min(200, left > 200 && left < 202 ? 100 : left));
  }
  Deno.mkdirSync(path, { recursive: true });
  assert.equal(path.length, bytes);
  return { path, top };
}

// A TMPDIR too long for the paths ww makes in it: bwrap said "bubblewrap could not set up the jail
// (...): bwrap: Can't mkdir ...; ww doctor tells what this machine offers" (from 4068 bytes), the
// native stage "the stage's plan step failed: ENAMETOOLONG (...) (try another --jail, or see ww
// doctor)" (from 4076), as if the host offered no jail.
for (const backend of BACKENDS) {
  Deno.test(`--jail=${backend}, a TMPDIR near PATH_MAX: one line naming TMPDIR, exit 125; at 4031 bytes the run goes`, async () => {
    for (const bytes of [4070, 4080]) {
      const { path, top } = directoryOfLength(bytes);
      try {
        const tag = `tag=${crypto.randomUUID()}`;
        const r = await runWw(["run", `--jail=${backend}`, "/bin/echo", tag], {
          env: { TMPDIR: path },
        });
        assert.equal(r.code, 125, `${bytes}: ${r.stderr}`);
        const lines = errorLines(r.stderr);
        assert.equal(lines.length, 1, r.stderr);
        assert.equal(
          lines[0],
          `ww: TMPDIR=${path}: too long (${bytes} bytes; the paths ww makes in it need 64 more, and the kernel takes at most 4095, PATH_MAX) (set TMPDIR to a directory of at most 4031 bytes, e.g. /tmp, or unset it)`,
        );
        assert.deepEqual(processesWithArg(tag), []);
      } finally {
        Deno.removeSync(top, { recursive: true });
      }
    }
    const { path, top } = directoryOfLength(4031);
    try {
      const r = await runWw(["run", `--jail=${backend}`, "/bin/sh", "-c", "pwd"], {
        env: { TMPDIR: path },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.startsWith(`${path}/ww-`), r.stdout);
      assert.deepEqual(wwDirs(path), []);
    } finally {
      Deno.removeSync(top, { recursive: true });
    }
  });
}

Deno.test("--deno, a TMPDIR of 4031 bytes: the guest is bundled there and runs", async () => {
  const { path, top } = directoryOfLength(4031);
  try {
    const guest = `${top}/guest.ts`;
    Deno.writeTextFileSync(guest, "console.log('guest ran');\n");
    const r = await runWw(["run", "--jail=none", "--deno", guest], { env: { TMPDIR: path } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "guest ran\n");
    assert.deepEqual(wwDirs(path), []);
  } finally {
    Deno.removeSync(top, { recursive: true });
  }
});
