// The bwrap jail's exec step: its machine code is its assembly source, and it runs a program from
// a descriptor (without leaving the descriptor open in the program) or a path, with the given
// argv[0], arguments and environment.

import assert from "node:assert/strict";
import { join } from "node:path";
import { fdNumbers, parseReport } from "../tests/support/report.ts";
import { reportFds } from "../tests/support/children.ts";
import { elfExecutable, EXEC_FD_X86_64, execFdExecutable } from "./exec_fd.ts";

const dir = Deno.makeTempDirSync({ prefix: "wwtest-exec-fd-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

/** `bash -c script` with the exec step at $EXEC, its output and exit code. */
async function run(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const exec = join(dir, "exec-fd");
  Deno.writeFileSync(exec, execFdExecutable(Deno.build.arch)!, { mode: 0o755 });
  const r = await new Deno.Command("/bin/bash", {
    args: ["-c", script],
    env: { EXEC: exec, ONLY: "this" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: r.code, stdout: text(r.stdout), stderr: text(r.stderr) };
}

Deno.test("the x86_64 machine code is jail/exec_fd_x86_64.s, assembled", async () => {
  const source = new URL("./exec_fd_x86_64.s", import.meta.url).pathname;
  const object = join(dir, "exec_fd.o");
  const text = join(dir, "exec_fd.bin");
  for (
    const [cmd, ...args] of [
      ["as", "--64", "-o", object, source],
      ["objcopy", "-O", "binary", "-j", ".text", object, text],
    ]
  ) {
    const r = await new Deno.Command(cmd, { args, stderr: "piped" }).output();
    assert.ok(
      r.success,
      `${cmd} (binutils, needed by this test): ${new TextDecoder().decode(r.stderr)}`,
    );
  }
  const hex = [...Deno.readFileSync(text)].map((b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(EXEC_FD_X86_64, hex);
});

Deno.test("the ELF file maps itself once, read and execute, and starts right after its headers", () => {
  const elf = elfExecutable(62, new Uint8Array([0xcc, 0xcc]));
  const v = new DataView(elf.buffer);
  assert.deepEqual([...elf.subarray(0, 7)], [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  assert.equal(v.getUint16(16, true), 2); // ET_EXEC
  assert.equal(v.getUint16(18, true), 62);
  assert.equal(v.getUint16(56, true), 1); // one program header
  const vaddr = v.getBigUint64(64 + 16, true);
  assert.equal(v.getUint32(64, true), 1); // PT_LOAD
  assert.equal(v.getUint32(64 + 4, true), 5); // R | X
  assert.equal(v.getBigUint64(64 + 8, true), 0n); // from the file's start
  assert.equal(v.getBigUint64(64 + 32, true), BigInt(elf.length));
  assert.equal(v.getBigUint64(24, true), vaddr + 120n); // entry: the code
  assert.deepEqual([...elf.subarray(120)], [0xcc, 0xcc]);
});

Deno.test("only x86_64 has an exec step (elsewhere the launcher copies the program in)", () => {
  assert.ok(execFdExecutable("x86_64"));
  assert.equal(execFdExecutable("aarch64"), undefined);
});

if (Deno.build.arch === "x86_64") {
  Deno.test("it runs the program behind the descriptor as argv0, with the arguments and environment, and the program does not hold the descriptor", async () => {
    const reporter = await reportFds();
    const r = await run(`exec 9<'${reporter}'; exec "$EXEC" 9 named-so`);
    assert.equal(r.code, 0, r.stderr);
    const report = parseReport(r.stdout);
    // Not 9. (Other descriptors may come and go: tests in this process run in parallel, and
    // some hold inheritable ones.)
    assert.deepEqual(fdNumbers(report).slice(0, 3), [0, 1, 2]);
    assert.ok(!fdNumbers(report).includes(9), `fd 9 is open: ${fdNumbers(report)}`);
    assert.equal(report.env.ONLY, "this");
    const argv = await run(`exec 5</bin/echo; exec "$EXEC" 5 echo a 'b c'`);
    assert.equal(argv.stdout, "a b c\n");
    const argv0 = await run(`exec 5</bin/bash; exec "$EXEC" 5 -named -c 'echo "$0"'`);
    assert.equal(argv0.stdout, "-named\n");
  });

  Deno.test("given a path, it executes that as argv0, with the arguments and environment", async () => {
    const r = await run(
      `exec "$EXEC" /bin/bash named -c 'head -c5 /proc/$$/cmdline; echo " $0 $1 $ONLY"' zero 'b c'`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "named zero b c this\n");
    const missing = await run(`exec "$EXEC" /nonexistent name`);
    assert.equal(missing.code, 126);
    assert.equal(missing.stderr, "ww: the jail cannot execute the program\n");
  });

  Deno.test("a descriptor it cannot execute: one line on stderr, exit 126", async () => {
    const r = await run(`exec 5</etc/hostname; exec "$EXEC" 5 name`);
    assert.equal(r.code, 126);
    assert.equal(r.stderr, "ww: the jail cannot execute the program\n");
    const closed = await run(`exec "$EXEC" 5 name`);
    assert.equal(closed.code, 126);
  });
}
