// tests/jail/hostile.c — a hostile program for the jail tests (tests/jail/*_test.ts). Each probe
// tries one way out of the jail, or one granted access, in a forked child, and the program prints
// one JSON line: {"<probe>": {"escaped": bool, "detail": "..."}, ...}. "escaped" means the
// attempted access succeeded; for the grant probes (granted_fd, read_bound_file, write_rw_bind,
// ...) that is the expected outcome. The detail names the syscall and errno that decided it.
//
// usage: hostile [key=value ...] <probe ...|all> [hold]
//   key=value words are the probes' parameters (see PROBES below); a probe whose parameter is
//   missing is a usage error (exit 2), never a silent pass. "all" runs every escape probe; "hold"
//   keeps the program alive after the report until it is killed.
// modes the probes start themselves:
//   hostile sleeper <marker> <file>   appends a line to <file> every 50 ms, forever
//   hostile print-creds               prints "euid=N capeff=HEX" (setuid_exec runs a setuid copy)
//   hostile shm-create <key>          makes a 4 KiB SysV segment (mode 0666) and prints its id
//   hostile mount-id <path>           prints the unique id of the mount <path> is on
//   hostile fork-hold <marker>        forks sleeping children until fork fails, then sleeps too

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/msg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

struct outcome {
  int escaped;
  char detail[1400];
};

static int g_argc;
static char **g_argv;
/* The write end of the pipe a probe reports through; list_fds must not count it. */
static int g_result_fd = -1;

/* The value of parameter `key` (from a "key=value" word), or NULL. */
static const char *param(const char *key) {
  size_t len = strlen(key);
  for (int i = 1; i < g_argc; i++) {
    if (strncmp(g_argv[i], key, len) == 0 && g_argv[i][len] == '=') return g_argv[i] + len + 1;
  }
  return NULL;
}

static const char *need(const char *key) {
  const char *v = param(key);
  if (!v) {
    fprintf(stderr, "hostile: parameter %s=... is required by a selected probe\n", key);
    _exit(2);
  }
  return v;
}

static const char *en(void) {
  const char *name = strerrorname_np(errno);
  return name ? name : "E?";
}

/* Appends to the detail, "; "-separated. */
__attribute__((format(printf, 2, 3))) static void say(struct outcome *o, const char *fmt, ...) {
  size_t used = strlen(o->detail);
  if (used && used + 2 < sizeof o->detail) {
    strcpy(o->detail + used, "; ");
    used += 2;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(o->detail + used, sizeof o->detail - used, fmt, ap);
  va_end(ap);
}

/* Keeps only printable bytes, so file contents can go in the detail. */
static void printable(char *s, ssize_t n) {
  for (ssize_t i = 0; i < n; i++) {
    if (s[i] < 0x20 || s[i] > 0x7e) s[i] = '.';
  }
  s[n < 0 ? 0 : n] = 0;
}

/* ---- files ---- */

static void read_path(struct outcome *o, const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    say(o, "open %s: %s", path, en());
    return;
  }
  char buf[65];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  if (n < 0) {
    say(o, "read %s: %s", path, en());
  } else {
    o->escaped = 1;
    printable(buf, n);
    say(o, "read %zd bytes of %s: %s", n, path, buf);
  }
  close(fd);
}

static void probe_read_shadow(struct outcome *o, const char *arg) {
  (void)arg;
  read_path(o, "/etc/shadow");
}

static void probe_read_path(struct outcome *o, const char *arg) { read_path(o, arg); }

/* Creates <dir>/ww-escape-<marker>. */
static void write_in_dir(struct outcome *o, const char *dir) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/ww-escape-%s", dir, need("marker"));
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    say(o, "create %s: %s", path, en());
    return;
  }
  static const char text[] = "written by hostile\n";
  if (write(fd, text, sizeof text - 1) == (ssize_t)sizeof text - 1) {
    o->escaped = 1;
    say(o, "created and wrote %s", path);
  } else {
    say(o, "write %s: %s", path, en());
  }
  close(fd);
}

static void probe_write_usr(struct outcome *o, const char *arg) {
  (void)arg;
  write_in_dir(o, "/usr");
}

static void probe_write_dir(struct outcome *o, const char *arg) { write_in_dir(o, arg); }

/*
 * The work directory's parent is the host's temporary directory outside the jail, and the jail's
 * own tmpfs inside. Writing there only escapes when ".." is the host directory, which the caller
 * identifies as "dev:ino" (device numbers are the same in every mount namespace).
 */
static void probe_write_workdir_parent(struct outcome *o, const char *host_id) {
  struct stat st;
  if (stat("..", &st) < 0) {
    say(o, "stat ..: %s", en());
    return;
  }
  char id[64];
  snprintf(id, sizeof id, "%lu:%lu", (unsigned long)st.st_dev, (unsigned long)st.st_ino);
  write_in_dir(o, "..");
  if (strcmp(id, host_id) != 0) {
    if (o->escaped) say(o, "but .. is the jail's own directory");
    o->escaped = 0;
  }
  say(o, ".. is %s, the host's directory is %s", id, host_id);
}

/* The host uid that uid `id` in this process's user namespace maps to, or -1. */
static long host_uid(uid_t id) {
  FILE *map = fopen("/proc/self/uid_map", "re");
  long inside, outside, count, found = -1;
  while (map && fscanf(map, "%ld %ld %ld", &inside, &outside, &count) == 3) {
    if ((long)id >= inside && (long)id < inside + count) found = outside + ((long)id - inside);
  }
  if (map) fclose(map);
  return found;
}

/*
 * Copies this program into `dir` and makes it setuid. The jail's bind has nosuid, but the host's
 * mount need not: a setuid file owned by host root is a root shell for any host user who can
 * reach the directory.
 */
static void probe_plant_setuid(struct outcome *o, const char *dir) {
  char path[PATH_MAX], buf[65536];
  snprintf(path, sizeof path, "%s/ww-suid-%s", dir, need("marker"));
  int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
  if (in < 0 || out < 0) {
    say(o, "open /proc/self/exe or create %s: %s", path, en());
    if (in >= 0) close(in);
    return;
  }
  for (ssize_t n; (n = read(in, buf, sizeof buf)) > 0;) {
    if (write(out, buf, (size_t)n) != n) break;
  }
  close(in);
  if (fchmod(out, 04755) < 0) say(o, "fchmod 4755: %s", en());
  struct stat st;
  fstat(out, &st);
  close(out);
  long owner = host_uid(st.st_uid);
  o->escaped = (st.st_mode & S_ISUID) && owner == 0;
  say(o, "%s has mode %o, owner %u here, host uid %ld", path, st.st_mode & 07777, st.st_uid, owner);
}

