// rpc/grants.ts — what a program may give a program it starts through Executor.start: never
// more than it holds. Pure. The grants it passes on are its own capabilities (rpc/host.ts checks
// each is this host's own object); this is the rule behind that, and the one for what the start
// itself may use: a program from IPFS is IPFS, and needs the ipfs grant like Ipfs.cat does.

import { isIpfsPath } from "../core/ipfs_path.ts";
import { GRANT_NAMES, type HostGrants } from "./types.ts";

/**
 * Why a program holding `caller` may not start `request`, or undefined when it may. Checked
 * before anything is fetched, read from the cache or asked of an IPFS node.
 *
 * @example
 * execRefusal({ program: "/ipfs/bafy...", grants: NO_GRANTS }, { console: true, ipfs: false, exec: true });
 * // "/ipfs/bafy...: starting a program from IPFS needs the ipfs grant: run ww with --with-ipfs (or --with-all), or give Command host.ipfs"
 */
export function execRefusal(
  request: { readonly program: string; readonly grants: HostGrants },
  caller: HostGrants,
): string | undefined {
  if (isIpfsPath(request.program) && !caller.ipfs) {
    return `${request.program}: starting a program from IPFS needs the ipfs grant: run ww with --with-ipfs (or --with-all), or give Command host.ipfs`;
  }
  const wider = GRANT_NAMES.find((g) => request.grants[g] && !caller[g]);
  if (wider) return `${wider} is not granted to this program, so it cannot pass it on`;
  return undefined;
}
