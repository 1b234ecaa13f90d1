/**
 * A model of the kernel side of seccomp, for tests: builds `struct seccomp_data` bytes, checks a
 * program the way the kernel does before accepting it, and runs it. Written from linux/filter.h,
 * linux/seccomp.h, kernel/seccomp.c (seccomp_check_filter) and net/core/filter.c
 * (bpf_check_classic), independently of the generator in `seccomp.ts`. Pure; no Deno APIs.
 *
 * @module
 */

import {
  BPF_ABS,
  BPF_ALU,
  BPF_AND,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_MAXINSNS,
  BPF_RET,
  BPF_W,
  type SockFilter,
} from "./seccomp_bpf.ts";

/** `sizeof(struct seccomp_data)`: int nr, u32 arch, u64 instruction_pointer, u64 args[6]. */
export const SECCOMP_DATA_SIZE = 64;

/** The fields of `struct seccomp_data` (linux/seccomp.h); arguments are full 64-bit values. */
export interface SeccompDataModel {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  args?: readonly bigint[];
}

/**
 * Lays out `struct seccomp_data` little-endian: nr at 0, arch at 4, instruction_pointer at 8,
 * args[i] at 16 + 8*i, so its low word is at 16 + 8*i and its high word at 20 + 8*i.
 */
export function seccompData(data: SeccompDataModel): Uint8Array {
  const bytes = new Uint8Array(SECCOMP_DATA_SIZE);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, data.nr | 0, true);
  view.setUint32(4, data.arch >>> 0, true);
  view.setBigUint64(8, BigInt.asUintN(64, data.instructionPointer ?? 0n), true);
  (data.args ?? []).forEach((arg, i) => {
    if (i >= 6) throw new Error("seccomp_data has six arguments");
    view.setBigUint64(16 + 8 * i, BigInt.asUintN(64, arg), true);
  });
  return bytes;
}

/**
 * Returns why the kernel would refuse this program, or `undefined` if it would accept it. Only
 * the opcodes seccomp_check_filter() allows and that this model runs are accepted: 32-bit
 * absolute loads at aligned offsets inside seccomp_data, ALU and jumps with a constant, and
 * `ret k`. Jumps must land inside the program and the last instruction must be a `ret`.
 */
export function checkSeccompFilter(program: readonly SockFilter[]): string | undefined {
  if (program.length === 0 || program.length > BPF_MAXINSNS) {
    return `length ${program.length} is outside 1..${BPF_MAXINSNS}`;
  }
  for (const [pc, insn] of program.entries()) {
    const where = `instruction ${pc} (code 0x${insn.code.toString(16)})`;
    const cls = insn.code & 0x07;
    if (cls === BPF_LD) {
      if (insn.code !== (BPF_LD | BPF_W | BPF_ABS)) return `${where}: only ld w abs is modelled`;
      if (insn.k % 4 !== 0 || insn.k >= SECCOMP_DATA_SIZE) return `${where}: bad offset ${insn.k}`;
    } else if (cls === BPF_ALU) {
      if ((insn.code & 0x08) !== BPF_K || !ALU_OPS.has(insn.code & 0xf0)) {
        return `${where}: unsupported ALU op`;
      }
      const op = insn.code & 0xf0;
      if ((op === 0x60 || op === 0x70) && insn.k >= 32) return `${where}: shift by ${insn.k}`;
    } else if (cls === BPF_JMP) {
      const op = insn.code & 0xf0;
      if (op === BPF_JA) {
        if (insn.code !== BPF_JMP) return `${where}: bad ja`;
        if (pc + 1 + insn.k >= program.length) return `${where}: ja jumps past the end`;
      } else {
        if ((insn.code & 0x08) !== BPF_K || !JUMP_OPS.has(op)) return `${where}: bad jump`;
        if (pc + 1 + Math.max(insn.jt, insn.jf) >= program.length) {
          return `${where}: conditional jump past the end`;
        }
      }
    } else if (cls === BPF_RET) {
      if (insn.code !== (BPF_RET | BPF_K)) return `${where}: only ret k is modelled`;
    } else {
      return `${where}: instruction class ${cls} is not modelled`;
    }
  }
  if ((program[program.length - 1].code & 0x07) !== BPF_RET) return "last instruction is not ret";
  return undefined;
}

const ALU_OPS = new Set([0x00, 0x10, 0x40, 0x50, 0x60, 0x70, 0xa0]); // add sub or and lsh rsh xor
const JUMP_OPS = new Set([BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET]);

/** Runs a program that passed {@linkcode checkSeccompFilter}; returns the 32-bit verdict. */
export function runSeccompFilter(program: readonly SockFilter[], data: Uint8Array): number {
  const problem = checkSeccompFilter(program);
  if (problem !== undefined) throw new Error(`invalid seccomp program: ${problem}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let a = 0;
  let pc = 0;
  for (;;) {
    const insn = program[pc];
    switch (insn.code & 0x07) {
      case BPF_LD:
        // seccomp_data fields are host-endian; both modelled arches are little-endian.
        a = view.getUint32(insn.k, true);
        pc++;
        break;
      case BPF_ALU:
        a = alu(insn.code & 0xf0, a, insn.k);
        pc++;
        break;
      case BPF_JMP: {
        const op = insn.code & 0xf0;
        if (op === BPF_JA) {
          pc += 1 + insn.k;
          break;
        }
        const taken = op === BPF_JEQ
          ? a === insn.k
          : op === BPF_JGT
          ? a > insn.k
          : op === BPF_JGE
          ? a >= insn.k
          : (a & insn.k) !== 0;
        pc += 1 + (taken ? insn.jt : insn.jf);
        break;
      }
      default:
        return insn.k >>> 0;
    }
  }
}

function alu(op: number, a: number, k: number): number {
  switch (op) {
    case 0x00:
      return (a + k) >>> 0;
    case 0x10:
      return (a - k) >>> 0;
    case 0x40:
      return (a | k) >>> 0;
    case BPF_AND:
      return (a & k) >>> 0;
    case 0x60:
      return (a << k) >>> 0;
    case 0x70:
      return a >>> k;
    default:
      return (a ^ k) >>> 0;
  }
}
