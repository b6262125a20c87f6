/*
 * policy.c - THE confinement policy of every moat stage, in one table.
 *
 * An auditor reads this file to know what each stage may do: its root, its
 * user, its network namespace, its rlimits, the queue directories Landlock
 * lets it touch, and every syscall its seccomp filter allows beyond the
 * common base, each with the reason it is there. sandbox.c applies an entry;
 * seccomp.c and landlock.c turn it into kernel objects and add nothing of
 * their own. The stages themselves are listed in sandbox/stages.def; the
 * per-stage table of docs/sandbox.md is checked against the rows below by
 * tests/unit/test_sandbox.c.
 *
 * Reading a stage entry: anything not listed is refused. In a stage filter a
 * refused syscall raises SIGSYS, the stage reports the syscall number to the
 * broker and dies (report.c); without a report channel it is killed at once.
 * Argument filters compare all 64 bits of a register, so a value with junk
 * in the high bits matches no allow rule and is refused too.
 *
 * This file must never grow a rule without a `why`, and never allow execve,
 * fork/clone, ptrace, mount, setuid or socket() for a stage that does not say
 * here why it needs it (none does except socket for smtp and dns).
 */
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/capability.h>

#include "sandbox/internal.h"
#include "sandbox/stagedef.h"

/* ARG(n, op, a, b): one comparison on syscall argument n (see scmp_arg_cmp). */
#define ARG(n, op, a, b) { (n), (op), (a), (b) }

/*
 * Every stage: memory, time, signals, its own fds and AF_UNIX channels.
 * Nothing here names a file, creates a process or a socket.
 */
const char *const sandbox_base_syscalls[] = {
	"read", "write", "readv", "writev", "close",	/* I/O on fds it was given */
	"pread64", "pwrite64", "lseek",
	"exit", "exit_group", "restart_syscall", "rt_sigreturn", "rt_sigprocmask",
	"brk", "munmap", "mremap", "madvise",	/* malloc; mmap/mprotect are below */
	"futex",				/* libc locks, even single-threaded */
	"clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep",
	"gettimeofday", "time",			/* timestamps and timeouts */
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	"uname",				/* OpenSSL and libc ask the kernel version */
	"getrandom",				/* session ids, TLS */
	"sysinfo",				/* glibc qsort asks for physical memory */
	"sendmsg", "recvmsg", "sendto", "recvfrom",	/* IPC, fds by SCM_RIGHTS */
	"getsockopt", "getsockname", "getpeername",	/* never shutdown(): it would stop a shared listener for all */
	"poll", "ppoll", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"fstat", "newfstatat",			/* glibc's fstat is newfstatat(AT_EMPTY_PATH) */
	"dup2", "dup3",				/* moving a received fd to a fixed number */
	"sched_yield",
	NULL
};

/*
 * Argument-filtered rules. feature 0 applies to every stage; a SANDBOX_F_*
 * feature only to stages that declare it; `unless` excludes stages that do.
 */