/* ---- processes ---- */

static void probe_see_host_pid(struct outcome *o, const char *arg) {
  pid_t pid = atoi(arg);
  if (kill(pid, 0) == 0) {
    o->escaped = 1;
    say(o, "kill(%d, 0) succeeded", pid);
  } else {
    say(o, "kill(%d, 0): %s", pid, en());
  }
  char path[64], cmd[65];
  snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    say(o, "open %s: %s", path, en());
    return;
  }
  ssize_t n = read(fd, cmd, sizeof cmd - 1);
  close(fd);
  o->escaped = 1;
  printable(cmd, n);
  say(o, "%s: %s", path, cmd);
}

/* Inside the jail /proc holds bwrap's reaper (pid 1), this program and this probe: 3 processes. */
static void probe_count_processes(struct outcome *o, const char *arg) {
  (void)arg;
  DIR *d = opendir("/proc");
  if (!d) {
    say(o, "opendir /proc: %s", en());
    return;
  }
  int count = 0;
  char pids[200] = "";
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    if (count++ < 12 && strlen(pids) + strlen(e->d_name) + 2 < sizeof pids) {
      strcat(pids, " ");
      strcat(pids, e->d_name);
    }
  }
  closedir(d);
  o->escaped = count > 3;
  say(o, "%d processes in /proc:%s%s", count, pids, count > 12 ? " ..." : "");
}

static void probe_signal_ww(struct outcome *o, const char *arg) {
  pid_t pid = atoi(arg);
  if (kill(pid, 0) == 0) {
    o->escaped = 1;
    say(o, "kill(%d, 0) succeeded: ww can be signalled", pid);
  } else {
    say(o, "kill(%d, 0): %s", pid, en());
  }
}

static void probe_ptrace_ww(struct outcome *o, const char *arg) {
  pid_t pid = atoi(arg);
  if (ptrace(PTRACE_ATTACH, pid, 0, 0) < 0) {
    say(o, "ptrace(PTRACE_ATTACH, %d): %s", pid, en());
    return;
  }
  o->escaped = 1;
  int status;
  // PTRACE_DETACH needs the tracee in its attach stop.
  waitpid(pid, &status, __WALL);
  ptrace(PTRACE_DETACH, pid, 0, 0);
  say(o, "attached to %d (and detached)", pid);
}

static void probe_pidfd_ww(struct outcome *o, const char *arg) {
  pid_t pid = atoi(arg);
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    say(o, "pidfd_open(%d): %s", pid, en());
    return;
  }
  o->escaped = 1;
  say(o, "pidfd_open(%d) = %ld", pid, fd);
  close((int)fd);
}

static void probe_proc_root_ww(struct outcome *o, const char *arg) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/root", atoi(arg));
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    say(o, "open %s: %s", path, en());
    return;
  }
  o->escaped = 1;
  say(o, "opened %s", path);
  int shadow = openat(fd, "etc/shadow", O_RDONLY | O_CLOEXEC);
  say(o, "%s/etc/shadow: %s", path, shadow >= 0 ? "readable" : en());
  if (shadow >= 0) close(shadow);
  close(fd);
}

/* Reads 16 bytes of ww's memory, at its first mapping when ww's /proc entry is visible. */
static void probe_vm_read_ww(struct outcome *o, const char *arg) {
  pid_t pid = atoi(arg);
  unsigned long addr = 0x400000;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/maps", pid);
  FILE *maps = fopen(path, "re");
  if (maps) {
    /* The first readable mapping: Deno's address space starts with reserved PROT_NONE regions,
     * which no one can read (EFAULT). */
    char line[512], perms[8];
    unsigned long start, end;
    while (fgets(line, sizeof line, maps)) {
      if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) == 3 && perms[0] == 'r') {
        addr = start;
        break;
      }
    }
    fclose(maps);
  }
  char buf[16];
  struct iovec local = {buf, sizeof buf}, remote = {(void *)addr, sizeof buf};
  ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
  if (n < 0) {
    say(o, "process_vm_readv(%d, %#lx): %s", pid, addr, en());
    return;
  }
  o->escaped = 1;
  say(o, "read %zd bytes of pid %d's memory at %#lx", n, pid, addr);
}

/* ---- network ---- */

static void talk(struct outcome *o, int fd, const char *what) {
  struct timeval tv = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[65];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  if (n < 0) {
    say(o, "connected to %s, read: %s", what, en());
    return;
  }
  printable(buf, n);
  say(o, "connected to %s, it said: %s", what, buf);
}

static void probe_tcp_connect(struct outcome *o, const char *arg) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    say(o, "socket(AF_INET): %s", en());
    return;
  }
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(arg))};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    say(o, "connect 127.0.0.1:%s: %s", arg, en());
  } else {
    o->escaped = 1;
    talk(o, fd, "127.0.0.1");
  }
  close(fd);
}

/* Connects a unix stream socket to `a` and, when that works (an escape), talks to what answers:
 * `shown` names the address in the outcome, `what` the peer. */
static void connect_unix(struct outcome *o, const struct sockaddr_un *a, socklen_t alen,
                         const char *shown, const char *what) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    say(o, "socket(AF_UNIX): %s", en());
    return;
  }
  if (connect(fd, (const struct sockaddr *)a, alen) < 0) {
    say(o, "connect %s: %s", shown, en());
  } else {
    o->escaped = 1;
    talk(o, fd, what);
  }
  close(fd);
}

static void probe_abstract_connect(struct outcome *o, const char *arg) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  size_t len = strlen(arg);
  if (len + 1 > sizeof a.sun_path) len = sizeof a.sun_path - 1;
  memcpy(a.sun_path + 1, arg, len); // sun_path[0] == 0: the abstract namespace
  char shown[sizeof a.sun_path + 1];
  snprintf(shown, sizeof shown, "@%s", arg);
  connect_unix(o, &a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len), shown,
               "the abstract socket");
}

