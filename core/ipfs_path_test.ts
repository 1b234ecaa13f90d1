import assert from "node:assert/strict";
import { formatIpfsPath, isIpfsPath, parseIpfsPath, programName } from "./ipfs_path.ts";

const V0 = "QmS45prVvRpjebcdLC17eesXcA9dhVbfcbFFVqotqcCsPy";
const V1 = "bafybeidsjrpijy6a4vt7gh7j2oxpd77g3cpd4lxlo2dlnsewkh5cixatmm";
const V1_B58 = "zdj7Wd856dfoevE8ThCvDJezmDbNKM9kNKyuFYGE13dMhpjYW";

Deno.test("/ipfs/ and /ipns/ paths are IPFS paths, whether or not they parse", () => {
  for (const p of [`/ipfs/${V1}`, `/ipfs/${V0}/bin/app`, "/ipns/example.org", "/ipfs/", "/ipns"]) {
    assert.equal(isIpfsPath(p), true, p);
  }
});

Deno.test("bare CIDv0 and CIDv1 in several multibases are IPFS paths", () => {
  for (const c of [V0, V1, V1_B58, V1.toUpperCase().replace(/^B/, "B")]) {
    assert.equal(isIpfsPath(c), true, c);
  }
});

Deno.test("local paths and program names are not IPFS paths", () => {
  for (
    const p of [
      "./app",
      "/usr/bin/true",
      "true",
      "ipfs",
      "/ipfsx/a",
      "bafy",
      "Qmshort",
      "/tmp/ipfs/x",
    ]
  ) {
    assert.equal(isIpfsPath(p), false, p);
  }
});

Deno.test("a path splits into namespace, root and segments; a trailing slash is ignored", () => {
  assert.deepEqual(parseIpfsPath(`/ipfs/${V1}/bin/app/`), {
    namespace: "ipfs",
    root: V1,
    segments: ["bin", "app"],
  });
  assert.deepEqual(parseIpfsPath("/ipns/example.org"), {
    namespace: "ipns",
    root: "example.org",
    segments: [],
  });
});

Deno.test("a bare CID is /ipfs/<cid>", () => {
  const p = parseIpfsPath(V0);
  assert.deepEqual(p, { namespace: "ipfs", root: V0, segments: [] });
  assert.equal(formatIpfsPath(p as Exclude<typeof p, { error: string }>), `/ipfs/${V0}`);
});

Deno.test("a missing root, empty segments and . or .. are errors naming the path", () => {
  for (
    const p of [
      "/ipfs",
      "/ipfs/",
      "/ipns//x",
      `/ipfs/${V1}//app`,
      `/ipfs/${V1}/../x`,
      `/ipfs/${V1}/./x`,
    ]
  ) {
    const r = parseIpfsPath(p);
    assert.ok("error" in r, p);
    assert.ok(r.error.startsWith(`${p}: `), r.error);
  }
});

Deno.test("argv[0] is the last segment, or the root", () => {
  const name = (s: string) => programName(parseIpfsPath(s) as Parameters<typeof programName>[0]);
  assert.equal(name(`/ipfs/${V1}/bin/app`), "app");
  assert.equal(name(`/ipfs/${V1}`), V1);
  assert.equal(name(V0), V0);
  assert.equal(name("/ipns/example.org/tool"), "tool");
});

Deno.test("isIpfsPath's shortcuts agree with the regular expressions they replace", () => {
  // The rule as it was written before the shortcuts: the /ipfs, /ipns prefix or a bare CID.
  const BARE = new RegExp(
    [
      "Qm[1-9A-HJ-NP-Za-km-z]{44}",
      "b[a-z2-7]{50,}",
      "B[A-Z2-7]{50,}",
      "z[1-9A-HJ-NP-Za-km-z]{40,}",
      "k[0-9a-z]{50,}",
      "f[0-9a-f]{64,}",
      "F[0-9A-F]{64,}",
      "[mu][A-Za-z0-9+/_-]{40,}",
    ].map((re) => `^${re}$`).join("|"),
  );
  const regexRule = (p: string) => /^\/ip[fn]s(\/|$)/.test(p) || BARE.test(p);
  const names = ["", "/", "/ipfs", "/ipns", "/ipfs/", "/ipfsx", "/ipf", "/ipnsx/a", "//ipfs/a"];
  for (const prefix of ["Qm", "b", "B", "z", "k", "f", "F", "m", "u", "/", "/ipfs/", "x"]) {
    for (const n of [38, 39, 40, 41, 42, 44, 45, 46, 49, 50, 51, 63, 64, 65]) {
      for (const fill of ["a", "A", "1", "/", "+"]) names.push(prefix + fill.repeat(n));
    }
  }
  for (const p of names) assert.equal(isIpfsPath(p), regexRule(p), p);
});
