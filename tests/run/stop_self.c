// tests/run/stop_self.c — stops itself, and once continued exits 8 at once: a signal that was to
// end it, and came after the SIGCONT that woke it, came too late (tests/run/signals_test.ts).
#include <signal.h>

int main(void) {
  raise(SIGSTOP);
  return 8;
}
