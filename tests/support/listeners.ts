// tests/support/listeners.ts — servers for tests whose programs only need someone to connect to,
// a port where no one listens, and a port for a program that must bind the port it is given.

import { closeFd } from "../../ffi/fd.ts";
import { boundAddress, listenSocket } from "../../ffi/socket.ts";
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

/** Where the kernel's ephemeral ports begin (net.ipv4.ip_local_port_range). */
function ephemeralStart(): number {
  const text = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range");
  return Number(text.trim().split(/\s+/)[0]);
}

/** A sockaddr_in of 0.0.0.0:`port`. */
function anyAddress(port: number): Uint8Array {
  const addr = new Uint8Array(16);
  const view = new DataView(addr.buffer);
  view.setUint16(0, 2, true); // AF_INET
  view.setUint16(2, port, false);
  return addr;
}

/** Whether `port` can be bound now on every address, for TCP and for UDP alike. */
function bindable(port: number): boolean {
  for (const datagram of [false, true]) {
    try {
      closeFd(listenSocket(anyAddress(port), datagram));
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * A port that is free now, for a test whose program must bind the very port it is given (twice,
 * say, to be told "address in use"). It is below the kernel's ephemeral range, from which every
 * bind to port 0 and every outgoing connection takes its port: a port found free by binding port
 * 0 and let go could be another test's connection or listener a moment later (tests run in
 * parallel), while one from here is taken only by a test that asks for a fixed port, each picked
 * at random. Throws when the host leaves no ports below its ephemeral range.
 *
 * @example
 * const listen = `web=tcp:127.0.0.1:${unchosenPort()}`;
 */
export function unchosenPort(): number {
  const end = ephemeralStart();
  const start = Math.max(1024, end - 16384);
  if (end - start < 1024) {
    throw new Error(
      `unchosenPort: the ephemeral ports begin at ${end} (net.ipv4.ip_local_port_range), which leaves too few below them`,
    );
  }
  for (let tries = 0; tries < 64; tries++) {
    const port = start + Math.floor(Math.random() * (end - start));
    if (bindable(port)) return port;
  }
  throw new Error(`unchosenPort: no port of ${start}-${end - 1} could be bound in 64 tries`);
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
