// A program replaced while ww starts it (removed and copied back, or a link that flips between a
// file and a directory) gets the words and exit code its resolution would have given (127, 126),
// under every backend: the checks and launchers read its path again after ww found it, and said
// "internal error: No such file or directory (os error 2): realpath ...", exit 125.

import assert from "node:assert/strict";
import { join } from "node:path";
import { runWw } from "../support/ww.ts";

for (const jail of ["bwrap", "native", "none"]) {
  Deno.test(`--jail=${jail}: a program that comes and goes as ww starts it is no internal error`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-race-" });
    Deno.chmodSync(dir, 0o755);
    const program = join(dir, "p");
    Deno.mkdirSync(join(dir, "d"));
    let flipping = true;
    // Replaces the program as fast as it can, on the event loop between ww's runs' own turns.
    const flipper = (async () => {
      for (let i = 0; flipping; i++) {
        try {
          if (i % 3 === 2) Deno.symlinkSync(join(dir, "d"), program);
          else Deno.copyFileSync("/bin/true", program);
          Deno.chmodSync(program, 0o755);
        } catch { /* the other shape is still there */ }
        await new Promise((r) => setTimeout(r, 0));
        try {
          Deno.removeSync(program);
        } catch { /* gone already */ }
      }
    })();
    try {
      for (let run = 0; run < 12; run++) {
        const r = await runWw(["run", `--jail=${jail}`, program]);
        assert.doesNotMatch(r.stderr, /internal error|os error/, r.stderr);
        assert.ok([0, 126, 127].includes(r.code), `exit ${r.code}: ${r.stderr}`);
      }
    } finally {
      flipping = false;
      await flipper;
      Deno.removeSync(dir, { recursive: true });
    }
  });
}
