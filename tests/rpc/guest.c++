// tests/rpc/guest.c++ — a C++ guest of ww's host capability: capnp::TwoPartyClient on fd 3.
//
//   guest checks            run every check against the host, one JSON line per check on stdout
//   guest log <line>        log <line> through the console capability, exit 0
//   guest log-pause <line> <marker>  the same, then wait until killed (<marker> names the
//                           process in tests)
//   guest exit <code>       exit with <code> without touching fd 3
//   guest start <prog> [args...]          Executor.start, then Process.wait; prints
//                                         {"code":n} or {"error":...}, then {"alive":true}
//                                         once Host.identity still answers
//   guest start-console <prog> [args...]  the same, passing the console capability on
//   guest start-exec <prog> [args...]     the same, passing the executor itself on
//   guest start-then-exit <prog> [args...]  Executor.start, and exit as soon as ww has read it,
//                                           while the program is still being started
//   guest start-ipfs-then-exit <prog>  the same, passing the ipfs capability on, and exit 0.5 s
//                                      later (an /ipfs/ program, still being fetched then)
//   guest wait-poll <n> <prog> [args...]  Executor.start, then n times Process.wait given up after
//                           5 ms (as a poll with a timeout does: the wait is finished unanswered),
//                           then kill and wait; prints {"polls":n,"code":c}
//   guest worm <self> <tag> <gen>  ignores SIGTERM, prints {"gen":gen}, and 100 ms later starts
//                           `<self> worm <self> <tag> <gen+1>` with the executor passed on
//                           (printing {"refused":gen+1} when the start fails), and exits 300 ms
//                           after: a generation would start the next in its SIGTERM grace
//   guest starts-then-exit <n> <prog> [args...]  raw: n Executor.start calls written together with
//                           the guest's exit, so ww reads them and the end of the connection at once
//   guest flood <line>      log <line> through the console capability, as fast as ww takes
//                           them, until killed
//   guest bench <n>         n sequential Host.identity calls to ww; prints {"calls":n,"seconds":s}
//   guest bench-pair <n>    the same client loop against a C++ Host server in a forked process
//   guest pass-caps         Executor.start given the executor itself, resolved and pipelined
//   guest flood-unknown <n> <bytes>   raw: n Provide messages (a type ww does not implement) of
//                           <bytes> each, never reading; prints {"sent":k,"blocked":b}
//   guest cat-many <n> <path>        n concurrent Ipfs.cat calls of path; prints {"sizes":[...]}
//   guest ls-many <n> <path>         n concurrent Ipfs.ls calls of path; prints {"counts":[...]}
//   guest stat-many <n> <path>       n concurrent Ipfs.stat calls of path; prints {"sizes":[...]}
//   guest flood-identity <n>          raw: Bootstrap, then n pipelined Host.identity calls, each
//                           finished at once, never reading; prints {"sent":k,"blocked":b}
//   guest race <n> <a> <b> <prog> [args...]  a hostile guest: a forked child swaps the names <a>
//                           and <b> (renameat2 RENAME_EXCHANGE) in a tight loop while the guest
//                           starts <prog> n times; prints {"code":n} or {"error":...} for each,
//                           then stops the swapping, puts <a>'s own file back and starts once
//                           more ("after":true)
//
// Built by tests/rpc/build.ts with g++ and `pkg-config --cflags --libs capnp-rpc`.

#include <capnp/ez-rpc.h>
#include <capnp/rpc-twoparty.h>
#include <capnp/rpc.capnp.h>
#include <capnp/serialize.h>
#include <kj/async-io.h>
#include <kj/debug.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <csignal>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "ww.capnp.h"

namespace {

std::string quote(kj::StringPtr s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

void report(const char* check, bool ok, const std::string& detail = "") {
  printf("{\"check\":%s,\"ok\":%s%s%s}\n", quote(check).c_str(), ok ? "true" : "false",
         detail.empty() ? "" : ",", detail.c_str());
  fflush(stdout);
}

// Runs `body`; a kj::Exception becomes a failed check carrying its description.
template <typename F>
void check(const char* name, F body) {
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { body(); })) {
    report(name, false, "\"error\":" + quote(e->getDescription()));
  }
}

