// ffi/proc.ts — the uids and gids of every live process, read as the owners of the /proc/<pid>
// directories with getdents64(2) and statx(2) straight from libc: the jails' id lease (run/ids.ts)
// needs them on every run as root, and Deno.readDirSync with one Deno.statSync per process
// (an op and a FileInfo with four Dates each) cost several milliseconds with 150 processes.

import { check, cString, libc, libcJail } from "./libc.ts";
import {
  DIRENT_NAME_OFFSET,
  DIRENT_RECLEN_OFFSET,
  O_CLOEXEC,
  O_DIRECTORY,
  O_RDONLY,
} from "./flags.ts";
import { closeFd } from "./fd.ts";

const PROC = cString("/proc");
// <linux/stat.h>: the fields asked for, and where struct statx has them (the same on every arch).
const STATX_UID = 0x8;
const STATX_GID = 0x10;
const STX_UID_OFFSET = 20;
const STX_GID_OFFSET = 24;
const STATX_SIZE = 256;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * The scan's buffers, made once: it runs on every run as root, and a 32 KiB buffer a run is
 * malloc'd memory that waits for V8's next scavenge to be freed (in a service, ~10 MiB of them
 * at a time, which glibc then keeps; issue 16). The scan is synchronous: nothing else uses them
 * meanwhile.
 */
let buffers: ReturnType<typeof scanBuffers> | undefined;

function scanBuffers() {
  const entries = new Uint8Array(32768);
  const stx = new Uint8Array(STATX_SIZE);
  return {
    entries,
    entryView: new DataView(entries.buffer),
    stx,
    stxView: new DataView(stx.buffer),
    name: new Uint8Array(256),
  };
}

/**
 * The effective uid and gid of every live process: the owner of each /proc/<pid> (a process that
 * made itself non-dumpable shows as root's), repeats and all. A process that ends during the scan
 * is skipped. Gathered in a buffer kept between scans and copied out once: a Set grown id by id
 * was most of a jailed run's garbage after the plan (issue 16).
 *
 * @example
 * processOwnerIds().includes(Deno.uid()!); // true: this process is one of them
 */
export function processOwnerIds(): Uint32Array {
  const c = libc();
  const getdents64 = libcJail().getdents64;
  const dir = check(
    "open",
    libc().open(PROC, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0),
    "/proc",
  );
  let count = 0;
  try {
    const { entries, entryView, stx, stxView, name } = buffers ??= scanBuffers();
    for (;;) {
      const n = check("getdents64", getdents64(dir, entries, BigInt(entries.length)), "/proc");
      if (n === 0) break;
      for (let at = 0; at < n; at += entryView.getUint16(at + DIRENT_RECLEN_OFFSET, true)) {
        let i = at + DIRENT_NAME_OFFSET;
        // Only the pid directories: their names are all digits.
        if (entries[i] < DIGIT_0 || entries[i] > DIGIT_9) continue;
        let len = 0;
        while (entries[i] !== 0) name[len++] = entries[i++];
        name[len] = 0;
        if (c.statx(dir, name, 0, STATX_UID | STATX_GID, stx) !== 0) continue; // it ended
        if (count + 2 > owners.length) {
          const grown = new Uint32Array(owners.length * 2);
          grown.set(owners);
          owners = grown;
        }
        owners[count++] = stxView.getUint32(STX_UID_OFFSET, true);
        owners[count++] = stxView.getUint32(STX_GID_OFFSET, true);
      }
    }
  } finally {
    closeFd(dir);
  }
  return owners.slice(0, count);
}

/** processOwnerIds's buffer, kept between scans. */
let owners = new Uint32Array(1024);
