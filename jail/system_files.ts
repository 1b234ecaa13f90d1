// jail/system_files.ts — what of the host's file system every jail shows: the system's program
// and library directories, and the /etc files the loader and libc read (more with --net). Its own
// module, apart from jail/bwrap.ts: the host facts (run/host.ts) and the program's view
// (run/view.ts) need these lists on every run, and bubblewrap's planner only under bwrap.

/** Top-level system paths the jail shows read-only when the host has them. */
export const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
/**
 * Files in /etc that the dynamic loader and basic libc functions read; no secrets. OpenSSL 3 reads
 * its configuration when a program initializes libcrypto (Debian's node, for one): a missing file
 * is fine, but the native jail can only deny it (EACCES), which such programs treat as fatal, so
 * both backends show it.
 */
export const ETC_FILES = [
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/alternatives",
  "/etc/localtime",
  "/etc/ssl/openssl.cnf",
];
/** Extra /etc files for name resolution and TLS, shown only with --net. */
export const NET_ETC_FILES = [
  "/etc/resolv.conf",
  "/etc/hosts",
  "/etc/nsswitch.conf",
  "/etc/host.conf",
  "/etc/gai.conf",
  "/etc/ssl",
  "/etc/ca-certificates",
];

/** One SYSTEM_DIRS entry as the host has it. */
export type SystemEntry =
  | { readonly path: string; readonly kind: "dir" }
  | { readonly path: string; readonly kind: "symlink"; readonly target: string };

/** What bwrapArgs needs to know about the host. */
export interface HostFiles {
  /** SYSTEM_DIRS entries that exist, in SYSTEM_DIRS order. */
  readonly system: readonly SystemEntry[];
  /** ETC_FILES (and NET_ETC_FILES) entries that exist. */
  readonly etc: readonly string[];
}
