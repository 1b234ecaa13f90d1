// What `ww run` does to the caller's descriptors: nothing. They stay open with the same status
// flags and offsets, and the caller keeps using them (and sees what the child did through the
// shared ones) after ww has ended.

import assert from "node:assert/strict";
import { join } from "node:path";
import { reportFds } from "../support/children.ts";
import { fdOf, O_NONBLOCK, parseReport } from "../support/report.ts";
import { JAIL_MODES, jailFlags, quote, runWw } from "../support/ww.ts";

const child = await reportFds();

for (const jail of JAIL_MODES) {
  Deno.test(`[jail=${jail}] the caller's fds stay open and usable, flags and offsets unchanged`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wwtest-caller-" });
    const file = (name: string, text: string) => {
      Deno.writeTextFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const stray = file("stray.txt", "stray 1\nstray 2\n");
    const rw = file("rw.txt", "rw 1\nrw 2\n");
    const log = file("log.txt", "");
    const ro = file("ro.txt", "ro 1\nro 2\n");
    const before = join(dir, "before.json");
    const after = join(dir, "after.json");
    const lines = join(dir, "lines.txt");

    const r = await runWw(
      [
        "run",
        ...jailFlags(jail),
        ...["--with-fd", "rw=8", "--with-fd", "pipe=9", "--with-fd", "log=10"],
        ...["--with-fd", "ro=11", child, "read=5", "write=6:from the child"],
      ],
      {
        fds: {
          7: { read: stray },
          8: { readWrite: rw },
          9: { pipe: "pipe 1\npipe 2\n" },
          10: { append: log },
          11: { read: ro },
        },
        before: `${quote(child)} > ${quote(before)}`,
        then: [
          `${quote(child)} > ${quote(after)}`,
          "read -r l7 <&7; read -r l8 <&8; read -r l9 <&9; read -r l11 <&11",
          'echo "from the caller" >&10',
          `printf '%s|%s|%s|%s\\n' "$l7" "$l8" "$l9" "$l11" > ${quote(lines)}`,
          "exit $ww",
        ].join("\n"),
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const got = parseReport(r.stdout);
    assert.equal(got.lines["5"], "pipe 1");

    const b = parseReport(Deno.readTextFileSync(before));
    const a = parseReport(Deno.readTextFileSync(after));
    // fd 1 of the reports is the report file itself.
    const mine = [0, 2, 7, 8, 9, 10, 11];
    for (const fd of mine) {
      assert.equal(fdOf(a, fd).ino, fdOf(b, fd).ino, `fd ${fd} is another object`);
      assert.equal(fdOf(a, fd).flags, fdOf(b, fd).flags, `fd ${fd} flags changed`);
      assert.equal(fdOf(a, fd).flags & O_NONBLOCK, 0, `fd ${fd} became non-blocking`);
      // fd 10 is the log the child appended to through the shared description.
      if (fd !== 10) assert.equal(fdOf(a, fd).offset, fdOf(b, fd).offset, `fd ${fd} offset moved`);
    }
    assert.equal(Deno.readTextFileSync(lines), "stray 1|rw 1|pipe 2|ro 1\n");
    assert.equal(Deno.readTextFileSync(log), "from the child\nfrom the caller\n");
    Deno.removeSync(dir, { recursive: true });
  });
}