static void probe_path_connect(struct outcome *o, const char *arg) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", arg);
  connect_unix(o, &a, sizeof a, arg, "the unix socket");
}

static void probe_raw_socket(struct outcome *o, const char *arg) {
  (void)arg;
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) {
    say(o, "socket(AF_PACKET, SOCK_RAW): %s", en());
    return;
  }
  o->escaped = 1;
  say(o, "opened a raw packet socket");
  close(fd);
}

/* MPTCP falls back to plain TCP with any TCP server, and Landlock checks IPPROTO_TCP only. */
static void probe_mptcp_connect(struct outcome *o, const char *arg) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 262 /* IPPROTO_MPTCP */);
  if (fd < 0) {
    say(o, "socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP): %s", en());
    return;
  }
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(arg))};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    say(o, "MPTCP connect 127.0.0.1:%s: %s", arg, en());
  } else {
    o->escaped = 1;
    talk(o, fd, "127.0.0.1 over MPTCP");
  }
  close(fd);
}

/* vsock ports are the host's and the hypervisor's: no network namespace separates them. */
static void probe_vsock_socket(struct outcome *o, const char *arg) {
  (void)arg;
  int fd = socket(40 /* AF_VSOCK */, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    say(o, "socket(AF_VSOCK): %s", en());
    return;
  }
  o->escaped = 1;
  say(o, "opened an AF_VSOCK socket");
  close(fd);
}

/*
 * Leaves a setuid and setgid file of the jail's own id in its work directory, by each way there
 * is to set the bits: any local user who runs it becomes the jail's id, which a later jail leases
 * again.
 */
static void probe_setuid_own(struct outcome *o, const char *arg) {
  (void)arg;
  const char *marker = need("marker");
  char path[PATH_MAX];
  int made = 0;
  snprintf(path, sizeof path, "ww-own-suid-%s-open", marker);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 06755);
  if (fd < 0) {
    say(o, "open(O_CREAT, 06755): %s", en());
  } else {
    struct stat st;
    fstat(fd, &st);
    made |= (st.st_mode & 06000) != 0;
    say(o, "open(O_CREAT, 06755) made mode %o", st.st_mode & 07777);
    close(fd);
  }
  snprintf(path, sizeof path, "ww-own-suid-%s-chmod", marker);
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
  if (fd < 0) {
    say(o, "create %s: %s", path, en());
    return;
  }
  if (fchmod(fd, 04755) < 0) say(o, "fchmod 4755: %s", en());
  if (chmod(path, 02755) < 0) say(o, "chmod 2755: %s", en());
  if (fchmodat(AT_FDCWD, path, 06755, 0) < 0) say(o, "fchmodat 6755: %s", en());
  struct stat st;
  fstat(fd, &st);
  close(fd);
  made |= (st.st_mode & 06000) != 0;
  o->escaped = made;
  say(o, "%s has mode %o", path, st.st_mode & 07777);
}

/* io_uring opens files and sockets in the kernel, where no seccomp filter sees the calls. */
static void probe_io_uring(struct outcome *o, const char *arg) {
  (void)arg;
  char params[120] = {0}; /* struct io_uring_params */
  long fd = syscall(425 /* __NR_io_uring_setup */, 1, params);
  if (fd < 0) {
    say(o, "io_uring_setup: %s", en());
    return;
  }
  o->escaped = 1;
  say(o, "set up an io_uring");
  close((int)fd);
}

/* ---- mounts, namespaces, root ---- */

/* struct mnt_id_req (linux/mount.h, Linux 6.8), written out: the installed headers may predate it. */
struct mnt_id_request {
  uint32_t size, spare;
  uint64_t mnt_id, param;
};
#define STATMOUNT_SB_BASIC 0x1
#define LSMT_ROOT 0xffffffffffffffffULL

/* Reads the host's mount table without a path: listmount from the root of the caller's mount
 * namespace, and statmount of a host mount by its unique id (hostmnt=, statx's
 * STATX_MNT_ID_UNIQUE of the host's /). In a mount namespace of the jail's own that id names
 * nothing. */
static void probe_mount_table(struct outcome *o, const char *host_mount) {
  struct mnt_id_request list = {24, 0, LSMT_ROOT, 0};
  uint64_t ids[64];
  long n = syscall(458 /* __NR_listmount */, &list, ids, 64, 0);
  if (n < 0) say(o, "listmount: %s", en());
  else say(o, "listmount: %ld mounts", n);
  struct mnt_id_request one = {24, 0, strtoull(host_mount, NULL, 10), STATMOUNT_SB_BASIC};
  static uint64_t buf[512];
  if (syscall(457 /* __NR_statmount */, &one, buf, sizeof buf, 0) < 0) {
    say(o, "statmount(host's / mount): %s", en());
    return;
  }
  o->escaped = 1;
  say(o, "statmount read the host's / mount");
}

/* Mounts a tmpfs over the work directory and takes it off again at once. */
static void probe_mount(struct outcome *o, const char *arg) {
  (void)arg;
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) {
    say(o, "getcwd: %s", en());
    return;
  }
  if (mount("ww-hostile", cwd, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m") < 0) {
    say(o, "mount tmpfs on %s: %s", cwd, en());
    return;
  }
  o->escaped = 1;
  say(o, "mounted a tmpfs on %s", cwd);
  if (umount2(cwd, 0) < 0) say(o, "umount2: %s", en());
}

static void probe_fsopen(struct outcome *o, const char *arg) {
  (void)arg;
  long fd = syscall(SYS_fsopen, "tmpfs", 0);
  if (fd < 0) {
    say(o, "fsopen(tmpfs): %s", en());
    return;
  }
  o->escaped = 1;
  say(o, "fsopen(tmpfs) = %ld", fd);
  close((int)fd);
}

static void probe_unshare_user(struct outcome *o, const char *arg) {
  (void)arg;
  if (unshare(CLONE_NEWUSER) < 0) {
    say(o, "unshare(CLONE_NEWUSER): %s", en());
    return;
  }
  o->escaped = 1;
  say(o, "unshare(CLONE_NEWUSER) succeeded");
}

static void probe_unshare_mount(struct outcome *o, const char *arg) {
  (void)arg;
  if (unshare(CLONE_NEWNS) < 0) {
    say(o, "unshare(CLONE_NEWNS): %s", en());
    return;
  }
  o->escaped = 1;
  say(o, "unshare(CLONE_NEWNS) succeeded");
}

