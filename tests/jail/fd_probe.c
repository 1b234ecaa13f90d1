// tests/jail/fd_probe.c — what a jailed program can do with a descriptor it was given, beyond using
// it as it is: fd_probe <fd> <what>, printing "ok" or the errno's name, one line.
//   up:      openat(fd, "../../..") and read etc/passwd there (a directory's way out of the jail)
//   reopen-w: open /proc/self/fd/<fd> for writing (a read-only grant made writable)
//   reopen-r: open /proc/self/fd/<fd> for reading (the grant's own mode)
//   reopen-t: open /proc/self/fd/<fd> for writing, truncating (an append-only grant overwritten)
//   beneath: openat(fd, "inside", O_RDONLY) and read it (a directory's own files)
//   create:  openat(fd, "made", O_CREAT|O_WRONLY) (writing beneath a granted directory)
//   reconnect:PORT: disconnect a granted TCP socket (connect AF_UNSPEC), connect it to
//            127.0.0.1:PORT (a connection made in the host's network, taken elsewhere)
//   fastopen:PORT: disconnect a granted TCP socket, then send a byte to 127.0.0.1:PORT with
//            MSG_FASTOPEN, which connects it as it sends (a connect that is no connect(2) call)
//   loopback: listen on the jail's own 127.0.0.1 and connect to it (the jail's own TCP)
//   abstract:NAME: connect a granted unix socket to the abstract address NAME
//   unix:PATH: connect a granted unix socket to the unix socket at PATH
//   sendto:PATH: send a byte from a granted unix datagram socket to the unix socket at PATH
//   pair-sendto:PATH: send a byte to the unix socket at PATH from a datagram socketpair of its own
//   bind-abstract:NAME: bind a granted unix socket to the abstract address NAME
//   connect-self: connect a unix socket of its own to /proc/self/fd/<fd> (an O_PATH grant of a
//            socket, used as it is meant to be)
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

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
  if (!strncmp(what, "reconnect:", 10)) {
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    if (connect(fd, &unspec, sizeof unspec) < 0) return report(-1);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(atoi(what + 10))};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return report(connect(fd, (struct sockaddr *)&to, sizeof to));
  }
  if (!strncmp(what, "fastopen:", 9)) {
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    if (connect(fd, &unspec, sizeof unspec) < 0) return report(-1);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(atoi(what + 9))};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return report((int)sendto(fd, "x", 1, MSG_FASTOPEN, (struct sockaddr *)&to, sizeof to));
  }
  if (!strncmp(what, "bind-abstract:", 14)) {
    struct sockaddr_un at = {.sun_family = AF_UNIX};
    strncpy(at.sun_path + 1, what + 14, sizeof at.sun_path - 2);
    socklen_t len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(what + 14);
    return report(bind(fd, (struct sockaddr *)&at, len));
  }
  if (!strncmp(what, "pair-sendto:", 12)) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, pair) < 0) return report(-1);
    struct sockaddr_un to = {.sun_family = AF_UNIX};
    strncpy(to.sun_path, what + 12, sizeof to.sun_path - 1);
    return report(sendto(pair[0], "x", 1, 0, (struct sockaddr *)&to, sizeof to));
  }
  if (!strncmp(what, "abstract:", 9) || !strncmp(what, "unix:", 5) ||
      !strncmp(what, "sendto:", 7)) {
    struct sockaddr_un to = {.sun_family = AF_UNIX};
    const char *name = strchr(what, ':') + 1;
    int abstract = what[0] == 'a';
    strncpy(to.sun_path + abstract, name, sizeof to.sun_path - 1 - abstract);
    socklen_t len = offsetof(struct sockaddr_un, sun_path) + abstract + strlen(name);
    if (what[0] == 's') return report(sendto(fd, "x", 1, 0, (struct sockaddr *)&to, len));
    return report(connect(fd, (struct sockaddr *)&to, len));
  }
  if (!strcmp(what, "connect-self")) {
    struct sockaddr_un to = {.sun_family = AF_UNIX};
    snprintf(to.sun_path, sizeof to.sun_path, "/proc/self/fd/%d", fd);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    return report(s < 0 ? -1 : connect(s, (struct sockaddr *)&to, sizeof to));
  }
  if (!strcmp(what, "loopback")) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in at = {.sin_family = AF_INET};
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof at;
    if (s < 0 || bind(s, (struct sockaddr *)&at, len) < 0 || listen(s, 1) < 0) return report(-1);
    if (getsockname(s, (struct sockaddr *)&at, &len) < 0) return report(-1);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    return report(c < 0 ? -1 : connect(c, (struct sockaddr *)&at, len));
  }
  return 2;
}
