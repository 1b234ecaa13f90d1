// tests/rpc/ipfs_guest.ts — a Deno guest that uses the host's Ipfs capability (rpc/guest.ts) and
// reports what it got. Its one argument is a JSON list of calls, run in order:
//
//   {"add": "text"}        add the UTF-8 bytes of text              -> {"cid"}
//   {"addPattern": n}      add n bytes of a fixed pattern (pattern) -> {"cid"}
//   {"cat": path}                                                   -> {"length", "sha256", "text"?}
//   {"ls": path}, {"stat": path}                                    -> what the host answered
//
// In a path, $k stands for the CID the k-th call returned. It prints one JSON line: a list with,
// per call, {"ok": result} or {"error": message}.

import { connect } from "../../rpc/guest.ts";

type Call = { add: string } | { addPattern: number } | { cat: string } | { ls: string } | {
  stat: string;
};

/** The bytes {"addPattern": n} adds; the test computes the same. */
export function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >> 10)) & 0xff;
  return out;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

if (import.meta.main) {
  const calls: Call[] = JSON.parse(Deno.args[0]);
  const host = await connect();
  const ipfs = host.ipfs();
  const cids: string[] = [];
  const path = (p: string) => p.replace(/\$(\d+)/g, (_, k) => cids[Number(k)]);
  const report: unknown[] = [];
  for (const call of calls) {
    try {
      let ok: unknown;
      if ("add" in call) {
        ok = { cid: await ipfs.add(new TextEncoder().encode(call.add)) };
      } else if ("addPattern" in call) {
        ok = { cid: await ipfs.add(pattern(call.addPattern)) };
      } else if ("cat" in call) {
        const data = await ipfs.cat(path(call.cat));
        const text = data.length <= 1024 ? new TextDecoder().decode(data) : undefined;
        ok = { length: data.length, sha256: await sha256(data), text };
      } else if ("ls" in call) {
        ok = await ipfs.ls(path(call.ls));
      } else {
        ok = await ipfs.stat(path(call.stat));
      }
      cids.push((ok as { cid?: string }).cid ?? "");
      report.push({ ok });
    } catch (e) {
      cids.push("");
      report.push({ error: e instanceof Error ? e.message : String(e) });
    }
  }
  console.log(JSON.stringify(report));
  host.close();
}
