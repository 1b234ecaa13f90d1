import assert from "node:assert/strict";
import { execRefusal } from "./grants.ts";
import { GRANT_NAMES, type HostGrants } from "./types.ts";

const CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";

/** Every combination of the three grants. */
const ALL: HostGrants[] = Array.from({ length: 8 }, (_, i) => ({
  console: (i & 1) !== 0,
  ipfs: (i & 2) !== 0,
  exec: (i & 4) !== 0,
}));

Deno.test("a program passes on exactly the subsets of its own grants", () => {
  for (const caller of ALL) {
    for (const grants of ALL) {
      const subset = GRANT_NAMES.every((g) => !grants[g] || caller[g]);
      const refusal = execRefusal({ program: "/usr/bin/env", grants }, caller);
      assert.equal(refusal === undefined, subset, JSON.stringify({ caller, grants }));
    }
  }
});

Deno.test("a program from IPFS needs the ipfs grant, in every spelling of its path", () => {
  const none: HostGrants = { console: false, ipfs: false, exec: false };
  for (const program of [`/ipfs/${CID}`, `/ipfs/${CID}/bin/app`, "/ipns/example.org/app", CID]) {
    for (const caller of ALL) {
      const refusal = execRefusal({ program, grants: none }, caller);
      if (caller.ipfs) assert.equal(refusal, undefined);
      else assert.match(refusal ?? "", /needs the ipfs grant: run ww with --with-ipfs/);
    }
  }
});
