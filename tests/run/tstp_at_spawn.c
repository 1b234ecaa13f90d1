// tests/run/tstp_at_spawn.c — sends SIGTSTP to a process (ww) the moment its main thread has a
// child: its program's first process (a jail's stage), spawned while ww has yet to learn what it
// started. Usage: tstp_at_spawn PID. Exits 0 once sent, 1 when no child came within 20 s.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  char path[64];
  snprintf(path, sizeof path, "/proc/%s/task/%s/children", argv[1], argv[1]);
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    FILE *f = fopen(path, "r");
    if (!f) return 1;
    int c = fgetc(f);
    fclose(f);
    if (c != EOF) {
      kill(atoi(argv[1]), SIGTSTP);
      return 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec > 20) return 1;
  }
}
