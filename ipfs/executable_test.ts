import assert from "node:assert/strict";
import { executableProblem, foreignMachine, HEADER_BYTES } from "./executable.ts";

function elf(
  opts: { bits?: 32 | 64; little?: boolean; type?: number; machine: number },
): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  h.set([0x7f, 0x45, 0x4c, 0x46, opts.bits === 32 ? 1 : 2, opts.little === false ? 2 : 1, 1]);
  const put16 = (at: number, v: number) => {
    if (opts.little === false) h.set([v >> 8, v & 0xff], at);
    else h.set([v & 0xff, v >> 8], at);
  };
  put16(16, opts.type ?? 2);
  put16(18, opts.machine);
  return h;
}

Deno.test("a native 64-bit ELF executable or shared object can run", () => {
  assert.equal(executableProblem(elf({ machine: 62 }), "x86_64"), undefined);
  assert.equal(executableProblem(elf({ machine: 62, type: 3 }), "x86_64"), undefined);
  assert.equal(executableProblem(elf({ machine: 183 }), "aarch64"), undefined);
});

Deno.test("an ELF for another architecture names both architectures", () => {
  assert.equal(
    executableProblem(elf({ machine: 183 }), "x86_64"),
    "is an ELF program for aarch64, but this machine is x86_64; use a build for x86_64",
  );
  assert.match(executableProblem(elf({ machine: 62, bits: 32 }), "x86_64")!, /32-bit/);
  assert.match(executableProblem(elf({ machine: 62, little: false }), "x86_64")!, /big-endian/);
});

Deno.test("ELF objects and core dumps are not programs", () => {
  assert.match(executableProblem(elf({ machine: 62, type: 1 }), "x86_64")!, /relocatable object/);
  assert.match(executableProblem(elf({ machine: 62, type: 4 }), "x86_64")!, /core dump/);
});

Deno.test("a #! script can run; text without #! and an empty file cannot", () => {
  const text = (s: string) => new TextEncoder().encode(s);
  assert.equal(executableProblem(text("#!/bin/sh\necho hi\n")), undefined);
  assert.match(executableProblem(text("echo hi\n"))!, /neither an ELF header nor a #! line/);
  assert.equal(
    executableProblem(new Uint8Array(0)),
    "is an empty file, not a program; check that the path names the program",
  );
  assert.match(executableProblem(text("\x7fELF\x02\x01"))!, /truncated/);
});

Deno.test("foreignMachine: another architecture is named; the machine's own and its 32-bit compat one are not", () => {
  assert.equal(
    foreignMachine(elf({ machine: 183 }), "x86_64"),
    "is an ELF program for aarch64, but this machine is x86_64; use a build for x86_64, or register a binfmt_misc handler for it (qemu-user)",
  );
  assert.equal(
    foreignMachine(elf({ machine: 62 }), "aarch64"),
    "is an ELF program for x86_64, but this machine is aarch64; use a build for aarch64, or register a binfmt_misc handler for it (qemu-user)",
  );
  assert.equal(foreignMachine(elf({ machine: 75, little: false }), "x86_64")?.includes("75"), true);
  // The kernel decides these: x86 and x32 on x86_64, arm on aarch64, an object file of its own.
  assert.equal(foreignMachine(elf({ machine: 62 }), "x86_64"), undefined);
  assert.equal(foreignMachine(elf({ machine: 3, bits: 32 }), "x86_64"), undefined);
  assert.equal(foreignMachine(elf({ machine: 62, bits: 32 }), "x86_64"), undefined);
  assert.equal(foreignMachine(elf({ machine: 40, bits: 32 }), "aarch64"), undefined);
  assert.equal(foreignMachine(elf({ machine: 183, type: 1 }), "aarch64"), undefined);
  assert.equal(foreignMachine(new TextEncoder().encode("#!/bin/sh\n"), "x86_64"), undefined);
  // No byte order (EI_DATA 0): no machine to name; the kernel refuses it.
  const noOrder = elf({ machine: 183 });
  noOrder[5] = 0;
  assert.equal(foreignMachine(noOrder, "x86_64"), undefined);
});
