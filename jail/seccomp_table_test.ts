// The precomputed seccomp programs the launchers use are exactly what jail/seccomp.ts compiles
// now, for every arch and jail: a policy change without `deno task build-seccomp` fails here. The
// launchers load the table and never the compiler, whose import and cold first run cost every
// jailed run ~1-2 ms.

import assert from "node:assert/strict";
import { seccompProgram } from "./seccomp.ts";
import { SECCOMP_BASE64 } from "./seccomp_table.ts";
import { seccompTableModule, TABLE_ARCHES, TABLE_JAILS } from "./seccomp_table_text.ts";
import { loadedModules } from "../tests/support/modules.ts";

Deno.test("jail/seccomp_table.ts holds seccompProgram(arch, jail) for every arch and jail", () => {
  assert.deepEqual(Object.keys(SECCOMP_BASE64).sort(), [...TABLE_ARCHES].sort());
  for (const arch of TABLE_ARCHES) {
    assert.deepEqual(Object.keys(SECCOMP_BASE64[arch]).sort(), [...TABLE_JAILS].sort());
    for (const jail of TABLE_JAILS) {
      assert.deepEqual(
        Uint8Array.fromBase64(SECCOMP_BASE64[arch][jail]),
        seccompProgram(arch, jail),
        `jail/seccomp_table.ts is not the ${arch} ${jail} policy as compiled now: run deno task build-seccomp`,
      );
    }
  }
});

Deno.test("the table's generator writes the module that is checked in", async () => {
  const checkedIn = await Deno.readTextFile(new URL("./seccomp_table.ts", import.meta.url));
  assert.equal(checkedIn, seccompTableModule(), "run deno task build-seccomp");
});

Deno.test("the jailed launchers load the table, not the seccomp compiler", async () => {
  const compiler = ["jail/seccomp.ts", "jail/seccomp_bpf.ts"];
  const has = (files: string[], f: string) => files.some((p) => p.endsWith(`/${f}`));
  // The probe sees the compiler where it is loaded.
  const control = await loadedModules(new URL("./seccomp.ts", import.meta.url).href);
  for (const f of compiler) assert.ok(has(control, f), `the probe does not see ${f}`);
  for (const launcher of ["../run/launch_native.ts", "../run/launch_bwrap.ts"]) {
    const files = await loadedModules(new URL(launcher, import.meta.url).href);
    assert.ok(has(files, "jail/seccomp_table.ts"), `${launcher} does not load the table`);
    for (const f of compiler) assert.ok(!has(files, f), `${launcher} loads ${f}`);
  }
});
