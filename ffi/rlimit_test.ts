// ffi/rlimit_test.ts — hardLimitsNow against the limits prlimit(1) started a process with.

import assert from "node:assert/strict";

Deno.test("hardLimitsNow reads the hard limits a process was started with; unlimited is absent", async () => {
  const script = `const { hardLimitsNow } = await import(${
    JSON.stringify(new URL("./rlimit.ts", import.meta.url).href)
  }); console.log(JSON.stringify(hardLimitsNow()));`;
  // Soft and hard alike: 100 s of CPU (or none, as a shell's usually is), 16 GiB of data (Deno
  // needs more than a little), 3000 processes, 4000 descriptors.
  const run = async (cpu: string) => {
    const out = await new Deno.Command("prlimit", {
      args: [
        `--cpu=${cpu}:${cpu}`,
        `--data=${2 ** 34}:${2 ** 34}`,
        "--nproc=3000:3000",
        "--nofile=4000:4000",
        "--",
        Deno.execPath(),
        "eval",
        script,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assert.equal(out.code, 0);
    return JSON.parse(new TextDecoder().decode(out.stdout));
  };
  assert.deepEqual(await run("100"), { cpu: 100, data: 2 ** 34, nproc: 3000, nofile: 4000 });
  assert.deepEqual(await run("unlimited"), { data: 2 ** 34, nproc: 3000, nofile: 4000 });
});
