// core/env.ts — the child's environment: only what the user passed with --env, plus the WW_FD_*
// variables, which win over a conflicting --env. Pure.

import { fdEnv, type FdSlot } from "../fd/layout.ts";

/** `KEY=VALUE` strings for execve, sorted by key so runs are reproducible. */
export function childEnv(
  userEnv: Readonly<Record<string, string>>,
  slots: readonly FdSlot[],
): string[] {
  const merged = { ...userEnv, ...fdEnv(slots) };
  return Object.keys(merged).sort().map((k) => `${k}=${merged[k]}`);
}
