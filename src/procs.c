// SPDX-License-Identifier: GPL-2.0
/*
 * procs.c - what the tool needs from /proc and /sys: process state, comm,
 * parent, kernel-thread flag, pid_max, CPU lists.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fileio.h"
#include "procs.h"

int proc_parse_stat(const char *text, struct proc_stat *st)
{
	const char *open = strchr(text, '('), *close = strrchr(text, ')'), *p;
	unsigned long field;
	size_t n;
	int i;
	char *end;

	memset(st, 0, sizeof(*st));
	if (!open || !close || close < open)
		return -1;
	st->pid = strtol(text, NULL, 10);
	n = close - open - 1;
	if (n >= sizeof(st->comm))
		n = sizeof(st->comm) - 1;
	memcpy(st->comm, open + 1, n);
	p = close + 1;
	while (*p == ' ')
		p++;
	if (!*p)
		return -1;
	st->state = *p++;
	/* Fields after the state: 4 ppid, 5 pgrp, 6 session, 7 tty_nr, 8 tpgid, 9 flags. */
	for (i = 4; i <= 9; i++) {
		errno = 0;
		field = strtoul(p, &end, 10);
		if (end == p || errno)
			return -1;
		p = end;
		if (i == 4)
			st->ppid = field;
		else if (i == 9)
			st->flags = field;
	}
	return 0;
}

int proc_read_stat(pid_t pid, struct proc_stat *st)
{
	char path[64], buf[1024];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	n = fileio_read_small(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	return proc_parse_stat(buf, st) ? -EINVAL : 0;
}

pid_t proc_tgid(pid_t pid)
{
	char path[64], buf[4096], *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	n = fileio_read_small(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	p = strstr(buf, "\nTgid:");
	if (!p)
		return -EINVAL;
	return strtol(p + 6, NULL, 10);
}

long proc_pid_max(void)
{
	char buf[32];
	long v;

	if (fileio_read_small("/proc/sys/kernel/pid_max", buf, sizeof(buf)) <= 0)
		return 4194304;		/* PID_MAX_LIMIT on 64-bit */
	v = strtol(buf, NULL, 10);
	return v > 0 ? v : 4194304;
}

int proc_parse_cpulist(const char *text, bool *set, int n)
{
	const char *p = text;
	int count = 0;

	memset(set, 0, n * sizeof(*set));
	while (*p && *p != '\n') {
		char *end;
		long a, b, i;

		a = strtol(p, &end, 10);
		if (end == p || a < 0)
			return -1;
		b = a;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			if (end == p + 1 || b < a)
				return -1;
			p = end;
		}
		for (i = a; i <= b && i < n; i++) {
			count += !set[i];
			set[i] = true;
		}
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -1;
	}
	return count;
}

int proc_possible_cpus(void)
{
	char buf[256], *p;
	long hi = -1;

	if (fileio_read_small("/sys/devices/system/cpu/possible", buf, sizeof(buf)) <= 0)
		return sysconf(_SC_NPROCESSORS_CONF);
	/* The highest number in the list. */
	for (p = buf; *p; p++) {
		if (isdigit((unsigned char)*p)) {
			long v = strtol(p, &p, 10);

			if (v > hi)
				hi = v;
			p--;
		}
	}
	return hi >= 0 ? hi + 1 : sysconf(_SC_NPROCESSORS_CONF);
}

int proc_online_cpus(bool *set, int n)
{
	char buf[1024];

	if (fileio_read_small("/sys/devices/system/cpu/online", buf, sizeof(buf)) <= 0)
		return -1;
	return proc_parse_cpulist(buf, set, n);
}

/* The numeric entries of a /proc directory, through fn; stops when fn returns non-zero. */
static int each_number(const char *dir, int (*fn)(long n, void *arg), void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return -errno;
	while (!rc && (e = readdir(d)) != NULL) {
		char *end;
		long n = strtol(e->d_name, &end, 10);

		if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && *end == '\0')
			rc = fn(n, arg);
	}
	closedir(d);
	return rc;
}

struct list_build {
	struct proc_entry *v;
	size_t n, cap;
};

static int add_entry(long pid, void *arg)
{
	struct list_build *b = arg;
	struct proc_stat st;

	if (proc_read_stat(pid, &st))
		return 0;	/* gone meanwhile */
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		struct proc_entry *v = realloc(b->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n].pid = pid;
	b->v[b->n].ppid = st.ppid;
	b->v[b->n].kthread = st.flags & PROC_PF_KTHREAD;
	b->n++;
	return 0;
}

ssize_t proc_list(struct proc_entry **out)
{
	struct list_build b = { 0 };
	int rc = each_number("/proc", add_entry, &b);

	if (rc) {
		free(b.v);
		return rc;
	}
	*out = b.v;
	return b.n;
}

int pidset_init(struct pidset *s, long max)
{
	s->max = max;
	s->bits = calloc((max + 7) / 8, 1);
	return s->bits ? 0 : -ENOMEM;
}

void pidset_free(struct pidset *s)
{
	free(s->bits);
	s->bits = NULL;
}

bool pidset_has(const struct pidset *s, pid_t pid)
{
	return pid > 0 && pid < s->max && (s->bits[pid / 8] & (1u << (pid % 8)));
}

