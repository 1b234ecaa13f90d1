// Local programs that are scripts, or are not programs at all, behave the same under every
// backend, decided by ww before any jail is built: a #! interpreter that is missing, or that the
// jail does not show, exits 127 in one line naming it; a file that is neither an ELF binary nor a
// #! script exits 126 in one line. Nothing is left behind.

import assert from "node:assert/strict";
import { privateTmp, processesWithArg, wwDirs } from "../support/procs.ts";
import { errorLines, runWw } from "../support/ww.ts";
import { Command, NotFoundError } from "../../mod.ts";

const dir = Deno.makeTempDirSync({ prefix: "wwtest-scripts-" });
Deno.chmodSync(dir, 0o755); // the jail's user (nobody) must reach the scripts
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

function script(name: string, text: string): string {
  const path = `${dir}/${name}`;
  Deno.writeTextFileSync(path, text);
  Deno.chmodSync(path, 0o755);
  return path;
}

const missing = script("missing", "#!/nonexistent/interp\necho ran\n");
const plain = script("plain", "echo ran\n");
const empty = script("empty", "");
const inner = script("inner", "#!/bin/sh\necho inner ran\n");
const nested = script("nested", `#!${inner}\n`);
const good = script("good", "#!/bin/sh -e\necho good ran\n");
const crlf = script("crlf", "#!/bin/sh\r\necho ran\r\n");
const text = script("text", "hello\n");
Deno.chmodSync(text, 0o644);
const ofText = script("of-text", `#!${text}\n`);
const ofDirectory = script("of-directory", "#!/etc\n");
// An interpreter only its owner (root) may execute: ww may, the jail's own user may not.
Deno.copyFileSync("/bin/sh", `${dir}/owners-sh`);
Deno.chmodSync(`${dir}/owners-sh`, 0o744);
const ofOwnersOnly = script("of-owners-only", `#!${dir}/owners-sh\necho ran\n`);
// An interpreter in a directory only root may enter.
Deno.mkdirSync(`${dir}/private`, { mode: 0o700 });
Deno.copyFileSync("/bin/sh", `${dir}/private/sh`);
Deno.chmodSync(`${dir}/private/sh`, 0o755);
const ofPrivate = script("of-private", `#!${dir}/private/sh\necho ran\n`);

const BACKENDS = ["bwrap", "native", "none"] as const;

async function run(backend: string, program: string, flags: string[] = []) {
  const tmp = privateTmp();
  const tag = `tag=${crypto.randomUUID()}`;
  try {
    const r = await runWw(["run", `--jail=${backend}`, ...flags, program, tag], {
      env: { TMPDIR: tmp },
    });
    assert.deepEqual(wwDirs(tmp), [], "a work directory was left behind");
    assert.deepEqual(processesWithArg(tag), [], "a process was left behind");
    return { ...r, errors: errorLines(r.stderr) };
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
}

for (const backend of BACKENDS) {
  Deno.test(`--jail=${backend}: a missing #! interpreter exits 127, naming it in one line`, async () => {
    const r = await run(backend, missing);
    assert.equal(r.code, 127, r.stderr);
    assert.equal(r.stdout, "");
    assert.deepEqual(r.errors, [
      `ww: ${missing}: its interpreter /nonexistent/interp (from the #! line) does not exist (install it, or fix the #! line)`,
    ]);
  });

  // It said "its interpreter /bin/sh\r (from the #! line) does not exist (install it, or fix the
  // #! line)": true, but the fix is the file's Windows line endings, which nothing named.
  Deno.test(`--jail=${backend}: a #! line with a Windows line ending exits 127, naming the fix`, async () => {
    const r = await run(backend, crlf);
    assert.equal(r.code, 127, r.stderr);
    assert.equal(r.stdout, "");
    assert.deepEqual(r.errors, [
      `ww: ${crlf}: its interpreter /bin/sh\\r (from the #! line) does not exist: the line ends in a carriage return, as a file with Windows line endings does (convert its line endings, e.g. with dos2unix or sed -i 's/\\r$//')`,
    ]);
  });

  for (const [what, path] of [["without #!", plain], ["that is empty", empty]] as const) {
    Deno.test(`--jail=${backend}: a file ${what} exits 126 in one line; no shell runs it`, async () => {
      const r = await run(backend, path);
      assert.equal(r.code, 126, r.stderr);
      assert.equal(r.stdout, "");
      assert.deepEqual(r.errors, [
        `ww: ${path}: neither a binary nor a #! script, so it cannot be executed (add a #! line, e.g. #!/bin/sh, or run it with its interpreter)`,
      ]);
    });
  }

  // The jail's view was asked first: a file that could never run got advice to show it to the
  // jail (127), and then, bound, failed again (126), where an unjailed run said 126 at once.
  for (
    const [what, path, interp] of [["a text file", ofText, text], [
      "a directory",
      ofDirectory,
      "/etc",
    ]]
  ) {
    Deno.test(`--jail=${backend}: an interpreter that is ${what} exits 126 at once, bound or not`, async () => {
      const fix = interp === "/etc"
        ? "fix the #! line"
        : `fix the #! line, or make it executable: chmod +x ${Deno.realPathSync(interp)}`;
      for (const flags of [[], ["--ro-bind", interp]]) {
        const r = await run(backend, path, flags);
        assert.equal(r.code, 126, r.stderr);
        assert.deepEqual(r.errors, [
          `ww: ${path}: its interpreter ${interp} (from the #! line) is not an executable file (${fix})`,
        ]);
      }
    });
  }

  Deno.test(`--jail=${backend}: a #! script with its interpreter in the jail runs`, async () => {
    const r = await run(backend, good);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "good ran\n");
  });
}

