// The --ipfs multiaddr.
import assert from "node:assert/strict";
import {
  chooseIpfsApi,
  DEFAULT_IPFS_API,
  ipfsApiFile,
  ipfsApiUrl,
  multiaddrToUrl,
} from "./multiaddr.ts";

Deno.test("the default address is localhost:5001 over http", () => {
  assert.deepEqual(multiaddrToUrl(DEFAULT_IPFS_API), { url: "http://localhost:5001" });
  // cli/flags.ts checks every address but this one, which must therefore parse.
  assert.deepEqual(ipfsApiUrl(DEFAULT_IPFS_API), { url: "http://localhost:5001" });
});

Deno.test("ip4, ip6, dns, with or without /http or /https", () => {
  assert.deepEqual(multiaddrToUrl("/ip4/127.0.0.1/tcp/45101"), { url: "http://127.0.0.1:45101" });
  assert.deepEqual(multiaddrToUrl("/ip6/::1/tcp/5001/http"), { url: "http://[::1]:5001" });
  assert.deepEqual(multiaddrToUrl("/ip6/::ffff:1.2.3.4/tcp/5001/http"), {
    url: "http://[::ffff:1.2.3.4]:5001",
  });
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
    ["/ip6/:::::/tcp/5001", /::::: is not an IPv6 address/],
    ["/ip6/1.2.3.4:/tcp/5001", /1\.2\.3\.4: is not an IPv6 address/],
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

Deno.test("an address may also be an http(s) URL or a /unix/ socket multiaddr", () => {
  assert.deepEqual(ipfsApiUrl("http://127.0.0.1:5001"), { url: "http://127.0.0.1:5001" });
  assert.deepEqual(ipfsApiUrl("https://node.example:443/"), { url: "https://node.example:443" });
  assert.deepEqual(ipfsApiUrl("http://[::1]:5001"), { url: "http://[::1]:5001" });
  assert.deepEqual(ipfsApiUrl("/unix/run/ipfs.sock"), { url: "http+unix://%2Frun%2Fipfs.sock" });
  assert.deepEqual(ipfsApiUrl("/unix/%2Frun%2Fipfs.sock"), {
    url: "http+unix://%2Frun%2Fipfs.sock",
  });
  assert.deepEqual(ipfsApiUrl("/ip4/127.0.0.1/tcp/5001"), { url: "http://127.0.0.1:5001" });
  const bad: [string, RegExp][] = [
    ["ftp://localhost:21", /expected http:\/\/HOST:PORT/],
    ["http://localhost", /expected http:\/\/HOST:PORT/],
    ["http://localhost:5001/api/v0", /expected http:\/\/HOST:PORT/],
    ["http://user@localhost:5001", /expected http:\/\/HOST:PORT/],
    ["http://localhost:70000", /not a TCP port/],
    ["/unix/", /socket's absolute path/],
    ["/unix/%zz", /percent-encoding/],
    // Neither form: both are named.
    [
      "127.0.0.1:5001",
      /^127\.0\.0\.1:5001: not a multiaddr like \/ip4\/.*, nor a URL like http:\/\/127\.0\.0\.1:5001$/,
    ],
    ["/ip4/1.2.3/tcp/1", /not an IPv4/],
  ];
  for (const [addr, re] of bad) {
    const r = ipfsApiUrl(addr);
    assert.ok("error" in r && re.test(r.error), `${addr}: ${JSON.stringify(r)}`);
  }
});

Deno.test("the Kubo API file is $IPFS_PATH/api, else ~/.ipfs/api", () => {
  assert.equal(ipfsApiFile({ IPFS_PATH: "/srv/ipfs/", HOME: "/home/u" }), "/srv/ipfs/api");
  assert.equal(ipfsApiFile({ HOME: "/home/u" }), "/home/u/.ipfs/api");
  assert.equal(ipfsApiFile({ IPFS_PATH: "", HOME: "/home/u" }), "/home/u/.ipfs/api");
  assert.equal(ipfsApiFile({}), undefined);
});

// An empty api file was passed over for the default address: a user who set IPFS_PATH got
// another node than the one it names, or a refused connection to one it never named.
Deno.test("an empty $IPFS_PATH/api is refused, naming the file and the fix", () => {
  const empty = () => ({ path: "/h/.ipfs/api", text: " \n" });
  assert.deepEqual(chooseIpfsApi(undefined, {}, empty), {
    error:
      "$IPFS_PATH/api (/h/.ipfs/api): empty; a running Kubo daemon writes its API address there (remove it if no daemon uses that repository, or name the node with --ipfs or WW_IPFS)",
  });
  // Not read at all when --ipfs or WW_IPFS names the node.
  const unread = () => {
    throw new Error("read");
  };
  assert.deepEqual(chooseIpfsApi("/unix/s", {}, unread), { api: "/unix/s", origin: "--ipfs" });
  assert.deepEqual(chooseIpfsApi(undefined, { WW_IPFS: "/unix/s" }, unread), {
    api: "/unix/s",
    origin: "WW_IPFS",
  });
});

Deno.test("the address comes from --ipfs, then WW_IPFS, then $IPFS_PATH/api, then the default", () => {
  const file = () => ({ path: "/h/.ipfs/api", text: "/ip4/127.0.0.1/tcp/45005\n" });
  assert.deepEqual(chooseIpfsApi("/unix/s", { WW_IPFS: "/ip4/1.1.1.1/tcp/1" }, file), {
    api: "/unix/s",
    origin: "--ipfs",
  });
  assert.deepEqual(chooseIpfsApi(undefined, { WW_IPFS: "/ip4/1.1.1.1/tcp/1" }, file), {
    api: "/ip4/1.1.1.1/tcp/1",
    origin: "WW_IPFS",
  });
  assert.deepEqual(chooseIpfsApi(undefined, { WW_IPFS: "" }, file), {
    api: "/ip4/127.0.0.1/tcp/45005",
    origin: "$IPFS_PATH/api (/h/.ipfs/api)",
  });
  assert.deepEqual(chooseIpfsApi(undefined, {}, () => undefined), {
    api: DEFAULT_IPFS_API,
    origin: "default",
  });
  assert.deepEqual(chooseIpfsApi(undefined, {}, undefined), {
    api: DEFAULT_IPFS_API,
    origin: "default",
  });
});
