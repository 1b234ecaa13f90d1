// ww under a small file-size limit (`ulimit -f`, RLIMIT_FSIZE): a write of ww's own past it (the
// stage's memfd, a --deno guest's bundle) ends the run with one line that names the limit and the
// fix, exit 125, and leaves nothing behind. (Before: the kernel's SIGXFSZ killed ww without a word,
// exit 153, the code of a program killed by that signal, and a --deno run left its ww-deno-*
// directory in TMPDIR.) The program keeps SIGXFSZ's default and the caller's limit.

import assert from "node:assert/strict";
import { privateTmp } from "../support/procs.ts";
import { errorLines, runWw } from "../support/ww.ts";

/** 8 KiB: less than the native stage's binary, more than a plain unjailed run writes. */
const LIMIT = "ulimit -f 8";

const OVER =
  /^ww: a file ww writes is larger than its file-size limit \(write \(fd \d+\): EFBIG\): raise the limit \(ulimit -f unlimited\)$/;

/** Runs ww once without the limit: Deno, writing its code cache for a module it has not cached, would meet the limit before ww runs. */
async function warm(args: readonly string[], tmp: string): Promise<void> {
  const r = await runWw(args, { env: { TMPDIR: tmp } });
  assert.equal(r.code, 0, r.stderr);
}

for (const jail of ["native", "bwrap"]) {
  Deno.test(`--jail=${jail} under ulimit -f: one line naming the limit, exit 125, nothing left`, async () => {
    const tmp = privateTmp();
    try {
      const args = ["run", `--jail=${jail}`, "/bin/true"];
      await warm(args, tmp);
      const r = await runWw(args, { before: LIMIT, env: { TMPDIR: tmp } });
      assert.equal(r.code, 125, r.stderr);
      assert.deepEqual(errorLines(r.stderr).length, 1, r.stderr);
      assert.match(errorLines(r.stderr)[0], OVER);
      assert.deepEqual([...Deno.readDirSync(tmp)], []);
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  });
}

Deno.test("--deno under ulimit -f: the bundle's failure names the limit, and its directory goes", async () => {
  const tmp = privateTmp();
  try {
    const guest = `${tmp}/guest.ts`;
    // Larger than the limit once bundled.
    Deno.writeTextFileSync(guest, `console.log(${JSON.stringify("x".repeat(16 << 10))}.length);\n`);
    const args = ["run", "--jail=none", "--deno", guest];
    await warm(args, tmp);
    const r = await runWw(args, { before: LIMIT, env: { TMPDIR: tmp } });
    assert.equal(r.code, 125, r.stderr);
    const lines = errorLines(r.stderr).filter((l) => !/NOT jailed/.test(l));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /file-size limit: raise it \(ulimit -f unlimited\)$/);
    assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), ["guest.ts"]);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("--jail=none under ulimit -f: the program still dies of SIGXFSZ past the caller's limit", async () => {
  const tmp = privateTmp();
  try {
    const args = ["run", "--jail=none", "/bin/sh", "-c", `head -c 20000 /dev/zero > ${tmp}/big`];
    await warm(args, tmp);
    const r = await runWw(args, { before: LIMIT, env: { TMPDIR: tmp } });
    assert.equal(r.code, 128 + 25, r.stderr); // the shell's own status: its child died of SIGXFSZ
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});
