// tests/jail/bind_swapper.c — races a bind's source. `bind_swapper DIR TARGET`: in DIR, swaps the
// directory `sub` and `alt`, a symbolic link to TARGET, back and forth with
// renameat2(RENAME_EXCHANGE) until killed, so that `DIR/sub` is now the directory, now a link
// elsewhere. `bind_swapper DIR A B`: swaps DIR's existing entries A and B so, until killed.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if ((argc != 3 && argc != 4) || chdir(argv[1]) != 0) {
    fprintf(stderr, "usage: bind_swapper DIR TARGET | bind_swapper DIR A B\n");
    return 2;
  }
  const char *a = argc == 4 ? argv[2] : "sub", *b = argc == 4 ? argv[3] : "alt";
  if (argc == 3 && (mkdir("sub", 0777) != 0 || chmod("sub", 0777) != 0 ||
                    symlink(argv[2], "alt") != 0)) {
    perror("bind_swapper: set-up");
    return 1;
  }
  puts("ready");
  fflush(stdout);
  for (;;) {
    if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0) {
      perror("bind_swapper: renameat2");
      return 1;
    }
  }
}
