// run/inspector_port.ts — keeps Deno's inspector shut, in ww and in a Deno program ww runs on the
// host's network. Deno 2.9.2 and later start the V8 inspector on 127.0.0.1:9229 when a `deno run`
// process gets SIGUSR1 after its first 500 ms: a debugger without a password that runs any code as
// that process for whoever connects, another user or a jail sharing the host's network among them.
// ww forwards SIGUSR1 to the program, so people send it: under `deno run`, ww's own Deno would open
// one (a compiled ww has none), and a program that is a `deno run` itself (a --deno guest) opens
// its own, on the host's loopback whenever it shares ww's network (--jail=none, --net). ww holds
// that port for its whole life instead, compiled or not: Deno's server then cannot listen (it does
// not share a port), says so in one line on stderr, and nothing opens.

import { holdLoopbackPort } from "../ffi/socket_basics.ts";
import { SyscallError } from "../ffi/libc.ts";

/** Where Deno starts its inspector on SIGUSR1 (libs/inspector_server: default_inspector_host). */
export const DENO_INSPECTOR_PORT = 9229;

/**
 * Holds 127.0.0.1:9229 until ww exits. A port another user holds already is as good (Deno cannot
 * listen there either); a machine where ww cannot bind it at all (no loopback, no sockets) gives
 * Deno's server no place to listen on it either.
 */
export function shutDenoInspector(): void {
  if (hold() !== undefined) return;
  // Taken: by another ww (each holds it at once, SO_REUSEPORT), or by something that may let it
  // go while ww runs (another Deno's inspector), which left Deno free to listen there on a later
  // SIGUSR1. Taken again as soon as it is free.
  const retry = setInterval(() => {
    if (hold() !== undefined) clearInterval(retry);
  }, RETRY_MS);
  Deno.unrefTimer(retry);
}

/** How often ww tries again to hold a port someone else held when it started. */
const RETRY_MS = 100;

/** The port held (its descriptor), or undefined when another holds it or none can be had. */
function hold(): number | undefined {
  try {
    return holdLoopbackPort(DENO_INSPECTOR_PORT);
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    return -1; // no loopback or no sockets: Deno's server has no place to listen either
  }
}
