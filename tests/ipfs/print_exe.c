/* print_exe.c — prints what /proc/self/exe links to: the file the kernel executed. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n < 0) return 1;
  path[n] = 0;
  printf("%s\n", path);
  return 0;
}
