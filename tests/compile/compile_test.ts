// The compiled single binary: `deno task compile` output runs `--version` and a `run` with
// --with-fd. `deno compile` needs a denort runtime, which it downloads unless DENORT_BIN names
// one; these machines cannot download it, so without DENORT_BIN the test is reported as ignored
// (never as passed) and says why.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const denort = Deno.env.get("DENORT_BIN");
if (!denort) console.error("compile_test: not run: no denort (set DENORT_BIN to a denort binary)");

Deno.test({
  name: "the compiled ww prints its version and runs a program with a granted fd",
  ignore: !denort,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "ww-compile-test-" });
    try {
      // `deno task compile` itself: its --include list must name every lazily imported module.
      const build = await new Deno.Command(Deno.execPath(), {
        args: ["task", "compile"],
        cwd: root,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(build.success, new TextDecoder().decode(build.stderr));
      const out = `${dir}/ww`;
      await Deno.rename(`${root}ww`, out);
      const version = await new Deno.Command(out, { args: ["--version"], stdout: "piped" })
        .output();
      assert.match(new TextDecoder().decode(version.stdout), /^ww \d+\.\d+\.\d+/);
      const file = `${dir}/greeting`;
      await Deno.writeTextFile(file, "hi from fd 9\n");
      const run = await new Deno.Command("bash", {
        args: [
          "-c",
          `exec 9<"${file}"; exec "${out}" run --with-fd greeting=9 /bin/sh -c 'echo $WW_FD_GREETING; cat <&4'`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
      assert.equal(new TextDecoder().decode(run.stdout), "4\nhi from fd 9\n");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
