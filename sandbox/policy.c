/*
 * policy.c - THE confinement policy of every moat stage, in one table.
 *
 * An auditor reads this file to know what each stage may do: its root, its
 * user, its network namespace, its rlimits, the queue directories Landlock
 * lets it touch, and every syscall its seccomp filter allows beyond the
 * common base, each with the reason it is there. sandbox.c applies an entry;
 * seccomp.c and landlock.c turn it into kernel objects and add nothing of
 * their own. docs/sandbox.md is written by hand from this file.
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
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "sandbox/internal.h"

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
	"shutdown", "getsockopt", "getsockname", "getpeername",
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
	  "non-blocking mode of a channel" },
	{ 0, 0, "fcntl", SANDBOX_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_EQ, F_SETFL, 0) }, 0,
	  "non-blocking mode of a channel" },
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
	{ 0, 0, "setsockopt", SANDBOX_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_EQ, SOL_SOCKET, 0) }, 0,
	  "buffer sizes and timeouts on sockets it holds" },
	{ 0, 0, "setsockopt", SANDBOX_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_EQ, IPPROTO_TCP, 0) }, 0,
	  "TCP_NODELAY and keepalive on an SMTP connection" },
	{ 0, 0, "setsockopt", SANDBOX_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_EQ, IPPROTO_IP, 0) }, 0,
	  "IP options of an SMTP connection (TOS)" },
	{ 0, 0, "setsockopt", SANDBOX_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_EQ, IPPROTO_IPV6, 0) }, 0,
	  "IPv6 options of an SMTP connection" },
	{ 0, 0, "ioctl", SANDBOX_ACT_ENOTTY, 1, { ARG(1, SCMP_CMP_EQ, TCGETS, 0) }, 0,
	  "isatty() probe of stdio on /dev/null: answered 'not a tty', never a kill" },
	{ 0, 0, "ioctl", SANDBOX_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_EQ, FIONBIO, 0) }, 0,
	  "OpenSSL sets non-blocking mode this way" },
	{ 0, 0, "ioctl", SANDBOX_ACT_ALLOW, 1, { ARG(1, SCMP_CMP_EQ, FIONREAD, 0) }, 0,
	  "bytes waiting on a socket it holds" },
	{ 0, SANDBOX_F_QUEUE_FILES, "openat", SANDBOX_ACT_EACCES, 0, { ARG(0, 0, 0, 0) }, 0,
	  "a stage without files opens nothing: libc probes (/etc/localtime, "
	  "/etc/gai.conf) fail softly with EACCES; the chroot is empty anyway" },

	/* SANDBOX_F_ACCEPT: smtpd. */
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

static const char *const sandbox_no_syscalls[] = { NULL };

static const char *const sandbox_qmgr_syscalls[] = {
	"utimensat",	/* a deferred file's mtime is its next retry time (Postfix's rule) */
	NULL
};

static const char *const sandbox_log_syscalls[] = {
	"fsync", "fdatasync",	/* the audit trail fd is made durable per record */
	NULL
};

