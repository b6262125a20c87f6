/*
 * test_sandbox.c - unit tests of sandbox/: every stage policy is entered for
 * real in a forked child (the tests run as root), the parent inspects the
 * child through /proc while it waits, and forbidden actions are attempted
 * in separate children: each must fail or kill, and a kill must reach the
 * parent as a MSG_BROKER_SECCOMP packet naming the syscall attempted.
 *
 * Children never use cmocka asserts: they report over a socketpair and
 * leave with _exit; the parent asserts after reaping them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/ipc.h"
#include "lib/buf.h"
#include "queue/layout.h"
#include "sandbox/sandbox.h"
#include "sandbox/stagedef.h"

#define TEST_ID 65534	/* nobody/nogroup: exists everywhere, owns nothing here */

static char qdir[] = "/tmp/moat-sandbox-XXXXXX";
static pid_t parent_pid;
static unsigned char report_tmpl[64];
static size_t report_tmpl_len;


/* What the parent saw of one child. */
struct run {
	const char *stage;
	int (*fn)(void);	/* the action attempted after confinement */
	int no_report;		/* report_fd = -1 */
	int broker_first;	/* sandbox_broker_enter before sandbox_enter */
	int extra_fd;		/* >= 0: passed as fd 5 (listener, file) */
	int inspect;		/* child waits while the parent reads /proc */
	uid_t uid;
	const char *queue_dir;
	size_t nr_off;
	/* outcome */
	int status;
	int got_result, ret, err;
	int got_report;
	uint32_t nr, arch;
	/* /proc view while the child waited */
	struct buf proc_status;
	char root[PATH_MAX], net[64], mnt[64], ipc[64];
	struct buf proc_limits;
};

/* ---- fixture ---- */

static int mkdir_owned(const char *sub, mode_t mode, uid_t owner)
{
	struct buf p = BUF_INIT;
	int rc;

	buf_printf(&p, "%s/%s", qdir, sub);
	rc = mkdir(buf_str(&p), mode);
	if (rc == 0)
		rc = chmod(buf_str(&p), mode);
	if (rc == 0)
		rc = chown(buf_str(&p), owner, owner);
	buf_free(&p);
	return rc;
}

static int make_file(const char *sub)
{
	struct buf p = BUF_INIT;
	int fd;

	buf_printf(&p, "%s/%s", qdir, sub);
	fd = open(buf_str(&p), O_CREAT | O_WRONLY | O_TRUNC, 0600);
	buf_free(&p);
	if (fd < 0 || write(fd, "x", 1) != 1 || fchown(fd, TEST_ID, TEST_ID) < 0)
		return -1;
	return close(fd);
}

