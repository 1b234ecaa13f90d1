// The permission bits the jail's checks read (run/ids.ts): which of owner, group and other
// applies to a user, and what writing or entering needs; and a program path that cannot be
// looked up says why in one line (resolveProgram).
import assert from "node:assert/strict";
import { NotExecutableError, NotFoundError } from "../core/errors.ts";
import {
  hasExecuteBit,
  hasWriteBit,
  permissionClass,
  resolveProgram,
  searchPath,
} from "./resolve.ts";

function info(mode: number, uid: number, gid: number, isDirectory: boolean): Deno.FileInfo {
  return { mode, uid, gid, isDirectory, isFile: !isDirectory } as Deno.FileInfo;
}

const JAIL = { uid: 70000, gid: 70000 };

Deno.test("write needs the w bit of the class that applies, and on a directory x too", () => {
  for (let mode = 0; mode < 0o1000; mode++) {
    for (const isDirectory of [false, true]) {
      const need = isDirectory ? 3 : 2;
      const owner = info(mode, 70000, 0, isDirectory);
      const group = info(mode, 0, 70000, isDirectory);
      const other = info(mode, 0, 0, isDirectory);
      assert.equal(hasWriteBit(owner, JAIL), ((mode >> 6) & need) === need, mode.toString(8));
      assert.equal(hasWriteBit(group, JAIL), ((mode >> 3) & need) === need, mode.toString(8));
      assert.equal(hasWriteBit(other, JAIL), (mode & need) === need, mode.toString(8));
      // The owner's class applies even when it grants less than group or other would.
      if ((mode >> 6 & need) !== need) assert.equal(hasWriteBit(owner, JAIL), false);
    }
  }
});

Deno.test("root may write anything; setuid, setgid and sticky bits change nothing", () => {
  assert.equal(hasWriteBit(info(0o000, 0, 0, true), { uid: 0, gid: 0 }), true);
  assert.equal(hasWriteBit(info(0o1777, 0, 0, true), JAIL), true);
  assert.equal(hasWriteBit(info(0o4755, 0, 0, false), JAIL), false);
});

Deno.test("execute and search need the x bit of the class that applies", () => {
  for (let mode = 0; mode < 0o1000; mode++) {
    assert.equal(hasExecuteBit(info(mode, 70000, 0, true), JAIL), (mode & 0o100) !== 0);
    assert.equal(hasExecuteBit(info(mode, 0, 70000, true), JAIL), (mode & 0o010) !== 0);
    assert.equal(hasExecuteBit(info(mode, 0, 0, true), JAIL), (mode & 0o001) !== 0);
  }
});

// ww not root runs a jail as its own user, whose supplementary groups the jail keeps: a directory
// it may write through one of them was refused as the jail's user's.
Deno.test("a supplementary group counts as the gid does; the owner's class still comes first", () => {
  const member = { uid: 1000, gid: 1000, groups: [27] };
  for (let mode = 0; mode < 0o1000; mode++) {
    for (const isDirectory of [false, true]) {
      const need = isDirectory ? 3 : 2;
      const group = info(mode, 0, 27, isDirectory);
      assert.equal(hasWriteBit(group, member), ((mode >> 3) & need) === need, mode.toString(8));
      assert.equal(hasExecuteBit(group, member), (mode & 0o010) !== 0, mode.toString(8));
      const owned = info(mode, 1000, 27, isDirectory);
      assert.equal(hasWriteBit(owned, member), ((mode >> 6) & need) === need, mode.toString(8));
      assert.equal(permissionClass(owned, member), "owner");
    }
  }
  assert.equal(permissionClass(info(0o770, 0, 27, true), member), "group");
  assert.equal(permissionClass(info(0o770, 0, 27, true), { uid: 1000, gid: 1000 }), "other");
});

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
