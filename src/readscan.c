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
	enum read_kind as;	/* its readers read: READ_PIPE (ours) or READ_RUN_OUTPUT */
};

/*
 * One walk of /proc finds them all: the readers of every identity in ids,
 * and (in the first round) the other runs, whose outputs join ids. Readers
 * found in a round may lead to more (what they write to joins ids): the
 * walk is repeated while a round adds an identity (a pager writing to a
 * terminal: the terminal's master side reads it too), else it is one walk.
 */
struct output_scan {
	struct ident *ids;	/* the outputs, and what their readers write to */
	size_t nids, cap;
	pid_t self;
	bool runs;		/* look for other runs of the tool (this round) */
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

/* A new identity to look for: the walk goes round again for its readers. */
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
	r->added = true;
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
 * What an output reaches, as an identity (its readers: as): a pipe, FIFO or
 * regular file itself; a pseudo-terminal by index (its master side is the
 * reader); a Unix socket by its peer (which its reader holds). Other devices
 * (/dev/null, ...) and other sockets reach no process here: false.
 */
static bool output_ident(const struct stat *st, enum read_kind as, struct ident *id)
{
	long pty = pts_index(st);
	ino_t peer;

	if (pty >= 0) {
		*id = (struct ident){ 0, pty, false, as };
		return true;
	}
	if (S_ISSOCK(st->st_mode)) {
		peer = unix_peer(st->st_ino);
		*id = (struct ident){ st->st_dev, peer, false, as };
		return peer != 0;
	}
	if (!S_ISFIFO(st->st_mode) && !S_ISREG(st->st_mode))
		return false;
	*id = (struct ident){ st->st_dev, st->st_ino, S_ISREG(st->st_mode), as };
	return true;
}

/*
 * Does /proc/PID/fd/FD (stat: st) read what the scan looks for? Its
 * identity (NULL: no); *file says through a regular file.
 */
static const struct ident *fd_is_reader(struct output_scan *r, pid_t pid, const char *fd,
					const struct stat *st, bool *file)
{
	char path[320], buf[512], *p;
	const struct ident *id = find_ident(r, st->st_dev, st->st_ino);

	*file = false;
	if (id) {	/* a pipe's write end has its inode too: read ends only */
		*file = id->file;
		return fd_reads(pid, fd) ? id : NULL;
	}
	/* /dev/ptmx (5:2): the master side of the pseudo-terminal of its tty-index. */
	if (!S_ISCHR(st->st_mode) || major(st->st_rdev) != 5 || minor(st->st_rdev) != 2)
		return NULL;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, fd);
	if (fileio_read_small(path, buf, sizeof(buf)) <= 0 || !(p = strstr(buf, "tty-index:")))
		return NULL;
	return find_ident(r, 0, strtol(p + 10, NULL, 10));
}

/* What pid writes on (its stdout and stderr) joins the scan: its readers read as. */
static void add_outputs(struct output_scan *r, pid_t pid, enum read_kind as)
{
	char path[64];
	struct stat st;
	struct ident id;
	int fd;

	for (fd = 1; fd <= 2; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
		if (stat(path, &st) == 0 && output_ident(&st, as, &id))
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

/* Is pid another run of this tool (its executable's name), not one of self's children? */
static bool is_run(pid_t pid, pid_t self)
{
	char path[64], exe[4096];
	struct proc_stat st;
	const char *base;
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	len = readlink(path, exe, sizeof(exe) - 1);
	if (len <= 0)
		return false;	/* a kernel thread, or gone */
	exe[len] = '\0';
	if (len > 10 && !strcmp(exe + len - 10, " (deleted)"))
		exe[len - 10] = '\0';
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	/* Not this run's own children: a command held before its exec is still this tool. */
	return !strcmp(base, TOOL_EXE) && (proc_read_stat(pid, &st) || st.ppid != self);
}

/* One process of the walk: a reader of something in ids, or another run. */
static int scan_process(long pid, void *arg)
{
	struct output_scan *r = arg;
	const struct ident *id = NULL, *fid;
	enum read_kind as;
	char dir[64];
	struct dirent *e;
	bool file, via_file = true;
	DIR *d;

	if (pid == r->self || readscan_find(r->out, r->n, pid) || r->n >= r->max)
		return 0;
	snprintf(dir, sizeof(dir), "/proc/%ld/fd", pid);
	d = opendir(dir);
	if (!d)
		return 0;
	/* Any fd that reads will do; one that reads other than through a file decides. */
	while (via_file && (e = readdir(d)) != NULL) {
		struct stat st;

		if (e->d_name[0] == '.' || fstatat(dirfd(d), e->d_name, &st, 0))
			continue;
		fid = fd_is_reader(r, pid, e->d_name, &st, &file);
		if (fid && (!id || !file)) {
			id = fid;
			via_file = file;
		}
	}
	closedir(d);
	if (id) {
		as = id->as;
		r->out[r->n++] = (struct reader){ pid, via_file && as == READ_PIPE ? READ_FILE : as };
		add_outputs(r, pid, as);
	} else if (r->runs && is_run(pid, r->self)) {
		r->out[r->n++] = (struct reader){ pid, READ_RUN };
		add_outputs(r, pid, READ_RUN_OUTPUT);
	}
	return 0;
}

/* Walk /proc until a round finds nothing new (at most 8 rounds); the new count. */
static size_t scan(struct output_scan *r, bool runs)
{
	int round;

	for (round = 0; round < 8; round++) {
		r->added = false;
		r->runs = runs && round == 0;
		proc_each_number("/proc", scan_process, r);
		if (!r->added)
			break;
	}
	free(r->ids);
	return r->n;
}

/* fd's output joins the scan; false when it reaches no process (/dev/null, ...). */
static bool add_fd(struct output_scan *r, int fd, enum read_kind as)
{
	struct stat st;
	struct ident id;

	if (fstat(fd, &st) || !output_ident(&st, as, &id))
		return false;
	add_ident(r, id);
	return true;
}

size_t readscan_fd(int fd, pid_t self, enum read_kind as, struct reader *out, size_t n,
		   size_t max)
{
	struct output_scan r = { .self = self, .out = out, .n = n, .max = max };

	if (!add_fd(&r, fd, as))
		return n;
	return scan(&r, false);
}

size_t readscan_all(int out_fd, pid_t self, struct reader *out, size_t max)
{
	struct output_scan r = { .self = self, .out = out, .max = max };

	add_fd(&r, out_fd, READ_PIPE);
	add_fd(&r, STDERR_FILENO, READ_PIPE);
	return scan(&r, true);
}