static int setup_queue(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	parent_pid = getpid();
	if (mkdtemp(qdir) == NULL || chmod(qdir, 0755) < 0)
		return -1;
	/* the real queue tree: every directory of queue/layout.c */
	for (int q = 0; q < QUEUE_NDIRS; q++)
		if (mkdir_owned(queue_dirs[q].name, queue_dirs[q].mode,
				queue_dirs[q].owner == QUEUE_OWNER_ROOT ? 0 : TEST_ID) < 0)
			return -1;
	if (make_file("active/ro") < 0 || make_file("maildrop/m") < 0)
		return -1;
	/* The report template, encoded by the IPC codec as the broker would. */
	struct ipc_broker_seccomp m = { 0, 0 };
	int fds[IPC_MAX_FDS], nfds;
	if (ipc_encode(&b, fds, &nfds, MSG_BROKER_SECCOMP, &m) < 0 || b.len > sizeof(report_tmpl))
		return -1;
	memcpy(report_tmpl, b.data, b.len);
	report_tmpl_len = b.len;
	buf_free(&b);
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown_queue(void **state)
{
	(void)state;
	return nftw(qdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the child ---- */

/*
 * child_exit - leave without atexit handlers or the sanitizers' exit hook:
 * LeakSanitizer's exit check ptraces the process, which the filters refuse.
 */
__attribute__((noreturn)) static void child_exit(int code)
{
	(void)syscall(SYS_exit_group, code);
	abort();
}

struct result {
	int ret;
	int err;
};

/* child_place_fds - report socket at 3, control at 4, listener at 5. */
static void child_place_fds(int rep, int ctl, int lfd)
{
	int r = fcntl(rep, F_DUPFD, 10);
	int c = fcntl(ctl, F_DUPFD, 10);
	int l = lfd >= 0 ? fcntl(lfd, F_DUPFD, 10) : -1;

	if (r < 0 || c < 0 || (lfd >= 0 && l < 0))
		child_exit(90);
	if (dup2(r, 3) < 0 || dup2(c, 4) < 0 || (l >= 0 && dup2(l, 5) < 0))
		child_exit(91);
}

/*
 * exec_as_root - what an execve by root gives a stage of the broker: every
 * permitted capability effective again (the test confines without an exec).
 */
static void exec_as_root(void)
{
	cap_t c = cap_get_proc();
	cap_value_t max = cap_max_bits();

	for (cap_value_t v = 0; c != NULL && v < max; v++) {
		cap_flag_value_t p;

		if (cap_get_flag(c, v, CAP_PERMITTED, &p) == 0 && p == CAP_SET)
			(void)cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_SET);
	}
	if (c == NULL || cap_set_proc(c) < 0)
		child_exit(94);
	cap_free(c);
}

static void child_main(struct run *r, int rep, int ctl)
{
	struct sandbox_params sp;
	struct result res;
	char go;

	child_place_fds(rep, ctl, r->extra_fd);
	memset(&sp, 0, sizeof(sp));
	sp.queue_dir = r->queue_dir ? r->queue_dir : qdir;
	sp.uid = r->uid;
	sp.gid = r->uid;
	sp.nfds_keep = r->extra_fd >= 0 ? 6 : 5;
	sp.report_fd = r->no_report ? -1 : 3;
	sp.report_pkt = report_tmpl;
	sp.report_len = report_tmpl_len;
	sp.report_nr_off = r->nr_off ? r->nr_off : 2;
	sp.report_arch_off = 6;
	if (r->broker_first) {
		sandbox_broker_enter();
		exec_as_root();
	}
	sandbox_enter(sandbox_policy_lookup(r->stage), &sp);
	if (r->inspect) {
		if (write(4, "R", 1) != 1 || read(4, &go, 1) != 1)
			child_exit(92);
	}
	errno = 0;
	res.ret = r->fn ? r->fn() : 0;
	res.err = errno;
	if (write(4, &res, sizeof(res)) != (ssize_t)sizeof(res))
		child_exit(93);
	child_exit(0);
}

/* ---- the parent ---- */

static void read_link(pid_t pid, const char *what, char *out, size_t size)
{
	struct buf p = BUF_INIT;
	ssize_t n;

	buf_printf(&p, "/proc/%ld/%s", (long)pid, what);
	n = readlink(buf_str(&p), out, size - 1);
	out[n < 0 ? 0 : n] = '\0';
	buf_free(&p);
}

static void read_proc_file(pid_t pid, const char *what, struct buf *out)
{
	struct buf p = BUF_INIT;
	char chunk[4096];
	ssize_t n;
	int fd;

	buf_printf(&p, "/proc/%ld/%s", (long)pid, what);
	fd = open(buf_str(&p), O_RDONLY);
	while (fd >= 0 && (n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(out, chunk, (size_t)n);
	if (fd >= 0)
		close(fd);
	buf_free(&p);
}

/* inspect_child - what /proc shows of the confined child (prlimit would need CAP_SYS_RESOURCE). */
static void inspect_child(struct run *r, pid_t pid)
{
	read_proc_file(pid, "status", &r->proc_status);
	read_link(pid, "root", r->root, sizeof(r->root));
	read_link(pid, "ns/net", r->net, sizeof(r->net));
	read_link(pid, "ns/mnt", r->mnt, sizeof(r->mnt));
	read_link(pid, "ns/ipc", r->ipc, sizeof(r->ipc));
	read_proc_file(pid, "limits", &r->proc_limits);
}

static ssize_t recv_wait(int fd, void *p, size_t n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (poll(&pfd, 1, 5000) <= 0)
		return -1;
	return recv(fd, p, n, 0);
}

/* run_child - fork, confine, act; fills the outcome fields of r. */
static void run_child(struct run *r)
{
	int rep[2], ctl[2];
	unsigned char pkt[64];
	struct result res;
	char c;
	ssize_t n;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, rep), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, ctl), 0);
	buf_init(&r->proc_status, 1 << 20);
	buf_init(&r->proc_limits, 1 << 20);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child_main(r, rep[1], ctl[1]);
	close(rep[1]);
	close(ctl[1]);
	if (r->inspect && recv_wait(ctl[0], &c, 1) == 1) {
		inspect_child(r, pid);
		assert_int_equal(write(ctl[0], "q", 1), 1);
	}
	n = recv_wait(ctl[0], &res, sizeof(res));
	r->got_result = n == (ssize_t)sizeof(res);
	if (r->got_result) {
		r->ret = res.ret;
		r->err = res.err;
	}
	assert_int_equal(waitpid(pid, &r->status, 0), pid);
	n = recv(rep[0], pkt, sizeof(pkt), MSG_DONTWAIT);
	r->got_report = 0;
	if (n > 0) {
		struct ipc_msg m;
		struct buf why = BUF_INIT;

		ipc_msg_init(&m);
		assert_int_equal(ipc_decode(&m, pkt, (size_t)n, NULL, 0, &why), 0);
		assert_int_equal(m.type, MSG_BROKER_SECCOMP);
		r->got_report = 1;
		r->nr = m.u.broker_seccomp.syscall_nr;
		r->arch = m.u.broker_seccomp.arch;
		ipc_msg_free(&m);
		buf_free(&why);
	}
	close(rep[0]);
	close(ctl[0]);
}

static int run_signaled(const struct run *r, int sig)
{
	return WIFSIGNALED(r->status) && WTERMSIG(r->status) == sig;
}

/* assert_killed - killed by SIGSYS, and the broker was told which syscall. */
static void assert_killed(const struct run *r, long nr)
{
	if (!run_signaled(r, SIGSYS))
		fail_msg("%s: expected a SIGSYS kill for syscall %ld, status 0x%x ret %d errno %d",
			 r->stage, nr, r->status, r->ret, r->err);
	assert_true(r->got_report);
	assert_int_equal(r->nr, (uint32_t)nr);
	assert_int_equal(r->arch, seccomp_arch_native());
	assert_string_equal(sandbox_syscall_name(r->nr, r->arch),
			    sandbox_syscall_name((unsigned)nr, seccomp_arch_native()));
}

/* assert_refused - failed with one of two errnos, or killed with a report of nr. */
static void assert_refused(const struct run *r, long nr, int e1, int e2)
{
	if (run_signaled(r, SIGSYS)) {
		assert_killed(r, nr);
		return;
	}
	assert_true(WIFEXITED(r->status));
	assert_int_equal(WEXITSTATUS(r->status), 0);
	assert_true(r->got_result);
	if (r->ret >= 0 || (r->err != e1 && r->err != e2))
		fail_msg("%s: expected failure with %d or %d, got ret %d errno %d", r->stage, e1,
			 e2, r->ret, r->err);
}

/* assert_worked - the child survived and the action returned >= 0. */
static void assert_worked(const struct run *r)
{
	if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0 || !r->got_result || r->ret < 0)
		fail_msg("%s: expected success, status 0x%x ret %d errno %d report %s", r->stage,
			 r->status, r->ret, r->err,
			 r->got_report ? sandbox_syscall_name(r->nr, r->arch) : "none");
}

