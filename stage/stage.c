/*
 * stage/stage.c — ww's stage: the one small static program between ww and a jailed program, for
 * every backend (freestanding C, no libc; built by stage/build.ts for x86_64 and aarch64 and
 * carried in stage/stage_bin.ts; ww runs it from a sealed memfd).
 *
 *   stage launch <plan-fd> <status-fd>
 *     ww spawned it with the program's descriptors in place (0-3, the grants) and its cwd set; the
 *     plan (stage/plan.ts encodes it) arrives on <plan-fd>. The stage
 *     1. blocks every signal and arms PR_SET_PDEATHSIG(SIGEND), "ww died", then reads the plan
 *        and checks its parent is still ww (ww may have died before the signal was armed);
 *     2. becomes a child subreaper and forks. It stays behind as the SUPERVISOR: it closes every
 *        descriptor but its status descriptor and the jail's id lease (the plan's lease fd, when
 *        ww leased one), so it never holds the program's stdio or the host socket, and the id
 *        stays leased until the jail has ended; then it waits for signals (see supervise);
 *     3. the child leads a new session, resets signal dispositions and mask, and takes the steps
 *        of the plan in the order the kernel needs (see child), then executes the program (native
 *        jail) or bwrap. A failing step is reported to the supervisor on a close-on-exec pipe,
 *        which passes it on to ww as one line, {"step":..,"errno":..}; {"exec":true} comes first
 *        when all steps passed.
 *     Under bwrap with --tmp-size (F_TMPFS) the supervisor also forks a bounder, which bounds the
 *     files of the jail's in-memory file systems once the stage in the jail asks (see bounder).
 *     When the program (native) or bwrap ends, or ww dies or asks (SIGEND, sys.h), the supervisor
 *     SIGKILLs every remaining descendant, removes the work directory the plan names, and exits
 *     as the program did.
 *
 *   stage exec[-tmpfs][-tty][-listen-pid][-report][-pinned][-landlock[-offline]] [<tmpfs-fd>]
 *       [<stderr-fd>] [<n> <dest> <fd>...] <fd|path> <-|=PWD> <argv0> [args...]
 *     inside the bwrap jail: removes PWD from the environment (bwrap always sets it), or sets it
 *     to the user's own value, and executes the program as <argv0>: from descriptor <fd>, marked
 *     close-on-exec (execveat AT_EMPTY_PATH), or from <path>. A failure prints one line and exits
 *     126, or 127 when the file or its #! interpreter is missing. The mode word may add, in this
 *     order, "-tmpfs" (bwrap, --tmp-size): first have the supervisor's bounder bound the files of
 *     the jail's in-memory file systems, asked over <tmpfs-fd> (see bound_jail_files), "-tty":
 *     make fd 0, the program's own pty, its session's controlling terminal (see take_terminal), and "-listen-pid": for systemd socket activation (--socket-activation,
 *     under bwrap and --jail=none) also set LISTEN_PID to this process's pid, which the program
 *     keeps, as the program sees it (in bwrap's pid namespace), and "-report" (bwrap): the stage
 *     is the jail's pid 1 and forks the program (see init); fd 2 holds bwrap's own words for ww, so
 *     a NUL byte there tells ww the jail is set up and the program's stderr, at <stderr-fd>, moves
 *     to fd 2 (see program_stderr), and "-pinned" (bwrap): each bind at <dest> must be the file
 *     <fd> holds, which ww opened (see check_pinned), and "-landlock" (bwrap): Landlock keeps the
 *     program's descriptors to what each was opened for, and a directory's ".." inside the jail, and with
 *     "-offline" (no --net) an IP socket from the host to the peer it has (see
 *     confine_descriptors). The plan's F_TTY and F_LISTEN_PID do the same under `launch`, and its
 *     Landlock ruleset gets the same rules for the descriptors (add_descriptor_rules). Under
 *     -report, a failure once bwrap's set-up is done is reported to ww instead (unstarted_fd).
 *
 *   stage remove <dir>
 *     removes the directory tree <dir> as the supervisor removes a work directory (remove_tree),
 *     for --jail=none, whose work directory ww removes itself: a tree Deno's removal could not
 *     take (directories the program made read-only, or nested deeper than ww's descriptors
 *     allow). Exits 0; ww looks whether <dir> is gone.
 */
#include "sys.h"

/* gcc may emit calls to these for struct copies even when freestanding. */
void *memset(void *d, int c, unsigned long n) {
  u8 *p = d;
  while (n--) *p++ = (u8)c;
  return d;
}
void *memcpy(void *d, const void *s, unsigned long n) {
  u8 *p = d;
  const u8 *q = s;
  while (n--) *p++ = *q++;
  return d;
}

static unsigned long slen(const char *s) {
  unsigned long n = 0;
  while (s[n]) n++;
  return n;
}

static int starts(const char *s, const char *prefix) {
  while (*prefix)
    if (*s++ != *prefix++) return 0;
  return 1;
}

struct dirent64 {
  u64 ino;
  long off;
  unsigned short reclen;
  u8 type;
  char name[];
};

static long parse_int(const char *s) {
  long v = 0;
  if (!*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    v = v * 10 + (*s - '0');
  }
  return v;
}

static __attribute__((noreturn)) void die(int code) {
  for (;;) SYS1(exit_group, code);
}

/* ---- a small line buffer, written with one write(2) ---- */

struct line {
  char buf[1024];
  unsigned long n;
};

static void put(struct line *l, const char *s) {
  while (*s && l->n < sizeof l->buf - 2) l->buf[l->n++] = *s++;
}

static void put_num(struct line *l, long v) {
  char t[24];
  int i = 0;
  unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;
  do t[i++] = (char)('0' + u % 10); while ((u /= 10) && i < 23);
  if (v < 0) t[i++] = '-';
  while (i && l->n < sizeof l->buf - 2) l->buf[l->n++] = t[--i];
}

/* A JSON string's contents: quotes, backslashes and control characters escaped. */
static void put_json(struct line *l, const char *s) {
  static const char hex[] = "0123456789abcdef";
  for (; *s && l->n < sizeof l->buf - 8; s++) {
    u8 c = (u8)*s;
    if (c == '"' || c == '\\') {
      l->buf[l->n++] = '\\';
      l->buf[l->n++] = (char)c;
    } else if (c < 0x20) {
      put(l, "\\u00");
      l->buf[l->n++] = hex[c >> 4];
      l->buf[l->n++] = hex[c & 15];
    } else {
      l->buf[l->n++] = (char)c;
    }
  }
}

static void write_line(int fd, struct line *l) {
  l->buf[l->n++] = '\n';
  const char *p = l->buf;
  unsigned long left = l->n;
  while (left) {
    long w = SYS3(write, fd, p, left);
    if (w == -EINTR) continue;
    if (w <= 0) return;
    p += w;
    left -= (unsigned long)w;
  }
}

/* `mark`, then {"step":"<step>","errno":<n>[,"detail":"<detail>"]}, on `fd`: one line. */
static void report_marked(int fd, const char *mark, const char *step, long err,
                          const char *detail) {
  struct line l = {.n = 0};
  put(&l, mark);
  put(&l, "{\"step\":\"");
  put(&l, step);
  put(&l, "\",\"errno\":");
  put_num(&l, err < 0 ? -err : err);
  if (detail) {
    put(&l, ",\"detail\":\"");
    put_json(&l, detail);
    put(&l, "\"");
  }
  put(&l, "}");
  write_line(fd, &l);
}

/* {"step":"<step>","errno":<n>[,"detail":"<detail>"]} on `fd`. */
static void report(int fd, const char *step, long err, const char *detail) {
  report_marked(fd, "", step, err, detail);
}

/*
 * The #! interpreter of the file at `path` (or, with path NULL, descriptor `fd`), copied into
 * `out`; 0 when it is not a script. For the message when execve says ENOENT of a file that is there.
 */
