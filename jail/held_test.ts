// How a held program gets into the jail: every combination, against a table written by hand.
import assert from "node:assert/strict";
import { type HeldEntry, placeHeld } from "./held.ts";

type Row = [
  backend: "bwrap" | "native",
  sealed: boolean,
  script: boolean,
  dropped: boolean,
  expected: HeldEntry,
];
const EXEC: HeldEntry = { how: "exec", keepOpen: false, readRule: false };
const COPY: HeldEntry = { how: "copy", keepOpen: false, readRule: false };
const BIND: HeldEntry = { how: "bind", keepOpen: false, readRule: false };

const TABLE: Row[] = [
  // bwrap, ww not root (the jail is ww's own user): a sealed memfd cannot change, so the stage
  // runs it from its descriptor.
  ["bwrap", true, false, false, EXEC],
  // A sealed script: its interpreter needs a path, and bwrap cannot bind a memfd: copied.
  ["bwrap", true, true, false, COPY],
  // The cached file, owned by the jail's user, who could chmod and rewrite it if it were run as
  // /proc/self/exe: bound read-only at its path.
  ["bwrap", false, false, false, BIND],
  // The same for a script: bound read-only, where its interpreter opens it.
  ["bwrap", false, true, false, BIND],
  // bwrap, ww root (the jail runs as a leased id, not the file's owner): the sealed memfd is run
  // from its descriptor as above.
  ["bwrap", true, false, true, EXEC],
  // A sealed script, root or not: copied.
  ["bwrap", true, true, true, COPY],
  // The cached file is root's: the jail's user cannot change it, so it is run from its
  // descriptor (a bind would make an unprivileged bwrap resolve a path it may not reach).
  ["bwrap", false, false, true, EXEC],
  // A cached script under root: it needs a path, and a bind is out of reach: copied.
  ["bwrap", false, true, true, COPY],
  // native: always executed from the descriptor (execveat). A memfd needs no Landlock rule (and
  // may have none); the file on disk gets a read-only rule by its descriptor. A script keeps its
  // descriptor open for its interpreter. Who ww runs as changes nothing: Landlock forbids writes.
  ["native", true, false, false, EXEC],
  ["native", true, true, false, { how: "exec", keepOpen: true, readRule: false }],
  ["native", false, false, false, { how: "exec", keepOpen: false, readRule: true }],
  ["native", false, true, false, { how: "exec", keepOpen: true, readRule: true }],
  ["native", true, false, true, EXEC],
  ["native", true, true, true, { how: "exec", keepOpen: true, readRule: false }],
  ["native", false, false, true, { how: "exec", keepOpen: false, readRule: true }],
  ["native", false, true, true, { how: "exec", keepOpen: true, readRule: true }],
];

Deno.test("placeHeld: every backend x sealed x script x dropped is the table's row", () => {
  const seen = new Set<string>();
  for (const [backend, sealed, script, dropped, expected] of TABLE) {
    const key = `${backend} sealed=${sealed} script=${script} dropped=${dropped}`;
    seen.add(key);
    assert.deepEqual(placeHeld(backend, { sealed, script }, dropped), expected, key);
  }
  assert.equal(seen.size, 2 * 2 * 2 * 2, "the table covers every combination once");
});

Deno.test("placeHeld: a file its jail's user could rewrite is never executed from its descriptor under bwrap", () => {
  for (const script of [false, true]) {
    assert.notEqual(placeHeld("bwrap", { sealed: false, script }, false).how, "exec");
  }
});

Deno.test("placeHeld: bwrap never binds what it cannot reach or bind (a memfd, or anything when ww is root)", () => {
  for (const sealed of [false, true]) {
    for (const script of [false, true]) {
      for (const dropped of [false, true]) {
        if (!sealed && !dropped) continue;
        assert.notEqual(placeHeld("bwrap", { sealed, script }, dropped).how, "bind");
      }
    }
  }
});
