import assert from "node:assert/strict";
import { DEFAULT_POLICY } from "../jail/policy.ts";
import type { RunConfig } from "../core/config.ts";
import { LimitError, UsageError } from "../core/errors.ts";
import {
  bundleGuest,
  checkDenoGuestMemory,
  DENO_GUEST_MIN_MEMORY,
  denoGuestConfig,
} from "./deno_guest.ts";

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

// Below ~560 MiB of RLIMIT_DATA Deno dies as it starts ("Failed to reserve virtual memory for
// CodeRange", SIGTRAP, exit 133): ww chose that runtime, so a --memory it cannot start with is
// refused before anything is bundled, as other limits that cannot work are (125).
Deno.test("--deno: a --memory too low for Deno to start in a jail is refused, naming a value that works", () => {
  const limited = (backend: "auto" | "bwrap" | "native" | "none", memoryBytes: number) => ({
    ...guest,
    jail: { ...guest.jail, backend, limits: { ...guest.jail.limits, memoryBytes } },
  });
  for (const backend of ["auto", "bwrap", "native"] as const) {
    assert.throws(() => checkDenoGuestMemory(limited(backend, 512 << 20)), (e: unknown) => {
      assert.ok(e instanceof LimitError, String(e));
      assert.equal(e.limit, "memoryBytes");
      assert.equal(
        e.message,
        "--memory 512M: too low for a --deno guest (RLIMIT_DATA: Deno reserves about 560M of address space as it starts); use 768M or more",
      );
      return true;
    });
    checkDenoGuestMemory(limited(backend, DENO_GUEST_MIN_MEMORY));
  }
  // Unjailed, no limit is enforced: nothing to refuse.
  checkDenoGuestMemory(limited("none", 64 << 20));
});

// deno bundle loads esbuild into the caller's Deno cache on first use: offline, or as a user whose
// cache lacks it, the run failed in deno's words alone.
Deno.test("--deno: a deno bundle that cannot load esbuild says how to get it", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-deno-guest-" });
  try {
    const fake = `${dir}/deno`;
    Deno.writeTextFileSync(
      fake,
      "#!/bin/sh\necho 'error: Failed loading https://registry.npmjs.org/@esbuild%2flinux-x64 for package \"@esbuild/linux-x64\"' >&2\nexit 1\n",
    );
    Deno.chmodSync(fake, 0o755);
    Deno.writeTextFileSync(`${dir}/main.ts`, "console.log(1);\n");
    await assert.rejects(bundleGuest(fake, "main.ts", dir, dir), (e: unknown) => {
      assert.ok(e instanceof UsageError, String(e));
      assert.match(
        e.message,
        /^--deno main\.ts: deno bundle: Failed loading .*esbuild.*; deno bundle loads esbuild into your Deno cache the first time it runs: run it once with network access/,
      );
      return true;
    });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
