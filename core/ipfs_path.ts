// core/ipfs_path.ts — tells an IPFS program name (/ipfs/<cid>[/sub/path], /ipns/<name>[/sub/path], a bare
// CID) from a local one, and splits it into parts. Pure, with no imports: `ww run` asks this of
// every program, and a local program must not pay for IPFS. Whether a CID is well-formed is
// checked later, by the fetcher, with the real multiformats decoder.

/** An IPFS or IPNS path, split. */
export interface IpfsPath {
  readonly namespace: "ipfs" | "ipns";
  /** The CID (for /ipfs) or the name (for /ipns), as written. */
  readonly root: string;
  /** The path below the root, one entry per segment; empty for the root itself. */
  readonly segments: readonly string[];
}

// A bare CID: CIDv0 (base58btc multihash) or a CIDv1 in one of the common multibases, long
// enough to carry a 32-byte digest. Program names in PATH do not look like this.
const BARE_CID = new RegExp(
  [
    "Qm[1-9A-HJ-NP-Za-km-z]{44}", // CIDv0
    "b[a-z2-7]{50,}", // base32
    "B[A-Z2-7]{50,}", // base32upper
    "z[1-9A-HJ-NP-Za-km-z]{40,}", // base58btc
    "k[0-9a-z]{50,}", // base36
    "f[0-9a-f]{64,}", // base16
    "F[0-9A-F]{64,}", // base16upper
    "[mu][A-Za-z0-9+/_-]{40,}", // base64, base64url
  ].map((re) => `^${re}$`).join("|"),
);

/** The shortest name BARE_CID matches: 40 characters after a z, m or u prefix. */
const BARE_CID_MIN_LENGTH = 41;

/**
 * True when `program` names something in IPFS: it starts with /ipfs/ or /ipns/ (or is /ipfs or
 * /ipns), or it is a bare CID. Such a name is never a local path, even when it does not parse.
 *
 * @example
 * isIpfsPath("/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/bin/app"); // true
 * isIpfsPath("./app"); // false
 */
export function isIpfsPath(program: string): boolean {
  // Without regular expressions for a path (each costs its compilation on the first run, and
  // `ww run` asks this of every program): a bare CID starts with a letter and is long.
  if (program.startsWith("/")) {
    return ["/ipfs", "/ipns"].some((ns) => program === ns || program.startsWith(`${ns}/`));
  }
  return program.length >= BARE_CID_MIN_LENGTH && BARE_CID.test(program);
}

/**
 * Splits an IPFS path into namespace, root and segments, or says what is wrong with it. A bare CID
 * is /ipfs/<cid>; a trailing slash is ignored.
 *
 * @example
 * parseIpfsPath("/ipns/example.org/bin/app");
 * // { namespace: "ipns", root: "example.org", segments: ["bin", "app"] }
 */
export function parseIpfsPath(program: string): IpfsPath | { error: string } {
  if (BARE_CID.test(program)) return { namespace: "ipfs", root: program, segments: [] };
  const m = /^\/(ipfs|ipns)(?:\/(.*))?$/.exec(program);
  if (!m) return { error: `${program}: not an IPFS path (expected /ipfs/<cid>[/path])` };
  const namespace = m[1] as "ipfs" | "ipns";
  const parts = (m[2] ?? "").split("/");
  if (parts.length > 1 && parts.at(-1) === "") parts.pop();
  const [root, ...segments] = parts;
  if (!root) {
    const what = namespace === "ipfs" ? "a CID" : "a name";
    return { error: `${program}: ${what} must follow /${namespace}/` };
  }
  for (const s of segments) {
    if (s === "" || s === "." || s === "..") {
      return {
        error: `${program}: the path has an empty, '.' or '..' segment (write it without them)`,
      };
    }
  }
  return { namespace, root, segments };
}

/**
 * Why `program`, an IPFS path, cannot name a program by its spelling alone, or undefined: a
 * trailing '/' names a directory, never a program file, as it does for a local path (the kernel
 * refuses `/bin/echo/`). A run and --explain refuse it alike, before the node is asked anything.
 *
 * @example
 * ipfsProgramProblem("/ipfs/bafy.../bin/app/");
 * // "/ipfs/bafy.../bin/app/: a trailing '/' names a directory, not a program (write /ipfs/bafy.../bin/app)"
 */
export function ipfsProgramProblem(program: string, path: IpfsPath): string | undefined {
  if (!program.endsWith("/")) return undefined;
  return `${program}: a trailing '/' names a directory, not a program (write ${
    formatIpfsPath(path)
  })`;
}

/** The canonical text of a parsed path: /ipfs/<root>/<segments...>. */
export function formatIpfsPath(path: IpfsPath): string {
  return `/${path.namespace}/${[path.root, ...path.segments].join("/")}`;
}

/** The program's argv[0]: the path's last segment, or the root for a bare CID or name. */
export function programName(path: IpfsPath): string {
  return path.segments.at(-1) ?? path.root;
}