const struct sandbox_rule sandbox_base_rules[] = {
	{ 0, 0, "mmap", SANDBOX_ACT_ALLOW, 1, { ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) }, 0,
	  "memory, never executable: no code can be mapped after confinement" },
	{ 0, 0, "mprotect", SANDBOX_ACT_ALLOW, 1, { ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) }, 0,
	  "malloc guard pages; never to make memory executable" },
	{ 0, 0, "rt_sigaction", SANDBOX_ACT_KILL, 1, { ARG(0, SCMP_CMP_EQ, SIGSYS, 0) }, 0,
	  "SIGSYS carries the seccomp report: replacing or querying its handler kills "
	  "(the handler itself uses this rule to die, see report.c)" },
	{ 0, 0, "rt_sigaction", SANDBOX_ACT_ALLOW, 1, { ARG(0, SCMP_CMP_LT, SIGSYS, 0) }, 0,
	  "signal handlers for every other signal (SIGPIPE, SIGTERM, ...)" },
	{ 0, 0, "rt_sigaction", SANDBOX_ACT_ALLOW, 1, { ARG(0, SCMP_CMP_MASKED_EQ, ~0x1fULL, 0x20) }, 0,
	  "signals 32..63 (glibc's internal and realtime signals)" },
	{ 0, 0, "rt_sigaction", SANDBOX_ACT_ALLOW, 1, { ARG(0, SCMP_CMP_EQ, 64, 0) }, 0,
	  "signal 64, the last realtime signal" },
	{ 0, 0, "fcntl", SANDBOX_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_EQ, F_GETFL, 0) }, 0,
	  "access mode of a received fd (ipc_fd_check); never F_SETFL, which could clear "
	  "O_APPEND on the log file the broker also writes: FIONBIO sets non-blocking mode" },
	{ 0, 0, "fcntl", SANDBOX_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_EQ, F_GETFD, 0) }, 0,
	  "close-on-exec flag of a received fd" },
	{ 0, 0, "fcntl", SANDBOX_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_EQ, F_SETFD, 0) }, 0,
	  "close-on-exec flag of a received fd" },
	{ 0, 0, "fcntl", SANDBOX_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_EQ, F_DUPFD_CLOEXEC, 0) }, 0,
	  "duplicating an fd it already holds" },
	{ 0, 0, "prlimit64", SANDBOX_ACT_ALLOW, 1, { ARG(2, SCMP_CMP_EQ, 0, 0) }, 0,
	  "getrlimit only (new_limit NULL): limits can never be raised" },
	{ 0, 0, "sigaltstack", SANDBOX_ACT_ALLOW, 1, { ARG(0, SCMP_CMP_EQ, 0, 0) }, 0,
	  "query only (new stack NULL): ASan/UBSan builds ask before every noreturn call" },
	{ 0, 0, "tgkill", SANDBOX_ACT_ALLOW, 0, { ARG(0, 0, 0, 0) }, 1,
	  "abort() signals its own thread; arg0 must be the stage's own pid" },
	/* setsockopt by level AND option: never SO_LINGER, filters, multicast, SO_PASSRIGHTS, ... */
	{ 0, 0, "setsockopt", SANDBOX_ACT_ALLOW, 2,
	  { ARG(1, SCMP_CMP_EQ, SOL_SOCKET, 0), ARG(2, SCMP_CMP_EQ, SO_SNDTIMEO, 0) }, 0,
	  "a bounded wait on a send: every stage's log channel, smtpd's client" },
	{ 0, 0, "setsockopt", SANDBOX_ACT_ALLOW, 2,
	  { ARG(1, SCMP_CMP_EQ, SOL_SOCKET, 0), ARG(2, SCMP_CMP_EQ, SO_RCVTIMEO, 0) }, 0,
	  "a bounded wait on a read: smtpd's client and cleanup channel" },
	{ 0, 0, "ioctl", SANDBOX_ACT_ENOTTY, 1, { ARG(1, SCMP_CMP_EQ, TCGETS, 0) }, 0,
	  "isatty() probe of stdio on /dev/null: answered 'not a tty', never a kill" },
	{ 0, 0, "ioctl", SANDBOX_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_EQ, FIONBIO, 0) }, 0,
	  "OpenSSL sets non-blocking mode this way" },
	{ 0, 0, "ioctl", SANDBOX_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_EQ, FIONREAD, 0) }, 0,
	  "bytes waiting on a socket it holds" },
	{ 0, SANDBOX_F_QUEUE_FILES, "openat", SANDBOX_ACT_EACCES, 0, { ARG(0, 0, 0, 0) }, 0,
	  "a stage without files opens nothing: libc probes (/etc/localtime, "
	  "/etc/gai.conf) fail softly with EACCES; the chroot is empty anyway" },

	/* SANDBOX_F_TABLES: lookup. */
	{ SANDBOX_F_TABLES, 0, "sched_getaffinity", SANDBOX_ACT_ALLOW, 1, { ARG(0, SCMP_CMP_EQ, 0, 0) }, 0,
	  "Berkeley DB counts the CPUs at every db_create (glibc's get_nprocs, whose /sys and "
	  "/proc probes fail in the empty root): the stage's own CPU mask, nobody else's" },

	/* SANDBOX_F_ACCEPT: screen. */
	{ SANDBOX_F_ACCEPT, 0, "accept4", SANDBOX_ACT_ALLOW, 0, { ARG(0, 0, 0, 0) }, 0,
	  "take a connection from the listening socket the broker passed" },
	{ SANDBOX_F_ACCEPT, 0, "accept", SANDBOX_ACT_ALLOW, 0, { ARG(0, 0, 0, 0) }, 0,
	  "take a connection from the listening socket the broker passed" },

	/* SANDBOX_F_INET_CONNECT: smtp, dns. */
	{ SANDBOX_F_INET_CONNECT, 0, "socket", SANDBOX_ACT_ALLOW, 2,
	  { ARG(0, SCMP_CMP_EQ, AF_INET, 0), ARG(1, SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM) }, 0,
	  "outbound TCP over IPv4 (SMTP, DNS over TCP)" },
	{ SANDBOX_F_INET_CONNECT, 0, "socket", SANDBOX_ACT_ALLOW, 2,
	  { ARG(0, SCMP_CMP_EQ, AF_INET6, 0), ARG(1, SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM) }, 0,
	  "outbound TCP over IPv6" },
	{ SANDBOX_F_INET_CONNECT, 0, "socket", SANDBOX_ACT_ALLOW, 2,
	  { ARG(0, SCMP_CMP_EQ, AF_INET, 0), ARG(1, SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM) }, 0,
	  "DNS queries over UDP/IPv4" },
	{ SANDBOX_F_INET_CONNECT, 0, "socket", SANDBOX_ACT_ALLOW, 2,
	  { ARG(0, SCMP_CMP_EQ, AF_INET6, 0), ARG(1, SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM) }, 0,
	  "DNS queries over UDP/IPv6" },
	{ SANDBOX_F_INET_CONNECT, 0, "connect", SANDBOX_ACT_ALLOW, 0, { ARG(0, 0, 0, 0) }, 0,
	  "connect the socket it just made (never AF_UNIX: socket() cannot make one)" },
	{ SANDBOX_F_INET_CONNECT, 0, "setsockopt", SANDBOX_ACT_ALLOW, 2,
	  { ARG(1, SCMP_CMP_EQ, IPPROTO_TCP, 0), ARG(2, SCMP_CMP_EQ, TCP_NODELAY, 0) }, 0,
	  "no Nagle delay on a pipelined SMTP connection" },

	/* SANDBOX_F_QUEUE_FILES: cleanup, qmgr, bounce, pickup (Landlock bounds the paths). */
	{ SANDBOX_F_QUEUE_FILES, 0, "openat", SANDBOX_ACT_ALLOW, 0, { ARG(0, 0, 0, 0) }, 0,
	  "open queue files; chroot and Landlock limit where" },
	{ SANDBOX_F_QUEUE_FILES, 0, "rename", SANDBOX_ACT_ALLOW, 0, { ARG(0, 0, 0, 0) }, 0,
	  "queue state moves (incoming -> active -> deferred)" },
	{ SANDBOX_F_QUEUE_FILES, 0, "renameat", SANDBOX_ACT_ALLOW, 0, { ARG(0, 0, 0, 0) }, 0,
	  "queue state moves relative to a directory fd" },
	{ SANDBOX_F_QUEUE_FILES, 0, "renameat2", SANDBOX_ACT_ALLOW, 0, { ARG(0, 0, 0, 0) }, 0,
	  "queue state moves without replacing (RENAME_NOREPLACE)" },
	{ SANDBOX_F_QUEUE_FILES, 0, "unlink", SANDBOX_ACT_ALLOW, 0, { ARG(0, 0, 0, 0) }, 0,
	  "remove a delivered or incomplete queue file" },
	{ SANDBOX_F_QUEUE_FILES, 0, "unlinkat", SANDBOX_ACT_ALLOW, 0, { ARG(0, 0, 0, 0) }, 0,
	  "remove a queue file relative to a directory fd" },
	{ SANDBOX_F_QUEUE_FILES, 0, "fsync", SANDBOX_ACT_ALLOW, 0, { ARG(0, 0, 0, 0) }, 0,
	  "durability: file and directory are on disk before 250 is sent" },
	{ SANDBOX_F_QUEUE_FILES, 0, "fdatasync", SANDBOX_ACT_ALLOW, 0, { ARG(0, 0, 0, 0) }, 0,
	  "durability of per-recipient status updates" },
	{ SANDBOX_F_QUEUE_FILES, 0, "flock", SANDBOX_ACT_ALLOW, 0, { ARG(0, 0, 0, 0) }, 0,
	  "a writer holds its queue file locked; recovery skips locked files" },
	{ SANDBOX_F_QUEUE_FILES, 0, "fchmod", SANDBOX_ACT_ALLOW, 0, { ARG(0, 0, 0, 0) }, 0,
	  "mark a queue file complete (mode bits), as Postfix does" },
	{ SANDBOX_F_QUEUE_FILES, 0, "ftruncate", SANDBOX_ACT_ALLOW, 0, { ARG(0, 0, 0, 0) }, 0,
	  "cut a half-written record after a failed write" },
	{ SANDBOX_F_QUEUE_FILES, 0, "fcntl", SANDBOX_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_EQ, F_SETLEASE, 0) }, 0,
	  "reuse a spare queue file only when no other process has it open: the "
	  "kernel grants a write lease only then (queue/qspare.h)" },
	{ SANDBOX_F_QUEUE_FILES, 0, "getdents64", SANDBOX_ACT_ALLOW, 0, { ARG(0, 0, 0, 0) }, 0,
	  "scan a queue directory" },
	{ SANDBOX_F_QUEUE_FILES, 0, "fstatfs", SANDBOX_ACT_ALLOW, 0, { ARG(0, 0, 0, 0) }, 0,
	  "free-space reserve check" },
	{ SANDBOX_F_QUEUE_FILES, 0, "statfs", SANDBOX_ACT_ALLOW, 0, { ARG(0, 0, 0, 0) }, 0,
	  "free-space reserve check by path" },
	{ 0, 0, NULL, 0, 0, { ARG(0, 0, 0, 0) }, 0, NULL }
};

