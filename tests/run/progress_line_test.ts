// ww run as the README runs it from the sources (`deno task -q ww`, which is `deno run -q -A
// main.ts`), on a terminal with a size. Without -q Deno drew its module-loading progress line
// there and cleared it with escape sequences (ESC[0G ESC[2K ESC[J) that erased what the line held:
// a program's prompt, once the RPC engine loaded as the program first spoke on fd 3.

import assert from "node:assert/strict";
import { REPO } from "../support/ww.ts";

Deno.test("ww run as the README says draws no progress line over a program's output on a terminal", async () => {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const program = "printf PROMPT; printf garbage >&3; sleep 1; echo END";
  const command = `stty rows 30 cols 100; ${quote(Deno.execPath())} task -q ww run --jail=none ` +
    `/bin/sh -c ${quote(program)}`;
  const out = await new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const shown = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, shown);
  assert.match(shown, /PROMPT/);
  assert.match(shown, /END/);
  for (const clear of ["\x1b[0G", "\x1b[2K", "\x1b[J"]) {
    assert.ok(!shown.includes(clear), JSON.stringify(shown));
  }
});
