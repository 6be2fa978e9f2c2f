// SPDX-License-Identifier: GPL-2.0
/*
 * readscan.c - the readers of the tool's output, and the other runs of the
 * tool, found in /proc (see readscan.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fileio.h"
#include "procs.h"
#include "readscan.h"

#define TOOL_EXE	"bpf_write_monitor"

/*
 * What readers of an output look for in each process's fds: the identities
 * (st_dev, st_ino) of what the output reaches (for a Unix socket, its peer),
 * and pseudo-terminals by index.
 */
struct ident {
	dev_t dev;		/* 0: ino is a pseudo-terminal index */
	ino_t ino;
	bool file;		/* a regular file */
};

struct output_scan {
	struct ident *ids;	/* the output, and what its readers write to */
	size_t nids, cap;
	pid_t self;
	enum read_kind as;
	struct reader *out;
	size_t n, max;
	bool added;
};

static const struct ident *find_ident(const struct output_scan *r, dev_t dev, ino_t ino)
{
	size_t i;

	for (i = 0; i < r->nids; i++)
		if (r->ids[i].dev == dev && r->ids[i].ino == ino)
			return &r->ids[i];
	return NULL;
}

static void add_ident(struct output_scan *r, struct ident id)
{
	if (find_ident(r, id.dev, id.ino))
		return;
	if (r->nids == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct ident *p = realloc(r->ids, cap * sizeof(*p));

		if (!p)
			return;
		r->ids = p;
		r->cap = cap;
	}
	r->ids[r->nids++] = id;
}

/* Is /proc/PID/fd/FD open for reading (O_RDONLY or O_RDWR), per its fdinfo? */
static bool fd_reads(pid_t pid, const char *fd)
{
	char path[320], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, fd);
	if (fileio_read_small(path, buf, sizeof(buf)) <= 0 || !(p = strstr(buf, "flags:")))
		return false;	/* gone, or closed meanwhile */
	return (strtoul(p + 6, NULL, 8) & O_ACCMODE) != O_WRONLY;
}

/* The pseudo-terminal index of a /dev/pts/N, or -1. */
static long pts_index(const struct stat *st)
{
	unsigned maj = major(st->st_rdev);

	if (!S_ISCHR(st->st_mode) || maj < 136 || maj > 143)
		return -1;
	return (maj - 136) * 256L + minor(st->st_rdev);
}

/* The inode of the peer of Unix socket ino (sock_diag), or 0: none, not Unix, unknown. */
static ino_t unix_peer(ino_t ino)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} q = {
		.nlh = { .nlmsg_len = sizeof(q), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST },
		.req = { .sdiag_family = AF_UNIX, .udiag_states = ~0u, .udiag_ino = ino,
			 .udiag_show = UDIAG_SHOW_PEER,
			 .udiag_cookie = { ~0u, ~0u } },
	};
	union {
		struct nlmsghdr nlh;
		char buf[1024];
	} a;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	uint32_t peer32 = 0;
	ino_t peer = 0;
	ssize_t len;
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0)
		return 0;
	if (sendto(fd, &q, sizeof(q), 0, (struct sockaddr *)&nl, sizeof(nl)) != sizeof(q) ||
	    (len = recv(fd, a.buf, sizeof(a.buf), 0)) <
	    (ssize_t)NLMSG_LENGTH(sizeof(struct unix_diag_msg))) {
		close(fd);
		return 0;
	}
	close(fd);
	if (NLMSG_OK(&a.nlh, (size_t)len) && a.nlh.nlmsg_type == SOCK_DIAG_BY_FAMILY) {
		struct unix_diag_msg *m = NLMSG_DATA(&a.nlh);
		struct rtattr *at = (struct rtattr *)(m + 1);
		int rest = a.nlh.nlmsg_len - NLMSG_LENGTH(sizeof(*m));

		for (; RTA_OK(at, rest); at = RTA_NEXT(at, rest))
			if (at->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(at) >= sizeof(uint32_t))
				memcpy(&peer32, RTA_DATA(at), sizeof(peer32));
		peer = peer32;
	}
	return peer;
}

/*
 * What an output reaches, as an identity: a pipe, FIFO or regular file
 * itself; a pseudo-terminal by index (its master side is the reader); a
 * Unix socket by its peer (which its reader holds). Other devices
 * (/dev/null, ...) and other sockets reach no process here: false.
 */
static bool output_ident(const struct stat *st, struct ident *id)
{
	long pty = pts_index(st);
	ino_t peer;

	if (pty >= 0) {
		*id = (struct ident){ 0, pty, false };
		return true;
	}
	if (S_ISSOCK(st->st_mode)) {
		peer = unix_peer(st->st_ino);
		*id = (struct ident){ st->st_dev, peer, false };
		return peer != 0;
	}
	if (!S_ISFIFO(st->st_mode) && !S_ISREG(st->st_mode))
		return false;
	*id = (struct ident){ st->st_dev, st->st_ino, S_ISREG(st->st_mode) };
	return true;
}

/*
 * Does /proc/PID/fd/FD (stat: st) read what the scan looks for? 1: it
 * does, 2: through a regular file, 0: no.
 */
