// ipfs/setting_words.ts — the IPFS settings by the names each caller knows them by: a library
// caller sets Command's options (ipfsApi, ipfsTimeoutMs, trustNodeIpns), the command line gives
// flags (--ipfs, --ipfs-timeout, --trust-node-ipns). An IPFS error names the setting that would
// change the outcome, once in each caller's words.

import { SetupError } from "../core/errors.ts";

/** An IPFS setting a failure can point to. */
export type IpfsSetting = "api" | "timeout" | "trust";

const NAMES: Record<IpfsSetting, { library: string; commandLine: string }> = {
  api: { library: "ipfsApi", commandLine: "--ipfs or WW_IPFS" },
  timeout: { library: "ipfsTimeoutMs", commandLine: "--ipfs-timeout" },
  trust: { library: "trustNodeIpns", commandLine: "--trust-node-ipns" },
};

/**
 * A SetupError whose message names the settings as a library caller knows them, and whose
 * commandLine names them as flags: `text` is called once with each naming.
 *
 * @example
 * ```ts
 * const e = ipfsSetupError((name) => `no answer (raise ${name("timeout")} to wait longer)`);
 * e.message; // "no answer (raise ipfsTimeoutMs to wait longer)"
 * e.commandLine; // "no answer (raise --ipfs-timeout to wait longer)"
 * ```
 */
export function ipfsSetupError(
  text: (name: (setting: IpfsSetting) => string) => string,
): SetupError {
  return new SetupError(text((s) => NAMES[s].library), {
    commandLine: text((s) => NAMES[s].commandLine),
  });
}
