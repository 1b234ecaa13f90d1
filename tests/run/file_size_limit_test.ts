// ww under a small file-size limit (RLIMIT_FSIZE, `ulimit -f`): a write of ww's own past it (the
// stage's memfd, a --deno guest's bundle) ends the run with one line that names the limit and the
// fix, exit 125, and leaves nothing behind. (Before: the kernel's SIGXFSZ killed ww without a word,
// exit 153, the code of a program killed by that signal; deno bundle died of it too, "deno bundle:
// failed".) The program keeps SIGXFSZ's default and the caller's limit.
//
// The limit is set on ww once it waits for a FIFO, past Deno's start: Deno, writing to its caches
// (shared with every other deno on the machine), can meet a limit set before and die of it first.

import assert from "node:assert/strict";
import { privateTmp, wwDirs } from "../support/procs.ts";
import { errorLines, REPO, wwCommand } from "../support/ww.ts";

/** 8 KiB: less than the native stage's binary, more than a plain unjailed run writes. */
const LIMIT = 8192;

/** Whether a thread of process `pid` waits for a FIFO's other end. */
function waitsForFifo(pid: number): boolean {
  try {
    return [...Deno.readDirSync(`/proc/${pid}/task`)].some((t) =>
      Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/wchan`) === "wait_for_partner"
    );
  } catch {
    return false; // ended
  }
}

/**
 * Runs `ww run <args>`, whose `args` name `fifo` (made here) where ww reads it, and limits its file
 * size to LIMIT once it waits there; then writes `text` to the FIFO.
 */
async function runLimited(args: readonly string[], fifo: string, text: string, tmp: string) {
  const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  assert.ok(made.success);
  const proc = new Deno.Command(wwCommand()[0], {
    args: [...wwCommand().slice(1), "run", ...args],
    env: { TMPDIR: tmp },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = proc.output();
  const deadline = Date.now() + 60_000;
  while (!waitsForFifo(proc.pid)) {
    assert.ok(Date.now() < deadline, "ww never waited for the FIFO");
    await new Promise((r) => setTimeout(r, 20));
  }
  const limited = await new Deno.Command("prlimit", {
    args: ["--pid", String(proc.pid), `--fsize=${LIMIT}:${LIMIT}`],
  }).output();
  assert.ok(limited.success, new TextDecoder().decode(limited.stderr));
  const writer = await Deno.open(fifo, { write: true });
  await writer.write(new TextEncoder().encode(text));
  writer.close(); // the end of the --env-file
  const { code, stderr } = await output;
  return { code, stderr: new TextDecoder().decode(stderr) };
}

const OVER =
  /^ww: a file ww writes is larger than its file-size limit \(write \(fd \d+\): EFBIG\): raise the limit \(ulimit -f unlimited\)$/;

for (const jail of ["native", "bwrap"]) {
  Deno.test(`--jail=${jail} past its file-size limit: one line naming it, exit 125, nothing left`, async () => {
    const tmp = privateTmp();
    try {
      const fifo = `${tmp}/in.fifo`;
      const r = await runLimited(
        [`--jail=${jail}`, "--open", `in=${fifo}`, "/bin/true"],
        fifo,
        "",
        tmp,
      );
      assert.equal(r.code, 125, r.stderr);
      const lines = errorLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], OVER);
      assert.deepEqual(wwDirs(tmp), []);
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  });
}

Deno.test("--deno past ww's file-size limit: the bundle's failure names it, and its directory goes", async () => {
  const tmp = privateTmp();
  try {
    const guest = `${tmp}/guest.ts`;
    // Larger than the limit once bundled.
    Deno.writeTextFileSync(guest, `console.log(${JSON.stringify("x".repeat(16 << 10))}.length);\n`);
    // ww reads its --env-file (here, the FIFO) before it bundles the guest.
    const fifo = `${tmp}/env.fifo`;
    const r = await runLimited(
      ["--jail=none", "--env-file", fifo, "--deno", guest],
      fifo,
      "A=1\n",
      tmp,
    );
    assert.equal(r.code, 125, r.stderr);
    const lines = errorLines(r.stderr).filter((l) => !/NOT jailed/.test(l));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0],
      /^ww: --deno .*guest\.ts: deno bundle: File too large \(os error 27\); the bundle is larger than ww's file-size limit: raise it \(ulimit -f unlimited\)$/,
    );
    assert.deepEqual(wwDirs(tmp), []);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("--jail=none past the caller's file-size limit: the program still dies of SIGXFSZ", async () => {
  const tmp = privateTmp();
  try {
    const fifo = `${tmp}/in.fifo`;
    const r = await runLimited(
      [
        "--jail=none",
        "--open",
        `in=${fifo}`,
        "/bin/sh",
        "-c",
        `head -c 20000 /dev/zero > ${tmp}/big`,
      ],
      fifo,
      "",
      tmp,
    );
    assert.equal(r.code, 128 + 25, r.stderr); // the shell's own status: its head died of SIGXFSZ
    assert.equal(Deno.statSync(`${tmp}/big`).size, LIMIT);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

// Through the library, whose caller lives on: the stage's memfd that a write past the limit cut
// short stayed open, one more each start, holding its bytes for the life of the caller.
for (const backend of ["native", "bwrap"]) {
  Deno.test(`jail.backend "${backend}" past the caller's file-size limit: each start leaves no memfd open`, async () => {
    const tmp = privateTmp();
    try {
      // In a process of its own, whose limit is set once Deno has started (see above), and which
      // ignores SIGXFSZ as ww run does: the write fails with EFBIG.
      const probe = `
        import { Command } from ${JSON.stringify(`${REPO}mod.ts`)};
        Deno.addSignalListener("SIGXFSZ", () => {});
        const limited = await new Deno.Command("prlimit", {
          args: ["--pid", String(Deno.pid), "--fsize=${LIMIT}:${LIMIT}"],
        }).output();
        if (!limited.success) throw new Error("prlimit failed");
        const errors = [];
        for (let i = 0; i < 3; i++) {
          try {
            await new Command("/bin/true", { jail: { backend: "${backend}" } }).output();
          } catch (e) {
            errors.push(e.message);
          }
        }
        const memfds = [...Deno.readDirSync("/proc/self/fd")]
          .map((e) => { try { return Deno.readLinkSync("/proc/self/fd/" + e.name); } catch { return ""; } })
          .filter((l) => l.startsWith("/memfd:"));
        console.log(JSON.stringify({ errors, memfds }));
      `;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["eval", probe],
        env: { TMPDIR: tmp },
        stdin: "null",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      const { errors, memfds } = JSON.parse(new TextDecoder().decode(out.stdout).trim());
      assert.equal(errors.length, 3, stderr);
      for (const e of errors) assert.match(e, /EFBIG/);
      assert.deepEqual(memfds, [], "a memfd left open");
      assert.deepEqual(wwDirs(tmp), []);
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  });
}
