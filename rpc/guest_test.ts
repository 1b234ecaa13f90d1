// rpc/guest.ts's choice of the host socket's descriptor (the connection itself is tested with a
// real ww in tests/rpc/ts_guest_test.ts and tests/run/socket_activation_test.ts).
import assert from "node:assert/strict";
import { hostSocketFd } from "./guest.ts";

Deno.test("the host socket is WW_HOST_FD when ww sets it (socket activation), else fd 3", () => {
  assert.equal(hostSocketFd({ WW_HOST_FD: "6", LISTEN_FDS: "3" }), 6);
  assert.equal(hostSocketFd({ WW_FD_DB: "4" }), 3);
  for (const bad of ["", "six", "-6", "6 ", "1e3"]) {
    assert.throws(
      () => hostSocketFd({ WW_HOST_FD: bad }),
      /^Error: WW_HOST_FD=.*: not a descriptor number/,
    );
  }
});
