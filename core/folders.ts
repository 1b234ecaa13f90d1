// core/folders.ts — the folders of ww's program (what main.ts and mod.ts can import), the one
// list that the bundle's freshness stamp (scripts/bundle.ts), the lazy-import check
// (core/lazy_test.ts) and the structure check (tests/structure_test.ts) read.
// tests/structure_test.ts fails when a folder of TypeScript at the root is in neither this list
// nor the one of folders that are not the program.

/** The program's folders, from the repository root. */
export const PROGRAM_FOLDERS = [
  "cli",
  "core",
  "fd",
  "ffi",
  "ipfs",
  "jail",
  "lib",
  "plan",
  "rpc",
  "run",
  "stage",
] as const;
