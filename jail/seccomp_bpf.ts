/**
 * Classic BPF for seccomp: the opcode numbers, a small label assembler, and the byte layout that
 * the kernel and `bwrap --seccomp FD` read. This file knows nothing about policy (that is
 * `seccomp.ts`) and imports nothing: it is pure and only turns instruction lists into bytes.
 *
 * @module
 */

// Opcode fields, from linux/bpf_common.h (class, size, mode, op, source).
/** Instruction class: load into the accumulator A. */
export const BPF_LD = 0x00;
/** Instruction class: arithmetic on A. */
export const BPF_ALU = 0x04;
/** Instruction class: jumps. */
export const BPF_JMP = 0x05;
/** Instruction class: return a verdict. */
export const BPF_RET = 0x06;
/** Load size: 32-bit word. */
export const BPF_W = 0x00;
/** Load mode: absolute offset into the input (here `struct seccomp_data`). */
export const BPF_ABS = 0x20;
/** Operand source: the constant `k`. */
export const BPF_K = 0x00;
/** ALU op: A &= k. */
export const BPF_AND = 0x50;
/** Jump op: unconditional, by the 32-bit `k`. */
export const BPF_JA = 0x00;
/** Jump op: A == k. */
export const BPF_JEQ = 0x10;
/** Jump op: A > k (unsigned). */
export const BPF_JGT = 0x20;
/** Jump op: A >= k (unsigned). */
export const BPF_JGE = 0x30;
/** Jump op: (A & k) != 0. */
export const BPF_JSET = 0x40;

/** The kernel refuses longer programs (linux/bpf_common.h `BPF_MAXINSNS`). */
export const BPF_MAXINSNS = 4096;

/** One `struct sock_filter` from linux/filter.h: `{ __u16 code; __u8 jt; __u8 jf; __u32 k; }`. */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** Jump target meaning "the next instruction", so straight-line code needs no label. */
export const NEXT = "@next";

/**
 * Assembler input. Jump targets are label names or {@linkcode NEXT}; a `label` entry names the
 * instruction after it. Classic BPF only jumps forward, so every target must come later.
 */
export type AsmInsn =
  | { op: "label"; name: string }
  | { op: "ld"; offset: number }
  | { op: "and"; k: number }
  | { op: "jeq" | "jgt" | "jge" | "jset"; k: number; jt: string; jf: string }
  | { op: "ja"; to: string }
  | { op: "ret"; k: number };

const CONDITIONAL_OPS = {
  jeq: BPF_JEQ,
  jgt: BPF_JGT,
  jge: BPF_JGE,
  jset: BPF_JSET,
} as const;

// A placed instruction; jump targets point at other nodes so that inserting trampolines never
// invalidates them.
interface Node {
  insn: Exclude<AsmInsn, { op: "label" }>;
  jt?: Node;
  jf?: Node;
  to?: Node;
  trampoline?: true;
}

/**
 * Resolves labels into a `struct sock_filter` list. The `jt`/`jf` offsets of a conditional jump
 * are only 8 bits wide (linux/filter.h), so a branch more than 255 instructions away is routed
 * through an inserted `ja` trampoline, whose offset is a full 32-bit `k`.
 *
 * Throws on an unknown or duplicate label, a backward jump, a constant outside u32, or a
 * program longer than {@linkcode BPF_MAXINSNS}.
 *
 * @example
 * ```ts
 * import { assemble, NEXT } from "./seccomp_bpf.ts";
 * const prog = assemble([
 *   { op: "ld", offset: 0 },
 *   { op: "jeq", k: 39, jt: "deny", jf: NEXT },
 *   { op: "ret", k: 0x7fff0000 },
 *   { op: "label", name: "deny" },
 *   { op: "ret", k: 0x00050001 },
 * ]);
 * console.log(prog[1]); // { code: 0x15, jt: 1, jf: 0, k: 39 }
 * ```
 */
