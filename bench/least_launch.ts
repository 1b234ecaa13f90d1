// bench/least_launch.ts — the least a Deno program can do to run a command: posix_spawnp through
// FFI, then a blocking waitpid, exiting with the command's status. It is the floor of any launcher
// written in Deno, which bench/launch.ts prints beside ww's launches: what ww adds above it is
// ww's own work (issue 13). Usage: deno run -A bench/least_launch.ts COMMAND [ARGS...].

const { symbols: libc } = Deno.dlopen("libc.so.6", {
  posix_spawnp: {
    parameters: ["buffer", "buffer", "pointer", "pointer", "buffer", "buffer"],
    result: "i32",
  },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
});
const strings = Deno.args.map((a) => new TextEncoder().encode(`${a}\0`));
const argv = new BigUint64Array(strings.length + 1); // NULL-terminated
strings.forEach((s, i) => argv[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(s))));
const envp = new BigUint64Array(1);
const pid = new Int32Array(1);
const failed = libc.posix_spawnp(pid, strings[0], null, null, argv, envp);
if (failed !== 0) throw new Error(`posix_spawnp ${Deno.args[0]}: error ${failed}`);
const status = new Int32Array(1);
if (libc.waitpid(pid[0], status, 0) !== pid[0]) throw new Error("waitpid failed");
Deno.exit((status[0] & 0x7f) === 0 ? (status[0] >> 8) & 0xff : 128 + (status[0] & 0x7f));