// The description of the exception `promise` rejects with, or "" when it resolves.
template <typename T>
std::string failure(kj::Promise<T>&& promise, kj::WaitScope& ws) {
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { promise.wait(ws); })) {
    return e->getDescription().cStr();
  }
  return "";
}

// A Console hosted by the guest itself: ww must refuse it as a grant.
class OwnConsole final : public ww::Console::Server {
 protected:
  kj::Promise<void> log(LogContext) override { return kj::READY_NOW; }
};

void runChecks(ww::Host::Client host, kj::WaitScope& ws, const char* self) {
  check("identity", [&]() {
    auto r = host.identityRequest().send().wait(ws);
    std::string grants = "[";
    for (auto g : r.getGrants()) grants += (grants.size() > 1 ? "," : "") + quote(g);
    grants += "]";
    report("identity", true,
           "\"name\":" + quote(r.getName()) + ",\"version\":" + quote(r.getVersion()) +
               ",\"protocolVersion\":" + std::to_string(r.getProtocolVersion()) +
               ",\"grants\":" + grants);
  });

  check("several calls on one pipelined capability", [&]() {
    auto console = host.consoleRequest().send().getConsole();
    kj::Vector<kj::Promise<void>> calls;
    for (int i = 0; i < 3; i++) {
      auto req = console.logRequest();
      req.setLevel(ww::Console::Level::INFO);
      req.setLine(kj::str("line ", i));
      calls.add(req.send().ignoreResult());
    }
    kj::joinPromises(calls.releaseAsArray()).wait(ws);
    auto req = console.logRequest();
    req.setLevel(ww::Console::Level::WARN);
    req.setLine("after resolution\nwith a newline");
    req.send().wait(ws);
    report("several calls on one pipelined capability", true);
  });

  check("exceptions name the flag", [&]() {
    auto ipfs = host.ipfsRequest().send().getIpfs();
    auto req = ipfs.statRequest();
    req.setPath("/ipfs/x");
    std::string e = failure(req.send(), ws);
    report("exceptions name the flag", e.find("--with-ipfs") != std::string::npos, "\"error\":" + quote(e.c_str()));
  });

  check("many concurrent calls", [&]() {
    kj::Vector<kj::Promise<uint32_t>> calls;
    for (int i = 0; i < 500; i++) {
      calls.add(host.identityRequest().send().then(
          [](capnp::Response<ww::Host::IdentityResults>&& r) { return r.getProtocolVersion(); }));
    }
    auto all = kj::joinPromises(calls.releaseAsArray()).wait(ws);
    report("many concurrent calls", all.size() == 500, "\"calls\":" + std::to_string(all.size()));
  });

  check("capabilities dropped", [&]() {
    for (int i = 0; i < 200; i++) {
      auto console = host.consoleRequest().send().wait(ws).getConsole();
      auto req = console.logRequest();
      req.setLevel(ww::Console::Level::DEBUG);
      req.setLine(kj::str("drop ", i));
      req.send().wait(ws);
    }
    report("capabilities dropped", true);
  });

  check("large message", [&]() {
    auto console = host.consoleRequest().send().getConsole();
    auto req = console.logRequest();
    std::string big(1 << 20, 'x');
    req.setLine(big.c_str());
    req.send().wait(ws);
    report("large message", true, "\"bytes\":" + std::to_string(big.size()));
  });

  check("exec pipelined: start, wait", [&]() {
    auto start = host.executorRequest().send().getExecutor().startRequest();
    start.setProgram(self);
    auto args = start.initArgs(2);
    args.set(0, "exit");
    args.set(1, "7");
    auto r = start.send().getProcess().waitRequest().send().wait(ws);
    report("exec pipelined: start, wait", r.getCode() == 7,
           "\"code\":" + std::to_string(r.getCode()));
  });

  check("exec passes a granted capability on", [&]() {
    auto start = host.executorRequest().send().getExecutor().startRequest();
    start.setProgram(self);
    auto args = start.initArgs(2);
    args.set(0, "log");
    args.set(1, "hello from the grandchild");
    start.setConsole(host.consoleRequest().send().getConsole());
    auto process = start.send().getProcess();
    auto pid = process.pidRequest().send().wait(ws).getPid();
    auto r = process.waitRequest().send().wait(ws);
    report("exec passes a granted capability on", r.getCode() == 0 && pid > 0,
           "\"code\":" + std::to_string(r.getCode()));
  });

  check("exec refuses a guest-hosted capability", [&]() {
    auto start = host.executorRequest().send().getExecutor().startRequest();
    start.setProgram(self);
    start.setConsole(kj::heap<OwnConsole>());
    std::string e = failure(start.send(), ws);
    report("exec refuses a guest-hosted capability",
           e.find("only capabilities that ww gave this program") != std::string::npos, "\"error\":" + quote(e.c_str()));
  });

  check("exec refuses an fd the program was not granted", [&]() {
    auto start = host.executorRequest().send().getExecutor().startRequest();
    start.setProgram(self);
    start.initFds(1).set(0, "secret");
    std::string e = failure(start.send(), ws);
    report("exec refuses an fd the program was not granted",
           e.find("fd secret is not one of") != std::string::npos,
           "\"error\":" + quote(e.c_str()));
  });

  check("exec kill", [&]() {
    auto start = host.executorRequest().send().getExecutor().startRequest();
    start.setProgram("/bin/sleep");
    start.initArgs(1).set(0, "30");
    auto process = start.send().wait(ws).getProcess();
    auto kill = process.killRequest();
    kill.setSignal("SIGTERM");
    bool delivered = kill.send().wait(ws).getDelivered();
    auto r = process.waitRequest().send().wait(ws);
    report("exec kill", delivered && r.getCode() == 143,
           "\"code\":" + std::to_string(r.getCode()) + ",\"signal\":" + quote(r.getSignal()));
  });
}

