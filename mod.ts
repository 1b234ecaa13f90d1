// mod.ts — ww as a library: start a program with named descriptors, a clean environment and a
// host socket on fd 3, and get its pid, its exit status and a way to signal it. The `ww` command
// (main.ts) is a thin layer over this.

export { startProgram } from "./run/start.ts";
export type { Child, ExitStatus } from "./run/start.ts";
export type { RunConfig } from "./run/config.ts";
export type { FdGrant } from "./fd/layout.ts";
export {
  EXIT,
  NotExecutableError,
  NotFoundError,
  SetupError,
  UsageError,
  WwError,
} from "./run/errors.ts";
export { DEFAULT_IPFS_API } from "./ipfs/multiaddr.ts";
