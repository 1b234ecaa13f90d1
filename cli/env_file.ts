// cli/env_file.ts — `--env-file FILE`: docker's env-file format, parsed. Pure: the file's text and
// the caller's environment come in as values; reading the file is the caller's.

import { commandLineEnvKeyProblem } from "../core/config.ts";

/**
 * The variables an env file sets, in docker's format (`docker run --env-file`): one `KEY=VALUE`
 * a line, the value verbatim up to the end of the line (no quotes, no expansion); a bare `KEY`
 * passes the caller's value, or nothing when the caller has none (and an error when `notText` says
 * the caller has one that is not UTF-8 text, which Deno leaves out of `callerEnv`); lines starting
 * with `#` and blank lines are skipped. A bad line is an error naming `file:line`; `lineOf` says
 * which line set each variable (the last one that did).
 *
 * @example
 * parseEnvFile("# db\nHOST=db.local\nHOME\n", "app.env", { HOME: "/home/u" });
 * // { env: { HOST: "db.local", HOME: "/home/u" }, lineOf: { HOST: 2, HOME: 3 } }
 * parseEnvFile("=x\n", "app.env", {});
 * // { error: "app.env:1: the variable name is empty" }
 */
export function parseEnvFile(
  text: string,
  file: string,
  callerEnv: Readonly<Record<string, string>>,
  notText: (key: string) => boolean = () => false,
): { env: Record<string, string>; lineOf: Record<string, number> } | { error: string } {
  const env: Record<string, string> = {};
  const lineOf: Record<string, number> = {};
  // Like docker: a UTF-8 byte order mark and CRLF line ends are not part of the variables.
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const trimmed = line.trimStart();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const eq = trimmed.indexOf("=");
    const key = eq < 0 ? trimmed : trimmed.slice(0, eq);
    const where = `${file}:${i + 1}`;
    const problem = commandLineEnvKeyProblem(key);
    if (problem) return { error: `${where}: ${problem} (expected KEY=VALUE, KEY or # comment)` };
    if (eq < 0) {
      if (key in callerEnv) [env[key], lineOf[key]] = [callerEnv[key], i + 1];
      else if (notText(key)) return { error: `${where}: ${key}: ${NOT_TEXT}` };
      continue;
    }
    const value = trimmed.slice(eq + 1);
    if (value.includes("\0")) return { error: `${where}: the value of ${key} contains a NUL byte` };
    [env[key], lineOf[key]] = [value, i + 1];
  }
  return { env, lineOf };
}

/** Why a caller's variable that is not UTF-8 text is refused, for `--env KEY` and an env file. */
export const NOT_TEXT =
  "its value in ww's environment is not UTF-8 text, which ww would pass on changed; give KEY=VALUE in UTF-8";
