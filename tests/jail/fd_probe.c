// tests/jail/fd_probe.c — what a jailed program can do with a descriptor it was given, beyond using
// it as it is: fd_probe <fd> <what>, printing "ok" or the errno's name, one line.
//   up:      openat(fd, "../../..") and read etc/passwd there (a directory's way out of the jail)
//   reopen-w: open /proc/self/fd/<fd> for writing (a read-only grant made writable)
//   reopen-r: open /proc/self/fd/<fd> for reading (the grant's own mode)
//   reopen-t: open /proc/self/fd/<fd> for writing, truncating (an append-only grant overwritten)
//   beneath: openat(fd, "inside", O_RDONLY) and read it (a directory's own files)
//   create:  openat(fd, "made", O_CREAT|O_WRONLY) (writing beneath a granted directory)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int report(int r) {
  if (r < 0) printf("%s\n", strerrorname_np(errno));
  else printf("ok\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  int fd = atoi(argv[1]);
  const char *what = argv[2];
  char self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
  if (!strcmp(what, "up")) {
    int up = openat(fd, "../../..", O_RDONLY | O_DIRECTORY);
    if (up < 0) return report(-1);
    return report(openat(up, "etc/passwd", O_RDONLY));
  }
  if (!strcmp(what, "reopen-w")) return report(open(self, O_WRONLY));
  if (!strcmp(what, "reopen-r")) return report(open(self, O_RDONLY));
  if (!strcmp(what, "reopen-t")) return report(open(self, O_WRONLY | O_TRUNC));
  if (!strcmp(what, "beneath")) {
    int f = openat(fd, "inside", O_RDONLY);
    if (f < 0) return report(-1);
    char buf[16];
    return report(read(f, buf, sizeof buf) > 0 ? 0 : -1);
  }
  if (!strcmp(what, "create")) return report(openat(fd, "made", O_CREAT | O_WRONLY, 0644));
  return 2;
}
