import assert from "node:assert/strict";
import { cString, lastErrno, libc, libcFiles, ptr } from "./libc.ts";

const EBADF = 9;
const ENOENT = 2;

Deno.test("a call through each kind of first parameter reaches libc, and errno with it", () => {
  // i32 first; __errno_location, which takes none, behind lastErrno.
  assert.equal(libc().close(-1), -1);
  assert.equal(lastErrno(), EBADF);
  // A pointer first.
  assert.equal(libc().open(ptr(cString("/nonexistent/ww")), 0, 0), -1);
  assert.equal(lastErrno(), ENOENT);
  const fd = libc().open(ptr(cString("/dev/null")), 0, 0);
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
    Number(libcFiles().syscall_openat2(SYS_OPENAT2, -100, cString("/nonexistent/ww"), how, 24n)),
    -1,
  );
  assert.equal(lastErrno(), ENOENT);
});

Deno.test("libc's symbols are opened without a fast-call trampoline each (5-6 ms a run)", async () => {
  // Deno compiles a trampoline per symbol it can fast-call, each in a small mapping of its own
  // made executable (mprotect PROT_READ|PROT_EXEC, its length the code's, well under a page);
  // V8's own code pages are whole pages.
  const dir = await Deno.makeTempDir({ prefix: "wwtest-libc-" });
  try {
    const script = `${dir}/open_all.ts`;
    await Deno.writeTextFile(
      script,
      `import * as c from ${JSON.stringify(new URL("./libc.ts", import.meta.url).href)};
c.libc(); c.libcFiles(); c.libcJail(); c.libcProc(); c.libcStage();
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
