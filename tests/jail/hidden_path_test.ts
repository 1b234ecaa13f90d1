// What a program sees of a path the jail does not show: ENOENT under bwrap (never mounted), EACCES
// under native (Landlock can only deny). tests/jail/README-native.md documents the difference.
// OpenSSL's configuration, which programs that start libcrypto read and treat EACCES on as fatal,
// is shown by both, so Debian's node runs under both (it exited 13 under native).

import assert from "node:assert/strict";
import { runWw } from "../support/ww.ts";

const hidden = Deno.makeTempFileSync({ prefix: "wwtest-hidden-" });
Deno.chmodSync(hidden, 0o644);
globalThis.addEventListener("unload", () => Deno.removeSync(hidden));

for (
  const [backend, answer] of [["bwrap", "No such file or directory"], [
    "native",
    "Permission denied",
  ]] as const
) {
  Deno.test(`--jail=${backend}: a path the jail does not show answers "${answer}"`, async () => {
    const r = await runWw(["run", `--jail=${backend}`, "/bin/cat", hidden]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `/bin/cat: ${hidden}: ${answer}\n`);
  });

  Deno.test(`--jail=${backend}: /etc/ssl/openssl.cnf is shown, and node starts libcrypto`, async (t) => {
    const r = await runWw(["run", `--jail=${backend}`, "/bin/cat", "/etc/ssl/openssl.cnf"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, Deno.readTextFileSync("/etc/ssl/openssl.cnf"));
    // Node.js is a prerequisite of this project's machines (README: "Two commands").
    await t.step("node", async () => {
      const node = await runWw([
        "run",
        `--jail=${backend}`,
        "/usr/bin/node",
        "-e",
        'console.log(require("crypto").createHash("sha256").update("ww").digest("hex"))',
      ]);
      assert.equal(node.stderr, "");
      assert.equal(node.code, 0);
      assert.match(node.stdout, /^[0-9a-f]{64}\n$/);
    });
  });
}
