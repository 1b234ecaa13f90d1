// What a program is from its first bytes, and where the jail shows an interpreter.
import assert from "node:assert/strict";
import {
  jailPathOnHost,
  type JailView,
  parseProgramHead,
  SHEBANG_MAX,
  shownOnHost,
} from "./script.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("ELF, #! scripts and everything else, as execve tells them apart", () => {
  assert.deepEqual(parseProgramHead(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1])), {
    kind: "elf",
  });
  assert.deepEqual(parseProgramHead(bytes("#!/bin/sh\necho")), {
    kind: "script",
    interpreter: "/bin/sh",
  });
  assert.deepEqual(parseProgramHead(bytes("#! \t/usr/bin/env python3 -u\n")), {
    kind: "script",
    interpreter: "/usr/bin/env",
  });
  assert.deepEqual(parseProgramHead(bytes("#!/bin/sh")), {
    kind: "script",
    interpreter: "/bin/sh",
  });
  assert.deepEqual(parseProgramHead(bytes("#!relative\n")), {
    kind: "script",
    interpreter: "relative",
  });
  for (const other of ["", "echo hi\n", "#", " #!/bin/sh\n", "\x7fEL", "MZ\x90\0"]) {
    assert.deepEqual(parseProgramHead(bytes(other)), { kind: "other" }, JSON.stringify(other));
  }
});

Deno.test("a #! line without an interpreter, or one the kernel would cut, is refused", () => {
  for (const empty of ["#!\n", "#!   \n", "#!"]) {
    assert.deepEqual(parseProgramHead(bytes(empty)), {
      kind: "bad-script",
      reason: "its #! line names no interpreter (write its absolute path after #!, e.g. #!/bin/sh)",
    });
  }
  const long = `#!/${"x".repeat(SHEBANG_MAX)}`;
  assert.deepEqual(parseProgramHead(bytes(long)), {
    kind: "bad-script",
    reason:
      `its #! line is longer than the kernel reads (${SHEBANG_MAX} bytes; shorten it, e.g. with #!/usr/bin/env NAME)`,
  });
  // Cut after the interpreter's name: the kernel runs it, without the rest of the arguments.
  const cutArgs = `#!/bin/sh ${"x".repeat(SHEBANG_MAX)}`;
  assert.deepEqual(parseProgramHead(bytes(cutArgs)), { kind: "script", interpreter: "/bin/sh" });
});

const MERGED: JailView = {
  system: [
    { path: "/usr", kind: "dir" },
    { path: "/bin", kind: "symlink", target: "usr/bin" },
    { path: "/lib64", kind: "symlink", target: "/usr/lib64" },
  ],
  binds: [
    { source: "/home/u/tools", dest: "/opt/tools" },
    { source: "/srv/py", dest: "/opt/tools/py" },
  ],
};

Deno.test("the jail shows system directories, system symlinks followed, and binds at their destination", () => {
  assert.equal(jailPathOnHost("/usr/bin/python3", MERGED), "/usr/bin/python3");
  assert.equal(jailPathOnHost("/bin/sh", MERGED), "/usr/bin/sh");
  assert.equal(jailPathOnHost("/lib64/ld.so", MERGED), "/usr/lib64/ld.so");
  assert.equal(jailPathOnHost("/opt/tools/run", MERGED), "/home/u/tools/run");
  assert.equal(jailPathOnHost("/opt/tools/py/bin/python", MERGED), "/srv/py/bin/python");
  for (
    const hidden of ["/opt/node/bin/node", "/home/u/bin/x", "/usrx/bin/sh", "/binary", "/tmp/x"]
  ) {
    assert.equal(jailPathOnHost(hidden, MERGED), undefined, hidden);
  }
  const loop: JailView = { system: [{ path: "/a", kind: "symlink", target: "a" }], binds: [] };
  assert.equal(jailPathOnHost("/a/x", loop), undefined);
});

Deno.test("a host file is shown when its real path lies in a system directory or a bind source", () => {
  assert.equal(shownOnHost("/usr/bin/python3.11", MERGED), true);
  assert.equal(shownOnHost("/home/u/tools/run", MERGED), true);
  assert.equal(shownOnHost("/opt/node/bin/node", MERGED), false);
  assert.equal(shownOnHost("/bin/sh", MERGED), false, "a symlink's path is not a real path");
});
