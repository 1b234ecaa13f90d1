// ffi/rlimit.ts — this process's hard resource limits, by getrlimit(2): what a jail's limits are
// checked against before it starts (run/limits.ts). Reading and parsing /proc/self/limits for
// them cost a jailed run ~0.1 ms; four calls cost microseconds.

import { check, libcJail } from "./libc.ts";

/** The limits asked for, by resource number (asm-generic: the same on x86_64 and aarch64). */
const RESOURCES = [["cpu", 0], ["data", 2], ["nproc", 6], ["nofile", 7]] as const;

/** RLIM_INFINITY: no limit. */
const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

/** A hard limit of each kind, when there is one: RLIMIT_CPU, _DATA, _NPROC and _NOFILE. */
export interface HardLimits {
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
export function hardLimitsNow(): HardLimits {
  const c = libcJail();
  // struct rlimit: rlim_cur, rlim_max (two unsigned longs).
  const limit = new BigUint64Array(2);
  const hard: { -readonly [K in keyof HardLimits]: number } = {};
  for (const [key, resource] of RESOURCES) {
    check("getrlimit", c.getrlimit(resource, limit), key);
    if (limit[1] !== RLIM_INFINITY) hard[key] = Number(limit[1]);
  }
  return hard;
}