static void run_free(struct run *r)
{
	buf_free(&r->proc_status);
	buf_free(&r->proc_limits);
}

static void run_init(struct run *r, const char *stage, int (*fn)(void))
{
	memset(r, 0, sizeof(*r));
	r->stage = stage;
	r->fn = fn;
	r->extra_fd = -1;
	r->uid = TEST_ID;
}

/* ---- forbidden and allowed actions (run in the child) ---- */

static int act_open_passwd(void)
{
	return open("/etc/passwd", O_RDONLY);
}

static int act_execve(void)
{
	char *const argv[] = { "sh", "-c", "true", NULL };
	char *const envp[] = { NULL };

	return execve("/bin/sh", argv, envp);
}

static int act_socket_inet(void)
{
	return socket(AF_INET, SOCK_STREAM, 0);
}

static int act_socket_unix(void)
{
	return socket(AF_UNIX, SOCK_STREAM, 0);
}

static int act_socket_raw(void)
{
	return socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
}

static int act_setuid0(void)
{
	return setuid(0);
}

static int act_ptrace(void)
{
	return (int)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static int act_mount(void)
{
	return mount("none", "/", "tmpfs", 0, NULL);
}

static int act_sigsys_ignore(void)
{
	return signal(SIGSYS, SIG_IGN) == SIG_ERR ? -1 : 0;
}

static int act_sigsys_highbits(void)
{
	static const unsigned long dfl[4];

	return (int)syscall(SYS_rt_sigaction, (long)SIGSYS | (1L << 32), dfl, NULL, 8);
}

static int act_mmap_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? -1 : 0;
}

static int act_mprotect_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -2;
	return mprotect(p, 4096, PROT_READ | PROT_EXEC);
}

static int act_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		child_exit(0);
	return (int)pid;
}

static int act_kill_other(void)
{
	return kill(parent_pid, 0);
}

static int act_raise_limit(void)
{
	struct rlimit rl = { 1, 1 };

	return setrlimit(RLIMIT_CORE, &rl);
}

static int act_isatty(void)
{
	return isatty(0) ? 0 : -1;
}

/* act_write_file - write to an already open regular file (stderr redirected to a file). */
static int act_write_file(void)
{
	return (int)write(5, "x", 1);
}

/* act_shutdown - shutdown() of a socket it holds (a shared listener, in smtpd). */
static int act_shutdown(void)
{
	return shutdown(4, SHUT_RDWR);
}

/* act_clear_flags - F_SETFL could clear O_APPEND of a shared log file. */
static int act_clear_flags(void)
{
	return fcntl(4, F_SETFL, 0);
}

