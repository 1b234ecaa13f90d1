// bench/replay.ts — a node that costs nothing, for the IPFS bench: a tiny HTTP/1.1 server that
// answers each /api/v0 request with the answer a real node gave to the same request, recorded the
// first time it was asked and served from memory ever after (Content-Length, Connection: close).
// What ww and curl take against it is their own cost, with the node's left out. It runs in a
// process of its own, so serving costs the bench's measurements no event-loop time.
//
// As a program: `deno run -A bench/replay.ts <upstream http://host:port>`; it prints its port on
// stdout and serves until killed.

import { fileURLToPath } from "node:url";

/** A running replay server. */
export interface Replay {
  /** Its RPC endpoint as a multiaddr, for --ipfs. */
  readonly api: string;
  /** The same as an HTTP base URL. */
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts a replay server in front of the node at `upstream` (an http://host:port URL). */
export async function startReplay(upstream: string): Promise<Replay> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fileURLToPath(import.meta.url), upstream],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the replay server exited before it listened");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const port = Number(text.trim());
  return {
    api: `/ip4/127.0.0.1/tcp/${port}/http`,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill("SIGKILL");
      await child.status;
    },
  };
}

async function serve(upstream: string): Promise<void> {
  const answers = new Map<string, Promise<Uint8Array>>();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log((listener.addr as Deno.NetAddr).port);
  for await (const conn of listener) answer(conn, upstream, answers).catch(() => {});
}

async function answer(
  conn: Deno.Conn,
  upstream: string,
  answers: Map<string, Promise<Uint8Array>>,
): Promise<void> {
  try {
    const head = await readHead(conn);
    const target = head.split(" ")[1] ?? "/";
    let reply = answers.get(target);
    if (!reply) {
      reply = record(upstream, target);
      answers.set(target, reply);
      reply.catch(() => answers.delete(target));
    }
    const bytes = await reply;
    for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes.subarray(sent));
  } finally {
    conn.close();
  }
}

/** The whole response (head and body) upstream gives `target`, reframed with Content-Length. */
async function record(upstream: string, target: string): Promise<Uint8Array> {
  const res = await fetch(`${upstream}${target}`, { method: "POST" });
  const body = new Uint8Array(await res.arrayBuffer());
  const type = res.headers.get("content-type") ?? "application/octet-stream";
  const head = new TextEncoder().encode(
    `HTTP/1.1 ${res.status} ${res.statusText}\r\nContent-Type: ${type}\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
  );
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

async function readHead(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(16 * 1024);
  let length = 0;
  for (;;) {
    const n = await conn.read(buf.subarray(length));
    if (n === null) throw new Error("closed before a request");
    length += n;
    const text = new TextDecoder().decode(buf.subarray(0, length));
    if (text.includes("\r\n\r\n")) return text;
    if (length === buf.length) throw new Error("request head too long");
  }
}

if (import.meta.main) await serve(Deno.args[0]);
