// tests/jail/bind_swapper.c — races a bind's source: in DIR, swaps the directory `sub` and `alt`,
// a symbolic link to TARGET, back and forth with renameat2(RENAME_EXCHANGE) until killed, so that
// `DIR/sub` is now the directory, now a link elsewhere. Usage: bind_swapper DIR TARGET
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3 || chdir(argv[1]) != 0) {
    fprintf(stderr, "usage: bind_swapper DIR TARGET\n");
    return 2;
  }
  if (mkdir("sub", 0777) != 0 || chmod("sub", 0777) != 0 || symlink(argv[2], "alt") != 0) {
    perror("bind_swapper: set-up");
    return 1;
  }
  puts("ready");
  fflush(stdout);
  for (;;) {
    if (renameat2(AT_FDCWD, "sub", AT_FDCWD, "alt", RENAME_EXCHANGE) != 0) {
      perror("bind_swapper: renameat2");
      return 1;
    }
  }
}
