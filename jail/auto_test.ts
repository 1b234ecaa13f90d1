// --jail=auto: bubblewrap where user namespaces work, the native jail elsewhere.
import assert from "node:assert/strict";
import { bwrapUnusable, chooseBackend, type NamespaceFacts } from "./auto.ts";

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
      { backend, reason: `--jail=${backend}` },
    );
  }
});
