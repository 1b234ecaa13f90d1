// rpc/serve_test.ts — ipfsServiceFor's and execService's errors name the settings in their
// caller's words.

import assert from "node:assert/strict";
import { DEFAULT_POLICY } from "../jail/policy.ts";
import { LimitError } from "../core/errors.ts";
import type { RunConfig } from "../core/config.ts";
import { type Child, type StartOptions, startProgram } from "../run/start.ts";
import { execService, ipfsServiceFor, NO_GRANTS } from "./serve.ts";

Deno.test("ipfsServiceFor: a node it cannot reach is named by a library's option, or by ww run's flag", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close(); // nothing listens there now
  const config = {
    program: "app",
    args: [],
    fds: [],
    env: {},
    ipfsApi: `/ip4/127.0.0.1/tcp/${port}/http`,
    jail: DEFAULT_POLICY,
  };
  const path = "/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
  await assert.rejects(
    ipfsServiceFor(config).stat(path),
    /cannot reach the IPFS node at .*\(start it, or point ipfsApi at one\)$/,
  );
  await assert.rejects(
    ipfsServiceFor(config, "commandLine").stat(path),
    /cannot reach the IPFS node at .*\(start it, or point --ipfs or WW_IPFS at one\)$/,
  );
});

// A jail may fail once its program was spawned (bwrap's --nproc refusal, when concurrent starts
// took the processes its check counted on): that error reached the guest through Process.wait in
// the library's words ("use jail.limits.processes 21 or more") under `ww run`.
Deno.test("execService: a started jail's failure after its spawn reaches Process.wait in the caller's words", async () => {
  const config: RunConfig = {
    program: "/bin/sleep",
    args: ["30"],
    fds: [],
    env: {},
    ipfsApi: "/dns4/localhost/tcp/5001/http",
    jail: { ...DEFAULT_POLICY, backend: "none" },
  };
  const parent = await startProgram(config);
  // The run's real start, whose jail then fails as bwrap's can after the spawn.
  const failingAfterSpawn = async (c: RunConfig, o?: StartOptions): Promise<Child> => {
    const child = await startProgram(c, o);
    const status = child.status.then(() => {
      throw new LimitError("processes", 20, "jail.limits.processes 20: use 21 or more", {
        commandLine: "--nproc 20: use --nproc 21 or more",
      });
    });
    return { ...child, status };
  };
  try {
    const request = { program: "/bin/true", args: [], fds: [], grants: NO_GRANTS };
    for (
      const [words, line] of [
        ["commandLine", "--nproc 20: use --nproc 21 or more"],
        ["library", "jail.limits.processes 20: use 21 or more"],
      ] as const
    ) {
      const started = await execService(
        config,
        parent,
        failingAfterSpawn,
        { version: "test" },
        words,
      )(request);
      await assert.rejects(started.status, (e) => e instanceof Error && e.message === line);
      await started.served;
    }
  } finally {
    parent.kill("SIGKILL");
    await parent.status;
  }
});
