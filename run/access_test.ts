// run/access_test.ts — the permission rule every check before a run reads (run/access.ts): which
// of owner, group and other applies to a user, what reading, writing or entering needs, root's
// exceptions, and the kernel's answer for ww's own user.
import assert from "node:assert/strict";
import { R_OK, W_OK, X_OK } from "../ffi/stat.ts";
import {
  type Accessor,
  type FileModeOwner,
  mayAccess,
  modeAllows,
  permissionClass,
} from "./access.ts";

/** Write, as a bind's check asks it: a directory's needs search too. */
function canWrite(info: FileModeOwner, who: Accessor): boolean {
  return modeAllows(info, who, info.isDirectory ? W_OK | X_OK : W_OK);
}

function canExecute(info: FileModeOwner, who: Accessor): boolean {
  return modeAllows(info, who, X_OK);
}

function info(mode: number, uid: number, gid: number, isDirectory: boolean): Deno.FileInfo {
  return { mode, uid, gid, isDirectory, isFile: !isDirectory } as Deno.FileInfo;
}

const JAIL = { uid: 70000, gid: 70000 };

Deno.test("write needs the w bit of the class that applies, and on a directory x too", () => {
  for (let mode = 0; mode < 0o1000; mode++) {
    for (const isDirectory of [false, true]) {
      const need = isDirectory ? 3 : 2;
      const owner = info(mode, 70000, 0, isDirectory);
      const group = info(mode, 0, 70000, isDirectory);
      const other = info(mode, 0, 0, isDirectory);
      assert.equal(canWrite(owner, JAIL), ((mode >> 6) & need) === need, mode.toString(8));
      assert.equal(canWrite(group, JAIL), ((mode >> 3) & need) === need, mode.toString(8));
      assert.equal(canWrite(other, JAIL), (mode & need) === need, mode.toString(8));
      // The owner's class applies even when it grants less than group or other would.
      if ((mode >> 6 & need) !== need) assert.equal(canWrite(owner, JAIL), false);
    }
  }
});

Deno.test("root may write anything; setuid, setgid and sticky bits change nothing", () => {
  assert.equal(canWrite(info(0o000, 0, 0, true), { uid: 0, gid: 0 }), true);
  assert.equal(canWrite(info(0o1777, 0, 0, true), JAIL), true);
  assert.equal(canWrite(info(0o4755, 0, 0, false), JAIL), false);
});

Deno.test("execute and search need the x bit of the class that applies", () => {
  for (let mode = 0; mode < 0o1000; mode++) {
    assert.equal(canExecute(info(mode, 70000, 0, true), JAIL), (mode & 0o100) !== 0);
    assert.equal(canExecute(info(mode, 0, 70000, true), JAIL), (mode & 0o010) !== 0);
    assert.equal(canExecute(info(mode, 0, 0, true), JAIL), (mode & 0o001) !== 0);
  }
});

// ww not root runs a jail as its own user, whose supplementary groups the jail keeps: a directory
// it may write through one of them was refused as the jail's user's.
Deno.test("a supplementary group counts as the gid does; the owner's class still comes first", () => {
  const member = { uid: 1000, gid: 1000, groups: [27] };
  for (let mode = 0; mode < 0o1000; mode++) {
    for (const isDirectory of [false, true]) {
      const need = isDirectory ? 3 : 2;
      const group = info(mode, 0, 27, isDirectory);
      assert.equal(canWrite(group, member), ((mode >> 3) & need) === need, mode.toString(8));
      assert.equal(canExecute(group, member), (mode & 0o010) !== 0, mode.toString(8));
      const owned = info(mode, 1000, 27, isDirectory);
      assert.equal(canWrite(owned, member), ((mode >> 6) & need) === need, mode.toString(8));
      assert.equal(permissionClass(owned, member), "owner");
    }
  }
  assert.equal(permissionClass(info(0o770, 0, 27, true), member), "group");
  assert.equal(permissionClass(info(0o770, 0, 27, true), { uid: 1000, gid: 1000 }), "other");
});

// A --ro-bind's file is read, a directory's listed and entered (run/ids.ts).
Deno.test("read needs the r bit of the class that applies, a supplementary group's included", () => {
  const member = { uid: 1000, gid: 1000, groups: [27] };
  for (let mode = 0; mode < 0o1000; mode++) {
    for (const need of [R_OK, R_OK | X_OK]) {
      const m = mode.toString(8);
      assert.equal(
        modeAllows(info(mode, 1000, 0, true), member, need),
        ((mode >> 6) & need) === need,
        m,
      );
      assert.equal(
        modeAllows(info(mode, 0, 27, true), member, need),
        ((mode >> 3) & need) === need,
        m,
      );
      assert.equal(modeAllows(info(mode, 0, 0, true), member, need), (mode & need) === need, m);
    }
  }
});

// The kernel's rule for root (CAP_DAC_OVERRIDE): a file is executed only when some class may.
Deno.test("root reads anything and enters any directory, but executes only a file with an x bit", () => {
  const root = { uid: 0, gid: 0 };
  assert.equal(modeAllows(info(0o000, 1000, 1000, false), root, R_OK | W_OK), true);
  assert.equal(modeAllows(info(0o000, 1000, 1000, true), root, R_OK | W_OK | X_OK), true);
  assert.equal(modeAllows(info(0o600, 1000, 1000, false), root, X_OK), false);
  for (const x of [0o100, 0o010, 0o001]) {
    assert.equal(modeAllows(info(0o600 | x, 1000, 1000, false), root, X_OK), true);
  }
});

// ww's own user has the kernel's answer as well, which a user ww chose does not: the kernel
// answers only for the ids ww runs with (here root's, which read a 0600 file of another's).
Deno.test("mayAccess: the kernel answers for ww's own user, the mode alone for a chosen one", () => {
  const dir = Deno.makeTempDirSync({ prefix: "wwtest-access-" });
  try {
    const file = `${dir}/f`;
    Deno.writeTextFileSync(file, "x");
    Deno.chmodSync(file, 0o600);
    const info = { ...Deno.statSync(file), uid: 4248 };
    const chosen = { uid: 70000, gid: 70000, groups: [], chosen: true };
    assert.equal(mayAccess(file, info, R_OK, chosen), false);
    assert.equal(mayAccess(file, info, R_OK, "ww"), Deno.uid() === 0);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
