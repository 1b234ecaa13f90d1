import assert from "node:assert/strict";
import { closeFd, writeAll } from "./fd.ts";
import { SyscallError } from "./libc.ts";
import {
  ALL_SEALS,
  copyRange,
  createExclusive,
  createMemfd,
  memfdSeals,
  readAt,
  readFileHead,
  reopenReadOnly,
  sealMemfd,
} from "./memfd.ts";
import { fileSize } from "./stat.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("a sealed memfd refuses every write and can no longer be unsealed", () => {
  const fd = createMemfd("sealed");
  try {
    writeAll(fd, text("verified"));
    sealMemfd(fd);
    assert.equal(memfdSeals(fd) & ALL_SEALS, ALL_SEALS);
    assert.throws(
      () => writeAll(fd, text("x")),
      (e) => e instanceof SyscallError && e.code === "EPERM",
    );
    assert.throws(() => sealMemfd(fd), (e) => e instanceof SyscallError && e.code === "EPERM");
    // A new open of the same file (as /proc/self/fd gives) is read-only to writers too.
    assert.throws(() => Deno.writeFileSync(`/proc/self/fd/${fd}`, text("swap")));
    const buf = new Uint8Array(8);
    readAt(fd, buf, 0);
    assert.equal(new TextDecoder().decode(buf), "verified");
  } finally {
    closeFd(fd);
  }
});

Deno.test("a memfd is close-on-exec and named after the program", () => {
  const fd = createMemfd("app");
  try {
    assert.equal(Deno.readLinkSync(`/proc/self/fd/${fd}`), "/memfd:app (deleted)");
    const flags = Deno.readTextFileSync(`/proc/self/fdinfo/${fd}`).match(/flags:\s+(\d+)/)![1];
    assert.ok(parseInt(flags, 8) & 0o2000000);
  } finally {
    closeFd(fd);
  }
});

Deno.test("copyRange copies inside the kernel, also from a file onto its own end", async () => {
  const fd = createMemfd("copy");
  try {
    writeAll(fd, text("abcdef"));
    await copyRange(fd, fd, 1, 3);
    assert.equal(fileSize(fd), 9);
    const reader = reopenReadOnly(fd);
    try {
      const buf = new Uint8Array(9);
      readAt(reader, buf, 0);
      assert.equal(new TextDecoder().decode(buf), "abcdefbcd");
    } finally {
      closeFd(reader);
    }
  } finally {
    closeFd(fd);
  }
});

Deno.test("a sealed memfd holding a program can be executed through /proc", async () => {
  const fd = createMemfd("script");
  try {
    writeAll(fd, text('#!/bin/sh\necho from memfd "$1"\n'));
    sealMemfd(fd);
    const out = await new Deno.Command(`/proc/${Deno.pid}/fd/${fd}`, { args: ["ok"] }).output();
    assert.equal(new TextDecoder().decode(out.stdout), "from memfd ok\n");
  } finally {
    closeFd(fd);
  }
});

Deno.test("copyRange copies a memfd range onto the end of a disk file, on a worker thread", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wwtest-memfd-" });
  const fd = createMemfd("append");
  const out = createExclusive(`${dir}/out`, 0o644);
  try {
    writeAll(fd, text("0123456789"));
    await copyRange(fd, out, 0, 4);
    await copyRange(fd, out, 4, 6);
    assert.equal(Deno.readTextFileSync(`${dir}/out`), "0123456789");
    // Past the end of the source: the copy comes up short.
    await assert.rejects(
      copyRange(fd, out, 8, 5),
      (e) => e instanceof SyscallError && e.syscall === "sendfile",
    );
    // A descriptor that is not open: the errno is learnt on the main thread.
    await assert.rejects(
      copyRange(fd, 9999, 0, 1),
      (e) => e instanceof SyscallError && e.code === "EBADF",
    );
  } finally {
    closeFd(out);
    closeFd(fd);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readFileHead reads at most max bytes from the start, and undefined when it cannot open", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/f`;
    Deno.writeTextFileSync(path, "#!/bin/sh\necho hi\n");
    assert.equal(new TextDecoder().decode(readFileHead(path, 9)), "#!/bin/sh");
    assert.equal(new TextDecoder().decode(readFileHead(path, 100)), "#!/bin/sh\necho hi\n");
    Deno.writeTextFileSync(`${dir}/empty`, "");
    assert.equal(readFileHead(`${dir}/empty`, 10)?.length, 0);
    assert.equal(readFileHead(`${dir}/missing`, 10), undefined);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

// A FIFO in a script's interpreter's place (swapped in by a jailed program after ww checked the
// path) held ww's main thread in open(2) for good: the open must not wait, and only a regular
// file is read. Run in a process of its own, which a blocking open would hang past its timeout.
Deno.test("readFileHead neither waits on nor reads a FIFO or a device: undefined at once", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const fifo = `${dir}/fifo`;
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.equal(made.code, 0);
    const probe = `
      import { readFileHead } from "${new URL("./memfd.ts", import.meta.url)}";
      console.log(JSON.stringify([readFileHead(${JSON.stringify(fifo)}, 8) ?? null,
        readFileHead("/dev/zero", 8) ?? null]));`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", probe],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(20_000),
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal(new TextDecoder().decode(out.stdout).trim(), "[null,null]");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
