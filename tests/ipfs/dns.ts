// tests/ipfs/dns.ts — a tiny DNS server on loopback for DNSLink tests: it answers TXT questions
// from a table over UDP (NXDOMAIN for names it does not hold) and counts the questions. Only what
// Deno.resolveDns asks is understood: one question per message.

import dgram from "node:dgram";

export interface DnsServer {
  /** For Deno.resolveDns's `nameServer`. */
  readonly nameServer: { ipAddr: string; port: number };
  /** Questions seen, as "name type". */
  readonly questions: string[];
  close(): Promise<void>;
}

/** Serves `txt` (name → records, each a list of strings) on a free loopback UDP port. */
export async function startDns(txt: Record<string, string[][]>): Promise<DnsServer> {
  const socket = dgram.createSocket("udp4");
  const questions: string[] = [];
  socket.on("message", (query: Uint8Array, peer: { address: string; port: number }) => {
    // Header (12 bytes), then the question: labels up to a zero byte, type, class.
    const labels: string[] = [];
    let at = 12;
    while (query[at] !== 0) {
      labels.push(new TextDecoder().decode(query.subarray(at + 1, at + 1 + query[at])));
      at += 1 + query[at];
    }
    const end = at + 5;
    const type = (query[at + 1] << 8) | query[at + 2];
    const name = labels.join(".").toLowerCase();
    questions.push(`${name} ${type}`);
    const records = type === 16 ? txt[name] : undefined;
    const answers = (records ?? []).map((strings) => {
      const data = strings.flatMap((s) => {
        const bytes = new TextEncoder().encode(s);
        return [bytes.length, ...bytes];
      });
      // A pointer to the question's name, TXT, IN, TTL 60, the data.
      return [0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, data.length >> 8, data.length & 0xff, ...data];
    });
    const header = [
      query[0],
      query[1],
      0x81, // a response to a recursive query
      txt[name] === undefined ? 0x83 : 0x80, // NXDOMAIN for names not in the table
      0,
      1,
      0,
      answers.length,
      0,
      0,
      0,
      0,
    ];
    socket.send(
      new Uint8Array([...header, ...query.subarray(12, end), ...answers.flat()]),
      peer.port,
      peer.address,
    );
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    nameServer: { ipAddr: "127.0.0.1", port: socket.address().port },
    questions,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** A DNS server that reads every question and answers none, as a dead resolver seems to. */
export interface SilentDns {
  /** Its address, on port 53 (the only port the system's resolver, glibc, asks). */
  readonly address: string;
  /** How many questions arrived. */
  questions(): number;
  close(): Promise<void>;
}

/**
 * Listens on UDP port 53 of a random 127.x.y.z address (any of them is loopback), so tests and
 * other programs using port 53 elsewhere do not collide with it. Binding port 53 needs root.
 */
export async function startSilentDns(): Promise<SilentDns> {
  for (let attempt = 0;; attempt++) {
    const bytes = crypto.getRandomValues(new Uint8Array(3));
    const address = `127.${bytes[0]}.${bytes[1]}.${Math.max(2, bytes[2] % 255)}`;
    const socket = dgram.createSocket("udp4");
    let count = 0;
    socket.on("message", () => count++);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(53, address, resolve);
      });
    } catch (e) {
      socket.close();
      if (attempt < 5) continue;
      throw e;
    }
    return {
      address,
      questions: () => count,
      close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
    };
  }
}
