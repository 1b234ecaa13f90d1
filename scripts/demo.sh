#!/usr/bin/env bash
# scripts/demo.sh — sets the machine up for the demo only (scripts/setup.sh demo), then shows ww's
# main job: a program run in the default jail with a named descriptor, a clean environment and the
# host socket on fd 3, and one grant of each kind ww opens itself (--listen, --connect, --open).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=setup.sh
. "$root/scripts/setup.sh" demo
cd "$root"
# ww as it ships: the bundle (scripts/bundle.ts), rebuilt first when the sources have changed.
deno run -A scripts/bundle.ts --if-stale
# -q: no module-loading progress line from Deno, which clears what a terminal shows on its line.
ww() { deno run -q -A dist/main.js "$@"; }
greeting=$(mktemp)
trap 'rm -f "$greeting"' EXIT
echo "hello through fd 7" >"$greeting"

echo "\$ ww run --with-fd greeting=7 --env GREETING=hi --deno examples/fd-demo/main.ts --read greeting 7<greeting.txt"
# --deno: ww bundles the Deno guest and runs it with its own deno, both bound read-only; the jail
# shows nothing else of the host but the system directories.
ww run --with-fd greeting=7 --env GREETING=hi \
  --deno examples/fd-demo/main.ts --read greeting 7<"$greeting" |
  deno eval --quiet '
    const r = JSON.parse(await new Response(Deno.stdin.readable).text());
    console.log("the child (pid", r.pid, "in its own pid namespace) saw:");
    console.log("  cwd  ", r.cwd);
    console.log("  env  ", JSON.stringify(r.env));
    console.log("  fd 3 ", r.fds.find((f) => f.fd === 3)?.target, "(the host socket)");
    console.log("  fd 4 ", r.fds.find((f) => f.fd === 4)?.target, "=", JSON.stringify(r.lines.greeting));
  '
echo
echo "\$ ww run --explain --with-fd greeting=7 /bin/true   (what a run would get, without running)"
ww run --explain --with-fd greeting=7 /bin/true 7<"$greeting" | head -20

echo
echo "\$ ww run --listen web=tcp:127.0.0.1:0 --connect db=unix:db.sock --open log=log.txt:a python3 ..."
echo "  (one grant of each kind that ww opens itself; the jail has no network and sees neither path)"
work=$(mktemp -d)
trap 'rm -f "$greeting"; rm -rf "$work"' EXIT
# A host "database" on a unix socket: it answers one connection with one line.
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
print("ready", flush=True)
c, _ = s.accept(); c.sendall(b"row 1 from the host database\n"); c.close()' "$work/db.sock" \
  >"$work/ready" &
until grep -q ready "$work/ready" 2>/dev/null; do sleep 0.05; done
ww run --listen web=tcp:127.0.0.1:0 --connect "db=unix:$work/db.sock" \
  --open "log=$work/log.txt:a" /usr/bin/python3 -c '
import os, socket
web = socket.socket(fileno=int(os.environ["WW_FD_WEB"]))
db = socket.socket(fileno=int(os.environ["WW_FD_DB"]))
row = db.makefile().readline().strip()
print("  web: listening on %s:%d (fd %s)" % (*web.getsockname(), os.environ["WW_FD_WEB"]))
print("  db:  read %r (fd %s)" % (row, os.environ["WW_FD_DB"]))
with open(int(os.environ["WW_FD_LOG"]), "a") as log: log.write("logged: " + row + "\n")'
echo "  log.txt on the host: $(cat "$work/log.txt")"