export function assemble(program: readonly AsmInsn[]): SockFilter[] {
  const nodes: Node[] = [];
  const labels = new Map<string, number>();
  for (const insn of program) {
    if (insn.op === "label") {
      if (insn.name === NEXT || labels.has(insn.name)) {
        throw new Error(`seccomp assembler: label "${insn.name}" is reserved or defined twice`);
      }
      labels.set(insn.name, nodes.length);
    } else {
      if ("k" in insn) checkU32(insn.k);
      if (insn.op === "ld") checkU32(insn.offset);
      nodes.push({ insn });
    }
  }

  const resolve = (from: number, target: string): Node => {
    const index = target === NEXT ? from + 1 : labels.get(target);
    if (index === undefined) throw new Error(`seccomp assembler: unknown label "${target}"`);
    // Classic BPF has no backward jumps (that is what guarantees termination), and a label at
    // the very end names no instruction.
    if (index <= from || index >= nodes.length) {
      throw new Error(`seccomp assembler: jump from ${from} to "${target}" is not forward`);
    }
    return nodes[index];
  };
  nodes.forEach((node, i) => {
    const insn = node.insn;
    if (insn.op === "ja") node.to = resolve(i, insn.to);
    if (insn.op in CONDITIONAL_OPS && "jt" in insn) {
      node.jt = resolve(i, insn.jt);
      node.jf = resolve(i, insn.jf);
    }
  });
  const last = nodes.at(-1);
  if (last === undefined || last.insn.op !== "ret") {
    // The kernel's bpf_check_classic() rejects a program that can run off its end.
    throw new Error("seccomp assembler: the program must end with ret");
  }

  const placed = insertTrampolines(nodes);
  if (placed.length > BPF_MAXINSNS) {
    throw new Error(
      `seccomp assembler: ${placed.length} instructions exceed BPF_MAXINSNS (${BPF_MAXINSNS})`,
    );
  }
  const position = new Map(placed.map((node, i) => [node, i]));
  const offset = (from: number, to: Node) => position.get(to)! - from - 1;
  return placed.map((node, i): SockFilter => {
    const insn = node.insn;
    switch (insn.op) {
      case "ld":
        return { code: BPF_LD | BPF_W | BPF_ABS, jt: 0, jf: 0, k: insn.offset };
      case "and":
        return { code: BPF_ALU | BPF_AND | BPF_K, jt: 0, jf: 0, k: insn.k };
      case "ja":
        return { code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: offset(i, node.to!) };
      case "ret":
        return { code: BPF_RET | BPF_K, jt: 0, jf: 0, k: insn.k };
      default:
        return {
          code: BPF_JMP | CONDITIONAL_OPS[insn.op] | BPF_K,
          jt: offset(i, node.jt!),
          jf: offset(i, node.jf!),
          k: insn.k,
        };
    }
  });
}

// Repeats until every conditional branch fits in 8 bits. Each insertion can push other branches
// that span it out of range, hence the loop; it ends because every branch is redirected at most
// once, to a trampoline placed right after its own jump (offset 0 or 1).
function insertTrampolines(nodes: readonly Node[]): Node[] {
  const placed = [...nodes];
  for (;;) {
    const position = new Map(placed.map((node, i) => [node, i]));
    const far = placed.findIndex((node, i) =>
      [node.jt, node.jf].some((t) => t !== undefined && position.get(t)! - i - 1 > 0xff)
    );
    if (far < 0) return placed;
    const node = placed[far];
    const branch = position.get(node.jt!)! - far - 1 > 0xff ? "jt" : "jf";
    const target = node[branch]!;
    const trampoline: Node = { insn: { op: "ja", to: NEXT }, to: target, trampoline: true };
    // Safe to insert here: a conditional jump never falls through, and earlier trampolines
    // directly after it are unconditional too.
    let at = far + 1;
    while (placed[at].trampoline) at++;
    placed.splice(at, 0, trampoline);
    node[branch] = trampoline;
  }
}

function checkU32(value: number) {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new Error(`seccomp assembler: ${value} does not fit in an unsigned 32-bit field`);
  }
}

/**
 * Serialises instructions as the kernel's `struct sock_filter` array: 8 bytes each, fields in
 * host byte order. Both supported arches (x86_64, little-endian aarch64) are little-endian.
 *
 * @example
 * ```ts
 * import { encode } from "./seccomp_bpf.ts";
 * encode([{ code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 }]); // 06 00 00 00 00 00 ff 7f
 * ```
 */
export function encode(program: readonly SockFilter[]): Uint8Array {
  const bytes = new Uint8Array(program.length * 8);
  const view = new DataView(bytes.buffer);
  program.forEach((insn, i) => {
    view.setUint16(i * 8, insn.code, true);
    view.setUint8(i * 8 + 2, insn.jt);
    view.setUint8(i * 8 + 3, insn.jf);
    view.setUint32(i * 8 + 4, insn.k, true);
  });
  return bytes;
}

/**
 * The inverse of {@linkcode encode}; throws if the length is not a multiple of 8.
 *
 * @example
 * ```ts
 * import { decode, encode } from "./seccomp_bpf.ts";
 * decode(encode([{ code: 0x06, jt: 0, jf: 0, k: 0 }])); // [{ code: 6, jt: 0, jf: 0, k: 0 }]
 * ```
 */
export function decode(bytes: Uint8Array): SockFilter[] {
  if (bytes.length % 8 !== 0) {
    throw new Error(`seccomp program is ${bytes.length} bytes, not a multiple of 8`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 8 }, (_, i) => ({
    code: view.getUint16(i * 8, true),
    jt: view.getUint8(i * 8 + 2),
    jf: view.getUint8(i * 8 + 3),
    k: view.getUint32(i * 8 + 4, true),
  }));
}
