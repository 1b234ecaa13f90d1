// What a library caller may do once it has asked for a run (a review as a careless service): close
// a granted descriptor at once (its number then names another file), change the options object it
// passed (a template for the next run), abort before the program exists; and the options a
// Command refuses up front, as every other wrong option.

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  Command,
  DEFAULT_POLICY,
  execService,
  type JailBackend,
  NO_GRANTS,
  type RunConfig,
  startProgram,
  UsageError,
} from "../../mod.ts";
import { closeFd, pipe } from "../../ffi/fd.ts";
import { F_GETFL, F_SETFL, O_NONBLOCK } from "../../ffi/flags.ts";
import { libc } from "../../ffi/libc.ts";
import { openReadOnly } from "../../ffi/memfd.ts";
import { exists, privateTmp } from "../support/procs.ts";

const BACKENDS: readonly JailBackend[] = ["bwrap", "native", "none"];
const text = (b: Uint8Array) => new TextDecoder().decode(b);

const { dup2 } = Deno.dlopen("libc.so.6", {
  dup2: { parameters: ["i32", "i32"], result: "i32" },
}).symbols;

/**
 * A caller's close of `fd` and its number's reuse for the file at `path`, in one step (dup2): a
 * close and then an open may not get the number back, since under --parallel another module's
 * thread can take it between the two.
 */
function reuseNumber(fd: number, path: string): void {
  const other = openReadOnly(path);
  try {
    assert.equal(dup2(other, fd), fd, "dup2 failed");
  } finally {
    closeFd(other);
  }
}

/** Two files of two tenants in a fresh directory anyone may read. */
function tenants(): { dir: string; a: string; b: string } {
  const dir = privateTmp();
  const [a, b] = [join(dir, "a.txt"), join(dir, "b.txt")];
  Deno.writeTextFileSync(a, "tenant A\n");
  Deno.writeTextFileSync(b, "tenant B secret\n");
  return { dir, a, b };
}

