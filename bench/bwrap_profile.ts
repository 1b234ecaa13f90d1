// bench/bwrap_profile.ts — the peer that issue 13's bwrap goal divides by: bubblewrap run by hand
// with ww's own profile for `ww run --jail=bwrap /bin/true`. Its arguments are the ones ww's plan
// gives bwrap (plan/bwrap.ts, from this host's facts), so the peer mounts, unshares and drops what
// ww's jail does, every /etc file and tmpfs of it, and follows ww's profile as it changes. What is
// ww's own way of starting the program goes: its stage copied into the jail and run as pid 1, the
// seccomp program and status pipe on descriptors (a command cannot be given those); the peer runs
// `/usr/bin/env -u PWD -- /bin/true` in bwrap's own reaper, as a user of bwrap would.

import type { RunConfig } from "../core/config.ts";
import { DEFAULT_IPFS_API } from "../ipfs/multiaddr.ts";
import { STAGE_PATH } from "../jail/bwrap.ts";
import { DEFAULT_JAIL_IDS } from "../jail/ids.ts";
import { DEFAULT_POLICY } from "../jail/policy.ts";
import { planBwrapRun } from "../plan/bwrap.ts";
import { bwrapFacts, runFacts } from "../run/facts.ts";

/** What the peer runs in the jail: bwrap sets PWD, which ww's stage takes out again. */
const PEER_PROGRAM = ["/usr/bin/env", "-u", "PWD", "--", "/bin/true"];

/**
 * bwrap's command line of `argv` (ww's bwrap argv: bwrap's path, its options, `--`, the stage and
 * its arguments) with ww's own start taken out and PEER_PROGRAM run instead: its stage's copy
 * (`--perms 0555 --ro-bind-data FD /.ww-stage`), `--seccomp FD`, `--json-status-fd FD` and
 * `--as-pid-1`.
 *
 * @example
 * peerOf(["/usr/bin/bwrap", "--ro-bind", "/usr", "/usr", "--perms", "0555", "--ro-bind-data", "7",
 *   "/.ww-stage", "--as-pid-1", "--seccomp", "4", "--", "/.ww-stage", "exec"]);
 * // ["/usr/bin/bwrap", "--ro-bind", "/usr", "/usr", "--", "/usr/bin/env", "-u", "PWD", "--", "/bin/true"]
 */
export function peerOf(argv: readonly string[]): string[] {
  const end = argv.indexOf("--");
  if (end < 0) throw new Error(`not a bwrap command line (no "--"): ${argv.join(" ")}`);
  const options = argv.slice(0, end);
  const out: string[] = [];
  for (let i = 0; i < options.length; i++) {
    const a = options[i];
    if (a === "--perms" && options[i + 2] === "--ro-bind-data" && options[i + 4] === STAGE_PATH) {
      i += 4;
    } else if (a === "--seccomp" || a === "--json-status-fd") {
      i += 1;
    } else if (a !== "--as-pid-1") {
      out.push(a);
    }
  }
  return [...out, "--", ...PEER_PROGRAM];
}

/** The peer's command line on this host: ww's plan of `ww run --jail=bwrap /bin/true`, peerOf'd. */
export function bwrapPeerCommand(): string[] {
  const config: RunConfig = {
    program: "/bin/true",
    args: [],
    fds: [],
    env: {},
    ipfsApi: DEFAULT_IPFS_API,
    jail: { ...DEFAULT_POLICY, backend: "bwrap" },
  };
  const facts = runFacts({
    config,
    choice: { backend: "bwrap", reason: "--jail=bwrap" },
    program: { path: "/bin/true", argv0: "/bin/true" },
    // A host id as a root's run leases one: the stage's to drop to, not bwrap's argument. The peer
    // runs as its caller.
    leased: Deno.uid() === 0 ? DEFAULT_JAIL_IDS.first : undefined,
    workdir: `/tmp/ww-bench-${crypto.randomUUID().slice(0, 8)}`,
    controllingTerminal: false,
  });
  return peerOf(planBwrapRun({ ...facts, bwrap: bwrapFacts(config) }).argv);
}
