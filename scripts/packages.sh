#!/usr/bin/env bash
# scripts/packages.sh — which Debian packages each use of ww needs, so that the demo's set-up
# installs only what the demo runs (`ww_apt_packages demo`), and the tests and the benchmarks add
# the rest. Sourced by scripts/setup.sh; defines names only and installs nothing.

# bubblewrap: the default jail. python3: the demo's jailed web server and database.
WW_APT_DEMO=(bubblewrap python3)
# The test suite: gcc/g++/binutils for its C children, capnproto, libcapnp-dev and pkg-config for
# the C++ Cap'n Proto guest, the aarch64 cross compiler and qemu-user-static for the stage's
# aarch64 build (stage_test, `deno task build-stage`), libsystemd-dev for the socket-activation
# test's sd_listen_fds_with_names client, strace for what the bundle opens and for holding a jail
# at its last step before the program's execve (the signal tests), golang-go for the Go guest
# (tests/run/go_guest_test.ts).
WW_APT_TEST=(capnproto libcapnp-dev libsystemd-dev pkg-config gcc g++ binutils gcc-aarch64-linux-gnu
  qemu-user-static strace golang-go)
# The benchmarks: hyperfine, GNU time and curl for the IPFS and launch peers, and firejail as a
# jail to compare with (it pulls in X libraries, the heaviest install of all).
WW_APT_BENCH=(hyperfine time curl firejail)

# Prints the apt packages `use` (demo, test or bench) needs, one per line: each use adds to the
# one before it, since the tests run the demo's programs and the benchmarks build the tests'
# children. Any other use: one line on stderr naming it, status 2.
ww_apt_packages() {
  case "$1" in
    demo) printf '%s\n' "${WW_APT_DEMO[@]}" ;;
    test) printf '%s\n' "${WW_APT_DEMO[@]}" "${WW_APT_TEST[@]}" ;;
    bench) printf '%s\n' "${WW_APT_DEMO[@]}" "${WW_APT_TEST[@]}" "${WW_APT_BENCH[@]}" ;;
    *)
      echo "setup: unknown use '$1' (demo, test or bench)" >&2
      return 2
      ;;
  esac
}
