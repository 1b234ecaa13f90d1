// Path resolution without node:path.
import assert from "node:assert/strict";
import { posix } from "node:path";
import { absoluteFrom, absolutePath } from "./path.ts";

Deno.test("relative paths resolve against cwd and are normalised like path.resolve", () => {
  const cases: [string, string][] = [
    ["/home/u", "app"],
    ["/home/u", "./bin/app"],
    ["/home/u", "../x/../y/app"],
    ["/home/u", "/abs//path/./x"],
    ["/", ".."],
    ["/", "../../a"],
    ["/a/b", "c/"],
    ["/a", "."],
  ];
  for (const [cwd, p] of cases) assert.equal(absolutePath(cwd, p), posix.resolve(cwd, p), p);
});

Deno.test("absoluteFrom asks for the cwd only for a relative path", () => {
  let asked = 0;
  const cwd = () => (asked++, "/home/u");
  assert.equal(absoluteFrom(cwd, "/etc/./hosts"), "/etc/hosts");
  assert.equal(asked, 0);
  assert.equal(absoluteFrom(cwd, "../v/app"), "/home/v/app");
  assert.equal(asked, 1);
});