static void reap_clone(struct outcome *o, long pid, const char *call) {
  if (pid < 0) {
    say(o, "%s: %s", call, en());
    return;
  }
  o->escaped = 1;
  waitpid((pid_t)pid, NULL, 0);
  say(o, "%s made child %ld in a new user namespace", call, pid);
}

/* The raw syscall: glibc's clone() wants a stack, and a child here exits at once anyway. */
static void probe_clone_newuser(struct outcome *o, const char *arg) {
  (void)arg;
  long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) _exit(0);
  reap_clone(o, pid, "clone(CLONE_NEWUSER)");
}

/* struct clone_args, version 0 (linux/sched.h, CLONE_ARGS_SIZE_VER0 = 64). */
struct clone_args_v0 {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static void probe_clone3_newuser(struct outcome *o, const char *arg) {
  (void)arg;
  struct clone_args_v0 a = {.flags = CLONE_NEWUSER, .exit_signal = SIGCHLD};
  long pid = syscall(SYS_clone3, &a, sizeof a);
  if (pid == 0) _exit(0);
  reap_clone(o, pid, "clone3(CLONE_NEWUSER)");
}

static void probe_chroot(struct outcome *o, const char *arg) {
  (void)arg;
  if (chroot("/") < 0) {
    say(o, "chroot(/): %s", en());
    return;
  }
  o->escaped = 1;
  say(o, "chroot(/) succeeded");
}

/*
 * chroot through the i386 entry point (int 0x80, i386 syscall 61): a filter that checks only
 * syscall numbers, not seccomp_data.arch, would judge it as x86_64 syscall 61 (wait4) and allow
 * it. The path must be addressable with 32 bits, hence MAP_32BIT.
 */
static void probe_chroot_i386(struct outcome *o, const char *arg) {
  (void)arg;
#if defined(__x86_64__)
  char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
                   -1, 0);
  if (low == MAP_FAILED) {
    say(o, "mmap(MAP_32BIT): %s", en());
    return;
  }
  strcpy(low, "/");
  long ret;
  __asm__ volatile("int $0x80"
                   : "=a"(ret)
                   : "a"(61L), "b"((long)(uintptr_t)low)
                   : "memory", "cc", "r8", "r9", "r10", "r11");
  if (ret < 0) {
    errno = (int)-ret;
    say(o, "i386 chroot(/): %s", en());
    return;
  }
  o->escaped = 1;
  say(o, "i386 chroot(/) succeeded");
#else
  say(o, "not x86_64: there is no i386 entry point to try");
#endif
}

/*
 * Runs a setuid-root copy of this program (print-creds). Unjailed the caller is root, so the
 * probe first drops to nobody: the setuid bit must then be what brings euid 0 back.
 */
static void probe_setuid_exec(struct outcome *o, const char *path) {
  int p[2];
  if (pipe(p) < 0) {
    say(o, "pipe: %s", en());
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    if (getuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
                          setresuid(65534, 65534, 65534) < 0)) {
      dprintf(1, "drop to nobody: %s", en());
      _exit(1);
    }
    execl(path, path, "print-creds", (char *)NULL);
    dprintf(1, "exec %s: %s", path, en());
    _exit(127);
  }
  close(p[1]);
  char buf[200];
  ssize_t n = read(p[0], buf, sizeof buf - 1);
  close(p[0]);
  waitpid(pid, NULL, 0);
  buf[n < 0 ? 0 : n] = 0;
  int euid = -1;
  unsigned long long caps = 0;
  if (sscanf(buf, "euid=%d capeff=%llx", &euid, &caps) == 2) {
    o->escaped = euid == 0 || caps != 0;
  }
  say(o, "setuid-root %s reported: %s", path, buf);
}

/* ---- terminal ---- */

static void probe_tiocsti(struct outcome *o, const char *arg) {
  (void)arg;
  char c = ' ';
  say(o, "fd 0 is %sa terminal", isatty(0) ? "" : "not ");
  if (ioctl(0, TIOCSTI, &c) == 0) {
    o->escaped = 1;
    say(o, "TIOCSTI on fd 0 injected a byte");
  } else {
    say(o, "TIOCSTI on fd 0: %s", en());
  }
  int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    say(o, "open /dev/tty: %s", en());
    return;
  }
  if (ioctl(fd, TIOCSTI, &c) == 0) {
    o->escaped = 1;
    say(o, "TIOCSTI on /dev/tty injected a byte");
  } else {
    say(o, "TIOCSTI on /dev/tty: %s", en());
  }
  close(fd);
}

/* ---- kernel interfaces ---- */

/*
 * A garbage image can never load; what matters is whether the call got past the permission
 * check (EPERM) to parsing the image. ENOSYS: the kernel has no module support at all.
 */
static void probe_load_module(struct outcome *o, const char *arg) {
  (void)arg;
  static char image[64];
  if (syscall(SYS_init_module, image, sizeof image, "") == 0 ||
      (errno != EPERM && errno != ENOSYS)) {
    o->escaped = 1;
  }
  say(o, "init_module: %s", en());
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (syscall(SYS_finit_module, fd, "", 0) == 0 || (errno != EPERM && errno != ENOSYS)) {
    o->escaped = 1;
  }
  say(o, "finit_module: %s", en());
  if (fd >= 0) close(fd);
}

static void probe_keyctl(struct outcome *o, const char *arg) {
  (void)arg;
  long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0);
  if (id >= 0) {
    o->escaped = 1;
    say(o, "keyctl(KEYCTL_GET_KEYRING_ID) = %ld", id);
  } else {
    say(o, "keyctl(KEYCTL_GET_KEYRING_ID): %s", en());
  }
  // The process keyring dies with this probe.
  long key = syscall(SYS_add_key, "user", "ww-hostile", "x", 1, KEY_SPEC_PROCESS_KEYRING);
  if (key >= 0) {
    o->escaped = 1;
    say(o, "add_key = %ld", key);
  } else {
    say(o, "add_key: %s", en());
  }
}