// Executor.start with the executor passed on as a capability, the ordinary C++ way: once as a
// resolved capability and once pipelined on the call that returns it. The guest's own client
// drops (Release, Finish) its references as soon as the call is sent.
void passCaps(ww::Host::Client host, kj::WaitScope& ws, const char* self) {
  check("exec passes a resolved executor on", [&]() {
    auto executor = kj::heap<ww::Executor::Client>(
        host.executorRequest().send().wait(ws).getExecutor());
    auto start = executor->startRequest();
    start.setProgram(self);
    auto args = start.initArgs(2);
    args.set(0, "exit");
    args.set(1, "5");
    start.setExecutor(*executor);
    auto sent = start.send();
    executor = nullptr;  // the guest's last reference: Release follows the call at once
    auto r = sent.getProcess().waitRequest().send().wait(ws);
    report("exec passes a resolved executor on", r.getCode() == 5,
           "\"code\":" + std::to_string(r.getCode()));
  });
  check("exec passes a pipelined executor on", [&]() {
    auto promise = host.executorRequest().send();
    auto start = promise.getExecutor().startRequest();
    start.setProgram(self);
    auto args = start.initArgs(2);
    args.set(0, "exit");
    args.set(1, "6");
    start.setExecutor(promise.getExecutor());
    auto sent = start.send();
    { auto drop = kj::mv(promise); }
    auto r = sent.getProcess().waitRequest().send().wait(ws);
    report("exec passes a pipelined executor on", r.getCode() == 6,
           "\"code\":" + std::to_string(r.getCode()));
  });
}

// Raw floods: messages written with blocking writes and never a read, as a hostile guest would.
// A write blocked for 3 s ends the flood (ww stopped reading: backpressure), reported as blocked.
int flood(bool unknown, long n, size_t bytes) {
  struct timeval tv = {3, 0};
  setsockopt(3, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  long sent = 0;
  bool blocked = false;
  auto write = [&](capnp::MessageBuilder& m) {
    KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { capnp::writeMessageToFd(3, m); })) {
      blocked = true;
      return false;
    }
    return true;
  };
  if (unknown) {
    for (; sent < n; sent++) {
      capnp::MallocMessageBuilder m;
      auto provide = m.initRoot<capnp::rpc::Message>().initProvide();
      provide.setQuestionId(sent);
      provide.getRecipient().initAs<capnp::Data>(bytes);
      if (!write(m)) break;
    }
  } else {
    capnp::MallocMessageBuilder boot;
    boot.initRoot<capnp::rpc::Message>().initBootstrap().setQuestionId(0);
    if (write(boot)) {
      for (; sent < n; sent++) {
        capnp::MallocMessageBuilder m;
        auto call = m.initRoot<capnp::rpc::Message>().initCall();
        uint32_t q = 1 + sent % 1000000;
        call.setQuestionId(q);
        call.setInterfaceId(capnp::typeId<ww::Host>());
        call.setMethodId(0);
        call.initTarget().initPromisedAnswer().setQuestionId(0);
        call.initParams().initContent();
        if (!write(m)) break;
        capnp::MallocMessageBuilder f;
        f.initRoot<capnp::rpc::Message>().initFinish().setQuestionId(q);
        if (!write(f)) break;
      }
    }
  }
  printf("{\"sent\":%ld,\"blocked\":%s}\n", sent, blocked ? "true" : "false");
  fflush(stdout);
  return 0;
}

