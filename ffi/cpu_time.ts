// ffi/cpu_time.ts — the CPU time this process has used so far, every thread's, user and system
// (getrusage(2) RUSAGE_SELF): rpc/vat.ts bounds what ww spends on a guest's messages with it.
// Through libc, not node:process's cpuUsage, whose import started Deno's Node compatibility
// layer in the RPC engine.

import { check, I32, openLibrary, type Symbols } from "./libc.ts";

const rusageSymbols = {
  getrusage: { parameters: [I32, "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

let lib: Symbols<typeof rusageSymbols> | undefined;

/** struct rusage (144 bytes on x86_64 and aarch64): ru_utime, then ru_stime, each two longs. */
const usage = new BigInt64Array(18);

/**
 * This process's CPU time in milliseconds, user and system, of every thread.
 *
 * @example
 * const before = processCpuMs();
 * // ... work ...
 * const spentMs = processCpuMs() - before;
 */
export function processCpuMs(): number {
  check("getrusage", (lib ??= openLibrary(rusageSymbols)).getrusage(0, /* RUSAGE_SELF */ usage));
  return Number(usage[0] + usage[2]) * 1000 + Number(usage[1] + usage[3]) / 1000;
}
