/*
 * tests/jail/netlink_probe.c: opens a netlink socket of each protocol named on the command line
 * (route, usersock, sock_diag, uevent) and prints, per protocol, "ok" or the errno's name, space
 * separated, on one line.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    int protocol = !strcmp(argv[i], "route")       ? NETLINK_ROUTE
                   : !strcmp(argv[i], "usersock")  ? NETLINK_USERSOCK
                   : !strcmp(argv[i], "sock_diag") ? NETLINK_SOCK_DIAG
                   : !strcmp(argv[i], "uevent")    ? NETLINK_KOBJECT_UEVENT
                                                   : -1;
    if (protocol < 0) {
      fprintf(stderr, "netlink_probe: unknown protocol %s\n", argv[i]);
      return 2;
    }
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    printf("%s%s", i > 1 ? " " : "", fd >= 0 ? "ok" : errno == EACCES ? "EACCES" : strerror(errno));
    if (fd >= 0) close(fd);
  }
  printf("\n");
  return 0;
}