/* Landlock: the queue directories each queue stage may touch. */
static const struct sandbox_dir sandbox_dirs_cleanup[] = {
	{ "incoming", 1 }, { "spare", 1 },
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

static const struct sandbox_dir sandbox_dirs_pickup[] = {
	{ "maildrop", 1 },
	{ NULL, 0 }
};

/* The stages. Fields: stage, root, user, private_net, writes_files, nofile. */
static const struct sandbox_policy sandbox_policies[] = {
	{ "smtpd", SANDBOX_ROOT_EMPTY, SANDBOX_USER_NETWORK, 1, 0, 32,
	  sandbox_no_syscalls, SANDBOX_F_ACCEPT,
	  "Speaks SMTP with anyone on the Internet, so it is the most exposed stage. "
	  "It accepts connections on the listening socket the broker bound (accept "
	  "works from any network namespace), so it lives in an empty network "
	  "namespace and cannot create a socket of any kind. Empty root, a uid that "
	  "owns no file, no file access at all (openat fails with EACCES); the "
	  "message goes to cleanup over IPC.", NULL },
	{ "smtp", SANDBOX_ROOT_EMPTY, SANDBOX_USER_NETWORK, 0, 0, 32,
	  sandbox_no_syscalls, SANDBOX_F_INET_CONNECT,
	  "SMTP/LMTP client: the only stage besides dns that opens connections, so "
	  "it keeps the host network namespace and may create TCP/UDP sockets of "
	  "family AF_INET/AF_INET6 and connect them, nothing else (no bind, no "
	  "listen, no AF_UNIX/netlink/raw); Landlock limits TCP connect to the "
	  "ports of its configured transports. It reads the message from a "
	  "read-only fd that qmgr passes; it opens no file itself.", NULL },
	{ "dns", SANDBOX_ROOT_EMPTY, SANDBOX_USER_NETWORK, 0, 0, 4096,
	  sandbox_no_syscalls, SANDBOX_F_INET_CONNECT,
	  "The only stage that sends DNS queries: UDP and TCP sockets of family "
	  "AF_INET/AF_INET6 to its resolvers (dns_resolver_address, or the "
	  "nameservers of /etc/resolv.conf, read before confinement). It opens no "
	  "file once confined; every answer is parsed as hostile.", NULL },
	{ "cleanup", SANDBOX_ROOT_QUEUE, SANDBOX_USER_QUEUE, 1, 1, 32,
	  sandbox_no_syscalls, SANDBOX_F_QUEUE_FILES,
	  "Writes new queue files into incoming/ and fsyncs them, reusing delivered "
	  "files from spare/ when it can; Landlock lets it create, write and rename "
	  "files in incoming/ and spare/ only. No network namespace "
	  "entries: it talks only over passed channels.", sandbox_dirs_cleanup },
	{ "qmgr", SANDBOX_ROOT_QUEUE, SANDBOX_USER_QUEUE, 1, 1, 2048,
	  sandbox_qmgr_syscalls, SANDBOX_F_QUEUE_FILES,
	  "Moves queue files between incoming, active, deferred, hold and corrupt, "
	  "retires delivered ones to spare/ for reuse, "
	  "records per-recipient status in bounce/ and defer/, and passes read-only "
	  "fds of queue files to smtp. Many channels (one per smtp process), hence "
	  "the larger fd limit.", sandbox_dirs_qmgr },
	{ "bounce", SANDBOX_ROOT_QUEUE, SANDBOX_USER_QUEUE, 1, 1, 32,
	  sandbox_no_syscalls, SANDBOX_F_QUEUE_FILES,
	  "Reads queue files and the per-recipient logs to build DSNs, which it "
	  "submits through cleanup over IPC: it may only read the queue "
	  "directories and write its own logs in bounce/ and defer/.", sandbox_dirs_bounce },
	{ "pickup", SANDBOX_ROOT_QUEUE, SANDBOX_USER_QUEUE, 1, 1, 32,
	  sandbox_no_syscalls, SANDBOX_F_QUEUE_FILES,
	  "Takes locally submitted files out of maildrop/ (reads, then removes "
	  "them) and hands their content to cleanup over IPC.", sandbox_dirs_pickup },
	{ "log", SANDBOX_ROOT_EMPTY, SANDBOX_USER_HELPER, 1, 1, 4096,
	  sandbox_log_syscalls, 0,
	  "Receives log events over channels and writes them to the syslog socket "
	  "and the audit trail file, both opened by the broker and passed as fds. "
	  "fsync/fdatasync make each audit record durable. It opens nothing.", NULL },
	{ "lookup", SANDBOX_ROOT_EMPTY, SANDBOX_USER_HELPER, 1, 0, 64,
	  sandbox_no_syscalls, 0,
	  "Answers table lookups and address rewriting from tables the broker "
	  "opened and passed; no network, no file access.", NULL },
	{ "tlskey", SANDBOX_ROOT_EMPTY, SANDBOX_USER_HELPER, 1, 0, 64,
	  sandbox_no_syscalls, 0,
	  "Holds the TLS private keys (loaded before confinement) and signs "
	  "handshake digests for smtpd/smtp over IPC; no network, no files.", NULL },
	{ "auth", SANDBOX_ROOT_EMPTY, SANDBOX_USER_HELPER, 1, 0, 32,
	  sandbox_no_syscalls, 0,
	  "SASL server side; smtpd relays the exchange over IPC. No network, no "
	  "files (credentials are loaded before confinement).", NULL },
};

/*
 * The broker's own filter: a DENY-list with default ALLOW. The broker is
 * root and must fork, exec stage programs, bind, chown, and - because filters
 * stack across execve - leave room for everything a stage does before its
 * own filter (unshare, mount, chroot, setresuid, capset, prctl, landlock,
 * seccomp). What it refuses no moat process ever needs: debugging other
 * processes, kernel modules, eBPF, keyrings, raw I/O, the clock, io_uring
 * (which would bypass a stage filter), user namespaces. Refusal is EPERM, not
 * a kill: a stacked KILL would outrank a stage's own SIGSYS report, and the
 * broker must learn which syscall a stage tried.
 */
const char *const sandbox_broker_denied[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"bpf", "perf_event_open", "userfaultfd",
	"keyctl", "add_key", "request_key",
	"swapon", "swapoff", "reboot", "acct", "iopl", "ioperm", "vhangup",
	"open_by_handle_at", "name_to_handle_at", "lookup_dcookie", "quotactl",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "syslog",
	"pivot_root", "setns", "uselib", "personality", "fanotify_init",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
	"mount_setattr",
	NULL
};

const struct sandbox_rule sandbox_broker_rules[] = {
	{ 0, 0, "unshare", SANDBOX_ACT_EPERM, 1,
	  { ARG(0, SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER) }, 0,
	  "no user namespaces: they hand an unprivileged process every capability" },
	{ 0, 0, "clone", SANDBOX_ACT_EPERM, 1,
	  { ARG(0, SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER) }, 0,
	  "no user namespaces, by clone either" },
	{ 0, 0, "clone3", SANDBOX_ACT_ENOSYS, 0, { ARG(0, 0, 0, 0) }, 0,
	  "clone3 keeps its flags in memory, out of seccomp's sight; ENOSYS makes "
	  "glibc fall back to clone, whose flags are checked above" },
	{ 0, 0, NULL, 0, 0, { ARG(0, 0, 0, 0) }, 0, NULL }
};

/* sandbox_policy_lookup - the policy of a stage, NULL if there is none. */
const struct sandbox_policy *sandbox_policy_lookup(const char *stage)
{
	size_t i;

	if (stage == NULL)
		return NULL;
	for (i = 0; i < sizeof(sandbox_policies) / sizeof(sandbox_policies[0]); i++)
		if (strcmp(sandbox_policies[i].stage, stage) == 0)
			return &sandbox_policies[i];
	return NULL;
}

/* sandbox_policy_at - the i-th policy, NULL past the end. */
const struct sandbox_policy *sandbox_policy_at(size_t i)
{
	if (i >= sizeof(sandbox_policies) / sizeof(sandbox_policies[0]))
		return NULL;
	return &sandbox_policies[i];
}
