// tests/ipfs/proxy.ts — an HTTP proxy between ww and a real IPFS node that misbehaves on purpose:
// it flips a byte in the bodies it forwards, stalls a body part-way, or trickles bodies slowly
// (so a test can kill the node mid-transfer, or see a slow but steady answer waited for),
// rewrites whole answers (a node that lies about names), answers 404 to commands (a node that
// lacks them), or announces a body of gigabytes and sends zeros (a node that would fill ww's
// memory). It listens on a free loopback port. unixProxy offers a node on a unix socket.

import { acceptEach } from "../support/listeners.ts";
import { nodeFetch } from "./ipfsd.ts";

/** How the proxy misbehaves; it forwards faithfully by default. */
export interface ProxyOptions {
  /** Flip a byte at this offset of every body of these RPC commands (e.g. "cat", "block/get"). */
  readonly tamper?: { readonly commands: readonly string[]; readonly at: number };
  /** After this many bytes of a body of these commands, send nothing more (and keep it open). */
  readonly stall?: { readonly commands: readonly string[]; readonly after: number };
  /** Forward bodies at about this many bytes per second. */
  readonly bytesPerSecond?: number;
  /** Forward the bodies of these commands `bytes` at a time, one piece every `everyMs`. */
  readonly drip?: {
    readonly commands: readonly string[];
    readonly bytes: number;
    readonly everyMs: number;
  };
  /**
   * Answer each of these commands with 200 and what the function makes of the node's whole body
   * (whatever the node's status was).
   */
  readonly rewrite?: Readonly<Record<string, (body: Uint8Array) => Uint8Array>>;
  /** Answer these commands with 404, as a node without them does. */
  readonly refuse?: readonly string[];
  /**
   * Answer these commands with 200, a Content-Length of `announced` and zeros for as long as the
   * client reads, up to that length: a node that would make ww hold whatever it sends.
   */
  readonly inflate?: { readonly commands: readonly string[]; readonly announced: number };
}

export interface Proxy {
  /** The proxy's address as a multiaddr, for --ipfs. */
  readonly api: string;
  /** Body bytes forwarded so far. */
  forwarded(): number;
  /** Requests seen, as "command arg". */
  readonly requests: string[];
  close(): Promise<void>;
}