// Raw: Bootstrap, Host.executor, then n Executor.start calls of argv (pipelined on the executor),
// written in one go, and exit at once: the starts and the end of the connection reach ww together.
int startsThenExit(long n, int argc, char** argv) {
  kj::Vector<kj::byte> out;
  auto add = [&](capnp::MessageBuilder& m) {
    auto words = capnp::messageToFlatArray(m);
    out.addAll(words.asBytes());
  };
  capnp::MallocMessageBuilder boot;
  boot.initRoot<capnp::rpc::Message>().initBootstrap().setQuestionId(0);
  add(boot);
  capnp::MallocMessageBuilder executor;
  auto get = executor.initRoot<capnp::rpc::Message>().initCall();
  get.setQuestionId(1);
  get.setInterfaceId(capnp::typeId<ww::Host>());
  get.setMethodId(3);
  get.initTarget().initPromisedAnswer().setQuestionId(0);
  get.initParams().initContent();
  add(executor);
  for (long i = 0; i < n; i++) {
    capnp::MallocMessageBuilder m;
    auto call = m.initRoot<capnp::rpc::Message>().initCall();
    call.setQuestionId(2 + i);
    call.setInterfaceId(capnp::typeId<ww::Executor>());
    call.setMethodId(0);
    auto target = call.initTarget().initPromisedAnswer();
    target.setQuestionId(1);
    target.initTransform(1)[0].setGetPointerField(0);
    auto start = call.initParams().initContent().initAs<ww::Executor::StartParams>();
    start.setProgram(argv[0]);
    auto args = start.initArgs(argc - 1);
    for (int a = 1; a < argc; a++) args.set(a - 1, argv[a]);
    add(m);
  }
  for (size_t at = 0; at < out.size();) {
    ssize_t w = write(3, out.begin() + at, out.size() - at);
    if (w <= 0) return 2;
    at += w;
  }
  _exit(0);
}

void catMany(ww::Host::Client host, kj::WaitScope& ws, int n, const char* path) {
  auto ipfs = host.ipfsRequest().send().getIpfs();
  kj::Vector<kj::Promise<size_t>> cats;
  for (int i = 0; i < n; i++) {
    auto req = ipfs.catRequest();
    req.setPath(path);
    cats.add(req.send().then(
        [](capnp::Response<ww::Ipfs::CatResults>&& r) { return r.getData().size(); }));
  }
  std::string sizes = "[";
  for (auto size : kj::joinPromises(cats.releaseAsArray()).wait(ws)) {
    sizes += (sizes.size() > 1 ? "," : "") + std::to_string(size);
  }
  printf("{\"sizes\":%s]}\n", sizes.c_str());
  fflush(stdout);
}

void lsMany(ww::Host::Client host, kj::WaitScope& ws, int n, const char* path) {
  auto ipfs = host.ipfsRequest().send().getIpfs();
  kj::Vector<kj::Promise<size_t>> lists;
  for (int i = 0; i < n; i++) {
    auto req = ipfs.lsRequest();
    req.setPath(path);
    lists.add(req.send().then(
        [](capnp::Response<ww::Ipfs::LsResults>&& r) { return size_t(r.getEntries().size()); }));
  }
  std::string counts = "[";
  for (auto count : kj::joinPromises(lists.releaseAsArray()).wait(ws)) {
    counts += (counts.size() > 1 ? "," : "") + std::to_string(count);
  }
  printf("{\"counts\":%s]}\n", counts.c_str());
  fflush(stdout);
}

