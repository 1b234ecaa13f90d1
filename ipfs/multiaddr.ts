// ipfs/multiaddr.ts — the `--ipfs` address: a multiaddr, a `/unix/PATH` socket or an
// `http(s)://HOST:PORT` URL naming a Kubo RPC endpoint, turned into the base URL the client uses;
// and which address a run uses (--ipfs, WW_IPFS, $IPFS_PATH/api, the default), with where it came
// from. Pure, and tiny on purpose: it runs on every `ww run`, and the full multiaddr library costs
// start-up time that a local program must not pay.

import { clipText, flagValue } from "../core/escape.ts";

/** An address, or a part of it, as an error quotes it: a file's 2 MB of text is not repeated. */
function shown(text: string): string {
  return flagValue(clipText(text, 200));
}

/**
 * The default Kubo RPC endpoint.
 *
 * @example
 * ```ts ignore
 * const config: RunConfig = { ...base, program: "/ipfs/bafy.../app", ipfsApi: DEFAULT_IPFS_API };
 * ```
 */
export const DEFAULT_IPFS_API = "/dns4/localhost/tcp/5001/http";

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const DNS_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * `http://host:port` for a multiaddr `/{ip4,ip6,dns,dns4,dns6}/<host>/tcp/<port>[/http|/https]`,
 * or an error message naming what is wrong.
 *
 * @example
 * multiaddrToUrl("/ip4/127.0.0.1/tcp/5001/http"); // { url: "http://127.0.0.1:5001" }
 */
export function multiaddrToUrl(addr: string): { url: string } | { error: string } {
  const parts = addr.split("/");
  if (parts[0] !== "" || parts.length < 5) {
    return { error: `${shown(addr)}: not a multiaddr like /ip4/127.0.0.1/tcp/5001/http` };
  }
  const [, proto, host, transport, port, scheme, ...rest] = parts;
  let hostPart: string;
  switch (proto) {
    case "ip4":
      if (!IPV4.test(host)) {
        return { error: `${shown(addr)}: ${shown(host)} is not an IPv4 address` };
      }
      hostPart = host;
      break;
    case "ip6":
      // The URL parser's IPv6 rules: ":::::" or "1.2.3.4:" passed the characters' test, and
      // failed only as the connection's "invalid char found in FQDN".
      if (
        !/^[0-9A-Fa-f:.]+$/.test(host) || !host.includes(":") || !URL.canParse(`http://[${host}]/`)
      ) {
        return { error: `${shown(addr)}: ${shown(host)} is not an IPv6 address` };
      }
      hostPart = `[${host}]`;
      break;
    case "dns":
    case "dns4":
    case "dns6":
      if (!DNS_NAME.test(host)) {
        return { error: `${shown(addr)}: ${shown(host)} is not a DNS name` };
      }
      hostPart = host;
      break;
    default:
      return {
        error: `${shown(addr)}: protocol /${
          shown(proto)
        } is not supported (use /ip4, /ip6 or /dns4)`,
      };
  }
  if (transport !== "tcp") return { error: `${shown(addr)}: expected /tcp/<port> after the host` };
  if (!/^\d{1,5}$/.test(port ?? "") || Number(port) < 1 || Number(port) > 65535) {
    return { error: `${shown(addr)}: ${shown(port)} is not a TCP port (1-65535)` };
  }
  const trailing = rest.filter((p, i) => !(p === "" && i === rest.length - 1));
  if (trailing.length > 0 || (scheme !== undefined && !["http", "https", ""].includes(scheme))) {
    return { error: `${shown(addr)}: only /http or /https may follow the port` };
  }
  return { url: `${scheme === "https" ? "https" : "http"}://${hostPart}:${port}` };
}

/**
 * The base URL of the endpoint `addr` names: `http(s)://host:port` for a TCP multiaddr or an
 * http(s) URL, `http+unix://<percent-encoded path>` for a `/unix/PATH` multiaddr (what Kubo writes
 * to $IPFS_PATH/api when its API listens on a unix socket); or an error message.
 *
 * @example
 * ipfsApiUrl("/unix/run/ipfs.sock"); // { url: "http+unix://%2Frun%2Fipfs.sock" }
 * ipfsApiUrl("http://127.0.0.1:5001/"); // { url: "http://127.0.0.1:5001" }
 */
