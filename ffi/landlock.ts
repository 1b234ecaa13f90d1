// ffi/landlock.ts — the Landlock system calls (landlock(7)): ask the kernel for its ABI version,
// and build and enforce a ruleset on the calling thread. The rules themselves are planned in
// jail/landlock.ts and jail/native.ts; this module only executes them.

import type { LandlockPathRule, LandlockRuleset } from "../jail/landlock.ts";
import { closeFd } from "./fd.ts";
import { check, cString, lastErrno, libcFiles, libcStage } from "./libc.ts";

// The same numbers on x86_64 and aarch64 (the unified table from 424 on).
const SYS_LANDLOCK_CREATE_RULESET = 444n;
const SYS_LANDLOCK_ADD_RULE = 445n;
const SYS_LANDLOCK_RESTRICT_SELF = 446n;
const LANDLOCK_CREATE_RULESET_VERSION = 1;
const LANDLOCK_RULE_PATH_BENEATH = 1;
const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;

/**
 * The kernel's Landlock ABI version, or 0 with the errno that says why there is none: ENOSYS
 * (not built in) or EOPNOTSUPP (built in but not enabled at boot, e.g. missing from lsm=).
 */
export function landlockAbi(): { abi: number; errno?: number } {
  const r = Number(
    libcStage().syscall_landlock_create_ruleset(
      SYS_LANDLOCK_CREATE_RULESET,
      null,
      0n,
      LANDLOCK_CREATE_RULESET_VERSION,
    ),
  );
  return r >= 0 ? { abi: r } : { abi: 0, errno: lastErrno() };
}

/**
 * Creates the ruleset and adds one path-beneath rule per entry; returns the ruleset's descriptor
 * (close-on-exec). Nothing is restricted yet: the paths are opened now, while the caller may still
 * hold the identity that can reach them. Throws SyscallError naming the call and the path.
 */
export function buildLandlockRuleset(
  ruleset: LandlockRuleset,
  attrSize: number,
  rules: readonly LandlockPathRule[],
): number {
  const c = libcStage();
  const attr = new BigUint64Array([
    BigInt(ruleset.handledFs),
    BigInt(ruleset.handledNet),
    BigInt(ruleset.scoped),
  ]);
  const attrBytes = new Uint8Array(attr.buffer, 0, attrSize);
  const rulesetFd = check(
    "landlock_create_ruleset",
    c.syscall_landlock_create_ruleset(SYS_LANDLOCK_CREATE_RULESET, attrBytes, BigInt(attrSize), 0),
  );
  try {
    // struct landlock_path_beneath_attr is packed: u64 allowed_access, s32 parent_fd.
    const beneath = new Uint8Array(12);
    const view = new DataView(beneath.buffer);
    for (const rule of rules) {
      const fd = check(
        "open",
        libcFiles().open(cString(rule.path), O_PATH | O_CLOEXEC, 0),
        `${rule.path} for a Landlock rule`,
      );
      try {
        view.setBigUint64(0, BigInt(rule.access), true);
        view.setInt32(8, fd, true);
        check(
          "landlock_add_rule",
          c.syscall_landlock_add_rule(
            SYS_LANDLOCK_ADD_RULE,
            rulesetFd,
            LANDLOCK_RULE_PATH_BENEATH,
            beneath,
            0,
          ),
          rule.path,
        );
      } finally {
        closeFd(fd);
      }
    }
  } catch (e) {
    closeFd(rulesetFd);
    throw e;
  }
  return rulesetFd;
}

/**
 * Restricts the calling thread, and everything it later executes, to the ruleset, and closes it.
 * The caller must have set no_new_privs (or hold CAP_SYS_ADMIN).
 */
export function restrictSelf(rulesetFd: number): void {
  try {
    check(
      "landlock_restrict_self",
      libcStage().syscall_landlock_restrict_self(SYS_LANDLOCK_RESTRICT_SELF, rulesetFd, 0),
    );
  } finally {
    closeFd(rulesetFd);
  }
}
