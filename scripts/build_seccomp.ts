// scripts/build_seccomp.ts — `deno task build-seccomp`: writes jail/seccomp_table.ts, the seccomp
// programs of jail/seccomp.ts compiled for every arch and jail (jail/seccomp_table_text.ts).

import { seccompTableModule } from "../jail/seccomp_table_text.ts";

await Deno.writeTextFile(
  new URL("../jail/seccomp_table.ts", import.meta.url),
  seccompTableModule(),
);
