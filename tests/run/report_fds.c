/* report_fds.c — a child for ww's integration tests that reports, as one JSON line on stdout, what
 * it was given: every open descriptor (readlink target, kind from fstat, st_dev/st_ino, status
 * flags, close-on-exec, offset, socket domain/type), its environment and its working directory.
 * Written in C so that nothing in the tests depends on the child being a Deno program.
 *
 * Arguments are actions, done in order before the report:
 *   stdout=FD        print from now on to FD instead (e.g. 3, the host socket)
 *   read=FD          read one line from FD (reported under "lines")
 *   write=FD:TEXT    write TEXT and a newline to FD
 *   setfl=FD:OCTAL   set FD's status flags (fcntl F_SETFL) to OCTAL
 *   excl=FD          put terminal FD in exclusive mode (TIOCEXCL)
 *   flow-off=FD      suspend terminal FD's output (tcflow TCOOFF)
 *   ldisc=FD:N       set terminal FD's line discipline to N (TIOCSETD)
 *   wait-signal      print {"ready":PID}, wait for SIGTERM or SIGINT, then sleep 300 ms, print
 *                    {"signal":N} and exit 100+N (the delay shows whether ww waits for it)
 *   tag=ANY          ignored; lets a test find this process in /proc by its command line
 * and, after the report:
 *   exit=N           exit with N instead of 0
 *   kill=N           kill itself with signal N (no core dump)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_LINES 16
static struct {
  int fd;
  char text[4096];
} lines[MAX_LINES];
static int nlines;

static void json_string(const char *s, size_t n) {
  putchar('"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20 || c == 0x7f) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static void json_cstring(const char *s) { json_string(s, strlen(s)); }

static const char *kind_of(mode_t mode) {
  if (S_ISSOCK(mode)) return "socket";
  if (S_ISFIFO(mode)) return "pipe";
  if (S_ISREG(mode)) return "file";
  if (S_ISCHR(mode)) return "char";
  if (S_ISDIR(mode)) return "dir";
  if (S_ISBLK(mode)) return "block";
  return "other";
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static void report_fd(int fd) {
  char path[64], target[PATH_MAX + 1];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, target, PATH_MAX);
  if (n < 0) n = 0;
  struct stat st;
  if (fstat(fd, &st) != 0) return;
  printf("{\"fd\":%d,\"target\":", fd);
  json_string(target, (size_t)n);
  printf(",\"kind\":\"%s\",\"dev\":%llu,\"ino\":%llu,\"flags\":%d,\"cloexec\":%s,\"offset\":%lld",
         kind_of(st.st_mode), (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
         fcntl(fd, F_GETFL), (fcntl(fd, F_GETFD) & FD_CLOEXEC) ? "true" : "false",
         (long long)lseek(fd, 0, SEEK_CUR));
  if (S_ISSOCK(st.st_mode)) {
    int domain = -1, type = -1;
    socklen_t len = sizeof domain;
    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len);
    len = sizeof type;
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
    printf(",\"domain\":%d,\"type\":%d", domain, type);
  }
  putchar('}');
}

static void report(void) {
  /* Collect the numbers first: the directory stream holds a descriptor of its own, which is left
   * out, and nothing is opened while the list is printed. */
  static int fds[65536];
  int count = 0;
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) {
    perror("report_fds: /proc/self/fd");
    exit(2);
  }
  struct dirent *e;
  while ((e = readdir(dir)) && count < 65536) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd != dirfd(dir)) fds[count++] = fd;
  }
  closedir(dir);
  qsort(fds, (size_t)count, sizeof fds[0], cmp_int);

  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "");
  struct stat cst;
  int cwd_mode = stat(".", &cst) == 0 ? (int)(cst.st_mode & 07777) : -1;

  printf("{\"pid\":%d,\"ppid\":%d,\"cwd\":", getpid(), getppid());
  json_cstring(cwd);
  printf(",\"cwdMode\":%d,\"fds\":[", cwd_mode);
  for (int i = 0; i < count; i++) {
    if (i) putchar(',');
    report_fd(fds[i]);
  }
  printf("],\"env\":{");
  for (char **p = environ; *p; p++) {
    const char *eq = strchr(*p, '=');
    if (p != environ) putchar(',');
    if (eq) {
      json_string(*p, (size_t)(eq - *p));
      putchar(':');
      json_cstring(eq + 1);
    } else {
      json_cstring(*p);
      printf(":null");
    }
  }
  printf("},\"lines\":{");
  for (int i = 0; i < nlines; i++) {
    if (i) putchar(',');
    printf("\"%d\":", lines[i].fd);
    json_cstring(lines[i].text);
  }
  printf("}}\n");
  fflush(stdout);
}

