// run/host_test.ts — the one rule for finding a tool: PATH's absolute directories in order, then
// the standard ones; the first executable regular file wins. readTextAtMost, with no link followed.
import assert from "node:assert/strict";
import { absentReason, findTool, readTextAtMost, TOOL_DIRS, toolDirs, whyAbsent } from "./host.ts";
import { EACCES, ELOOP, ENOENT, ENOTDIR } from "../ffi/errno.ts";

/** EIO, which ffi/errno.ts has no constant for (ww never tests for it). */
const EIO = 5;

Deno.test("toolDirs: PATH's absolute entries in order, then the standard directories, once each", () => {
  assert.deepEqual(toolDirs("/opt/bin:bin::./x:/usr/bin"), [
    "/opt/bin",
    "/usr/bin",
    "/usr/local/bin",
    "/bin",
  ]);
  assert.deepEqual(toolDirs(undefined), [...TOOL_DIRS]);
  assert.deepEqual(toolDirs(""), [...TOOL_DIRS]);
  assert.deepEqual(toolDirs("/bin:/a"), ["/bin", "/a", "/usr/bin", "/usr/local/bin"]);
});

Deno.test("findTool takes the first executable regular file, following symlinks, in a temp PATH", () => {
  const root = Deno.makeTempDirSync({ prefix: "wwtest-tools-" });
  try {
    const [a, b, c, d] = ["a", "b", "c", "d"].map((n) => {
      Deno.mkdirSync(`${root}/${n}`);
      return `${root}/${n}`;
    });
    const path = [a, b, c, d].join(":");
    Deno.writeTextFileSync(`${a}/wwtest-tool`, "#!/bin/sh\n", { mode: 0o644 }); // not executable
    Deno.mkdirSync(`${b}/wwtest-tool`); // a directory
    Deno.symlinkSync(`${root}/missing`, `${c}/wwtest-tool`); // a dangling symlink
    Deno.writeTextFileSync(`${d}/wwtest-tool`, "#!/bin/sh\n", { mode: 0o755 });
    Deno.symlinkSync(`${d}/wwtest-tool`, `${c}/wwtest-link`);
    assert.equal(findTool("wwtest-tool", path), `${d}/wwtest-tool`);
    assert.equal(findTool("wwtest-link", path), `${c}/wwtest-link`);
    assert.equal(findTool("wwtest-none", path), undefined);
    // A relative PATH entry would depend on the caller's cwd: never searched. Asked in a process
    // started in root: Deno.chdir here would move the working directory of every test file that
    // deno test --parallel runs in this process.
    const host = new URL("./host.ts", import.meta.url).href;
    const asked = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { findTool } from ${JSON.stringify(host)};
         console.log(JSON.stringify([findTool("wwtest-tool", "d") ?? null,
           findTool("wwtest-tool", ${JSON.stringify(`d:${d}`)})]));`,
      ],
      cwd: root,
    }).outputSync();
    assert.equal(asked.code, 0, new TextDecoder().decode(asked.stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(asked.stdout)), [
      null,
      `${d}/wwtest-tool`,
    ]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("a PATH without bwrap still finds the installed one, for auto's facts as for --jail=bwrap", () => {
  const installed = TOOL_DIRS.map((d) => `${d}/bwrap`).find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });
  assert.ok(installed, "bubblewrap is installed on the machines these tests run on");
  assert.equal(findTool("bwrap", "/nonexistent"), installed);
  // In a process of its own with that PATH: Deno.env.set here would change the PATH of every test
  // file that deno test --parallel runs in this process.
  const host = new URL("./host.ts", import.meta.url).href;
  const asked = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { namespaceFacts } from ${JSON.stringify(host)};
       console.log(namespaceFacts().bwrapPath);`,
    ],
    env: { PATH: "/nonexistent" },
  }).outputSync();
  assert.equal(asked.code, 0, new TextDecoder().decode(asked.stderr));
  assert.equal(new TextDecoder().decode(asked.stdout), `${installed}\n`);
});

Deno.test("absentReason says missing only for a path that is not there, and names what else hid it", () => {
  const missing = "no such file or directory on this machine (check the path)";
  assert.equal(absentReason(ENOENT), missing);
  assert.equal(absentReason(ENOTDIR), missing);
  assert.equal(
    absentReason(EACCES),
    "ww may not look there (EACCES: it cannot search a directory on the path)",
  );
  assert.equal(
    absentReason(ELOOP),
    "too many levels of symbolic links (ELOOP: fix or remove the link that loops, or give the path it leads to)",
  );
  assert.equal(absentReason(EIO), "ww cannot look it up (EIO: check the path)");
});

Deno.test("whyAbsent looks the path up: missing, below a file, or a symlink loop", () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-absent-" });
  try {
    Deno.writeTextFileSync(`${dir}/file`, "x");
    Deno.symlinkSync(`${dir}/loop`, `${dir}/loop`);
    assert.equal(
      whyAbsent(`${dir}/missing`),
      "no such file or directory on this machine (check the path)",
    );
    assert.equal(
      whyAbsent(`${dir}/file/below`),
      "no such file or directory on this machine (check the path)",
    );
    assert.equal(
      whyAbsent(`${dir}/loop`),
      "too many levels of symbolic links (ELOOP: fix or remove the link that loops, or give the path it leads to)",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("readTextAtMost with noLinks follows no link on the path, whoever owns it; without, it follows", () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-host-" });
  try {
    Deno.writeTextFileSync(`${dir}/app.env`, "A=1\n");
    Deno.symlinkSync(`${dir}/app.env`, `${dir}/link.env`);
    Deno.mkdirSync(`${dir}/real`);
    Deno.writeTextFileSync(`${dir}/real/b.env`, "B=2\n");
    Deno.symlinkSync(`${dir}/real`, `${dir}/dirlink`);
    assert.equal(readTextAtMost(`${dir}/app.env`, 100, true), "A=1\n");
    assert.equal(readTextAtMost(`${dir}/link.env`, 100), "A=1\n");
    for (const linked of [`${dir}/link.env`, `${dir}/dirlink/b.env`]) {
      assert.throws(
        () => readTextAtMost(linked, 100, true),
        /a symbolic link appeared on the path as ww opened it/,
      );
    }
    assert.throws(() => readTextAtMost(`${dir}/absent.env`, 100, true), Deno.errors.NotFound);
    assert.throws(() => readTextAtMost(`${dir}/app.env`, 2, true), /it holds more than 2 bytes/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