void statMany(ww::Host::Client host, kj::WaitScope& ws, int n, const char* path) {
  auto ipfs = host.ipfsRequest().send().getIpfs();
  kj::Vector<kj::Promise<uint64_t>> stats;
  for (int i = 0; i < n; i++) {
    auto req = ipfs.statRequest();
    req.setPath(path);
    stats.add(req.send().then(
        [](capnp::Response<ww::Ipfs::StatResults>&& r) { return r.getSize(); }));
  }
  std::string sizes = "[";
  for (auto size : kj::joinPromises(stats.releaseAsArray()).wait(ws)) {
    sizes += (sizes.size() > 1 ? "," : "") + std::to_string(size);
  }
  printf("{\"sizes\":%s]}\n", sizes.c_str());
  fflush(stdout);
}

// The C++ reference server for the benchmark: Host.identity only.
class BenchHost final : public ww::Host::Server {
 protected:
  kj::Promise<void> identity(IdentityContext context) override {
    auto r = context.getResults();
    r.setName("ww");
    r.setProtocolVersion(1);
    return kj::READY_NOW;
  }
};

void bench(ww::Host::Client host, kj::WaitScope& ws, long n) {
  host.identityRequest().send().wait(ws);  // connect and resolve the bootstrap first
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < n; i++) host.identityRequest().send().wait(ws);
  std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
  printf("{\"calls\":%ld,\"seconds\":%.6f}\n", n, dt.count());
  fflush(stdout);
}

// Swaps two names as fast as the kernel allows, until killed: whatever ww checks by path, it
// finds the other name's file there a moment later.
[[noreturn]] void swapForever(const char* a, const char* b) {
  for (;;) renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
}

void race(ww::Host::Client host, kj::WaitScope& ws, int n, char** argv, int argc) {
  pid_t swapper = fork();
  if (swapper == 0) swapForever(argv[3], argv[4]);
  auto executor = host.executorRequest().send().getExecutor();
  for (int i = 0; i < n; i++) {
    auto start = executor.startRequest();
    start.setProgram(argv[5]);
    auto args = start.initArgs(argc - 6);
    for (int j = 6; j < argc; j++) args.set(j - 6, argv[j]);
    KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() {
      auto r = start.send().getProcess().waitRequest().send().wait(ws);
      printf("{\"code\":%d}\n", r.getCode());
    })) {
      printf("{\"error\":%s}\n", quote(e->getDescription()).c_str());
    }
    fflush(stdout);
  }
  kill(swapper, SIGKILL);
  waitpid(swapper, nullptr, 0);
  // The race is over: put the real program back under <a> and start it once more, which must
  // work (a start checked across no swap is not refused). Printed with "after":true.
  struct stat st;
  if (lstat(argv[3], &st) == 0 && S_ISLNK(st.st_mode)) {
    renameat2(AT_FDCWD, argv[3], AT_FDCWD, argv[4], RENAME_EXCHANGE);
  }
  auto start = executor.startRequest();
  start.setProgram(argv[5]);
  auto args = start.initArgs(argc - 6);
  for (int j = 6; j < argc; j++) args.set(j - 6, argv[j]);
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() {
    auto r = start.send().getProcess().waitRequest().send().wait(ws);
    printf("{\"code\":%d,\"after\":true}\n", r.getCode());
  })) {
    printf("{\"error\":%s,\"after\":true}\n", quote(e->getDescription()).c_str());
  }
  fflush(stdout);
}

int onFd(int fd, kj::Function<void(ww::Host::Client, kj::WaitScope&)> body) {
  auto io = kj::setupAsyncIo();
  auto stream = io.lowLevelProvider->wrapSocketFd(fd);
  capnp::TwoPartyClient client(*stream);
  body(client.bootstrap().castAs<ww::Host>(), io.waitScope);
  return 0;
}

