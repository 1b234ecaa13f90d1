// core/config.ts: the caller's TMPDIR, as every backend takes it, the strings of a run execve(2) can
// carry, and the ids a jail may run as.
import assert from "node:assert/strict";
import {
  execStringsProblem,
  hostFdVariableProblem,
  jailIdProblem,
  unbackedFdVariableProblem,
  workdirParent,
} from "./config.ts";

Deno.test("an unset or empty TMPDIR means /tmp; an absolute one is used as it is", () => {
  assert.deepEqual(workdirParent(undefined), { dir: "/tmp" });
  assert.deepEqual(workdirParent(""), { dir: "/tmp" });
  assert.deepEqual(workdirParent("/var/tmp"), { dir: "/var/tmp" });
  assert.deepEqual(workdirParent("/var/tmp//"), { dir: "/var/tmp" });
  assert.deepEqual(workdirParent("/"), { dir: "/" });
});

Deno.test("a relative or ':'-separated TMPDIR is refused in one line naming TMPDIR and the fix", () => {
  const fix = "(set TMPDIR to one absolute directory, e.g. /tmp, or unset it)";
  assert.deepEqual(workdirParent("tmp"), { error: `TMPDIR=tmp: not an absolute path ${fix}` });
  assert.deepEqual(workdirParent("./x"), { error: `TMPDIR=./x: not an absolute path ${fix}` });
  assert.deepEqual(workdirParent("/tmp:/var/tmp"), {
    error: `TMPDIR=/tmp:/var/tmp: holds one directory, not a list separated by ':' ${fix}`,
  });
});