static void probe_bpf(struct outcome *o, const char *arg) {
  (void)arg;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = BPF_MAP_TYPE_ARRAY;
  a.key_size = 4;
  a.value_size = 4;
  a.max_entries = 1;
  long fd = syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a);
  if (fd < 0) {
    say(o, "bpf(BPF_MAP_CREATE): %s", en());
    return;
  }
  o->escaped = 1;
  say(o, "bpf(BPF_MAP_CREATE) = %ld", fd);
  close((int)fd);
}

/* Counting its own user-space time is allowed to anyone at perf_event_paranoid <= 2. */
static void probe_perf_event_open(struct outcome *o, const char *arg) {
  (void)arg;
  struct perf_event_attr a;
  memset(&a, 0, sizeof a);
  a.type = PERF_TYPE_SOFTWARE;
  a.size = sizeof a;
  a.config = PERF_COUNT_SW_TASK_CLOCK;
  a.disabled = 1;
  a.exclude_kernel = 1;
  a.exclude_hv = 1;
  long fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
  if (fd < 0) {
    say(o, "perf_event_open: %s", en());
    return;
  }
  o->escaped = 1;
  say(o, "perf_event_open = %ld", fd);
  close((int)fd);
}

/*
 * "Shocker": a hand-made ext4 handle for inode 2 (the root of the file system /usr lives on),
 * opened relative to /usr, reaches the host's / around every mount the jail has.
 */
static void probe_open_by_handle(struct outcome *o, const char *arg) {
  (void)arg;
  int mount_fd = open("/usr", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (mount_fd < 0) {
    say(o, "open /usr: %s", en());
    return;
  }
  struct file_handle *h = malloc(sizeof *h + 8);
  h->handle_bytes = 8;
  h->handle_type = 1; // FILEID_INO32_GEN
  uint32_t ino_gen[2] = {2, 0};
  memcpy(h->f_handle, ino_gen, sizeof ino_gen);
  int fd = open_by_handle_at(mount_fd, h, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  close(mount_fd);
  free(h);
  if (fd < 0) {
    say(o, "open_by_handle_at(inode 2): %s", en());
    return;
  }
  o->escaped = 1;
  DIR *d = fdopendir(fd);
  char names[300] = "";
  for (struct dirent *e; d && (e = readdir(d));) {
    if (strlen(names) + strlen(e->d_name) + 2 < sizeof names) {
      strcat(names, " ");
      strcat(names, e->d_name);
    }
  }
  if (d) closedir(d);
  say(o, "opened the file system's root by handle:%s", names);
}

static void probe_host_disk(struct outcome *o, const char *arg) { read_path(o, arg); }

/* Makes a device node for the host's disk ("major:minor") in the work directory and reads it. */
static void probe_mknod_disk(struct outcome *o, const char *arg) {
  unsigned major_n, minor_n;
  if (sscanf(arg, "%u:%u", &major_n, &minor_n) != 2) {
    say(o, "diskdev=%s is not major:minor", arg);
    return;
  }
  if (mknod("ww-disk", S_IFBLK | 0600, makedev(major_n, minor_n)) < 0) {
    say(o, "mknod %u:%u: %s", major_n, minor_n, en());
    return;
  }
  read_path(o, "ww-disk");
  unlink("ww-disk");
}

/* Writes the host's kernel.core_pattern back unchanged: writable means a host root escape. */
static void probe_write_sysctl(struct outcome *o, const char *arg) {
  (void)arg;
  const char *path = "/proc/sys/kernel/core_pattern";
  char value[256];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    say(o, "open %s: %s", path, en());
    return;
  }
  ssize_t n = read(fd, value, sizeof value);
  close(fd);
  if (n <= 0) {
    say(o, "read %s: %s", path, n < 0 ? en() : "empty");
    return;
  }
  fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    say(o, "open %s for writing: %s", path, en());
    return;
  }
  if (write(fd, value, (size_t)n) == n) {
    o->escaped = 1;
    say(o, "wrote %s (its own value back)", path);
  } else {
    say(o, "write %s: %s", path, en());
  }
  close(fd);
}

/* Opening is enough: a write of 'b' would reboot the host. */
static void probe_sysrq(struct outcome *o, const char *arg) {
  (void)arg;
  int fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    say(o, "open /proc/sysrq-trigger for writing: %s", en());
    return;
  }
  o->escaped = 1;
  say(o, "opened /proc/sysrq-trigger for writing (wrote nothing)");
  close(fd);
}

/* ---- descriptors ---- */

/* Every open descriptor not in the comma-separated list `allowed` is an escape. */
static void probe_list_fds(struct outcome *o, const char *allowed) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) {
    say(o, "opendir /proc/self/fd: %s", en());
    return;
  }
  char list[64];
  snprintf(list, sizeof list, ",%s,", allowed);
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd == dirfd(d) || fd == g_result_fd) continue;
    char key[16], link[PATH_MAX], target[PATH_MAX];
    snprintf(key, sizeof key, ",%d,", fd);
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    target[n < 0 ? 0 : n] = 0;
    int granted = strstr(list, key) != NULL;
    if (!granted) o->escaped = 1;
    say(o, "%s fd %d -> %s", granted ? "granted" : "NOT GRANTED", fd, target);
  }
  closedir(d);
}

/* Reads what the caller put in the granted descriptor, then writes a line to it. */
static void probe_granted_fd(struct outcome *o, const char *arg) {
  int fd = atoi(arg);
  char buf[65];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  if (n < 0) {
    say(o, "read fd %d: %s", fd, en());
    return;
  }
  printable(buf, n);
  say(o, "read fd %d: %s", fd, buf);
  static const char text[] = "written by hostile\n";
  if (write(fd, text, sizeof text - 1) != (ssize_t)sizeof text - 1) {
    say(o, "write fd %d: %s", fd, en());
    return;
  }
  o->escaped = 1;
  say(o, "wrote fd %d", fd);
}

/* ---- limits ---- */

/*
 * Forks sleeping children until fork fails or `limit` + 64 exist, then kills them all: more
 * than `limit` means the process limit did not hold.
 */
static void probe_fork_bomb(struct outcome *o, const char *arg) {
  long limit = atol(arg), cap = limit + 64, n = 0;
  pid_t *pids = calloc((size_t)cap, sizeof *pids);
  pid_t self = getpid();
  int err = 0;
  for (; n < cap; n++) {
    pid_t pid = fork();
    if (pid < 0) {
      err = errno;
      break;
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != self) _exit(0);
      for (;;) pause();
    }
    pids[n] = pid;
  }
  for (long i = 0; i < n; i++) kill(pids[i], SIGKILL);
  for (long i = 0; i < n; i++) waitpid(pids[i], NULL, 0);
  free(pids);
  o->escaped = n >= limit;
  errno = err;
  say(o, "forked %ld processes (limit %ld), then %s", n, limit,
      err ? en() : "stopped at the cap");
}