static const char *const sandbox_qmgr_syscalls[] = {
	"utimensat",	/* a deferred file's mtime is its next retry time (Postfix's rule) */
	NULL
};

/* Landlock: the queue directories each queue stage may touch. */
static const struct sandbox_dir sandbox_dirs_cleanup[] = {
	{ "incoming", 1 }, { "spare", 1 },
	{ "hold", 1 },		/* a message a content check holds is committed there */
	{ NULL, 0 }
};

static const struct sandbox_dir sandbox_dirs_qmgr[] = {
	{ "incoming", 1 }, { "active", 1 }, { "deferred", 1 }, { "hold", 1 },
	{ "corrupt", 1 }, { "bounce", 1 }, { "defer", 1 }, { "spare", 1 },
	{ NULL, 0 }
};

static const struct sandbox_dir sandbox_dirs_bounce[] = {
	{ "incoming", 0 }, { "active", 0 }, { "deferred", 0 }, { "hold", 0 },
	{ "bounce", 1 }, { "defer", 1 },
	{ NULL, 0 }
};

/*
 * Row shapes: where a stage lives and as whom. NETWORK_STAGE: empty root,
 * network_user, files never written; QUEUE_STAGE: the queue as root,
 * mail_owner, writes files; HELPER_STAGE: empty root, helper_user.
 */
