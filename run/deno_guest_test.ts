import assert from "node:assert/strict";
import { DEFAULT_POLICY } from "../jail/policy.ts";
import type { RunConfig } from "../core/config.ts";
import { denoGuestConfig } from "./deno_guest.ts";

const guest: RunConfig = {
  program: "guest.ts",
  args: ["--port", "8080"],
  fds: [{ name: "db", source: 7 }],
  env: { GREETING: "hi" },
  ipfsApi: "",
  jail: { ...DEFAULT_POLICY, readOnlyBinds: [{ source: "/srv", dest: "/srv" }] },
};

Deno.test("a Deno guest runs as `deno run -q -A <bundle>` with its own arguments after the bundle", () => {
  const c = denoGuestConfig(guest, "/opt/deno", "/tmp/ww-deno-1/guest.js");
  assert.equal(c.program, "/opt/deno");
  assert.deepEqual(c.args, ["run", "-q", "-A", "/tmp/ww-deno-1/guest.js", "--port", "8080"]);
  assert.deepEqual(c.fds, guest.fds);
});

Deno.test("the jail shows deno and the bundle read-only, after the caller's own binds", () => {
  const c = denoGuestConfig(guest, "/opt/deno", "/tmp/ww-deno-1/guest.js");
  assert.deepEqual(c.jail.readOnlyBinds, [
    { source: "/srv", dest: "/srv" },
    { source: "/opt/deno", dest: "/opt/deno" },
    { source: "/tmp/ww-deno-1/guest.js", dest: "/tmp/ww-deno-1/guest.js" },
  ]);
  assert.deepEqual(c.jail.writableBinds, []);
  assert.equal(c.jail.backend, guest.jail.backend);
});

Deno.test("with no jail nothing is bound for the guest: the warning names only the caller's --ro-bind", () => {
  const none = { ...guest, jail: { ...guest.jail, backend: "none" as const } };
  const c = denoGuestConfig(none, "/opt/deno", "/tmp/ww-deno-1/guest.js");
  assert.deepEqual(c.jail.readOnlyBinds, [{ source: "/srv", dest: "/srv" }]);
});

Deno.test("DENO_DIR is set for deno, unless the caller set it with --env", () => {
  const c = denoGuestConfig(guest, "/opt/deno", "/b.js");
  assert.deepEqual(c.env, { DENO_DIR: ".deno", GREETING: "hi" });
  const own = denoGuestConfig({ ...guest, env: { DENO_DIR: "/cache" } }, "/opt/deno", "/b.js");
  assert.deepEqual(own.env, { DENO_DIR: "/cache" });
});
