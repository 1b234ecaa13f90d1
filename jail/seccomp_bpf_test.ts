import assert from "node:assert/strict";
import { type AsmInsn, assemble, BPF_MAXINSNS, decode, encode, NEXT } from "./seccomp_bpf.ts";
import { checkSeccompFilter, runSeccompFilter, seccompData } from "./bpf_model.ts";

const ALLOW = 0x7fff0000;
const filler = (n: number): AsmInsn[] => Array.from({ length: n }, () => ({ op: "ret", k: 7 }));

// nr == 1 → "one" (ret 1), nr == 2 → "two" (ret 2), otherwise ALLOW; `gap` unreachable
// instructions sit between the jumps and their targets.
function farProgram(gap: number): AsmInsn[] {
  return [
    { op: "ld", offset: 0 },
    { op: "jeq", k: 1, jt: "one", jf: NEXT },
    { op: "jeq", k: 2, jt: "two", jf: "allow" },
    ...filler(gap),
    { op: "label", name: "one" },
    { op: "ret", k: 1 },
    ...filler(gap),
    { op: "label", name: "two" },
    { op: "ret", k: 2 },
    { op: "label", name: "allow" },
    { op: "ret", k: ALLOW },
  ];
}

const verdicts = (program: ReturnType<typeof assemble>) =>
  [1, 2, 3].map((nr) => runSeccompFilter(program, seccompData({ nr, arch: 0 })));

Deno.test("near jumps are encoded directly, without trampolines", () => {
  const program = assemble(farProgram(10));
  assert.equal(program.length, 3 + 10 + 1 + 10 + 2);
  assert.deepEqual(program[1], { code: 0x15, jt: 11, jf: 0, k: 1 });
  assert.deepEqual(verdicts(program), [1, 2, ALLOW]);
});

Deno.test("a conditional jump farther than 255 instructions goes through a ja trampoline", () => {
  const program = assemble(farProgram(300));
  assert.equal(checkSeccompFilter(program), undefined);
  assert.ok(program.some((insn) => insn.code === 0x05), "expected a ja trampoline");
  assert.deepEqual(verdicts(program), [1, 2, ALLOW]);
});

Deno.test("both branches of one jump can be far", () => {
  const program = assemble([
    { op: "ld", offset: 0 },
    { op: "jeq", k: 1, jt: "one", jf: "other" },
    ...filler(300),
    { op: "label", name: "one" },
    { op: "ret", k: 1 },
    ...filler(300),
    { op: "label", name: "other" },
    { op: "ret", k: 2 },
  ]);
  assert.equal(checkSeccompFilter(program), undefined);
  assert.deepEqual(verdicts(program), [1, 2, 2]);
});

Deno.test("a jump pushed out of range by another jump's trampoline gets one too", () => {
  const program = assemble([
    { op: "ld", offset: 0 },
    // Exactly 255 ahead: in range, until the trampoline for the next jump lands in between.
    { op: "jeq", k: 1, jt: "one", jf: NEXT },
    { op: "jeq", k: 2, jt: "two", jf: "allow" },
    ...filler(254),
    { op: "label", name: "one" },
    { op: "ret", k: 1 },
    ...filler(300),
    { op: "label", name: "two" },
    { op: "ret", k: 2 },
    { op: "label", name: "allow" },
    { op: "ret", k: ALLOW },
  ]);
  assert.equal(checkSeccompFilter(program), undefined);
  assert.equal(program[2 + program[1].jt].code, 0x05, "first jump should use a trampoline");
  assert.deepEqual(verdicts(program), [1, 2, ALLOW]);
});

Deno.test("backward jumps, unknown labels and duplicate labels are rejected", () => {
  assert.throws(
    () =>
      assemble([
        { op: "label", name: "top" },
        { op: "ld", offset: 0 },
        { op: "jeq", k: 0, jt: "top", jf: NEXT },
        { op: "ret", k: 0 },
      ]),
    /not forward/,
  );
  assert.throws(
    () => assemble([{ op: "ja", to: "nowhere" }, { op: "ret", k: 0 }]),
    /unknown label/,
  );
  assert.throws(
    () =>
      assemble([
        { op: "label", name: "x" },
        { op: "label", name: "x" },
        { op: "ret", k: 0 },
      ]),
    /defined twice/,
  );
});

Deno.test("a program must end with ret and fit in BPF_MAXINSNS", () => {
  assert.throws(() => assemble([{ op: "ld", offset: 0 }]), /must end with ret/);
  assert.throws(() => assemble(filler(BPF_MAXINSNS + 1)), /exceed BPF_MAXINSNS/);
  assert.equal(assemble(filler(BPF_MAXINSNS)).length, BPF_MAXINSNS);
});

Deno.test("constants must fit in 32 unsigned bits", () => {
  assert.throws(() => assemble([{ op: "ret", k: -1 }]), /unsigned 32-bit/);
  assert.throws(() => assemble([{ op: "ret", k: 2 ** 32 }]), /unsigned 32-bit/);
});

Deno.test("encode writes struct sock_filter little-endian and decode reads it back", () => {
  const program = [
    { code: 0x20, jt: 0, jf: 0, k: 4 },
    { code: 0x15, jt: 1, jf: 2, k: 0xc000003e },
    { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 },
  ];
  const bytes = encode(program);
  assert.deepEqual(
    [...bytes],
    [
      ...[0x20, 0, 0, 0, 4, 0, 0, 0],
      ...[0x15, 0, 1, 2, 0x3e, 0, 0, 0xc0],
      ...[0x06, 0, 0, 0, 0, 0, 0xff, 0x7f],
    ],
  );
  assert.deepEqual(decode(bytes), program);
  assert.throws(() => decode(new Uint8Array(7)), /multiple of 8/);
});
