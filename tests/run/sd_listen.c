// tests/run/sd_listen.c — a server written for systemd socket activation, through libsystemd's
// own sd_listen_fds_with_names(3) (which checks LISTEN_PID against getpid() and takes the
// sockets from fd 3): it prints what it was given as one JSON line, then answers one connection
// on the stream socket named by argv[1] with a line, and exits 0. Exits 1 when it was given no
// sockets (sd_listen_fds returned 0 or an error).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

int main(int argc, char **argv) {
  char **names = NULL;
  // unset_environment = 1: the variables are gone afterwards, as a real service would have them.
  int n = sd_listen_fds_with_names(1, &names);
  if (n <= 0) {
    fprintf(stderr, "sd_listen_fds_with_names: %d (%s)\n", n, n < 0 ? strerror(-n) : "no sockets");
    return 1;
  }
  int serve = -1;
  printf("{\"count\":%d,\"unset\":%s,\"sockets\":[", n, getenv("LISTEN_PID") ? "false" : "true");
  for (int i = 0; i < n; i++) {
    int fd = SD_LISTEN_FDS_START + i;
    printf("%s{\"fd\":%d,\"name\":\"%s\",\"inet_stream_listening\":%d,\"unix\":%d,\"dgram\":%d}",
           i ? "," : "", fd, names[i], sd_is_socket_inet(fd, 0, SOCK_STREAM, 1, 0),
           sd_is_socket_unix(fd, 0, -1, NULL, 0), sd_is_socket(fd, 0, SOCK_DGRAM, -1));
    if (argc > 1 && strcmp(names[i], argv[1]) == 0) serve = fd;
  }
  printf("]}\n");
  fflush(stdout);
  if (serve >= 0) {
    int c = accept(serve, NULL, NULL);
    if (c < 0) return 2;
    const char line[] = "hello from sd_listen_fds\n";
    if (write(c, line, sizeof line - 1) != (ssize_t)(sizeof line - 1)) return 3;
    close(c);
  }
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
  return 0;
}