/* act_linger - SO_LINGER would make the last close() of a TCP socket wait. */
static int act_linger(void)
{
	struct linger lg = { 1, 3600 };

	return setsockopt(4, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

/* act_timeouts - the options every stage uses: send and receive timeouts, FIONBIO. */
static int act_timeouts(void)
{
	struct timeval tv = { 5, 0 };
	int on = 1;

	if (setsockopt(4, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0
	    || setsockopt(4, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -1;
	return ioctl(4, FIONBIO, &on);
}

static int act_abort(void)
{
	abort();
}

static int act_plain_work(void)
{
	struct timespec ts;
	void *p = malloc(1 << 20);	/* mmap without PROT_EXEC */
	int fd = fcntl(4, F_DUPFD_CLOEXEC, 0);

	if (p == NULL || fd < 0 || clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return -1;
	free(p);
	close(fd);
	return getpid() > 0 ? 0 : -1;
}

/* act_fail_at - a multi-step action failed at `step`: ret -step, errno kept. */
static int act_fail_at(int step)
{
	return -step;
}

static int try_create(const char *path)
{
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || write(fd, "q", 1) != 1 || fsync(fd) < 0)
		return -1;
	return close(fd);
}

/* cleanup: incoming/ read-write; nothing else. */
static int act_cleanup_files(void)
{
	if (try_create("/incoming/t1") < 0)
		return act_fail_at(1);
	if (rename("/incoming/t1", "/incoming/t2") < 0)
		return act_fail_at(2);
	if (unlink("/incoming/t2") < 0)
		return act_fail_at(3);
	if (try_create("/active/t1") == 0 || errno != EACCES)
		return act_fail_at(4);
	if (open("/active/ro", O_RDONLY) >= 0 || errno != EACCES)
		return act_fail_at(5);
	/* Listing the queue root is not granted: use AT_FDCWD or O_PATH. */
	if (open("/", O_RDONLY | O_DIRECTORY) >= 0 || errno != EACCES)
		return act_fail_at(6);
	/* reusing a spare file: lock, lease (no other opener), rename into incoming/ */
	int fd;

	if (try_create("/spare/s1") < 0 || (fd = open("/spare/s1", O_RDWR | O_NONBLOCK)) < 0)
		return act_fail_at(7);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || fcntl(fd, F_SETLEASE, F_WRLCK) < 0
	    || fcntl(fd, F_SETLEASE, F_UNLCK) < 0)
		return act_fail_at(8);
	if (rename("/spare/s1", "/incoming/s1") < 0 || unlink("/incoming/s1") < 0)
		return act_fail_at(9);
	close(fd);
	return 0;
}

/* qmgr: moves between queue directories (through an O_PATH fd of the root, as queue/ does). */
static int act_qmgr_files(void)
{
	int q = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (q < 0 || try_create("/incoming/q1") < 0)
		return act_fail_at(1);
	if (renameat2(q, "incoming/q1", q, "active/q1", RENAME_NOREPLACE) < 0)
		return act_fail_at(2);
	if (rename("/active/q1", "/corrupt/q1") < 0)
		return act_fail_at(3);
	if (unlink("/corrupt/q1") < 0)
		return act_fail_at(4);
	if (try_create("/maildrop/q1") == 0 || errno != EACCES)
		return act_fail_at(5);
	/* a delivered file retires to spare/ */
	if (try_create("/active/q2") < 0
	    || renameat2(q, "active/q2", q, "spare/q2", RENAME_NOREPLACE) < 0
	    || unlink("/spare/q2") < 0)
		return act_fail_at(6);
	return 0;
}

/* bounce: reads the queue, writes only bounce/ and defer/. */
static int act_bounce_files(void)
{
	char c;
	int fd = open("/active/ro", O_RDONLY);

	if (fd < 0 || read(fd, &c, 1) != 1)
		return act_fail_at(1);
	close(fd);
	if (open("/active/ro", O_WRONLY) >= 0 || errno != EACCES)
		return act_fail_at(2);
	if (try_create("/incoming/b1") == 0 || errno != EACCES)
		return act_fail_at(3);
	if (try_create("/bounce/b1") < 0 || unlink("/bounce/b1") < 0)
		return act_fail_at(4);
	return 0;
}

static int act_accept(void)
{
	int fd = accept4(5, NULL, NULL, SOCK_CLOEXEC);

	return fd < 0 ? -1 : close(fd);
}

static int act_bind(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -2;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return bind(fd, (struct sockaddr *)&sa, sizeof(sa));
}

static int act_nodelay(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;

	if (fd < 0)
		return -2;
	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

static int act_multicast(void)
{
	struct ip_mreq m = { { htonl(0xe00000fbU) }, { htonl(INADDR_ANY) } };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -2;
	return setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m));
}

static int act_connect_udp(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -2;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return connect(fd, (struct sockaddr *)&sa, sizeof(sa));
}

/* ---- helpers for the parent's checks ---- */

static int landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, 1U);

	return v < 0 ? 0 : (int)v;
}

static void assert_status_line(const struct run *r, const char *line)
{
	if (strstr(buf_str(&r->proc_status), line) == NULL)
		fail_msg("%s: /proc status lacks \"%s\"", r->stage, line);
}

static void assert_no_groups(const struct run *r)
{
	const char *g = strstr(buf_str(&r->proc_status), "Groups:");

	assert_non_null(g);
	for (g += strlen("Groups:"); *g != '\n' && *g != '\0'; g++)
		assert_true(*g == ' ' || *g == '\t');
}

static void assert_root_is(const struct run *r, const struct sandbox_policy *p)
{
	struct buf want = BUF_INIT;

	buf_printf(&want, "%s%s", qdir, p->root == SANDBOX_ROOT_EMPTY ? "/empty" : "");
	assert_string_equal(r->root, buf_str(&want));
	buf_free(&want);
}

static void assert_namespaces(const struct run *r, const struct sandbox_policy *p)
{
	char self[64];

	read_link(getpid(), "ns/net", self, sizeof(self));
	assert_true(self[0] != '\0' && r->net[0] != '\0');
	if (p->private_net)
		assert_string_not_equal(self, r->net);
	else
		assert_string_equal(self, r->net);
	read_link(getpid(), "ns/mnt", self, sizeof(self));
	assert_string_not_equal(self, r->mnt);
	read_link(getpid(), "ns/ipc", self, sizeof(self));
	assert_string_not_equal(self, r->ipc);
}

/* assert_limit - /proc/<pid>/limits has "name  value  value" (soft and hard). */
static void assert_limit(const struct run *r, const char *name, const char *value)
{
	struct buf want = BUF_INIT;

	buf_printf(&want, "%-25s %-20s %-20s ", name, value, value);
	if (strstr(buf_str(&r->proc_limits), buf_str(&want)) == NULL)
		fail_msg("%s: limits lack \"%s\"", r->stage, buf_str(&want));
	buf_free(&want);
}

static void assert_limits(const struct run *r, const struct sandbox_policy *p)
{
	struct buf n = BUF_INIT;
	struct rlimit rl;

	assert_limit(r, "Max core file size", "0");
	assert_limit(r, "Max processes", "0");
	if (!p->writes_files)
		assert_limit(r, "Max file size", "0");
	/* a stage only lowers limits: a policy above our hard limit gets the hard limit */
	buf_printf(&n, "%llu", (unsigned long long)(getrlimit(RLIMIT_NOFILE, &rl) == 0
			       && rl.rlim_max < (rlim_t)p->nofile ? rl.rlim_max : (rlim_t)p->nofile));
	assert_limit(r, "Max open files", buf_str(&n));
	buf_free(&n);
}

/* ---- tests ---- */

static void test_policy_table(void **state)
{
	static const struct {
		const char *stage;
		enum sandbox_root root;
		enum sandbox_user user;
		int private_net;
	} want[] = {
		{ "screen", SANDBOX_ROOT_EMPTY, SANDBOX_USER_NETWORK, 1 },
		{ "smtpd", SANDBOX_ROOT_EMPTY, SANDBOX_USER_NETWORK, 1 },
		{ "smtp", SANDBOX_ROOT_EMPTY, SANDBOX_USER_NETWORK, 0 },
		{ "dns", SANDBOX_ROOT_EMPTY, SANDBOX_USER_NETWORK, 0 },
		{ "log", SANDBOX_ROOT_EMPTY, SANDBOX_USER_HELPER, 1 },
		{ "lookup", SANDBOX_ROOT_EMPTY, SANDBOX_USER_HELPER, 1 },
		{ "tlskey", SANDBOX_ROOT_EMPTY, SANDBOX_USER_KEY, 1 },
		{ "policy", SANDBOX_ROOT_EMPTY, SANDBOX_USER_HELPER, 1 },
		{ "cleanup", SANDBOX_ROOT_QUEUE, SANDBOX_USER_QUEUE, 1 },
		{ "qmgr", SANDBOX_ROOT_QUEUE, SANDBOX_USER_QUEUE, 1 },
		{ "bounce", SANDBOX_ROOT_QUEUE, SANDBOX_USER_QUEUE, 1 },
	};
	const struct sandbox_policy *p;
	const struct stagedef *d;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		p = sandbox_policy_lookup(want[i].stage);
		assert_non_null(p);
		assert_string_equal(p->stage, want[i].stage);
		assert_int_equal(p->root, want[i].root);
		assert_int_equal(p->user, want[i].user);
		assert_int_equal(p->private_net, want[i].private_net);
	}
	/* Every stage of the table has a complete policy row under its own name, and no more. */
	for (n = 0; (d = stagedef_at(n)) != NULL; n++) {
		p = sandbox_policy_at(n);
		assert_non_null(p);
		assert_ptr_equal(sandbox_policy_lookup(d->name), p);
		assert_int_equal(d->id, n);
		assert_non_null(p->stage);
		assert_string_equal(p->stage, d->name);
		assert_true(p->why != NULL && strlen(p->why) > 40);
		assert_true(p->nofile > 0);
		assert_true((p->root == SANDBOX_ROOT_QUEUE) == (p->dirs != NULL));
		assert_true((p->root == SANDBOX_ROOT_QUEUE) == !!(p->features & SANDBOX_F_QUEUE_FILES));
	}
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	assert_null(sandbox_policy_at(n));
	assert_null(sandbox_policy_lookup("broker"));
	assert_null(sandbox_policy_lookup("pickup"));	/* no entries for stages that do not exist */
	assert_null(sandbox_policy_lookup("nosuch"));
	assert_null(sandbox_policy_lookup(NULL));
	assert_true(stagedef_has("log", STAGEDEF_F_LOG_SINK));
	assert_false(stagedef_has("smtpd", STAGEDEF_F_LOG_SINK));
	assert_false(stagedef_has("nosuch", 0));
}

