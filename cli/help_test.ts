// cli/help_test.ts — the table of flags, --help and README.md say the same thing.
import assert from "node:assert/strict";
import { FLAGS } from "./flag_table.ts";
import { HELP_WIDTH, readmeFlagTable, usageText } from "./help.ts";
import { parseRunArgs } from "./flags.ts";
import { UsageError } from "../core/errors.ts";
import { withFlagTable } from "../scripts/readme_flags.ts";
import denoJson from "../deno.json" with { type: "json" };

const README = new URL("../README.md", import.meta.url);

Deno.test("README.md's flag table is the one cli/flag_table.ts prints", () => {
  const readme = Deno.readTextFileSync(README);
  const updated = withFlagTable(readme);
  assert.equal(typeof updated, "string", JSON.stringify(updated));
  assert.ok(
    updated === readme,
    "README.md's flag table differs from cli/flag_table.ts: run `deno task readme-flags`",
  );
});

Deno.test("every flag of the table, and no other, is in --help and in README.md's table", () => {
  const help = usageText("0");
  const table = readmeFlagTable();
  const listed = (text: string) => new Set(text.match(/(?<![\w-])--?[a-z][a-z-]*/g));
  for (const flag of FLAGS) {
    for (const name of [flag.name, flag.alias ?? flag.name]) {
      assert.ok(listed(help).has(name), `--help leaves out ${name}`);
      assert.ok(listed(table).has(name), `README.md's table leaves out ${name}`);
    }
  }
  // What the table prints in its first column is exactly the set of names the parser knows.
  const firstColumn = table.split("\n").slice(2).flatMap((row) =>
    [
      ...row.split("|")[1].matchAll(/`(--?[a-z][a-z-]*)/g),
    ].map((m) => m[1])
  );
  assert.deepEqual(
    firstColumn.sort(),
    FLAGS.flatMap((f) => f.alias ? [f.name, f.alias] : [f.name]).sort(),
  );
});

Deno.test("each name and alias belongs to one flag and is well formed", () => {
  const names = FLAGS.flatMap((f) => f.alias ? [f.name, f.alias] : [f.name]);
  assert.equal(new Set(names).size, names.length);
  for (const f of FLAGS) {
    assert.match(f.name, /^--[a-z][a-z-]*[a-z]$/);
    if (f.alias) assert.match(f.alias, /^-[a-z]$/);
    assert.ok(!f.help.includes("\n"), `${f.name}: help is one line`);
    assert.equal(f.help.split("`").length % 2, 1, `${f.name}: a code span is left open`);
  }
});

Deno.test("the parser knows every flag of the table: a switch takes no value, the others need one", () => {
  for (const f of FLAGS) {
    for (const name of f.alias ? [f.name, f.alias] : [f.name]) {
      if (f.value === undefined) {
        // --socket-activation needs a --listen grant to pass; every other switch stands alone.
        const needs = name === "--socket-activation" ? ["--listen", "a=tcp:127.0.0.1:0"] : [];
        parseRunArgs([...needs, name, "p"], {}, "/");
        assert.throws(() => parseRunArgs([`${f.name}=x`, "p"], {}, "/"), {
          message: `${f.name} takes no value (got ${f.name}=x)`,
        });
      } else {
        assert.throws(() => parseRunArgs([name], {}, "/"), {
          message: `${name} needs a value (see ww run --help)`,
        });
        // A value the flag may refuse, but never as an unknown flag.
        try {
          parseRunArgs([name, "x", "p"], {}, "/");
        } catch (e) {
          assert.ok(e instanceof UsageError && !/unknown flag/.test(e.message), String(e));
        }
      }
    }
  }
});

Deno.test("--help lines fit in 80 columns and each README link names a section of README.md", () => {
  assert.equal(HELP_WIDTH, 80);
  for (const line of usageText("0.1.0").split("\n")) {
    assert.ok(line.length <= HELP_WIDTH, `too long: ${line}`);
  }
  const anchors = new Set(
    Deno.readTextFileSync(README).split("\n").filter((l) => l.startsWith("#")).map((l) =>
      `#${l.replace(/^#+ /, "").toLowerCase().replace(/[^\w\- ]/g, "").replaceAll(" ", "-")}`
    ),
  );
  for (const f of FLAGS) {
    if (f.see) assert.ok(anchors.has(f.see.anchor), `${f.name}: no section ${f.see.anchor}`);
  }
});

Deno.test("ww --help and ww run --help print the help from the table and exit 0", async () => {
  for (const args of [["--help"], ["run", "--help"], ["run", "-h"]]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname, ...args],
      stdin: "null",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal(new TextDecoder().decode(out.stdout), `${usageText(denoJson.version)}\n`);
  }
});

// `ww --help` was 100 columns wide (56 of 93 lines past 80), `ww cache --help` and
// `ww doctor --help` had lines past 80 too: every help ww prints fits a classic terminal.
Deno.test("every --help output, of ww and of each command its help lists, fits in 80 columns", async () => {
  // The commands `ww --help` lists (`  ww run [flags] ...`), so that a new one is tested too.
  const commands = [...usageText("0.1.0").matchAll(/^ {2}ww ([a-z]+)/gm)].map((m) => m[1]);
  assert.deepEqual(commands, ["run", "cache", "doctor"]);
  const asked = [
    ["--help"],
    ["-h"],
    ["help"],
    ...commands.flatMap((c) => [[c, "--help"], [c, "-h"], ["help", c], ["--help", c]]),
  ];
  for (const args of asked) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname, ...args],
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, `ww ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
    assert.ok(text.split("\n").length > 3, `ww ${args.join(" ")} printed no help: ${text}`);
    const long = text.split("\n").filter((line) => [...line].length > 80);
    assert.deepEqual(long, [], `ww ${args.join(" ")}: lines over 80 columns`);
  }
});
