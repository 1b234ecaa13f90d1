// The --ipfs multiaddr.
import assert from "node:assert/strict";
import { DEFAULT_IPFS_API, multiaddrToUrl } from "./multiaddr.ts";

Deno.test("the default address is localhost:5001 over http", () => {
  assert.deepEqual(multiaddrToUrl(DEFAULT_IPFS_API), { url: "http://localhost:5001" });
});

Deno.test("ip4, ip6, dns, with or without /http or /https", () => {
  assert.deepEqual(multiaddrToUrl("/ip4/127.0.0.1/tcp/45101"), { url: "http://127.0.0.1:45101" });
  assert.deepEqual(multiaddrToUrl("/ip6/::1/tcp/5001/http"), { url: "http://[::1]:5001" });
  assert.deepEqual(multiaddrToUrl("/dns/node.example/tcp/443/https"), {
    url: "https://node.example:443",
  });
});

Deno.test("malformed addresses name what is wrong", () => {
  const bad: [string, RegExp][] = [
    ["", /not a multiaddr/],
    ["http://localhost:5001", /not a multiaddr/],
    ["/ip4/1.2.3/tcp/1", /not an IPv4/],
    ["/ip6/zz/tcp/1", /not an IPv6/],
    ["/dns4/bad_host/tcp/1", /not a DNS name/],
    ["/unix/tmp/sock/tcp/1", /not supported/],
    ["/ip4/1.2.3.4/udp/1", /expected \/tcp/],
    ["/ip4/1.2.3.4/tcp/0", /not a TCP port/],
    ["/ip4/1.2.3.4/tcp/1/ws", /only \/http or \/https/],
    ["/ip4/1.2.3.4/tcp/1/http/x", /only \/http or \/https/],
  ];
  for (const [addr, re] of bad) {
    const r = multiaddrToUrl(addr);
    assert.ok("error" in r && re.test(r.error), `${addr}: ${JSON.stringify(r)}`);
  }
});