static int fd_is_reader(struct output_scan *r, pid_t pid, const char *fd, const struct stat *st)
{
	char path[320], buf[512], *p;
	const struct ident *id = find_ident(r, st->st_dev, st->st_ino);

	if (id)		/* a pipe's write end has its inode too: read ends only */
		return fd_reads(pid, fd) ? 1 + id->file : 0;
	/* /dev/ptmx (5:2): the master side of the pseudo-terminal of its tty-index. */
	if (!S_ISCHR(st->st_mode) || major(st->st_rdev) != 5 || minor(st->st_rdev) != 2)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, fd);
	if (fileio_read_small(path, buf, sizeof(buf)) <= 0 || !(p = strstr(buf, "tty-index:")))
		return 0;
	return find_ident(r, 0, strtol(p + 10, NULL, 10)) ? 1 : 0;
}

/* Follow what a reader writes on (its stdout and stderr): its readers read it too. */
static void follow_outputs(struct output_scan *r, pid_t pid)
{
	char path[64];
	struct stat st;
	struct ident id;
	int fd;

	for (fd = 1; fd <= 2; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
		if (stat(path, &st) == 0 && output_ident(&st, &id))
			add_ident(r, id);
	}
}

const struct reader *readscan_find(const struct reader *v, size_t n, pid_t pid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].pid == pid)
			return &v[i];
	return NULL;
}

static int scan_output_holder(long pid, void *arg)
{
	struct output_scan *r = arg;
	char dir[64];
	struct dirent *e;
	int reads = 0;
	DIR *d;

	if (pid == r->self || readscan_find(r->out, r->n, pid))
		return 0;
	snprintf(dir, sizeof(dir), "/proc/%ld/fd", pid);
	d = opendir(dir);
	if (!d)
		return 0;
	while (reads != 1 && (e = readdir(d)) != NULL) {
		struct stat st;
		int how;

		if (e->d_name[0] == '.' || fstatat(dirfd(d), e->d_name, &st, 0))
			continue;
		how = fd_is_reader(r, pid, e->d_name, &st);
		if (how && (!reads || how < reads))
			reads = how;
	}
	closedir(d);
	if (!reads)
		return 0;
	if (r->n < r->max)
		r->out[r->n++] = (struct reader){ pid, reads == 2 && r->as == READ_PIPE ?
						  READ_FILE : r->as };
	follow_outputs(r, pid);
	r->added = true;
	return 0;
}

/* The readers of what st (an output) reaches; see readscan_fd(). */
static size_t scan_output(const struct stat *st, pid_t self, enum read_kind as,
			  struct reader *out, size_t n, size_t max)
{
	struct output_scan r = { .self = self, .as = as, .out = out, .n = n, .max = max };
	struct ident id;
	int round;

	if (!output_ident(st, &id))
		return n;
	add_ident(&r, id);
	/* Readers found in one round may lead to more: follow until none is new. */
	for (round = 0; round < 8; round++) {
		r.added = false;
		proc_each_number("/proc", scan_output_holder, &r);
		if (!r.added)
			break;
	}
	free(r.ids);
	return r.n;
}

size_t readscan_fd(int fd, pid_t self, enum read_kind as, struct reader *out, size_t n,
		   size_t max)
{
	struct stat st;

	return fstat(fd, &st) ? n : scan_output(&st, self, as, out, n, max);
}

struct runs_scan {
	pid_t self;
	struct reader *out;
	size_t n, max;
};

/* Is pid another run of this tool (its executable's name)? */
static int scan_run(long pid, void *arg)
{
	struct runs_scan *s = arg;
	char path[64], exe[4096];
	struct proc_stat st;
	const char *base;
	ssize_t len;

	if (pid == s->self || s->n >= s->max)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
	len = readlink(path, exe, sizeof(exe) - 1);
	if (len <= 0)
		return 0;	/* a kernel thread, or gone */
	exe[len] = '\0';
	if (len > 10 && !strcmp(exe + len - 10, " (deleted)"))
		exe[len - 10] = '\0';
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	/* Not this run's own children: a command held before its exec is still this tool. */
	if (!strcmp(base, TOOL_EXE) && !readscan_find(s->out, s->n, pid) &&
	    (proc_read_stat(pid, &st) || st.ppid != s->self))
		s->out[s->n++] = (struct reader){ pid, READ_RUN };
	return 0;
}

/* The readers of what another run (pid) writes on its stdout and stderr. */
static size_t run_readers(pid_t pid, pid_t self, struct reader *out, size_t n, size_t max)
{
	char path[64];
	struct stat st;
	int fd;

	for (fd = 1; fd <= 2; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
		if (stat(path, &st) == 0)
			n = scan_output(&st, self, READ_RUN_OUTPUT, out, n, max);
	}
	return n;
}

size_t readscan_all(int out_fd, pid_t self, struct reader *out, size_t max)
{
	struct runs_scan s = { .self = self, .out = out, .max = max };
	size_t n, runs, i;

	n = readscan_fd(out_fd, self, READ_PIPE, out, 0, max);
	n = readscan_fd(STDERR_FILENO, self, READ_PIPE, out, n, max);
	s.n = n;
	proc_each_number("/proc", scan_run, &s);
	runs = s.n;
	n = s.n;
	for (i = 0; i < runs; i++)
		if (out[i].kind == READ_RUN)
			n = run_readers(out[i].pid, self, out, n, max);
	return n;
}
