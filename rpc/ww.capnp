# rpc/ww.capnp — the host capability ww serves to a program on fd 3.
#
# Wire: Cap'n Proto RPC, two-party (rpc-twoparty.capnp), unpacked stream framing, on the AF_UNIX
# socket the program finds on fd 3. The bootstrap capability is a `Host`.
#
# Versioning: this file's ID never changes. Changes are additive only (new methods, new fields,
# new enumerants, appended at the end with the next ordinal); `protocolVersion` goes up by one
# with each such change, so a guest can ask `Host.identity` what the host it runs under knows.
# A method that a granted flag does not cover fails with an exception whose reason names the
# flag, e.g. "console is not granted: run ww with --with-console (or --with-all)".

@0xfbb361933e750cf1;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ww");

const protocolVersion :UInt32 = 1;

interface Host {
  # The bootstrap capability. `identity` always answers, with or without grants.

  identity @0 () -> (name :Text, version :Text, protocolVersion :UInt32, grants :List(Text));
  # name = "ww"; version = ww's version; grants = the flags in force, e.g. ["console", "exec"].

  console @1 () -> (console :Console);
  # Granted by --with-console.

  ipfs @2 () -> (ipfs :Ipfs);
  # Granted by --with-ipfs.

  executor @3 () -> (executor :Executor);
  # Granted by --with-exec.
}

interface Console {
  # Lines go to ww's stderr as "<program>: <level>: <line>" (e.g. "app: info: ready").

  enum Level {
    debug @0;
    info @1;
    warn @2;
    error @3;
  }

  log @0 (level :Level, line :Text) -> ();
}

interface Ipfs {
  # Read IPFS through the host (content is verified against its CID by the host), and add bytes.
  # Paths are IPFS paths: /ipfs/<cid>[/sub/path], /ipns/<name>[/sub/path], or a bare CID.

  enum EntryType {
    file @0;
    directory @1;
    other @2;
  }

  struct Entry {
    name @0 :Text;
    cid @1 :Text;
    size @2 :UInt64;
    type @3 :EntryType;
  }

  cat @0 (path :Text) -> (data :Data);
  ls @1 (path :Text) -> (entries :List(Entry));
  stat @2 (path :Text) -> (cid :Text, size :UInt64, type :EntryType);
  add @3 (data :Data) -> (cid :Text);
}

interface Executor {
  # Starts another program under ww, in the same jail as the caller or a stricter one, with a
  # subset of the caller's grants. A grant is passed as the capability itself: pass the Console
  # (or Ipfs, Executor) this host gave you to hand it on, or leave the field null to withhold it.
  # Capabilities hosted anywhere else are refused.

  start @0 (program :Text, args :List(Text), fds :List(Text),
            console :Console, ipfs :Ipfs, executor :Executor) -> (process :Process);
  # fds: names of the caller's own --with-fd grants to pass on (the child sees them as
  # WW_FD_<NAME>, numbered from 4 as usual).
}

interface Process {
  # A program started through Executor.start. Dropping the capability does not stop it.

  wait @0 () -> (code :Int32, signal :Text);
  # code is the shell-style status (128+N on signal N); signal is e.g. "SIGTERM" or "".

  kill @1 (signal :Text) -> (delivered :Bool);
  # signal: a name such as "SIGTERM"; delivered is false once the program has ended.

  pid @2 () -> (pid :Int32);
  # The host pid ww started: the program itself under --jail=none; in a jail, the jail's stage,
  # which supervises the program and ends with it. Signal the program with kill, not this pid.
}
