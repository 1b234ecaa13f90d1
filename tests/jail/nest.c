// tests/jail/nest.c — makes a chain of directories `d` <n> deep below the cwd (chdir into each,
// so no path grows long), with a file at the bottom, and prints "made".
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 0;
  for (int i = 0; i < n; i++) {
    if (mkdir("d", 0755) != 0 || chdir("d") != 0) {
      perror("nest");
      return 1;
    }
  }
  int fd = open("f", O_CREAT | O_WRONLY, 0644);
  if (fd < 0) return 1;
  close(fd);
  puts("made");
  return 0;
}
