// tests/jail/others_probe.c — a jailed program reaching for another process of its own uid:
// others_probe <pid|ppid> tries to lower its file limit, renice it, renice every process of the
// uid, renice and lower the I/O priority of its process group, and pin it to one CPU, printing each
// call's errno name (or "ok") on one line. (Renicing and pinning one process stay allowed: a
// library names its own threads by tid the same way.)
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *said(int r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  pid_t pid = strcmp(argv[1], "ppid") == 0 ? getppid() : atoi(argv[1]);
  struct rlimit none = {0, 0};
  printf("%s", said(prlimit(pid, RLIMIT_NOFILE, &none, NULL)));
  printf(" %s", said(setpriority(PRIO_PROCESS, pid, 19)));
  printf(" %s", said(setpriority(PRIO_USER, 0, 19)));
  pid_t group = getpgid(pid);
  printf(" %s", said(setpriority(PRIO_PGRP, group, 19)));
  // IOPRIO_WHO_PGRP (2), class IDLE (3 << 13): glibc has no wrapper.
  printf(" %s", said((int)syscall(SYS_ioprio_set, 2, group, 3 << 13)));
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(0, &one);
  printf(" %s\n", said(sched_setaffinity(pid, sizeof one, &one)));
  return 0;
}
