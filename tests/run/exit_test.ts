// Exit status of `ww run`: the program's own code, 128+N when a signal killed it, 126 when it
// cannot be executed and 127 when it does not exist, with a one-line message naming it.

import assert from "node:assert/strict";
import { join } from "node:path";
import { reportFds } from "../support/children.ts";
import { errorLines, JAIL_MODES, jailFlags, runWw, wwCommand } from "../support/ww.ts";

const child = await reportFds();
const dir = Deno.makeTempDirSync({ prefix: "wwtest-exit-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const notExecutable = join(dir, "not-executable");
Deno.writeTextFileSync(notExecutable, "#!/bin/sh\nexit 0\n");
Deno.chmodSync(notExecutable, 0o644);

/** The one line of ww's message; fails when there is more (or none). */
function oneLine(stderr: string): string {
  const lines = errorLines(stderr);
  assert.equal(lines.length, 1, `expected one line: ${JSON.stringify(stderr)}`);
  return lines[0];
}

for (const jail of JAIL_MODES) {
  const t = (name: string, fn: () => Promise<void>) => Deno.test(`[jail=${jail}] ${name}`, fn);
  const ww = (args: string[], env?: Record<string, string>) =>
    runWw(["run", ...jailFlags(jail), ...args], { env });

  for (const code of [0, 1, 42, 255]) {
    t(`ww exits with the program's own code ${code}`, async () => {
      const r = await ww([child, `exit=${code}`]);
      assert.equal(r.code, code, r.stderr);
      assert.deepEqual(errorLines(r.stderr), []);
    });
  }

  for (const [signal, number] of [["SIGKILL", 9], ["SIGSEGV", 11], ["SIGTERM", 15]] as const) {
    t(`a program killed by ${signal} makes ww exit with ${128 + number}`, async () => {
      const r = await ww([child, `kill=${number}`]);
      assert.equal(r.code, 128 + number, r.stderr);
    });
  }

  t("a file without execute permission exits 126 with a one-line message naming it", async () => {
    const r = await ww([notExecutable]);
    assert.equal(r.code, 126);
    assert.match(oneLine(r.stderr), /^ww: .*not-executable.*permission denied/);
  });

  t("a directory exits 126 with a one-line message naming it", async () => {
    const r = await ww([dir]);
    assert.equal(r.code, 126);
    assert.match(oneLine(r.stderr), /^ww: .*wwtest-exit-.*is a directory/);
  });

  // /proc/self/exe is ww's own binary to ww, the stage or bwrap's /proc in a jail, and ww's child
  // under --jail=none: it ran the stage (native), failed in bwrap's mounts, and ran deno unjailed.
  t("a program under /proc exits 126 with a one-line message naming its own path", async () => {
    const r = await ww(["/proc/self/exe", "--version"]);
    assert.equal(r.code, 126, r.stdout);
    assert.equal(r.stdout, "");
    assert.match(
      oneLine(r.stderr),
      /^ww: \/proc\/self\/exe: a path under \/proc names a file of the process that executes it, not ww's; give the program's own path \(\/.+\)$/,
    );
  });

  // /dev/stdin and /dev/fd/N are links into /proc: --explain let them through, bwrap failed to
  // mount /dev/stdin, the native jail gave advice about /dev/fd that could not be taken, and
  // --jail=none's child, which holds fd 0-3 and the grants from fd 4, said /dev/fd/5 was missing.
  for (const [program, fd] of [["/dev/stdin", 0], ["/dev/fd/0", 0], ["/dev/fd/5", 5]] as const) {
    t(
      `${program}, a link into /proc, exits 126 with the same line as under /proc, --explain too`,
      async () => {
        for (const explain of [[], ["--explain"]]) {
          const r = await runWw(["run", ...jailFlags(jail), ...explain, program], {
            fds: { [fd]: { read: "/bin/true" } },
          });
          assert.equal(r.code, 126, r.stderr);
          assert.equal(
            oneLine(r.stderr),
            `ww: ${program}: a link into /proc names a file of the process that executes it, not ww's; give the program's own path (${
              Deno.realPathSync("/bin/true")
            })`,
          );
        }
      },
    );
  }

  t("a missing path exits 127 with a one-line message naming it", async () => {
    const r = await ww(["/nonexistent/wwtest-program"]);
    assert.equal(r.code, 127);
    assert.match(oneLine(r.stderr), /^ww: \/nonexistent\/wwtest-program: no such file/);
  });

  t("a path that is a symbolic link to nothing exits 127 naming where it leads", async () => {
    const links = Deno.makeTempDirSync({ prefix: "wwtest-dangling-" });
    try {
      Deno.symlinkSync(`${links}/gone`, `${links}/prog`);
      const r = await ww([`${links}/prog`]);
      assert.equal(r.code, 127);
      assert.equal(
        oneLine(r.stderr),
        `ww: ${links}/prog: a symbolic link to ${links}/gone, which leads to no file (fix or remove the link, or give the program's own path)`,
      );
    } finally {
      Deno.removeSync(links, { recursive: true });
    }
  });

  t("a name not in PATH exits 127 with a one-line message naming it", async () => {
    const r = await ww(["wwtest-no-such-program"], { PATH: "/usr/bin:/bin" });
    assert.equal(r.code, 127);
    assert.match(oneLine(r.stderr), /^ww: wwtest-no-such-program: not found in PATH/);
  });

  // It said "not found in PATH" where the caller's PATH held the name: --env had set another.
  t("a name not in the PATH --env gives the program says that PATH was searched", async () => {
    const r = await ww(["--env", "PATH=/nonexistent-wwtest", "true"], { PATH: "/usr/bin:/bin" });
    assert.equal(r.code, 127);
    assert.equal(
      oneLine(r.stderr),
      "ww: true: not found in the program's own PATH, /nonexistent-wwtest (give a path with a slash, e.g. /usr/bin/true)",
    );
  });

  // `-e PATH=` left "not found in the program's own PATH,  (... e.g. ./ls)"; and with no PATH at
  // all (env -i), Deno sets its own (its node shims), which ww searched and passed on.
  t(
    "an empty or unset PATH is said so, and no PATH of Deno's is searched or passed on",
    async () => {
      const empty = await ww(["--env", "PATH=", "true"], { PATH: "/usr/bin:/bin" });
      assert.equal(empty.code, 127);
      assert.equal(
        oneLine(empty.stderr),
        "ww: true: not found: the program's own PATH is empty (give a path with a slash, e.g. /usr/bin/true)",
      );
      const [cmd, ...args] = wwCommand();
      const unset = (more: string[]) =>
        new Deno.Command(cmd, {
          args: [...args, "run", ...jailFlags(jail), ...more],
          clearEnv: true,
          stdin: "null",
        }).output();
      const r = await unset(["node"]);
      assert.equal(r.code, 127);
      // Deno's directory holds `node`: ww found it there. (The example is a system copy, if any.)
      assert.match(
        new TextDecoder().decode(r.stderr),
        /^ww: node: not found: PATH is empty or not set \(give a path with a slash, e\.g\. \S*\/node\)\n$/,
      );
      const env = await unset(["--env", "PATH", "/usr/bin/env"]);
      assert.equal(env.code, 0, new TextDecoder().decode(env.stderr));
      assert.equal(new TextDecoder().decode(env.stdout), "");
    },
  );

  t("a name is looked up in the caller's PATH", async () => {
    const r = await ww([child.split("/").pop()!, "exit=7"], {
      PATH: `/nonexistent:${dir}:${child.slice(0, child.lastIndexOf("/"))}`,
    });
    assert.equal(r.code, 7, r.stderr);
  });
}

// A binary whose ELF interpreter (its dynamic loader) is missing: execve says ENOENT of a file that
// is there. The jails' message said "the file is missing".
{
  const elf = Deno.readFileSync("/bin/true");
  // glibc's dynamic loader on each architecture ww runs on.
  const loaderPath = Deno.build.arch === "aarch64"
    ? "/lib/ld-linux-aarch64.so.1"
    : "/lib64/ld-linux-x86-64.so.2";
  const loader = new TextEncoder().encode(loaderPath);
  const at = elf.findIndex((_, i) => loader.every((b, j) => elf[i + j] === b));
  const noLoader = join(dir, "no-loader");
  if (at >= 0) {
    // A path of the same length that names nothing, so the rest of the file stays where it was.
    elf.set(
      new TextEncoder().encode(loaderPath.replace(/ld-[^/]*$/, (n) => "x".repeat(n.length))),
      at,
    );
    Deno.writeFileSync(noLoader, elf, { mode: 0o755 });
    Deno.chmodSync(dir, 0o755);
  }
  for (const jail of ["none", "native", "bwrap"]) {
    Deno.test(`[jail=${jail}] a binary whose ELF interpreter is missing exits 127, not called missing itself`, async () => {
      assert.ok(
        at >= 0,
        `/bin/true names no ${loaderPath}: not a glibc system? this test needs one`,
      );
      const r = await runWw(["run", `--jail=${jail}`, "--ro-bind", dir, noLoader]);
      assert.equal(r.code, 127, r.stderr);
      const lines = errorLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /: .*ENOENT \(the file or its interpreter is missing\)$/);
    });
  }
}