/* doc_cells - split one "| a | b | c |" line into up to max trimmed cells. */
static size_t doc_cells(char *line, char **cell, size_t max)
{
	size_t n = 0;
	char *p = line, *bar;

	if (*p++ != '|')
		return 0;
	while (n < max && (bar = strchr(p, '|')) != NULL) {
		char *end = bar;

		while (*p == ' ')
			p++;
		while (end > p && end[-1] == ' ')
			end--;
		*end = '\0';
		cell[n++] = p;
		p = bar + 1;
	}
	return n;
}

/*
 * The per-stage table of docs/sandbox.md says what policy.c does: one row per
 * stage of stages.def, no other, and root, user, network namespace, file
 * writes and fd limit as the policy has them (run from the top of the tree).
 */
static void test_docs_table(void **state)
{
	static const char *const roots[] = { [SANDBOX_ROOT_EMPTY] = "empty", [SANDBOX_ROOT_QUEUE] = "queue" };
	static const char *const users[] = { [SANDBOX_USER_QUEUE] = "mail_owner",
		[SANDBOX_USER_NETWORK] = "network_user", [SANDBOX_USER_HELPER] = "helper_user",
		[SANDBOX_USER_KEY] = "tlskey_user" };
	FILE *f = fopen("docs/sandbox.md", "r");
	char line[4096], *cell[8], nofile[16];
	int seen[STAGEDEF_COUNT] = { 0 };

	(void)state;
	if (f == NULL)
		fail_msg("docs/sandbox.md: %s (run from the top of the tree)", strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		const struct sandbox_policy *p;
		const struct stagedef *d;

		if (doc_cells(line, cell, 8) < 7 || strcmp(cell[0], "stage") == 0 || cell[0][0] == '-')
			continue;
		if ((d = stagedef_lookup(cell[0])) == NULL)
			fail_msg("docs/sandbox.md lists \"%s\", which is no stage", cell[0]);
		p = sandbox_policy_lookup(d->name);
		seen[d->id]++;
		snprintf(nofile, sizeof(nofile), "%d", p->nofile);
		assert_string_equal(cell[1], roots[p->root]);
		assert_string_equal(cell[2], users[p->user]);
		assert_string_equal(cell[3], p->private_net ? "yes" : "no");
		assert_string_equal(cell[4], p->writes_files ? "yes" : "no");
		assert_string_equal(cell[5], nofile);
	}
	fclose(f);
	for (size_t i = 0; i < STAGEDEF_COUNT; i++)
		if (seen[i] != 1)
			fail_msg("docs/sandbox.md has %d rows for stage %s", seen[i], stagedef_at(i)->name);
}

