import assert from "node:assert/strict";
import { base64Getter } from "./base64_getter.ts";

Deno.test("a getter's literal is split at the width, each piece but the last joined by +", () => {
  assert.deepEqual(base64Getter("x86_64", "QUJDREVG", "  ", 4), [
    "  get x86_64() {",
    '    return "QUJD" +',
    '      "REVG";',
    "  },",
  ]);
  assert.deepEqual(base64Getter("bwrap", "QUJDREVGRw==", "    ", 5), [
    "    get bwrap() {",
    '      return "QUJDR" +',
    '        "EVGRw" +',
    '        "==";',
    "    },",
  ]);
});

Deno.test("a getter whose name is no identifier is quoted", () => {
  assert.deepEqual(base64Getter("native-netns", "QQ==", "", 84), [
    'get "native-netns"() {',
    '  return "QQ==";',
    "},",
  ]);
});

Deno.test("an empty value is one empty literal, and the text it makes evaluates to each value", () => {
  assert.deepEqual(base64Getter("empty", "", "", 84), ["get empty() {", '  return "";', "},"]);
  const value = "QUJD".repeat(50);
  const text = [
    "({",
    ...base64Getter("a-b", value, "  ", 7),
    ...base64Getter("c", "", "  ", 7),
    "})",
  ]
    .join("\n");
  const object = (0, eval)(text);
  assert.equal(object["a-b"], value);
  assert.equal(object.c, "");
});
