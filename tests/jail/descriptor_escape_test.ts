// A descriptor the caller grants is used as it is, under every backend: the program cannot open it
// again (/proc/self/fd/N) for more than it was opened for, nor walk out of a granted directory by
// "..". Under bwrap these were ways out of the mount namespace: a directory's ".." led up the
// host's tree, and a read-only file reopened for writing was written wherever the jail's user
// could write it (its mode here lets everyone, so only the jail stands in the way). The jail's
// stage keeps each descriptor to its mode with Landlock (stage/stage.c add_descriptor_rules), and
// bwrap refuses a directory (run/jail_checks.ts).

import assert from "node:assert/strict";
import { buildC } from "../support/build.ts";
import { closeEachConnection } from "../support/listeners.ts";
import { runWw, wwCommand } from "../support/ww.ts";
import { landlockAbi } from "../../ffi/landlock.ts";

const probe = await buildC(new URL("./fd_probe.c", import.meta.url));
const grantExec = await buildC(new URL("./grant_exec.c", import.meta.url));
const dir = Deno.makeTempDirSync({ prefix: "wwtest-fds-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
Deno.mkdirSync(`${dir}/a/b`, { recursive: true });
Deno.chmodSync(`${dir}/a/b`, 0o777);
Deno.writeTextFileSync(`${dir}/a/b/inside`, "inside\n");
Deno.chmodSync(`${dir}/a/b/inside`, 0o666);

/** A file anyone may write, with `text` in it. */
function worldWritable(name: string, text: string): string {
  const path = `${dir}/${name}`;
  Deno.writeTextFileSync(path, text);
  Deno.chmodSync(path, 0o666);
  return path;
}

/** What the probe reports doing `what` with its fd 4, given as `grant`. */
async function probeFd(jail: string, grant: string[], what: string, fds = {}) {
  const r = await runWw(
    ["run", `--jail=${jail}`, "--ro-bind", probe, ...grant, probe, "4", what],
    { fds },
  );
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

// Under bwrap a directory's ".." led out of the mount namespace: Landlock keeps reads and writes
// beneath it, but not chmod, utimes or a unix connect by path (a host's X11 or system bus socket).
// So bwrap refuses one, and --explain with it.
Deno.test("--jail=bwrap: a granted directory is refused in one line, by the run and by --explain", async () => {
  for (const explain of [[], ["--explain"]]) {
    const r = await runWw(
      ["run", "--jail=bwrap", ...explain, "--with-fd", "d=7", "/bin/true"],
      { fds: { 7: { read: `${dir}/a/b` } } },
    );
    assert.equal(r.code, 125, r.stderr);
    assert.equal(
      r.stderr,
      "ww: --with-fd d=7: fd 7 is a directory, whose '..' leads out of the bwrap jail into the host's file system; bind the directory with --ro-bind or --bind instead\n",
    );
  }
});

// The program's stdio is ww's, and a shell opens a directory there as readily (`ww run … < /etc`):
// under bwrap the program chmod'ed a host file of its uid through `fchmodat(0, "../f")`.
Deno.test("--jail=bwrap: a directory as the program's stdin or stdout is refused in one line, by the run and by --explain", async () => {
  for (const [fd, name] of [[0, "stdin"], [1, "stdout"]] as const) {
    for (const explain of [[], ["--explain"]]) {
      const r = await runWw(["run", "--jail=bwrap", ...explain, "/bin/true"], {
        fds: { [fd]: { read: `${dir}/a/b` } },
      });
      assert.equal(r.code, 125, r.stderr);
      assert.equal(
        r.stderr,
        `ww: the program's ${name} (fd ${fd}) is a directory, whose '..' leads out of the bwrap jail into the host's file system; give it a file, a pipe or a terminal (bind a directory with --ro-bind or --bind)\n`,
      );
    }
  }
  // Native keeps a directory to its Landlock rule, as a granted one.
  const r = await runWw(["run", "--jail=native", "/bin/true"], {
    fds: { 0: { read: `${dir}/a/b` } },
  });
  assert.equal(r.code, 0, r.stderr);
});

// A socket ww connects (--connect) or accepts on (--listen) lives in the host's network. Under bwrap
// a program disconnected one (connect with AF_UNSPEC) and connected it anywhere: to the host's
// loopback services, to the internet. Without --net the jail's stage now keeps it to its peer,
// whether it is connected by connect(2) or by a sendto(2) with MSG_FASTOPEN.
Deno.test("a granted TCP connection cannot be taken elsewhere without --net; the jail's own loopback stays while none is granted", async () => {
  const listeners = [
    Deno.listen({ hostname: "127.0.0.1", port: 0 }),
    Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  ];
  const [granted, other] = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  const accepting = listeners.map(closeEachConnection);
  try {
    const connect = ["--connect", `c=tcp:127.0.0.1:${granted}`];
    for (const jail of ["bwrap", "native"]) {
      assert.equal(await probeFd(jail, connect, `reconnect:${other}`), "EACCES", jail);
      // TCP Fast Open connects in sendto(2), not connect(2): the same way out, kept shut too.
      assert.equal(await probeFd(jail, connect, `fastopen:${other}`), "EACCES", jail);
    }
    // With --net the program has the host's network anyway.
    assert.equal(await probeFd("bwrap", ["--net", ...connect], `reconnect:${other}`), "ok");
    assert.equal(await probeFd("bwrap", ["--net", ...connect], `fastopen:${other}`), "ok");
    // No IP socket granted: the bwrap jail's loopback is its own, and its TCP works there.
    assert.equal(await probeFd("bwrap", [], "loopback"), "ok");
  } finally {
    for (const l of listeners) l.close();
    await Promise.allSettled(accepting);
  }
});

// A unix socket made on the host stays in the host's network namespace, where abstract names live:
// under bwrap a granted one reached the host's abstract sockets. The jail's stage scopes them away
// (Landlock, ABI 6) unless --net shares the host's network anyway.
Deno.test("a granted unix socket reaches no abstract socket of the host without --net", async () => {
  const name = `wwtest-${crypto.randomUUID()}`;
  const listener = Deno.listen({ transport: "unix", path: `\0${name}` });
  const accepting = closeEachConnection(listener);
  const reach = async (flags: string[]) => {
    const r = await runWw(
      ["run", ...flags, "--ro-bind", probe, "--with-fd", "s=7", probe, "4", `abstract:${name}`],
      { ww: [grantExec, "unix-stream", "7", ...wwCommand()] },
    );
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  try {
    // Landlock's scopes came with ABI 6 (Linux 6.12); before, bwrap's jail could not stop it.
    const abi = landlockAbi().abi;
    if (abi < 6) console.warn(`Landlock ABI ${abi} < 6: the bwrap case expects no scope`);
    assert.equal(await reach(["--jail=bwrap"]), abi >= 6 ? "EPERM" : "ok");
    // Native denies connect itself without --net (seccomp, before Landlock's scope).
    assert.equal(await reach(["--jail=native"]), "EACCES");
    assert.equal(await reach(["--jail=bwrap", "--net"]), "ok");
  } finally {
    listener.close();
    await accepting;
  }
});

/**
 * Runs `test` with a host unix socket that anyone may connect to, at `path`, which accepts and
 * closes each connection; removed afterwards.
 */
async function withHostSocket(test: (path: string) => Promise<void>): Promise<void> {
  const sockets = Deno.makeTempDirSync({ prefix: "wwtest-sockets-" });
  Deno.chmodSync(sockets, 0o755);
  const path = `${sockets}/host.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  Deno.chmodSync(path, 0o777);
  const accepting = closeEachConnection(listener);
  try {
    await test(path);
  } finally {
    listener.close();
    await accepting;
    Deno.removeSync(sockets, { recursive: true });
  }
}

// Landlock checks no connect by path, and a native jail has no mount namespace: an unconnected unix
// socket the caller granted connected to any host socket (an ssh-agent, D-Bus), and a unix datagram
// socket sent to any. Without --net seccomp now denies connect, and such a datagram socket is
// refused; bwrap's mount namespace shows none of the host's sockets.
Deno.test("--jail=native without --net: a granted unix socket connects to no host socket by path, and a unix datagram socket is refused", async () => {
  await withHostSocket(async (path) => {
    const run = (kind: string, flags: string[], what: string) =>
      runWw(["run", ...flags, "--ro-bind", probe, "--with-fd", "s=7", probe, "4", what], {
        ww: [grantExec, kind, "7", ...wwCommand()],
      });
    const stream = await run("unix-stream", ["--jail=native"], `unix:${path}`);
    assert.equal(stream.code, 0, stream.stderr);
    assert.equal(stream.stdout.trim(), "EACCES");
    for (const explain of [[], ["--explain"]]) {
      const r = await run("unix-dgram", ["--jail=native", ...explain], `sendto:${path}`);
      assert.equal(r.code, 125, r.stderr);
      assert.equal(
        r.stderr,
        "ww: --with-fd s=7: fd 7 is a unix datagram socket, which sends to any unix socket of the host (an ssh-agent, D-Bus) in the native jail without a network of its own; use --jail=bwrap, or allow the host's network with --net\n",
      );
    }
    // A datagram pair of its own sends to any path as well: seccomp refuses one without --net.
    // (With --net the send reaches the host's socket, a stream one here: EPROTOTYPE.)
    const pair = (flags: string[]) =>
      runWw([
        "run",
        "--jail=native",
        ...flags,
        "--ro-bind",
        probe,
        probe,
        "0",
        `pair-sendto:${path}`,
      ]);
    const denied = await pair([]);
    assert.equal(denied.code, 0, denied.stderr);
    assert.equal(denied.stdout.trim(), "EACCES");
    assert.equal((await pair(["--net"])).stdout.trim(), "EPROTOTYPE");
    const bwrap = await run("unix-dgram", ["--jail=bwrap"], `sendto:${path}`);
    assert.equal(bwrap.code, 0, bwrap.stderr);
    assert.equal(bwrap.stdout.trim(), "ENOENT");
  });
});

// A socket's O_PATH descriptor names that one socket, for connecting to: under bwrap the program
// connects to it (and to no other host socket), while the native jail without --net lets it make
// no socket, so that grant gave nothing without a word; it is refused there in one line.
Deno.test("a granted O_PATH descriptor of a socket connects to it under bwrap, and is refused by native without --net", async () => {
  await withHostSocket(async (path) => {
    const run = (flags: string[]) =>
      runWw(["run", ...flags, "--ro-bind", probe, "--with-fd", "s=7", probe, "4", "connect-self"], {
        ww: [grantExec, "opath", "7", path, ...wwCommand()],
      });
    const bwrap = await run(["--jail=bwrap"]);
    assert.equal(bwrap.code, 0, bwrap.stderr);
    assert.equal(bwrap.stdout.trim(), "ok");
    for (const explain of [[], ["--explain"]]) {
      const r = await run(["--jail=native", ...explain]);
      assert.equal(r.code, 125, r.stderr);
      assert.equal(
        r.stderr,
        "ww: --with-fd s=7: fd 7 is an O_PATH descriptor of a socket, which a program can only connect to, and the native jail without a network of its own lets it make no socket; let ww connect it (--connect s=unix:PATH), use --jail=bwrap, or allow the host's network with --net\n",
      );
    }
    const net = await run(["--jail=native", "--net"]);
    assert.equal(net.code, 0, net.stderr);
    assert.equal(net.stdout.trim(), "ok");
  });
});

// The reverse way out: a host unix socket with no address, a granted one or the program's fd 3
// (ww's socketpair for the host capability), was bound to an abstract name of the program's
// choosing, in the host's network namespace (a service's, before it starts), and served host
// clients there. Without --net ww gives each a kernel-picked name first (autobind).
Deno.test("neither fd 3 nor a granted unix socket claims an abstract name of the host without --net", async () => {
  const claim = async (flags: string[], fd: string) => {
    const name = `wwtest-${crypto.randomUUID()}`;
    const r = await runWw(
      [
        "run",
        ...flags,
        "--ro-bind",
        probe,
        "--with-fd",
        "s=7",
        probe,
        fd,
        `bind-abstract:${name}`,
      ],
      { ww: [grantExec, "unix-stream", "7", ...wwCommand()] },
    );
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  for (const fd of ["3", "4"]) {
    assert.equal(await claim(["--jail=bwrap"], fd), "EINVAL", `fd ${fd}`);
    assert.equal(await claim(["--jail=native"], fd), "EINVAL", `fd ${fd}`);
    // With --net the program shares the host's network and may name its own sockets there anyway.
    assert.equal(await claim(["--jail=bwrap", "--net"], fd), "ok", `fd ${fd}`);
  }
});

Deno.test(`--jail=native: a granted directory's files can be read, not written, and its ".." leads nowhere`, async () => {
  const jail = "native";
  const grant = ["--with-fd", "d=7"];
  const fds = { 7: { read: `${dir}/a/b` } };
  assert.equal(await probeFd(jail, grant, "up", fds), "EACCES");
  assert.equal(await probeFd(jail, grant, "beneath", fds), "ok");
  assert.equal(await probeFd(jail, grant, "create", fds), "EACCES");
});

for (const jail of ["bwrap", "native"]) {
  Deno.test(`--jail=${jail}: a read-only grant opens again for reading, never for writing`, async () => {
    const file = worldWritable(`ro-${jail}`, "keep\n");
    const grant = ["--open", `f=${file}:r`];
    assert.equal(await probeFd(jail, grant, "reopen-w"), "EACCES");
    assert.equal(await probeFd(jail, grant, "reopen-r"), "ok");
    assert.equal(Deno.readTextFileSync(file), "keep\n");
  });

  // An O_PATH descriptor's access mode reads as O_RDONLY's 0: the stage gave it the read right, and
  // the program read a file in a directory it could not enter.
  Deno.test(`--jail=${jail}: an O_PATH grant opens again for nothing`, async () => {
    const hidden = `${dir}/hidden-${jail}`;
    Deno.mkdirSync(hidden, { mode: 0o700 });
    const file = worldWritable(`hidden-${jail}/secret`, "secret\n");
    const r = await runWw(
      ["run", `--jail=${jail}`, "--ro-bind", probe, "--with-fd", "p=7", probe, "4", "reopen-r"],
      { ww: [grantExec, "opath", "7", file, ...wwCommand()] },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "EACCES");
  });

  Deno.test(`--jail=${jail}: an append-only grant cannot be opened again to overwrite the file`, async () => {
    const file = worldWritable(`log-${jail}`, "line 1\n");
    assert.equal(await probeFd(jail, ["--open", `f=${file}:a`], "reopen-t"), "EACCES");
    assert.equal(Deno.readTextFileSync(file), "line 1\n");
  });

  // ww's stdout appending to a file (`>> log`): a script's `echo x > /dev/stdout` works in the
  // jail as without one (it truncates the file there too).
  Deno.test(`--jail=${jail}: stdout appending to a file opens again as /dev/stdout`, async () => {
    const file = worldWritable(`stdout-${jail}`, "before\n");
    const r = await runWw(["run", `--jail=${jail}`, "/bin/sh", "-c", "echo x > /dev/stdout"], {
      fds: { 1: { append: file } },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Deno.readTextFileSync(file), "x\n");
  });

  Deno.test(`--jail=${jail}: a read-write grant opens again for writing, and stdin from a file as /dev/stdin`, async () => {
    const file = worldWritable(`rw-${jail}`, "x\n");
    assert.equal(await probeFd(jail, ["--open", `f=${file}:rw`], "reopen-w"), "ok");
    const r = await runWw(["run", `--jail=${jail}`, "/bin/cat", "/dev/stdin"], {
      fds: { 0: { read: file } },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "x\n");
  });
}

// Under bwrap the stage is the jail's pid 1, of the program's own uid, and holds a copy of the pipe
// ww reads the program's exit status from: made not dumpable before it forks the program
// (stage/stage.c exec_mode), /proc/1/fd is not the program's to open, even as its first act.
Deno.test("--jail=bwrap: the program cannot open the descriptors of the jail's pid 1 (its pipe to ww)", async () => {
  const r = await runWw([
    "run",
    "--jail=bwrap",
    "/bin/sh",
    "-c",
    'ls /proc/1/fd >/dev/null 2>&1 && echo listed; for n in 0 1 2 3 4 5 6 7 8 9; do (echo forged >> /proc/1/fd/$n) 2>/dev/null && echo "opened $n"; done; echo done',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "done\n");
});
