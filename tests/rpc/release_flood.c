// tests/rpc/release_flood.c — a hostile guest on fd 3: writes valid Cap'n Proto Release messages
// (40 bytes each, framed, of an id ww never gave; ww answers nothing) as fast as it can, in
// batches of 400, until it has sent `count` of them (0: until ww closes the connection). Then it
// prints {"sent":N,"cpuMs":M,"closed":true|false} (M: its own user+system CPU time) and exits 0.
//
// usage: release_flood <count>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

// One segment of 4 words: the Message root (union tag 6: release) and the Release struct
// (id 999999, referenceCount 1).
static const unsigned char RELEASE[40] = {
    0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x01, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x3f, 0x42, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x00,
};
#define BATCH 400

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: release_flood <count>\n");
    return 2;
  }
  long long count = atoll(argv[1]);
  signal(SIGPIPE, SIG_IGN);
  static unsigned char batch[BATCH * sizeof RELEASE];
  for (int i = 0; i < BATCH; i++) memcpy(batch + i * sizeof RELEASE, RELEASE, sizeof RELEASE);
  long long sent = 0;
  int closed = 0;
  while (!closed && (count == 0 || sent < count)) {
    long long n = count == 0 || count - sent >= BATCH ? BATCH : count - sent;
    size_t size = n * sizeof RELEASE, done = 0;
    while (done < size) {
      ssize_t w = write(3, batch + done, size - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        closed = 1;
        break;
      }
      done += w;
    }
    sent += done / sizeof RELEASE;
  }
  struct rusage self;
  getrusage(RUSAGE_SELF, &self);
  long long ms = (self.ru_utime.tv_sec + self.ru_stime.tv_sec) * 1000LL +
                 (self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1000;
  printf("{\"sent\":%lld,\"cpuMs\":%lld,\"closed\":%s}\n", sent, ms, closed ? "true" : "false");
  return 0;
}
