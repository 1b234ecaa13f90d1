// cli/help.ts — the text of `ww --help` and README.md's flag table, both printed from the one
// table of flags (cli/flag_table.ts), so neither can leave a flag out or describe it differently.
// Pure: the version comes in as a value.

import { type Flag, FLAGS } from "./flag_table.ts";

/** Where --help starts a flag's description; a longer flag pushes its first line right. */
const HELP_COLUMN = 25;
/** The longest line --help prints: a terminal's classic width (the generated lines wrap to it). */
export const HELP_WIDTH = 80;

/**
 * The text of `ww --help` (and `ww run --help`).
 *
 * @example
 * usageText("0.1.0").split("\n")[0];
 * // "ww 0.1.0: run a program in a jail and hand it capabilities as descriptors"
 */
export function usageText(version: string): string {
  return `ww ${version}: run a program in a jail and hand it capabilities as descriptors

usage:
  ww run [flags] <binary> [args...]   run <binary> (a path, a name in PATH, or
                                      from IPFS: /ipfs/<cid>[/path],
                                      /ipns/<name>[/path], a bare CID)
  ww cache [list|size|clear]          the cache of programs fetched from IPFS
  ww doctor                           what this machine offers each jail
                                      backend; exit 0 when a jail is possible
  ww --version                        print the version
  ww --help [run|cache|doctor]        print this help, or a command's own

run flags (they end at <binary>; '--' may also end them; --flag=value is
--flag value):
${flagLines("run").join("\n")}

jail flags (every program is jailed by default):
${flagLines("jail").join("\n")}

The child gets fd 0-2 from ww (or a terminal of its own: --tty), fd 3 = the
host socket, fd 4.. = the --with-fd grants, then ww's own grants (--listen,
--connect, --open) by name, nothing else (--socket-activation puts the --listen
sockets first, from fd 3, and the host socket after them, at WW_HOST_FD).
exit status: the child's own; 128+N when killed by signal N; 124 --timeout
expired (before the start too, when nothing ran); 125 ww usage or setup error
(a jail that cannot be built included); 126 the binary cannot be executed; 127
the binary was not found.`;
}

/** How a flag is written on the command line: `-e, --env KEY[=VALUE]`. */
function synopsis(flag: Flag): string {
  return `${flag.alias ? `${flag.alias}, ` : ""}${flag.name}${flag.value ? ` ${flag.value}` : ""}`;
}

function flagLines(group: Flag["group"]): string[] {
  const lines: string[] = [];
  for (const flag of FLAGS.filter((f) => f.group === group)) {
    const left = `  ${synopsis(flag)}`;
    // A code span (`docker run -e`) is one word: a line break inside it would split the command.
    const words = flag.help.replace(/`[^`]*`/g, (span) => span.slice(1, -1).replaceAll(" ", "\0"))
      .split(" ").map((word) => word.replaceAll("\0", " "));
    let line = left.length + 2 <= HELP_COLUMN ? left.padEnd(HELP_COLUMN) : `${left}  `;
    let fresh = true;
    for (const word of words) {
      if (!fresh && line.length + 1 + word.length > HELP_WIDTH) {
        lines.push(line);
        line = " ".repeat(HELP_COLUMN);
        fresh = true;
      }
      line += fresh ? word : ` ${word}`;
      fresh = false;
    }
    lines.push(line);
  }
  return lines;
}

/**
 * README.md's flag table, in Markdown as `deno fmt` lays it out: one row per flag, the help text
 * with a link to the section that says more.
 *
 * @example
 * readmeFlagTable().split("\n")[0].startsWith("| flag ");
 * // true
 */
export function readmeFlagTable(): string {
  const rows = FLAGS.map((f) => [
    `${f.alias ? `\`${f.alias}\`, ` : ""}\`${f.name}${f.value ? ` ${f.value}` : ""}\``,
    `${f.help}${f.see ? ` (see [${f.see.title}](${f.see.anchor}))` : ""}`.replaceAll("|", "\\|"),
  ]);
  const header = ["flag", "meaning"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => `| ${cells.map((x, c) => x.padEnd(widths[c])).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
