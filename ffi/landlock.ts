// ffi/landlock.ts — asks the kernel for its Landlock ABI version (landlock(7)). The rules are
// planned in jail/landlock.ts and jail/native.ts, and enforced by the stage (stage/stage.c).

import { lastErrno, libcJail } from "./libc.ts";

// The same number on x86_64 and aarch64 (the unified table from 424 on).
const SYS_LANDLOCK_CREATE_RULESET = 444n;
const LANDLOCK_CREATE_RULESET_VERSION = 1;

/**
 * The kernel's Landlock ABI version, or 0 with the errno that says why there is none: ENOSYS
 * (not built in) or EOPNOTSUPP (built in but not enabled at boot, e.g. missing from lsm=).
 */
export function landlockAbi(): { abi: number; errno?: number } {
  const r = libcJail().syscall_landlock_create_ruleset(
    SYS_LANDLOCK_CREATE_RULESET,
    null,
    0n,
    LANDLOCK_CREATE_RULESET_VERSION,
  );
  return r >= 0 ? { abi: r } : { abi: 0, errno: lastErrno() };
}