#define NETWORK_STAGE	.root = SANDBOX_ROOT_EMPTY, .user = SANDBOX_USER_NETWORK, .writes_files = 0
#define QUEUE_STAGE	.root = SANDBOX_ROOT_QUEUE, .user = SANDBOX_USER_QUEUE, .writes_files = 1, \
			.features = SANDBOX_F_QUEUE_FILES
#define HELPER_STAGE	.root = SANDBOX_ROOT_EMPTY, .user = SANDBOX_USER_HELPER

/* One row per stage of sandbox/stages.def, in its order; docs/sandbox.md shows them as a table. */
static const struct sandbox_policy sandbox_policies[STAGEDEF_COUNT] = {
	[STAGEDEF_SCREEN] = { .stage = "screen", NETWORK_STAGE, .private_net = 1, .nofile = 65536,
		.features = SANDBOX_F_ACCEPT,
		.why = "Holds an inet service's listening sockets and every client before its "
		"first SMTP command, in one event loop: it accepts (accept works from "
		"any network namespace, so it lives in an empty one and cannot create a "
		"socket), counts and greets clients and passes each, with the bytes it "
		"sent, to an smtpd over a channel. Many held clients, hence the large fd "
		"limit (the broker's own hard limit caps it). No file access at all." },
	[STAGEDEF_SMTPD] = { .stage = "smtpd", NETWORK_STAGE, .private_net = 1, .nofile = 32,
		.why = "Speaks SMTP with anyone on the Internet, so it is the most exposed stage. "
		"It holds no listener: its screen passes it one client connection at a "
		"time over a channel, so it cannot accept, create or shut down any "
		"socket of its own and lives in an empty network namespace. Empty root, "
		"a uid that owns no file, no file access at all (openat fails with "
		"EACCES); the message goes to cleanup over IPC." },
	[STAGEDEF_SMTP] = { .stage = "smtp", NETWORK_STAGE, .private_net = 0, .nofile = 32,
		.features = SANDBOX_F_INET_CONNECT,
		.why = "SMTP/LMTP client: the only stage besides dns that opens connections, so "
		"it keeps the host network namespace and may create TCP/UDP sockets of "
		"family AF_INET/AF_INET6 and connect them, nothing else (no bind, no "
		"listen, no AF_UNIX/netlink/raw); Landlock limits TCP connect to the "
		"ports of its configured transports. It reads the message from a "
		"read-only fd that qmgr passes; it opens no file itself." },
	[STAGEDEF_DNS] = { .stage = "dns", NETWORK_STAGE, .private_net = 0, .nofile = 4096,
		.features = SANDBOX_F_INET_CONNECT,
		.why = "The only stage that sends DNS queries: UDP and TCP sockets of family "
		"AF_INET/AF_INET6 to its resolvers (dns_resolver_address, or the "
		"nameservers of /etc/resolv.conf, read before confinement). It opens no "
		"file once confined; every answer is parsed as hostile. Many clients "
		"(every smtp and smtpd process), hence the larger fd limit." },
	[STAGEDEF_CLEANUP] = { .stage = "cleanup", QUEUE_STAGE, .private_net = 1, .nofile = 32,
		.dirs = sandbox_dirs_cleanup,
		.why = "Writes new queue files into incoming/ and fsyncs them, reusing delivered "
		"files from spare/ when it can; Landlock lets it create, write and rename "
		"files in incoming/ and spare/ only. No network namespace "
		"entries: it talks only over passed channels." },
	[STAGEDEF_QMGR] = { .stage = "qmgr", QUEUE_STAGE, .private_net = 1, .nofile = 2048,
		.syscalls = sandbox_qmgr_syscalls, .dirs = sandbox_dirs_qmgr,
		.why = "Moves queue files between incoming, active, deferred, hold and corrupt, "
		"retires delivered ones to spare/ for reuse, "
		"records per-recipient status in bounce/ and defer/, and passes read-only "
		"fds of queue files to smtp. Many channels (one per smtp process), hence "
		"the larger fd limit." },
	[STAGEDEF_BOUNCE] = { .stage = "bounce", QUEUE_STAGE, .private_net = 1, .nofile = 32,
		.dirs = sandbox_dirs_bounce,
		.why = "Reads queue files and the per-recipient logs to build DSNs, which it "
		"submits through cleanup over IPC: it may only read the queue "
		"directories and write its own logs in bounce/ and defer/." },
	[STAGEDEF_POLICY] = { .stage = "policy", HELPER_STAGE, .private_net = 1, .nofile = 1024,
		.why = "The check_policy_service client: relays smtpd's requests to the policy "
		"servers main.cf names, over sockets the broker connected and passed in. It "
		"makes no socket and opens no file (no socket or connect in its filter), in a "
		"network namespace of its own with no interface; what a server answers is "
		"read as hostile and bounded. One process for every smtpd, hence the larger "
		"fd limit." },
	[STAGEDEF_LOG] = { .stage = "log", HELPER_STAGE, .private_net = 1, .writes_files = 1,
		.nofile = 4096,
		.why = "Receives log events over channels and writes them to the syslog socket "
		"or to maillog_file, opened by the broker and passed as an fd. It opens "
		"nothing. One channel per running stage, hence the larger fd limit." },
	[STAGEDEF_LOOKUP] = { .stage = "lookup", HELPER_STAGE, .private_net = 1, .nofile = 4096,
		.features = SANDBOX_F_TABLES,
		.why = "Holds the lookup tables (hash, btree, pcre, regexp, cidr, texthash, ...) "
		"and answers other stages' queries about them. The broker opens every table "
		"file read-only and passes the fds; the stage parses them but can open "
		"nothing itself (openat fails, no socket, no network namespace entries). A "
		"pattern match is bounded by PCRE2 match and depth limits, JIT off (no "
		"executable memory). Many clients (every smtpd, cleanup, smtp and qmgr "
		"process), hence the larger fd limit." },
	[STAGEDEF_TLSKEY] = { .stage = "tlskey", .root = SANDBOX_ROOT_EMPTY, .user = SANDBOX_USER_KEY, .private_net = 1, .nofile = 4096,
		.why = "Holds the TLS private keys and signs handshake digests for smtpd and "
		"smtp; no other process has the keys. The broker opens the key files "
		"read-only and passes the fds; the stage parses them confined and can open "
		"nothing itself (no openat, no socket, a network namespace with no "
		"interface). OpenSSL needs only what every stage has: getrandom for RSA "
		"blinding and ECDSA nonces, futex and madvise; openssl.cnf is read before "
		"the chroot. A channel per smtpd and smtp process, hence the larger fd limit." },
};

