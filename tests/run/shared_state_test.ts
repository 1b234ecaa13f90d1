// A program shares the caller's open file descriptions (its stdout, a granted file): status flags
// it changes there outlived the run, in the caller's shell. A stdout left O_NONBLOCK made the next
// writer of a pipeline fail with EAGAIN, and an append-only log with O_APPEND cleared was
// overwritten. ww gives them back when the run ends, under every backend.

import assert from "node:assert/strict";
import { join } from "node:path";
import { reportFds } from "../support/children.ts";
import { runWw } from "../support/ww.ts";

const child = await reportFds();
const O_APPEND = 0o2000;
const O_NONBLOCK = 0o4000;

/** The status flags of the caller's fd `fd`, from the "flags:" line of its fdinfo (octal). */
const flagsLine = (fd: number) => `sed -n 's/^flags:\\t*/fd${fd} /p' /proc/$$/fdinfo/${fd}`;

for (const backend of ["none", "bwrap", "native"] as const) {
  Deno.test(`[jail=${backend}] the caller's stdout and a granted file have their status flags back when ww ends`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-shared-state-" });
    try {
      const log = join(dir, "log");
      const r = await runWw(
        [
          "run",
          `--jail=${backend}`,
          "--with-fd",
          "log=5",
          child,
          `setfl=1:${O_NONBLOCK.toString(8)}`,
          "setfl=4:0", // the granted log, at fd 4: O_APPEND cleared
          "stdout=2", // the report is not this test's
        ],
        { fds: { 5: { append: log } }, then: `${flagsLine(1)}; ${flagsLine(5)}; exit $ww` },
      );
      assert.equal(r.code, 0, r.stderr);
      const flags = (fd: number) => {
        const m = new RegExp(`^fd${fd} ([0-7]+)$`, "m").exec(r.stdout);
        assert.ok(m, `no flags of fd ${fd}: ${r.stdout}`);
        return parseInt(m[1], 8);
      };
      assert.equal(flags(1) & O_NONBLOCK, 0, "stdout left nonblocking");
      assert.equal(flags(5) & O_APPEND, O_APPEND, "the log no longer appends");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}