export function ipfsApiUrl(addr: string): { url: string } | { error: string } {
  if (addr.startsWith("/unix/")) {
    // The multiaddr spec lets the path run to the end; newer encoders percent-encode it whole.
    let path: string;
    try {
      path = decodeURIComponent(addr.slice("/unix".length));
    } catch {
      return { error: `${shown(addr)}: the socket path is not valid percent-encoding` };
    }
    if (path.startsWith("//")) path = path.slice(1);
    if (path === "/" || path.includes("\0")) {
      return { error: `${shown(addr)}: expected /unix/ and the socket's absolute path` };
    }
    return { url: `http+unix://${encodeURIComponent(path)}` };
  }
  const web = /^(https?):\/\/(\[[0-9A-Fa-f:.]+\]|[^/:[\]@]+):(\d{1,5})\/?$/.exec(addr);
  if (web) {
    const [, scheme, host, port] = web;
    if (Number(port) < 1 || Number(port) > 65535) {
      return { error: `${shown(addr)}: ${shown(port)} is not a TCP port (1-65535)` };
    }
    return { url: `${scheme}://${host}:${port}` };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(addr)) {
    return { error: `${shown(addr)}: expected http://HOST:PORT or https://HOST:PORT` };
  }
  // Neither form (HOST:PORT, say): both are named.
  if (!addr.startsWith("/")) {
    return {
      error: `${
        shown(addr)
      }: not a multiaddr like /ip4/127.0.0.1/tcp/5001/http, nor a URL like http://127.0.0.1:5001`,
    };
  }
  return multiaddrToUrl(addr);
}

/** Where a run's IPFS address came from, named in every error about the node. */
export type IpfsApiOrigin = "--ipfs" | "WW_IPFS" | `$IPFS_PATH/api (${string})` | "default";

/**
 * The Kubo API file Kubo's own clients read: `$IPFS_PATH/api`, or `~/.ipfs/api`; undefined when
 * neither IPFS_PATH nor HOME is set.
 *
 * @example
 * ipfsApiFile({ HOME: "/home/u" }); // "/home/u/.ipfs/api"
 */
export function ipfsApiFile(env: Readonly<Record<string, string>>): string | undefined {
  const repo = env.IPFS_PATH || (env.HOME ? `${env.HOME.replace(/\/+$/, "")}/.ipfs` : undefined);
  return repo === undefined ? undefined : `${repo.replace(/\/+$/, "")}/api`;
}

/**
 * The address a run uses, in Kubo's order: --ipfs, then WW_IPFS, then the file Kubo writes while
 * its daemon runs ($IPFS_PATH/api, read by `apiFile` only when neither of the first two names
 * the node), then DEFAULT_IPFS_API; or why the api file cannot be used: one that is there but
 * empty is refused, as Kubo's own clients refuse it, rather than passed over for the default.
 *
 * @example
 * chooseIpfsApi(undefined, {}, () => ({ path: "/h/.ipfs/api", text: "/ip4/127.0.0.1/tcp/5001\n" }));
 * // { api: "/ip4/127.0.0.1/tcp/5001", origin: "$IPFS_PATH/api (/h/.ipfs/api)" }
 */
export function chooseIpfsApi(
  flag: string | undefined,
  env: Readonly<Record<string, string>>,
  apiFile: (() => { readonly path: string; readonly text: string } | undefined) | undefined,
): { api: string; origin: IpfsApiOrigin } | { error: string } {
  if (flag !== undefined) return { api: flag, origin: "--ipfs" };
  if (env.WW_IPFS) return { api: env.WW_IPFS, origin: "WW_IPFS" };
  const file = apiFile?.();
  if (file === undefined) return { api: DEFAULT_IPFS_API, origin: "default" };
  const text = file.text.trim();
  if (text === "") return { error: apiFileProblem(file.path, "empty") };
  return { api: text, origin: `$IPFS_PATH/api (${file.path})` };
}

/**
 * The line for a Kubo API file at `path` that is there but cannot be used (`why`: "empty", "a
 * directory", ...), with the fix.
 *
 * @example
 * apiFileProblem("/h/.ipfs/api", "a directory");
 * // "$IPFS_PATH/api (/h/.ipfs/api): a directory; a running Kubo daemon writes its API address there (remove it if no daemon uses that repository, or name the node with --ipfs or WW_IPFS)"
 */
export function apiFileProblem(path: string, why: string): string {
  return `$IPFS_PATH/api (${path}): ${why}; a running Kubo daemon writes its API address there (remove it if no daemon uses that repository, or name the node with --ipfs or WW_IPFS)`;
}

/** How long the node may send nothing before a fetch gives up (--ipfs-timeout). */
export const DEFAULT_IPFS_TIMEOUT_MS = 30_000;
