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
int proc_each_number(const char *dir, int (*fn)(long n, void *arg), void *arg)
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
	int rc = proc_each_number("/proc", add_entry, &b);

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