Deno.test("a TMPDIR that leaves no room for the paths ww makes in it is refused, in bytes", () => {
  // 4031 bytes of path, the longest: a work directory and a --deno guest's bundle fit below 4096.
  const longest = "/" + "d".repeat(4030);
  assert.deepEqual(workdirParent(longest), { dir: longest });
  assert.deepEqual(workdirParent(`${longest}/`), { dir: longest });
  const over = `${longest}d`;
  assert.deepEqual(workdirParent(over), {
    error:
      `TMPDIR=${over}: too long (4032 bytes; the paths ww makes in it need 64 more, and the kernel takes at most 4095, PATH_MAX) (set TMPDIR to a directory of at most 4031 bytes, e.g. /tmp, or unset it)`,
  });
  // Counted in UTF-8: 1344 characters of 3 bytes each are 4032 bytes.
  const wide = "/" + "\u20ac".repeat(1344);
  assert.match((workdirParent(wide) as { error: string }).error, /too long \(4033 bytes/);
});

Deno.test("a run's strings that execve(2) cannot carry as given are named: env names, NUL bytes", () => {
  const ok = { program: "/bin/env", args: ["a b", ""], env: { A: "x=y", B: "" } };
  assert.equal(execStringsProblem(ok), undefined);
  const cases: [Parameters<typeof execStringsProblem>[0], string][] = [
    [{ ...ok, env: { "A=B": "1" } }, `env "A=B": the variable name contains '='`],
    [{ ...ok, env: { "": "1" } }, `env "": the variable name is empty`],
    [{ ...ok, env: { A: "1\0" } }, `env "A": the value contains a NUL byte`],
    [{ ...ok, args: ["ok", "x\0y"] }, "args[1]: contains a NUL byte"],
    [{ ...ok, program: "/bin/env\0" }, "program: contains a NUL byte"],
  ];
  for (const [run, problem] of cases) assert.equal(execStringsProblem(run), problem);
});

// --explain ran nothing, and a string execve takes in no page size passed it, while the run
// failed with E2BIG.
Deno.test("a string longer than execve takes in one (32 pages, its NUL included) is named", () => {
  const ok = { program: "/bin/env", args: [], env: {} };
  const pages4k = () => 4096;
  const most = 32 * 4096 - 1; // bytes, without the NUL
  assert.equal(execStringsProblem({ ...ok, args: ["a".repeat(most)] }, pages4k), undefined);
  assert.match(
    execStringsProblem({ ...ok, args: ["", "a".repeat(most + 1)] }, pages4k) ?? "",
    /^args\[1\]: longer than execve takes in one string .*E2BIG/,
  );
  // KEY=VALUE is the one string: its name and '=' count.
  assert.equal(
    execStringsProblem({ ...ok, env: { A: "a".repeat(most - 2) } }, pages4k),
    undefined,
  );
  assert.match(
    execStringsProblem({ ...ok, env: { A: "a".repeat(most - 1) } }, pages4k) ?? "",
    /^env "A": longer than execve takes/,
  );
  // UTF-8 bytes, not UTF-16 units: 43691 "€" are 131073 bytes.
  assert.match(
    execStringsProblem({ ...ok, args: ["€".repeat(43691)] }, pages4k) ?? "",
    /^args\[0\]: longer/,
  );
  // With 64 KiB pages the kernel takes 2 MiB: only the machine's page size says.
  assert.equal(execStringsProblem({ ...ok, args: ["a".repeat(most + 1)] }, () => 65536), undefined);
  // A short string never asks for the page size.
  execStringsProblem(ok, () => {
    throw new Error("asked");
  });
});

Deno.test("a WW_FD_ variable set by hand is refused unless a grant of its name backs it", () => {
  assert.equal(unbackedFdVariableProblem({ A: "1", WW_FDX: "2" }, []), undefined);
  assert.equal(unbackedFdVariableProblem({ WW_FD_DB: "9" }, ["db"]), undefined);
  assert.equal(unbackedFdVariableProblem({ WW_FD_DB: "9" }, ["Db"]), undefined);
  assert.equal(
    unbackedFdVariableProblem({ WW_FD_DB: "9", WW_FD_LOG: "8" }, ["db"]),
    "--env WW_FD_LOG=8 (or --env-file): WW_FD_ variables are ww's, one for each descriptor grant, and no grant is named log (grant one: --with-fd log=FD)",
  );
  // Where the command line's parser knows which flag set it, that flag alone.
  assert.match(
    unbackedFdVariableProblem({ WW_FD_LOG: "8" }, [], "commandLine", {
      WW_FD_LOG: "--env-file app.env:3",
    })!,
    /^--env-file app\.env:3: WW_FD_ variables are ww's/,
  );
  assert.equal(
    unbackedFdVariableProblem({ WW_FD_LOG: "8" }, [], "library"),
    "env WW_FD_LOG: WW_FD_ variables are ww's, one for each descriptor grant, and no grant is named log (grant one: fds)",
  );
  // A grant's variable is upper case: this one is not it, whatever the grant's name.
  assert.match(
    unbackedFdVariableProblem({ WW_FD_db: "9" }, ["db"]) ?? "",
    /and the grant's variable is upper case \(WW_FD_DB\)$/,
  );
  // With no such grant it says so, and suggests one only by a name a grant may have.
  assert.match(
    unbackedFdVariableProblem({ WW_FD_y: "9" }, []) ?? "",
    /and no grant is named y \(grant one: --with-fd y=FD\)$/,
  );
  for (const key of ["WW_FD_", "WW_FD_1X", "WW_FD_A-B"]) {
    assert.match(
      unbackedFdVariableProblem({ [key]: "1" }, []) ?? "",
      /and this one names no grant$/,
    );
  }
  // A long value is cut in the message.
  assert.ok((unbackedFdVariableProblem({ WW_FD_X: "v".repeat(5000) }, []) ?? "").length < 300);
  // Lower case is not GetFDMap's prefix: not a grant to any guest.
  assert.equal(unbackedFdVariableProblem({ ww_fd_db: "9" }, []), undefined);
});

Deno.test("WW_HOST_FD set by hand is refused, unless socket activation sets it anyway", () => {
  assert.equal(hostFdVariableProblem({ A: "1" }, false), undefined);
  assert.equal(hostFdVariableProblem({ WW_HOST_FD: "4" }, true), undefined);
  assert.equal(
    hostFdVariableProblem({ WW_HOST_FD: "4" }, false),
    "--env WW_HOST_FD=4 (or --env-file): WW_HOST_FD is ww's, set under --socket-activation to the host socket's descriptor, which a guest library takes it for",
  );
  assert.match(
    hostFdVariableProblem({ WW_HOST_FD: "4" }, false, "commandLine", {
      WW_HOST_FD: "--env WW_HOST_FD",
    })!,
    /^--env WW_HOST_FD: WW_HOST_FD is ww's/,
  );
  assert.equal(
    hostFdVariableProblem({ WW_HOST_FD: "4" }, false, "library"),
    "env WW_HOST_FD: WW_HOST_FD is ww's, set under socketActivation to the host socket's descriptor, which a guest library takes it for",
  );
});

Deno.test("jailIdProblem: an integer from 0 to 2^31-1, as bubblewrap takes it", () => {
  for (const ok of [0, 1, 65534, 2147483647]) assert.equal(jailIdProblem(ok), undefined, `${ok}`);
  for (const bad of [-1, 0.5, 2147483648, 4294967294, NaN]) {
    assert.match(jailIdProblem(bad)!, /^expected a numeric id from 0 to 2147483647/, `${bad}`);
  }
});
