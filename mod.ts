// mod.ts — ww as a library: start a program jailed, with named descriptors, a clean environment
// and a host socket on fd 3, and get its pid, its exit status and a way to signal it. The `ww`
// command (main.ts) is a thin layer over this.

export { ChildProcess, Command } from "./lib/command.ts";
export type { CommandOutput, CommandStatus, OutputStream } from "./lib/command.ts";
export type {
  CommandOptions,
  GrantOptions,
  HostOptions,
  JailOptions,
  StdioOption,
} from "./lib/options.ts";
export { startProgram, TIMEOUT_EXIT_CODE } from "./run/start.ts";
export { explainProgram } from "./run/explain_program.ts";
export type { ExplainedRun } from "./run/explain_program.ts";
export type { Child, ExitStatus, StartConfig, StartOptions } from "./run/start.ts";
export { SIGNALS } from "./run/signals.ts";
export type { SignalName } from "./run/signals.ts";
export type { RunConfig } from "./core/config.ts";
export type { FdGrant } from "./fd/layout.ts";
export type { OpenMode, OwnGrant } from "./fd/grants.ts";
export type { Listener } from "./run/own_grants.ts";
export { DEFAULT_LIMITS, DEFAULT_POLICY } from "./jail/policy.ts";
export type { Bind, JailBackend, JailPolicy, Limits } from "./jail/policy.ts";
export {
  BindError,
  ClosedFdError,
  CwdError,
  EXIT,
  GrantError,
  InterruptedError,
  JailError,
  LimitError,
  NamespacesUnavailableError,
  NotExecutableError,
  NotFoundError,
  SetupError,
  TimedOutError,
  UsageError,
  WwError,
} from "./core/errors.ts";
export type { WwErrorOptions } from "./core/errors.ts";
export { DEFAULT_IPFS_API } from "./ipfs/multiaddr.ts";
// The host capability on fd 3 (Cap'n Proto RPC, rpc/ww.capnp). Guests use "./guest"
// (rpc/guest.ts) to talk to it, and "./fdmap" (examples/guest/fdmap.ts) to read WW_FD_*.
export { execService, ipfsServiceFor, NO_GRANTS, serveGuest } from "./rpc/serve.ts";
export type {
  ExecProcess,
  ExecRequest,
  HostGrants,
  HostServices,
  IpfsEntry,
  IpfsEntryType,
  IpfsService,
  IpfsStat,
  VatLimits,
} from "./rpc/types.ts";
export { FdStream } from "./ffi/stream.ts";
export type { ByteStream } from "./ffi/stream.ts";
export type { BackendChoice } from "./jail/auto.ts";
export type { ViewPath } from "./run/view.ts";
export type { OpenedProgram } from "./run/guest_program.ts";
export { OpGroup } from "./ffi/ops.ts";