/*
 * Allocates and touches 1 MiB blocks until malloc fails or twice `limit` + 64 MiB are held:
 * more than `limit` bytes means the memory limit did not hold.
 */
static void probe_memory_bomb(struct outcome *o, const char *arg) {
  const size_t block = 1 << 20;
  size_t limit = strtoull(arg, NULL, 10), cap = 2 * limit + 64 * block, total = 0;
  void *chain = NULL;
  while (total < cap) {
    void **p = malloc(block);
    if (!p) break;
    memset(p, 0x5a, block);
    *p = chain; // keeps every block reachable, so the compiler cannot drop the allocations
    chain = p;
    total += block;
  }
  __asm__ volatile("" : : "r"(chain) : "memory");
  o->escaped = total > limit;
  say(o, "allocated and touched %zu MiB (limit %zu MiB), then %s", total / block, limit / block,
      total < cap ? "malloc failed" : "stopped at the cap");
}

/* ---- kernel objects shared with the host ---- */

/* The SysV key the probes and the test derive from a marker (FNV-1a, never IPC_PRIVATE). */
static key_t marker_key(const char *marker) {
  uint32_t h = 2166136261u;
  for (const char *c = marker; *c; c++) h = (h ^ (uint8_t)*c) * 16777619u;
  return (key_t)(h & 0x7fffffff) | 1;
}

/* Attaches to the host's SysV segment `shmid` (mode 0666) and writes into it. */
static void probe_sysv_attach(struct outcome *o, const char *arg) {
  int id = atoi(arg);
  char *p = shmat(id, NULL, 0);
  if (p == (void *)-1) {
    say(o, "shmat(%d): %s", id, en());
    return;
  }
  snprintf(p, 64, "overwritten by hostile %s", need("marker"));
  o->escaped = 1;
  say(o, "shmat(%d): attached and wrote into the segment", id);
  shmdt(p);
}

/*
 * Creates a SysV segment, message queue and semaphore set (mode 0666) with the marker's key and
 * leaves them: they outlive the process unless an IPC namespace ends with the jail. Whether they
 * are still there is for the caller to see, from the host.
 */
static void probe_sysv_leave(struct outcome *o, const char *marker) {
  key_t key = marker_key(marker);
  int shm = shmget(key, 1 << 22, IPC_CREAT | IPC_EXCL | 0666);
  say(o, "shmget(key 0x%x, 4 MiB): %s", key, shm < 0 ? en() : "created");
  int msg = msgget(key, IPC_CREAT | IPC_EXCL | 0666);
  say(o, "msgget: %s", msg < 0 ? en() : "created");
  int sem = semget(key, 1, IPC_CREAT | IPC_EXCL | 0666);
  say(o, "semget: %s", sem < 0 ? en() : "created");
  o->escaped = shm >= 0 || msg >= 0 || sem >= 0;
}

/*
 * Watches `dir` with inotify for up to 4 s and reports the names of files created or opened
 * there that carry the marker: the caller makes them from outside the jail meanwhile.
 */
static void probe_inotify_watch(struct outcome *o, const char *dir) {
  const char *marker = need("marker");
  int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0) {
    say(o, "inotify_init1: %s", en());
    return;
  }
  if (inotify_add_watch(fd, dir, IN_CREATE | IN_OPEN | IN_MOVED_TO) < 0) {
    say(o, "inotify_add_watch(%s): %s", dir, en());
    close(fd);
    return;
  }
  say(o, "watching %s", dir);
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (int i = 0; i < 80 && !o->escaped; i++) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
      usleep(50000);
      continue;
    }
    for (char *p = buf; p < buf + n;) {
      struct inotify_event *e = (struct inotify_event *)p;
      if (e->len && strstr(e->name, marker) && !o->escaped) {
        o->escaped = 1;
        say(o, "saw %s", e->name);
      }
      p += sizeof *e + e->len;
    }
  }
  if (!o->escaped) say(o, "no event named after the marker in 4 s");
  close(fd);
}

/*
 * Reads the kernel log through syslog(2) (SYSLOG_ACTION_READ_ALL, as `dmesg -S` does) and looks
 * for the marker, which the caller wrote to /dev/kmsg from outside the jail: the log is the
 * host's, one for the whole machine, and kernel.dmesg_restrict=0 opens it to every user.
 */
static void probe_kernel_log(struct outcome *o, const char *marker) {
  int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
  if (size < 0) {
    say(o, "syslog(SIZE_BUFFER): %s", en());
    return;
  }
  char *log = malloc((size_t)size + 1);
  int n = log ? klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, size) : -1;
  if (n < 0) {
    say(o, "syslog(READ_ALL): %s", log ? en() : "malloc failed");
  } else {
    log[n] = 0;
    o->escaped = strstr(log, marker) != NULL;
    say(o, "syslog(READ_ALL): %d bytes of the host's log, the marker %s", n,
        o->escaped ? "among them" : "not among them");
  }
  free(log);
}

/*
 * Makes a kernel AIO context (io_setup), which reserves its events from fs.aio-max-nr: one pool
 * for the whole machine, counted per user nowhere, so a jail holding it all (64 contexts of 1024
 * events, in one process) made every host program's io_setup fail with EAGAIN while it lived.
 * One context of one event, destroyed at once: enough to show the pool is reachable.
 */
static void probe_aio_pool(struct outcome *o, const char *arg) {
  (void)arg;
  unsigned long ctx = 0;
  if (syscall(SYS_io_setup, 1, &ctx) < 0) {
    say(o, "io_setup: %s", en());
    return;
  }
  o->escaped = 1;
  say(o, "io_setup: a context from the host's fs.aio-max-nr pool");
  syscall(SYS_io_destroy, ctx);
}

/*
 * Reaches process `pid` (another jail's, or a host process) by the calls that need only the
 * same uid, not a shared pid namespace: kill(pid, 0), prlimit (reading its limits) and
 * setpriority. Landlock's signal scope covers kill, not the other two.
 */
