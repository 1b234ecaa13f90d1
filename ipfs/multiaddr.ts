// ipfs/multiaddr.ts — the `--ipfs` address: a multiaddr naming a Kubo RPC endpoint, turned into
// the HTTP base URL the client uses. Pure, and tiny on purpose: it runs on every `ww run`, and the
// full multiaddr library costs start-up time that a local program must not pay.

/** The default Kubo RPC endpoint. */
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
    return { error: `${addr}: not a multiaddr like /ip4/127.0.0.1/tcp/5001/http` };
  }
  const [, proto, host, transport, port, scheme, ...rest] = parts;
  let hostPart: string;
  switch (proto) {
    case "ip4":
      if (!IPV4.test(host)) return { error: `${addr}: ${host} is not an IPv4 address` };
      hostPart = host;
      break;
    case "ip6":
      if (!/^[0-9A-Fa-f:.]+$/.test(host) || !host.includes(":")) {
        return { error: `${addr}: ${host} is not an IPv6 address` };
      }
      hostPart = `[${host}]`;
      break;
    case "dns":
    case "dns4":
    case "dns6":
      if (!DNS_NAME.test(host)) return { error: `${addr}: ${host} is not a DNS name` };
      hostPart = host;
      break;
    default:
      return { error: `${addr}: protocol /${proto} is not supported (use /ip4, /ip6 or /dns4)` };
  }
  if (transport !== "tcp") return { error: `${addr}: expected /tcp/<port> after the host` };
  if (!/^\d{1,5}$/.test(port ?? "") || Number(port) < 1 || Number(port) > 65535) {
    return { error: `${addr}: ${port} is not a TCP port (1-65535)` };
  }
  const trailing = rest.filter((p, i) => !(p === "" && i === rest.length - 1));
  if (trailing.length > 0 || (scheme !== undefined && !["http", "https", ""].includes(scheme))) {
    return { error: `${addr}: only /http or /https may follow the port` };
  }
  return { url: `${scheme === "https" ? "https" : "http"}://${hostPart}:${port}` };
}

/** How long the node may send nothing before a fetch gives up (--ipfs-timeout). */
export const DEFAULT_IPFS_TIMEOUT_MS = 30_000;
