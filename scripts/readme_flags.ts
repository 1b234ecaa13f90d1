// scripts/readme_flags.ts — `deno task readme-flags`: rewrites README.md's flag table, between its
// two markers, from the table of flags (cli/flag_table.ts). scripts/readme_flags_test.ts fails when
// README.md and the table disagree.

import { readmeFlagTable } from "../cli/help.ts";

/** The line before README.md's flag table. */
export const BEGIN = "<!-- flags: written by `deno task readme-flags` from cli/flag_table.ts -->";
/** The line after it. */
export const END = "<!-- flags: end -->";

/**
 * `readme` with the text between BEGIN and END replaced by the flag table, or an error when the
 * markers are missing or out of order.
 *
 * @example
 * withFlagTable(`${BEGIN}\nold\n${END}\n`).startsWith(`${BEGIN}\n| flag`);
 * // true
 */
export function withFlagTable(readme: string): string | { error: string } {
  const begin = readme.indexOf(`${BEGIN}\n`);
  const end = readme.indexOf(`\n${END}`);
  if (begin < 0 || end < begin) {
    return { error: `README.md has no flag table between "${BEGIN}" and "${END}"` };
  }
  return `${readme.slice(0, begin + BEGIN.length + 1)}\n${readmeFlagTable()}\n${readme.slice(end)}`;
}

if (import.meta.main) {
  const path = new URL("../README.md", import.meta.url);
  const updated = withFlagTable(Deno.readTextFileSync(path));
  if (typeof updated !== "string") {
    console.error(`deno task readme-flags: ${updated.error}`);
    Deno.exit(1);
  }
  Deno.writeTextFileSync(path, updated);
}
