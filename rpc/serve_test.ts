// rpc/serve_test.ts — ipfsServiceFor's errors name the IPFS settings in its caller's words.

import assert from "node:assert/strict";
import { DEFAULT_POLICY } from "../jail/policy.ts";
import { ipfsServiceFor } from "./serve.ts";

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
