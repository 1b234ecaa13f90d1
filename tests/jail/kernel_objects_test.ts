// Kernel objects a jail could share with the host (issue 11, "Shared kernel objects"): SysV IPC,
// inotify, the mount table, the kernel log (syslog(2)) and the kernel's AIO contexts (io_setup),
// which both jails deny. bwrap's IPC namespace makes SysV IPC private and its mount
// namespace leaves a watch nothing of the host's /tmp to see and no host mount to read; the native
// jail, which has no namespaces, denies the calls (seccomp, ENOSYS). Each probe also runs under --jail=none as root, where it must escape,
// so the probe is shown able to see an escape.

import assert from "node:assert/strict";
import { hostileBinary, outcome, runHostile, setUpHost } from "./hostile.ts";

const host = await setUpHost();
globalThis.addEventListener("unload", () => host.close());

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

type Jail = "bwrap" | "native" | "none";
const JAILS: readonly Jail[] = ["bwrap", "native"];

function run(jail: Jail, probes: string[], params: Record<string, string>) {
  return runHostile({
    jail: jail === "none" ? "none" : "default",
    flags: jail === "none" ? [] : [`--jail=${jail}`],
    probes,
    params,
    tmpDir: host.tmpDir,
  });
}

/** The SysV key hostile.c derives from a marker (FNV-1a, low 31 bits, odd). */
function markerKey(marker: string): number {
  let h = 2166136261;
  for (const byte of new TextEncoder().encode(marker)) h = Math.imul(h ^ byte, 16777619) >>> 0;
  return (h & 0x7fffffff) | 1;
}

/** The host's SysV objects (segments, queues, semaphore sets) with `key`, from /proc/sysvipc. */
function hostObjects(key: number): string[] {
  const found: string[] = [];
  for (const kind of ["shm", "msg", "sem"]) {
    const lines = Deno.readTextFileSync(`/proc/sysvipc/${kind}`).trim().split("\n").slice(1);
    for (const line of lines) {
      if (Number(line.trim().split(/\s+/)[0]) === key) found.push(`${kind}: ${line.trim()}`);
    }
  }
  return found;
}

async function removeObjects(key: number): Promise<void> {
  const k = String(key);
  for (const flag of ["-M", "-Q", "-S"]) {
    await new Deno.Command("ipcrm", { args: [flag, k], stdout: "null", stderr: "null" }).output();
  }
}

/** A host segment (mode 0666), as a host service would make one; removed by the caller. */
async function hostSegment(): Promise<{ id: number; key: number }> {
  const key = markerKey(crypto.randomUUID());
  const out = await new Deno.Command(await hostileBinary(), { args: ["shm-create", String(key)] })
    .output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return { id: Number(new TextDecoder().decode(out.stdout).trim()), key };
}

