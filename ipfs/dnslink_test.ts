import assert from "node:assert/strict";
import { dnslinkValue, isDomainName } from "./dnslink.ts";

const CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";

Deno.test("a domain is a DNSLink name; a key is not", () => {
  assert.equal(isDomainName("example.org"), true);
  assert.equal(
    isDomainName("k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8"),
    false,
  );
  assert.equal(isDomainName("12D3KooWQxiaZtN3NVnDELbzWQhRLmWcf5EgpcrLDEU7y9Ki39qZ"), false);
});

Deno.test("dnslinkValue joins a record's strings and ignores other TXT records", () => {
  assert.equal(
    dnslinkValue([["v=spf1 -all"], ["dnslink=/ipfs/", `${CID}/bin`]]),
    `/ipfs/${CID}/bin`,
  );
  assert.equal(dnslinkValue([["dnslink=/ipns/example.net"]]), "/ipns/example.net");
});

Deno.test("dnslinkValue takes the lexicographically first of several", () => {
  assert.equal(dnslinkValue([["dnslink=/ipfs/b"], ["dnslink=/ipfs/a"]]), "/ipfs/a");
});

Deno.test("dnslinkValue refuses no record and a value that is not an IPFS path", () => {
  assert.deepEqual(dnslinkValue([]), { error: "no dnslink= TXT record" });
  assert.deepEqual(dnslinkValue([["other=1"]]), { error: "no dnslink= TXT record" });
  assert.deepEqual(dnslinkValue([["dnslink=https://example.org"]]), {
    error: "the dnslink= record points to https://example.org, not an /ipfs/ or /ipns/ path",
  });
});
