// ipfs/executable.ts — whether a file's first bytes make it a program this machine can execute:
// an ELF executable for this architecture, or a #! script. Pure. A program fetched from IPFS has
// no mode bits to go by, and a clear reason beats the kernel's ENOEXEC.

/** The ELF e_machine values of the architectures Deno runs on, and a few others for messages. */
const MACHINES: Record<number, string> = {
  3: "x86 (32-bit)",
  8: "mips",
  20: "powerpc",
  21: "powerpc64",
  40: "arm (32-bit)",
  62: "x86_64",
  183: "aarch64",
  243: "riscv",
};
const NATIVE: Record<string, number> = { x86_64: 62, aarch64: 183 };
/** The machines a 64-bit kernel may also run (its 32-bit compat mode): x86 on x86_64, arm on aarch64. */
const COMPAT: Record<string, number> = { x86_64: 3, aarch64: 40 };

/** The fix for a file that is not the program meant: the path named another file. */
const CHECK_PATH = "check that the path names the program";

/** How many leading bytes `executableProblem` looks at. */
export const HEADER_BYTES = 64;

/**
 * Why a file starting with `head` (its first HEADER_BYTES, or all of a shorter file) cannot be
 * executed on `arch`, or undefined when it can.
 *
 * @example
 * executableProblem(new TextEncoder().encode("#!/bin/sh\necho hi\n")); // undefined
 * executableProblem(new TextEncoder().encode("hello")); // "is not a program: ..."
 */
export function executableProblem(
  head: Uint8Array,
  arch: string = Deno.build.arch,
): string | undefined {
  if (head.length === 0) return `is an empty file, not a program; ${CHECK_PATH}`;
  if (head[0] === 0x23 && head[1] === 0x21) return undefined; // "#!"
  if (!(head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46)) {
    return `is not a program: it has neither an ELF header nor a #! line; ${CHECK_PATH}, or give a script a #! line (e.g. #!/bin/sh)`;
  }
  const elf = elfFields(head);
  if (elf === undefined) return `is a truncated ELF file; ${CHECK_PATH}`;
  const { type, machine, bits, little } = elf;
  if (type !== 2 && type !== 3) {
    const kind = type === 1 ? "relocatable object" : type === 4 ? "core dump" : `type ${type}`;
    return `is an ELF ${kind}, not a program; ${CHECK_PATH}`;
  }
  if (machine !== NATIVE[arch] || bits !== 64 || !little) {
    return `is an ELF program for ${machineName(machine)}${
      machine === NATIVE[arch] ? ` (${bits}-bit, ${little ? "little" : "big"}-endian)` : ""
    }, but this machine is ${arch}; use a build for ${arch}`;
  }
  return undefined;
}

/**
 * Why an ELF file starting with `head` is for another architecture than `arch`'s (not its own
 * machine, nor the 32-bit one its kernel may also run), or undefined: what only binfmt_misc could
 * run (qemu-user). Its class and type are left to execve, and so is a header of no byte order.
 *
 * @example
 * foreignMachine(aarch64Head, "x86_64"); // "is an ELF program for aarch64, but this machine is x86_64"
 */
export function foreignMachine(
  head: Uint8Array,
  arch: string = Deno.build.arch,
): string | undefined {
  const elf = elfFields(head);
  if (elf === undefined || (head[5] !== 1 && head[5] !== 2)) return undefined;
  if (elf.machine === NATIVE[arch] || elf.machine === COMPAT[arch]) return undefined;
  return `is an ELF program for ${
    machineName(elf.machine)
  }, but this machine is ${arch}; use a build for ${arch}, or register a binfmt_misc handler for it (qemu-user)`;
}

/** An ELF e_machine's name for messages: "aarch64", or "machine 75". */
function machineName(machine: number): string {
  return MACHINES[machine] ?? `machine ${machine}`;
}

/**
 * The fields of an ELF header that tell whether it runs here: its class (32 or 64 bits), byte
 * order (EI_DATA 1 is little-endian), type and machine; undefined when `head` is no ELF header,
 * or too short to hold them.
 */
function elfFields(head: Uint8Array) {
  if (head.length < 20 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c) {
    return undefined;
  }
  const little = head[5] === 1;
  const u16 = (at: number) =>
    little ? head[at] | (head[at + 1] << 8) : (head[at] << 8) | head[at + 1];
  return { bits: head[4] === 2 ? 64 : 32, little, type: u16(16), machine: u16(18) };
}
