import assert from "node:assert/strict";
import * as flags from "./flags.ts";
import { openFlagsOf } from "./flags.ts";

const NAMES = [
  "O_RDONLY",
  "O_WRONLY",
  "O_RDWR",
  "O_ACCMODE",
  "O_CREAT",
  "O_EXCL",
  "O_NOCTTY",
  "O_NONBLOCK",
  "O_CLOEXEC",
  "O_PATH",
  "O_NOFOLLOW",
  "O_DIRECTORY",
] as const;

/** The values `gcc`'s <fcntl.h> gives NAMES: its preprocessor's, so no binary of that arch runs. */
async function headerValues(gcc: string): Promise<Record<string, number>> {
  const source = `#include <fcntl.h>\n${NAMES.map((n) => `ww_flag = ${n} ;`).join("\n")}\n`;
  const child = new Deno.Command(gcc, {
    args: ["-D_GNU_SOURCE", "-E", "-P", "-x", "c", "-"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(source));
  await writer.close();
  const out = await child.output();
  assert.ok(out.success, `${gcc} -E failed`);
  const values: Record<string, number> = {};
  // One line a name, in NAMES' order (the preprocessor expands a name wherever it stands).
  const lines = [...new TextDecoder().decode(out.stdout).matchAll(/^ww_flag = (.*) ;$/gm)];
  assert.equal(lines.length, NAMES.length);
  for (const [i, m] of lines.entries()) {
    // Octal literals, perhaps in parentheses or or-ed together.
    values[NAMES[i]] = m[1].replace(/[()\s]/g, "").split("|")
      .reduce((v, t) => v | parseInt(t, t.startsWith("0") ? 8 : 10), 0);
  }
  return values;
}

Deno.test("the open(2) flags ww passes are the kernel's on x86_64 and on aarch64, as each arch's headers have them", async () => {
  for (const [arch, gcc] of [["x86_64", "gcc"], ["aarch64", "aarch64-linux-gnu-gcc"]]) {
    const header = await headerValues(gcc);
    const own = openFlagsOf(arch);
    for (const name of NAMES) {
      const ours = name in own ? own[name as keyof typeof own] : flags[name as keyof typeof flags];
      assert.equal(ours, header[name], `${arch} ${name}`);
    }
  }
  // This process's own constants are its arch's.
  assert.equal(flags.O_NOFOLLOW, openFlagsOf(Deno.build.arch).O_NOFOLLOW);
  assert.equal(flags.O_DIRECTORY, openFlagsOf(Deno.build.arch).O_DIRECTORY);
});
