// run/out_of_descriptors_test.ts — which failures are a shortage of descriptors, and their words.

import assert from "node:assert/strict";
import { SetupError } from "../core/errors.ts";
import { SyscallError } from "../ffi/libc.ts";
import { outOfDescriptors } from "./out_of_descriptors.ts";

Deno.test("outOfDescriptors: EMFILE and ENFILE, from ww's calls or Deno's, and nothing else", () => {
  const emfile = outOfDescriptors(new SyscallError("pipe2", 24, "the reactor's wake pipe"));
  assert.ok(emfile instanceof SetupError);
  assert.equal(
    emfile.message,
    "out of file descriptors (pipe2 (the reactor's wake pipe): EMFILE): raise ww's open-file limit (ulimit -n)",
  );
  assert.equal(
    outOfDescriptors(new SyscallError("socketpair", 23))?.message,
    "the system is out of file descriptors (socketpair: ENFILE): its open-file table is full (fs.file-max)",
  );
  assert.match(
    outOfDescriptors(new Error("Too many open files (os error 24)"))?.message ?? "",
    /^out of file descriptors \(EMFILE\)/,
  );
  assert.equal(outOfDescriptors(new SyscallError("pipe2", 9)), undefined);
  assert.equal(outOfDescriptors(new Error("No such file (os error 2)")), undefined);
  assert.equal(outOfDescriptors("EMFILE"), undefined);
});
