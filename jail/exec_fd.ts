// jail/exec_fd.ts — the bwrap jail's exec step for a program from IPFS: a tiny static executable
// that bwrap places in the jail (EXEC_FD_PATH) and runs as `exec-fd <fd|path> <argv0> [args...]`.
// Given a descriptor, it marks it close-on-exec and executes the program from it (execveat,
// AT_EMPTY_PATH), so the program runs from its sealed memfd (or a cached file) without bwrap
// copying it into the jail, and does not hold the descriptor; given a path, it executes that. In
// both cases the program gets its name as argv[0], which env(1), bwrap's last step, cannot set.
// bwrap 0.8 cannot run a descriptor itself: the kernel refuses to bind-mount a memfd, and bwrap
// resolves a bound descriptor back to its path, which the jail's user may not reach.
//
// The machine code is jail/exec_fd_x86_64.s, assembled (the test assembles the source and compares
// the bytes); this module wraps it in a minimal ELF file. Other architectures have none, and the
// launcher copies the program into the jail instead.

/** Where the jail shows the exec step. */
export const EXEC_FD_PATH = "/.ww-exec-fd";

/** The machine code of jail/exec_fd_x86_64.s (its .text section). */
export const EXEC_FD_X86_64 = "4889e3488b0b4c8d6ccb104c8d7318488b7310803e2f75124889f74c89f64c89" +
  "eab83b0000000f05eb4731ff0fb60685c0740d83e8306bff0a01c748ffc6ebec4189fcbe02000000ba01000000" +
  "b8480000000f054489e7488d35370000004c89f24d89ea41b800100000b8420100000f05bf02000000488d3519" +
  "000000ba28000000b8010000000f05bf7e000000b8e70000000f050077773a20746865206a61696c2063616e6e" +
  "6f742065786563757465207468652070726f6772616d0a";

const LOAD_ADDRESS = 0x400000n;
const ELF_HEADER_SIZE = 64;
const PROGRAM_HEADER_SIZE = 56;
const EM_X86_64 = 62;

/** The exec step as an ELF executable for `arch` (Deno.build.arch), or undefined when there is none. */
export function execFdExecutable(arch: string): Uint8Array | undefined {
  if (arch !== "x86_64") return undefined;
  return elfExecutable(EM_X86_64, hexBytes(EXEC_FD_X86_64));
}

/**
 * A static little-endian ELF64 executable: the header, one read-and-execute PT_LOAD segment that
 * maps the whole file at LOAD_ADDRESS, and `code` right after, where execution starts.
 */
export function elfExecutable(machine: number, code: Uint8Array): Uint8Array {
  const codeOffset = ELF_HEADER_SIZE + PROGRAM_HEADER_SIZE;
  const size = codeOffset + code.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]); // magic, ELFCLASS64, little-endian, version 1
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, machine, true);
  v.setUint32(20, 1, true); // EV_CURRENT
  v.setBigUint64(24, LOAD_ADDRESS + BigInt(codeOffset), true); // e_entry
  v.setBigUint64(32, BigInt(ELF_HEADER_SIZE), true); // e_phoff
  v.setUint16(52, ELF_HEADER_SIZE, true); // e_ehsize
  v.setUint16(54, PROGRAM_HEADER_SIZE, true); // e_phentsize
  v.setUint16(56, 1, true); // e_phnum
  const ph = ELF_HEADER_SIZE;
  v.setUint32(ph, 1, true); // PT_LOAD
  v.setUint32(ph + 4, 5, true); // PF_R | PF_X
  v.setBigUint64(ph + 16, LOAD_ADDRESS, true); // p_vaddr
  v.setBigUint64(ph + 24, LOAD_ADDRESS, true); // p_paddr
  v.setBigUint64(ph + 32, BigInt(size), true); // p_filesz
  v.setBigUint64(ph + 40, BigInt(size), true); // p_memsz
  v.setBigUint64(ph + 48, 0x1000n, true); // p_align
  out.set(code, codeOffset);
  return out;
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
}