static void read_line(int fd) {
  if (nlines == MAX_LINES) return;
  char *text = lines[nlines].text;
  size_t n = 0;
  /* One byte at a time, so nothing after the line is consumed from a shared descriptor. */
  while (n < sizeof lines[0].text - 1) {
    char c;
    ssize_t r = read(fd, &c, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0 || c == '\n') break;
    text[n++] = c;
  }
  text[n] = 0;
  lines[nlines++].fd = fd;
}

static volatile sig_atomic_t caught;
static void on_signal(int sig) { caught = sig; }

static void wait_signal(void) {
  /* Blocked until sigsuspend, so a signal that comes before the wait is not lost. */
  sigset_t block, during;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigprocmask(SIG_BLOCK, &block, &during);
  sigdelset(&during, SIGTERM);
  sigdelset(&during, SIGINT);
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  printf("{\"ready\":%d}\n", getpid());
  fflush(stdout);
  while (!caught) sigsuspend(&during);
  struct timespec delay = {0, 300 * 1000 * 1000};
  nanosleep(&delay, NULL);
  printf("{\"signal\":%d}\n", (int)caught);
  fflush(stdout);
  exit(100 + caught);
}

int main(int argc, char **argv) {
  int exit_code = 0, kill_sig = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strncmp(a, "stdout=", 7)) {
      fflush(stdout);
      if (dup2(atoi(a + 7), 1) < 0) {
        fprintf(stderr, "report_fds: %s: %s\n", a, strerror(errno));
        return 3;
      }
    } else if (!strncmp(a, "read=", 5)) {
      read_line(atoi(a + 5));
    } else if (!strncmp(a, "write=", 6)) {
      int fd = atoi(a + 6);
      const char *colon = strchr(a + 6, ':');
      const char *text = colon ? colon + 1 : "";
      if (write(fd, text, strlen(text)) < 0 || write(fd, "\n", 1) < 0) {
        fprintf(stderr, "report_fds: write to fd %d: %s\n", fd, strerror(errno));
        return 3;
      }
    } else if (!strncmp(a, "setfl=", 6)) {
      int fd = atoi(a + 6);
      const char *colon = strchr(a + 6, ':');
      if (!colon || fcntl(fd, F_SETFL, (int)strtol(colon + 1, NULL, 8)) < 0) {
        fprintf(stderr, "report_fds: %s: %s\n", a, strerror(errno));
        return 3;
      }
    } else if (!strncmp(a, "excl=", 5)) {
      if (ioctl(atoi(a + 5), TIOCEXCL) < 0) {
        fprintf(stderr, "report_fds: %s: %s\n", a, strerror(errno));
        return 3;
      }
    } else if (!strncmp(a, "ldisc=", 6)) {
      const char *colon = strchr(a + 6, ':');
      int ldisc = colon ? atoi(colon + 1) : 0;
      if (!colon || ioctl(atoi(a + 6), TIOCSETD, &ldisc) < 0) {
        fprintf(stderr, "report_fds: %s: %s\n", a, strerror(errno));
        return 3;
      }
    } else if (!strncmp(a, "flow-off=", 9)) {
      if (tcflow(atoi(a + 9), TCOOFF) < 0) {
        fprintf(stderr, "report_fds: %s: %s\n", a, strerror(errno));
        return 3;
      }
    } else if (!strcmp(a, "wait-signal")) {
      wait_signal();
    } else if (!strncmp(a, "exit=", 5)) {
      exit_code = atoi(a + 5);
    } else if (!strncmp(a, "kill=", 5)) {
      kill_sig = atoi(a + 5);
    } else if (strncmp(a, "tag=", 4)) {
      fprintf(stderr, "report_fds: unknown action %s\n", a);
      return 2;
    }
  }
  report();
  if (kill_sig) {
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    signal(kill_sig, SIG_DFL);
    kill(getpid(), kill_sig);
  }
  return exit_code;
}
