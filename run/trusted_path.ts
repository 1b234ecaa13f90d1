// run/trusted_path.ts — a host path that ww opens with its caller's rights on a jailed program's
// behalf (a grant's file or socket, an --env-file), resolved by fd/grant_path.ts's rule: no
// symbolic link is followed unless root or the caller owns it, since a jail that can write a
// bound directory could have planted any other there for a later run to follow.

import { ELOOP } from "../ffi/errno.ts";
import { SyscallError } from "../ffi/libc.ts";
import { linkInfo, readLink } from "../ffi/stat.ts";
import { resolveGrantPath } from "../fd/grant_path.ts";
import { fromCallerCwd } from "./caller_env.ts";

/** A symlink on such a path that ww does not follow. */
export class UntrustedLinkError extends Error {
  constructor(readonly link: { readonly link: string; readonly uid: number }) {
    super(
      `${link.link} is a symbolic link owned by uid ${link.uid}: ww follows only links owned by root or by its caller, as a jail could have planted any other (give the path it points to)`,
    );
    this.name = "UntrustedLinkError";
  }
}

/**
 * `path` (a relative one from ww's working directory, as open(2) takes it) with its links
 * resolved: an UntrustedLinkError for a link of neither root nor ww's user, a SyscallError ELOOP
 * for a loop. `kernelLinks`: the rest, from /proc on, is left to the kernel (/proc/self/fd/N).
 */
export function trustedPath(path: string): { path: string; kernelLinks: boolean } {
  const uid = Deno.uid();
  const resolved = resolveGrantPath(
    fromCallerCwd(path),
    { lstat: linkInfo, readlink: readLink },
    (owner) => owner === 0 || owner === uid,
  );
  if ("untrusted" in resolved) throw new UntrustedLinkError(resolved.untrusted);
  if ("loop" in resolved) throw new SyscallError("open", ELOOP, path);
  return resolved;
}
