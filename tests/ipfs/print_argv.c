/* print_argv.c — prints its argv, one argument per line: how ww named a program it started. */
#include <stdio.h>

int main(int argc, char **argv) {
  for (int i = 0; i < argc; i++) printf("%s\n", argv[i]);
  return 0;
}
