/* tamper_exe.c — tries to change the file it was executed from, through /proc/self/exe: make it
 * writable, then append to it. Prints what each attempt got, e.g. "chmod EPERM, open EACCES". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *outcome(int ok) {
  if (ok) return "done";
  switch (errno) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EROFS: return "EROFS";
    case ETXTBSY: return "ETXTBSY";
    default: return strerror(errno);
  }
}

int main(void) {
  int chmodded = chmod("/proc/self/exe", 0777) == 0;
  printf("chmod %s, ", outcome(chmodded));
  int fd = open("/proc/self/exe", O_WRONLY | O_APPEND);
  int wrote = fd >= 0 && write(fd, "x", 1) == 1;
  printf("append %s\n", outcome(fd >= 0 && wrote));
  return 0;
}