for (const jail of [...JAILS, "none" as const]) {
  const jailed = jail !== "none";
  const name = jailed ? `${jail} jail: a program cannot` : "--jail=none control: root can";

  test(`${name} attach to a host SysV segment (mode 0666) and write into it`, async () => {
    const seg = await hostSegment();
    try {
      const o = outcome(await run(jail, ["sysv_attach"], { shmid: String(seg.id) }), "sysv_attach");
      assert.equal(o.escaped, !jailed, o.detail);
      // bwrap: the id names nothing in the jail's IPC namespace; native: seccomp.
      if (jail === "bwrap") assert.match(o.detail, /shmat\(\d+\): EINVAL/);
      if (jail === "native") assert.match(o.detail, /shmat\(\d+\): ENOSYS/);
    } finally {
      await removeObjects(seg.key);
    }
  });

  test(`${name} leave SysV objects behind on the host when it ends`, async () => {
    const marker = crypto.randomUUID();
    const key = markerKey(marker);
    try {
      const r = await run(jail, ["sysv_leave"], { marker });
      const o = outcome(r, "sysv_leave");
      const left = hostObjects(key);
      if (!jailed) {
        assert.equal(o.escaped, true, o.detail);
        assert.equal(left.length, 3, `${o.detail}\n${left.join("\n")}`);
        return;
      }
      assert.deepEqual(left, [], `left on the host: ${o.detail}`);
      // bwrap: made in the jail's own IPC namespace, gone with it; native: never made.
      if (jail === "bwrap") assert.equal(o.escaped, true, o.detail);
      if (jail === "native") {
        assert.equal(o.escaped, false, o.detail);
        assert.match(o.detail, /shmget\(.*\): ENOSYS; msgget: ENOSYS; semget: ENOSYS/);
      }
    } finally {
      await removeObjects(key);
    }
  });

  test(`${name} watch the host's /tmp with inotify and learn others' file names`, async () => {
    const marker = crypto.randomUUID();
    // Another process (this test) makes files named after the marker in /tmp meanwhile.
    let n = 0;
    const made: string[] = [];
    const timer = setInterval(() => {
      const path = `/tmp/ww-inotify-${marker}-${n++}`;
      Deno.writeTextFileSync(path, "x");
      made.push(path);
    }, 100);
    try {
      const o = outcome(
        await run(jail, ["inotify_watch"], { marker, watchdir: "/tmp" }),
        "inotify_watch",
      );
      assert.equal(o.escaped, !jailed, o.detail);
      if (jail === "native") assert.match(o.detail, /inotify_init1: ENOSYS/);
      // bwrap: the watch is on the jail's own /tmp, where nobody else makes files.
      if (jail === "bwrap") assert.match(o.detail, /watching \/tmp; no event/);
    } finally {
      clearInterval(timer);
      for (const path of made) Deno.removeSync(path);
    }
  });

  // statmount and listmount (Linux 6.8) take no path: Landlock, which hides /proc/self/mountinfo
  // from the native jail, does not see them, and they gave it every host mount with its source
  // and options. bwrap's mount namespace holds the jail's own mounts: a host mount's id names
  // nothing there.
  test(`${name} read the host's mount table through statmount and listmount`, async () => {
    const o = outcome(
      await run(jail, ["mount_table"], { hostmnt: await hostRootMountId() }),
      "mount_table",
    );
    assert.equal(o.escaped, !jailed, o.detail);
    if (jail === "native") {
      assert.match(o.detail, /listmount: ENOSYS; statmount\(host's \/ mount\): ENOSYS/);
    }
    if (jail === "bwrap") assert.match(o.detail, /statmount\(host's \/ mount\): ENOENT/);
  });

  // The kernel log is one for the whole machine, no namespace has one of its own, and
  // kernel.dmesg_restrict=0 (the kernel's default, and some distributions') lets any user read it
  // with syslog(2): other jails' audit lines and programs, the host's devices and addresses. The
  // test opens it so for the run, as such a host has it, and writes a marker line into it.
  test(`${name} read the host's kernel log (syslog, under kernel.dmesg_restrict=0)`, async () => {
    const marker = `ww-kernel-log-${crypto.randomUUID()}`;
    const o = await withOpenKernelLog(async () => {
      Deno.writeTextFileSync("/dev/kmsg", `${marker}\n`);
      return outcome(await run(jail, ["kernel_log"], { marker }), "kernel_log");
    });
    assert.equal(o.escaped, !jailed, o.detail);
    if (jailed) assert.match(o.detail, /syslog\(SIZE_BUFFER\): EPERM/);
  });

  // Kernel AIO contexts come from one pool for the whole machine (fs.aio-max-nr, 65536 events by
  // default), which no namespace or rlimit divides: one jailed process held all of it, and every
  // host program's io_setup (a database's, qemu's) failed with EAGAIN until the jail ended.
  test(`${name} take kernel AIO contexts from the host's fs.aio-max-nr pool`, async () => {
    const o = outcome(await run(jail, ["aio_pool"], {}), "aio_pool");
    assert.equal(o.escaped, !jailed, o.detail);
    if (jailed) assert.match(o.detail, /io_setup: ENOSYS/);
  });
}

const DMESG_RESTRICT = "/proc/sys/kernel/dmesg_restrict";

/** Runs `fn` with kernel.dmesg_restrict at 0, and then gives the sysctl its value back. */
async function withOpenKernelLog<T>(fn: () => Promise<T>): Promise<T> {
  const was = Deno.readTextFileSync(DMESG_RESTRICT).trim();
  Deno.writeTextFileSync(DMESG_RESTRICT, "0");
  try {
    return await fn();
  } finally {
    Deno.writeTextFileSync(DMESG_RESTRICT, was);
  }
}

/** The unique id of the host's / mount (statx STATX_MNT_ID_UNIQUE), as hostile.c prints it. */
async function hostRootMountId(): Promise<string> {
  const out = await new Deno.Command(await hostileBinary(), { args: ["mount-id", "/"] }).output();
  // statx's unique mount ids, like statmount and listmount, came with Linux 6.8.
  assert.equal(out.code, 0, `this test needs Linux 6.8+: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).trim();
}
