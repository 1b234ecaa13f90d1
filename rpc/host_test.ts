import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { PROTOCOL_VERSION } from "./host.ts";

Deno.test("PROTOCOL_VERSION is the schema's protocolVersion", async () => {
  const schema = fileURLToPath(new URL("./ww.capnp", import.meta.url));
  const out = await new Deno.Command("capnp", { args: ["eval", schema, "protocolVersion"] })
    .output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  assert.equal(Number(new TextDecoder().decode(out.stdout).trim()), PROTOCOL_VERSION);
});
