// tests/support/listeners.ts — servers for tests whose programs only need someone to connect to,
// and a port where no one listens.

import { closeFd } from "../../ffi/fd.ts";
import { boundAddress } from "../../ffi/socket.ts";
import { holdLoopbackPort } from "../../ffi/socket_basics.ts";

let refused: number | undefined;

/**
 * A TCP port on 127.0.0.1 where nothing listens, for as long as this process runs: it is held
 * bound and not listening, so a connection to it is refused and the kernel gives it to no other
 * socket (a port found free and let go could be any test's listener a moment later).
 *
 * @example
 * const api = `/ip4/127.0.0.1/tcp/${refusedPort()}/http`;
 */
export function refusedPort(): number {
  if (refused !== undefined) return refused;
  const held = holdLoopbackPort(0)!;
  globalThis.addEventListener("unload", () => closeFd(held));
  return refused = boundAddress(held).port;
}

/**
 * Hands each connection to `listener` to `take`, until the listener is closed. A connection whose
 * peer dropped it before it was accepted (Deno's accept then fails to read the peer's address:
 * ENOTCONN) is passed over, not taken for the listener's end.
 */
export async function acceptEach(
  listener: Deno.Listener,
  take: (conn: Deno.Conn) => void,
): Promise<void> {
  for (;;) {
    let conn: Deno.Conn;
    try {
      conn = await listener.accept();
    } catch (e) {
      if (e instanceof Deno.errors.BadResource) return; // the listener was closed
      if (e instanceof Deno.errors.NotConnected || e instanceof Deno.errors.ConnectionReset) {
        continue;
      }
      throw e;
    }
    take(conn);
  }
}

/** Accepts each connection to `listener` and closes it at once, until the listener is closed. */
export function closeEachConnection(listener: Deno.Listener): Promise<void> {
  return acceptEach(listener, (conn) => conn.close());
}
