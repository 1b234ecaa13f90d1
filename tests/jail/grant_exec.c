// tests/jail/grant_exec.c — `grant_exec KIND FD [PATH] CMD...`: makes descriptor FD, of a kind no
// shell redirection makes, then executes CMD with it, as a caller granting such a descriptor to ww
// does. KIND is `opath PATH` (PATH opened with O_PATH: a descriptor that names the file without
// opening it), `unix-stream` or `unix-dgram` (an unconnected unix socket, made in this process's
// network namespace).
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: grant_exec opath FD PATH CMD... | unix-stream|unix-dgram FD CMD...\n");
    return 2;
  }
  int opath = !strcmp(argv[1], "opath");
  int fd = opath                            ? open(argv[3], O_PATH)
           : !strcmp(argv[1], "unix-stream") ? socket(AF_UNIX, SOCK_STREAM, 0)
                                             : socket(AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0 || dup2(fd, atoi(argv[2])) < 0) {
    perror(argv[1]);
    return 2;
  }
  char **cmd = argv + (opath ? 4 : 3);
  execvp(cmd[0], cmd);
  perror(cmd[0]);
  return 127;
}
