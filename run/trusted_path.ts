// run/trusted_path.ts — a host path that ww opens with its caller's rights on a jailed program's
// behalf (a grant's file or socket, an --env-file, a bind's source), resolved by
// fd/grant_path.ts with this rule: no symbolic link is followed unless root owns it. A jail that
// can write a bound directory could have planted any other there for a later run to follow: as
// root, a jail writes as a leased uid of its own; where ww is not root, it writes as ww's own user
// (bwrap's user namespace maps to it, and the native jail runs as it), so even the caller's own
// links could be a jail's.

import { ELOOP } from "../ffi/errno.ts";
import { SyscallError } from "../ffi/libc.ts";
import { linkInfo, readLink } from "../ffi/stat.ts";
import { resolveGrantPath, type UntrustedLink, untrustedLinkWhy } from "../fd/grant_path.ts";
import { fromCallerCwd } from "./caller_env.ts";

/** A symlink on such a path that ww does not follow. */
export class UntrustedLinkError extends Error {
  constructor(readonly link: UntrustedLink) {
    super(untrustedLinkWhy(link));
    this.name = "UntrustedLinkError";
  }
}

/**
 * `path` (a relative one from ww's working directory, as open(2) takes it) with its links
 * resolved: an UntrustedLinkError for a link root does not own, a SyscallError ELOOP for a loop.
 * `kernelLinks`: the rest, from /proc on, is left to the kernel (/proc/self/fd/N).
 */
export function trustedPath(path: string): { path: string; kernelLinks: boolean } {
  const resolved = resolveGrantPath(
    fromCallerCwd(path),
    { lstat: linkInfo, readlink: readLink },
    (owner) => owner === 0,
  );
  if ("untrusted" in resolved) {
    const { uid } = resolved.untrusted;
    throw new UntrustedLinkError({ ...resolved.untrusted, ownUser: uid === Deno.uid() });
  }
  if ("procLink" in resolved) throw new UntrustedLinkError({ link: resolved.procLink, proc: true });
  if ("loop" in resolved) throw new SyscallError("open", ELOOP, path);
  return resolved;
}
