// A library caller (tests/run/descriptor_shortage_test.ts runs it) whose descriptors run out while
// a --jail=bwrap start waits for bwrap's pid 1: the start of `sh -c "sleep 30" <tag>` is made,
// and once its stage is this process's child, every free descriptor is taken (as other starts of
// a busy caller would take them). Prints, as JSON, how the start ended and how many processes
// carrying the tag still run half a second later; tries again (up to 20 times) while the start
// still won the race.

import { Command } from "../../mod.ts";

const tag = `tag=${crypto.randomUUID()}`;

function tagged(): number {
  let found = 0;
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${e.name}/cmdline`).includes(tag)) found++;
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

const children = `/proc/${Deno.pid}/task/${Deno.pid}/children`;
for (let attempt = 1; attempt <= 20; attempt++) {
  const start = new Command("/bin/sh", {
    args: ["-c", "sleep 30", tag],
    jail: { backend: "bwrap" },
  })
    .spawn();
  while (Deno.readTextFileSync(children).trim() === "") {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const taken: Deno.FsFile[] = [];
  try {
    for (;;) taken.push(Deno.openSync("/dev/null"));
  } catch {
    // None left.
  }
  const outcome = await start.then(
    (child) => ({ child }),
    (e: Error) => ({ error: `${e.name}: ${e.message}` }),
  );
  for (const f of taken) f.close();
  if ("child" in outcome) {
    outcome.child.kill("SIGKILL");
    await outcome.child.status;
    continue;
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  console.log(JSON.stringify({ attempt, error: outcome.error, left: tagged() }));
  Deno.exit(0);
}
console.log(JSON.stringify({ error: "never: every start had its jail's pid 1 before the fill" }));