/** Starts a proxy in front of the node at `upstream` (an http:// base URL). */
export function startProxy(upstream: string, options: ProxyOptions = {}): Proxy {
  const abort = new AbortController();
  const requests: string[] = [];
  let forwarded = 0;
  const stopped = new Promise<void>((resolve) =>
    abort.signal.addEventListener("abort", () => resolve())
  );
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: abort.signal, onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      const command = url.pathname.replace(/^\/api\/v0\//, "");
      requests.push(`${command} ${url.searchParams.get("arg") ?? ""}`);
      if (options.refuse?.includes(command)) {
        return Response.json({ Message: "404 page not found", Code: 0, Type: "error" }, {
          status: 404,
        });
      }
      if (options.inflate?.commands.includes(command)) {
        const { announced } = options.inflate;
        const zeros = new Uint8Array(64 * 1024);
        let sent = 0;
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent >= announced) return controller.close();
            const n = Math.min(zeros.length, announced - sent);
            sent += n;
            forwarded += n;
            controller.enqueue(zeros.subarray(0, n));
          },
        });
        return new Response(body, { headers: { "content-length": String(announced) } });
      }
      // The request's body goes along (add's upload), with its media type.
      const type = req.headers.get("content-type");
      const res = await nodeFetch(`${upstream}${url.pathname}${url.search}`, {
        method: req.method,
        body: await req.arrayBuffer(),
        headers: type === null ? {} : { "content-type": type },
        signal: abort.signal,
      });
      const rewrite = options.rewrite?.[command];
      if (rewrite) {
        const body = rewrite(new Uint8Array(await res.arrayBuffer()));
        const headers = new Headers(res.headers);
        headers.delete("content-length");
        headers.delete("transfer-encoding");
        return new Response(body as Uint8Array<ArrayBuffer>, { status: 200, headers });
      }
      const tamper = options.tamper?.commands.includes(command) ? options.tamper.at : undefined;
      const stall = options.stall?.commands.includes(command) ? options.stall.after : undefined;
      const drip = options.drip?.commands.includes(command) ? options.drip : undefined;
      let offset = 0;
      const reader = res.body!.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          let r: ReadableStreamReadResult<Uint8Array>;
          try {
            r = await reader.read();
          } catch (e) {
            controller.error(e); // the node died: the client sees the connection break
            return;
          }
          if (r.done) {
            controller.close();
            return;
          }
          let chunk = r.value;
          if (tamper !== undefined && tamper >= offset && tamper < offset + chunk.length) {
            chunk = chunk.slice();
            chunk[tamper - offset] ^= 0x01;
          }
          if (stall !== undefined && offset + chunk.length > stall) {
            controller.enqueue(chunk.subarray(0, Math.max(0, stall - offset)));
            await stopped;
            return;
          }
          offset += chunk.length;
          forwarded += chunk.length;
          if (options.bytesPerSecond) {
            await new Promise((r) =>
              setTimeout(r, (chunk.length / options.bytesPerSecond!) * 1000)
            );
          }
          if (drip) {
            for (let at = 0; at < chunk.length; at += drip.bytes) {
              await new Promise((r) => setTimeout(r, drip.everyMs));
              controller.enqueue(chunk.subarray(at, at + drip.bytes));
            }
            return;
          }
          controller.enqueue(chunk);
        },
        cancel() {
          reader.cancel().catch(() => {});
        },
      });
      return new Response(body, { status: res.status, headers: res.headers });
    },
  );
  return {
    api: `/ip4/127.0.0.1/tcp/${server.addr.port}/http`,
    forwarded: () => forwarded,
    requests,
    async close() {
      abort.abort();
      await server.finished.catch(() => {});
    },
  };
}

/**
 * A rewrite for dht/get or routing/get: the answer with its IPNS record (Type 5's Extra) changed
 * by `f`.
 */
export function withRecord(f: (record: Uint8Array) => Uint8Array) {
  return (body: Uint8Array) => {
    const lines = new TextDecoder().decode(body).split("\n").map((line) => {
      if (line.trim() === "") return line;
      const event = JSON.parse(line);
      if (event.Type === 5 && event.Extra) {
        const record = Uint8Array.from(atob(event.Extra), (c) => c.charCodeAt(0));
        event.Extra = btoa(String.fromCharCode(...f(record)));
      }
      return JSON.stringify(event);
    });
    return new TextEncoder().encode(lines.join("\n"));
  };
}

/** `bytes` with every occurrence of the text `from` replaced by `to` (of the same length). */
export function replaceBytes(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const out = bytes.slice();
  const [f, t] = [new TextEncoder().encode(from), new TextEncoder().encode(to)];
  for (let i = 0; i + f.length <= out.length; i++) {
    if (f.every((b, k) => out[i + k] === b)) out.set(t, i);
  }
  return out;
}

/** A unix socket at `path` whose connections are piped to the node's TCP API on `port`. */
export function unixProxy(path: string, port: number): { close(): Promise<void> } {
  const listener = Deno.listen({ transport: "unix", path });
  const piping: Promise<unknown>[] = [];
  const serving = acceptEach(listener, (conn) => {
    piping.push(
      Deno.connect({ hostname: "127.0.0.1", port }).then((node) =>
        Promise.allSettled([
          conn.readable.pipeTo(node.writable),
          node.readable.pipeTo(conn.writable),
        ])
      ),
    );
  });
  return {
    async close() {
      listener.close();
      await serving.catch(() => {});
      await Promise.all(piping);
    },
  };
}