static void test_syscall_name(void **state)
{
	const char *a, *b;

	(void)state;
	a = sandbox_syscall_name(SYS_execve, seccomp_arch_native());
	assert_string_equal(a, "execve");
	b = sandbox_syscall_name(SYS_execve, seccomp_arch_native());
	assert_ptr_equal(a, b);	/* cached: lives as long as the process */
	assert_string_equal(sandbox_syscall_name(SYS_ptrace, seccomp_arch_native()), "ptrace");
	assert_string_equal(sandbox_syscall_name(11, SCMP_ARCH_X86), "execve");
	assert_string_equal(sandbox_syscall_name(99999, seccomp_arch_native()), "unknown(99999)");
	assert_string_equal(sandbox_syscall_name(0xffffffffU, seccomp_arch_native()),
			    "unknown(4294967295)");
	assert_string_equal(sandbox_syscall_name(59, 0x12345678U), "unknown(59)");
}

/* Every stage: confined as the contract says, seen from outside. */
static void test_confinement_state(void **state)
{
	const struct stagedef *d;
	struct run r;

	(void)state;
	for (size_t i = 0; (d = stagedef_at(i)) != NULL; i++) {
		const struct sandbox_policy *p = sandbox_policy_lookup(d->name);

		run_init(&r, d->name, act_plain_work);
		r.inspect = 1;
		run_child(&r);
		assert_worked(&r);
		assert_false(r.got_report);
		assert_status_line(&r, "Uid:\t65534\t65534\t65534\t65534\n");
		assert_status_line(&r, "Gid:\t65534\t65534\t65534\t65534\n");
		assert_no_groups(&r);
		assert_status_line(&r, "CapInh:\t0000000000000000\n");
		assert_status_line(&r, "CapPrm:\t0000000000000000\n");
		assert_status_line(&r, "CapEff:\t0000000000000000\n");
		assert_status_line(&r, "CapBnd:\t0000000000000000\n");
		assert_status_line(&r, "CapAmb:\t0000000000000000\n");
		assert_status_line(&r, "NoNewPrivs:\t1\n");
		assert_status_line(&r, "Seccomp:\t2\n");
		assert_root_is(&r, p);
		assert_namespaces(&r, p);
		assert_limits(&r, p);
		run_free(&r);
	}
}

/* run_all - one action in every stage (or only those with/without private_net). */
static void run_all(int (*fn)(void), int only_private, void (*check)(const struct run *, long),
		    long nr)
{
	const struct stagedef *d;
	struct run r;

	for (size_t i = 0; (d = stagedef_at(i)) != NULL; i++) {
		if (only_private && !sandbox_policy_lookup(d->name)->private_net)
			continue;
		run_init(&r, d->name, fn);
		run_child(&r);
		check(&r, nr);
		run_free(&r);
	}
}

static void check_open_refused(const struct run *r, long nr)
{
	assert_refused(r, nr, ENOENT, EACCES);
}

static void check_setuid_refused(const struct run *r, long nr)
{
	assert_refused(r, nr, EPERM, EPERM);
}

static void check_socket_refused(const struct run *r, long nr)
{
	assert_refused(r, nr, EACCES, EPERM);
}

static void check_killed_no_report(const struct run *r, long nr)
{
	(void)nr;
	assert_true(run_signaled(r, SIGSYS));
	assert_false(r->got_report);
}

static void check_abort(const struct run *r, long nr)
{
	(void)nr;
	assert_true(run_signaled(r, SIGABRT));
	assert_false(r->got_report);
}

static void check_worked(const struct run *r, long nr)
{
	(void)nr;
	assert_worked(r);
}

static void check_enotty(const struct run *r, long nr)
{
	(void)nr;
	assert_refused(r, -1, ENOTTY, ENOTTY);
	assert_false(run_signaled(r, SIGSYS));
}

/* One forbidden (or soft-failing) action, tried in every stage. */
struct attack {
	const char *name;
	int (*fn)(void);
	int only_private;	/* only stages with an empty network namespace */
	void (*check)(const struct run *, long);
	long nr;		/* the syscall a report must name */
};