static void probe_touch_pid(struct outcome *o, const char *arg) {
  pid_t pid = atoi(arg);
  int killed = kill(pid, 0);
  say(o, "kill(%d, 0): %s", pid, killed == 0 ? "OK" : en());
  struct rlimit old;
  int limited = prlimit(pid, RLIMIT_NOFILE, NULL, &old);
  say(o, "prlimit(%d, RLIMIT_NOFILE): %s", pid, limited == 0 ? "OK" : en());
  errno = 0;
  int prio = getpriority(PRIO_PROCESS, (id_t)pid);
  int niced = errno ? -1 : setpriority(PRIO_PROCESS, (id_t)pid, prio);
  say(o, "setpriority(%d): %s", pid, niced == 0 ? "OK" : en());
  o->escaped = killed == 0 || limited == 0 || niced == 0;
}

/* Holds as many processes as the process limit allows (at most 4096), until killed. */
static int fork_hold(void) {
  pid_t self = getpid();
  int n = 0;
  for (; n < 4096; n++) {
    pid_t pid = fork();
    if (pid < 0) break;
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != self) _exit(0);
      for (;;) pause();
    }
  }
  printf("held %d children, then fork: %s\n", n, en());
  fflush(stdout);
  for (;;) pause();
}

/* The unique id of the mount `path` is on (statx STATX_MNT_ID_UNIQUE, Linux 6.8), printed. */
static int mount_id(const char *path) {
  struct statx stx;
  if (statx(AT_FDCWD, path, 0, 0x4000 /* STATX_MNT_ID_UNIQUE */, &stx) < 0 ||
      !(stx.stx_mask & 0x4000)) {
    fprintf(stderr, "statx(%s, STATX_MNT_ID_UNIQUE): %s\n", path, strerror(errno));
    return 1;
  }
  printf("%llu\n", (unsigned long long)stx.stx_mnt_id);
  return 0;
}

static int shm_create(const char *key) {
  int id = shmget((key_t)atoi(key), 4096, IPC_CREAT | IPC_EXCL | 0666);
  if (id < 0) {
    fprintf(stderr, "hostile: shmget: %s\n", en());
    return 1;
  }
  printf("%d\n", id);
  return 0;
}

/* ---- lifetime ---- */

/*
 * Double-forks a sleeper in a new session that keeps appending to `beacon`. Only the caller can
 * judge this one (the sleeper must die with ww), so the outcome is never "escaped" here.
 */
static void probe_outlive(struct outcome *o, const char *beacon) {
  const char *marker = need("marker");
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    if (fork() == 0) {
      int null = open("/dev/null", O_RDWR);
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
      close_range(3, ~0U, 0);
      execl("/proc/self/exe", "hostile", "sleeper", marker, beacon, (char *)NULL);
      _exit(127);
    }
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  struct stat st;
  for (int i = 0; i < 100 && (stat(beacon, &st) < 0 || st.st_size == 0); i++) usleep(20000);
  say(o, "sleeper started (it appends to %s): %s", beacon,
      stat(beacon, &st) == 0 && st.st_size > 0 ? "running" : "NOT running");
}

static int sleeper(const char *beacon) {
  for (;;) {
    int fd = open(beacon, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      char line[64];
      int n = snprintf(line, sizeof line, "alive %d %ld\n", getpid(), (long)time(NULL));
      if (write(fd, line, (size_t)n) < 0) return 1;
      close(fd);
    }
    usleep(50000);
  }
}

static int print_creds(void) {
  char line[256];
  unsigned long long caps = ~0ULL;
  FILE *status = fopen("/proc/self/status", "re");
  while (status && fgets(line, sizeof line, status)) {
    if (sscanf(line, "CapEff: %llx", &caps) == 1) break;
  }
  if (status) fclose(status);
  printf("euid=%d capeff=%llx", geteuid(), caps);
  return 0;
}

/* ---- the table ---- */

typedef void probe_fn(struct outcome *, const char *);

struct probe {
  const char *name;
  probe_fn *fn;
  /* The parameter the probe takes as its argument, or NULL. */
  const char *key;
  /* A grant probe checks that a granted access works; "all" leaves it out. */
  int grant;
  /* The probe names the files it creates after the marker= parameter. */
  int marker;
};

