// tests/support/listeners.ts — servers for tests whose programs only need someone to connect to.

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