/** onFd, with the event loop's timer for the body. */
int onFdTimed(int fd, kj::Function<void(ww::Host::Client, kj::WaitScope&, kj::Timer&)> body) {
  auto io = kj::setupAsyncIo();
  auto stream = io.lowLevelProvider->wrapSocketFd(fd);
  capnp::TwoPartyClient client(*stream);
  body(client.bootstrap().castAs<ww::Host>(), io.waitScope, io.provider->getTimer());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "exit" && argc > 2) return atoi(argv[2]);
  if (mode == "checks") {
    return onFd(3, [&](ww::Host::Client host, kj::WaitScope& ws) { runChecks(host, ws, argv[0]); });
  }
  if (mode == "log" && argc > 2) {
    return onFd(3, [&](ww::Host::Client host, kj::WaitScope& ws) {
      auto req = host.consoleRequest().send().getConsole().logRequest();
      req.setLine(argv[2]);
      req.send().wait(ws);
    });
  }
  if (mode == "log-pause" && argc > 2) {
    return onFd(3, [&](ww::Host::Client host, kj::WaitScope& ws) {
      auto req = host.consoleRequest().send().getConsole().logRequest();
      req.setLine(argv[2]);
      req.send().wait(ws);
      for (;;) pause();
    });
  }
  if ((mode == "start" || mode == "start-console" || mode == "start-exec") && argc > 2) {
    return onFd(3, [&](ww::Host::Client host, kj::WaitScope& ws) {
      auto executor = host.executorRequest().send().getExecutor();
      auto start = executor.startRequest();
      start.setProgram(argv[2]);
      auto args = start.initArgs(argc - 3);
      for (int i = 3; i < argc; i++) args.set(i - 3, argv[i]);
      if (mode == "start-console") start.setConsole(host.consoleRequest().send().getConsole());
      if (mode == "start-exec") start.setExecutor(executor);
      KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() {
        auto r = start.send().getProcess().waitRequest().send().wait(ws);
        printf("{\"code\":%d}\n", r.getCode());
      })) {
        printf("{\"error\":%s}\n", quote(e->getDescription()).c_str());
      }
      fflush(stdout);
      host.identityRequest().send().wait(ws);
      printf("{\"alive\":true}\n");
      fflush(stdout);
    });
  }
  if (mode == "start-then-exit" && argc > 2) {
    return onFd(3, [&](ww::Host::Client host, kj::WaitScope& ws) {
      auto start = host.executorRequest().send().getExecutor().startRequest();
      start.setProgram(argv[2]);
      auto args = start.initArgs(argc - 3);
      for (int i = 3; i < argc; i++) args.set(i - 3, argv[i]);
      auto pending = start.send();
      // ww has read the start once it answers a call made after it: leave while it starts.
      host.identityRequest().send().wait(ws);
      _exit(0);
    });
  }
  if (mode == "start-ipfs-then-exit" && argc > 2) {
    return onFd(3, [&](ww::Host::Client host, kj::WaitScope& ws) {
      auto start = host.executorRequest().send().getExecutor().startRequest();
      start.setProgram(argv[2]);
      start.setIpfs(host.ipfsRequest().send().getIpfs());
      auto pending = start.send();
      host.identityRequest().send().wait(ws);
      usleep(500 * 1000);  // the fetch is under way by then
      _exit(0);
    });
  }
  if (mode == "wait-poll" && argc > 3) {
    return onFdTimed(3, [&](ww::Host::Client host, kj::WaitScope& ws, kj::Timer& timer) {
      auto start = host.executorRequest().send().getExecutor().startRequest();
      start.setProgram(argv[3]);
      auto args = start.initArgs(argc - 4);
      for (int i = 4; i < argc; i++) args.set(i - 4, argv[i]);
      auto process = start.send().getProcess();
      long n = atol(argv[2]);
      for (long i = 0; i < n; i++) {
        // Given up after 5 ms: the wait's promise is dropped, and capnp sends its Finish.
        process.waitRequest().send().then([](auto) { return true; })
            .exclusiveJoin(timer.afterDelay(5 * kj::MILLISECONDS).then([] { return false; }))
            .wait(ws);
      }
      auto kill = process.killRequest();
      kill.setSignal("SIGKILL");
      kill.send().wait(ws);
      auto r = process.waitRequest().send().wait(ws);
      printf("{\"polls\":%ld,\"code\":%d}\n", n, r.getCode());
      fflush(stdout);
    });
  }
  if (mode == "worm" && argc > 4) {
    signal(SIGTERM, SIG_IGN);
    int gen = atoi(argv[4]);
    printf("{\"gen\":%d}\n", gen);
    fflush(stdout);
    return onFd(3, [&](ww::Host::Client host, kj::WaitScope& ws) {
      usleep(100 * 1000);
      auto executor = host.executorRequest().send().getExecutor();
      auto start = executor.startRequest();
      start.setProgram(argv[2]);
      auto args = start.initArgs(4);
      std::string next = std::to_string(gen + 1);
      args.set(0, "worm");
      args.set(1, argv[2]);
      args.set(2, argv[3]);
      args.set(3, next.c_str());
      start.setExecutor(executor);
      KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() {
        start.send().getProcess().pidRequest().send().wait(ws);
      })) {
        printf("{\"refused\":%d}\n", gen + 1);
        fflush(stdout);
      }
      usleep(300 * 1000);
      _exit(0);
    });
  }
  if (mode == "start-pause-exit" && argc > 3) {
    // Starts argv[3..], waits until it has started and then argv[2] ms more, and exits.
    return onFd(3, [&](ww::Host::Client host, kj::WaitScope& ws) {
      auto start = host.executorRequest().send().getExecutor().startRequest();
      start.setProgram(argv[3]);
      auto args = start.initArgs(argc - 4);
      for (int i = 4; i < argc; i++) args.set(i - 4, argv[i]);
      auto process = start.send().getProcess();
      process.pidRequest().send().wait(ws);
      usleep(atoi(argv[2]) * 1000);
      _exit(0);
    });
  }
  if (mode == "flood" && argc > 2) {
    return onFd(3, [&](ww::Host::Client host, kj::WaitScope& ws) {
      auto console = host.consoleRequest().send().getConsole();
      for (;;) {
        kj::Vector<kj::Promise<void>> calls;
        for (int i = 0; i < 64; i++) {
          auto req = console.logRequest();
          req.setLine(argv[2]);
          calls.add(req.send().ignoreResult());
        }
        kj::joinPromises(calls.releaseAsArray()).wait(ws);
      }
    });
  }
  if (mode == "pass-caps") {
    return onFd(3, [&](ww::Host::Client host, kj::WaitScope& ws) { passCaps(host, ws, argv[0]); });
  }
  if (mode == "cat-many" && argc > 3) {
    return onFd(3, [&](ww::Host::Client host, kj::WaitScope& ws) {
      catMany(host, ws, atoi(argv[2]), argv[3]);
    });
  }
  if (mode == "ls-many" && argc > 3) {
    return onFd(3, [&](ww::Host::Client host, kj::WaitScope& ws) {
      lsMany(host, ws, atoi(argv[2]), argv[3]);
    });
  }
  if (mode == "stat-many" && argc > 3) {
    return onFd(3, [&](ww::Host::Client host, kj::WaitScope& ws) {
      statMany(host, ws, atoi(argv[2]), argv[3]);
    });
  }
  if (mode == "race" && argc > 5) {
    return onFd(3, [&](ww::Host::Client host, kj::WaitScope& ws) {
      race(host, ws, atoi(argv[2]), argv, argc);
    });
  }
  if (mode == "flood-unknown" && argc > 3) return flood(true, atol(argv[2]), atol(argv[3]));
  if (mode == "flood-identity" && argc > 2) return flood(false, atol(argv[2]), 0);
  if (mode == "starts-then-exit" && argc > 3) return startsThenExit(atol(argv[2]), argc - 3, argv + 3);
  if (mode == "bench" && argc > 2) {
    return onFd(3, [&](ww::Host::Client host, kj::WaitScope& ws) { bench(host, ws, atol(argv[2])); });
  }
  if (mode == "bench-pair" && argc > 2) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 2;
    pid_t pid = fork();
    if (pid == 0) {
      close(sv[0]);
      auto io = kj::setupAsyncIo();
      auto stream = io.lowLevelProvider->wrapSocketFd(sv[1]);
      capnp::TwoPartyVatNetwork network(*stream, capnp::rpc::twoparty::Side::SERVER);
      auto server = capnp::makeRpcServer(network, kj::heap<BenchHost>());
      network.onDisconnect().wait(io.waitScope);
      _exit(0);
    }
    close(sv[1]);
    int rc = onFd(sv[0], [&](ww::Host::Client host, kj::WaitScope& ws) {
      bench(host, ws, atol(argv[2]));
    });
    close(sv[0]);  // wrapSocketFd does not own the fd; closing it lets the server see the end
    int status;
    waitpid(pid, &status, 0);
    return rc;
  }
  fprintf(stderr,
          "usage: guest checks | log <line> | exit <code> | start[-console] <prog> [args...] | "
          "flood <line> | bench <n> | bench-pair <n> | pass-caps | cat-many <n> <path> | ls-many <n> <path> | "
          "flood-unknown <n> <bytes> | flood-identity <n>\n");
  return 2;
}
