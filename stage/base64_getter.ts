// stage/base64_getter.ts — the text of a generated module's base64 value as an object literal's
// getter, shared by the generators of stage/stage_bin.ts (stage/build.ts) and
// jail/seccomp_table.ts (jail/seccomp_table_text.ts). A getter's body is compiled on its first
// call, so a run reads only the values it uses (issue 13). Pure.

/**
 * The lines of a getter named `name` (quoted when it is not an identifier) that returns `base64`,
 * as string literals of at most `width` characters joined by `+`; the getter is indented by
 * `indent`, its body two spaces more, and a continued literal two more again.
 *
 * @example
 * base64Getter("x86_64", "QUJDREVG", "  ", 4);
 * // ["  get x86_64() {", '    return "QUJD" +', '      "REVG";', "  },"]
 */
export function base64Getter(
  name: string,
  base64: string,
  indent: string,
  width: number,
): string[] {
  const key = /^\w+$/.test(name) ? name : JSON.stringify(name);
  const chunks = base64.match(new RegExp(`.{1,${width}}`, "g")) ?? [""];
  return [
    `${indent}get ${key}() {`,
    ...chunks.map((c, i) =>
      `${indent}  ${i === 0 ? "return " : "  "}"${c}"${i < chunks.length - 1 ? " +" : ";"}`
    ),
    `${indent}},`,
  ];
}