/*
 * The broker's own filter: an ALLOWLIST, as the stages' filters are, whose
 * default is EPERM. Filters stack across execve, so it also allows what a
 * stage does before its own filter is loaded (the dynamic loader, reading
 * main.cf, unshare, mount, chroot, setresuid, capset, prctl, Landlock,
 * seccomp) and, by construction in seccomp.c, every syscall any stage
 * filter names. Refusal is EPERM, not a kill: the kernel applies the
 * strictest action of all stacked filters, and a stacked KILL would outrank
 * a stage's own SIGSYS report, which is how the broker learns which syscall
 * a stage tried. What it leaves out no moat process needs: debugging other
 * processes (ptrace, process_vm_*, pidfd_getfd), kernel modules, kexec,
 * eBPF, perf, userfaultfd, keyrings, the clock, swap, reboot, io_uring
 * (which would bypass a stage filter), the new mount API, setns, and user
 * namespaces (refused by argument below).
 */
const char *const sandbox_broker_syscalls[] = {
	/* processes: start stages (fork is clone, below), wait for them, signal them */
	"execve", "wait4", "kill", "setsid", "getppid", "exit", "exit_group",
	/* files: main.cf, master.cf, the pid and lock files, the log file */
	"openat", "open", "close", "close_range", "read", "write", "pread64", "lseek",
	"fstat", "newfstatat", "stat", "lstat", "statx", "access", "faccessat", "faccessat2",
	"readlink", "readlinkat", "getdents64", "rename", "renameat", "unlink", "unlinkat",
	"chmod", "fchmod", "fchmodat", "chown", "fchown", "fchownat", "mkdir", "mkdirat",
	"umask", "flock", "fcntl", "dup", "dup2", "dup3", "ioctl", "getcwd", "fsync",
	/* sockets: listeners, channels (socketpair), control socket, syslog, sock_diag */
	"socket", "socketpair", "bind", "listen", "accept", "accept4", "connect",
	"sendto", "sendmsg", "recvfrom", "recvmsg", "setsockopt", "getsockopt",
	"getsockname", "getpeername",
	/* the event loop and signals */
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "poll", "ppoll",
	"signalfd4", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "restart_syscall",
	/* memory, threads of libc, time, identity */
	"brk", "mmap", "munmap", "mprotect", "mremap", "madvise", "futex",
	"set_robust_list", "set_tid_address", "rseq", "arch_prctl",
	"clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getrandom",
	"uname", "sysinfo", "prlimit64", "getrlimit", "sched_getaffinity", "sched_yield",
	/* a stage's confinement before its own filter (sandbox.c, caps.c, landlock.c) */
	"mount", "chroot", "chdir", "statfs", "fstatfs",
	"setgroups", "setresuid", "setresgid", "getresuid", "getresgid", "getgroups",
	"capget", "capset", "prctl", "setrlimit",
	"landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self", "seccomp",
	NULL
};

