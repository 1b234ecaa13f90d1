// --jail=auto: bubblewrap where user namespaces work, the native jail elsewhere.
import assert from "node:assert/strict";
import {
  autoCacheKey,
  type AutoKeyFacts,
  bwrapFailedChoice,
  bwrapUnusable,
  chooseBackend,
  encodeAutoCache,
  type NamespaceFacts,
  NO_KEPT_MS,
  readAutoCache,
} from "./auto.ts";

const OPEN: NamespaceFacts = {
  bwrapPath: "/usr/bin/bwrap",
  maxUserNamespaces: 63000,
  capSysAdmin: false,
};

Deno.test("auto picks bwrap when it is installed and user namespaces are allowed", () => {
  assert.deepEqual(chooseBackend("auto", () => OPEN), {
    backend: "bwrap",
    reason: "auto: bubblewrap (/usr/bin/bwrap) can create user namespaces",
  });
});

Deno.test("auto picks native, saying why, when bwrap cannot create namespaces", () => {
  const cases: [Partial<NamespaceFacts>, RegExp][] = [
    [{ bwrapPath: undefined }, /bwrap is not in PATH/],
    [{ maxUserNamespaces: undefined }, /no user namespaces/],
    [{ maxUserNamespaces: 0 }, /user\.max_user_namespaces = 0/],
    [{ apparmorRestrictsUserns: 1 }, /apparmor_restrict_unprivileged_userns = 1/],
    [{ unprivilegedUsernsClone: 0 }, /unprivileged_userns_clone = 0/],
  ];
  for (const [change, reason] of cases) {
    const choice = chooseBackend("auto", () => ({ ...OPEN, ...change }));
    assert.equal(choice.backend, "native", JSON.stringify(change));
    assert.match(choice.reason, reason);
  }
});

Deno.test("CAP_SYS_ADMIN is exempt from the two unprivileged-userns sysctls, not from the others", () => {
  const admin = { ...OPEN, capSysAdmin: true };
  assert.equal(bwrapUnusable({ ...admin, apparmorRestrictsUserns: 1 }), undefined);
  assert.equal(bwrapUnusable({ ...admin, unprivilegedUsernsClone: 0 }), undefined);
  assert.match(bwrapUnusable({ ...admin, maxUserNamespaces: 0 }) ?? "", /disabled/);
});

Deno.test("a setuid bwrap needs no unprivileged user namespaces", () => {
  assert.equal(bwrapUnusable({ ...OPEN, bwrapSetuid: true, maxUserNamespaces: 0 }), undefined);
});

Deno.test("the sysctls allow namespaces at their other values", () => {
  assert.equal(bwrapUnusable({ ...OPEN, apparmorRestrictsUserns: 0 }), undefined);
  assert.equal(bwrapUnusable({ ...OPEN, unprivilegedUsernsClone: 1 }), undefined);
});

Deno.test("an explicit backend is taken as is, without looking at the machine", () => {
  for (const backend of ["bwrap", "native", "none"] as const) {
    assert.deepEqual(
      chooseBackend(backend, () => {
        throw new Error("facts must not be gathered");
      }),
      { backend, reason: `jail.backend "${backend}"`, commandLine: `--jail=${backend}` },
    );
  }
});

Deno.test("auto picks native when a real try of bwrap failed, naming bwrap's reason", () => {
  const failed = { ok: false, detail: "bwrap: unshare user ns: No space left on device" };
  assert.deepEqual(chooseBackend("auto", () => OPEN, () => failed), {
    backend: "native",
    reason:
      "auto: bubblewrap cannot create the jail's namespaces here (bwrap: unshare user ns: No space left on device)",
  });
  assert.equal(
    chooseBackend("auto", () => OPEN, () => ({ ok: true, detail: "" })).backend,
    "bwrap",
  );
});

Deno.test("the real try is not consulted when the sysctls already rule bwrap out", () => {
  const choice = chooseBackend("auto", () => ({ ...OPEN, maxUserNamespaces: 0 }), () => {
    throw new Error("no try needed");
  });
  assert.equal(choice.backend, "native");
  assert.equal(bwrapFailedChoice({ ok: false, detail: "" }).reason.endsWith("(it failed)"), true);
});

const KEY_FACTS: AutoKeyFacts = {
  kernel: "6.18.0",
  bwrapFile: "1:72080:1723626248000",
  uid: 0,
  userNamespace: "user:[4026531837]",
  seccompFilters: 0,
};

Deno.test("a remembered try holds only under the key it was made under", () => {
  const key = autoCacheKey(OPEN, KEY_FACTS);
  const text = encodeAutoCache(key, { ok: false, detail: "bwrap: no" });
  assert.deepEqual(readAutoCache(text, key), { ok: false, detail: "bwrap: no" });
  const changes: [Partial<NamespaceFacts>, Partial<AutoKeyFacts>][] = [
    [{}, { kernel: "6.19.0" }],
    [{}, { bwrapFile: "2:72080:1723626248000" }],
    [{}, { uid: 1000 }],
    [{}, { userNamespace: "user:[4026532244]" }],
    [{}, { seccompFilters: 1 }],
    [{ maxUserNamespaces: 1 }, {}],
    [{ capSysAdmin: true }, {}],
  ];
  for (const [ns, k] of changes) {
    const other = autoCacheKey({ ...OPEN, ...ns }, { ...KEY_FACTS, ...k });
    assert.notEqual(other, key, JSON.stringify([ns, k]));
    assert.equal(readAutoCache(text, other), undefined);
  }
});

Deno.test("a missing, torn or foreign cache file is no answer", () => {
  const key = autoCacheKey(OPEN, KEY_FACTS);
  for (const text of [undefined, "", "{", "null", '{"key":1}', `{"key":${JSON.stringify(key)}}`]) {
    assert.equal(readAutoCache(text, key), undefined, String(text));
  }
});

Deno.test("a remembered no holds for an hour, or not at all when it says no time; a yes holds", () => {
  const key = autoCacheKey(OPEN, KEY_FACTS);
  const at = 1_800_000_000_000;
  const no = encodeAutoCache(key, { ok: false, detail: "bwrap: no" }, at);
  assert.deepEqual(readAutoCache(no, key, at + NO_KEPT_MS - 1), { ok: false, detail: "bwrap: no" });
  assert.equal(NO_KEPT_MS, 60 * 60 * 1000);
  assert.equal(readAutoCache(no, key, at + NO_KEPT_MS), undefined);
  assert.equal(readAutoCache(no, key, at - 1), undefined); // made in the future: a clock set back
  assert.equal(readAutoCache(encodeAutoCache(key, { ok: false, detail: "" }), key, at), undefined);
  const yes = encodeAutoCache(key, { ok: true, detail: "" });
  assert.deepEqual(readAutoCache(yes, key, at + 100 * NO_KEPT_MS), { ok: true, detail: "" });
});
