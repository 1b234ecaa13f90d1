// What a library user found missing or wrong in Command and startProgram (a review as a first-time
// caller): a listening grant's address, a work directory left behind, a closed descriptor as a
// program's stdio, running out of descriptors for the pipes, and binds in the options' words.

import assert from "node:assert/strict";
import { BindError, Command, type JailOptions, startProgram, UsageError } from "../../mod.ts";
import { privateTmp, wwDirs } from "../support/procs.ts";
import { REPO } from "../support/ww.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

// Only startProgram's Child said where a port 0 landed: a Command's grant could not be reached.
Deno.test("Command: a listening grant's address is the child's listeners", async () => {
  const child = await new Command("/bin/sleep", {
    args: ["30"],
    grants: { own: [{ name: "web", listen: "tcp:127.0.0.1:0" }] },
    jail: { backend: "none" },
  }).spawn();
  try {
    assert.equal(child.listeners.length, 1);
    const [web] = child.listeners;
    assert.equal(web.name, "web");
    assert.match(web.address, /^127\.0\.0\.1:\d+$/);
    // The program holds the listening socket: a connection is taken into its backlog.
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: Number(web.address.split(":")[1]),
    });
    conn.close();
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
});

// The status said nothing of a work directory left behind, which startProgram's and the command
// line's name: the program moved a directory of root's into it, which the jail's user may not
// remove.
Deno.test({
  name: "Command: a work directory left behind is the status's workdirLeft (native, as root)",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const tmp = privateTmp(0o1777);
    const shared = Deno.makeTempDirSync({ prefix: "wwtest-shared-" });
    try {
      Deno.chmodSync(shared, 0o777);
      Deno.mkdirSync(`${shared}/sub`);
      Deno.chmodSync(`${shared}/sub`, 0o1777);
      Deno.writeTextFileSync(`${shared}/sub/roots`, "root's");
      const script = `
        import { Command } from "${REPO}mod.ts";
        const s = await new Command("/bin/sh", {
          args: ["-c", "mv ${shared}/sub ./sub"],
          jail: { backend: "native", writableBinds: [{ source: "${shared}", dest: "${shared}" }] },
        }).output();
        console.log(JSON.stringify({ code: s.code, workdirLeft: s.workdirLeft ?? null }));`;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["eval", "--config", `${REPO}deno.json`, script],
        env: { TMPDIR: tmp },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, text(out.stderr));
      const status = JSON.parse(text(out.stdout));
      assert.equal(status.code, 0, text(out.stderr));
      const [left] = wwDirs(tmp);
      assert.ok(left, "the work directory was removed after all: nothing to report");
      assert.equal(status.workdirLeft, `${tmp}/${left}`);
    } finally {
      Deno.removeSync(shared, { recursive: true });
      Deno.removeSync(tmp, { recursive: true });
    }
  },
});

// A closed descriptor as a program's stdio failed in posix_spawn's words about ww's stage.
Deno.test("startProgram: a closed descriptor in options.stdio is refused in one line naming it", async () => {
  for (const backend of ["none", "native", "bwrap"] as const) {
    await assert.rejects(
      startProgram({ program: "/bin/echo", args: ["x"], jail: { backend } }, {
        stdio: [undefined, 999, undefined],
      }),
      (e: unknown) => {
        assert.ok(e instanceof UsageError, String(e));
        assert.equal(
          e.message,
          "startProgram's options.stdio[1]: descriptor 999 is not open in this process (pass an open one, or undefined for ww's own fd 1)",
        );
        return true;
      },
    );
  }
});

// Out of descriptors making a piped stdout was a SyscallError ("pipe2: EMFILE"), which mod.ts does
// not even export; a spawn rejects with a WwError, here the one that names the limit to raise.
Deno.test("Command: out of descriptors for the pipes is a WwError naming the limit", async () => {
  const script = `
    import { Command, WwError } from "${REPO}mod.ts";
    const results = await Promise.allSettled(Array.from({ length: 40 }, () =>
      new Command("/bin/echo", { args: ["x"], stdout: "piped", jail: { backend: "none" } }).output()));
    const kinds = results.map((r) => r.status === "fulfilled" ? "ok"
      : r.reason instanceof WwError ? "WwError" : r.reason?.name + ": " + r.reason?.message);
    console.log(JSON.stringify([...new Set(kinds)]));`;
  const out = await new Deno.Command("/bin/sh", {
    args: [
      "-c",
      `ulimit -n 64 && exec "$0" eval --config ${REPO}deno.json "$1"`,
      Deno.execPath(),
      script,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, text(out.stderr));
  const kinds: string[] = JSON.parse(text(out.stdout));
  assert.ok(kinds.includes("WwError"), `the limit was never reached: ${kinds}`);
  assert.deepEqual(kinds.filter((k) => k !== "ok" && k !== "WwError"), []);
});

// Two binds at one destination, a mount point missing inside a bind, and a read-only path inside
// a writable one (native) were UsageErrors worded in ww run's flags (--ro-bind /etc:/a), with no
// `bind`: a library caller's error names its options, and a bind that cannot be made is a
// BindError.
Deno.test("Command: binds that cannot be made together are BindErrors in a library caller's words", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-binds-" });
  try {
    Deno.chmodSync(dir, 0o755);
    const cases: [JailOptions, RegExp, RegExp][] = [
      [
        {
          backend: "bwrap",
          writableBinds: [{ source: dir, dest: "/a" }],
          readOnlyBinds: [{ source: "/etc", dest: "/a" }],
        },
        /^jail\.readOnlyBinds \/etc -> \/a and jail\.writableBinds \S+ -> \/a: two different paths bound at \/a/,
        /^--ro-bind \/etc:\/a and --bind \S+:\/a: /,
      ],
      [
        {
          backend: "bwrap",
          readOnlyBinds: [{ source: dir, dest: "/data" }, { source: "/etc", dest: "/data/sub" }],
        },
        /^the mount point \/data\/sub \(in the bind of \S+ at \/data\) would be made on the host/,
        /^the mount point \/data\/sub /,
      ],
      [
        {
          backend: "native",
          writableBinds: [{ source: dir, dest: dir }],
          readOnlyBinds: [{ source: `${dir}/ro`, dest: `${dir}/ro` }],
        },
        /^jail\.readOnlyBinds \S+\/ro inside jail\.writableBinds \S+: .*use jail\.backend "bwrap"/,
        /^--ro-bind \S+\/ro inside --bind \S+: .*use --jail=bwrap/,
      ],
    ];
    Deno.mkdirSync(`${dir}/ro`);
    for (const [jail, library, commandLine] of cases) {
      await assert.rejects(new Command("/bin/true", { jail }).output(), (e: unknown) => {
        assert.ok(e instanceof BindError, `${jail.backend}: ${e}`);
        assert.match(e.message, library);
        assert.match(e.commandLine ?? "", commandLine);
        return true;
      });
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