static int interpreter(const char *path, int fd, char *out, unsigned long size) {
  int own = -1;
  if (path) {
    own = (int)SYS4(openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (own < 0) return 0;
    fd = own;
  }
  char head[256];
  long n = SYS4(pread64, fd, head, sizeof head - 1, 0);
  if (own >= 0) SYS1(close, own);
  if (n < 2 || head[0] != '#' || head[1] != '!') return 0;
  head[n] = 0;
  char *p = head + 2;
  while (*p == ' ' || *p == '\t') p++;
  unsigned long i = 0;
  while (p[i] && p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && i < size - 1) {
    out[i] = p[i];
    i++;
  }
  out[i] = 0;
  return i > 0;
}

/* ---- the plan (stage/plan.ts writes it: little-endian u64 words and padded strings) ---- */

#define PLAN_MAX (16UL << 20)

enum {
  F_BWRAP = 1 << 0,
  F_NO_NEW_PRIVS = 1 << 1,
  F_IDENTITY = 1 << 2,
  F_LANDLOCK = 1 << 3,
  F_PROGRAM_FD = 1 << 4,
  F_KEEP_OPEN = 1 << 5,
  F_CLEAR_GROUPS = 1 << 6,
  F_LISTEN_PID = 1 << 7,
  F_TTY = 1 << 8,
  F_LEASE = 1 << 9,
  F_NEWNET = 1 << 10,
  F_TMPFS = 1 << 11,
};

struct limit {
  u64 resource, soft, hard;
};

struct rule {
  u64 access;
  const char *path;
};

struct plan {
  u64 flags;
  long parent_pid;
  int close_from;
  int lease_fd;
  /* F_TMPFS (bwrap): the bounder's socket, the files to allow, and the jail's tmpfs paths. */
  int tmpfs_fd;
  u64 tmpfs_files;
  char **tmpfs_paths;
  u64 nlimits;
  const struct limit *limits;
  u64 uid, gid, drop_bounding_up_to;
  u64 attr_size;
  u64 attr[3];
  u64 nrules;
  const struct rule *rules;
  u64 seccomp_len;
  const void *seccomp;
  int program_fd;
  const char *path;
  char **argv;
  char **envp;
  const char *workdir;
  const char *cwd;
};

struct reader {
  u8 *p, *end;
  int bad;
};

static u64 word(struct reader *r) {
  if (r->end - r->p < 8) {
    r->bad = 1;
    return 0;
  }
  u64 v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | r->p[i];
  r->p += 8;
  return v;
}

static const u8 *bytes(struct reader *r, u64 n) {
  u64 padded = (n + 8) & ~7UL; /* room for a NUL, then to the next word */
  if (r->bad || (u64)(r->end - r->p) < padded) {
    r->bad = 1;
    return 0;
  }
  const u8 *b = r->p;
  r->p += padded;
  return b;
}

static const char *str(struct reader *r) {
  u64 n = word(r);
  const char *s = (const char *)bytes(r, n);
  if (s && s[n] != 0) r->bad = 1;
  return r->bad ? "" : s;
}

/* Pointer arrays go after the plan's bytes, in the same mapping. */
static char **strings(struct reader *r, u8 **heap, u8 *heap_end) {
  u64 n = word(r);
  if (r->bad || n > (u64)(heap_end - *heap) / 8 - 1) {
    r->bad = 1;
    return 0;
  }
  char **v = (char **)*heap;
  *heap += (n + 1) * 8;
  for (u64 i = 0; i < n; i++) v[i] = (char *)str(r);
  v[n] = 0;
  return v;
}

static int parse_plan(u8 *buf, u64 len, struct plan *pl) {
  struct reader r = {buf, buf + len, 0};
  u8 *heap = buf + ((len + 7) & ~7UL), *heap_end = buf + PLAN_MAX;
  if (len < 8 || !starts((const char *)buf, "WWSTAGE1")) return 0;
  r.p += 8;
  pl->flags = word(&r);
  pl->parent_pid = (long)word(&r);
  pl->close_from = (int)word(&r);
  pl->lease_fd = (pl->flags & F_LEASE) ? (int)word(&r) : -1;
  pl->tmpfs_fd = -1;
  if (pl->flags & F_TMPFS) {
    pl->tmpfs_fd = (int)word(&r);
    pl->tmpfs_files = word(&r);
    pl->tmpfs_paths = strings(&r, &heap, heap_end);
  }
  pl->nlimits = word(&r);
  if (pl->nlimits > 16) return 0;
  /* Little-endian words, read in place (both targets are little-endian). */
  if (r.bad || (u64)(r.end - r.p) < pl->nlimits * sizeof(struct limit)) return 0;
  pl->limits = (const struct limit *)r.p;
  r.p += pl->nlimits * sizeof(struct limit);
  if (pl->flags & F_IDENTITY) {
    pl->uid = word(&r);
    pl->gid = word(&r);
    pl->drop_bounding_up_to = word(&r);
  }
  if (pl->flags & F_LANDLOCK) {
    pl->attr_size = word(&r);
    for (int i = 0; i < 3; i++) pl->attr[i] = word(&r);
    pl->nrules = word(&r);
    if (r.bad || pl->nrules > (u64)(heap_end - heap) / sizeof(struct rule)) return 0;
    struct rule *rules = (struct rule *)heap;
    heap += pl->nrules * sizeof(struct rule);
    for (u64 i = 0; i < pl->nrules; i++) {
      rules[i].access = word(&r);
      rules[i].path = str(&r);
    }
    pl->rules = rules;
  }
  pl->seccomp_len = word(&r);
  pl->seccomp = pl->seccomp_len ? bytes(&r, pl->seccomp_len) : 0;
  pl->program_fd = (pl->flags & F_PROGRAM_FD) ? (int)word(&r) : -1;
  pl->path = str(&r);
  pl->argv = strings(&r, &heap, heap_end);
  pl->envp = strings(&r, &heap, heap_end);
  pl->workdir = str(&r);
  pl->cwd = str(&r);
  return !r.bad && r.p == r.end;
}

/* ---- socket activation ---- */

/*
 * `envp` with LISTEN_PID=<this process's pid> in place of any LISTEN_PID, in a fresh mapping
 * (the caller's array has no room to grow); 0 when it cannot be mapped. sd_listen_fds(3) takes
 * its sockets only when LISTEN_PID is the pid of the process that reads it, and only the process
 * that executes the program knows that pid: this one, right before execve.
 */
/* Whether the key of `entry` (a "KEY=VALUE" string) sorts after `key`, byte by byte. */
static int key_after(const char *entry, const char *key) {
  for (;; entry++, key++) {
    unsigned char a = *entry == '=' ? 0 : (unsigned char)*entry, b = (unsigned char)*key;
    if (a != b) return a > b;
    if (!a) return 0;
  }
}

static char **with_listen_pid(char **envp) {
  static struct line var;
  var.n = 0;
  put(&var, "LISTEN_PID=");
  put_num(&var, SYS0(getpid));
  var.buf[var.n] = 0;
  unsigned long n = 0;
  while (envp[n]) n++;
  char **env = (char **)SYS6(mmap, 0, (n + 2) * 8, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if ((long)env < 0 && (long)env > -4096) return 0;
  unsigned long k = 0;
  for (unsigned long i = 0; i < n; i++) {
    if (!starts(envp[i], "LISTEN_PID=")) env[k++] = envp[i];
  }
  env[k++] = var.buf;
  env[k] = 0;
  return env;
}

/* ---- the child: confine, then execute ---- */

static int report_fd = -1; /* the child's end of its pipe to the supervisor */
static const char *step = "";

static void fail(long err, const char *detail) {
  report(report_fd, step, err, detail);
  die(127);
}

/* Whether `path` is /proc/self/<name>: an entry of the process's own /proc, one level down. */
static int own_proc_entry(const char *path) {
  const char *prefix = "/proc/self/";
  for (; *prefix; prefix++, path++) {
    if (*path != *prefix) return 0;
  }
  if (!*path) return 0;
  for (; *path; path++) {
    if (*path == '/') return 0;
  }
  return 1;
}

#define CHECK(expr, detail)             \
  do {                                  \
    long r_ = (expr);                   \
    if (r_ < 0) fail(r_, (detail));     \
  } while (0)

struct ksigaction {
  u64 handler, flags, restorer, mask;
};

/*
 * A limit whose resource word has LIMIT_LOWER_ONLY is never raised: each value is at most the
 * hard limit the stage has (RLIMIT_CORE: ww's caller's hard limit of 0, common, must not make
 * every run fail for want of CAP_SYS_RESOURCE).
 */
#define LIMIT_LOWER_ONLY (1ULL << 63)

static void set_limits(const struct plan *pl, int raise_only) {
  for (u64 i = 0; i < pl->nlimits; i++) {
    const struct limit *l = &pl->limits[i];
    u64 resource = l->resource & ~LIMIT_LOWER_ONLY;
    int lower_only = (l->resource & LIMIT_LOWER_ONLY) != 0;
    u64 old[2];
    CHECK(SYS4(prlimit64, 0, resource, 0, old), 0);
    u64 want[2] = {l->soft, l->hard};
    if (lower_only) {
      if (raise_only) continue;
      if (want[0] > old[1]) want[0] = old[1];
      if (want[1] > old[1]) want[1] = old[1];
    } else if (raise_only) {
      if (l->hard <= old[1]) continue;
      want[0] = old[0];
    }
    CHECK(SYS4(prlimit64, 0, resource, want, 0), 0);
  }
}

/*
 * Before the uid change, RLIMIT_NPROC one below the plan's soft limit (set_limits sets it after):
 * setresuid then marks the process (PF_NPROC_EXCEEDED) when the jail's user already runs as many
 * as the plan allows, and its execve, checked against the plan's own limit, fails with EAGAIN, as
 * that user's fork would. This process was forked by root, which no limit counts: set only after
 * the change, --nproc never held for a jail whose id other jails share (the programs a guest
 * starts, --with-exec), and each start ran one more.
 */
static void mark_nproc_exceeded(const struct plan *pl) {
  for (u64 i = 0; i < pl->nlimits; i++) {
    const struct limit *l = &pl->limits[i];
    if ((l->resource & ~LIMIT_LOWER_ONLY) != RLIMIT_NPROC || l->soft == 0) continue;
    u64 want[2] = {l->soft - 1, l->hard};
    CHECK(SYS4(prlimit64, 0, RLIMIT_NPROC, want, 0), 0);
  }
}

/*
 * Without an identity change the supervisor forks the program as the jail's own user (ww's): with
 * the plan's soft RLIMIT_NPROC for that one fork (`saved` keeps the stage's own, put back after
 * it), the fork fails with EAGAIN when that user already runs as many as the plan allows, as the
 * program's own fork would. Under the stage's own limit (ww's), each program a guest started
 * (--with-exec) ran past --nproc. 1 when it set the limit.
 */
static int limit_nproc_for_fork(const struct plan *pl, u64 saved[2]) {
  for (u64 i = 0; i < pl->nlimits; i++) {
    const struct limit *l = &pl->limits[i];
    if ((l->resource & ~LIMIT_LOWER_ONLY) != RLIMIT_NPROC) continue;
    if (SYS4(prlimit64, 0, RLIMIT_NPROC, 0, saved) < 0) return 0;
    u64 want[2] = {l->soft < saved[1] ? l->soft : saved[1], saved[1]};
    return SYS4(prlimit64, 0, RLIMIT_NPROC, want, 0) == 0;
  }
  return 0;
}

/*
 * --tty: fd 0, the pty ww gave the program, becomes the controlling terminal of the session the
 * caller has just made (setsid), so the program's shell has job control; the caller's own
 * terminal never reaches the program.
 */
static long take_terminal(void) { return SYS3(ioctl, 0, TIOCSCTTY, 0); }

/*
 * Landlock's rights on a file (linux/landlock.h; the kernel refuses the others on a file rule), by
 * number: the build's headers may predate TRUNCATE (ABI 3) and IOCTL_DEV (ABI 5).
 */
#define LL_FILE_READ LANDLOCK_ACCESS_FS_READ_FILE
#define LL_FILE_WRITE (LANDLOCK_ACCESS_FS_WRITE_FILE | (1UL << 14))
#define LL_IOCTL_DEV (1UL << 15)
/* struct statx: stx_mode's offset, the same on every arch. */
#define STX_MODE_OFFSET 28
#define STATX_TYPE 1
#define S_IFMT 0170000
#define S_IFDIR 0040000
#define S_IFREG 0100000
#define S_IFCHR 0020000
#define S_IFBLK 0060000
#define S_IFIFO 0010000

/*
 * What the descriptor `fd` may be opened again for, through its /proc/self/fd link (or, for a
 * directory, what may be opened beneath it), as Landlock rights; 0 for none, or for no rule at all
 * (a socket or pipe has no path for Landlock to judge; a descriptor closed on exec is the stage's
 * own). As it was opened, never more: read if readable, written if writable but not append-only
 * (Landlock knows no append: a write right would open an --open ...:a log again without O_APPEND;
 * the descriptor itself can drop O_APPEND with fcntl, which no jail stops), except fds 0-2, which
 * a program reopens as /dev/stdout even when the caller appends to a file; a directory's files
 * read, never written; a device's ioctls as before.
 */
static u64 descriptor_rights(int fd) {
  long fdflags = SYS3(fcntl, fd, F_GETFD, 0);
  if (fdflags < 0 || (fdflags & FD_CLOEXEC)) return 0;
  u8 stx[256] __attribute__((aligned(8)));
  if (SYS5(statx, fd, "", AT_EMPTY_PATH, STATX_TYPE, stx) < 0) return 0;
  unsigned mode = *(unsigned short *)(stx + STX_MODE_OFFSET) & S_IFMT;
  if (mode == S_IFDIR) return LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
  if (mode != S_IFREG && mode != S_IFCHR && mode != S_IFBLK && mode != S_IFIFO) return 0;
  long fl = SYS3(fcntl, fd, F_GETFL, 0);
  /* An O_PATH descriptor names a file without opening it: there is nothing to open it again as
   * (its access mode reads as O_RDONLY's 0). An O_PATH directory is a directory grant all the
   * same (above): openat through it reads its files. */
  if (fl < 0 || (fl & O_PATH)) return 0;
  u64 rights = 0;
  if ((fl & O_ACCMODE) != O_WRONLY) rights |= LL_FILE_READ;
  /* The caller's stdio is as the caller's shell would have it: `echo x > /dev/stdout` works. */
  if ((fl & O_ACCMODE) != O_RDONLY && (!(fl & O_APPEND) || fd <= 2)) rights |= LL_FILE_WRITE;
  if (mode == S_IFCHR || mode == S_IFBLK) rights |= LL_IOCTL_DEV;
  return rights;
}

/* linux/socket.h, linux/landlock.h (ABI 4; the build's headers may predate it). */
#define SOL_SOCKET 1
#define SO_DOMAIN 39
#define LL_NET_TCP 3UL /* LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP */
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET 1UL /* ABI 6 */

/* Whether `fd`, a descriptor that will reach the program (not close-on-exec), is an IP socket. */
static int is_ip_socket(int fd) {
  long fdflags = SYS3(fcntl, fd, F_GETFD, 0);
  if (fdflags < 0 || (fdflags & FD_CLOEXEC)) return 0;
  int domain = 0;
  unsigned len = sizeof domain;
  if (SYS5(getsockopt, fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) return 0;
  return domain == 2 /* AF_INET */ || domain == 10 /* AF_INET6 */;
}

/*
 * Calls `each` with every descriptor of this process but the walk's own, in /proc/self/fd's
 * order, until it returns non-zero. Returns that value, 0, or the failing call's -errno.
 */
static long each_descriptor(long (*each)(int fd, long arg), long arg) {
  char buf[4096] __attribute__((aligned(8)));
  int dir = (int)SYS4(openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (dir < 0) return dir;
  long r = 0;
  while (r == 0) {
    long n = SYS3(getdents64, dir, buf, sizeof buf);
    if (n <= 0) {
      if (n < 0) r = n;
      break;
    }
    for (long off = 0; off < n && r == 0;) {
      struct dirent64 *d = (struct dirent64 *)(buf + off);
      off += d->reclen;
      long fd = parse_int(d->name);
      if (fd >= 0 && fd != dir) r = each((int)fd, arg);
    }
  }
  SYS1(close, dir);
  return r;
}

static long ip_socket_found(int fd, long unused) {
  (void)unused;
  return is_ip_socket(fd);
}

/* A ruleset and the rights it handles. */
struct ruleset {
  int fd;
  u64 handled;
};

/* A rule for `fd` (descriptor_rights) in the ruleset at `rs`, of the rights it handles. */
static long add_descriptor_rule(int fd, long rs) {
  const struct ruleset *r = (const struct ruleset *)rs;
  u64 rights = descriptor_rights(fd) & r->handled;
  if (!rights) return 0;
  struct landlock_path_beneath_attr beneath = {.allowed_access = rights, .parent_fd = fd};
  long a = SYS4(landlock_add_rule, r->fd, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0);
  return a < 0 && a != -EBADFD ? a : 0;
}

/*
 * Adds to `ruleset`, which handles `handled`, a rule for each descriptor of this process that will
 * reach the program (descriptor_rights). Without one, a descriptor from the host would be a way
 * out of the jail's file system: a directory's ".." walks up the host's tree, and /proc/self/fd/N
 * opens a read-only file again for writing wherever the jail's user may write it. A file the
 * kernel keeps no rule on (a memfd: EBADFD) is skipped; Landlock leaves those alone anyway.
 * Returns 0, or the failing call's -errno.
 */
static long add_descriptor_rules(int ruleset, u64 handled) {
  struct ruleset r = {.fd = ruleset, .handled = handled};
  return each_descriptor(add_descriptor_rule, (long)&r);
}

/*
 * Brings up "lo" in this process's (new) network namespace, as bwrap does in its own: ioctl
 * SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP, on a datagram socket. Returns 0 or -errno.
 */
static long loopback_up(void) {
  long sock = SYS3(socket, 2 /* AF_INET */, 2 /* SOCK_DGRAM */ | O_CLOEXEC, 0);
  if (sock < 0) return sock;
  /* struct ifreq: the name in 16 bytes, then a union whose first member is the flags (short). */
  u8 ifr[40] __attribute__((aligned(8)));
  memset(ifr, 0, sizeof ifr);
  memcpy(ifr, "lo", 3);
  long r = SYS3(ioctl, sock, 0x8913 /* SIOCGIFFLAGS */, ifr);
  if (r >= 0) {
    *(unsigned short *)(ifr + 16) |= 1 /* IFF_UP */;
    r = SYS3(ioctl, sock, 0x8914 /* SIOCSIFFLAGS */, ifr);
  }
  SYS1(close, sock);
  return r < 0 ? r : 0;
}

static __attribute__((noreturn)) void child(const struct plan *pl, long supervisor) {
  u64 none = 0;
  step = "signals";
  CHECK(SYS0(setsid), 0);
  if (pl->flags & F_TTY) {
    step = "controlling-terminal";
    CHECK(take_terminal(), 0);
  }
  /* Before the limits and seccomp, which could refuse the mapping. */
  char **envp = pl->envp;
  if (pl->flags & F_LISTEN_PID) {
    step = "listen-pid";
    envp = with_listen_pid(envp);
    if (!envp) fail(-12 /* ENOMEM */, 0);
  }
  step = "signals";
  struct ksigaction dfl = {0, 0, 0, 0};
  for (int sig = 1; sig <= SIGRTMAX; sig++) {
    if (sig != SIGKILL && sig != SIGSTOP) SYS4(rt_sigaction, sig, &dfl, 0, 8);
  }
  CHECK(SYS4(rt_sigprocmask, SIG_SETMASK, &none, 0, 8), 0);

  /* Every descriptor of the stage's own (plan, status) closes on exec; the program's stay. */
  step = "close-on-exec";
  CHECK(SYS3(close_range, pl->close_from, ~0U, CLOSE_RANGE_CLOEXEC), 0);
  if (pl->flags & F_KEEP_OPEN) CHECK(SYS3(fcntl, pl->program_fd, F_SETFD, 0), 0);

  /* A network of its own (needs CAP_SYS_ADMIN, and CAP_NET_ADMIN for its loopback): now. */
  if (pl->flags & F_NEWNET) {
    step = "network";
    CHECK(SYS1(unshare, CLONE_NEWNET), 0);
    CHECK(loopback_up(), 0);
  }

  /* Raising a hard limit needs CAP_SYS_RESOURCE: now, while privileges are held. */
  step = "rlimits";
  set_limits(pl, 1);

  /* The ruleset's paths are opened while ww's identity can still reach them. */
  int ruleset = -1;
  if (pl->flags & F_LANDLOCK) {
    step = "landlock";
    ruleset = (int)SYS3(landlock_create_ruleset, pl->attr, pl->attr_size, 0);
    CHECK(ruleset, 0);
    int proc_self = -1; /* /proc/self, opened once for the entries of it that are rules */
    for (u64 i = 0; i < pl->nrules; i++) {
      const char *path = pl->rules[i].path;
      int own = own_proc_entry(path);
      if (own && proc_self < 0) {
        proc_self = (int)SYS4(openat, AT_FDCWD, "/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        CHECK(proc_self, "/proc/self");
      }
      int fd = own ? (int)SYS4(openat, proc_self, path + 11, O_PATH | O_CLOEXEC, 0)
                   : (int)SYS4(openat, AT_FDCWD, path, O_PATH | O_CLOEXEC, 0);
      /* An entry of the program's own /proc that this kernel's build leaves out: nothing to
       * grant. ww lists them all rather than look for each on every run. */
      if (fd == -ENOENT && own) continue;
      CHECK(fd, path);
      struct landlock_path_beneath_attr beneath = {
          .allowed_access = pl->rules[i].access, .parent_fd = fd};
      CHECK(SYS4(landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0),
            pl->rules[i].path);
      SYS1(close, fd);
    }
    if (proc_self >= 0) SYS1(close, proc_self);
    CHECK(add_descriptor_rules(ruleset, pl->attr[0]), 0);
  }

  /*
   * The bounding set first (needs CAP_SETPCAP), the ambient set, the groups, gid before uid
   * (CAP_SETGID goes with the uid change), then capset clears what a uid change from 0 leaves.
   */
  if (pl->flags & F_IDENTITY) {
    step = "identity";
    if (pl->drop_bounding_up_to != ~0UL) {
      for (u64 cap = 0; cap <= pl->drop_bounding_up_to; cap++) {
        CHECK(SYS5(prctl, PR_CAPBSET_DROP, cap, 0, 0, 0), 0);
      }
    }
    CHECK(SYS5(prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), 0);
    if (pl->flags & F_CLEAR_GROUPS) CHECK(SYS2(setgroups, 0, 0), 0);
    CHECK(SYS3(setresgid, pl->gid, pl->gid, pl->gid), 0);
    mark_nproc_exceeded(pl);
    CHECK(SYS3(setresuid, pl->uid, pl->uid, pl->uid), 0);
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    CHECK(SYS2(capset, &header, data), 0);
  }

  /* After the uid change, which clears it; the supervisor may have died before it was armed. */
  step = "death-signal";
  CHECK(SYS5(prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), 0);
  if (SYS0(getppid) != supervisor) die(127);

  /* --chdir: as the jail's user, so a directory it may not enter fails here, naming it. */
  if (pl->cwd[0]) {
    step = "chdir";
    CHECK(SYS1(chdir, pl->cwd), pl->cwd);
  }

  if (pl->flags & F_NO_NEW_PRIVS) {
    step = "no_new_privs";
    CHECK(SYS5(prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
  }
  if (ruleset >= 0) {
    step = "landlock";
    CHECK(SYS2(landlock_restrict_self, ruleset, 0), 0);
    SYS1(close, ruleset);
  }
  /* seccomp after the steps above, so its denylist cannot get in their way. */
  if (pl->seccomp_len) {
    step = "seccomp";
    struct sock_fprog prog = {(unsigned short)(pl->seccomp_len / 8),
                              (struct sock_filter *)pl->seccomp};
    CHECK(SYS5(prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0), 0);
  }
  /* Last: a low RLIMIT_NOFILE or RLIMIT_DATA must not stop the steps above. */
  step = "rlimits";
  set_limits(pl, 0);

  {
    struct line l = {.n = 0};
    put(&l, "{\"exec\":true}");
    write_line(report_fd, &l);
  }
  long err;
  if (pl->program_fd >= 0) {
    step = "execveat";
    err = SYS5(execveat, pl->program_fd, "", pl->argv, envp, AT_EMPTY_PATH);
  } else {
    step = "execve";
    err = SYS3(execve, pl->path, pl->argv, envp);
  }
  char interp[256];
  int script = err == -ENOENT &&
               interpreter(pl->program_fd >= 0 ? 0 : pl->path, pl->program_fd, interp,
                           sizeof interp);
  if (script) step = pl->program_fd >= 0 ? "execveat-interpreter" : "execve-interpreter";
  fail(err, script ? interp : 0);
  die(127);
}

/* ---- the supervisor ---- */

/* Closes every descriptor except k0, k1 and k2 (any of them -1: none). */
static void close_all_except(int k0, int k1, int k2) {
  int keep[3] = {k0, k1, k2};
  /* Ascending, the absent (-1) first: three compares. */
  for (int i = 0; i < 2; i++) {
    for (int j = 0; j < 2 - i; j++) {
      if (keep[j] > keep[j + 1]) {
        int t = keep[j];
        keep[j] = keep[j + 1];
        keep[j + 1] = t;
      }
    }
  }
  int from = 0;
  for (int i = 0; i < 3; i++) {
    if (keep[i] < from) continue; /* absent, or the same as the one before */
    if (keep[i] > from) SYS3(close_range, from, keep[i] - 1, 0);
    from = keep[i] + 1;
  }
  SYS3(close_range, from, ~0U, 0);
}

static int is_dot(const char *n) { return n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2])); }

/* Reads /proc/<pid>/task/<tid>/children and SIGKILLs each child listed. */
static int kill_children_of_task(const char *dir, const char *tid) {
  char path[96];
  struct line l = {.n = 0};
  put(&l, dir);
  put(&l, "/");
  put(&l, tid);
  put(&l, "/children");
  l.buf[l.n] = 0;
  memcpy(path, l.buf, l.n + 1 < sizeof path ? l.n + 1 : sizeof path);
  path[sizeof path - 1] = 0;
  int fd = (int)SYS4(openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return 0;
  int killed = 0;
  char buf[512];
  long pid = 0;
  for (;;) {
    long n = SYS3(read, fd, buf, sizeof buf);
    if (n <= 0) break;
    for (long i = 0; i < n; i++) {
      if (buf[i] >= '0' && buf[i] <= '9') {
        pid = pid * 10 + (buf[i] - '0');
      } else if (pid) {
        SYS2(kill, pid, SIGKILL);
        killed++;
        pid = 0;
      }
    }
  }
  if (pid) {
    SYS2(kill, pid, SIGKILL);
    killed++;
  }
  SYS1(close, fd);
  return killed;
}

/* SIGKILLs every child of process `pid` (of each of its threads). */
static int kill_children(long pid) {
  struct line l = {.n = 0};
  put(&l, "/proc/");
  put_num(&l, pid);
  put(&l, "/task");
  l.buf[l.n] = 0;
  int dir = (int)SYS4(openat, AT_FDCWD, l.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (dir < 0) return 0;
  int killed = 0;
  char buf[1024] __attribute__((aligned(8)));
  for (;;) {
    long n = SYS3(getdents64, dir, buf, sizeof buf);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      struct dirent64 *d = (struct dirent64 *)(buf + off);
      off += d->reclen;
      if (!is_dot(d->name)) killed += kill_children_of_task(l.buf, d->name);
    }
  }
  SYS1(close, dir);
  return killed;
}

static long main_pid;
static int main_status = -1;

/*
 * SIGKILLs every descendant and reaps until none is left. The supervisor is a subreaper, so a
 * descendant whose parent dies is handed to it (a double-forked daemon included): each round
 * kills its children as they are now, and waits for one of them.
 */
static void kill_all(void) {
  for (;;) {
    kill_children(SYS0(getpid));
    int st;
    long p = SYS4(wait4, -1, &st, WALL, 0);
    if (p == -EINTR) continue;
    if (p < 0) return; /* ECHILD: nothing left */
    if (p == main_pid) main_status = st;
  }
}

/*
 * How many directories the walk below holds open at once, the tree's top among them. A tree deeper
 * than that has its directory at this depth moved up to the top, and walked again from there.
 */
#define HELD_DEPTH 128

/* "/proc/self/fd/<fd>", in `buf` (at least 32 bytes). */
static void proc_fd_path(char *buf, int fd) {
  struct line l = {.n = 0};
  put(&l, "/proc/self/fd/");
  put_num(&l, fd);
  memcpy(buf, l.buf, l.n);
  buf[l.n] = 0;
}

/*
 * Opens the directory `name` in `dir` to be walked: never through a link (O_NOFOLLOW), and made
 * 0700 through its descriptor so that its entries can be removed. A directory
 * its owner closed to the walk (chmod 0; the supervisor is not root when ww is not) is opened
 * O_PATH, made 0700 through that descriptor's /proc link, which names that very directory, and
 * opened again by the same link: never chmod by name, which a link swapped in would redirect.
 */
static int enter_dir(int dir, const char *name) {
  int fd = (int)SYS4(openat, dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd >= 0) {
    /* 0500 or 0555 (a Go module cache) opens, but nothing in it could be removed. */
    SYS2(fchmod, fd, 0700);
    return fd;
  }
  if (fd != -EACCES) return fd;
  int at = (int)SYS4(openat, dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (at < 0) return at;
  char link[32];
  proc_fd_path(link, at);
  SYS4(fchmodat, AT_FDCWD, link, 0700, 0);
  fd = (int)SYS4(openat, AT_FDCWD, link, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  SYS1(close, at);
  return fd;
}

/*
 * Removes the directory tree at `path` in one walk, linear in its size, with no recursion (a jail
 * may nest directories deeper than any stack). Every directory on the way down stays held by a
 * descriptor, and every call names an entry of a held directory, never a path: the walk never
 * climbs by "..". (It did: whoever could write in the tree, which a jail may open to all with
 * chmod, moved a directory out from under the walk, whose ".." then led it, as root, out of the
 * tree into the directories above, where it removed files.) A directory moved away meanwhile
 * takes only its own entries with it. The walk goes down into each directory it cannot remove,
 * remembering where that entry was in its parent (its directory offset, one word a level), and,
 * once that directory is empty, goes on in the parent, held, at that offset, where the directory
 * now goes. At HELD_DEPTH levels the directory that would be entered is moved up to the top
 * (renameat, both sides held) and taken from there in turn. (Starting over from the top for each
 * level made a chain of D directories cost D squared: a jail's 4000 nested directories held ww
 * for minutes.) `top`, when not -1, holds the tree's top, opened by whoever could reach it: each
 * walk starts there rather than at `path`, which the walker may not be able to reach (a work
 * directory under root's own 0700 directory, walked as the jail's user).
 */
static void remove_tree(const char *path, int top) {
  char buf[4096] __attribute__((aligned(8)));
  int held[HELD_DEPTH];
  long offsets[HELD_DEPTH];
  long moved = 0;
  /*
   * Again while a walk took something away: what it moved up to the top may come before where it
   * read the top (readdir's order is the file system's), and a writer may have added entries. No
   * bound on the walks: each takes something, and a chain at HELD_DEPTH levels a walk took longer
   * to build than to remove (a bound of 256 walks left a jail's chain of 200000 behind).
   */
  for (long taken = 1; taken > 0;) {
    taken = 0;
    /* Made 0700 as the directories below are: a jail's `chmod a-w .` held its entries. */
    int fd;
    if (top >= 0) {
      SYS2(fchmod, top, 0700);
      fd = (int)SYS4(openat, top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    } else {
      fd = enter_dir(AT_FDCWD, path);
    }
    if (fd < 0) {
      /* Not to be opened (EMFILE, short of descriptors): still removed when it is empty. */
      SYS3(unlinkat, AT_FDCWD, path, AT_REMOVEDIR);
      break;
    }
    long depth = 0;
    long emptied = -1; /* the offset of the directory just emptied: removed, never entered again */
    for (;;) {
      long pos = SYS3(lseek, fd, 0, SEEK_CUR);
      long n = SYS3(getdents64, fd, buf, sizeof buf);
      int down = 0;
      for (long off = 0; off < n && !down;) {
        struct dirent64 *d = (struct dirent64 *)(buf + off);
        off += d->reclen;
        long at = pos;
        pos = d->off;
        if (is_dot(d->name)) continue;
        /* The entry's type (when the file system gives one) spares the call that would fail. */
        if (d->type != DT_DIR && SYS3(unlinkat, fd, d->name, 0) == 0) {
          taken++;
          continue;
        }
        if (d->type != DT_DIR && d->type != DT_UNKNOWN) continue;
        if (SYS3(unlinkat, fd, d->name, AT_REMOVEDIR) == 0) {
          taken++;
          continue;
        }
        if (at == emptied) continue;
        if (depth + 1 == HELD_DEPTH) {
          /* Too deep to hold: up to the top, under a name of its own, for a later pass there. */
          struct line l = {.n = 0};
          put(&l, ".ww-deep-");
          put_num(&l, moved++);
          l.buf[l.n] = 0;
          /* A directory moves to another parent only when it may be written (its ".."). */
          int sub = enter_dir(fd, d->name);
          if (sub >= 0) SYS1(close, sub);
          if (SYS5(renameat2, fd, d->name, held[0], l.buf, RENAME_NOREPLACE) == 0) taken++;
          continue;
        }
        int sub = enter_dir(fd, d->name);
        if (sub < 0) continue;
        held[depth] = fd;
        offsets[depth++] = at;
        fd = sub;
        emptied = -1;
        down = 1;
      }
      if (down || n > 0) continue;
      /* This directory is done: on in its parent, held, at its own entry. */
      SYS1(close, fd);
      if (depth == 0) break;
      fd = held[--depth];
      emptied = offsets[depth];
      SYS3(lseek, fd, emptied, SEEK_SET);
    }
    /* Not only ENOTEMPTY goes on: the jail's user may not write where the directory was made. */
    long r = SYS3(unlinkat, AT_FDCWD, path, AT_REMOVEDIR);
    if (r == 0 || r == -ENOENT) break;
  }
}

static char workdir[4096];
/* The capabilities (all in the first word) that override a file's owner and mode. */
#define FILE_OVERRIDES                                                                     \
  ((1U << CAP_CHOWN) | (1U << CAP_DAC_OVERRIDE) | (1U << CAP_DAC_READ_SEARCH) |             \
   (1U << CAP_FOWNER) | (1U << CAP_FSETID))
/* The jail's host ids when the stage gave it an identity of its own (F_IDENTITY), else -1. */
static long jail_uid = -1, jail_gid = -1;
static int jail_clears_groups;

/*
 * Removes the work directory as the jail's own user when the jail has one (the supervisor is
 * root then): the jail could move into it a directory from a --bind holding files it may not
 * remove (a group's shared directory with root's files in it), which a removal as root took with
 * it. With the file system ids and the groups of the jail, the walk removes only what the jail
 * could have; what it cannot stays, with the directory, and ww says so. The directory itself,
 * emptied, is removed as the supervisor: the jail's user may not write where it was made.
 */
static void remove_workdir(void) {
  if (jail_uid < 0) {
    remove_tree(workdir, -1);
    return;
  }
  /* Opened as the supervisor: the jail's user may not reach where it was made (root's 0700). */
  int top =
      (int)SYS4(openat, AT_FDCWD, workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (top < 0) return;
  /*
   * Without the capabilities that override file permissions, which a change of the file system
   * uid from 0 drops only without SECBIT_NO_SETUID_FIXUP, and not at all for a supervisor that is
   * not root but holds them (ambient capabilities). When they cannot be dropped, or the jail's
   * ids cannot be taken, nothing is removed: the directory stays, named.
   */
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct held[2], walk[2];
  if (SYS2(capget, &header, held) != 0) {
    SYS1(close, top);
    return;
  }
  memcpy(walk, held, sizeof walk);
  walk[0].effective &= ~FILE_OVERRIDES;
  if (SYS2(capset, &header, walk) != 0) {
    SYS1(close, top);
    return;
  }
  /* setfsuid and setfsgid report no failure: the ids they leave, asked back (an invalid id
     changes nothing and returns the current one), must be the jail's, or nothing is walked. */
  int as_jail = !jail_clears_groups || SYS2(setgroups, 0, 0) == 0;
  if (as_jail) {
    SYS1(setfsgid, jail_gid);
    SYS1(setfsuid, jail_uid);
    as_jail = SYS1(setfsgid, -1) == jail_gid && SYS1(setfsuid, -1) == jail_uid;
  }
  if (as_jail) remove_tree(workdir, top);
  SYS1(close, top);
  SYS1(setfsuid, SYS0(getuid));
  SYS1(setfsgid, SYS0(getgid));
  SYS2(capset, &header, held);
  SYS3(unlinkat, AT_FDCWD, workdir, AT_REMOVEDIR);
}

/* Ends as the program ended: its exit code, or the same signal (with no core dump). */
static __attribute__((noreturn)) void finish(void) {
  kill_all();
  if (workdir[0]) remove_workdir();
  int st = main_status;
  if (st < 0) die(128 + SIGKILL);
  int sig = st & 0x7f;
  if (sig == 0) die((st >> 8) & 0xff);
  u64 zero[2] = {0, 0};
  SYS4(prlimit64, 0, RLIMIT_CORE, zero, 0);
  u64 mask = 1UL << (sig - 1);
  SYS4(rt_sigprocmask, 1 /* SIG_UNBLOCK */, &mask, 0, 8);
  SYS2(kill, SYS0(getpid), sig);
  die(128 + sig);
}

struct ksiginfo {
  int signo, errno_, code;
  int pad[29];
};

static __attribute__((noreturn)) void supervise(int forward) {
  u64 all = ~0UL;
  for (;;) {
    struct ksiginfo si;
    long sig = SYS4(rt_sigtimedwait, &all, &si, 0, 8);
    if (sig == SIGCHLD) {
      int st;
      long p;
      while ((p = SYS4(wait4, -1, &st, WNOHANG | WALL, 0)) > 0) {
        if (p == main_pid) {
          main_status = st;
          finish();
        }
      }
    } else if (sig == SIGEND) {
      finish(); /* ww died, or asked for the end of everything */
    } else if (sig == SIGCONT && forward) {
      /* ww's wake after a signal that asks a stopped program to end, or a job's continue (fg):
       * the program's whole group, which its setsid made main_pid's, else the program. It comes
       * through here, not from ww straight to the group, so that it follows the signal it wakes
       * the program for: this loop takes pending signals lowest first, SIGCONT after SIGHUP,
       * SIGINT, SIGQUIT and SIGTERM. */
      if (SYS2(kill, -main_pid, SIGCONT) < 0) SYS2(kill, main_pid, SIGCONT);
    } else if (sig > 0 && forward) {
      SYS2(kill, main_pid, sig);
    }
  }
}

/* ---- the bound on the files of the bwrap jail's in-memory file systems ---- */

/* The kernel's struct iovec, user_msghdr and cmsghdr (the same on x86_64 and aarch64). */
struct io_vec {
  void *base;
  unsigned long len;
};
struct msg_hdr {
  void *name;
  int namelen;
  struct io_vec *iov;
  unsigned long iovlen;
  void *control;
  unsigned long controllen;
  unsigned int flags;
};
/* A cmsghdr (len, level, type: 16 bytes) and one descriptor, padded to a word. */
#define CMSG_ONE_FD_LEN 20
#define CMSG_ONE_FD_SPACE 24

/* Sends descriptor `fd` over unix socket `sock` with one byte; 0, or -errno. */
static long send_fd(long sock, long fd) {
  u64 control[CMSG_ONE_FD_SPACE / 8] = {CMSG_ONE_FD_LEN, 0, 0};
  ((int *)control)[2] = SOL_SOCKET;
  ((int *)control)[3] = SCM_RIGHTS;
  ((int *)control)[4] = (int)fd;
  char byte = 0;
  struct io_vec iov = {&byte, 1};
  struct msg_hdr msg = {0, 0, &iov, 1, control, CMSG_ONE_FD_SPACE, 0};
  long r = SYS3(sendmsg, sock, &msg, 0);
  return r < 0 ? r : 0;
}

/* The one descriptor that comes over unix socket `sock` (close-on-exec); -errno, or -EPIPE when
 * the socket ends first or no descriptor came. */
static long receive_fd(long sock) {
  u64 control[CMSG_ONE_FD_SPACE / 8] = {0, 0, 0};
  char byte;
  struct io_vec iov = {&byte, 1};
  struct msg_hdr msg = {0, 0, &iov, 1, control, CMSG_ONE_FD_SPACE, 0};
  long r;
  do r = SYS3(recvmsg, sock, &msg, MSG_CMSG_CLOEXEC);
  while (r == -EINTR);
  if (r < 0) return r;
  int *c = (int *)control;
  if (r == 0 || msg.controllen < CMSG_ONE_FD_LEN || control[0] != CMSG_ONE_FD_LEN ||
      c[2] != SOL_SOCKET || c[3] != SCM_RIGHTS) {
    return -EPIPE;
  }
  return c[4];
}

/* Sets nr_inodes to the plan's tmpfs_files on each of its tmpfs_paths in mount namespace
 * `mnt_ns`; 0, or -errno. Root enters it from here. Any other user (whose bwrap made the jail's
 * namespaces) may only from the user namespace that owns it, where this process then counts as
 * one of that user's for RLIMIT_NPROC (the jail's own processes are that user's too) until it
 * has been reaped; root's does not count against the jail's leased id. */
static long bound_files(long mnt_ns, const struct plan *pl) {
  long r = SYS2(setns, mnt_ns, CLONE_NEWNS);
  if (r == -EPERM) {
    long user = SYS3(ioctl, mnt_ns, NS_GET_USERNS, 0);
    if (user < 0) return user;
    r = SYS2(setns, user, CLONE_NEWUSER);
    SYS1(close, user);
    if (r < 0) return r;
    r = SYS2(setns, mnt_ns, CLONE_NEWNS);
  }
  if (r < 0) return r;
  struct line files = {.n = 0};
  put_num(&files, (long)pl->tmpfs_files);
  files.buf[files.n] = 0;
  for (char **path = pl->tmpfs_paths; *path; path++) {
    long fs = SYS3(fspick, AT_FDCWD, *path,
                   FSPICK_CLOEXEC | FSPICK_SYMLINK_NOFOLLOW | FSPICK_NO_AUTOMOUNT);
    if (fs < 0) return fs;
    r = SYS5(fsconfig, fs, FSCONFIG_SET_STRING, "nr_inodes", files.buf, 0);
    if (r >= 0) r = SYS5(fsconfig, fs, FSCONFIG_CMD_RECONFIGURE, 0, 0, 0);
    SYS1(close, fs);
    if (r < 0) return r;
  }
  return 0;
}

/*
 * Under bwrap with --tmp-size (F_TMPFS): bwrap mounts each tmpfs the jail can write with size=
 * alone, which bounds its data but neither its files nor their extended attributes: tmpfs charges
 * both to its inode space (Linux 6.6 and later: 1 KiB a file, an xattr its size), which only
 * nr_inodes bounds, and the kernel's default is half of RAM's pages. A jail with --tmp-size 1M held
 * hundreds of MB of the host's memory in empty files or in xattrs, and could hold GBs. bwrap 0.8
 * has no option for nr_inodes, and nothing in the jail may change its mounts (seccomp, and a user
 * namespace below the one that owns them). So the stage in the jail, once bwrap's set-up is done
 * and before anything of the program's runs, sends its mount namespace here and waits
 * (bound_jail_files); this process, forked by the supervisor with its identity (root, or the user
 * whose bwrap made the namespaces), enters that namespace (see bound_files), sets nr_inodes on each
 * tmpfs, and answers 0 or -errno, 8 bytes. It ends then, with the supervisor, or when the socket
 * ends unasked (bwrap failed).
 */
static __attribute__((noreturn)) void bounder(const struct plan *pl, long supervisor) {
  SYS5(prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (SYS0(getppid) != supervisor) die(0);
  long sock = pl->tmpfs_fd;
  close_all_except((int)sock, -1, -1);
  long ns = receive_fd(sock);
  if (ns == -EPIPE) die(0);
  long answer = ns < 0 ? ns : bound_files(ns, pl);
  SYS3(write, sock, &answer, sizeof answer);
  die(0);
}

/* A failure before the fork, once the work directory exists: report it and remove it. */
static __attribute__((noreturn)) void launch_failed(int status_fd, const char *what, long err) {
  report(status_fd, what, err, 0);
  if (workdir[0]) remove_tree(workdir, -1);
  die(125);
}

static __attribute__((noreturn)) void launch(int plan_fd, int status_fd) {
  u64 all = ~0UL;
  SYS4(rt_sigprocmask, SIG_SETMASK, &all, 0, 8);
  long r = SYS5(prctl, PR_SET_PDEATHSIG, SIGEND, 0, 0, 0);
  if (r < 0) {
    report(status_fd, "death-signal", r, 0);
    die(125);
  }
  u8 *buf = (u8 *)SYS6(mmap, 0, PLAN_MAX, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if ((long)buf < 0 && (long)buf > -4096) {
    report(status_fd, "plan", (long)buf, 0);
    die(125);
  }
  u64 len = 0;
  for (;;) {
    long n = SYS3(read, plan_fd, buf + len, PLAN_MAX / 2 - len);
    if (n == -EINTR) continue;
    if (n < 0) {
      report(status_fd, "plan", n, 0);
      die(125);
    }
    if (n == 0) break;
    len += (u64)n;
    if (len == PLAN_MAX / 2) {
      report(status_fd, "plan", 7 /* E2BIG */, "the plan is too large");
      die(125);
    }
  }
  SYS1(close, plan_fd);
  struct plan pl;
  memset(&pl, 0, sizeof pl);
  if (!parse_plan(buf, len, &pl)) {
    report(status_fd, "plan", 22 /* EINVAL */, "the stage plan is malformed");
    die(125);
  }
  /* ww may have died before the death signal was armed: then nothing may start. */
  if (pl.parent_pid != SYS0(getppid)) die(125);
  unsigned long dlen = slen(pl.workdir);
  if (dlen >= sizeof workdir) {
    report(status_fd, "plan", 36 /* ENAMETOOLONG */, pl.workdir);
    die(125);
  }

  /*
   * The work directory is made here, not by ww: from now on ww's death reaches the supervisor,
   * which removes it; a directory ww made could be orphaned by a SIGKILL before this point.
   */
  if (dlen) {
    r = SYS3(mkdirat, AT_FDCWD, pl.workdir, 0700);
    if (r < 0) {
      report(status_fd, "workdir", r, pl.workdir);
      die(125);
    }
    memcpy(workdir, pl.workdir, dlen + 1);
    if (pl.flags & F_IDENTITY) {
      r = SYS5(fchownat, AT_FDCWD, workdir, pl.uid, pl.gid, AT_SYMLINK_NOFOLLOW);
      if (r < 0) launch_failed(status_fd, "workdir", r);
      jail_uid = pl.uid;
      jail_gid = pl.gid;
      jail_clears_groups = (pl.flags & F_CLEAR_GROUPS) != 0;
    }
    r = SYS1(chdir, workdir);
    if (r < 0) launch_failed(status_fd, "workdir", r);
  }
  r = SYS5(prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  if (r < 0) launch_failed(status_fd, "subreaper", r);
  int pipefd[2];
  r = SYS2(pipe2, pipefd, O_CLOEXEC);
  if (r < 0) launch_failed(status_fd, "pipe", r);
  long supervisor = SYS0(getpid);
  u64 nproc_saved[2];
  int nproc_set = !(pl.flags & F_IDENTITY) && limit_nproc_for_fork(&pl, nproc_saved);
  long pid = SYS5(clone, SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    SYS1(close, pipefd[0]);
    SYS1(close, status_fd);
    report_fd = pipefd[1];
    child(&pl, supervisor);
  }
  if (nproc_set) SYS4(prlimit64, 0, RLIMIT_NPROC, nproc_saved, 0);
  if (pid < 0) launch_failed(status_fd, "fork", pid);
  main_pid = pid;
  /* Without a bounder (a failed fork), the stage in the jail finds the socket's end, and ends the
   * jail before the program runs. */
  if ((pl.flags & F_TMPFS) && SYS5(clone, SIGCHLD, 0, 0, 0, 0) == 0) bounder(&pl, supervisor);
  /*
   * The supervisor holds nothing of the program's: `ww run ... | cat` ends with the program. It
   * keeps the jail's id lease (a lock ww took, ww's copy aside): released when ww and it have
   * both let go, so never while a process of the jail is still alive, even after ww's SIGKILL.
   */
  close_all_except(status_fd, pipefd[0], pl.lease_fd);
  SYS1(chdir, "/");
  SYS2(munmap, buf, PLAN_MAX);
  /* Pass the child's reports on to ww; its pipe closes when it executes or exits. */
  char rep[1024];
  for (;;) {
    long n = SYS3(read, pipefd[0], rep, sizeof rep);
    if (n == -EINTR) continue;
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      long w = SYS3(write, status_fd, rep + off, n - off);
      if (w <= 0) break;
      off += w;
    }
  }
  SYS1(close, pipefd[0]);
  SYS1(close, status_fd);
  supervise(!(pl.flags & F_BWRAP));
}

/* ---- exec mode, inside the bwrap jail ---- */

/* The symbolic names of the errors execve reports, as ww's messages spell them (ffi/errno.ts). */
static const char *errno_name(long e) {
  switch (e) {
    case 2: return "ENOENT";
    case 7: return "E2BIG";
    case 8: return "ENOEXEC";
    case 9: return "EBADF";
    case 12: return "ENOMEM";
    case 13: return "EACCES";
    case 20: return "ENOTDIR";
    case 21: return "EISDIR";
    case 26: return "ETXTBSY";
    case 36: return "ENAMETOOLONG";
    case 38: return "ENOSYS";
    case 40: return "ELOOP";
    default: return 0;
  }
}

/*
 * `-report <stderr-fd>` (bwrap): fd 2 is where bwrap's own words go (a pipe ww reads, so that a
 * jail bwrap could not set up fails with bwrap's reason), and the program's stderr waits at
 * <stderr-fd>. Once every step before execve has passed, a NUL byte on fd 2 (bwrap writes text,
 * never a NUL) tells ww that bwrap is done and what ends now is the program's, and the program's
 * stderr moves to fd 2; an exec that fails after that is the program's failure (126/127), said on
 * its stderr. The descriptor, checked here before anything else happens.
 */
static int program_stderr(const char *stderr_arg) {
  long from = parse_int(stderr_arg);
  if (from < 0 || from == 2 || SYS3(fcntl, from, F_GETFD, 0) < 0) {
    struct line l = {.n = 0};
    put(&l, "ww stage: exec -report: bad descriptor ");
    put(&l, stderr_arg);
    write_line(2, &l);
    die(125);
  }
  return (int)from;
}

/*
 * Under bwrap (`-report`, bwrap's --as-pid-1) the stage is the jail's pid 1, as bwrap's own init
 * would be: the program, forked as `program` (pid 2), runs in a session of its own, and this
 * process keeps nothing of it (`ww run ... | cat` ends with the program) but `to_ww`, a copy of
 * bwrap's pipe to ww, out of the program's reach (made not dumpable before the fork, in
 * exec_mode: /proc/1/fd is not the program's to open). It reaps every process orphaned in the jail until the program ends, then writes how it
 * ended, "\1exit N" or "\1signal N" on a line (bwrap's own exit code is 128+N for both; bwrap
 * writes text, never a \1), and exits as bwrap's init did, with the exit code or 128+N. Its end
 * ends every process of the jail.
 */
static __attribute__((noreturn)) void init(long program, int to_ww) {
  close_all_except(to_ww, -1, -1);
  for (;;) {
    int st;
    long p = SYS4(wait4, -1, &st, WALL, 0);
    if (p == -EINTR) continue;
    if (p < 0) die(125); /* ECHILD: the program was never seen to end */
    if (p != program) continue;
    int sig = st & 0x7f, code = (st >> 8) & 0xff;
    struct line l = {.n = 0};
    put(&l, sig ? "\1signal " : "\1exit ");
    put_num(&l, sig ? sig : code);
    write_line(to_ww, &l);
    die(sig ? 128 + sig : code);
  }
}

/*
 * Under bwrap (-report), once bwrap's set-up is done: a close-on-exec copy of bwrap's stderr, the
 * pipe ww reads, where a step that fails before the program runs is reported as a line marked
 * \2 and the stage's own JSON ({"step":..,"errno":..}), for ww to word and exit with (the
 * program did not run: what --open made for it goes). Closed by the program's execve. -1 before.
 */
static int unstarted_fd = -1;

/* A step of the jail's own that failed before the program ran: one line on fd 2, exit 125. */
static __attribute__((noreturn)) void jail_step_failed(const char *what, long err) {
  if (unstarted_fd >= 0) {
    report_marked(unstarted_fd, "\2", "landlock", err, what);
    die(125);
  }
  struct line l = {.n = 0};
  put(&l, "ww: the jail ");
  put(&l, what);
  put(&l, ": errno ");
  put_num(&l, -err);
  write_line(2, &l);
  die(125);
}

/* struct statx: stx_ino's offset and stx_dev_major's (stx_dev_minor follows), on every arch. */
#define STX_INO_OFFSET 32
#define STX_DEV_MAJOR_OFFSET 136
#define STATX_INO 0x100

/* The device and inode of what `path` names from `dir` (statx `flags`), in `id`; 0, or -errno. */
static long file_id(int dir, const char *path, int flags, u64 id[2]) {
  u8 stx[256] __attribute__((aligned(8)));
  long r = SYS5(statx, dir, path, flags, STATX_INO, stx);
  if (r < 0) return r;
  id[0] = *(u64 *)(stx + STX_INO_OFFSET);
  id[1] = *(u64 *)(stx + STX_DEV_MAJOR_OFFSET); /* major and minor, one word */
  return 0;
}

/*
 * `-pinned <n> (<dest> <fd> <ro|rw|dir>)...` (bwrap): each of the jail's binds ("ro", "rw") at
 * <dest> must be the very file or directory that <fd> holds, which ww opened as its source
 * refusing every symbolic link on the way (jail/bwrap.ts BwrapFds.binds): bwrap mounts the
 * descriptor's path, resolved again, and a symbolic link swapped in for a part of it since would
 * lead elsewhere. bwrap 0.8 also resolves <dest> by its path as it makes and mounts it: a jail
 * that renamed directories in a writable bind while another jail of the same binds was set up
 * (`--bind P --ro-bind P/a/secrets`) had the read-only mount land in a decoy, which it then left
 * at P/a, while the real P/a/secrets, renamed away, stayed a writable part of P. So each bind's
 * <dest> is walked from "/" one name at a time, each looked up from the directory the last one
 * opened and no symbolic link followed, and every place on the way that a triple names must be what
 * its <fd> holds (the same device and inode): a bind, also at a mount's root (where a statx tells)
 * and, for "ro", on a read-only mount; a "dir" (a directory between a bind and the bind it is in,
 * jail/bind_mounts.ts bindWaypoints), that very directory. One walk, so no rename between two
 * checks can make each pass alone; and ww opened each of those, and a bind of the very path it
 * covers, from the one above it (jail/bind_mounts.ts pinnedChain), so that they are one chain on
 * the host too. What this cannot see: a bind's own entry renamed away and a decoy put in its place,
 * the mount landing on the decoy (a mount's root, the held file, read-only) while the real entry is
 * writable elsewhere; in a jail given the same read-only bind the entry is a mount point, which
 * rename(2) refuses (EBUSY), so that takes a jail that could write the source anyway. Otherwise one
 * line naming <dest> and exit 125, before the program exists; each <fd> is closed. Returns how many
 * arguments it took.
 */
#define STX_ATTRIBUTES_OFFSET 8
#define STX_ATTRIBUTES_MASK_OFFSET 56
#define STATX_ATTR_MOUNT_ROOT 0x2000
#define S_IFLNK 0120000
/* struct statfs: f_flags, after seven words, f_fsid and two more words, on both arches. */
#define STATFS_FLAGS_OFFSET 80
#define ST_RDONLY 1
#define PLACE_MAX 4096

enum pin_kind { PIN_RO, PIN_RW, PIN_DIR, PIN_BAD };

static enum pin_kind pin_kind(const char *how) {
  if (how[0] == 'r' && how[1] == 'o' && !how[2]) return PIN_RO;
  if (how[0] == 'r' && how[1] == 'w' && !how[2]) return PIN_RW;
  if (how[0] == 'd' && how[1] == 'i' && how[2] == 'r' && !how[3]) return PIN_DIR;
  return PIN_BAD;
}

static int same_text(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

/* Whether `node` (O_PATH, what the jail shows at a pinned place) is what `held_fd` holds, of
 * `kind`: the same device and inode; for a bind, at a mount's root, read-only for PIN_RO. */
static int node_is_pinned(long node, long held_fd, enum pin_kind kind) {
  u64 held[2] = {0, 0}, shown[2] = {1, 1};
  if (kind == PIN_BAD || held_fd < 0 ||
      file_id((int)held_fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, held) < 0 ||
      file_id((int)node, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, shown) < 0 ||
      held[0] != shown[0] || held[1] != shown[1]) {
    return 0;
  }
  if (kind == PIN_DIR) return 1;
  u8 stx[256] __attribute__((aligned(8)));
  if (SYS5(statx, node, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_TYPE, stx) < 0) return 0;
  u64 attributes = *(u64 *)(stx + STX_ATTRIBUTES_OFFSET);
  u64 known = *(u64 *)(stx + STX_ATTRIBUTES_MASK_OFFSET);
  /* Linux 5.8 and later say whether it is a mount's root; older ones cannot be asked. */
  if ((known & STATX_ATTR_MOUNT_ROOT) && !(attributes & STATX_ATTR_MOUNT_ROOT)) return 0;
  if (kind == PIN_RO) {
    u64 st[16] __attribute__((aligned(8)));
    if (SYS2(fstatfs, node, st) < 0 || !(st[STATFS_FLAGS_OFFSET / 8] & ST_RDONLY)) return 0;
  }
  return 1;
}

/* Whether every triple of `triples` (n of them) naming `place` holds what `node` is. */
static int place_is_pinned(const char *place, long node, long n, char **triples) {
  for (long i = 0; i < n; i++) {
    if (!same_text(triples[3 * i], place)) continue;
    if (!node_is_pinned(node, parse_int(triples[3 * i + 1]), pin_kind(triples[3 * i + 2]))) {
      return 0;
    }
  }
  return 1;
}

/* Walks absolute, clean `dest` from "/", as the comment above says; 1 when every place on the
 * way that a triple names holds, 0 otherwise. */
static int walk_is_pinned(const char *dest, long n, char **triples) {
  char place[PLACE_MAX] = "/";
  unsigned long len = 1;
  long dir = SYS4(openat, AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (dir < 0) return 0;
  int ok = place_is_pinned(place, dir, n, triples);
  const char *p = dest;
  while (ok) {
    while (*p == '/') p++;
    if (!*p) break;
    unsigned long k = 0;
    while (p[k] && p[k] != '/') k++;
    if (len + 1 + k >= PLACE_MAX) {
      ok = 0;
      break;
    }
    if (len > 1) place[len++] = '/';
    char *name = place + len;
    for (unsigned long i = 0; i < k; i++) place[len++] = p[i];
    place[len] = 0;
    p += k;
    if (is_dot(name)) {
      ok = 0;
      break;
    }
    long next = SYS4(openat, dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
    SYS1(close, dir);
    dir = next;
    if (dir < 0) return 0;
    u8 stx[256] __attribute__((aligned(8)));
    ok = SYS5(statx, dir, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_TYPE, stx) == 0 &&
         (*(unsigned short *)(stx + STX_MODE_OFFSET) & S_IFMT) != S_IFLNK &&
         place_is_pinned(place, dir, n, triples);
  }
  SYS1(close, dir);
  /* A destination not clean ("//", a trailing "/"; "." and ".." above) is no place a triple
   * names: nothing on the way would have been checked. */
  return ok && same_text(place, dest);
}

static int check_pinned(int argc, char **argv) {
  long n = argc > 0 ? parse_int(argv[0]) : -1;
  if (n < 0 || n > (argc - 1) / 3) {
    struct line l = {.n = 0};
    put(&l, "ww stage: exec -pinned: expected <n> and n triples of <dest> <fd> <ro|rw|dir>");
    write_line(2, &l);
    die(125);
  }
  char **triples = argv + 1;
  for (long i = 0; i < n; i++) {
    const char *dest = triples[3 * i];
    enum pin_kind kind = pin_kind(triples[3 * i + 2]);
    if (kind == PIN_DIR || (kind != PIN_BAD && walk_is_pinned(dest, n, triples))) continue;
    struct line l = {.n = 0};
    put(&l, "ww: the jail's bind at ");
    put(&l, dest);
    put(&l, " is not what ww opened: its source changed as the jail was made");
    write_line(2, &l);
    die(125);
  }
  for (long i = 0; i < n; i++) {
    long fd = parse_int(triples[3 * i + 1]);
    if (fd >= 0) SYS1(close, fd);
  }
  return 1 + 3 * (int)n;
}

/*
 * Under bwrap (exec mode "-landlock"), Landlock for what bwrap's mount namespace cannot stop: the
 * program may do beneath the jail's root whatever bwrap's mounts let it (every right), and through
 * its descriptors only what each was opened for (add_descriptor_rules); `program`, the held
 * program's descriptor (or -1), may be executed. With `offline` (no --net), when one of its
 * descriptors is an IP socket, Landlock handles TCP too and allows no port: such a socket was made
 * in the host's network namespace (--listen, --connect), and once disconnected (connect with
 * AF_UNSPEC) it connected anywhere there; the program's own TCP on the jail's loopback goes with
 * it (ABI 4, Linux 6.7, and later). With `offline` too, no abstract unix socket made outside the
 * jail is reached (ABI 6, Linux 6.12): a unix socket from the host stays in the host's network
 * namespace, where such names live. A kernel without Landlock (before 5.13, or with it off) leaves
 * it to bwrap's namespaces alone, as before.
 */
static void confine_descriptors(long program, int offline) {
  long abi = SYS3(landlock_create_ruleset, 0, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi == -ENOSYS || abi == -EOPNOTSUPP) return;
  if (abi < 0) jail_step_failed("could not apply Landlock: landlock_create_ruleset", abi);
  /* Every file system right this ABI knows: REFER came with 2, TRUNCATE with 3, IOCTL_DEV with 5. */
  u64 handled = (1UL << (abi >= 5 ? 16 : abi >= 3 ? 15 : abi >= 2 ? 14 : 13)) - 1;
  /* struct landlock_ruleset_attr: handled_access_fs, all that ABI 1 reads, (ABI 4) _net and
   * (ABI 6) scoped. */
  u64 attr[3] = {handled, 0, 0};
  if (offline && abi >= 4) {
    long found = each_descriptor(ip_socket_found, 0);
    if (found < 0) jail_step_failed("could not apply Landlock to the program's descriptors", found);
    if (found) attr[1] = LL_NET_TCP;
  }
  if (offline && abi >= 6) attr[2] = LL_SCOPE_ABSTRACT_UNIX_SOCKET;
  unsigned long size = attr[2] ? sizeof attr : attr[1] ? 2 * sizeof attr[0] : sizeof attr[0];
  long ruleset = SYS3(landlock_create_ruleset, attr, size, 0);
  if (ruleset < 0) jail_step_failed("could not apply Landlock: landlock_create_ruleset", ruleset);
  long root = SYS4(openat, AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (root < 0) jail_step_failed("could not apply Landlock: open /", root);
  struct landlock_path_beneath_attr all = {.allowed_access = handled, .parent_fd = (int)root};
  long r = SYS4(landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &all, 0);
  if (r < 0) jail_step_failed("could not apply Landlock: landlock_add_rule /", r);
  SYS1(close, root);
  r = add_descriptor_rules((int)ruleset, handled);
  if (r < 0) jail_step_failed("could not apply Landlock to the program's descriptors", r);
  if (program >= 0) {
    struct landlock_path_beneath_attr exec = {
        .allowed_access = (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE) & handled,
        .parent_fd = (int)program};
    r = SYS4(landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &exec, 0);
    if (r < 0 && r != -EBADFD) jail_step_failed("could not apply Landlock to the program", r);
  }
  r = SYS2(landlock_restrict_self, ruleset, 0);
  if (r < 0) jail_step_failed("could not apply Landlock: landlock_restrict_self", r);
  SYS1(close, ruleset);
}

/*
 * Under bwrap with --tmp-size (exec mode "-tmpfs", <tmpfs-fd>): before anything else, and so
 * before anything of the program's runs, sends this mount namespace to the supervisor's bounder
 * over unix socket <tmpfs-fd> and waits for it to bound the files of the jail's in-memory file
 * systems (see bounder); the socket is closed here. A failure is the jail's: one line, exit 125.
 */
static void bound_jail_files(const char *arg) {
  long sock = parse_int(arg);
  if (sock < 0 || SYS3(fcntl, sock, F_GETFD, 0) < 0) {
    struct line l = {.n = 0};
    put(&l, "ww stage: exec -tmpfs: bad descriptor ");
    put(&l, arg);
    write_line(2, &l);
    die(125);
  }
  long ns = SYS4(openat, AT_FDCWD, "/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC, 0);
  long answer = ns < 0 ? ns : send_fd(sock, ns);
  if (answer >= 0) {
    long got;
    do got = SYS3(read, sock, &answer, sizeof answer);
    while (got == -EINTR);
    if (got != sizeof answer) answer = got < 0 ? got : -EPIPE;
  }
  if (ns >= 0) SYS1(close, ns);
  SYS1(close, sock);
  if (answer < 0) jail_step_failed("could not bound the files of its in-memory file systems", answer);
}

static __attribute__((noreturn)) void exec_mode(int argc, char **argv, char **envp, int tmpfs,
                                                int tty, int listen_pid, int report, int pinned,
                                                int landlock, int offline) {
  if (tmpfs) {
    if (argc < 3) argc = 0; /* the usage line, below */
    else {
      bound_jail_files(argv[2]);
      argv += 1;
      argc -= 1;
    }
  }
  int stderr_fd = -1;
  if (report) {
    if (argc < 6) argc = 0; /* the usage line, below */
    else {
      stderr_fd = program_stderr(argv[2]);
      long to_ww = SYS3(fcntl, 2, F_DUPFD_CLOEXEC, 3);
      if (to_ww < 0) jail_step_failed("could not start the program: fcntl(F_DUPFD_CLOEXEC)", to_ww);
      /* Before the fork: the program, of the jail's own uid, may open /proc/1/fd/N (the pipe to
       * ww, where it could forge its exit status) of a dumpable pid 1, and init() made pid 1 so
       * only once the fork had returned, while the program was already on its way. The child's
       * execve of the program makes it dumpable again, as any execve does. */
      SYS5(prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
      long program = SYS5(clone, SIGCHLD, 0, 0, 0, 0);
      if (program < 0) jail_step_failed("could not start the program: fork", program);
      if (program > 0) init(program, (int)to_ww);
      SYS1(close, to_ww);
      argv += 1;
      argc -= 1;
    }
  }
  if (pinned && argc >= 2) {
    /* After the fork: pid 1 closed its copies (init), and a failure here is the jail's, 125. */
    int took = check_pinned(argc - 2, argv + 2);
    argv += took;
    argc -= took;
  }
  if (tty || report) {
    /* A session of its own: under bwrap the stage's, which bwrap's --new-session made, is pid
       1's; with a terminal, the session it is the controlling terminal of. */
    SYS0(setsid);
  }
  if (tty) {
    long r = take_terminal();
    if (r < 0) jail_step_failed("could not give the program its terminal: ioctl(TIOCSCTTY)", r);
  }
  if (stderr_fd >= 0) {
    /* Without a copy (no descriptor left), a failure is one line on the program's stderr. */
    unstarted_fd = (int)SYS3(fcntl, 2, F_DUPFD_CLOEXEC, 3);
    SYS3(write, 2, "", 1);
    SYS3(dup3, stderr_fd, 2, 0);
    SYS1(close, stderr_fd);
  }
  if (argc < 5) {
    struct line l = {.n = 0};
    put(&l, "ww stage: usage: exec[-tmpfs][-tty][-listen-pid][-report][-pinned][-landlock"
            "[-offline]] [<tmpfs-fd>] [<stderr-fd>] [<n> <dest> <fd>...] <fd|path> <-|=PWD> "
            "<argv0> [args...]");
    write_line(2, &l);
    die(126);
  }
  const char *target = argv[2], *pwd = argv[3];
  char **args = argv + 4;
  unsigned long n = 0;
  while (envp[n]) n++;
  char **env = (char **)SYS6(mmap, 0, (n + 2) * 8, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if ((long)env < 0 && (long)env > -4096) die(126);
  unsigned long k = 0;
  for (unsigned long i = 0; i < n; i++) {
    if (!starts(envp[i], "PWD=")) env[k++] = envp[i];
  }
  /* "=VALUE": the user's own PWD, given as "PWD=VALUE" in place of the "=VALUE" argument, where
   * it sorts among the others (ww sorts the environment by key, as the other backends give it). */
  if (pwd[0] == '=') {
    unsigned long plen = slen(pwd);
    char *own = (char *)SYS6(mmap, 0, plen + 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
    if ((long)own < 0 && (long)own > -4096) die(126);
    memcpy(own, "PWD", 3);
    memcpy(own + 3, pwd, plen + 1);
    unsigned long at = 0;
    while (at < k && !key_after(env[at], "PWD")) at++;
    for (unsigned long i = k; i > at; i--) env[i] = env[i - 1];
    env[at] = own;
    k++;
  }
  env[k] = 0;
  if (listen_pid && !(env = with_listen_pid(env))) die(126);
  long fd = parse_int(target);
  if (landlock) confine_descriptors(fd, offline);
  long err;
  if (fd >= 0) {
    SYS3(fcntl, fd, F_SETFD, FD_CLOEXEC);
    err = SYS5(execveat, fd, "", args, env, AT_EMPTY_PATH);
  } else {
    err = SYS3(execve, target, args, env);
  }
  char interp[256];
  int script = err == -ENOENT && interpreter(fd >= 0 ? 0 : target, (int)fd, interp, sizeof interp);
  if (unstarted_fd >= 0) {
    const char *step = fd >= 0 ? "execveat" : "execve";
    if (script) step = fd >= 0 ? "execveat-interpreter" : "execve-interpreter";
    report_marked(unstarted_fd, "\2", step, err, script ? interp : 0);
    die(err == -ENOENT ? 127 : 126);
  }
  /* One line, as ww itself words an exec failure under the native jail (run/stage.ts). */
  struct line l = {.n = 0};
  put(&l, "ww: ");
  put(&l, args[0]);
  if (script) {
    put(&l, ": its interpreter ");
    put(&l, interp);
    put(&l, " is not in the jail (ENOENT)");
  } else {
    put(&l, err == -ENOENT ? ": " : ": cannot execute in the bwrap jail: ");
    put(&l, fd >= 0 ? "execveat: " : "execve: ");
    const char *name = errno_name(-err);
    if (name) {
      put(&l, name);
    } else {
      put(&l, "errno ");
      put_num(&l, -err);
    }
    if (err == -ENOENT) put(&l, " (the file or its interpreter is missing)");
    if (err == -8) put(&l, " (not a binary, and no #! line)");
  }
  write_line(2, &l);
  die(err == -ENOENT ? 127 : 126);
}

__attribute__((used)) void stage_main(long *sp) {
  int argc = (int)sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  if (argc == 4 && starts(argv[1], "launch") && !argv[1][6]) {
    long plan = parse_int(argv[2]), status = parse_int(argv[3]);
    if (plan >= 0 && status >= 0) launch((int)plan, (int)status);
  }
  if (argc >= 2 && starts(argv[1], "exec")) {
    /* exec[-tmpfs][-tty][-listen-pid][-report][-pinned][-landlock[-offline]] */
    const char *mode = argv[1] + 4;
    int tmpfs = starts(mode, "-tmpfs");
    if (tmpfs) mode += 6;
    int tty = starts(mode, "-tty");
    if (tty) mode += 4;
    int listen_pid = starts(mode, "-listen-pid");
    if (listen_pid) mode += 11;
    int report = starts(mode, "-report");
    if (report) mode += 7;
    int pinned = starts(mode, "-pinned");
    if (pinned) mode += 7;
    int landlock = starts(mode, "-landlock");
    if (landlock) mode += 9;
    int offline = landlock && starts(mode, "-offline");
    if (offline) mode += 8;
    if (!*mode) {
      exec_mode(argc, argv, envp, tmpfs, tty, listen_pid, report, pinned, landlock, offline);
    }
  }
  if (argc == 3 && starts(argv[1], "remove") && !argv[1][6]) {
    remove_tree(argv[2], -1);
    die(0);
  }
  struct line l = {.n = 0};
  put(&l, "ww stage: internal to ww (launch <plan-fd> <status-fd> | remove <dir> | "
          "exec[-tmpfs][-tty][-listen-pid][-report][-pinned][-landlock[-offline]] [<tmpfs-fd>] "
          "[<stderr-fd>] "
          "[<n> (<dest> <fd> <ro|rw|dir>)...] <fd|path> <-|=PWD> <argv0> [args...])");
  write_line(2, &l);
  die(2);
}

#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n"
        "  xor %rbp, %rbp\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call stage_main\n  hlt\n");
#elif defined(__aarch64__)
__asm__(".text\n.global _start\n_start:\n"
        "  mov x29, #0\n  mov x30, #0\n  mov x0, sp\n  and x1, x0, #-16\n  mov sp, x1\n"
        "  bl stage_main\n  brk #0\n");
#endif
