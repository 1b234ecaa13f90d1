// tests/run/leak_probe.ts — a program (not a test) run by leaks_test.ts in a process of its own,
// so that nothing else opens descriptors or starts children in it: it starts report_fds through
// the library many times (normal runs, killed runs, refused starts) and prints, as JSON, its
// descriptors, ww- work directories and child processes before and after, on its last line.
// Given a node's API, <report_fds> is an /ipfs/ path to it, fetched anew (into $XDG_CACHE_HOME)
// for every normal run and cached for the others.
//
// With WW_PROBE_GRANTS=1 every run also has grants ww opens itself (a tcp and a unix listener,
// a connection to a unix server of this process, a file), and the refused start fails on a
// connection after those are open.
//
//   deno run -A tests/run/leak_probe.ts <report_fds> <runs> <none|default> [ipfs api]

import { DEFAULT_IPFS_API, DEFAULT_POLICY, type RunConfig, startProgram } from "../../mod.ts";
import { childrenOf, wwDirs } from "../support/procs.ts";
import { closeEachConnection } from "../support/listeners.ts";

const [child, runsText, mode, ipfsApi] = Deno.args;
const runs = Number(runsText);
const tmp = Deno.env.get("TMPDIR");
if (
  !child || !Number.isSafeInteger(runs) || !["none", "default"].includes(mode) || !tmp ||
  (ipfsApi && !Deno.env.get("XDG_CACHE_HOME"))
) {
  throw new Error(
    "usage: TMPDIR=<dir> [XDG_CACHE_HOME=<dir>] leak_probe.ts <report_fds> <runs> <none|default> [ipfs api]",
  );
}

const grants = Deno.env.get("WW_PROBE_GRANTS") === "1";
// The server --connect reaches: it closes each connection at once.
const server = grants ? Deno.listen({ transport: "unix", path: `${tmp}/server.sock` }) : undefined;
const serving = server ? closeEachConnection(server) : undefined;
const base: RunConfig = {
  program: child,
  args: [],
  fds: [{ name: "err", source: 2 }],
  ...(grants
    ? {
      own: [
        { name: "http", listen: "tcp:127.0.0.1:0" },
        // Named ww-*, so that one left behind counts with the work directories.
        { name: "sock", listen: `unix:${tmp}/ww-probe.sock` },
        { name: "db", connect: `unix:${tmp}/server.sock` },
        { name: "log", open: `${tmp}/probe.log`, mode: "a" as const },
      ],
    }
    : {}),
  env: {},
  ipfsApi: ipfsApi ?? DEFAULT_IPFS_API,
  jail: mode === "none" ? { ...DEFAULT_POLICY, backend: "none" } : DEFAULT_POLICY,
};

/** One run of kind `i % 4`: normal, killed, refused grant, missing program. */
async function once(i: number): Promise<string> {
  switch (i % 4) {
    case 0: {
      if (ipfsApi) {
        await Deno.remove(`${Deno.env.get("XDG_CACHE_HOME")}/ww`, { recursive: true }).catch(
          (e) => {
            if (!(e instanceof Deno.errors.NotFound)) throw e;
          },
        );
      }
      // The program reports on this process's stdout, which leaks_test.ts reads past.
      const p = await startProgram({ ...base, args: [`exit=${i % 256}`] });
      return `exit ${(await p.status).code}`;
    }
    case 1: {
      const p = await startProgram({ ...base, args: ["stdout=3", "wait-signal"] });
      // Killed once it runs (the ready line), not while the jail is still being set up.
      await p.hostSocket.read(new Uint8Array(256));
      p.kill("SIGKILL");
      return `killed ${(await p.status).code}`;
    }
    case 2:
      return await startProgram(
        grants
          ? { ...base, own: [...base.own!, { name: "zz", connect: `unix:${tmp}/nobody.sock` }] }
          : { ...base, fds: [{ name: "gone", source: 876543 }] },
      ).then(
        () => "started?",
        (e) => `refused ${e.name}`,
      );
    default:
      return await startProgram({ ...base, program: `${tmp}/missing` }).then(
        () => "started?",
        (e) => `refused ${e.name}`,
      );
  }
}

/** This process's descriptors as "fd -> target" (the directory listing's own fd drops out). */
function openFds(): string[] {
  const fds: string[] = [];
  for (const { name } of [...Deno.readDirSync("/proc/self/fd")]) {
    try {
      fds.push(`${name} -> ${Deno.readLinkSync(`/proc/self/fd/${name}`)}`);
    } catch { /* the directory listing's own descriptor, closed by now */ }
  }
  return fds.sort();
}
// Warm up: libc, worker threads and the jail's helpers are set up on first use. Deno itself opens
// a socket pair of its own (with its signal-handling thread) about 500 ms after it starts, so the
// count starts after that.
for (let i = 0; i < 4; i++) await once(i);
await new Promise((r) => setTimeout(r, Math.max(0, 1500 - performance.now())));
const before = { fds: openFds(), dirs: wwDirs(tmp), children: childrenOf(Deno.pid) };
const outcomes: Record<string, number> = {};
for (let i = 0; i < runs; i++) {
  const outcome = await once(i);
  outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
}
// The server's last accepted connections close on the event loop.
if (grants) await new Promise((r) => setTimeout(r, 200));
const after = { fds: openFds(), dirs: wwDirs(tmp), children: childrenOf(Deno.pid) };
console.log(JSON.stringify({ before, after, outcomes }));
server?.close();
await serving;