void pidset_add(struct pidset *s, pid_t pid)
{
	if (pid > 0 && pid < s->max)
		s->bits[pid / 8] |= 1u << (pid % 8);
}

size_t proc_descendants(const struct proc_entry *list, size_t n, struct pidset *set,
			bool skip_kthreads, struct proc_entry *out, size_t max)
{
	size_t found = 0, i;
	bool more = true;

	/* Each pass adds one more generation; a pass that adds nothing ends it. */
	while (more) {
		more = false;
		for (i = 0; i < n; i++) {
			const struct proc_entry *e = &list[i];

			if (pidset_has(set, e->pid) || !pidset_has(set, e->ppid) ||
			    (skip_kthreads && e->kthread))
				continue;
			pidset_add(set, e->pid);
			if (found < max)
				out[found] = *e;
			found++;
			more = true;
		}
	}
	return found < max ? found : max;
}

/*
 * What readers of an output look for in each process's fds: the identities
 * (st_dev, st_ino) of what the output reaches, and pseudo-terminals by index.
 */
struct ident {
	dev_t dev;		/* 0: ino is a pseudo-terminal index */
	ino_t ino;
};

struct output_scan {
	struct ident *ids;	/* the output, and what its readers write to */
	size_t nids, cap;
	pid_t self;
	pid_t *out;
	size_t n, max;
	bool added;
};

static bool has_ident(const struct output_scan *r, struct ident id)
{
	size_t i;

	for (i = 0; i < r->nids; i++)
		if (r->ids[i].dev == id.dev && r->ids[i].ino == id.ino)
			return true;
	return false;
}

static void add_ident(struct output_scan *r, struct ident id)
{
	if (has_ident(r, id))
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
		return true;	/* cannot tell: count it as a reader */
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

/*
 * What an output reaches, as an identity: a pipe, FIFO or regular file
 * itself; a pseudo-terminal by index (its master side is the reader). Other
 * devices (/dev/null, ...) reach no process; a socket's reader holds its peer,
 * another inode (and processes that share one socket, always read-write, do
 * not read each other's writes): false.
 */
static bool output_ident(const struct stat *st, struct ident *id)
{
	long pty = pts_index(st);

	if (pty >= 0) {
		*id = (struct ident){ 0, pty };
		return true;
	}
	if (!S_ISFIFO(st->st_mode) && !S_ISREG(st->st_mode))
		return false;
	*id = (struct ident){ st->st_dev, st->st_ino };
	return true;
}

/* Does /proc/PID/fd/FD (stat: st) read what the scan looks for? */
static bool fd_is_reader(struct output_scan *r, pid_t pid, const char *fd, const struct stat *st)
{
	char path[320], buf[512], *p;

	if (has_ident(r, (struct ident){ st->st_dev, st->st_ino }))
		return fd_reads(pid, fd);	/* a pipe's write end has its inode too */
	/* /dev/ptmx (5:2): the master side of the pseudo-terminal of its tty-index. */
	if (!S_ISCHR(st->st_mode) || major(st->st_rdev) != 5 || minor(st->st_rdev) != 2)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, fd);
	if (fileio_read_small(path, buf, sizeof(buf)) <= 0 || !(p = strstr(buf, "tty-index:")))
		return false;
	return has_ident(r, (struct ident){ 0, strtol(p + 10, NULL, 10) });
}

/* Follow what a reader writes on (its stdout and stderr): its readers read it too. */
static void follow_outputs(struct output_scan *r, pid_t pid)
{
	static const char *const fds[] = { "1", "2" };
	char path[64];
	struct stat st;
	struct ident id;
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, fds[i]);
		if (stat(path, &st) == 0 && output_ident(&st, &id))
			add_ident(r, id);
	}
}

static int scan_output_holder(long pid, void *arg)
{
	struct output_scan *r = arg;
	char dir[64];
	struct dirent *e;
	bool reads = false;
	size_t i;
	DIR *d;

	if (pid == r->self)
		return 0;
	for (i = 0; i < r->n && i < r->max; i++)
		if (r->out[i] == pid)
			return 0;
	snprintf(dir, sizeof(dir), "/proc/%ld/fd", pid);
	d = opendir(dir);
	if (!d)
		return 0;
	while (!reads && (e = readdir(d)) != NULL) {
		struct stat st;

		if (e->d_name[0] == '.' || fstatat(dirfd(d), e->d_name, &st, 0))
			continue;
		reads = fd_is_reader(r, pid, e->d_name, &st);
	}
	closedir(d);
	if (!reads)
		return 0;
	if (r->n < r->max)
		r->out[r->n++] = pid;
	follow_outputs(r, pid);
	r->added = true;
	return 0;
}

size_t proc_output_readers(int fd, pid_t self, pid_t *out, size_t max)
{
	struct output_scan r = { .self = self, .out = out, .max = max };
	struct ident id;
	struct stat st;
	int round;

	if (fstat(fd, &st) || !output_ident(&st, &id))
		return 0;
	add_ident(&r, id);
	/* Readers found in one round may lead to more: follow until none is new. */
	for (round = 0; round < 8; round++) {
		r.added = false;
		each_number("/proc", scan_output_holder, &r);
		if (!r.added)
			break;
	}
	free(r.ids);
	return r.n;
}
