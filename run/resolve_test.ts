// A program path that cannot be looked up says why in one line (resolveProgram); the PATH a
// name is looked up in (searchPath).
import assert from "node:assert/strict";
import { NotExecutableError, NotFoundError } from "../core/errors.ts";
import { resolveProgram, searchPath } from "./resolve.ts";

// statx's ELOOP and ENAMETOOLONG reached the user as "internal error: statx (...): ELOOP".
Deno.test("resolveProgram: a loop of links, or a path too long, is one line naming the program", () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-resolve-" });
  try {
    Deno.symlinkSync(`${dir}/b`, `${dir}/a`);
    Deno.symlinkSync(`${dir}/a`, `${dir}/b`);
    const long = `./${"x".repeat(5000)}`;
    for (
      const [program, why] of [
        [
          "./a",
          "./a: too many levels of symbolic links (a loop: fix or remove a link on its path, or give the program's own path)",
        ],
        [
          long,
          `${long}: its path is too long (give a shorter one, e.g. relative to a directory nearer the program)`,
        ],
      ]
    ) {
      assert.throws(
        () => resolveProgram(program, "/usr/bin", dir),
        (e) => e instanceof NotExecutableError && e.message === why,
      );
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

// `ww run d/prog/` ran d/prog: the path, made absolute, lost its slash.
Deno.test("resolveProgram: a file named with a trailing slash is not a directory, as execve says", () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-resolve-" });
  try {
    Deno.copyFileSync("/bin/true", `${dir}/prog`);
    Deno.chmodSync(`${dir}/prog`, 0o755);
    assert.equal(resolveProgram("./prog", "", dir), `${dir}/prog`);
    for (const program of ["./prog/", "./prog/.", "./prog/x/..", `${dir}/prog/..`]) {
      assert.throws(
        () => resolveProgram(program, "", dir),
        (e) => e instanceof NotExecutableError && /: not a directory/.test(e.message),
        program,
      );
    }
    // `..` after a link goes up from where it led, as the kernel resolves it.
    Deno.mkdirSync(`${dir}/real/sub`, { recursive: true });
    Deno.symlinkSync(`${dir}/real/sub`, `${dir}/link`);
    Deno.copyFileSync("/bin/true", `${dir}/real/prog`);
    Deno.chmodSync(`${dir}/real/prog`, 0o755);
    assert.throws(() => resolveProgram("./link/../prog", "", dir), NotExecutableError);
    assert.equal(resolveProgram("./real/sub/../prog", "", dir), `${dir}/real/prog`);
    assert.throws(
      () => resolveProgram("./", "", dir),
      (e) => e instanceof NotExecutableError && /is a directory/.test(e.message),
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

// `ww run .` said ".: /root/.cargo/bin: is a directory", naming the first PATH entry.
Deno.test("resolveProgram: . and .. are directories, not names to look up in PATH", () => {
  for (const program of [".", ".."]) {
    assert.throws(
      () => resolveProgram(program, "/usr/bin:/bin", "/tmp"),
      (e) =>
        e instanceof NotExecutableError &&
        e.message ===
          `${program}: is a directory, not a program (give the program's path, e.g. ./prog)`,
      program,
    );
  }
  // A name that only starts with dots is a name like any other.
  assert.throws(() => resolveProgram("...", "/usr/bin", "/tmp"), NotFoundError);
});

Deno.test("searchPath: a name is looked up in the program's own PATH when it has one, else the caller's", () => {
  assert.equal(searchPath({ PATH: "/opt/bin" }, () => "/usr/bin"), "/opt/bin");
  assert.equal(searchPath({ PATH: "" }, () => "/usr/bin"), "");
  assert.equal(searchPath({ HOME: "/root" }, () => "/usr/bin"), "/usr/bin");
  // The caller's is not read at all then: it may not be UTF-8 text, which must not stop the run.
  const unread = () => {
    throw new Error("the caller's PATH was read");
  };
  assert.equal(searchPath({ PATH: "/opt/bin" }, unread), "/opt/bin");
});

// `ww run lss` said "not found in PATH (give a path with a slash, e.g. ./lss)": a file that did
// not exist either, as if ww wanted a slash rather than the right name.
Deno.test("resolveProgram: a name found nowhere suggests ./name only when the cwd holds that file", () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-resolve-" });
  const before = Deno.cwd();
  try {
    Deno.chdir(dir);
    const message = () => {
      try {
        resolveProgram("wwtest-prog", "/nonexistent-wwtest", "/");
      } catch (e) {
        assert.ok(e instanceof NotFoundError);
        return e.message;
      }
      assert.fail("wwtest-prog was found");
    };
    assert.equal(
      message(),
      "wwtest-prog: not found in PATH (check its name, or give its path)",
    );
    Deno.writeTextFileSync(`${dir}/wwtest-prog`, "#!/bin/sh\n");
    assert.equal(
      message(),
      "wwtest-prog: not found in PATH (give a path with a slash, e.g. ./wwtest-prog)",
    );
  } finally {
    Deno.chdir(before);
    Deno.removeSync(dir, { recursive: true });
  }
});