static const struct attack attacks[] = {
	{ "open /etc/passwd", act_open_passwd, 0, check_open_refused, SYS_openat },
	{ "execve /bin/sh", act_execve, 0, assert_killed, SYS_execve },
	{ "socket AF_INET without network", act_socket_inet, 1, check_socket_refused, SYS_socket },
	{ "setuid 0", act_setuid0, 0, check_setuid_refused, SYS_setuid },
	{ "ptrace TRACEME", act_ptrace, 0, assert_killed, SYS_ptrace },
	{ "mount tmpfs", act_mount, 0, assert_killed, SYS_mount },
	/* Replacing the handler: killed outright, so nothing can disarm the report. */
	{ "replace SIGSYS handler", act_sigsys_ignore, 0, check_killed_no_report, 0 },
	/* Junk in the high bits of the signal number matches no allow rule. */
	{ "SIGSYS with high bits", act_sigsys_highbits, 0, assert_killed, SYS_rt_sigaction },
	{ "mmap PROT_EXEC", act_mmap_exec, 0, assert_killed, SYS_mmap },
	{ "mprotect PROT_EXEC", act_mprotect_exec, 0, assert_killed, SYS_mprotect },
	{ "fork", act_fork, 0, assert_killed, SYS_clone },
	{ "kill another process", act_kill_other, 0, assert_killed, SYS_kill },
	{ "raise an rlimit", act_raise_limit, 0, assert_killed, SYS_prlimit64 },
	{ "isatty probe (soft ENOTTY)", act_isatty, 0, check_enotty, 0 },
	{ "abort (tgkill to itself works)", act_abort, 0, check_abort, 0 },
	{ "shutdown a socket", act_shutdown, 0, assert_killed, SYS_shutdown },
	{ "fcntl F_SETFL", act_clear_flags, 0, assert_killed, SYS_fcntl },
	{ "setsockopt SO_LINGER", act_linger, 0, assert_killed, SYS_setsockopt },
	{ "socket timeouts and FIONBIO work", act_timeouts, 0, check_worked, 0 },
};

_Static_assert(sizeof(attacks) / sizeof(attacks[0]) == 19, "main() lists every attack");

static void test_attack(void **state)
{
	const struct attack *a = *state;

	run_all(a->fn, a->only_private, a->check, a->nr);
}

static void test_network_stages(void **state)
{
	static const char *const net[] = { "smtp", "dns", NULL };
	const char *const *s;
	struct run r;

	(void)state;
	for (s = net; *s != NULL; s++) {
		run_init(&r, *s, act_socket_inet);
		run_child(&r);
		assert_worked(&r);
		run_init(&r, *s, act_connect_udp);
		run_child(&r);
		assert_worked(&r);
		run_init(&r, *s, act_socket_unix);
		run_child(&r);
		assert_killed(&r, SYS_socket);
		run_init(&r, *s, act_socket_raw);
		run_child(&r);
		assert_killed(&r, SYS_socket);
		run_init(&r, *s, act_bind);
		run_child(&r);
		assert_killed(&r, SYS_bind);
		run_init(&r, *s, act_nodelay);
		run_child(&r);
		assert_worked(&r);
		run_init(&r, *s, act_multicast);
		run_child(&r);
		assert_killed(&r, SYS_setsockopt);
	}
}

/* run_accept - stage tries accept4 on a listener with a client waiting. */
static void run_accept(struct run *r, const char *stage)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int lfd, cfd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	run_init(r, stage, act_accept);
	r->extra_fd = lfd;
	run_child(r);
	close(cfd);
	close(lfd);
}

/* screen accepts on the listener; smtpd, which gets clients from screen, cannot. */
static void test_screen_accepts_smtpd_cannot(void **state)
{
	struct run r;

	(void)state;
	run_accept(&r, "screen");
	assert_worked(&r);
	run_accept(&r, "smtpd");
	assert_killed(&r, SYS_accept4);
}

static void test_queue_landlock(void **state)
{
	static const struct {
		const char *stage;
		int (*fn)(void);
	} cases[] = {
		{ "cleanup", act_cleanup_files }, { "qmgr", act_qmgr_files },
		{ "bounce", act_bounce_files },
	};
	struct run r;
	size_t i;

	(void)state;
	if (landlock_abi() < 3)
		skip();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_init(&r, cases[i].stage, cases[i].fn);
		run_child(&r);
		assert_worked(&r);
	}
}

/* RLIMIT_FSIZE 0: a stage that writes no file gets EFBIG, and is not killed by SIGXFSZ. */
static void test_fsize_limit(void **state)
{
	struct buf path = BUF_INIT;
	struct run r;
	int fd;

	(void)state;
	buf_printf(&path, "%s/stderr.log", qdir);
	fd = open(buf_str(&path), O_CREAT | O_WRONLY | O_APPEND, 0600);
	assert_true(fd >= 0);
	run_init(&r, "smtpd", act_write_file);
	r.extra_fd = fd;
	run_child(&r);
	assert_refused(&r, -1, EFBIG, EFBIG);
	run_init(&r, "log", act_write_file);
	r.extra_fd = fd;
	run_child(&r);
	assert_worked(&r);
	close(fd);
	buf_free(&path);
}

static void test_no_report_fd(void **state)
{
	struct run r;

	(void)state;
	run_init(&r, "smtpd", act_execve);
	r.no_report = 1;
	run_child(&r);
	check_killed_no_report(&r, 0);
}

