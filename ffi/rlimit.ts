// ffi/rlimit.ts — this process's resource limits, by getrlimit(2): the hard ones, what a jail's
// limits are checked against before it starts (run/limits.ts), and the soft ones, which a jail's
// program keeps where the run sets none (--explain). Reading and parsing /proc/self/limits for
// them cost a jailed run ~0.1 ms; four calls cost microseconds.

import { check, libcJail } from "./libc.ts";

/** The limits asked for, by resource number (asm-generic: the same on x86_64 and aarch64). */
const RESOURCES = [["cpu", 0], ["data", 2], ["nproc", 6], ["nofile", 7]] as const;

/** RLIM_INFINITY: no limit. */
const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

/** A limit of each kind, when there is one: RLIMIT_CPU, _DATA, _NPROC and _NOFILE. */
export interface ProcessLimits {
  readonly cpu?: number;
  readonly data?: number;
  readonly nproc?: number;
  readonly nofile?: number;
}

/**
 * This process's hard limits; an unlimited one is absent.
 *
 * @example
 * hardLimitsNow(); // { nproc: 96369, nofile: 1048576 } under `ulimit -Hu 96369 -Hn 1048576`
 */
export function hardLimitsNow(): ProcessLimits {
  return limitsNow(1);
}

/**
 * This process's soft limits, the ones it runs under, which a jail's program keeps for each limit
 * the run does not set; an unlimited one is absent.
 *
 * @example
 * softLimitsNow(); // { cpu: 100, nofile: 20000 } under `ulimit -St 100`, Deno's raised nofile
 */
export function softLimitsNow(): ProcessLimits {
  return limitsNow(0);
}

/** This process's soft (`which` 0) or hard (1) limits. */
function limitsNow(which: 0 | 1): ProcessLimits {
  const c = libcJail();
  // struct rlimit: rlim_cur, rlim_max (two unsigned longs).
  const limit = new BigUint64Array(2);
  const found: { -readonly [K in keyof ProcessLimits]: number } = {};
  for (const [key, resource] of RESOURCES) {
    check("getrlimit", c.getrlimit(resource, limit), key);
    if (limit[which] !== RLIM_INFINITY) found[key] = Number(limit[which]);
  }
  return found;
}
