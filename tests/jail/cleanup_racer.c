// tests/jail/cleanup_racer.c — moves a directory out from under the native supervisor's removal
// of a work directory: cleanup_racer <workdir> <away> <files> makes <workdir>/d1/d2/d3 holding
// <files> files, watches d3, creates <workdir>/go (the jailed program then exits and the removal
// starts), and at d3's first deletion renames <workdir>/d1/d2 to <away>. Prints "moved".
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  char path[4096];
  int files = atoi(argv[3]);
  snprintf(path, sizeof path, "%s/d1", argv[1]);
  if (mkdir(path, 0777) != 0) return perror("mkdir d1"), 1;
  snprintf(path, sizeof path, "%s/d1/d2", argv[1]);
  if (mkdir(path, 0777) != 0) return perror("mkdir d2"), 1;
  snprintf(path, sizeof path, "%s/d1/d2/d3", argv[1]);
  if (mkdir(path, 0777) != 0) return perror("mkdir d3"), 1;
  int d3 = open(path, O_RDONLY | O_DIRECTORY);
  for (int i = 0; i < files; i++) {
    char name[32];
    snprintf(name, sizeof name, "f%d", i);
    int fd = openat(d3, name, O_CREAT | O_WRONLY, 0644);
    if (fd < 0) return perror("file"), 1;
    close(fd);
  }
  int in = inotify_init1(0);
  if (in < 0 || inotify_add_watch(in, path, IN_DELETE) < 0) return perror("inotify"), 1;
  snprintf(path, sizeof path, "%s/go", argv[1]);
  int go = open(path, O_CREAT | O_WRONLY, 0644);
  if (go < 0) return perror("go"), 1;
  close(go);
  char event[4096];
  if (read(in, event, sizeof event) <= 0) return perror("read"), 1;
  snprintf(path, sizeof path, "%s/d1/d2", argv[1]);
  if (rename(path, argv[2]) != 0) return perror("rename"), 1;
  puts("moved");
  return 0;
}
