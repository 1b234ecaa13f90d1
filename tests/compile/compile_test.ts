// The compiled single binary: `deno task compile` output runs `--version` and a `run` with
// --with-fd. `deno compile` needs a denort runtime, which it downloads unless DENORT_BIN names
// one; these machines cannot download it, so without DENORT_BIN the test is reported as ignored
// (never as passed) and says why.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { denortProblem, isDenortDownloadFailure } from "../../scripts/compile.ts";

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

function withoutDenort(env: Record<string, string>): Record<string, string> {
  const { DENORT_BIN: _, ...rest } = env;
  return rest;
}

/** `deno task compile` with `env` added; its stderr without deno task's own "Task ..." line. */
async function compile(env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "compile"],
    cwd: root,
    // DENORT_BIN only as given: the caller's own would hide what is tested.
    clearEnv: true,
    env: { ...withoutDenort(Deno.env.toObject()), NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr).split("\n")
    .filter((l) => l !== "" && !l.startsWith("Task compile"));
  return { code: out.code, stderr };
}

Deno.test("a DENORT_BIN that is not there is one line naming it, before deno compile runs", async () => {
  const r = await compile({ DENORT_BIN: `${root}no-such-denort` });
  assert.equal(r.code, 1);
  assert.deepEqual(r.stderr, [
    `deno task compile: DENORT_BIN=${root}no-such-denort: no such file (point it at a denort binary of Deno ${Deno.version.deno})`,
  ]);
  assert.throws(() => Deno.statSync(`${root}ww`), Deno.errors.NotFound);
});

Deno.test("where denort cannot be downloaded, one line says it is missing and names DENORT_BIN", async () => {
  // No cached denort (a fresh DENO_DIR), and a proxy that refuses: the download fails on any
  // machine, with network or without.
  const denoDir = await Deno.makeTempDir({ prefix: "ww-compile-deno-dir-" });
  try {
    // The bundle that deno compile compiles, built first with this DENO_DIR: deno bundle fetches
    // esbuild from npm, which the refusing proxy would block before deno compile ever ran.
    const bundle = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/bundle.ts", "--if-stale"],
      cwd: root,
      stderr: "piped",
    }).output();
    assert.ok(bundle.success, new TextDecoder().decode(bundle.stderr));
    const r = await compile({
      DENO_DIR: denoDir,
      HTTPS_PROXY: "http://127.0.0.1:9",
    });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.length, 1, r.stderr.join("\n"));
    assert.match(
      r.stderr[0],
      /^deno task compile: deno compile needs denort, .* cannot download it here \(denort-.*\.zip from dl\.deno\.land\): set DENORT_BIN to a local denort binary of Deno /,
    );
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
});

Deno.test("only a failed download of denort is reported as such; a DENORT_BIN must be an executable file", () => {
  assert.ok(
    isDenortDownloadFailure(
      "error: Writing deno compile executable to temporary file 'ww.tmp-1'\n\nCaused by:\n    0: error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip): client error (Connect)\n    3: dns error",
    ),
  );
  assert.ok(!isDenortDownloadFailure("error: TS2322 [ERROR]: Type 'string' is not assignable"));
  assert.ok(
    !isDenortDownloadFailure("error sending request for url (https://registry.npmjs.org/x)"),
  );
  const file = (mode: number) => ({ isFile: true, mode }) as Deno.FileInfo;
  const elf = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2]);
  const look = (info: Deno.FileInfo | undefined, head = elf, isDeno = false) => ({
    stat: () => info,
    head: () => head,
    isDeno: () => isDeno,
  });
  assert.equal(denortProblem({}, look(undefined)), undefined);
  assert.equal(denortProblem({ DENORT_BIN: "/d" }, look(file(0o755))), undefined);
  assert.match(denortProblem({ DENORT_BIN: "/d" }, look(file(0o644))) ?? "", /not executable/);
  assert.match(
    denortProblem({ DENORT_BIN: "/d" }, look({ isFile: false } as Deno.FileInfo)) ?? "",
    /not a file/,
  );
  // deno compile spun, silent, for minutes on these: an executable text file, and deno itself.
  const text = new TextEncoder().encode("#!");
  assert.match(
    denortProblem({ DENORT_BIN: "/d" }, look(file(0o755), text)) ?? "",
    /^DENORT_BIN=\/d: not a program binary \(no ELF header; point it at a denort binary/,
  );
  assert.match(
    denortProblem({ DENORT_BIN: "/d" }, look(file(0o755), elf, true)) ?? "",
    /^DENORT_BIN=\/d: that is deno itself, not denort/,
  );
});