const struct sandbox_rule sandbox_broker_rules[] = {
	{ 0, 0, "unshare", SANDBOX_ACT_ALLOW, 1,
	  { ARG(0, SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, 0) }, 0,
	  "a stage's mount, IPC and network namespaces; never a user namespace, which "
	  "hands an unprivileged process every capability" },
	{ 0, 0, "clone", SANDBOX_ACT_ALLOW, 1,
	  { ARG(0, SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, 0) }, 0,
	  "fork a stage; no user namespaces by clone either" },
	{ 0, 0, "clone3", SANDBOX_ACT_ENOSYS, 0, { ARG(0, 0, 0, 0) }, 0,
	  "clone3 keeps its flags in memory, out of seccomp's sight; ENOSYS makes "
	  "glibc fall back to clone, whose flags are checked above" },
	{ 0, 0, NULL, 0, 0, { ARG(0, 0, 0, 0) }, 0, NULL }
};

/*
 * The capabilities the broker keeps after start-up (docs/sandbox.md lists
 * them). A stage is exec'd as root under no_new_privs, so it starts with at
 * most the broker's permitted set: the five it needs to confine itself are
 * kept there, out of the broker's own effective set.
 */
const struct sandbox_broker_cap sandbox_broker_caps[] = {
	{ CAP_KILL, 1, "signal stages, which run under other uids (stop, restart, kill a compromised one)" },
	{ CAP_NET_BIND_SERVICE, 1, "a reload may bind a new listener on a port below 1024" },
	{ CAP_SYS_ADMIN, 0, "stages: unshare mount, IPC and network namespaces, make mounts private" },
	{ CAP_SYS_CHROOT, 0, "stages: chroot to the queue or to <queue>/empty" },
	{ CAP_SETUID, 0, "stages: setresuid to their own user" },
	{ CAP_SETGID, 0, "stages: setgroups and setresgid" },
	{ CAP_SETPCAP, 0, "stages: empty the bounding set and lock securebits" },
	{ -1, 0, NULL }
};

/* sandbox_policy_lookup - the policy of a stage, NULL if there is none. */
const struct sandbox_policy *sandbox_policy_lookup(const char *stage)
{
	const struct stagedef *d = stagedef_lookup(stage);

	return d != NULL ? &sandbox_policies[d->id] : NULL;
}

/* sandbox_policy_at - the i-th policy (stages.def order), NULL past the end. */
const struct sandbox_policy *sandbox_policy_at(size_t i)
{
	return i < STAGEDEF_COUNT ? &sandbox_policies[i] : NULL;
}