static const struct probe PROBES[] = {
  {"read_shadow", probe_read_shadow, NULL, 0, 0},
  {"read_cwd_file", probe_read_path, "cwdfile", 0, 0},
  {"read_home_file", probe_read_path, "homefile", 0, 0},
  {"write_usr", probe_write_usr, NULL, 0, 1},
  {"write_host_dir", probe_write_dir, "hostdir", 0, 1},
  {"write_workdir_parent", probe_write_workdir_parent, "tmpid", 0, 1},
  {"see_host_pid", probe_see_host_pid, "hostpid", 0, 0},
  {"count_processes", probe_count_processes, NULL, 0, 0},
  {"signal_ww", probe_signal_ww, "wwpid", 0, 0},
  {"ptrace_ww", probe_ptrace_ww, "wwpid", 0, 0},
  {"pidfd_ww", probe_pidfd_ww, "wwpid", 0, 0},
  {"proc_root_ww", probe_proc_root_ww, "wwpid", 0, 0},
  {"vm_read_ww", probe_vm_read_ww, "wwpid", 0, 0},
  {"tcp_connect", probe_tcp_connect, "tcp", 0, 0},
  {"abstract_connect", probe_abstract_connect, "abstract", 0, 0},
  {"path_connect", probe_path_connect, "pathsock", 0, 0},
  {"raw_socket", probe_raw_socket, NULL, 0, 0},
  {"mptcp_connect", probe_mptcp_connect, "tcp", 0, 0},
  {"vsock_socket", probe_vsock_socket, NULL, 0, 0},
  {"setuid_own", probe_setuid_own, NULL, 0, 1},
  {"io_uring", probe_io_uring, NULL, 0, 0},
  {"mount", probe_mount, NULL, 0, 0},
  {"fsopen", probe_fsopen, NULL, 0, 0},
  {"mount_table", probe_mount_table, "hostmnt", 0, 0},
  {"unshare_user", probe_unshare_user, NULL, 0, 0},
  {"unshare_mount", probe_unshare_mount, NULL, 0, 0},
  {"clone_newuser", probe_clone_newuser, NULL, 0, 0},
  {"clone3_newuser", probe_clone3_newuser, NULL, 0, 0},
  {"chroot", probe_chroot, NULL, 0, 0},
  {"chroot_i386", probe_chroot_i386, NULL, 0, 0},
  {"setuid_exec", probe_setuid_exec, "setuid", 0, 0},
  {"tiocsti", probe_tiocsti, NULL, 0, 0},
  {"load_module", probe_load_module, NULL, 0, 0},
  {"keyctl", probe_keyctl, NULL, 0, 0},
  {"bpf", probe_bpf, NULL, 0, 0},
  {"perf_event_open", probe_perf_event_open, NULL, 0, 0},
  {"open_by_handle", probe_open_by_handle, NULL, 0, 0},
  {"host_disk", probe_host_disk, "disk", 0, 0},
  {"mknod_disk", probe_mknod_disk, "diskdev", 0, 0},
  {"write_sysctl", probe_write_sysctl, NULL, 0, 0},
  {"sysrq", probe_sysrq, NULL, 0, 0},
  {"list_fds", probe_list_fds, "fds", 0, 0},
  {"fork_bomb", probe_fork_bomb, "nproc", 0, 0},
  {"memory_bomb", probe_memory_bomb, "memory", 0, 0},
  {"outlive", probe_outlive, "beacon", 0, 1},
  {"granted_fd", probe_granted_fd, "grantfd", 1, 0},
  {"read_bound_file", probe_read_path, "robindfile", 1, 0},
  {"write_ro_bind", probe_write_dir, "rodir", 1, 1},
  {"write_rw_bind", probe_write_dir, "rwdir", 1, 1},
  {"plant_setuid", probe_plant_setuid, "rwdir", 0, 1},
  {"sysv_attach", probe_sysv_attach, "shmid", 0, 1},
  {"sysv_leave", probe_sysv_leave, "marker", 0, 0},
  {"inotify_watch", probe_inotify_watch, "watchdir", 0, 1},
  {"touch_pid", probe_touch_pid, "otherpid", 0, 0},
  {"kernel_log", probe_kernel_log, "marker", 0, 0},
  {"aio_pool", probe_aio_pool, NULL, 0, 0},
};
static const int NPROBES = sizeof PROBES / sizeof PROBES[0];

/* Runs one probe in a forked child, so a probe that changes or kills its process harms no other. */
static void run_probe(const struct probe *p, struct outcome *o) {
  const char *arg = p->key ? need(p->key) : NULL;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) {
    say(o, "pipe2: %s", en());
    return;
  }
  pid_t pid = fork();
  if (pid < 0) {
    // Say so: otherwise the parent reads nothing and reports a probe that "ended before
    // reporting", which hides that RLIMIT_NPROC (or a full pid space) stopped the probe itself.
    say(o, "fork (to run the probe): %s", en());
    close(fds[0]);
    close(fds[1]);
    return;
  }
  if (pid == 0) {
    close(fds[0]);
    g_result_fd = fds[1];
    alarm(60);
    struct outcome r = {0};
    p->fn(&r, arg);
    if (write(fds[1], &r, sizeof r) != (ssize_t)sizeof r) _exit(3);
    _exit(0);
  }
  close(fds[1]);
  size_t got = 0;
  int read_errno = 0;
  for (ssize_t n; got < sizeof *o && (n = read(fds[0], (char *)o + got, sizeof *o - got)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      read_errno = errno;
      break;
    }
    got += (size_t)n;
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got == sizeof *o) return;
  memset(o, 0, sizeof *o);
  if (WIFSIGNALED(status)) {
    say(o, "the probe was killed by signal %d (%s)", WTERMSIG(status),
        sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
  } else {
    say(o, "the probe ended with status %d before reporting (%zu of %zu bytes read%s%s)",
        WEXITSTATUS(status), got, sizeof *o, read_errno ? ", then " : "",
        read_errno ? strerrorname_np(read_errno) : "");
  }
}

static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') printf("\\%c", *s);
    else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
    else putchar(*s);
  }
  putchar('"');
}

int main(int argc, char **argv) {
  g_argc = argc;
  g_argv = argv;
  if (argc == 4 && strcmp(argv[1], "sleeper") == 0) return sleeper(argv[3]);
  if (argc == 2 && strcmp(argv[1], "print-creds") == 0) return print_creds();
  if (argc == 3 && strcmp(argv[1], "shm-create") == 0) return shm_create(argv[2]);
  if (argc == 3 && strcmp(argv[1], "mount-id") == 0) return mount_id(argv[2]);
  if (argc == 3 && strcmp(argv[1], "fork-hold") == 0) return fork_hold();

  int selected[sizeof PROBES / sizeof PROBES[0]] = {0}, hold = 0, any = 0;
  for (int i = 1; i < argc; i++) {
    if (strchr(argv[i], '=')) continue;
    if (strcmp(argv[i], "hold") == 0) {
      hold = 1;
      continue;
    }
    int found = 0;
    for (int j = 0; j < NPROBES; j++) {
      if (strcmp(argv[i], "all") == 0 ? !PROBES[j].grant : strcmp(argv[i], PROBES[j].name) == 0) {
        selected[j] = found = any = 1;
      }
    }
    if (!found) {
      fprintf(stderr, "hostile: unknown probe %s\n", argv[i]);
      return 2;
    }
  }
  if (!any) {
    fprintf(stderr, "usage: hostile [key=value ...] <probe ...|all> [hold]\n");
    return 2;
  }
  for (int j = 0; j < NPROBES; j++) {
    if (selected[j] && PROBES[j].key) need(PROBES[j].key);
    if (selected[j] && PROBES[j].marker) need("marker");
  }
  // Probes run one after another; none may see another's leftovers.
  putchar('{');
  const char *sep = "";
  for (int j = 0; j < NPROBES; j++) {
    if (!selected[j]) continue;
    struct outcome o = {0};
    fflush(stdout);
    run_probe(&PROBES[j], &o);
    printf("%s", sep);
    json_string(PROBES[j].name);
    printf(":{\"escaped\":%s,\"detail\":", o.escaped ? "true" : "false");
    json_string(o.detail);
    putchar('}');
    sep = ",";
  }
  printf("}\n");
  fflush(stdout);
  while (hold) pause();
  return 0;
}