for (const backend of BACKENDS) {
  // Deno.Command's spawn is synchronous, so a caller closes its descriptor once it has spawned:
  // ww read the grant's number only after its first wait, and the program got whatever the
  // number named by then (another run's stdout pipe, another tenant's file).
  Deno.test(`[jail=${backend}] a grant the caller closes right after asking for the run still gives the program that file`, async () => {
    const { dir, a, b } = tenants();
    try {
      const fd = openReadOnly(a);
      const output = new Command("/bin/sh", {
        args: ["-c", "cat <&4"],
        grants: { fds: [{ name: "db", source: fd }] },
        jail: { backend },
      }).output();
      reuseNumber(fd, b);
      try {
        const out = await output;
        assert.equal(out.code, 0, text(out.stderr));
        assert.equal(text(out.stdout), "tenant A\n");
      } finally {
        closeFd(fd);
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });

  // The same for StartOptions.stdio: ww read the number only at the spawn, and the program wrote
  // to whatever it named by then (here another tenant's file, opened for writing).
  Deno.test(`[jail=${backend}] a stdio descriptor the caller closes right after asking for the run still is the program's`, async () => {
    const { dir, b } = tenants();
    try {
      const [read, write] = pipe();
      const started = startProgram(
        { program: "/bin/echo", args: ["to the pipe"], jail: { backend } },
        { stdio: [undefined, write, undefined] },
      );
      closeFd(write);
      const reused = Deno.openSync(b, { write: true, append: true });
      try {
        const status = await (await started).status;
        assert.equal(status.code, 0);
        assert.equal(Deno.readTextFileSync(b), "tenant B secret\n");
        const buf = new Uint8Array(64);
        const n = libc().read(read, buf, 64n);
        assert.equal(text(buf.subarray(0, Number(n))), "to the pipe\n");
      } finally {
        reused.close();
        closeFd(read);
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });

  // The abort was looked at only before ww began and once the program ran: one that came while
  // the jail was made still ran the program (and emptied a `w` grant's file).
  Deno.test(`[jail=${backend}] an abort before the program exists rejects with its reason, and runs and truncates nothing`, async () => {
    const dir = privateTmp(0o777);
    try {
      const kept = join(dir, "kept");
      const marker = join(dir, "ran");
      Deno.writeTextFileSync(kept, "important data\n");
      Deno.chmodSync(kept, 0o666);
      const controller = new AbortController();
      const spawned = new Command("/bin/sh", {
        args: ["-c", `echo side-effect >&4; touch ${marker}`],
        grants: { own: [{ name: "f", open: kept, mode: "w" }] },
        signal: controller.signal,
        jail: { backend },
      }).spawn();
      const reason = new Error("the caller changed its mind");
      controller.abort(reason);
      await assert.rejects(spawned, (e) => e === reason);
      assert.equal(Deno.readTextFileSync(kept), "important data\n");
      assert.ok(!exists(marker), "the program ran");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

// Deterministically between the jail's checks and the spawn: onJail is called right before it
// (bwrap calls it once the jail exists, after the spawn).
for (const backend of ["native", "none"] as const) {
  Deno.test(`[jail=${backend}] startProgram: an abort as the jail is decided starts nothing`, async () => {
    const dir = privateTmp(0o777);
    try {
      const marker = join(dir, "ran");
      const controller = new AbortController();
      const reason = new Error("the caller changed its mind");
      const started = startProgram(
        { program: "/bin/touch", args: [marker], jail: { backend } },
        { signal: controller.signal, onJail: () => controller.abort(reason) },
      );
      await assert.rejects(started, (e) => e === reason);
      assert.ok(!exists(marker), "the program ran");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

// A guest's host exec looked the grant up by the caller's number when the guest asked, long after
// the run began: a caller that had closed it gave the started program whatever had that number.
Deno.test("a program a guest starts gets the grant the run was given, not what its number names later", async () => {
  const { dir, a, b } = tenants();
  const fd = openReadOnly(a);
  const config: RunConfig = {
    program: "/bin/sleep",
    args: ["30"],
    fds: [{ name: "db", source: fd }],
    env: {},
    ipfsApi: "/dns4/localhost/tcp/5001/http",
    jail: { ...DEFAULT_POLICY, backend: "none" },
  };
  const child = await startProgram(config);
  reuseNumber(fd, b);
  try {
    const out = join(dir, "out");
    const exec = execService(config, child, startProgram, { version: "test" });
    const started = await exec({
      program: "/bin/sh",
      args: ["-c", `cat <&4 > ${out}`],
      fds: ["db"],
      grants: NO_GRANTS,
    });
    assert.equal((await started.status).code, 0);
    assert.equal(Deno.readTextFileSync(out), "tenant A\n");
  } finally {
    closeFd(fd);
    child.kill("SIGKILL");
    await child.status;
    Deno.removeSync(dir, { recursive: true });
  }
});

/** An ExecRequest for `script` with the grants `fds`. */
function shellStart(script: string, fds: string[]) {
  return { program: "/bin/sh", args: ["-c", script], fds, grants: NO_GRANTS };
}

/** startProgram's config for `/bin/sleep 30` with `fds`, as execService takes it. */
function sleeper(fds: RunConfig["fds"]): RunConfig {
  return {
    program: "/bin/sleep",
    args: ["30"],
    fds,
    env: {},
    ipfsApi: "/dns4/localhost/tcp/5001/http",
    jail: { ...DEFAULT_POLICY, backend: "none" },
  };
}

// The run's copies closed with its program, while ww still served its guest's last requests: a
// start then passed whatever had taken the freed number.
Deno.test("a program's guest cannot start another with its grants once the program has ended", async () => {
  const { dir, a } = tenants();
  const fd = openReadOnly(a);
  try {
    const config = sleeper([{ name: "db", source: fd }]);
    const child = await startProgram({ ...config, program: "/bin/true", args: [] });
    await child.status;
    const exec = execService(config, child, startProgram, { version: "test" });
    await assert.rejects(
      exec(shellStart("cat <&4", ["db"])),
      /^Error: fd db: the program that asked has ended, and its grants with it$/,
    );
  } finally {
    closeFd(fd);
    Deno.removeSync(dir, { recursive: true });
  }
});

// The started program's grants were ordered by ww's copies' numbers, which follow the config's
// order: the layout then depended on it (b=22 a=21 gave a guest's program WW_FD_A=5).
Deno.test("a program a guest starts lays its grants out as its starter's, by the caller's numbers", async () => {
  const { dir, a, b } = tenants();
  const [fdA, fdB] = [openReadOnly(a), openReadOnly(b)];
  try {
    assert.ok(fdA < fdB);
    const config = sleeper([{ name: "b", source: fdB }, { name: "a", source: fdA }]);
    const child = await startProgram(config);
    try {
      const out = join(dir, "env");
      const exec = execService(config, child, startProgram, { version: "test" });
      const started = await exec(
        shellStart(`echo "$WW_FD_A $WW_FD_B" > ${out}`, ["b", "a"]),
      );
      assert.equal((await started.status).code, 0);
      assert.equal(Deno.readTextFileSync(out), "4 5\n");
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
  } finally {
    closeFd(fdA);
    closeFd(fdB);
    Deno.removeSync(dir, { recursive: true });
  }
});

// Each run kept a grant's state under its own copy's number: a guest's program, ending after its
// starter, gave back the state the starter's program had left (a pipe left O_NONBLOCK).
Deno.test("a grant's flags come back once both a program and the one its guest started have ended", async () => {
  const [read, write] = pipe();
  const nonblocking = () => (libc().fcntl(write, F_GETFL, 0) & O_NONBLOCK) !== 0;
  try {
    assert.equal(nonblocking(), false);
    const config = sleeper([{ name: "out", source: write }]);
    const child = await startProgram(config);
    // What the program does to the description it shares with the caller.
    libc().fcntl(write, F_SETFL, libc().fcntl(write, F_GETFL, 0) | O_NONBLOCK);
    const exec = execService(config, child, startProgram, { version: "test" });
    const started = await exec(shellStart("sleep 0.3", ["out"]));
    child.kill("SIGKILL");
    await child.status;
    await started.status;
    assert.equal(nonblocking(), false, "the caller's pipe was left O_NONBLOCK");
  } finally {
    closeFd(read);
    closeFd(write);
  }
});

// A service's options template, changed for the next run after `new Command()`: the first run
// opened the second's file, and a `listen` of the wrong type failed deep inside ww.
Deno.test("Command: the options are taken when it is made; changing the object later changes nothing", async () => {
  const dir = privateTmp(0o777);
  try {
    const [first, second] = [join(dir, "first"), join(dir, "second")];
    const own = { name: "f", open: first, mode: "w" } as { name: string; open?: unknown };
    const host = { exec: false } as Record<string, unknown>;
    const command = new Command("/bin/sh", {
      args: ["-c", "echo hi >&4"],
      grants: { own: [own as { name: string; open: string }] },
      host,
      jail: { backend: "none" },
    });
    own.open = second;
    own.name = "x=1\nY";
    host.exec = "yes";
    const out = await command.output();
    assert.equal(out.code, 0, text(out.stderr));
    assert.equal(Deno.readTextFileSync(first), "hi\n");
    assert.ok(!exists(second));
    own.open = 42;
    assert.equal((await command.output()).code, 0);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("Command refuses ww's own variables in env when it is made, as every wrong option", () => {
  assert.throws(
    () => new Command("/bin/true", { env: { WW_FD_X: "4" } }),
    (e) =>
      e instanceof UsageError &&
      e.message ===
        "env WW_FD_X: WW_FD_ variables are ww's, one for each descriptor grant, and no grant is named x (grant one: fds)",
  );
  assert.throws(
    () => new Command("/bin/true", { env: { WW_HOST_FD: "4" } }),
    (e) => e instanceof UsageError && e.message.startsWith("env WW_HOST_FD: WW_HOST_FD is ww's"),
  );
});

// "" was looked up in PATH: "NotExecutableError: : /usr/bin: is a directory".
Deno.test("startProgram refuses an empty program in one line naming it", async () => {
  await assert.rejects(startProgram({ program: "" }), (e) => {
    assert.ok(e instanceof UsageError, String(e));
    assert.match(e.message, /^program: must be a non-empty string \(got /);
    return true;
  });
});
