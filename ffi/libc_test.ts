import assert from "node:assert/strict";
import { cString, lastErrno, libc, libcFiles, NO_ARG, openLibrary } from "./libc.ts";

const EBADF = 9;
const ENOENT = 2;

Deno.test("a call through each kind of first parameter reaches libc, and errno with it", () => {
  // i32 first; __errno_location, which takes none, behind errno's copy.
  assert.equal(libc().close(-1), -1);
  assert.equal(lastErrno(), EBADF);
  // A buffer first.
  assert.equal(libc().open(cString("/nonexistent/ww"), 0, 0), -1);
  assert.equal(lastErrno(), ENOENT);
  const fd = libc().open(cString("/dev/null"), 0, 0);
  assert.ok(fd >= 0);
  assert.equal(libc().close(fd), 0);
  // A buffer first.
  assert.equal(libcFiles().access(cString("/"), 0), 0);
  assert.equal(libcFiles().access(cString("/nonexistent/ww"), 0), -1);
  assert.equal(lastErrno(), ENOENT);
  // An i64 first (syscall(2)'s number): openat2 of a missing file.
  const how = new BigUint64Array(3);
  const SYS_OPENAT2 = 437n; // x86_64 and aarch64 alike
  assert.equal(
    libc().syscall_openat2(SYS_OPENAT2, -100, cString("/nonexistent/ww"), how, 24n),
    -1,
  );
  assert.equal(lastErrno(), ENOENT);
});

Deno.test("a buffer first parameter takes null as NULL and a view from its byteOffset, as dlopen's does", () => {
  // time(2) stores through its pointer only when it is not NULL; strlen reads from the view's start.
  // Their results are declared i32 (see the next test): time's is its low half, compared as such.
  const { time, strlen } = openLibrary({
    time: { parameters: ["buffer", NO_ARG], result: "i32" },
    strlen: { parameters: ["buffer", NO_ARG], result: "i32" },
  });
  const now = Math.floor(Date.now() / 1000);
  const got = time(null);
  assert.ok(Math.abs((got - now) | 0) <= 5, `time(NULL) ${got}, now ${now}`);
  assert.equal(strlen(cString("abcdef").subarray(2)), 4);
});

Deno.test("a synchronous symbol cannot return a 64-bit integer or a u32, whose heap value could change errno before it is kept", () => {
  for (const result of ["i64", "u64", "isize", "usize", "u32"] as const) {
    assert.throws(
      () => openLibrary({ getpid: { parameters: [NO_ARG], result } }),
      new TypeError(
        `openLibrary: a synchronous symbol returns "${result}", after which errno is not kept (see SYNCHRONOUS_RESULTS)`,
      ),
    );
  }
  // On a worker thread, errno is not read anyway: a nonblocking symbol may.
  openLibrary({ getpid: { parameters: [], result: "i64", nonblocking: true } });
});

Deno.test("lastErrno is the errno of ww's last call, whatever the runtime did on the thread since", () => {
  // This thread's errno itself, beside ww's copy of it.
  const raw = Deno.dlopen("libc.so.6", { __errno_location: { parameters: [], result: "pointer" } });
  try {
    const errno = new Int32Array(
      Deno.UnsafePointerView.getArrayBuffer(raw.symbols.__errno_location()!, 4),
    );
    assert.equal(libc().read(-1, new Uint8Array(1), 1n), -1);
    assert.equal(lastErrno(), EBADF);
    // Deno's own statx of a missing file, on this thread, as a module being loaded does.
    assert.throws(() => Deno.statSync("/nonexistent/ww"), Deno.errors.NotFound);
    assert.equal(errno[0], ENOENT);
    assert.equal(lastErrno(), EBADF);
  } finally {
    raw.close();
  }
});

Deno.test("no library ww opens gets a fast-call trampoline per symbol (5-6 ms a run for libc's)", async () => {
  // Deno compiles a trampoline per symbol it can fast-call, each in a small mapping of its own
  // made executable (mprotect PROT_READ|PROT_EXEC, its length the code's, well under a page);
  // V8's own code pages are whole pages.
  const dir = await Deno.makeTempDir({ prefix: "wwtest-libc-" });
  try {
    const script = `${dir}/open_all.js`;
    await Deno.writeTextFile(
      script,
      `const at = (m) => ${JSON.stringify(new URL("./", import.meta.url).href)} + m;
const c = await import(at("libc.ts"));
c.libc(); c.libcFiles(); c.libcJail();
// The other libraries ww opens: a terminal's, a pty's, its own grants' sockets, libcrypto.
const tty = await import(at("tty.ts"));
tty.isTerminal(0);
const pty = await import(at("pty.ts"));
const pair = pty.openPty();
c.libc().close(pair.master); c.libc().close(pair.slave);
const actions = new BigUint64Array(16);
c.libc().posix_spawn_file_actions_init(actions);
tty.addOpenAction(actions, 0, c.cString("/dev/null"));
const socket = await import(at("socket.ts"));
socket.listenSocket(socket.unixSockaddr(${JSON.stringify(`${dir}/sock`)}), false);
const sha = await import(at("sha.ts"));
if (sha.shaDigest("SHA-256", new Uint8Array(3)) === undefined) throw new Error("no libcrypto");
`,
    );
    const log = `${dir}/strace`;
    const out = await new Deno.Command("strace", {
      args: ["-f", "-qq", "-e", "trace=mprotect", "-o", log, Deno.execPath(), "run", "-A", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const trampolines = (await Deno.readTextFile(log)).split("\n").filter((line) => {
      const m = /mprotect\(0x[0-9a-f]+, (\d+), PROT_READ\|PROT_EXEC\) = 0/.exec(line);
      return m !== null && Number(m[1]) < 4096;
    });
    assert.deepEqual(trampolines, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("calls with fresh buffers leave V8's young generation nothing to keep: it does not grow", async () => {
  // A fresh buffer whose address was taken (Deno.UnsafePointer.of) survives the next scavenge, and
  // V8 grows its young generation with what survives (issue 16): these calls took it from 0.75 to
  // 64 MiB when a buffer first was passed by its address and each string of an array had its own;
  // now it stays at ~2 MiB. In a process of its own: the young generation is the whole process's.
  // (No String(i) here: V8's number-string cache keeps each string it makes.)
  const script = `import { getHeapSpaceStatistics } from "node:v8";
const c = await import(${JSON.stringify(new URL("./libc.ts", import.meta.url).href)});
for (let i = 0; i < 100000; i++) {
  c.libc().sigemptyset(new Uint8Array(128)); // a buffer first
  c.libc().posix_spawn_file_actions_init(new Uint8Array(512)); // a buffer alone
  c.cStringArrays([["ww-stage", "launch", "3", "4"], ["WW=1"]]);
}
const young = getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;
console.log(young / 2 ** 20);
`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=js", script],
    stdin: "null",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const youngMiB = Number(new TextDecoder().decode(out.stdout).trim());
  assert.ok(youngMiB <= 4, `young generation ${youngMiB} MiB`);
});