for (const backend of ["bwrap", "native"] as const) {
  Deno.test(`--jail=${backend}: an interpreter the jail does not show exits 127, and runs once bound`, async () => {
    const r = await run(backend, nested);
    assert.equal(r.code, 127, r.stderr);
    assert.deepEqual(r.errors, [
      `ww: ${nested}: its interpreter ${inner} (from the #! line) exists on this machine but not in the jail, which shows the system directories and the binds (show it with --ro-bind ${inner})`,
    ]);
    const bound = await run(backend, nested, ["--ro-bind", inner]);
    assert.equal(bound.code, 0, bound.stderr);
    assert.equal(bound.stdout, "inner ran\n");
  });
}

// ww (root) may execute an interpreter of mode 0744, the jail's leased user may not: the kernel
// refused it in the jail with a bare "execve: EACCES" that blamed the script.
for (const backend of ["bwrap", "native"] as const) {
  Deno.test(`--jail=${backend}: an interpreter the jail's user may not execute exits 126, naming it`, async () => {
    const r = await run(backend, ofOwnersOnly, ["--ro-bind", dir]);
    assert.equal(r.code, 126, r.stderr);
    assert.equal(r.errors.length, 1, r.stderr);
    assert.match(
      r.errors[0],
      new RegExp(
        `^ww: ${ofOwnersOnly}: its interpreter ${dir}/owners-sh \\(from the #! line\\): the jail runs programs as uid \\d+, which may not execute it \\(chmod o\\+rx ${dir}/owners-sh, or use --jail=none\\)$`,
      ),
    );
  });
}

for (const backend of ["bwrap", "native"] as const) {
  Deno.test(`--jail=${backend}: an interpreter where the jail's user cannot walk exits 126, naming the directory`, async () => {
    const r = await run(backend, ofPrivate, ["--ro-bind", dir]);
    assert.equal(r.code, 126, r.stderr);
    assert.equal(r.errors.length, 1, r.stderr);
    assert.ok(
      r.errors[0].startsWith(
        `ww: ${ofPrivate}: its interpreter ${dir}/private/sh (from the #! line): the jail runs as uid `,
      ),
      r.errors[0],
    );
    assert.match(r.errors[0], new RegExp(`which cannot enter ${dir}/private \\(mode `));
  });

  // --explain refuses what the run refuses, in its line and code.
  Deno.test(`--jail=${backend} --explain: an interpreter the jail's user may not execute is the run's refusal`, async () => {
    const flags = ["--ro-bind", dir];
    const r = await run(backend, ofOwnersOnly, flags);
    const explained = await run(backend, ofOwnersOnly, ["--explain", ...flags]);
    assert.equal(explained.code, 126, explained.stderr);
    // The id each leased (or would) may differ: other jails run meanwhile.
    const anyUid = (lines: string[]) => lines.map((l) => l.replace(/uid \d+/, "uid N"));
    assert.deepEqual(anyUid(explained.errors), anyUid(r.errors));
  });
}

Deno.test("--jail=none: an interpreter only ww may execute runs (ww is the one executing it)", async () => {
  const r = await run("none", ofOwnersOnly);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "ran\n");
});

Deno.test("--jail=none: an interpreter anywhere on the host runs (no jail to hide it)", async () => {
  const r = await run("none", nested);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "inner ran\n");
});

for (const backend of ["bwrap", "native"] as const) {
  Deno.test(`Command, jail ${backend}: an interpreter the jail does not show is a NotFoundError in a library caller's words, and runs once bound`, async () => {
    await assert.rejects(
      new Command(nested, { jail: { backend } }).output(),
      (e: unknown) => {
        assert.ok(e instanceof NotFoundError, String(e));
        assert.equal(
          e.message,
          `${nested}: its interpreter ${inner} (from the #! line) exists on this machine but not in the jail, which shows the system directories and the binds (show it with jail.readOnlyBinds [{ source: "${inner}", dest: "${inner}" }])`,
        );
        return true;
      },
    );
    const bound = await new Command(nested, {
      jail: { backend, readOnlyBinds: [{ source: inner, dest: inner }] },
    }).output();
    assert.equal(bound.code, 0, new TextDecoder().decode(bound.stderr));
    assert.equal(new TextDecoder().decode(bound.stdout), "inner ran\n");
  });
}