/* cap_is - capability c is (1) or is not (0) in set. */
static int cap_is(cap_t caps, cap_value_t c, cap_flag_t set, int want)
{
	cap_flag_value_t v;

	return cap_get_flag(caps, c, set, &v) == 0 && (v == CAP_SET) == want;
}

/* broker_caps_ok - the broker keeps what policy.c lists and nothing else. */
static int broker_caps_ok(void)
{
	cap_t c = cap_get_proc();
	int ok = c != NULL
		&& cap_is(c, CAP_KILL, CAP_EFFECTIVE, 1) && cap_is(c, CAP_NET_BIND_SERVICE, CAP_EFFECTIVE, 1)
		&& cap_is(c, CAP_SYS_ADMIN, CAP_PERMITTED, 1) && cap_is(c, CAP_SYS_ADMIN, CAP_EFFECTIVE, 0)
		&& cap_is(c, CAP_SETUID, CAP_PERMITTED, 1) && cap_is(c, CAP_SETUID, CAP_EFFECTIVE, 0)
		&& cap_is(c, CAP_DAC_OVERRIDE, CAP_PERMITTED, 0) && cap_is(c, CAP_SYS_PTRACE, CAP_PERMITTED, 0)
		&& cap_is(c, CAP_SYS_MODULE, CAP_PERMITTED, 0) && cap_is(c, CAP_KILL, CAP_INHERITABLE, 0)
		&& cap_get_bound(CAP_SYS_MODULE) == 0 && cap_get_bound(CAP_SYS_CHROOT) == 1;

	cap_free(c);
	return ok;
}

static int act_broker_checks(void)
{
	pid_t pid;
	int st;

	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != -1 || errno != EPERM)
		return act_fail_at(1);
	if (unshare(CLONE_NEWUSER) != -1 || errno != EPERM)
		return act_fail_at(2);
	pid = fork();	/* the broker forks stages: still allowed */
	if (pid == 0)
		child_exit(7);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
		return act_fail_at(3);
	if (getuid() != 0)
		return act_fail_at(4);
	/* an allowlist: what it does not name fails with EPERM */
	if (syscall(SYS_io_uring_setup, 1, NULL) != -1 || errno != EPERM)
		return act_fail_at(5);
	if (syscall(SYS_setns, 0, 0) != -1 || errno != EPERM)
		return act_fail_at(6);
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		return act_fail_at(7);
	return broker_caps_ok() ? 0 : act_fail_at(8);
}

static void test_broker_filter(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sandbox_broker_enter();
		child_exit(act_broker_checks() == 0 ? 0 : 10 + errno % 100);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("broker checks failed: status 0x%x", st);
}

/* A stage started by the broker inherits its filter: confinement and reports still work. */
static void test_broker_then_stage(void **state)
{
	struct run r;

	(void)state;
	run_init(&r, "qmgr", act_plain_work);
	r.broker_first = 1;
	r.inspect = 1;
	run_child(&r);
	assert_worked(&r);
	assert_status_line(&r, "Seccomp_filters:\t2\n");
	run_free(&r);
	/* ptrace: the broker filter says EPERM, the stage's TRAP outranks it. */
	run_init(&r, "smtpd", act_ptrace);
	r.broker_first = 1;
	run_child(&r);
	assert_killed(&r, SYS_ptrace);
}

static void test_fail_closed(void **state)
{
	struct buf bad = BUF_INIT;
	struct run r;

	(void)state;
	run_init(&r, "smtpd", act_plain_work);
	r.uid = 0;
	run_child(&r);
	assert_true(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1);
	buf_printf(&bad, "%s/nosuch", qdir);
	run_init(&r, "smtpd", act_plain_work);
	r.queue_dir = buf_str(&bad);
	run_child(&r);
	assert_true(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1);
	/* A root the stage user owns is refused. */
	buf_reset(&bad);
	buf_printf(&bad, "%s/incoming", qdir);
	run_init(&r, "cleanup", act_plain_work);
	r.queue_dir = buf_str(&bad);
	run_child(&r);
	assert_true(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1);
	run_init(&r, "smtpd", act_plain_work);
	r.nr_off = 8;	/* 8 + 4 > 10 bytes */
	run_child(&r);
	assert_true(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1);
	buf_free(&bad);
}

int main(void)
{
	struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_table),
		cmocka_unit_test(test_docs_table),
		cmocka_unit_test(test_syscall_name),
		cmocka_unit_test(test_confinement_state),
		cmocka_unit_test(test_network_stages),
		cmocka_unit_test(test_screen_accepts_smtpd_cannot),
		cmocka_unit_test(test_queue_landlock),
		cmocka_unit_test(test_fsize_limit),
		cmocka_unit_test(test_no_report_fd),
		cmocka_unit_test(test_broker_filter),
		cmocka_unit_test(test_broker_then_stage),
		cmocka_unit_test(test_fail_closed),
#define ATTACK(i) { attacks[i].name, test_attack, NULL, NULL, (void *)&attacks[i] }
		ATTACK(0), ATTACK(1), ATTACK(2), ATTACK(3), ATTACK(4), ATTACK(5), ATTACK(6),
		ATTACK(7), ATTACK(8), ATTACK(9), ATTACK(10), ATTACK(11), ATTACK(12), ATTACK(13),
		ATTACK(14), ATTACK(15), ATTACK(16), ATTACK(17), ATTACK(18),
#undef ATTACK
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_sandbox: must run as root, skipped\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, setup_queue, teardown_queue);
}
